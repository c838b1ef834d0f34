/*
 * bodyedit.c - decode, convert, put in, set line ends: a body part's new content
 * produced chunk by chunk.
 *
 * Every step works on a stream with a bounded state: strict iconv keeps the
 * few bytes of a character cut by a chunk, the HTML scanner looks at most 8
 * bytes ahead, the line-end steps remember one byte. The result is the same
 * bytes the whole text in memory would give (tests/unit/test_notice.c).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "bodyedit.h"
#include "mem.h"

#include <errno.h>
#include <iconv.h>
#include <sodium.h>
#include <string.h>

#define CHUNK     16384
#define LOOKAHEAD 8  /* "<script" and the byte after it; "</script" */
#define CARRY     16 /* longer than any character in any charset */

/* ---- the decoded content ---- */

/* A fresh stream of WRAPPER's content with its transfer encoding undone; NULL: none. */
static GMimeStream *open_decoded(GMimeDataWrapper *wrapper)
{
	GMimeStream *raw = wrapper != NULL ? g_mime_data_wrapper_get_stream(wrapper) : NULL;
	GMimeContentEncoding enc;
	GMimeStream *sub, *filtered;

	if (raw == NULL)
		return NULL;
	enc = g_mime_data_wrapper_get_encoding(wrapper);
	sub = g_mime_stream_substream(raw, raw->bound_start, raw->bound_end);
	filtered = g_mime_stream_filter_new(sub);
	g_object_unref(sub);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *dec = g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), dec);
		g_object_unref(dec);
	}
	return filtered;
}

/* ---- strict conversion to UTF-8 ---- */

struct converter {
	iconv_t cd;
	char carry[CARRY]; /* a character the last chunk cut */
	size_t ncarry;
	char in[CHUNK + CARRY];
};

static bool converter_open(struct converter *c, const char *from)
{
	c->ncarry = 0;
	c->cd = iconv_open(g_mime_charset_iconv_name("utf-8"), g_mime_charset_iconv_name(from));
	return c->cd != (iconv_t)-1;
}

static void converter_close(struct converter *c)
{
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	c->cd = (iconv_t)-1;
}

/*
 * Append what one iconv call wrote, refusing it when it is not UTF-8 anyone can
 * read (glibc writes UCS-4 values past U+10FFFF too) or holds a NUL, as
 * g_utf8_validate does. iconv writes whole characters or none (E2BIG), so
 * each call's output can be checked on its own.
 */
static bool take_output(GByteArray *out, const char *buf, size_t len)
{
	if (!g_utf8_validate(buf, (gssize)len, NULL))
		return false;
	g_byte_array_append(out, (const guint8 *)buf, (guint)len);
	return true;
}

/* Convert LEN bytes of IN (NULL: the end of the text) onto OUT; false when invalid. */
static bool convert_chunk(struct converter *c, const char *in, size_t len, GByteArray *out)
{
	char *inp = c->in;
	size_t inleft = c->ncarry + len;

	if (in == NULL) {
		char buf[64], *outp = buf;
		size_t outleft = sizeof(buf);

		if (c->ncarry > 0) /* the text ends inside a character */
			return false;
		if (iconv(c->cd, NULL, NULL, &outp, &outleft) == (size_t)-1)
			return false;
		return take_output(out, buf, sizeof(buf) - outleft);
	}
	memcpy(c->in, c->carry, c->ncarry);
	memcpy(c->in + c->ncarry, in, len);
	c->ncarry = 0;
	while (inleft > 0) {
		char buf[4096], *outp = buf;
		size_t outleft = sizeof(buf);
		size_t r = iconv(c->cd, &inp, &inleft, &outp, &outleft);

		if (!take_output(out, buf, sizeof(buf) - outleft))
			return false;
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (errno != EINVAL || inleft > sizeof(c->carry))
			return false;
		memcpy(c->carry, inp, inleft); /* completed by the next chunk */
		c->ncarry = inleft;
		break;
	}
	return true;
}

