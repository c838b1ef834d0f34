/*
 * rewrite_check.c - the checks of rewrite_check.h.
 *
 * Deliberately not built on lib's own helpers for MIME content: the original
 * is parsed again here from memory, parts are decoded with gmime's data
 * wrapper, so an engine bug cannot hide behind the same bug in the check.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "rewrite_check.h"
#include "store-memory.h"
#include "keydir.h"
#include "manifest.h"
#include "mem.h"
#include "stream.h"
#include "tnef.h"
#include "token.h"

#include <gmime/gmime.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

void rwc_init(struct rwc *c)
{
	struct bd_error err;
	const char *src = getenv("BD_SOURCE_DIR");

	memset(c, 0, sizeof(*c));
	g_mime_init();
	c->keydir = keydir_make(NULL, NULL);
	c->keys = bd_keyring_load(
	        c->keydir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC | BD_NEED_GATEWAY_SECRET, &err);
	if (c->keys == NULL) {
		fprintf(stderr, "keys: %s\n", err.msg);
		abort();
	}
	c->store = bd_store_new_memory();
	c->templates = bd_asprintf("%s/conf/templates", src ? src : ".");
}

void rwc_free(struct rwc *c)
{
	bd_store_close(&c->store);
	bd_keyring_free(&c->keys);
	keydir_remove(c->keydir);
	free(c->templates);
}

struct bd_conf *rwc_conf(const struct rwc *c, const char *extra)
{
	struct bd_error err;
	char *text = bd_asprintf("[gateway]\npublic_url = %s\norganisation = Woonstichting "
	                         "De Test\n[keys]\ndir = %s\n[notice]\ntemplate_dir = %s\n%s",
	                         RWC_PUBLIC_URL, c->keydir, c->templates, extra ? extra : "");
	struct bd_conf *conf = bd_conf_load_string("test.conf", text, &err);

	free(text);
	if (conf == NULL) {
		fprintf(stderr, "conf: %s\n", err.msg);
		abort();
	}
	return conf;
}

char *rwc_read_crlf(const char *path, size_t *len)
{
	gchar *raw;
	gsize n;
	GString *s;

	if (!g_file_get_contents(path, &raw, &n, NULL)) {
		fprintf(stderr, "%s: cannot read\n", path);
		abort();
	}
	s = g_string_sized_new(n + n / 16);
	for (gsize i = 0; i < n; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			g_string_append_c(s, '\r');
		g_string_append_c(s, raw[i]);
	}
	g_free(raw);
	*len = s->len;
	return g_string_free(s, FALSE);
}

/* ---- reporting ---- */

struct check {
	const char *path;
	int problems;
	GString *dump;
};

static void problem(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct check *k, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", k->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	k->problems++;
}

/* ---- independent MIME helpers ---- */

struct parsed {
	GMimeMessage *msg;
	int critical;
};

static void count_critical(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	if (code == GMIME_CRIT_INVALID_HEADER_NAME || code == GMIME_CRIT_CONFLICTING_HEADER ||
	    code == GMIME_CRIT_CONFLICTING_PARAMETER ||
	    code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY || code == GMIME_CRIT_NESTING_OVERFLOW ||
	    code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT)
		++*(int *)data;
}

static GMimeMessage *parse_bytes(const char *data, size_t len, int *critical)
{
	GMimeStream *mem = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParserOptions *opts = g_mime_parser_options_new();
	GMimeParser *parser;
	GMimeMessage *msg;

	*critical = 0;
	g_mime_parser_options_set_warning_callback(opts, count_critical, critical);
	parser = g_mime_parser_new_with_stream(mem);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	g_object_unref(mem);
	g_mime_parser_options_free(opts);
	return msg;
}

static GByteArray *content_of(GMimeObject *obj)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *copy = g_byte_array_new(), *bytes;

	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (m != NULL) {
			GMimeFormatOptions *fmt = g_mime_format_options_new();
			GMimeStream *f = g_mime_stream_filter_new(mem);
			GMimeFilter *crlf = g_mime_filter_unix2dos_new(FALSE);

			g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), crlf);
			g_mime_object_write_to_stream(GMIME_OBJECT(m), fmt, f);
			g_mime_stream_flush(f);
			g_object_unref(crlf);
			g_object_unref(f);
			g_mime_format_options_free(fmt);
		}
	} else if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

		if (w != NULL)
			g_mime_data_wrapper_write_to_stream(w, mem);
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_byte_array_append(copy, bytes->data, bytes->len);
	g_object_unref(mem);
	return copy;
}

