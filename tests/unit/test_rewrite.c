/*
 * test_rewrite.c - the rewrite engine on the project's own test messages.
 *
 * tests/data/messages/NAME.eml has one policy case each; NAME.conf adds
 * configuration, NAME.env sets the envelope (sender=, recipient=, outgoing=).
 * The decisions and the output's structure must match NAME.golden
 * (BD_UPDATE_GOLDEN=1 rewrites the golden files: review the diff). Then the
 * failure paths: a store that fails, a slow store (progress callbacks), and
 * memory that must not grow with the size of an attachment.
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

#include "accesscode.h"
#include "linkfind.h"
#include "manifest.h"
#include "mem.h"
#include "notice.h"
#include "token.h"
#include "rewrite_check.h"
#include "store-memory.h"
#include "store-private.h"

static struct rwc C;

static int setup(void **state)
{
	rwc_init(&C);
	return 0;
}

static int teardown(void **state)
{
	rwc_free(&C);
	return 0;
}

static char *messages_dir(void)
{
	const char *src = getenv("BD_SOURCE_DIR");

	return g_build_filename(src ? src : ".", "tests", "data", "messages", NULL);
}

static char *sidecar(const char *eml, const char *ext)
{
	char *path = g_strdup_printf("%.*s.%s", (int)(strlen(eml) - 4), eml, ext);
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, NULL);
	g_free(path);
	return text;
}

/* NAME.env: "key = value" lines for the envelope. */
struct env_holder {
	struct bd_rewrite_envelope env;
	char *sender;
	char *recipients[8];
};

static void read_env(const char *eml, struct env_holder *h)
{
	char *text = sidecar(eml, "env");
	char **lines;

	memset(h, 0, sizeof(*h));
	h->env.outgoing = true;
	if (text == NULL)
		return;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		char **kv = g_strsplit(*l, "=", 2);

		if (kv[0] != NULL && kv[1] != NULL) {
			char *k = g_strstrip(kv[0]), *v = g_strstrip(kv[1]);

			if (strcmp(k, "sender") == 0)
				h->env.sender = h->sender = g_strdup(v);
			else if (strcmp(k, "recipient") == 0 && h->env.nrecipients < 8)
				h->recipients[h->env.nrecipients++] = g_strdup(v);
			else if (strcmp(k, "outgoing") == 0)
				h->env.outgoing = strcmp(v, "yes") == 0;
		}
		g_strfreev(kv);
	}
	h->env.recipients = (const char *const *)h->recipients;
	g_strfreev(lines);
	g_free(text);
}

static void free_env(struct env_holder *h)
{
	g_free(h->sender);
	for (size_t i = 0; i < h->env.nrecipients; i++)
		g_free(h->recipients[i]);
}

static void test_golden(void **state)
{
	char *dir = messages_dir();
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	bool update = getenv("BD_UPDATE_GOLDEN") != NULL;
	struct rwc_stats stats = {0};
	int problems = 0, mismatches = 0;
	const char *n;

	assert_non_null(d);
	while ((n = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(n, ".eml"))
			g_ptr_array_add(names, g_build_filename(dir, n, NULL));
	g_dir_close(d);
	assert_true(names->len >= 40);
	for (guint i = 0; i < names->len; i++) {
		const char *eml = names->pdata[i];
		char *conf = sidecar(eml, "conf"), *want = sidecar(eml, "golden");
		char *golden = g_strdup_printf("%.*s.golden", (int)(strlen(eml) - 4), eml);
		GString *dump = g_string_new(NULL);
		struct env_holder env;

		read_env(eml, &env);
		problems += rwc_run(&C, eml, conf, &env.env, dump, &stats);
		if (update) {
			g_file_set_contents(golden, dump->str, (gssize)dump->len, NULL);
		} else if (want == NULL || strcmp(want, dump->str) != 0) {
			fprintf(stderr, "%s: structure differs from %s; got:\n%s\n", eml, golden,
			        dump->str);
			mismatches++;
		}
		free_env(&env);
		g_string_free(dump, TRUE);
		g_free(golden);
		g_free(want);
		g_free(conf);
	}
	printf("golden: %u messages, %u changed, %u unchanged (%u malformed), %u errors, "
	       "%u parts sent away\n",
	       stats.messages, stats.changed, stats.unchanged, stats.malformed, stats.errors,
	       stats.files);
	g_ptr_array_free(names, TRUE);
	g_free(dir);
	if (problems > 0 || mismatches > 0)
		fail_msg("%d problems, %d golden mismatches", problems, mismatches);
}

/* ---- a store that fails on purpose, or is slow ---- */

struct faulty {
	struct bd_store *inner;
	int fail_at; /* 1-based put that fails; 0: none */
	int puts;
	unsigned slow_ms;
	pthread_mutex_t lock;
};

static int f_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                 struct bd_error *err)
{
	struct faulty *f = impl;
	int n;

	pthread_mutex_lock(&f->lock);
	n = ++f->puts;
	pthread_mutex_unlock(&f->lock);
	if (f->slow_ms > 0)
		usleep(f->slow_ms * 1000);
	if (n == f->fail_at)
		return bd_error_set(err, BD_E_STORAGE, "injected failure on put %d", n);
	return bd_store_put(f->inner, name, src, length, err);
}

