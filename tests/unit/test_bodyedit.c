/*
 * test_bodyedit.c - the notice goes into large body text without the text in memory.
 *
 * A message with a 20 MiB text/plain body (Latin-1, 8bit) and a 20 MiB HTML
 * body (UTF-8, base64, a </body> in a comment and in a script before the
 * real one, a cid: reference at its end) and one attachment is rewritten and
 * written out to a memfd. The process's peak RSS must not grow by anything
 * near the size of the bodies; then the output must hold the notice once in
 * each body, and the rest of each body byte for byte.
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
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "io.h"
#include "mimestream.h"
#include "rewrite_check.h"

#define BODY_BYTES         (20u * 1024 * 1024)
#define NOTICE_MAX         (16 * 1024)
#define RSS_GROWTH_MAX_KIB (16 * 1024)
#define LINK               RWC_PUBLIC_URL "/d/"
/* ASan's quarantine keeps freed buffers: there the peak RSS says nothing */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL 0
#else
#define RSS_MEANINGFUL 1
#endif

static struct rwc C;

/* Where a body goes, piece by piece. */
struct emit {
	void (*put)(struct emit *e, const char *s, size_t len);
	GString *str; /* put_string */
	FILE *f;      /* put_crlf, put_base64 */
	char group[57];
	size_t ngroup;
};

/* The text body, LF line ends; returns its length (the notice goes after it). */
static size_t text_body(struct emit *e)
{
	char line[128];
	size_t len = 0;

	for (unsigned i = 0; len < BODY_BYTES; i++) {
		int n = snprintf(line, sizeof(line),
		                 "Regel %07u: caf\xe9 en een zin die doorloopt tot het eind.\n", i);

		e->put(e, line, (size_t)n);
		len += (size_t)n;
	}
	return len;
}

/* The HTML body, CRLF line ends; returns where the notice must go. */
static size_t html_body(struct emit *e)
{
	static const char head[] = "<html><head><style>p { margin: 0 }</style></head><body>\r\n"
	                           "<!-- </body> in a comment -->\r\n"
	                           "<script>var s = '</body>';</script>\r\n";
	static const char img[] = "<p><img src=\"cid:logo@example.org\"></p>\r\n";
	static const char end[] = "</body>\r\n</html>\r\n";
	char line[160];
	size_t len = sizeof(head) - 1;

	e->put(e, head, sizeof(head) - 1);
	for (unsigned i = 0; len < BODY_BYTES; i++) {
		int n = snprintf(line, sizeof(line),
		                 "<p>Regel %07u met <a href=\"https://example.org/%u\">een "
		                 "link</a> &#233;</p>\r\n",
		                 i, i);

		e->put(e, line, (size_t)n);
		len += (size_t)n;
	}
	e->put(e, img, sizeof(img) - 1);
	e->put(e, end, sizeof(end) - 1);
	return len + sizeof(img) - 1;
}

static void put_string(struct emit *e, const char *s, size_t len)
{
	g_string_append_len(e->str, s, (gssize)len);
}

static void put_crlf(struct emit *e, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			fputc('\r', e->f);
		fputc(s[i], e->f);
	}
}

static void flush_group(struct emit *e)
{
	gchar *line;

	if (e->ngroup == 0)
		return;
	line = g_base64_encode((const guchar *)e->group, e->ngroup);

	fprintf(e->f, "%s\r\n", line);
	g_free(line);
	e->ngroup = 0;
}

/* As base64 lines of 76 characters (flush_group for the last). */
static void put_base64(struct emit *e, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		e->group[e->ngroup++] = s[i];
		if (e->ngroup == sizeof(e->group))
			flush_group(e);
	}
}

static GString *as_string(size_t (*body)(struct emit *), size_t *at)
{
	struct emit e = {.put = put_string, .str = g_string_sized_new(BODY_BYTES + 256)};
	size_t where = body(&e);

	if (at != NULL)
		*at = where;
	return e.str;
}

/* The message, CRLF, written piece by piece into a memfd. */
static int spool(void)
{
	int fd = memfd_create("body", MFD_CLOEXEC);
	struct emit e = {.f = fdopen(dup(fd), "w")};

	assert_non_null(e.f);
	fputs("From: a@example.org\r\nTo: b@example.net\r\nSubject: lang\r\nMIME-Version: 1.0\r\n"
	      "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n"
	      "Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\n"
	      "Content-Type: text/plain; charset=iso-8859-1\r\n"
	      "Content-Transfer-Encoding: 8bit\r\n\r\n",
	      e.f);
	e.put = put_crlf;
	text_body(&e);
	fputs("--a\r\nContent-Type: text/html; charset=utf-8\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\n",
	      e.f);
	e.put = put_base64;
	html_body(&e);
	flush_group(&e);
	fputs("--a--\r\n--m\r\nContent-Type: image/png\r\nContent-ID: <logo@example.org>\r\n"
	      "Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	      "iVBORw0KGgo=\r\n--m\r\nContent-Type: application/pdf; name=\"rapport.pdf\"\r\n"
	      "Content-Disposition: attachment; filename=\"rapport.pdf\"\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSVFT0YK\r\n--m--\r\n",
	      e.f);
	assert_int_equal(fclose(e.f), 0);
	return fd;
}