/* A leaf's bytes as they are in the message, transfer encoding and all. */
static GByteArray *raw_content_of(GMimeObject *obj)
{
	GByteArray *copy = g_byte_array_new();
	GMimeDataWrapper *w = GMIME_IS_PART(obj) ? g_mime_part_get_content(GMIME_PART(obj)) : NULL;
	GMimeStream *s = w != NULL ? g_mime_data_wrapper_get_stream(w) : NULL;
	char buf[4096];
	ssize_t n;

	if (s == NULL)
		return copy;
	g_mime_stream_reset(s);
	while ((n = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
		g_byte_array_append(copy, (const guint8 *)buf, (guint)n);
	g_mime_stream_reset(s);
	return copy;
}

/* A file from inside a winmail.dat ("1.2/3": the third that tnef.c finds in part
 * 1.2); the part's own bytes are checked like any other's. */
static GMimeObject *outer_part(GHashTable *bypath, const char *path)
{
	const char *slash = strchr(path, '/');
	char *outer = g_strndup(path, slash != NULL ? (gsize)(slash - path) : strlen(path));
	GMimeObject *o = g_hash_table_lookup(bypath, outer);

	g_free(outer);
	return o;
}

static GByteArray *inner_content(GMimeObject *winmail, const char *path)
{
	GByteArray *tnef = content_of(winmail), *want = g_byte_array_new();
	struct bd_tnef *t = NULL;
	size_t k = strtoul(strchr(path, '/') + 1, NULL, 10);

	if (bd_tnef_extract(tnef->data, tnef->len, NULL, &t) == BD_TNEF_OK && k >= 1 && k <= t->n)
		g_byte_array_append(want, t->files[k - 1].data, (guint)t->files[k - 1].size);
	bd_tnef_free(&t);
	g_byte_array_unref(tnef);
	return want;
}

static char *mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *t = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	char *lower = g_ascii_strdown(t, -1);

	g_free(t);
	return lower;
}

static const char *raw_filename(GMimeObject *obj)
{
	const char *n = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) : NULL;

	if (n == NULL)
		n = g_mime_object_get_content_disposition_parameter(obj, "filename");
	if (n == NULL)
		n = g_mime_object_get_content_type_parameter(obj, "name");
	return n;
}

static bool is_body_like(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);

	return GMIME_IS_PART(obj) && ct != NULL &&
	       (g_mime_content_type_is_type(ct, "text", "plain") ||
	        g_mime_content_type_is_type(ct, "text", "html")) &&
	       !(cd != NULL && g_mime_content_disposition_is_attachment(cd)) &&
	       raw_filename(obj) == NULL;
}

/* Leaves of the body (multiparts descended, attached messages not), in document order,
 * with the engine's numbering: "1", "1.1", "1.2.3". */
struct leaf {
	GMimeObject *obj;
	char path[1024]; /* max_depth 100 (the default) makes paths of 200 bytes and more */
};

static void leaves(GMimeObject *obj, const char *path, GArray *out, GHashTable *bypath)
{
	if (bypath != NULL)
		g_hash_table_insert(bypath, g_strdup(path), obj);
	if (GMIME_IS_MULTIPART(obj)) {
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(obj)); i++) {
			char *sub = g_strdup_printf("%s.%d", path, i + 1);

			leaves(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), sub, out,
			       bypath);
			g_free(sub);
		}
		return;
	}
	{
		struct leaf l = {obj, ""};

		snprintf(l.path, sizeof(l.path), "%s", path);
		g_array_append_val(out, l);
	}
}

static char *top_value(GMimeMessage *msg, const char *name)
{
	GMimeObject *owner = strcmp(name, "MIME-Version") == 0 ? GMIME_OBJECT(msg)
	                                                       : g_mime_message_get_mime_part(msg);
	GMimeHeader *h =
	        owner ? g_mime_header_list_get_header(g_mime_object_get_header_list(owner), name)
	              : NULL;
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
	GString *s;

	if (h == NULL)
		return NULL;
	if (raw == NULL)
		raw = g_mime_header_get_value(h);
	s = g_string_new(NULL);
	for (const char *p = raw; *p; p++)
		if (*p != '\r' && *p != '\n')
			g_string_append_c(s,
			                  *p == '\t' && (s->len == 0 || p[-1] == '\n') ? ' ' : *p);
	g_strstrip(s->str);
	return g_string_free(s, FALSE);
}

