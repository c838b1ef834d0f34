/*
 * test_base64.c - bd_base64_decode_step against gmime's decoder: table cases
 * (padding, junk, quartets split between pieces), then the raw content of
 * every leaf part of every message of ../shared/corpus, decoded whole and in
 * pieces of many sizes, and every base64 part through both filters and through
 * the attachment reader in reads of many sizes. The same bytes must come out
 * every time.
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
#include <fcntl.h>
#include <unistd.h>
#include <gmime/gmime.h>

#include "attachment.h"
#include "base64.h"
#include "mimestream.h"
#include "rewrite_check.h"

/* Decode IN in pieces of STEP bytes (0: whole) with both decoders; compare. The
 * count without decoding (bd_base64_decoded_count), in the same pieces, must be
 * gmime's number of bytes too. */
static int same_in_pieces(const uint8_t *in, size_t len, size_t step)
{
	size_t cap = BD_BASE64_DECODED_MAX(len) + 8;
	uint8_t *a = malloc(cap), *b = malloc(cap);
	struct bd_base64_state st = {0, 0}, cst = {0, 0};
	uint64_t nc = 0;
	int gstate = 0;
	guint32 gsave = 0;
	size_t na = 0, nb = 0;
	int same;

	if (step == 0)
		step = len ? len : 1;
	for (size_t off = 0; off < len || off == 0; off += step) {
		size_t n = len - off < step ? len - off : step;

		na += bd_base64_decode_step(in + off, n, a + na, &st);
		nc += bd_base64_decoded_count(in + off, n, &cst);
		nb += g_mime_encoding_base64_decode_step(in + off, n, b + nb, &gstate, &gsave);
		if (len == 0)
			break;
	}
	same = na == nb && memcmp(a, b, na) == 0 && nc == nb;
	if (!same)
		fprintf(stderr,
		        "differs: %zu input bytes in pieces of %zu: %zu (counted %llu) vs gmime "
		        "%zu "
		        "bytes\n",
		        len, step, na, (unsigned long long)nc, nb);
	free(a);
	free(b);
	return same;
}

static const size_t steps[] = {0, 1, 2, 3, 4, 5, 7, 76, 77, 78, 4096, 4097, 65536};

static void assert_same(const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		assert_true(same_in_pieces(in, len, steps[i]));
}

static void test_cases(void **state)
{
	static const char *cases[] = {
	        "",
	        "QQ==",
	        "QUI=",
	        "QUJD",
	        "QUJDRA==",
	        "QUJD\r\nRA==\r\n",
	        "Q\r\nU\r\nJ\r\nD",
	        "QUJDRA=",
	        "QUJDRA",
	        "QUJDR",
	        "====",
	        "=",
	        "QQ==QUJD",
	        "QUJDRA==\r\n\r\n--boundary\r\n",
	        "!!QU*JD#R A==",
	        "aGVsbG8gd29ybGQ=\naGVsbG8=\n",
	        "/+/+/+/+\t+/+/",
	        "\xff\xfe\x80QUJD\x00RA==",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_same((const uint8_t *)cases[i], strlen(cases[i]));
}

/* Random bytes encoded by gmime with its line breaks, and random junk. */
/* Every byte value at every place of a run of digits long enough for the sixteen-byte step:
 * only the 64 digits may be taken as digits, whatever nibbles a byte shares with them. */
static void test_every_byte(void **state)
{
	static const char digits[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t in[48];

	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		for (size_t at = 0; at < 16; at++) {
			for (size_t i = 0; i < sizeof(in); i++)
				in[i] = (uint8_t)digits[(i * 7 + c) % 64];
			in[at] = (uint8_t)c;
			assert_true(same_in_pieces(in, sizeof(in), 0));
			in[16 + at] = (uint8_t)c; /* the second block, after a whole first one */
			assert_true(same_in_pieces(in, sizeof(in), 0));
		}
	}
}

static void test_random(void **state)
{
	GRand *r = g_rand_new_with_seed(13);

	(void)state;
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)g_rand_int_range(r, 0, 5000);
		guchar *raw = g_malloc(len + 1);
		gchar *enc;

		for (size_t i = 0; i < len; i++)
			raw[i] = (guchar)g_rand_int_range(r, 0, 256);
		enc = g_base64_encode(raw, len);
		assert_same((const uint8_t *)enc, strlen(enc));
		assert_same(raw, len); /* junk: whatever gmime makes of it, so must we */
		g_free(enc);
		g_free(raw);
	}
	g_rand_free(r);
}

