/*
 * test_tnef.c - the files inside a winmail.dat (lib/mail/tnef.c).
 *
 * The TNEF comes from tests/data/tnef/make_tnef.py, which writes the format
 * from its specification and the files it put in: a good one gives them back
 * byte for byte with their names and types; damaged, truncated or foreign
 * bytes, and anything over a cap, give a status and no files. What libytnef
 * prints about damage must not reach our standard output.
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
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "filename.h"
#include "tnef.h"

struct sample {
	char *dir;
	uint8_t *tnef;
	size_t len;
	char **lines; /* expected.tsv: index, name, type */
};

static struct sample S;

/* Run the generator into a fresh directory; abort the test on failure. */
static char *tnef_sample_dir(void)
{
	const char *src = getenv("BD_SOURCE_DIR");
	char *dir = g_dir_make_tmp("bd-tnef-XXXXXX", NULL);
	char *script =
	        g_build_filename(src ? src : ".", "tests", "data", "tnef", "make_tnef.py", NULL);
	char *argv[] = {"python3", script, dir, NULL};
	gint status = -1;

	assert_non_null(dir);
	assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
	                         &status, NULL));
	assert_int_equal(status, 0);
	g_free(script);
	return dir;
}

static int setup(void **state)
{
	char *path, *tsv;
	gsize len;

	S.dir = tnef_sample_dir();
	path = g_build_filename(S.dir, "winmail.dat", NULL);
	assert_true(g_file_get_contents(path, (gchar **)&S.tnef, &len, NULL));
	S.len = len;
	g_free(path);
	path = g_build_filename(S.dir, "expected.tsv", NULL);
	assert_true(g_file_get_contents(path, &tsv, NULL, NULL));
	g_strchomp(tsv);
	S.lines = g_strsplit(tsv, "\n", -1);
	g_free(tsv);
	g_free(path);
	return 0;
}

static int teardown(void **state)
{
	char *argv[] = {"rm", "-rf", S.dir, NULL};

	g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	g_free(S.dir);
	g_free(S.tnef);
	g_strfreev(S.lines);
	return 0;
}

static void test_is_tnef(void **state)
{
	assert_true(bd_tnef_is_tnef("application/ms-tnef", NULL));
	assert_true(bd_tnef_is_tnef("Application/VND.MS-TNEF", "x.bin"));
	assert_true(bd_tnef_is_tnef("application/octet-stream", "WINMAIL.DAT"));
	assert_false(bd_tnef_is_tnef("application/octet-stream", "winmail.dat.exe"));
	assert_false(bd_tnef_is_tnef(NULL, NULL));
	/* inner files without a type get one from their extension */
	assert_string_equal(bd_filename_content_type("Offerte.PDF"), "application/pdf");
	assert_string_equal(bd_filename_content_type("a.txt"), "text/plain");
	assert_string_equal(bd_filename_content_type(".pdf"), "application/octet-stream");
	assert_string_equal(bd_filename_content_type("noext"), "application/octet-stream");
}

static void test_good(void **state)
{
	struct bd_tnef *t = NULL;

	assert_int_equal(bd_tnef_extract(S.tnef, S.len, NULL, &t), BD_TNEF_OK);
	assert_non_null(t);
	assert_int_equal(t->n, g_strv_length(S.lines));
	for (size_t i = 0; i < t->n; i++) {
		char **col = g_strsplit(S.lines[i], "\t", 3);
		char *path = g_build_filename(S.dir, "files", col[0], NULL);
		char *want;
		gsize wantlen;

		assert_true(g_file_get_contents(path, &want, &wantlen, NULL));
		assert_string_equal(t->files[i].name, col[1]);
		assert_string_equal(t->files[i].content_type, col[2]);
		assert_int_equal(t->files[i].size, wantlen);
		assert_memory_equal(t->files[i].data, want, wantlen);
		g_free(want);
		g_free(path);
		g_strfreev(col);
	}
	bd_tnef_free(&t);
	assert_null(t);
}

static enum bd_tnef_status extract_copy(const uint8_t *data, size_t len,
                                        const struct bd_tnef_limits *lim)
{
	struct bd_tnef *t = NULL;
	enum bd_tnef_status s = bd_tnef_extract(data, len, lim, &t);

	if (s != BD_TNEF_OK)
		assert_null(t);
	bd_tnef_free(&t);
	return s;
}