/* MIME-Version and the Content-* headers of MSG's top-level part, added to NAMES once. */
static void add_top_names(GMimeMessage *msg, GPtrArray *names)
{
	static const char *const fixed[] = {"Content-Type", "Content-Transfer-Encoding",
	                                    "Content-Disposition", "MIME-Version"};
	GMimeObject *top = msg != NULL ? g_mime_message_get_mime_part(msg) : NULL;
	GMimeHeaderList *list = top != NULL ? g_mime_object_get_header_list(top) : NULL;
	int n = list != NULL ? g_mime_header_list_get_count(list) : 0;

	for (int i = -(int)G_N_ELEMENTS(fixed); i < n; i++) {
		const char *name =
		        i < 0 ? fixed[i + (int)G_N_ELEMENTS(fixed)]
		              : g_mime_header_get_name(g_mime_header_list_get_header_at(list, i));
		bool seen = g_ascii_strncasecmp(name, "Content-", 8) != 0 &&
		            g_ascii_strcasecmp(name, "MIME-Version") != 0;

		for (guint k = 0; k < names->len && !seen; k++)
			seen = g_ascii_strcasecmp(names->pdata[k], name) == 0;
		if (!seen)
			g_ptr_array_add(names, g_strdup(name));
	}
}

static GPtrArray *top_names(GMimeMessage *msg)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	add_top_names(msg, names);
	return names;
}

static const char *find(const GByteArray *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= hay->len && i <= hay->len - n; i++)
		if (memcmp(hay->data + i, needle, n) == 0)
			return (const char *)hay->data + i;
	return NULL;
}

/* ---- the dump for golden files ---- */

static void dump_decisions(struct check *k, const struct bd_rewrite_result *r)
{
	if (k->dump == NULL)
		return;
	g_string_append(k->dump, "decisions:\n");
	for (size_t i = 0; i < r->nparts; i++) {
		const struct bd_rewrite_part *p = &r->parts[i];

		g_string_append_printf(k->dump, "  %-10s %-9s %s", p->path,
		                       bd_rewrite_action_name(p->action), p->content_type);
		if (p->filename != NULL)
			g_string_append_printf(k->dump, " \"%s\"", p->filename);
		if (p->action == BD_REWRITE_SEND)
			g_string_append_printf(k->dump, " %llu bytes", (unsigned long long)p->size);
		g_string_append_printf(k->dump, " -- %s\n", p->reason);
	}
}

static void dump_output(struct check *k, GMimeObject *obj, const char *path, const char *link)
{
	char *type = mime_type(obj);

	g_string_append_printf(k->dump, "  %-10s %s", path, type);
	g_free(type);
	if (GMIME_IS_MULTIPART(obj)) {
		g_string_append_c(k->dump, '\n');
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(obj)); i++) {
			char *sub = g_strdup_printf("%s.%d", path, i + 1);

			dump_output(k, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), sub,
			            link);
			g_free(sub);
		}
		return;
	}
	{
		const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
		const char *fmt = g_mime_object_get_content_type_parameter(obj, "format");
		GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
		const char *name = raw_filename(obj);
		GByteArray *bytes = content_of(obj);

		if (cs != NULL)
			g_string_append_printf(k->dump, " charset=%s", cs);
		if (fmt != NULL)
			g_string_append_printf(k->dump, " format=%s", fmt);
		if (cd != NULL)
			g_string_append_printf(k->dump, " %s",
			                       g_mime_content_disposition_get_disposition(cd));
		if (name != NULL)
			g_string_append_printf(k->dump, " \"%s\"", name);
		if (GMIME_IS_PART(obj))
			g_string_append_printf(
			        k->dump, " %s",
			        g_mime_content_encoding_to_string(
			                g_mime_part_get_content_encoding(GMIME_PART(obj)))
			                ?: "7bit");
		g_string_append_printf(k->dump, " %u bytes", bytes->len);
		if (link != NULL && find(bytes, link) != NULL)
			g_string_append(k->dump, " +link");
		g_string_append_c(k->dump, '\n');
		g_byte_array_unref(bytes);
	}
}

/* ---- an attached message's file, found again in the original text ---- */

/* Bytes [s, e) of the original. */
struct span {
	size_t s, e;
};

static size_t line_after(const char *in, size_t at, size_t end)
{
	const char *lf = memchr(in + at, '\n', end - at);

	return lf != NULL ? (size_t)(lf - in) + 1 : end;
}

static bool all_blank(const char *in, size_t at, size_t end)
{
	for (; at < end; at++)
		if (in[at] != ' ' && in[at] != '\t' && in[at] != '\r' && in[at] != '\n')
			return false;
	return true;
}

/* Whether line [at, end) is "--" B, "--" B "--" (then *LAST), with only white space after. */
static bool delimiter(const char *in, size_t at, size_t end, const char *b, bool *last)
{
	size_t n = strlen(b), i = at + 2 + n;

	if (end - at < 2 + n || in[at] != '-' || in[at + 1] != '-' || memcmp(in + at + 2, b, n))
		return false;
	*last = end - i >= 2 && in[i] == '-' && in[i + 1] == '-';
	return all_blank(in, *last ? i + 2 : i, end);
}