static int f_get(void *impl, const char *name, uint64_t off, uint64_t len, struct bd_sink *sink,
                 struct bd_error *err)
{
	return bd_store_get(((struct faulty *)impl)->inner, name, off, len, sink, err);
}

static int f_head(void *impl, const char *name, uint64_t *size, struct bd_error *err)
{
	return bd_store_head(((struct faulty *)impl)->inner, name, size, err);
}

static int f_del(void *impl, const char *name, struct bd_error *err)
{
	return bd_store_delete(((struct faulty *)impl)->inner, name, err);
}

static int f_list(void *impl, const char *prefix, int (*cb)(void *, const char *, uint64_t),
                  void *ctx, struct bd_error *err)
{
	return bd_store_list(((struct faulty *)impl)->inner, prefix, cb, ctx, err);
}

static const struct bd_store_ops faulty_ops = {"faulty", f_put, f_get, f_head, f_del, f_list, NULL};

/* The engine, the faulty store S around F and F's own store: all closed. */
static void faulty_close(struct bd_rewrite **rw, struct bd_store **s, struct faulty *f)
{
	bd_rewrite_free(rw);
	bd_store_close(s);
	bd_store_close(&f->inner);
	pthread_mutex_destroy(&f->lock);
}

static int count_cb(void *ctx, const char *name, uint64_t size)
{
	++*(size_t *)ctx;
	return 0;
}

static size_t objects(struct bd_store *s)
{
	size_t n = 0;

	bd_store_list(s, "", count_cb, &n, NULL);
	return n;
}