/* ---- where an HTML snippet goes ---- */

enum scan_mode { IN_MARKUP, IN_COMMENT, IN_RAW_TEXT };

/*
 * Before the last </body> (or, without one, the last </html>) a browser would
 * see, not one inside a comment, <script> or <style>; before a comment or
 * such an element that never ends; else -1 (appended). Fed in chunks: a
 * position is decided once LOOKAHEAD bytes after it are known (or the end).
 */
struct html_scan {
	unsigned char buf[CHUNK + LOOKAHEAD];
	size_t len, i;
	int64_t base; /* offset of buf[0] in the text */
	enum scan_mode mode;
	const char *element; /* IN_RAW_TEXT: "script" or "style" */
	int64_t start;       /* where the comment or element began */
	int64_t body, html, result;
	bool done;
};

static bool bytes_at(const struct html_scan *s, size_t i, const char *what, bool nocase)
{
	size_t n = strlen(what);

	if (i + n > s->len)
		return false;
	return nocase ? g_ascii_strncasecmp((const char *)s->buf + i, what, n) == 0
	              : memcmp(s->buf + i, what, n) == 0;
}

/* TAG at I, not followed by a letter or digit (at the end, EOF says it is the end). */
static bool tag_at(const struct html_scan *s, size_t i, const char *tag, bool eof)
{
	size_t n = strlen(tag);

	return bytes_at(s, i, tag, true) &&
	       ((i + n == s->len && eof) || (i + n < s->len && !g_ascii_isalnum(s->buf[i + n])));
}

static void scan_finish(struct html_scan *s, bool unclosed)
{
	s->result = s->body >= 0 ? s->body : s->html >= 0 ? s->html : unclosed ? s->start : -1;
	s->done = true;
}

static void scan_step(struct html_scan *s, bool eof)
{
	size_t i = s->i;
	int64_t here = s->base + (int64_t)i;

	switch (s->mode) {
	case IN_MARKUP:
		if (s->buf[i] != '<') {
			i++;
		} else if (bytes_at(s, i, "<!--", false)) {
			s->mode = IN_COMMENT;
			s->start = here;
			i += 2; /* "<!-->" and "<!--->" are complete (empty) comments */
		} else if (tag_at(s, i, "<script", eof) || tag_at(s, i, "<style", eof)) {
			s->mode = IN_RAW_TEXT;
			s->element = tag_at(s, i, "<script", eof) ? "script" : "style";
			s->start = here;
			i++;
		} else {
			if (tag_at(s, i, "</body", eof))
				s->body = here;
			else if (tag_at(s, i, "</html", eof))
				s->html = here;
			i++;
		}
		break;
	case IN_COMMENT:
		if (s->buf[i] == '\0') { /* the search for "-->" stops at a NUL */
			scan_finish(s, true);
			return;
		}
		if (bytes_at(s, i, "-->", false)) {
			s->mode = IN_MARKUP;
			i += 3;
		} else {
			i++;
		}
		break;
	case IN_RAW_TEXT:
		if (s->buf[i] == '<' && i + 1 < s->len && s->buf[i + 1] == '/' &&
		    bytes_at(s, i + 2, s->element, true))
			s->mode = IN_MARKUP; /* the scan goes on after its '<' */
		i++;
		break;
	}
	s->i = i;
}

static void scan_run(struct html_scan *s, bool eof)
{
	while (!s->done && s->i < s->len && (eof || s->i + LOOKAHEAD <= s->len))
		scan_step(s, eof);
	if (eof && !s->done)
		scan_finish(s, s->mode != IN_MARKUP);
	memmove(s->buf, s->buf + s->i, s->len - s->i);
	s->base += (int64_t)s->i;
	s->len -= s->i;
	s->i = 0;
}

