/*
 * mimestream.c - GMimeStream subclasses: pread(2) over a spool, and a sink adapter.
 *
 * Pread substreams share the descriptor and own nothing; the root stream
 * closes it when the last reference goes. Positions, and the root's
 * read-ahead for small reads, are per stream object, so nothing here touches
 * the descriptor's file offset.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "mimestream.h"
#include "base64.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every GMimeStream method of class SC, from the functions PREFIX_read ... PREFIX_substream:
 * both streams define all of them, so none falls back to the base class by omission. */
#define SET_STREAM_METHODS(sc, prefix)                                                             \
	do {                                                                                       \
		GMimeStreamClass *c_ = (sc);                                                       \
		c_->read = prefix##_read;                                                          \
		c_->write = prefix##_write;                                                        \
		c_->flush = prefix##_flush;                                                        \
		c_->close = prefix##_close;                                                        \
		c_->eos = prefix##_eos;                                                            \
		c_->reset = prefix##_reset;                                                        \
		c_->seek = prefix##_seek;                                                          \
		c_->tell = prefix##_tell;                                                          \
		c_->length = prefix##_length;                                                      \
		c_->substream = prefix##_substream;                                                \
	} while (0)

/* gmime's parser asks for 4 KiB at a time: reads that small from the root stream (the one
 * the parser reads) are served from a read-ahead of AHEAD bytes, one pread(2) instead of
 * sixteen; larger reads go straight to the caller. Substreams, one per MIME part and as
 * long-lived as the message, get none: 64 KiB each would make thousands of parts cost
 * hundreds of MiB */
#define AHEAD      65536
#define SMALL_READ 16384

typedef struct {
	GMimeStream parent_object;
	int fd;
	gint64 size; /* of the whole file */
	gboolean owner, eos;
	GMimeStream *root; /* substreams keep the root (and so the fd) alive */
	char *ahead;       /* the root's AHEAD bytes once a small read came, else NULL */
	gint64 ahead_off;  /* the file offset of ahead[0] */
	size_t ahead_len;  /* bytes valid in it */
} BdPreadStream;

typedef struct {
	GMimeStreamClass parent_class;
} BdPreadStreamClass;

GType bd_pread_stream_get_type(void);
G_DEFINE_TYPE(BdPreadStream, bd_pread_stream, GMIME_TYPE_STREAM)

static gint64 end_of(GMimeStream *stream)
{
	BdPreadStream *ps = (BdPreadStream *)stream;

	return stream->bound_end == -1 ? ps->size : MIN(stream->bound_end, ps->size);
}

static ssize_t pread_at(int fd, char *buf, size_t len, gint64 off)
{
	ssize_t n;

	do {
		n = pread(fd, buf, len, (off_t)off);
	} while (n == -1 && errno == EINTR);
	return n;
}

/* Up to LEN bytes at the stream's position from the read-ahead, refilled when it does
 * not hold that position; -1 with errno when the file cannot be read. */
static ssize_t read_ahead(BdPreadStream *ps, char *buf, size_t len)
{
	gint64 pos = ((GMimeStream *)ps)->position;
	size_t n;

	if (pos < ps->ahead_off || pos >= ps->ahead_off + (gint64)ps->ahead_len) {
		ssize_t got;

		if (ps->ahead == NULL)
			ps->ahead = g_malloc(AHEAD);
		ps->ahead_len = 0;
		got = pread_at(ps->fd, ps->ahead, AHEAD, pos);
		if (got <= 0)
			return got;
		ps->ahead_off = pos;
		ps->ahead_len = (size_t)got;
	}
	n = (size_t)(ps->ahead_off + (gint64)ps->ahead_len - pos);
	if (n > len)
		n = len;
	memcpy(buf, ps->ahead + (pos - ps->ahead_off), n);
	return (ssize_t)n;
}