static int spool_file(const char *path)
{
	size_t len;
	char *data = rwc_read_crlf(path, &len);
	int fd = memfd_create("t", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	g_free(data);
	return fd;
}

/* Every put in turn fails: the rewrite fails, and nothing is left in the store. */
static void test_store_failure(void **state)
{
	char *dir = messages_dir();
	char *path = g_build_filename(dir, "31-duplicate-names.eml", NULL);
	struct bd_conf *conf = rwc_conf(&C, "[storage]\nparallel_uploads = 2\n");
	int fd = spool_file(path);

	for (int fail_at = 1; fail_at <= 4; fail_at++) {
		struct faulty f = {.inner = bd_store_new_memory(), .fail_at = fail_at};
		struct bd_store *s = bd_store_new(&faulty_ops, &f);
		struct bd_rewrite *rw;
		struct bd_rewrite_result *r = NULL;
		struct bd_error err;
		static const struct bd_rewrite_envelope env = {.outgoing = true};

		pthread_mutex_init(&f.lock, NULL);
		rw = bd_rewrite_new(conf, C.keys, s, &err);
		assert_non_null(rw);
		assert_int_equal(bd_rewrite_message(rw, fd, &env, &r, &err), -1);
		assert_null(r);
		assert_int_equal(err.code, BD_E_STORAGE);
		assert_non_null(strstr(err.msg, "injected failure"));
		if (objects(f.inner) != 0)
			fail_msg("put %d failed, yet %zu objects remain", fail_at,
			         objects(f.inner));
		faulty_close(&rw, &s, &f);
	}
	close(fd);
	bd_conf_free(&conf);
	g_free(path);
	g_free(dir);
}

static void count_progress(void *ctx)
{
	++*(int *)ctx;
}

/* Uploads that take a while: the caller hears from the engine meanwhile. */
static void test_progress(void **state)
{
	char *dir = messages_dir();
	char *path = g_build_filename(dir, "01-basic-pdf.eml", NULL);
	struct bd_conf *conf = rwc_conf(&C, NULL);
	struct faulty f = {.inner = bd_store_new_memory(), .slow_ms = 3500};
	struct bd_store *s = bd_store_new(&faulty_ops, &f);
	struct bd_rewrite_envelope env = {.outgoing = true, .progress = count_progress};
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL;
	struct bd_error err;
	int calls = 0, fd = spool_file(path);

	pthread_mutex_init(&f.lock, NULL);
	env.progress_ctx = &calls;
	rw = bd_rewrite_new(conf, C.keys, s, &err);
	assert_non_null(rw);
	assert_int_equal(bd_rewrite_message(rw, fd, &env, &r, &err), 0);
	assert_true(r->changed);
	assert_true(calls >= 1);
	assert_int_equal(objects(f.inner), 2);
	bd_rewrite_result_free(&r);
	faulty_close(&rw, &s, &f);
	close(fd);
	bd_conf_free(&conf);
	g_free(path);
	g_free(dir);
}

/* In two steps: the first stores nothing and says whether there is storing to do; the
 * second stores, or on failure leaves no result and no objects. */
static void test_two_steps(void **state)
{
	static const char plain[] = "From: a@example.nl\r\nTo: b@example.org\r\nSubject: x\r\n"
	                            "\r\nNo attachment.\r\n";
	char *dir = messages_dir();
	char *path = g_build_filename(dir, "01-basic-pdf.eml", NULL);
	struct bd_conf *conf = rwc_conf(&C, NULL);
	struct faulty f = {.inner = bd_store_new_memory()};
	struct bd_store *s = bd_store_new(&faulty_ops, &f);
	static const struct bd_rewrite_envelope env = {.outgoing = true};
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL;
	struct bd_rewrite_job *job;
	struct bd_error err;
	int fd = memfd_create("plain", 0);

	pthread_mutex_init(&f.lock, NULL);
	rw = bd_rewrite_new(conf, C.keys, s, &err);
	assert_non_null(rw);
	/* nothing to store: final after the first step */
	assert_int_equal(write(fd, plain, sizeof(plain) - 1), (ssize_t)sizeof(plain) - 1);
	assert_int_equal(bd_rewrite_begin(rw, fd, &env, &r, &job, &err), 1);
	assert_null(job);
	assert_non_null(r);
	assert_false(r->changed);
	assert_int_equal(r->nfiles, 0);
	bd_rewrite_result_free(&r);
	close(fd);
	/* a file to store: decided, nothing stored yet, then stored */
	fd = spool_file(path);
	assert_int_equal(bd_rewrite_begin(rw, fd, &env, &r, &job, &err), 0);
	assert_non_null(job);
	assert_int_equal(r->nfiles, 1);
	assert_false(r->changed);
	assert_int_equal(objects(f.inner), 0);
	assert_int_equal(bd_rewrite_finish(&job, &r, &err), 0);
	assert_null(job);
	assert_true(r->changed);
	assert_int_equal(objects(f.inner), 2);
	bd_rewrite_result_free(&r);
	/* storing fails: no result, and what was stored is gone again */
	f.fail_at = f.puts + 2;
	assert_int_equal(bd_rewrite_begin(rw, fd, &env, &r, &job, &err), 0);
	assert_int_equal(bd_rewrite_finish(&job, &r, &err), -1);
	assert_null(job);
	assert_null(r);
	assert_int_equal(objects(f.inner), 2);
	faulty_close(&rw, &s, &f);
	close(fd);
	bd_conf_free(&conf);
	g_free(path);
	g_free(dir);
}

/* The body alone is the whole message minus its header block. */
static void test_write_body(void **state)
{
	char *dir = messages_dir();
	char *path = g_build_filename(dir, "02-cid-inline-image.eml", NULL);
	struct bd_conf *conf = rwc_conf(&C, NULL);
	static const struct bd_rewrite_envelope env = {.outgoing = true};
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL;
	struct bd_buf_sink whole, body;
	struct bd_error err;
	int fd = spool_file(path);
	const char *sep;

	rw = bd_rewrite_new(conf, C.keys, C.store, &err);
	assert_non_null(rw);
	assert_int_equal(bd_rewrite_message(rw, fd, &env, &r, &err), 0);
	assert_true(r->changed);
	bd_buf_sink_init(&whole);
	bd_buf_sink_init(&body);
	assert_int_equal(bd_rewrite_write_message(r, &whole.sink, &err), 0);
	assert_int_equal(bd_rewrite_write_body(r, &body.sink, &err), 0);
	sep = g_strstr_len((const char *)whole.data, (gssize)whole.len, "\r\n\r\n");
	assert_non_null(sep);
	sep += 4;
	assert_int_equal(whole.len - (size_t)(sep - (const char *)whole.data), body.len);
	assert_memory_equal(sep, body.data, body.len);
	free(whole.data);
	free(body.data);
	bd_rewrite_result_free(&r);
	bd_rewrite_free(&rw);
	close(fd);
	bd_conf_free(&conf);
	g_free(path);
	g_free(dir);
}

/* Rewrite tests/data/messages/NAME under configuration EXTRA and ENV: it must change;
 * the whole output goes into OUT (the caller frees OUT->data). */
static void rewrite_named(const char *name, const char *extra,
                          const struct bd_rewrite_envelope *env, struct bd_buf_sink *out)
{
	char *dir = messages_dir();
	char *path = g_build_filename(dir, name, NULL);
	struct bd_conf *conf = rwc_conf(&C, extra);
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL;
	struct bd_error err;
	int fd = spool_file(path);

	rw = bd_rewrite_new(conf, C.keys, C.store, &err);
	assert_non_null(rw);
	assert_int_equal(bd_rewrite_message(rw, fd, env, &r, &err), 0);
	assert_true(r->changed);
	bd_buf_sink_init(out);
	assert_int_equal(bd_rewrite_write_message(r, &out->sink, &err), 0);
	bd_rewrite_result_free(&r);
	bd_rewrite_free(&rw);
	close(fd);
	bd_conf_free(&conf);
	g_free(path);
	g_free(dir);
}

/* A multipart that lost its closing boundary in transit gets one back when it changes. */
static void test_close_boundary(void **state)
{
	static const struct bd_rewrite_envelope env = {.outgoing = true};
	static const char end[] = "\r\n--=-b1--\r\n";
	struct bd_buf_sink out;

	rewrite_named("35-missing-close-boundary.eml", NULL, &env, &out);
	assert_true(out.len > sizeof(end));
	assert_non_null(g_strstr_len((const char *)out.data, (gssize)out.len, end));
	free(out.data);
}

/* ---- the notice's language follows the recipients ---- */

struct bodies {
	GString *text, *html;
};

static void collect_body(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct bodies *b = data;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	GMimeStream *out;
	GByteArray *bytes;

	(void)parent;
	if (!GMIME_IS_PART(part) || !g_mime_content_type_is_type(ct, "text", "*"))
		return;
	out = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(part)), out);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	g_string_append_len(g_mime_content_type_is_type(ct, "text", "html") ? b->html : b->text,
	                    (const char *)bytes->data, (gssize)bytes->len);
	g_object_unref(out);
}

