/*
 * test_filename.c - sanitised attachment names (table of hostile and
 * ordinary names), generated names for nameless parts, and de-duplication.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "filename.h"

struct sanitise_case {
	const char *raw, *want; /* want NULL: nothing usable */
};

static void check_sanitised(const struct sanitise_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = bd_filename_sanitise(cases[i].raw);

		if (g_strcmp0(got, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got ? got : "(null)",
			         cases[i].want ? cases[i].want : "(null)");
		free(got);
	}
}

static void test_sanitise(void **state)
{
	static const struct sanitise_case cases[] = {
	        {"rapport.pdf", "rapport.pdf"},
	        {"Jaarverslag 2026.pdf", "Jaarverslag 2026.pdf"},
	        {"../../etc/passwd", "passwd"},
	        {"/absolute/path/file.txt", "file.txt"},
	        {"C:\\Users\\anna\\Documents\\rapport.pdf", "rapport.pdf"},
	        {"dir/", "dir"},
	        {"invoice\xe2\x80\xae"
	         "fdp.exe",
	         "invoicefdp.exe"}, /* U+202E RIGHT-TO-LEFT OVERRIDE */
	        {"a\xe2\x80\x8b"
	         "b.txt",
	         "ab.txt"}, /* U+200B ZERO WIDTH SPACE */
	        {"\xe2\x81\xa6"
	         "x"
	         "\xe2\x81\xa9"
	         ".doc",
	         "x.doc"}, /* U+2066 .. U+2069 isolates */
	        {"tab\there.txt", "tab here.txt"},
	        {"line\r\nbreak.txt", "line break.txt"},
	        {"bell\x07.txt", "bell_.txt"},
	        {"del\x7f.txt", "del_.txt"},
	        {"c1\xc2\x85.txt", "c1_.txt"}, /* U+0085 NEXT LINE is a C1 control */
	        {"what?.txt", "what_.txt"},
	        {"a<b>c:d\"e|f*g.txt", "a_b_c_d_e_f_g.txt"},
	        {"bad\xff\xfe utf8.txt", "bad__ utf8.txt"},
	        {"\xc3\xa9t\xc3\xa9.txt", "\xc3\xa9t\xc3\xa9.txt"},
	        {"e\xcc\x81t\xc3\xa9.txt", "\xc3\xa9t\xc3\xa9.txt"}, /* NFD becomes NFC */
	        {"\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82.pdf",
	         "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82.pdf"}, /* Cyrillic stays */
	        {"...hidden", "hidden"},
	        {".htaccess", "htaccess"},
	        {"trailing. . .", "trailing"},
	        {"  spaced   out  .txt", "spaced out .txt"},
	        {"CON", "_CON"},
	        {"con.txt", "_con.txt"},
	        {"LPT1.doc", "_LPT1.doc"},
	        {"COM10.doc", "COM10.doc"},
	        {"console.txt", "console.txt"},
	        {"", NULL},
	        {"..", NULL},
	        {"/", NULL},
	        {"\xe2\x80\xae", NULL},
	        {"   ", NULL},
	};

	check_sanitised(cases, sizeof(cases) / sizeof(cases[0]));
	assert_null(bd_filename_sanitise(NULL));
}

/* Invisible, filler and blank code points: format characters and marks that
 * show nothing go, every kind of blank becomes one ASCII space. */