static void scan_feed(struct html_scan *s, const unsigned char *p, size_t len)
{
	while (len > 0 && !s->done) {
		size_t n = MIN(len, sizeof(s->buf) - s->len);

		memcpy(s->buf + s->len, p, n);
		s->len += n;
		p += n;
		len -= n;
		scan_run(s, false);
	}
}

int bd_bodyedit_scan(GMimePart *part, const char *from, int64_t *html_at)
{
	GMimeStream *in = open_decoded(g_mime_part_get_content(part));
	struct converter *conv = NULL;
	struct html_scan *scan = NULL;
	GByteArray *converted = g_byte_array_new();
	char buf[CHUNK];
	ssize_t n = 0;
	bool ok = true;

	if (from != NULL) {
		conv = bd_malloc(sizeof(*conv));
		ok = converter_open(conv, from);
	}
	if (html_at != NULL) {
		scan = bd_calloc(1, sizeof(*scan));
		scan->body = scan->html = -1;
	}
	while (ok && in != NULL && !g_mime_stream_eos(in)) {
		const unsigned char *text = (const unsigned char *)buf;
		size_t len;

		if ((n = g_mime_stream_read(in, buf, sizeof(buf))) < 0)
			break;
		len = (size_t)n;

		if (conv != NULL) {
			g_byte_array_set_size(converted, 0);
			ok = convert_chunk(conv, buf, len, converted);
			text = converted->data, len = converted->len;
		}
		if (ok && scan != NULL)
			scan_feed(scan, text, len);
		if (scan != NULL && scan->done && conv == NULL)
			break; /* nothing more to learn */
	}
	if (n < 0)
		ok = false;
	if (ok && conv != NULL) {
		g_byte_array_set_size(converted, 0);
		ok = convert_chunk(conv, NULL, 0, converted);
		if (ok && scan != NULL)
			scan_feed(scan, converted->data, converted->len);
	}
	if (ok && scan != NULL) {
		scan_run(scan, true);
		*html_at = scan->result;
	}
	if (conv != NULL)
		converter_close(conv);
	free(conv);
	free(scan);
	g_byte_array_free(converted, TRUE);
	if (in != NULL)
		g_object_unref(in);
	return ok ? 0 : -1;
}

/* ---- the edited content as a stream ---- */

enum edit_phase { IN_BODY, AT_END };

typedef struct {
	GMimeStream parent_object;
	GMimeDataWrapper *original;
	struct bd_bodyedit e; /* from and add are owned copies */
	/* the current pass */
	GMimeStream *in;
	struct converter *conv;
	enum edit_phase phase;
	int64_t body_off; /* converted body bytes so far */
	bool added, failed;
	bool body_cr; /* body_lf: a CR held back */
	bool body_nonempty;
	unsigned char body_last;
	bool whole_cr;            /* BD_BODYEDIT_LF: a CR held back */
	unsigned char whole_last; /* BD_BODYEDIT_CRLF: the byte before */
	GByteArray *converted, *out;
	size_t out_pos;
} BdEditStream;

typedef struct {
	GMimeStreamClass parent_class;
} BdEditStreamClass;

GType bd_edit_stream_get_type(void);
G_DEFINE_TYPE(BdEditStream, bd_edit_stream, GMIME_TYPE_STREAM)

/* The last step, over everything. */
static void emit_whole(BdEditStream *es, const unsigned char *p, size_t len)
{
	GByteArray *out = es->out;

	for (size_t k = 0; k < len; k++) {
		unsigned char c = p[k];

		switch (es->e.whole) {
		case BD_BODYEDIT_KEEP: g_byte_array_append(out, &c, 1); break;
		case BD_BODYEDIT_LF:
			if (es->whole_cr && c != '\n')
				g_byte_array_append(out, (const guint8 *)"\r", 1);
			es->whole_cr = c == '\r';
			if (c != '\r')
				g_byte_array_append(out, &c, 1);
			break;
		case BD_BODYEDIT_CRLF:
			if (c == '\n' && es->whole_last != '\r')
				g_byte_array_append(out, (const guint8 *)"\r", 1);
			g_byte_array_append(out, &c, 1);
			es->whole_last = c;
			break;
		}
	}
}