/* Rewrite 02-cid-inline-image (text and HTML bodies) for RECIPIENTS under
 * [notice] language = auto; the decoded text and HTML bodies go into B. */
static void rewrite_to(const char *const *recipients, size_t n, struct bodies *b)
{
	struct bd_rewrite_envelope env = {
	        .outgoing = true, .recipients = recipients, .nrecipients = n};
	struct bd_buf_sink out;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	rewrite_named("02-cid-inline-image.eml", "language = auto\n", &env, &out);
	stream = g_mime_stream_mem_new_with_buffer((const char *)out.data, out.len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	assert_non_null(msg);
	b->text = g_string_new(NULL);
	b->html = g_string_new(NULL);
	g_mime_message_foreach(msg, collect_body, b);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	free(out.data);
}

static void test_notice_language_auto(void **state)
{
	static const char *const mixed[] = {"bert@gemeente.nl", "<jane@example.com>"};
	static const char *const dutch[] = {"bert@gemeente.nl", "an@stad.be"};
	struct bodies b;
	const char *nl, *en;

	/* one recipient abroad: both, Dutch first, in the text and in the HTML */
	rewrite_to(mixed, 2, &b);
	nl = strstr(b.text->str, "Download de bijlage");
	en = strstr(b.text->str, "Download the attachment");
	assert_non_null(nl);
	assert_non_null(en);
	assert_true(nl < en);
	nl = strstr(b.html->str, "<div lang=\"nl\">");
	en = strstr(b.html->str, "<div lang=\"en\">");
	assert_non_null(nl);
	assert_non_null(en);
	assert_true(nl < en);
	assert_non_null(strstr(nl, "beschikbaar tot"));
	assert_non_null(strstr(en, "available until"));
	assert_true(strstr(b.html->str, "beschikbaar tot") < en);
	assert_non_null(strstr(b.html->str, "href=\"" RWC_PUBLIC_URL "/d/"));
	g_string_free(b.text, TRUE);
	g_string_free(b.html, TRUE);

	/* every recipient in .nl or .be: Dutch alone */
	rewrite_to(dutch, 2, &b);
	assert_non_null(strstr(b.text->str, "Download de bijlage"));
	assert_null(strstr(b.text->str, "Download the attachment"));
	assert_non_null(strstr(b.html->str, "beschikbaar tot"));
	assert_null(strstr(b.html->str, "available until"));
	assert_null(strstr(b.html->str, "<div lang="));
	g_string_free(b.text, TRUE);
	g_string_free(b.html, TRUE);
}

/* ---- where the notice goes in HTML: visible, never in a comment or script ---- */

static void test_html_insertion(void **state)
{
	static const struct {
		const char *in, *want; /* WANT: IN with "@" where the snippet goes */
	} cases[] = {
	        {"<html><body>x</body></html>", "<html><body>x@</body></html>"},
	        {"<p>x</p>", "<p>x</p>\n@"},
	        {"<html><p>x</p></HTML>", "<html><p>x</p>@</HTML>"},
	        {"<body>x</body><!-- </body> -->", "<body>x@</body><!-- </body> -->"},
	        {"<body>x</body>\n<!-- </body></html> -->\n</html>",
	         "<body>x@</body>\n<!-- </body></html> -->\n</html>"},
	        {"<body>x<script>s='</body>';</script></body>",
	         "<body>x<script>s='</body>';</script>@</body>"},
	        {"<p>x<script>s='</body>';</script>", "<p>x<script>s='</body>';</script>\n@"},
	        {"<body>x<style>/* </body> */</style>", "<body>x<style>/* </body> */</style>\n@"},
	        {"<p>x</p><!-- never closed </body>", "<p>x</p>@<!-- never closed </body>"},
	        {"<p>x</p><script>never closed", "<p>x</p>@<script>never closed"},
	        {"<body>x<!--></body>", "<body>x<!-->@</body>"},
	        {"<body>x</bodyguard></body>", "<body>x</bodyguard>@</body>"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GMimePart *part = g_mime_part_new_with_type("text", "html");
		GMimeStream *in =
		        g_mime_stream_mem_new_with_buffer(cases[i].in, strlen(cases[i].in));
		GMimeDataWrapper *w =
		        g_mime_data_wrapper_new_with_stream(in, GMIME_CONTENT_ENCODING_DEFAULT);
		GMimeStream *out = g_mime_stream_mem_new();
		GByteArray *bytes;
		struct bd_error err;
		char *got;

		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
		g_mime_part_set_content(part, w);
		assert_int_equal(bd_notice_add_to_html(part, "@", &err), 0);
		g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), out);
		bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
		got = g_strndup((const char *)bytes->data, bytes->len);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got, cases[i].want);
		g_free(got);
		g_object_unref(out);
		g_object_unref(w);
		g_object_unref(in);
		g_object_unref(part);
	}
}