/* The content of entity E: what follows the empty line after its headers. */
static struct span body_of(const char *in, struct span e)
{
	for (size_t at = e.s; at < e.e;) {
		size_t next = line_after(in, at, e.e);

		if (in[at] == '\n' || (in[at] == '\r' && next - at == 2))
			return (struct span){next, e.e};
		at = next;
	}
	return (struct span){e.e, e.e};
}

/*
 * Part K (1-based) of multipart content C with boundary B: the bytes between
 * two delimiter lines, the line break before a delimiter being the
 * delimiter's; nothing at all between two delimiters is no part (as gmime).
 */
static bool part_of(const char *in, struct span c, const char *b, int k, struct span *out)
{
	size_t start = 0;
	bool open = false, last = false;
	int n = 0;

	for (size_t at = c.s; at < c.e && !last;) {
		size_t next = line_after(in, at, c.e);

		if (delimiter(in, at, next, b, &last)) {
			if (open && at > start && ++n == k) {
				*out = (struct span){
				        start,
				        at - (at - start >= 2 && in[at - 2] == '\r' ? 2 : 1)};
				return true;
			}
			open = !last;
			start = next;
		}
		at = next;
	}
	if (open && ++n == k) { /* no closing delimiter: the last part runs to the end */
		*out = (struct span){start, c.e};
		return true;
	}
	return false;
}

/* The content of the part at PATH ("1.2.3") of IN, found by delimiter lines alone. */
static bool span_of(const char *in, size_t inlen, GHashTable *bypath, const char *path,
                    struct span *out)
{
	struct span e = {0, inlen};
	GString *at = g_string_new("1");
	const char *p = path + 1;
	bool ok = path[0] == '1';

	while (ok && *p == '.') {
		GMimeObject *mp = g_hash_table_lookup(bypath, at->str);
		const char *b = mp != NULL
		                        ? g_mime_object_get_content_type_parameter(mp, "boundary")
		                        : NULL;
		char *digits;
		long k = strtol(p + 1, &digits, 10);

		ok = b != NULL && part_of(in, body_of(in, e), b, (int)k, &e);
		g_string_append_len(at, p, digits - p);
		p = digits;
	}
	g_string_free(at, TRUE);
	*out = body_of(in, e);
	return ok && *p == '\0';
}

static bool is_attached_message(GMimeObject *obj)
{
	static const char *const types[] = {"message/rfc822", "message/rfc2822", "message/global",
	                                    "message/news"};
	char *t = mime_type(obj);
	bool yes = false;

	for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
		yes = yes || strcmp(t, types[i]) == 0;
	g_free(t);
	return yes;
}

/* The file of an attached message: its bytes in the original, transfer encoding undone, CRLF. */
static GByteArray *message_file_of(const char *in, size_t inlen, GHashTable *bypath,
                                   const char *path, GMimeObject *obj)
{
	GByteArray *copy = g_byte_array_new();
	const char *cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding");
	GMimeContentEncoding enc =
	        cte ? g_mime_content_encoding_from_string(cte) : GMIME_CONTENT_ENCODING_DEFAULT;
	GMimeStream *src, *filtered, *mem;
	GMimeFilter *f;
	GByteArray *bytes;
	struct span sp;

	if (!span_of(in, inlen, bypath, path, &sp))
		return copy;
	src = g_mime_stream_mem_new_with_buffer(in + sp.s, sp.e - sp.s);
	filtered = g_mime_stream_filter_new(src);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
		g_object_unref(f);
	}
	f = g_mime_filter_unix2dos_new(FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
	g_object_unref(f);
	mem = g_mime_stream_mem_new();
	g_mime_stream_write_to_stream(filtered, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_byte_array_append(copy, bytes->data, bytes->len);
	g_object_unref(mem);
	g_object_unref(filtered);
	g_object_unref(src);
	return copy;
}

/* ---- the checks ---- */

static void check_bytes(struct check *k, const char *in, size_t inlen, const uint8_t *out,
                        size_t outlen)
{
	bool in7 = true, incr = false;
	size_t line = 0, inline_max = 0;

	for (size_t i = 0; i < inlen; i++) {
		if ((unsigned char)in[i] >= 0x80 || in[i] == '\0')
			in7 = false;
		if (in[i] == '\r' && (i + 1 == inlen || in[i + 1] != '\n'))
			incr = true;
		line = in[i] == '\n' ? 0 : line + 1;
		if (line > inline_max)
			inline_max = line;
	}
	line = 0;
	for (size_t i = 0; i < outlen; i++) {
		if (in7 && (out[i] >= 0x80 || out[i] == '\0')) {
			problem(k, "output byte %zu is not 7-bit (0x%02x) but the input was", i,
			        out[i]);
			return;
		}
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r')) {
			problem(k, "output has a bare LF at byte %zu", i);
			return;
		}
		if (!incr && out[i] == '\r' && (i + 1 == outlen || out[i + 1] != '\n')) {
			problem(k, "output has a bare CR at byte %zu", i);
			return;
		}
		line = out[i] == '\n' ? 0 : line + 1;
		if (line > 998 && inline_max <= 998) {
			problem(k, "output line longer than 998 bytes at byte %zu", i);
			return;
		}
	}
}

