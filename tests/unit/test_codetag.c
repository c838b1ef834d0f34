/*
 * test_codetag.c - the sender's "[code:...]" out of a Subject: which tags count, what
 * the Subject keeps (byte for byte), encoded words, unusable codes.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "codetag.h"

static const struct {
	const char *tag, *subject;
	int rc;
	const char *untagged, *code;
} cases[] = {
        {"code", "Jaaropgave [code:4711-x] 2024", 1, "Jaaropgave 2024", "4711-x"},
        {"code", "[code:4711-x] Jaaropgave", 1, "Jaaropgave", "4711-x"},
        {"code", "Jaaropgave  [CODE: 4711-X ]", 1, "Jaaropgave", "4711-x"},
        {"code", "[code:4711-x]", 1, "", "4711-x"},
        /* the rest byte for byte: double spaces, tabs and folding elsewhere stay */
        {"code", "Re:  a\tb [code:x1]\n\tc  d", 1, "Re:  a\tb c  d", "x1"},
        /* every tag goes, the first code counts */
        {"code", "a [code:one] b [Code:two] c", 1, "a b c", "one"},
        /* an empty code is no tag; the next one is */
        {"code", "a [code:] b [code:  ] c", 0, NULL, NULL},
        {"code", "a [code:] b [code:z9] c", 1, "a [code:] b c", "z9"},
        /* no closing bracket, another tag, the tag without colon: nothing */
        {"code", "a [code:4711 b", 0, NULL, NULL},
        {"code", "a [pin:4711] b", 0, NULL, NULL},
        {"code", "a [code] b", 0, NULL, NULL},
        {"code", "a [codex:1] b", 0, NULL, NULL},
        /* a configured tag */
        {"pin", "a [PIN:12 34] b", 1, "a b", "12 34"},
        {"", "a [code:1] b", 0, NULL, NULL},
        /* unusable: too long */
        {"code", "[code:0123456789012345678901234567890123456789012345678901234567890123456789]",
         -1, NULL, NULL},
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char code[BD_ACCESS_CODE_MAX + 1], *out = NULL;
		struct bd_error err = {0};
		int rc = bd_codetag_take(cases[i].tag, cases[i].subject, &out, code, &err);

		if (rc != cases[i].rc)
			fail_msg("%s: %d, expected %d", cases[i].subject, rc, cases[i].rc);
		if (rc == 1) {
			assert_string_equal(out, cases[i].untagged);
			assert_string_equal(code, cases[i].code);
		} else {
			assert_null(out);
			assert_int_equal(code[0], '\0');
		}
		if (rc < 0)
			assert_null(strstr(err.msg, "0123456789"));
		free(out);
	}
	{
		char code[BD_ACCESS_CODE_MAX + 1], *out = NULL;

		assert_int_equal(bd_codetag_take("code", NULL, &out, code, NULL), 0);
	}
}

/* A tag inside encoded words is found in the decoded text; the new Subject is encoded anew. */
static void test_encoded_words(void **state)
{
	char code[BD_ACCESS_CODE_MAX + 1], *out = NULL, *decoded;

	assert_int_equal(bd_codetag_take("code",
	                                 "=?utf-8?q?Jaaropgave_=C3=A9=C3=A9n_=5Bcode=3A4711-x=5D?=",
	                                 &out, code, NULL),
	                 1);
	assert_string_equal(code, "4711-x");
	assert_null(strchr(out, '\n'));
	decoded = g_mime_utils_header_decode_text(NULL, out);
	assert_string_equal(decoded, "Jaaropgave \xc3\xa9\xc3\xa9n");
	g_free(decoded);
	free(out);
	/* the tag in plain text beside an encoded word: the encoded word stays as it was */
	assert_int_equal(bd_codetag_take("code", "=?utf-8?q?caf=C3=A9?= [code:77]", &out, code, NULL),
	                 1);
	assert_string_equal(out, "=?utf-8?q?caf=C3=A9?=");
	assert_string_equal(code, "77");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_encoded_words),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