static int fd_write(void *ctx, const uint8_t *buf, size_t len)
{
	return bd_write_all(*(int *)ctx, buf, len);
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

struct found {
	GMimePart *text, *html;
};

static void find_bodies(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct found *f = data;
	GMimeContentType *ct = g_mime_object_get_content_type(part);

	(void)parent;
	if (!GMIME_IS_PART(part))
		return;
	if (g_mime_content_type_is_type(ct, "text", "plain"))
		f->text = GMIME_PART(part);
	else if (g_mime_content_type_is_type(ct, "text", "html"))
		f->html = GMIME_PART(part);
}

static GByteArray *decoded(GMimePart *part)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *copy = g_byte_array_new();
	GByteArray *b;

	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), mem);
	b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_byte_array_append(copy, b->data, b->len);
	g_object_unref(mem);
	return copy;
}

static unsigned count(const char *s, size_t len, const char *what)
{
	unsigned n = 0;

	for (const char *p = s; (p = g_strstr_len(p, (gssize)(len - (size_t)(p - s)), what)); p++)
		n++;
	return n;
}

/* A: the original, B: the part as written and decoded; the notice between is checked. */
static void check_around(const char *a, size_t alen, size_t at, const GByteArray *b)
{
	size_t tail = alen - at, middle;

	assert_true(b->len > alen);
	middle = b->len - alen;
	assert_true(middle < NOTICE_MAX);
	assert_memory_equal(b->data, a, at);
	assert_memory_equal(b->data + at + middle, a + at, tail);
	assert_int_equal(count((const char *)b->data, b->len, LINK), 1);
	assert_int_equal(count((const char *)b->data + at, middle, LINK), 1);
}

static void crlf_to_lf(GByteArray *b)
{
	size_t w = 0;

	for (size_t r = 0; r < b->len; r++)
		if (!(b->data[r] == '\r' && r + 1 < b->len && b->data[r + 1] == '\n'))
			b->data[w++] = b->data[r];
	g_byte_array_set_size(b, (guint)w);
}

static void check_output(int out)
{
	GMimeStream *stream = bd_mimestream_pread_new(dup(out));
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	struct found f = {NULL, NULL};
	const char *charset;
	GByteArray *got;
	GString *want;
	size_t at;

	assert_non_null(msg);
	g_mime_message_foreach(msg, find_bodies, &f);
	assert_non_null(f.text);
	assert_non_null(f.html);

	/* text: the body as it was (in UTF-8 if the part became UTF-8), a blank line, the notice */
	got = decoded(f.text);
	crlf_to_lf(got);
	want = as_string(text_body, NULL);
	charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(f.text), "charset");
	if (g_ascii_strcasecmp(charset, "utf-8") == 0) {
		gsize n;
		gchar *utf8 = g_convert(want->str, (gssize)want->len, "utf-8", "iso-8859-1", NULL,
		                        &n, NULL);

		assert_non_null(utf8);
		g_string_assign(want, utf8);
		g_free(utf8);
	} else {
		assert_string_equal(charset, "iso-8859-1");
	}
	g_string_append_c(want, '\n');
	check_around(want->str, want->len, want->len, got);
	g_string_free(want, TRUE);
	g_byte_array_free(got, TRUE);

	/* HTML: the snippet before the real </body>, not the one in the comment or script */
	got = decoded(f.html);
	want = as_string(html_body, &at);
	check_around(want->str, want->len, at, got);
	g_string_free(want, TRUE);
	g_byte_array_free(got, TRUE);

	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
}

static void test_large_bodies(void **state)
{
	struct bd_conf *conf = rwc_conf(&C, NULL);
	static const struct bd_rewrite_envelope env = {.outgoing = true};
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL;
	struct bd_error err;
	int in = spool(), out = memfd_create("out", MFD_CLOEXEC);
	struct bd_sink sink = {fd_write, &out};
	long before, growth;

	rw = bd_rewrite_new(conf, C.keys, C.store, &err);
	assert_non_null(rw);
	before = maxrss_kib();
	assert_int_equal(bd_rewrite_message(rw, in, &env, &r, &err), 0);
	assert_true(r->changed);
	/* the image is kept: its cid: reference, 20 MiB into the HTML, was seen */
	assert_int_equal(r->nfiles, 1);
	assert_int_equal(bd_rewrite_write_message(r, &sink, &err), 0);
	growth = maxrss_kib() - before;
	print_message("peak RSS growth over the rewrite and the write: %ld KiB\n", growth);
	if (RSS_MEANINGFUL && growth > RSS_GROWTH_MAX_KIB)
		fail_msg("two %u MiB bodies raised the peak RSS by %ld KiB", BODY_BYTES >> 20,
		         growth);
	bd_rewrite_result_free(&r);
	bd_rewrite_free(&rw);
	close(in);
	check_output(out);
	close(out);
	bd_conf_free(&conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_large_bodies),
	};
	int failed;

	rwc_init(&C);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	rwc_free(&C);
	return failed;
}
