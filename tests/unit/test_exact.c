/*
 * test_exact.c - an attached message's bytes found in the spool (exact.h), and read as
 * the .eml file a recipient downloads (attachment.h: transfer encoding undone, CRLF).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "attachment.h"
#include "exact.h"
#include "io.h"
#include "mimestream.h"

struct located {
	GMimeStream *spool;
	GMimeMessage *msg;
	GMimeObject *part;
	const char *bounds[8];
};

/* Parse TEXT from a spool file and find the part at PATH (indices, -1 ends). */
static void locate(struct located *l, const char *text, const int *path)
{
	FILE *f = tmpfile();
	GMimeParser *parser;
	size_t n = 0;

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fflush(f);
	l->spool = bd_mimestream_pread_new(dup(fileno(f)));
	fclose(f);
	assert_non_null(l->spool);
	parser = g_mime_parser_new_with_stream(l->spool);
	g_mime_parser_set_persist_stream(parser, TRUE);
	l->msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	assert_non_null(l->msg);
	l->part = g_mime_message_get_mime_part(l->msg);
	memset(l->bounds, 0, sizeof(l->bounds));
	for (; *path >= 0; path++) {
		GMimeMultipart *mp = GMIME_MULTIPART(l->part);

		memmove(l->bounds + 1, l->bounds, (n++) * sizeof(l->bounds[0]));
		l->bounds[0] = g_mime_object_get_content_type_parameter(l->part, "boundary");
		l->part = g_mime_multipart_get_part(mp, *path);
	}
}

static void unlocate(struct located *l)
{
	g_object_unref(l->msg);
	g_object_unref(l->spool);
}

static char *read_all(GMimeStream *s)
{
	GString *out = g_string_new(NULL);
	char buf[256];
	ssize_t n;

	while ((n = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	return g_string_free(out, FALSE);
}

static const char fwd_head[] = "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                               "--b1 \r\nContent-Type: text/plain\r\n\r\nHallo\r\n"
                               "--b1\t\r\nContent-Type: message/rfc822\r\n\r\n";
static const char inner[] = "From: c@example.org\r\nContent-Type: multipart/mixed; "
                            "boundary=\"in\"\r\n\r\n--in  \r\nContent-Type: text/plain\r\n\r\n"
                            "tekst  \r\n--in-- \r\n";

/* Each message: fwd_head, the inner message if INNER, then TAIL. */
static const struct {
	const char *name;
	bool inner;
	const char *tail;
	const char *want;
} cases[] = {
        {"white space after boundaries stays", true, "\r\n--b1--  \r\n", inner},
        {"no closing boundary: to the end", true, "", inner},
        {"nothing before the boundary: empty", false, "--b1--\r\n", ""},
        {"a line break before the boundary is the boundary's", true, "\r\n\r\n--b1--\r\n",
         "From: c@example.org\r\nContent-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in  "
         "\r\nContent-Type: text/plain\r\n\r\ntekst  \r\n--in-- \r\n\r\n"},
};

/* The message part at PATH of TEXT is found, and is WANT. */
static void expect_bytes(const char *name, const char *text, const int *path, const char *want)
{
	struct located l;
	GMimeStream *bytes;
	char *got;

	locate(&l, text, path);
	assert_true(GMIME_IS_MESSAGE_PART(l.part));
	bytes = bd_exact_message_bytes(l.spool, l.part, l.bounds);
	if (bytes == NULL)
		fail_msg("%s: not found", name);
	got = read_all(bytes);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got [%s]", name, got);
	g_free(got);
	g_object_unref(bytes);
	unlocate(&l);
}

static void test_ranges(void **state)
{
	static const int path[] = {1, -1};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text =
		        g_strconcat(fwd_head, cases[i].inner ? inner : "", cases[i].tail, NULL);

		expect_bytes(cases[i].name, text, path, cases[i].want);
		g_free(text);
	}
}

/* A digest's part without headers: the content starts after the empty line. */
static void test_digest_without_headers(void **state)
{
	static const char text[] =
	        "Content-Type: multipart/digest; boundary=\"d\"\r\n\r\n--d\r\n\r\n"
	        "From: a@example.org\r\nSubject: een\r\n\r\nEen.  \r\n\r\n--d \r\n\r\n"
	        "From: b@example.org\r\n\r\nTwee.\r\n--d--\r\n";
	static const int first[] = {0, -1}, second[] = {1, -1};

	expect_bytes("first", text, first, "From: a@example.org\r\nSubject: een\r\n\r\nEen.  \r\n");
	expect_bytes("second", text, second, "From: b@example.org\r\n\r\nTwee.");
}

/* A line that is a boundary of a multipart further out ends the message too. */
static void test_outer_boundary_ends_it(void **state)
{
	static const char text[] =
	        "Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n--out\r\n"
	        "Content-Type: multipart/mixed; boundary=\"mid\"\r\n\r\n--mid\r\n"
	        "Content-Type: message/rfc822\r\n\r\nFrom: a@example.org\r\n\r\nbody\r\n"
	        "--out--\r\n";
	static const int path[] = {0, 0, -1};

	expect_bytes("outer", text, path, "From: a@example.org\r\n\r\nbody");
}

/* The file: LF-only bytes get their CRs, nothing else changes. */
static void test_file_is_crlf(void **state)
{
	static const char text[] =
	        "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
	        "Content-Type: message/rfc822\n\nFrom: a@example.org\n\nregel  \nnog\r\n--b--\n";
	static const int path[] = {0, -1};
	struct located l;
	struct bd_buf_sink sink;
	struct bd_attachment_content c;

	locate(&l, text, path);
	c = (struct bd_attachment_content){
	        .obj = l.part, .bytes = bd_exact_message_bytes(l.spool, l.part, l.bounds)};
	assert_non_null(c.bytes);
	bd_buf_sink_init(&sink);
	assert_int_equal(bd_attachment_copy(&c, &sink.sink, NULL), 0);
	assert_int_equal(sink.len, strlen("From: a@example.org\r\n\r\nregel  \r\nnog"));
	assert_memory_equal(sink.data, "From: a@example.org\r\n\r\nregel  \r\nnog", sink.len);
	free(sink.data);
	g_object_unref(c.bytes);
	unlocate(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ranges),
	        cmocka_unit_test(test_digest_without_headers),
	        cmocka_unit_test(test_outer_boundary_ends_it),
	        cmocka_unit_test(test_file_is_crlf),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
