/*
 * exact.c - an attached message's range in the spool, found by reading its lines.
 *
 * The start is anchored on what the parser recorded: the offset of the
 * part's first header (or, for a part without headers such as a digest's,
 * of the first header of the message inside). From there the lines are read
 * through a private substream (so no other reader's position moves): the
 * header block ends at the first empty line, the content at the first line
 * that is a boundary of an enclosing multipart, "--" boundary ["--"] and
 * nothing but white space after it, as gmime's parser reads a boundary line.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "exact.h"
#include "mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LINE_HEAD 1024 /* bytes of a line kept: a boundary line is "--" + at most 1018 */

struct lines {
	GMimeStream *s; /* a substream of the spool from the first line on */
	gint64 off;     /* spool offset of buf[0] */
	size_t len, pos;
	char buf[65536];
};

struct line {
	gint64 start, end; /* end: past its LF, or the end of the spool */
	size_t n;          /* bytes in head */
	bool rest_blank;   /* every byte past head is white space */
	char last[2];      /* its last two bytes, NUL where it has fewer */
	char head[LINE_HEAD];
};

static bool is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void lines_open(struct lines *r, GMimeStream *spool, gint64 from)
{
	r->s = g_mime_stream_substream(spool, from, -1);
	r->off = from;
	r->len = r->pos = 0;
}

/* The next line of R into L; false at the end of the spool or on a read error. */
static bool next_line(struct lines *r, struct line *l)
{
	bool any = false;

	l->start = r->off + (gint64)r->pos;
	l->n = 0;
	l->rest_blank = true;
	l->last[0] = l->last[1] = '\0';
	for (;;) {
		const char *p, *lf;
		size_t avail, take, keep;

		if (r->pos == r->len) {
			ssize_t got;

			r->off += (gint64)r->len;
			r->pos = r->len = 0;
			got = g_mime_stream_read(r->s, r->buf, sizeof(r->buf));
			if (got <= 0)
				break;
			r->len = (size_t)got;
		}
		any = true;
		p = r->buf + r->pos;
		avail = r->len - r->pos;
		lf = memchr(p, '\n', avail);
		take = lf != NULL ? (size_t)(lf - p) + 1 : avail;
		keep = MIN(take, LINE_HEAD - l->n);
		memcpy(l->head + l->n, p, keep);
		l->n += keep;
		for (size_t i = keep; i < take && l->rest_blank; i++)
			l->rest_blank = is_lwsp(p[i]);
		l->last[0] = take >= 2 ? p[take - 2] : l->last[1];
		l->last[1] = p[take - 1];
		r->pos += take;
		if (lf != NULL)
			break;
	}
	l->end = r->off + (gint64)r->pos;
	return any;
}

static bool is_empty_line(const struct line *l)
{
	return (l->n == 1 && l->head[0] == '\n') ||
	       (l->n == 2 && l->head[0] == '\r' && l->head[1] == '\n');
}

/* Whether L is "--" B, optionally "--", then only white space. */
static bool is_boundary_of(const struct line *l, const char *b)
{
	size_t blen = strlen(b), at = 2 + blen;

	if (l->n < at || l->head[0] != '-' || l->head[1] != '-' || memcmp(l->head + 2, b, blen))
		return false;
	if (l->n >= at + 2 && l->head[at] == '-' && l->head[at + 1] == '-')
		at += 2;
	for (size_t i = at; i < l->n; i++)
		if (!is_lwsp(l->head[i]))
			return false;
	return l->rest_blank;
}

static bool is_boundary(const struct line *l, const char *const *boundaries)
{
	for (; *boundaries != NULL; boundaries++)
		if (is_boundary_of(l, *boundaries))
			return true;
	return false;
}

/* The first header offset of the headers of OBJ, or -1. */
static gint64 first_header(GMimeObject *obj)
{
	GMimeHeaderList *list = obj != NULL ? g_mime_object_get_header_list(obj) : NULL;
	int n = list != NULL ? g_mime_header_list_get_count(list) : 0;
	gint64 first = -1;

	for (int i = 0; i < n; i++) {
		gint64 at = g_mime_header_get_offset(g_mime_header_list_get_header_at(list, i));

		if (at >= 0 && (first < 0 || at < first))
			first = at;
	}
	return first;
}

static bool read_at(GMimeStream *spool, gint64 at, char *buf, size_t n)
{
	GMimeStream *sub = g_mime_stream_substream(spool, at, at + (gint64)n);
	bool ok = g_mime_stream_read(sub, buf, n) == (ssize_t)n;

	g_object_unref(sub);
	return ok;
}

/*
 * Where the content of OBJ begins, or -1. A part with headers: after the
 * empty line that ends them. A part without (a digest's): the empty line
 * followed the boundary line directly, so the content begins where the inner
 * message's headers do, if the line before them is that empty line.
 */
static gint64 content_start(GMimeStream *spool, GMimeObject *obj, const char *const *boundaries,
                            struct lines *r, struct line *l)
{
	gint64 at = first_header(obj);

	if (at >= 0) {
		lines_open(r, spool, at);
		while (next_line(r, l)) {
			if (is_empty_line(l))
				return l->end;
			if (is_boundary(l, boundaries))
				return -1; /* no content: gmime has no message for it either */
		}
		return -1;
	}
	{
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		GMimeObject *body = m != NULL ? g_mime_message_get_mime_part(m) : NULL;
		gint64 a = first_header(m != NULL ? GMIME_OBJECT(m) : NULL);
		gint64 b = first_header(body);
		char before[3];

		at = a < 0 || (b >= 0 && b < a) ? b : a;
		if (at < 3 || !read_at(spool, at - 3, before, sizeof(before)))
			return -1;
		if (memcmp(before, "\n\r\n", 3) == 0 || memcmp(before + 1, "\n\n", 2) == 0)
			return at;
		return -1;
	}
}

/* Where the content that begins at START ends: before the first enclosing boundary line. */
static gint64 content_end(GMimeStream *spool, gint64 start, const char *const *boundaries,
                          struct lines *r, struct line *l)
{
	gint64 end = -1, prev_start = -1;
	bool prev_crlf = false;

	lines_open(r, spool, start);
	while (end < 0 && next_line(r, l)) {
		if (is_boundary(l, boundaries)) {
			end = l->start;
			if (prev_start >=
			    0) /* the line break before a boundary is the boundary's */
				end -= prev_crlf ? 2 : 1;
		}
		prev_start = l->start;
		prev_crlf = l->last[0] == '\r' && l->last[1] == '\n';
	}
	if (end < 0)
		end = r->off + (gint64)r->pos; /* the end of the spool */
	return end;
}

GMimeStream *bd_exact_message_bytes(GMimeStream *spool, GMimeObject *obj,
                                    const char *const *boundaries)
{
	struct lines *r;
	struct line *l;
	gint64 start, end = -1;

	if (!GMIME_IS_MESSAGE_PART(obj))
		return NULL;
	for (const char *const *b = boundaries; *b != NULL; b++)
		if (strlen(*b) + 6 > LINE_HEAD)
			return NULL;
	r = bd_calloc(1, sizeof(*r));
	l = bd_calloc(1, sizeof(*l));
	start = content_start(spool, obj, boundaries, r, l);
	if (r->s != NULL)
		g_object_unref(r->s);
	if (start >= 0) {
		end = content_end(spool, start, boundaries, r, l);
		g_object_unref(r->s);
	}
	free(l);
	free(r);
	return end >= start && start >= 0 ? g_mime_stream_substream(spool, start, end) : NULL;
}