static void emit_body_byte(BdEditStream *es, unsigned char c)
{
	es->body_nonempty = true;
	es->body_last = c;
	emit_whole(es, &c, 1);
}

/* Body text: CRLF becomes LF first when asked. */
static void emit_body(BdEditStream *es, const unsigned char *p, size_t len)
{
	if (!es->e.body_lf) {
		if (len > 0) {
			es->body_nonempty = true;
			es->body_last = p[len - 1];
			emit_whole(es, p, len);
		}
		return;
	}
	for (size_t k = 0; k < len; k++) {
		if (es->body_cr && p[k] != '\n')
			emit_body_byte(es, '\r');
		es->body_cr = p[k] == '\r';
		if (p[k] != '\r')
			emit_body_byte(es, p[k]);
	}
}

static void emit_add(BdEditStream *es)
{
	if (es->body_cr) { /* a CR that ends the body is kept */
		emit_body_byte(es, '\r');
		es->body_cr = false;
	}
	emit_whole(es, (const unsigned char *)es->e.add, es->e.add_len);
	es->added = true;
}

/* Body bytes converted: the addition goes in where AT falls. */
static void take_body(BdEditStream *es, const unsigned char *p, size_t len)
{
	if (!es->added && es->e.at >= es->body_off && es->e.at < es->body_off + (int64_t)len) {
		size_t before = (size_t)(es->e.at - es->body_off);

		emit_body(es, p, before);
		emit_add(es);
		emit_body(es, p + before, len - before);
	} else {
		emit_body(es, p, len);
	}
	es->body_off += (int64_t)len;
}

static void finish(BdEditStream *es)
{
	if (es->body_cr) {
		emit_body_byte(es, '\r');
		es->body_cr = false;
	}
	if (!es->added) {
		if (es->body_nonempty && es->body_last != '\n')
			emit_whole(es, (const unsigned char *)"\n", 1);
		if (es->body_nonempty && es->e.blank_line)
			emit_whole(es, (const unsigned char *)"\n", 1);
		emit_add(es);
	}
	if (es->whole_cr) /* a CR that ends everything is kept */
		g_byte_array_append(es->out, (const guint8 *)"\r", 1);
	es->whole_cr = false;
	es->phase = AT_END;
}

/* Produce the next piece of output; false on failure. */
static bool produce(BdEditStream *es)
{
	char buf[CHUNK];
	ssize_t n = es->in != NULL ? g_mime_stream_read(es->in, buf, sizeof(buf)) : 0;

	if (n < 0)
		return false;
	if (n == 0 && (es->in == NULL || g_mime_stream_eos(es->in))) {
		if (es->conv != NULL) {
			g_byte_array_set_size(es->converted, 0);
			if (!convert_chunk(es->conv, NULL, 0, es->converted))
				return false;
			take_body(es, es->converted->data, es->converted->len);
		}
		finish(es);
		return true;
	}
	if (es->conv == NULL) {
		take_body(es, (const unsigned char *)buf, (size_t)n);
		return true;
	}
	g_byte_array_set_size(es->converted, 0);
	if (!convert_chunk(es->conv, buf, (size_t)n, es->converted))
		return false;
	take_body(es, es->converted->data, es->converted->len);
	return true;
}

static void pass_end(BdEditStream *es)
{
	if (es->in != NULL)
		g_object_unref(es->in);
	es->in = NULL;
	if (es->conv != NULL)
		converter_close(es->conv);
	free(es->conv);
	es->conv = NULL;
}

static void pass_start(BdEditStream *es)
{
	pass_end(es);
	es->in = open_decoded(es->original);
	if (es->e.from != NULL) {
		es->conv = bd_malloc(sizeof(*es->conv));
		if (!converter_open(es->conv, es->e.from)) {
			free(es->conv);
			es->conv = NULL;
			es->failed = true;
		}
	}
	es->phase = IN_BODY;
	es->body_off = 0;
	es->added = es->body_cr = es->body_nonempty = es->whole_cr = false;
	es->body_last = es->whole_last = 0;
	g_byte_array_set_size(es->out, 0);
	es->out_pos = 0;
}