static int count_object(void *ctx, const char *name, uint64_t size)
{
	++*(size_t *)ctx;
	return 0;
}

/* Open the link's package and compare every stored file with the original part. */
static void check_package(struct check *k, struct rwc *c, const struct bd_rewrite_result *r,
                          const char *token, GHashTable *orig_bypath, const char *in, size_t inlen)
{
	struct bd_token t;
	struct bd_error err;
	struct bd_buf_sink sink;
	struct bd_manifest *m = NULL;
	struct bd_package_keys *pkeys = NULL;
	char name[64], hex[BD_PACKAGE_ID_HEX];
	size_t fi = 0;

	if (bd_token_decode(token, c->keys, (int64_t)time(NULL), &t, &err) < 0) {
		problem(k, "the link's token does not verify: %s", err.msg);
		return;
	}
	bd_package_id_hex(t.package_id, hex);
	if (strcmp(hex, r->package_id) != 0)
		problem(k, "token package %s, result says %s", hex, r->package_id);
	bd_package_object_name(t.package_id, 0, name, sizeof(name));
	bd_buf_sink_init(&sink);
	if (bd_store_get(c->store, name, 0, BD_STORE_TO_END, &sink.sink, &err) < 0 ||
	    bd_manifest_open(sink.data, sink.len, t.secret, c->keys, &m, &pkeys, &err) < 0) {
		problem(k, "manifest: %s", err.msg);
		free(sink.data);
		return;
	}
	free(sink.data);
	if (m->nfiles != r->nfiles)
		problem(k, "manifest lists %zu files, result %u", m->nfiles, r->nfiles);
	for (size_t i = 0; i < r->nparts && fi < m->nfiles; i++) {
		const struct bd_rewrite_part *p = &r->parts[i];
		const struct bd_manifest_file *f = &m->files[fi];
		GMimeObject *orig = outer_part(orig_bypath, p->path);
		uint8_t key[BD_CONTENT_KEY_BYTES], *plain = NULL;
		size_t plainlen = 0;
		GByteArray *want;

		if (p->action != BD_REWRITE_SEND)
			continue;
		fi++;
		if (f->index != fi || strcmp(f->name, p->filename) != 0 ||
		    strcmp(f->content_type, p->content_type) != 0 || f->size != p->size)
			problem(k, "manifest file %zu (%u '%s' %s %llu) differs from part %s", fi,
			        f->index, f->name, f->content_type, (unsigned long long)f->size,
			        p->path);
		if (orig == NULL) {
			problem(k, "part %s not found in the original", p->path);
			continue;
		}
		bd_package_object_name(t.package_id, f->index, name, sizeof(name));
		bd_buf_sink_init(&sink);
		bd_package_file_key(pkeys, f->index, key);
		if (bd_store_get(c->store, name, 0, BD_STORE_TO_END, &sink.sink, &err) < 0 ||
		    bd_stream_decrypt_buffer(key, sink.data, sink.len, &plain, &plainlen, &err) <
		            0) {
			problem(k, "file %u (%s): %s", f->index, p->path, err.msg);
			free(sink.data);
			continue;
		}
		if (sink.len != bd_stream_ciphertext_size(plainlen))
			problem(k, "file %u: stored %zu bytes for %zu", f->index, sink.len,
			        plainlen);
		free(sink.data);
		if (strchr(p->path, '/') != NULL)
			want = inner_content(orig, p->path);
		else if (p->raw)
			want = raw_content_of(orig);
		else if (is_attached_message(orig))
			want = message_file_of(in, inlen, orig_bypath, p->path, orig);
		else
			want = content_of(orig);
		if (want->len != plainlen ||
		    (plainlen > 0 && memcmp(want->data, plain, plainlen) != 0))
			problem(k,
			        "file %u (part %s): %zu bytes decrypted, %u expected, or different",
			        f->index, p->path, plainlen, want->len);
		g_byte_array_unref(want);
		free(plain);
	}
	{
		/* nothing else under the package's prefix */
		size_t count = 0;
		char prefix[BD_PACKAGE_ID_HEX + 1];

		snprintf(prefix, sizeof(prefix), "%s/", hex);
		bd_store_list(c->store, prefix, count_object, &count, NULL);
		if (count != (size_t)r->nfiles + 1)
			problem(k, "%zu objects stored for %u files and a manifest", count,
			        r->nfiles);
	}
	sodium_memzero(&t, sizeof(t));
	bd_manifest_free(&m);
	bd_package_keys_free(&pkeys);
}