static ssize_t ps_read(GMimeStream *stream, char *buf, size_t len)
{
	BdPreadStream *ps = (BdPreadStream *)stream;
	gint64 end = end_of(stream);
	ssize_t n;

	if (stream->position >= end) {
		ps->eos = TRUE;
		return 0;
	}
	if ((gint64)len > end - stream->position)
		len = (size_t)(end - stream->position);
	if (len < SMALL_READ && ps->root == NULL)
		n = read_ahead(ps, buf, len);
	else
		n = pread_at(ps->fd, buf, len, stream->position);
	if (n > 0)
		stream->position += n;
	else if (n == 0)
		ps->eos = TRUE;
	return n;
}

static ssize_t ps_write(GMimeStream *stream, const char *buf, size_t len)
{
	errno = EBADF;
	return -1;
}

static int ps_flush(GMimeStream *stream)
{
	return 0;
}

static int ps_close(GMimeStream *stream)
{
	BdPreadStream *ps = (BdPreadStream *)stream;

	if (ps->owner && ps->fd != -1)
		close(ps->fd);
	ps->fd = -1;
	return 0;
}

static gboolean ps_eos(GMimeStream *stream)
{
	BdPreadStream *ps = (BdPreadStream *)stream;

	return ps->eos || stream->position >= end_of(stream);
}

static int ps_reset(GMimeStream *stream)
{
	((BdPreadStream *)stream)->eos = FALSE;
	return 0;
}

static gint64 ps_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	gint64 real;

	switch (whence) {
	case GMIME_STREAM_SEEK_SET: real = offset; break;
	case GMIME_STREAM_SEEK_CUR: real = stream->position + offset; break;
	case GMIME_STREAM_SEEK_END: real = end_of(stream) + offset; break;
	default: errno = EINVAL; return -1;
	}
	if (real < stream->bound_start || real > end_of(stream)) {
		errno = EINVAL;
		return -1;
	}
	((BdPreadStream *)stream)->eos = FALSE;
	stream->position = real;
	return real;
}

static gint64 ps_tell(GMimeStream *stream)
{
	return stream->position;
}

static gint64 ps_length(GMimeStream *stream)
{
	return end_of(stream) - stream->bound_start;
}

static GMimeStream *ps_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	BdPreadStream *parent = (BdPreadStream *)stream;
	BdPreadStream *ps = g_object_new(bd_pread_stream_get_type(), NULL);

	g_mime_stream_construct((GMimeStream *)ps, start, end);
	ps->fd = parent->fd;
	ps->size = parent->size;
	ps->owner = FALSE;
	ps->root = g_object_ref(parent->root != NULL ? parent->root : stream);
	return (GMimeStream *)ps;
}

static void ps_finalize(GObject *object)
{
	BdPreadStream *ps = (BdPreadStream *)object;

	ps_close((GMimeStream *)ps);
	g_free(ps->ahead);
	if (ps->root != NULL)
		g_object_unref(ps->root);
	G_OBJECT_CLASS(bd_pread_stream_parent_class)->finalize(object);
}

static void bd_pread_stream_class_init(BdPreadStreamClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = ps_finalize;
	SET_STREAM_METHODS(GMIME_STREAM_CLASS(klass), ps);
}

static void bd_pread_stream_init(BdPreadStream *ps)
{
	ps->fd = -1;
}

GMimeStream *bd_mimestream_pread_new(int fd)
{
	BdPreadStream *ps;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	ps = g_object_new(bd_pread_stream_get_type(), NULL);
	g_mime_stream_construct((GMimeStream *)ps, 0, -1);
	ps->fd = fd;
	ps->size = st.st_size;
	ps->owner = TRUE;
	return (GMimeStream *)ps;
}

/* ---- the sink adapter ---- */

typedef struct {
	GMimeStream parent_object;
	struct bd_sink *sink;
	gboolean failed;
} BdSinkStream;