static ssize_t es_read(GMimeStream *stream, char *buf, size_t len)
{
	BdEditStream *es = (BdEditStream *)stream;
	size_t n;

	while (!es->failed && es->out_pos == es->out->len && es->phase == IN_BODY) {
		g_byte_array_set_size(es->out, 0);
		es->out_pos = 0;
		if (!produce(es))
			es->failed = true;
	}
	if (es->failed) {
		errno = EIO;
		return -1;
	}
	n = MIN(len, es->out->len - es->out_pos);
	memcpy(buf, es->out->data + es->out_pos, n);
	es->out_pos += n;
	stream->position += (gint64)n;
	return (ssize_t)n;
}

static int es_close(GMimeStream *stream)
{
	pass_end((BdEditStream *)stream);
	return 0;
}

static gboolean es_eos(GMimeStream *stream)
{
	BdEditStream *es = (BdEditStream *)stream;

	return es->failed || (es->phase == AT_END && es->out_pos == es->out->len);
}

static int es_reset(GMimeStream *stream)
{
	BdEditStream *es = (BdEditStream *)stream;

	es->failed = false;
	pass_start(es);
	return es->failed ? -1 : 0;
}

static gint64 es_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	if (whence == GMIME_STREAM_SEEK_SET && offset == 0 && es_reset(stream) == 0) {
		stream->position = 0;
		return 0;
	}
	errno = ESPIPE;
	return -1;
}

static gint64 es_length(GMimeStream *stream)
{
	errno = ESPIPE;
	return -1;
}

static void es_finalize(GObject *object)
{
	BdEditStream *es = (BdEditStream *)object;

	pass_end(es);
	if (es->original != NULL)
		g_object_unref(es->original);
	g_free((char *)es->e.from);
	if (es->e.add != NULL) /* the notice holds the link */
		sodium_memzero((char *)es->e.add, es->e.add_len);
	g_free((char *)es->e.add);
	g_byte_array_free(es->converted, TRUE);
	g_byte_array_free(es->out, TRUE);
	G_OBJECT_CLASS(bd_edit_stream_parent_class)->finalize(object);
}

static void bd_edit_stream_class_init(BdEditStreamClass *klass)
{
	GMimeStreamClass *c = GMIME_STREAM_CLASS(klass);

	/* read-only, no substreams: the base class's write, flush, tell and substream do */
	G_OBJECT_CLASS(klass)->finalize = es_finalize;
	c->read = es_read;
	c->close = es_close;
	c->eos = es_eos;
	c->reset = es_reset;
	c->seek = es_seek;
	c->length = es_length;
}

static void bd_edit_stream_init(BdEditStream *es)
{
	es->converted = g_byte_array_new();
	es->out = g_byte_array_new();
}

void bd_bodyedit_apply(GMimePart *part, const struct bd_bodyedit *e, GMimeContentEncoding encoding)
{
	BdEditStream *es = g_object_new(bd_edit_stream_get_type(), NULL);
	GMimeDataWrapper *original = g_mime_part_get_content(part);
	GMimeDataWrapper *wrapper;

	g_mime_stream_construct((GMimeStream *)es, 0, -1);
	es->original = original != NULL ? g_object_ref(original) : NULL;
	es->e = *e;
	es->e.from = e->from != NULL ? g_strdup(e->from) : NULL;
	es->e.add = g_memdup2(e->add, e->add_len);
	pass_start(es);
	wrapper = g_mime_data_wrapper_new_with_stream((GMimeStream *)es,
	                                              GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, wrapper);
	g_mime_part_set_content_encoding(part, encoding);
	g_object_unref(wrapper);
	g_object_unref(es);
}