/* The link from the first body part that has one. */
static char *find_link(GArray *out_leaves)
{
	const char *prefix = RWC_PUBLIC_URL "/d/";

	for (guint i = 0; i < out_leaves->len; i++) {
		struct leaf *l = &g_array_index(out_leaves, struct leaf, i);
		GByteArray *b;
		const char *at;
		char *link = NULL;

		if (!is_body_like(l->obj))
			continue;
		b = content_of(l->obj);
		at = find(b, prefix);
		if (at != NULL) {
			size_t n = strlen(prefix);

			while ((const guint8 *)at + n < b->data + b->len &&
			       (g_ascii_isalnum(at[n]) || at[n] == '-' || at[n] == '_'))
				n++;
			link = g_strndup(at, n);
		}
		g_byte_array_unref(b);
		if (link != NULL)
			return link;
	}
	return NULL;
}

static void check_changed(struct check *k, struct rwc *c, const struct bd_rewrite_result *r,
                          GMimeMessage *orig, int orig_critical, GHashTable *orig_bypath,
                          const char *in, size_t inlen)
{
	GPtrArray *tops = top_names(orig);
	struct bd_buf_sink out;
	struct bd_error err;
	GMimeMessage *msg;
	GArray *ol = g_array_new(FALSE, FALSE, sizeof(struct leaf));
	GArray *il = g_array_new(FALSE, FALSE, sizeof(struct leaf));
	int critical;
	char *link;
	const char *xb;
	size_t kept = 0, bodies = 0, orig_bodies = 0, seen_text = 0, seen_html = 0;

	bd_buf_sink_init(&out);
	if (bd_rewrite_write_message((struct bd_rewrite_result *)r, &out.sink, &err) < 0) {
		problem(k, "writing: %s", err.msg);
		goto done;
	}
	check_bytes(k, in, inlen, out.data, out.len);
	if (getenv("BD_REWRITE_OUTPUT_DIR") != NULL) {
		/* for looking at the messages by eye: BD_REWRITE_OUTPUT_DIR=/tmp/x ctest ... */
		char *base = g_path_get_basename(k->path);
		char *file = g_build_filename(getenv("BD_REWRITE_OUTPUT_DIR"), base, NULL);

		g_file_set_contents(file, (const char *)out.data, (gssize)out.len, NULL);
		g_free(file);
		g_free(base);
	}
	msg = parse_bytes((const char *)out.data, out.len, &critical);
	/* a message with a bad header line is rewritten: what stays keeps it */
	if (msg == NULL || critical > orig_critical) {
		problem(k, "the output does not parse cleanly (%d critical warnings, %d before)",
		        critical, orig_critical);
		if (msg != NULL)
			g_object_unref(msg);
		goto done;
	}
	xb = g_mime_object_get_header(GMIME_OBJECT(msg), "X-Bestanden");
	if (xb == NULL || strcmp(xb, r->x_bestanden) != 0 || strstr(xb, "/d/") != NULL)
		problem(k, "X-Bestanden is '%s', expected '%s'", xb ? xb : "(none)",
		        r->x_bestanden);
	/* the milter applies r->headers to the original: that must give the output */
	add_top_names(msg, tops);
	for (guint i = 0; i < tops->len; i++) {
		const char *name = tops->pdata[i];
		char *before = top_value(orig, name), *after = top_value(msg, name);
		const struct bd_rewrite_header *listed = NULL;

		for (size_t h = 0; h < r->nheaders; h++)
			if (g_ascii_strcasecmp(r->headers[h].name, name) == 0)
				listed = &r->headers[h];
		if (g_strcmp0(before, after) != 0 &&
		    (listed == NULL || g_strcmp0(listed->value, after) != 0))
			problem(k, "%s changed to '%s' but the result says '%s'", name,
			        after ? after : "(deleted)",
			        listed ? (listed->value ? listed->value : "(delete)")
			               : "(unchanged)");
		if (g_strcmp0(before, after) == 0 && listed != NULL)
			problem(k, "%s listed as changed but it did not change", name);
		g_free(before);
		g_free(after);
	}
	g_ptr_array_free(tops, TRUE);

	leaves(g_mime_message_get_mime_part(msg), "1", ol, NULL);
	link = find_link(ol);
	if (link == NULL) {
		problem(k, "no link in any body part");
	} else {
		check_package(k, c, r, link + strlen(RWC_PUBLIC_URL "/d/"), orig_bypath, in, inlen);
	}
	/* what stayed: the engine's KEEP leaves, in order, identical */
	for (size_t i = 0; i < r->nparts; i++) {
		GMimeObject *o = g_hash_table_lookup(orig_bypath, r->parts[i].path);

		if (r->parts[i].action == BD_REWRITE_BODY)
			orig_bodies++;
		if (r->parts[i].action == BD_REWRITE_KEEP && o != NULL) {
			struct leaf l = {o, ""};

			snprintf(l.path, sizeof(l.path), "%s", r->parts[i].path);
			g_array_append_val(il, l);
		}
	}
	for (guint i = 0; i < ol->len; i++) {
		struct leaf *l = &g_array_index(ol, struct leaf, i);

		if (is_body_like(l->obj)) {
			GByteArray *b = content_of(l->obj);
			char *want = link ? g_strdup_printf("<%s>", link) : NULL;
			char *href = link ? g_strdup_printf("href=\"%s\"", link) : NULL;
			bool html = g_mime_content_type_is_type(
			        g_mime_object_get_content_type(l->obj), "text", "html");
			GMimeContentEncoding enc =
			        g_mime_part_get_content_encoding(GMIME_PART(l->obj));

			bodies++;
			/* the notice is in the first plain and the first HTML body part only */
			if (html ? seen_html++ : seen_text++) {
				if (link != NULL && find(b, html ? href : want) != NULL)
					problem(k, "body part %s repeats the notice", l->path);
				g_free(want);
				g_free(href);
				g_byte_array_unref(b);
				continue;
			}
			if (link != NULL && find(b, html ? href : want) == NULL)
				problem(k, "body part %s lacks the link", l->path);
			if (enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
			    enc != GMIME_CONTENT_ENCODING_BASE64)
				problem(k, "body part %s is not quoted-printable or base64",
				        l->path);
			if (!html && link != NULL) {
				const char *at = find(b, want);

				if (at != NULL &&
				    (at == (const char *)b->data || at[-1] != '\n' ||
				     (at[strlen(want)] != '\r' && at[strlen(want)] != '\n')))
					problem(k,
					        "body part %s: the link is not alone on its line",
					        l->path);
			}
			g_free(want);
			g_free(href);
			g_byte_array_unref(b);
			continue;
		}
		if (kept >= il->len) {
			char *t = mime_type(l->obj);

			problem(k, "output part %s (%s) is not one the engine kept", l->path, t);
			g_free(t);
			continue;
		}
		{
			struct leaf *o = &g_array_index(il, struct leaf, kept++);
			GByteArray *a = content_of(o->obj), *b = content_of(l->obj);
			char *ta = mime_type(o->obj), *tb = mime_type(l->obj);

			if (strcmp(ta, tb) != 0 ||
			    g_strcmp0(raw_filename(o->obj), raw_filename(l->obj)) != 0 ||
			    a->len != b->len ||
			    (a->len > 0 && memcmp(a->data, b->data, a->len) != 0) ||
			    (GMIME_IS_PART(o->obj) &&
			     g_mime_part_get_content_encoding(GMIME_PART(o->obj)) !=
			             g_mime_part_get_content_encoding(GMIME_PART(l->obj))))
				problem(k, "kept part %s (now %s) is not identical", o->path,
				        l->path);
			g_byte_array_unref(a);
			g_byte_array_unref(b);
			g_free(ta);
			g_free(tb);
		}
	}
	if (kept != il->len)
		problem(k, "%zu of %u kept parts are in the output", kept, il->len);
	if (bodies != (orig_bodies > 0 ? orig_bodies : 1))
		problem(k, "%zu body parts in the output, %zu before", bodies, orig_bodies);
	if (k->dump != NULL) {
		g_string_append(k->dump, "headers changed:");
		for (size_t h = 0; h < r->nheaders; h++)
			g_string_append_printf(k->dump, " %s", r->headers[h].name);
		g_string_append(k->dump, "\noutput:\n");
		dump_output(k, g_mime_message_get_mime_part(msg), "1", link);
	}
	g_free(link);
	g_object_unref(msg);
done:
	g_array_free(ol, TRUE);
	g_array_free(il, TRUE);
	free(out.data);
}