/* ---- memory must not grow with attachment size ---- */

#if defined(__SANITIZE_ADDRESS__)
static void test_memory_bounded(void **state)
{
	skip(); /* ASan's quarantine keeps freed buffers: RSS says nothing there */
}
#else

static int discard_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                       struct bd_error *err)
{
	uint8_t buf[65536];
	uint64_t got = 0;

	while (got < length) {
		ssize_t n = src->read(src->ctx, buf, sizeof(buf));

		if (n <= 0)
			return bd_error_set(err, BD_E_IO, "short source");
		got += (uint64_t)n;
	}
	return 0;
}

static int discard_del(void *impl, const char *name, struct bd_error *err)
{
	return 0;
}

static const struct bd_store_ops discard_ops = {"discard",   discard_put, NULL, NULL,
                                                discard_del, NULL,        NULL};

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_memory_bounded(void **state)
{
	struct bd_conf *conf = rwc_conf(&C, NULL);
	struct bd_store *s = bd_store_new(&discard_ops, NULL);
	static const struct bd_rewrite_envelope env = {.outgoing = true};
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL;
	struct bd_error err;
	int fd = memfd_create("big", MFD_CLOEXEC);
	FILE *f = fdopen(dup(fd), "w");
	const size_t mib = 48;
	uint8_t raw[57];
	long before;

	assert_non_null(f);
	fputs("From: a@example.org\r\nTo: b@example.net\r\nSubject: groot\r\nMIME-Version: 1.0\r\n"
	      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: "
	      "text/plain\r\n\r\n"
	      "Groot bestand.\r\n--b\r\nContent-Type: application/octet-stream; "
	      "name=\"groot.bin\"\r\n"
	      "Content-Disposition: attachment; filename=\"groot.bin\"\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\n",
	      f);
	for (size_t i = 0; i < mib * 1024 * 1024 / sizeof(raw); i++) {
		gchar *line;

		for (size_t j = 0; j < sizeof(raw); j++)
			raw[j] = (uint8_t)(i * 131 + j * 7);
		line = g_base64_encode(raw, sizeof(raw));
		fprintf(f, "%s\r\n", line);
		g_free(line);
	}
	fputs("--b--\r\n", f);
	fclose(f);
	rw = bd_rewrite_new(conf, C.keys, s, &err);
	assert_non_null(rw);
	before = maxrss_kib();
	assert_int_equal(bd_rewrite_message(rw, fd, &env, &r, &err), 0);
	assert_true(r->changed);
	assert_int_equal(r->nfiles, 1);
	assert_true(r->bytes >= (mib - 1) * 1024 * 1024);
	if (maxrss_kib() - before > 16 * 1024)
		fail_msg("a %zu MiB attachment raised the peak RSS by %ld KiB", mib,
		         maxrss_kib() - before);
	bd_rewrite_result_free(&r);
	bd_rewrite_free(&rw);
	bd_store_close(&s);
	close(fd);
	bd_conf_free(&conf);
}
#endif