/* The content of STREAM through FILTER (consumed). */
static GByteArray *filtered(GMimeStream *stream, GMimeFilter *filter)
{
	GMimeStream *sub = g_mime_stream_substream(stream, stream->bound_start, stream->bound_end);
	GMimeStream *f = g_mime_stream_filter_new(sub);
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *out = g_byte_array_new();

	g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), filter);
	g_object_unref(filter);
	g_mime_stream_write_to_stream(f, mem);
	g_byte_array_append(out, g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem))->data,
	                    g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem))->len);
	g_object_unref(mem);
	g_object_unref(f);
	g_object_unref(sub);
	return out;
}

struct counts {
	unsigned parts, base64;
};

/* read sizes for the attachment reader: below, at and above a quartet's output and its
 * small-read threshold, odd sizes, and more than it reads from the spool at once */
static const size_t pieces[] = {1, 2, 3, 4, 5, 47, 63, 64, 65, 81, 1000, 4096, 65536, 200000};

static void check_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct counts *c = data;
	GMimeDataWrapper *w;
	GMimeStream *s;
	GByteArray *raw, *ours, *theirs;

	(void)parent;
	if (!GMIME_IS_PART(part) || (w = g_mime_part_get_content(GMIME_PART(part))) == NULL ||
	    (s = g_mime_data_wrapper_get_stream(w)) == NULL)
		return;
	c->parts++;
	/* every part's raw bytes, whatever its encoding: the decoders must agree on all input */
	raw = filtered(s, g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_BINARY, FALSE));
	assert_same(raw->data, raw->len);
	g_byte_array_free(raw, TRUE);
	if (g_mime_data_wrapper_get_encoding(w) != GMIME_CONTENT_ENCODING_BASE64)
		return;
	c->base64++;
	ours = filtered(s, bd_mimestream_base64_decoder_new());
	theirs = filtered(s, g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_BASE64, FALSE));
	assert_int_equal(ours->len, theirs->len);
	assert_memory_equal(ours->data, theirs->data, ours->len);
	/* the attachment reader decodes base64 parts itself, into reads of any size */
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct bd_attachment_content ac = {.obj = part};
		struct bd_buf_sink sink;

		bd_buf_sink_init(&sink);
		assert_int_equal(bd_attachment_copy_pieces(&ac, pieces[i], &sink.sink, NULL), 0);
		if (sink.len != theirs->len || memcmp(sink.data, theirs->data, sink.len) != 0)
			fail_msg("attachment reader, reads of %zu bytes: %zu bytes, gmime %u",
			         pieces[i], sink.len, theirs->len);
		free(sink.data);
	}
	g_byte_array_free(ours, TRUE);
	g_byte_array_free(theirs, TRUE);
}

static void test_corpus(void **state)
{
	const char *shared = getenv("BD_SHARED_DIR");
	char *dir = g_build_filename(shared ? shared : "../shared", "corpus", NULL);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	struct counts c = {0, 0};

	(void)state;
	rwc_collect_corpus(dir, files);
	assert_true(files->len > 0); /* a missing corpus is a failure */
	/* each message twice: from a stdio stream and from a spool stream as the milter has
	 * it (pread, with its read-ahead for the parser's small reads) */
	for (guint i = 0; i < 2 * files->len; i++) {
		const char *path = files->pdata[i / 2];
		GMimeStream *fs;
		GMimeParser *parser;
		GMimeMessage *m;

		if (i % 2 == 0) {
			fs = g_mime_stream_file_open(path, "r", NULL);
		} else {
			int fd = open(path, O_RDONLY | O_CLOEXEC);

			fs = fd >= 0 ? bd_mimestream_pread_new(fd) : NULL;
			if (fs == NULL && fd >= 0)
				close(fd);
		}
		assert_non_null(fs);
		parser = g_mime_parser_new_with_stream(fs);
		m = g_mime_parser_construct_message(parser, NULL);
		if (m != NULL) {
			g_mime_message_foreach(m, check_part, &c);
			if (GMIME_IS_PART(m->mime_part))
				check_part(NULL, m->mime_part, &c);
			g_object_unref(m);
		}
		g_object_unref(parser);
		g_object_unref(fs);
	}
	fprintf(stderr, "test_base64: %u messages read twice, %u parts, %u base64\n", files->len,
	        c.parts, c.base64);
	assert_true(c.base64 > 0);
	g_ptr_array_free(files, TRUE);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_every_byte),
	        cmocka_unit_test(test_random),
	        cmocka_unit_test(test_corpus),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