/* A message the policy must leave alone whatever else it holds. */
static const char *must_stay(GMimeMessage *m)
{
	GArray *ls = g_array_new(FALSE, FALSE, sizeof(struct leaf));
	GHashTable *all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer key, value;
	const char *why = NULL;

	leaves(g_mime_message_get_mime_part(m), "1", ls, all);
	g_hash_table_iter_init(&it, all);
	while (g_hash_table_iter_next(&it, &key, &value) && why == NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(value);

		if (ct == NULL)
			continue;
		if (g_mime_content_type_is_type(ct, "multipart", "signed"))
			why = "signed";
		else if (g_mime_content_type_is_type(ct, "multipart", "encrypted"))
			why = "encrypted";
		else if (g_mime_content_type_is_type(ct, "multipart", "report"))
			why = "report";
		else if (g_mime_content_type_is_type(ct, "application", "pkcs7-mime") &&
		         g_strcmp0(g_mime_object_get_content_type_parameter(value, "smime-type"),
		                   "certs-only") != 0)
			why = "S/MIME";
	}
	g_hash_table_destroy(all);
	g_array_free(ls, TRUE);
	return why;
}

static int spool_of(const char *data, size_t len)
{
	int fd = memfd_create("rwc", MFD_CLOEXEC);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	return fd;
}