static void test_corrupt(void **state)
{
	uint8_t *bad = g_memdup2(S.tnef, S.len);
	static const uint8_t only_header[] = {0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00};
	/* an attachment title of 4000 bytes: libytnef refuses it and says so on stdout */
	GByteArray *long_title = g_byte_array_new();
	uint8_t head[9] = {2, 0x10, 0x80, 0x01, 0x00, 0xa0, 0x0f, 0x00, 0x00};
	uint8_t zero2[2] = {0, 0};
	static const uint8_t rend[] = {2, 0x02, 0x90, 0x06, 0x00, 14,   0, 0, 0,
	                               1, 0,    0xff, 0xff, 0xff, 0xff, 0, 0, 0,
	                               0, 0,    0,    0,    0,    0xfe, 1};
	char *out_path = g_build_filename(S.dir, "stdout", NULL);
	int saved = dup(STDOUT_FILENO);
	FILE *capture;
	gchar *printed = NULL;
	gsize printed_len = 0;

	/* a byte of the first file's data changed: its checksum no longer holds */
	bad[S.len / 2] ^= 0x55;
	assert_int_equal(extract_copy(bad, S.len, NULL), BD_TNEF_DAMAGED);
	/* cut off in the middle of an attribute */
	assert_int_equal(extract_copy(S.tnef, S.len / 2, NULL), BD_TNEF_DAMAGED);
	/* not TNEF at all */
	assert_int_equal(extract_copy((const uint8_t *)"%PDF-1.4 nothing", 16, NULL),
	                 BD_TNEF_NOT_TNEF);
	assert_int_equal(extract_copy(S.tnef, 3, NULL), BD_TNEF_NOT_TNEF);
	/* TNEF without a file */
	assert_int_equal(extract_copy(only_header, sizeof(only_header), NULL), BD_TNEF_EMPTY);

	g_byte_array_append(long_title, only_header, sizeof(only_header));
	g_byte_array_append(long_title, rend, sizeof(rend));
	g_byte_array_append(long_title, head, sizeof(head));
	for (int i = 0; i < 4000; i++)
		g_byte_array_append(long_title, (const uint8_t *)"a", 1);
	zero2[0] = (uint8_t)((4000 * 'a') & 0xff);
	zero2[1] = (uint8_t)(((4000 * 'a') >> 8) & 0xff);
	g_byte_array_append(long_title, zero2, 2);
	fflush(stdout);
	capture = fopen(out_path, "w");
	assert_non_null(capture);
	dup2(fileno(capture), STDOUT_FILENO);
	assert_int_equal(extract_copy(long_title->data, long_title->len, NULL), BD_TNEF_DAMAGED);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	fclose(capture);
	assert_true(g_file_get_contents(out_path, &printed, &printed_len, NULL));
	assert_int_equal(printed_len, 0);
	g_free(printed);
	g_free(out_path);
	g_byte_array_unref(long_title);
	g_free(bad);
}

static void test_caps(void **state)
{
	struct bd_tnef_limits lim = bd_tnef_default_limits;
	size_t files = g_strv_length(S.lines);

	lim.max_files = files - 1;
	assert_int_equal(extract_copy(S.tnef, S.len, &lim), BD_TNEF_TOO_MANY);
	lim.max_files = files;
	assert_int_equal(extract_copy(S.tnef, S.len, &lim), BD_TNEF_OK);
	lim.max_bytes = S.len - 1;
	assert_int_equal(extract_copy(S.tnef, S.len, &lim), BD_TNEF_TOO_LARGE);
	/* the input fits, the files inside do not (a budget already partly spent) */
	lim.max_bytes = S.len;
	assert_int_equal(extract_copy(S.tnef, S.len, &lim), BD_TNEF_OK);
	assert_string_not_equal(bd_tnef_status_text(BD_TNEF_TOO_MANY),
	                        bd_tnef_status_text(BD_TNEF_TOO_LARGE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_is_tnef),
	        cmocka_unit_test(test_good),
	        cmocka_unit_test(test_corrupt),
	        cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