/* The rewrite of 02-cid-inline-image.eml under EXTRA and ENV: its result and its opened
 * manifest (found through the link in the output). */
static struct bd_manifest *protected_manifest(const char *extra,
                                              const struct bd_rewrite_envelope *env,
                                              struct bd_rewrite_protection *p)
{
	char *dir = messages_dir();
	char *path = g_build_filename(dir, "02-cid-inline-image.eml", NULL);
	struct bd_conf *conf = rwc_conf(&C, extra);
	struct bd_rewrite *rw = bd_rewrite_new(conf, C.keys, C.store, NULL);
	struct bd_rewrite_result *r = NULL;
	struct bd_package_keys *pk = NULL;
	struct bd_manifest *m = NULL;
	char token[BD_TOKEN_MAX_CHARS + 1], name[64];
	struct bd_buf_sink out, sealed;
	struct bd_error err;
	struct bd_token t;
	int fd = spool_file(path), ofd = memfd_create("o", MFD_CLOEXEC);

	assert_non_null(rw);
	assert_int_equal(bd_rewrite_message(rw, fd, env, &r, &err), 0);
	assert_true(r->changed);
	*p = r->protection;
	bd_buf_sink_init(&out);
	assert_int_equal(bd_rewrite_write_message(r, &out.sink, &err), 0);
	assert_int_equal(write(ofd, out.data, out.len), (ssize_t)out.len);
	assert_int_equal(bd_link_find(ofd, RWC_PUBLIC_URL, token, &err), 0);
	assert_int_equal(bd_token_decode(token, C.keys, (int64_t)time(NULL), &t, &err), 0);
	bd_package_object_name(t.package_id, 0, name, sizeof(name));
	bd_buf_sink_init(&sealed);
	assert_int_equal(bd_store_get(C.store, name, 0, BD_STORE_TO_END, &sealed.sink, &err), 0);
	assert_int_equal(bd_manifest_open(sealed.data, sealed.len, t.secret, C.keys, &m, &pk, &err),
	                 0);
	/* no address and no code in the clear */
	assert_null(memmem(sealed.data, sealed.len, "example.com", 11));
	free(sealed.data);
	free(out.data);
	bd_package_keys_free(&pk);
	bd_rewrite_result_free(&r);
	bd_rewrite_free(&rw);
	close(ofd);
	close(fd);
	bd_conf_free(&conf);
	g_free(path);
	g_free(dir);
	return m;
}