int rwc_run(struct rwc *c, const char *path, const char *extra,
            const struct bd_rewrite_envelope *env, GString *dump, struct rwc_stats *stats)
{
	static const struct bd_rewrite_envelope outgoing = {.outgoing = true};
	struct check k = {path, 0, dump};
	struct bd_conf *conf = rwc_conf(c, extra);
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL, *x = NULL;
	struct bd_error err;
	size_t len;
	char *data = rwc_read_crlf(path, &len);
	int fd = spool_of(data, len), critical, rc;
	GMimeMessage *orig = parse_bytes(data, len, &critical);
	GHashTable *bypath = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GArray *ls = g_array_new(FALSE, FALSE, sizeof(struct leaf));

	if (env == NULL)
		env = &outgoing;
	rw = bd_rewrite_new(conf, c->keys, c->store, &err);
	if (rw == NULL) {
		problem(&k, "bd_rewrite_new: %s", err.msg);
		goto out;
	}
	if (orig != NULL && g_mime_message_get_mime_part(orig) != NULL)
		leaves(g_mime_message_get_mime_part(orig), "1", ls, bypath);
	stats->messages++;
	rc = bd_rewrite_explain(rw, fd, env, &x, &err);
	if (rc == 0)
		rc = bd_rewrite_message(rw, fd, env, &r, &err);
	if (rc < 0) {
		stats->errors++;
		if (dump != NULL)
			g_string_append_printf(dump, "result: error %s: %s\n",
			                       bd_status_name(err.code), err.msg);
		else
			problem(&k, "rewrite failed: %s", err.msg);
		goto out;
	}
	/* --explain must say exactly what the rewrite did */
	if (x->nparts != r->nparts || x->nfiles != r->nfiles)
		problem(&k, "explain and rewrite disagree");
	for (size_t i = 0; i < x->nparts && i < r->nparts; i++)
		if (x->parts[i].action != r->parts[i].action ||
		    strcmp(x->parts[i].path, r->parts[i].path) != 0 ||
		    x->parts[i].size != r->parts[i].size)
			problem(&k, "explain and rewrite disagree on part %s", r->parts[i].path);
	dump_decisions(&k, r);
	if (!r->changed) {
		stats->unchanged++;
		if (r->malformed)
			stats->malformed++;
		if (dump != NULL)
			g_string_append_printf(dump, "result: %s\n", r->reason);
		if (r->package_id[0] != '\0' || r->nheaders > 0 || r->x_bestanden[0] != '\0')
			problem(&k,
			        "unchanged, yet a package, headers or X-Bestanden were reported");
		goto out;
	}
	stats->changed++;
	stats->files += r->nfiles;
	stats->bytes += r->bytes;
	if (orig != NULL && must_stay(orig) != NULL)
		problem(&k, "a %s message was changed", must_stay(orig));
	if (dump != NULL)
		g_string_append_printf(dump, "result: changed, %u file%s\n", r->nfiles,
		                       r->nfiles == 1 ? "" : "s");
	check_changed(&k, c, r, orig, critical, bypath, data, len);
out:
	bd_rewrite_result_free(&r);
	bd_rewrite_result_free(&x);
	bd_rewrite_free(&rw);
	bd_conf_free(&conf);
	if (orig != NULL)
		g_object_unref(orig);
	g_hash_table_destroy(bypath);
	g_array_free(ls, TRUE);
	close(fd);
	g_free(data);
	return k.problems;
}

void rwc_collect_corpus(const char *dir, GPtrArray *out)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			rwc_collect_corpus(path, out);
		else if (name[0] != '.' && strcmp(name, "MANIFEST.tsv") != 0 &&
		         strcmp(name, "README.md") != 0)
			g_ptr_array_add(out, g_strdup(path));
		g_free(path);
	}
	g_dir_close(d);
}