static void test_invisible(void **state)
{
	static const struct sanitise_case cases[] = {
	        {"in\u00advoice.pdf", "invoice.pdf"},       /* soft hyphen (Cf) */
	        {"a\u034fb.pdf", "ab.pdf"},                 /* combining grapheme joiner */
	        {"a\u180bb\u180dc.pdf", "abc.pdf"},         /* Mongolian variation selectors */
	        {"a\ufe00b\ufe0fc.pdf", "abc.pdf"},         /* variation selectors */
	        {"a\U000E0001b\U000E0041c.pdf", "abc.pdf"}, /* language tag, tag 'A' */
	        {"a\U000E0000b\U000E007Fc.pdf", "abc.pdf"}, /* tag range ends */
	        {"a\u2060b\ufeffc\u200dd.pdf", "abcd.pdf"}, /* word joiner, BOM, ZWJ */
	        {"a\u061cb.pdf", "ab.pdf"},                 /* Arabic letter mark */
	        {"a\u3164b.pdf", "a b.pdf"},                /* Hangul filler */
	        {"a\u115f\u1160b.pdf", "a b.pdf"},          /* Hangul choseong/jungseong fillers */
	        {"a\uffa0b.pdf", "a b.pdf"},                /* halfwidth Hangul filler */
	        {"a\u2800b.pdf", "a b.pdf"},                /* braille blank */
	        {"a\u2000b\u200ac.pdf", "a b c.pdf"},       /* en quad, hair space */
	        {"a\u202f\u205f\u1680\u3000\u00a0b.pdf", "a b.pdf"}, /* runs of Zs: one space */
	        {"a \u2003 \u2800 b.pdf", "a b.pdf"},                /* mixed blanks: one space */
	        {"\u3164\u2800report.pdf\u2800\u3164", "report.pdf"},
	        {"report\u2800.pdf", "report .pdf"},
	        {"\u2800\u3164\u00ad", NULL},
	        {"\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d", NULL},
	};

	check_sanitised(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Blanks that push the real extension out of sight must not survive. */
static void test_hidden_extension(void **state)
{
	static const char *const blanks[] = {"\u2800", "\u3164", "\u2003", "\u00a0", "\uffa0"};

	for (size_t b = 0; b < sizeof(blanks) / sizeof(blanks[0]); b++) {
		GString *raw = g_string_new("invoice.pdf");
		char *got;

		for (int i = 0; i < 55; i++)
			g_string_append(raw, blanks[b]);
		g_string_append(raw, ".exe");
		got = bd_filename_sanitise(raw->str);
		if (g_strcmp0(got, "invoice.pdf .exe") != 0)
			fail_msg("blank %zu: got '%s'", b, got ? got : "(null)");
		free(got);
		g_string_free(raw, TRUE);
	}
}

static void test_length(void **state)
{
	GString *raw = g_string_new(NULL);
	char *got;

	for (int i = 0; i < 300; i++)
		g_string_append(raw, "\xc3\xa9"); /* 2-byte characters: a cut must not split one */
	g_string_append(raw, ".pdf");
	got = bd_filename_sanitise(raw->str);
	assert_non_null(got);
	assert_true(strlen(got) <= BD_FILENAME_MAX);
	assert_true(g_str_has_suffix(got, ".pdf"));
	assert_true(g_utf8_validate(got, -1, NULL));
	free(got);

	g_string_assign(raw, "");
	for (int i = 0; i < 400; i++)
		g_string_append_c(raw, 'x');
	g_string_append(raw, ".extension-that-is-far-too-long-to-keep");
	got = bd_filename_sanitise(raw->str);
	assert_int_equal(strlen(got), BD_FILENAME_MAX);
	free(got);
	g_string_free(raw, TRUE);
}

static void test_generate(void **state)
{
	static const struct {
		const char *lang, *type, *want;
		unsigned n;
	} cases[] = {
	        {"nl", "application/pdf", "bijlage-1.pdf", 1},
	        {"en", "application/pdf", "attachment-1.pdf", 1},
	        {"nl", "image/PNG", "bijlage-2.png", 2},
	        {"nl", "message/rfc822", "bijlage-3.eml", 3},
	        {"nl", "application/x-unknown", "bijlage-4.bin", 4},
	        {"nl", "text/x-ruby", "bijlage-5.txt", 5},
	        {"en", NULL, "attachment-6.bin", 6},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = bd_filename_generate(cases[i].lang, cases[i].n, cases[i].type);

		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_unique(void **state)
{
	char *taken[] = {"report.pdf", "Report (2).pdf", NULL, "noext"};
	char *got;

	got = bd_filename_unique("other.pdf", taken, 4);
	assert_string_equal(got, "other.pdf");
	free(got);
	got = bd_filename_unique("REPORT.PDF", taken, 4);
	assert_string_equal(got, "REPORT (3).PDF");
	free(got);
	got = bd_filename_unique("noext", taken, 4);
	assert_string_equal(got, "noext (2)");
	free(got);
}

/* Collisions are decided under Unicode case folding, on the names as written. */
static void test_unique_unicode(void **state)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
	        {"\u00e4.pdf", "\u00e4 (2).pdf"}, /* taken as Ä.pdf */
	        {"\u00c4.PDF", "\u00c4 (2).PDF"},
	        {"a\u0308.pdf", "a\u0308 (2).pdf"}, /* the same name in NFD */
	        {"STRASSE.txt", "STRASSE (2).txt"}, /* taken as straße.txt */
	        {"\u03a3\u039f\u03a6\u0399\u0391.doc", "\u03a3\u039f\u03a6\u0399\u0391 (2).doc"},
	        {"\u00f6.pdf", "\u00f6.pdf"},
	        {"stra\u00dfe.pdf", "stra\u00dfe.pdf"},
	};
	char *taken[] = {"\u00c4.pdf", "stra\u00dfe.txt", "\u03c3\u03bf\u03c6\u03b9\u03b1.doc"};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = bd_filename_unique(cases[i].name, taken, 3);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got, cases[i].want);
		free(got);
	}
}

/* A generated name stays within BD_FILENAME_MAX and keeps its extension. */
static void test_unique_length(void **state)
{
	GString *raw = g_string_new(NULL);
	char *name, *taken[1], *got;

	for (int i = 0; i < 300; i++)
		g_string_append(raw, "\u00e9");
	g_string_append(raw, ".pdf");
	name = bd_filename_sanitise(raw->str);
	taken[0] = name;
	got = bd_filename_unique(name, taken, 1);
	assert_true(strlen(got) <= BD_FILENAME_MAX);
	assert_true(g_str_has_suffix(got, " (2).pdf"));
	assert_true(g_utf8_validate(got, -1, NULL));
	assert_true(strcmp(got, name) != 0);
	free(got);
	free(name);
	g_string_free(raw, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sanitise),         cmocka_unit_test(test_invisible),
	        cmocka_unit_test(test_hidden_extension), cmocka_unit_test(test_length),
	        cmocka_unit_test(test_generate),         cmocka_unit_test(test_unique),
	        cmocka_unit_test(test_unique_unicode),   cmocka_unit_test(test_unique_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