typedef struct {
	GMimeStreamClass parent_class;
} BdSinkStreamClass;

GType bd_sink_stream_get_type(void);
G_DEFINE_TYPE(BdSinkStream, bd_sink_stream, GMIME_TYPE_STREAM)

static ssize_t ss_read(GMimeStream *stream, char *buf, size_t len)
{
	errno = EBADF;
	return -1;
}

static ssize_t ss_write(GMimeStream *stream, const char *buf, size_t len)
{
	BdSinkStream *ss = (BdSinkStream *)stream;

	if (ss->failed || ss->sink->write(ss->sink->ctx, (const uint8_t *)buf, len) < 0) {
		ss->failed = TRUE;
		errno = EIO;
		return -1;
	}
	stream->position += (gint64)len;
	return (ssize_t)len;
}

static int ss_flush(GMimeStream *stream)
{
	return ((BdSinkStream *)stream)->failed ? -1 : 0;
}

static int ss_close(GMimeStream *stream)
{
	return 0;
}

static gboolean ss_eos(GMimeStream *stream)
{
	return TRUE;
}

static int ss_reset(GMimeStream *stream)
{
	errno = ESPIPE;
	return -1;
}

static gint64 ss_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	errno = ESPIPE;
	return -1;
}

static gint64 ss_tell(GMimeStream *stream)
{
	return stream->position;
}

static gint64 ss_length(GMimeStream *stream)
{
	errno = ESPIPE;
	return -1;
}

static GMimeStream *ss_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	return NULL;
}

static void bd_sink_stream_class_init(BdSinkStreamClass *klass)
{
	SET_STREAM_METHODS(GMIME_STREAM_CLASS(klass), ss);
}

static void bd_sink_stream_init(BdSinkStream *ss)
{
}

GMimeStream *bd_mimestream_sink_new(struct bd_sink *sink)
{
	BdSinkStream *ss = g_object_new(bd_sink_stream_get_type(), NULL);

	g_mime_stream_construct((GMimeStream *)ss, 0, -1);
	ss->sink = sink;
	return (GMimeStream *)ss;
}

/* ---- base64 decoding filter ---- */

typedef struct {
	GMimeFilter parent_object;
	struct bd_base64_state state;
} BdBase64Filter;

typedef struct {
	GMimeFilterClass parent_class;
} BdBase64FilterClass;

GType bd_base64_filter_get_type(void);
G_DEFINE_TYPE(BdBase64Filter, bd_base64_filter, GMIME_TYPE_FILTER)

static GMimeFilter *b64_copy(GMimeFilter *filter)
{
	return bd_mimestream_base64_decoder_new();
}

static void b64_filter(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                       size_t *outlen, size_t *outprespace)
{
	BdBase64Filter *bf = (BdBase64Filter *)filter;

	g_mime_filter_set_size(filter, BD_BASE64_DECODED_MAX(len), FALSE);
	*outlen = bd_base64_decode_step((const uint8_t *)in, len, (uint8_t *)filter->outbuf,
	                                &bf->state);
	*out = filter->outbuf;
	*outprespace = filter->outpre;
}

static void b64_reset(GMimeFilter *filter)
{
	BdBase64Filter *bf = (BdBase64Filter *)filter;

	memset(&bf->state, 0, sizeof(bf->state));
}

static void bd_base64_filter_class_init(BdBase64FilterClass *klass)
{
	GMimeFilterClass *c = GMIME_FILTER_CLASS(klass);

	c->copy = b64_copy;
	c->filter = b64_filter;
	c->complete = b64_filter; /* decoding has nothing to flush */
	c->reset = b64_reset;
}

static void bd_base64_filter_init(BdBase64Filter *bf)
{
	memset(&bf->state, 0, sizeof(bf->state));
}

GMimeFilter *bd_mimestream_base64_decoder_new(void)
{
	return g_object_new(bd_base64_filter_get_type(), NULL);
}