/* The manifest lists the outside recipients (domain in lower case), [recipients]' protection
 * or the replacing rule's, and the hash of the envelope's access code. */
static void test_protection(void **state)
{
	static const char *const rcpts[] = {"<Piet.Jansen@Example.COM>", "collega@example.nl",
	                                    "marie@example.org", "piet.jansen@example.com"};
	struct bd_rewrite_envelope env = {
	        .outgoing = true, .recipients = rcpts, .nrecipients = 4, .access_code = "4711-x"};
	struct bd_rewrite_protection p;
	struct bd_manifest *m;

	m = protected_manifest("[milter]\ninternal_domains = example.nl\n"
	                       "[recipients]\nverify = code\nreceipts = first\nmax_downloads = 4\n",
	                       &env, &p);
	assert_int_equal(m->version, BD_MANIFEST_VERSION);
	assert_int_equal(m->nrecipients, 2);
	assert_string_equal(m->recipients[0], "Piet.Jansen@example.com");
	assert_string_equal(m->recipients[1], "marie@example.org");
	assert_int_equal(m->protection.verify, BD_VERIFY_CODE);
	assert_int_equal(m->protection.receipts, BD_RECEIPTS_FIRST);
	assert_int_equal(m->protection.max_downloads, 4);
	assert_non_null(m->protection.access_code_hash);
	assert_int_equal(bd_access_code_check(m->protection.access_code_hash, "4711-X"), 1);
	assert_int_equal(bd_access_code_check(m->protection.access_code_hash, "4711"), 0);
	assert_int_equal(p.verify, BD_CONF_VERIFY_CODE);
	assert_int_equal(p.receipts, BD_CONF_RECEIPTS_FIRST);
	assert_true(p.code);
	assert_int_equal(p.recipients, 2);
	bd_manifest_free(&m);

	/* a replace rule's own settings win over [recipients]; no code, no hash */
	env.access_code = NULL;
	m = protected_manifest("[recipients]\nverify = code\nreceipts = every\n"
	                       "[rule files]\naction = replace\nverify = off\nmax_downloads = 2\n",
	                       &env, &p);
	assert_int_equal(m->protection.verify, BD_VERIFY_OFF);
	assert_int_equal(m->protection.receipts, BD_RECEIPTS_EVERY);
	assert_int_equal(m->protection.max_downloads, 2);
	assert_null(m->protection.access_code_hash);
	assert_false(p.code);
	bd_manifest_free(&m);

	/* the defaults: nothing asked */
	m = protected_manifest(NULL, &env, &p);
	assert_int_equal(m->protection.verify, BD_VERIFY_OFF);
	assert_int_equal(m->protection.receipts, BD_RECEIPTS_OFF);
	assert_int_equal(m->protection.max_downloads, 0);
	bd_manifest_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_golden),         cmocka_unit_test(test_store_failure),
	        cmocka_unit_test(test_progress),       cmocka_unit_test(test_write_body),
	        cmocka_unit_test(test_memory_bounded), cmocka_unit_test(test_close_boundary),
	        cmocka_unit_test(test_html_insertion), cmocka_unit_test(test_notice_language_auto),
	        cmocka_unit_test(test_protection),     cmocka_unit_test(test_two_steps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
