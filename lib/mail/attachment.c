/*
 * attachment.c - part content as a pull source, and the parallel upload of a package.
 *
 * A leaf part is read through a fresh substream of its content, so every reader has its own
 * position: base64 (nearly every attachment) decoded straight into the reader's buffer, 64 KiB
 * of the spool read at a time; other encodings through gmime's decoder on top (none for a part
 * sent raw); an attached message whose bytes in the spool are known the same way, bare LFs
 * made CRLF. One whose bytes are not known is serialised by gmime, which only pushes; a
 * producer thread writes it into a pipe and the reader pulls from the other end.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "attachment.h"
#include "base64.h"
#include "mem.h"
#include "mimestream.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PRODUCER_STACK (8u << 20) /* gmime recurses once per nesting level */
#define PROGRESS_EVERY 3          /* seconds between progress callbacks */
#define B64_READ       65536      /* encoded bytes read from the spool at a time */
#define B64_SPILL      64         /* a read smaller than this decodes into reader.spill */

struct reader {
	struct bd_source source;
	const int *cancel; /* non-zero: another upload failed, stop */
	GMimeStream *stream;
	/* attached message: serialised by the producer into a pipe */
	GMimeObject *message;
	GMimeFormatOptions *format;
	int rfd, wfd;
	pthread_t producer;
	bool running;
	bool produce_failed;
	struct bd_mem_source mem; /* a file held in memory */
	bool in_memory;
	/* a base64 leaf part, decoded here rather than through a GMimeStreamFilter,
	 * which reads its source 4 KiB at a time and copies what it decoded once more */
	GMimeStream *b64;
	struct bd_base64_state b64_state;
	uint8_t *b64_in;
	uint8_t spill[B64_SPILL]; /* decoded for a read smaller than a quartet's output */
	size_t spill_pos, spill_len;
};

/* Decode the next bytes of R's base64 part into BUF: decoding N input bytes writes at
 * most (N / 4 + 1) * 3, so reading LEN / 3 * 4 - 4 of them never overruns LEN. */
static ssize_t b64_read(struct reader *r, uint8_t *buf, size_t len)
{
	if (r->spill_pos < r->spill_len) {
		size_t n = r->spill_len - r->spill_pos < len ? r->spill_len - r->spill_pos : len;

		memcpy(buf, r->spill + r->spill_pos, n);
		r->spill_pos += n;
		return (ssize_t)n;
	}
	if (len < B64_SPILL) {
		ssize_t n = b64_read(r, r->spill, sizeof(r->spill));

		if (n <= 0)
			return n;
		r->spill_pos = 0;
		r->spill_len = (size_t)n;
		return b64_read(r, buf, len);
	}
	for (;;) {
		size_t want = len / 3 * 4 - 4, out;
		ssize_t n;

		if (r->b64_state.n < 0 || g_mime_stream_eos(r->b64))
			return 0; /* '=' ended the data: the rest is ignored, as gmime does */
		if (want > B64_READ)
			want = B64_READ;
		n = g_mime_stream_read(r->b64, (char *)r->b64_in, want);
		if (n < 0)
			return g_mime_stream_eos(r->b64) ? 0 : -1;
		if (n == 0)
			return 0;
		out = bd_base64_decode_step(r->b64_in, (size_t)n, buf, &r->b64_state);
		if (out > 0)
			return (ssize_t)out;
		/* only line ends or junk in this piece: read on */
	}
}

static ssize_t reader_read(void *ctx, uint8_t *buf, size_t len)
{
	struct reader *r = ctx;
	ssize_t n;

	if (r->cancel != NULL && __atomic_load_n(r->cancel, __ATOMIC_RELAXED))
		return -1;
	if (r->in_memory)
		return r->mem.source.read(r->mem.source.ctx, buf, len);
	if (r->b64 != NULL)
		return b64_read(r, buf, len);
	if (r->stream != NULL) {
		/* a decoder may turn a chunk of input into no output: read on until EOS */
		for (unsigned spins = 0; spins < 1000000; spins++) {
			if (g_mime_stream_eos(r->stream))
				return 0;
			n = g_mime_stream_read(r->stream, (char *)buf, len);
			if (n > 0)
				return n;
			if (n < 0)
				return g_mime_stream_eos(r->stream) ? 0 : -1;
		}
		return -1;
	}
	if (r->rfd < 0)
		return 0;
	do {
		n = read(r->rfd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

static void *produce(void *arg)
{
	struct reader *r = arg;
	GMimeStream *pipe = g_mime_stream_pipe_new(r->wfd);
	GMimeStream *filtered = g_mime_stream_filter_new(pipe);
	GMimeFilter *crlf = g_mime_filter_unix2dos_new(FALSE);

	g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(pipe), TRUE); /* closes wfd: EOF */
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), crlf);
	g_object_unref(crlf);
	if (g_mime_object_write_to_stream(r->message, r->format, filtered) < 0 ||
	    g_mime_stream_flush(filtered) < 0)
		r->produce_failed = true;
	g_object_unref(filtered);
	g_object_unref(pipe);
	return NULL;
}

static void reader_close(struct reader **rp)
{
	struct reader *r = *rp;

	if (r == NULL)
		return;
	if (r->running) {
		/* let the producer finish (it never sees a closed pipe, so no SIGPIPE) */
		uint8_t buf[16384];
		ssize_t n;

		do {
			n = read(r->rfd, buf, sizeof(buf));
		} while (n > 0 || (n < 0 && errno == EINTR));
		pthread_join(r->producer, NULL);
	}
	if (r->rfd >= 0)
		close(r->rfd);
	if (r->stream != NULL)
		g_object_unref(r->stream);
	if (r->b64 != NULL)
		g_object_unref(r->b64);
	free(r->b64_in);
	if (r->format != NULL)
		g_mime_format_options_free(r->format);
	free(r);
	*rp = NULL;
}

/* A fresh reader over [start, end) of STREAM, with ENC undone unless RAW. */
static void read_range(struct reader *r, GMimeStream *stream, GMimeContentEncoding enc, bool raw)
{
	GMimeStream *sub = g_mime_stream_substream(stream, stream->bound_start, stream->bound_end);

	r->stream = g_mime_stream_filter_new(sub);
	g_object_unref(sub);
	if (!raw && (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	             enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	             enc == GMIME_CONTENT_ENCODING_UUENCODE)) {
		/* base64, nearly every attachment, through our decoder: gmime's was the milter's
		 * largest cost; the same bytes come out (mimestream.h) */
		GMimeFilter *dec = enc == GMIME_CONTENT_ENCODING_BASE64
		                           ? bd_mimestream_base64_decoder_new()
		                           : g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(r->stream), dec);
		g_object_unref(dec);
	}
}

static GMimeContentEncoding declared_encoding(GMimeObject *obj)
{
	const char *cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding");

	return cte != NULL ? g_mime_content_encoding_from_string(cte)
	                   : GMIME_CONTENT_ENCODING_DEFAULT;
}

static struct reader *reader_open(const struct bd_attachment_content *c, const int *cancel,
                                  struct bd_error *err)
{
	struct reader *r = bd_calloc(1, sizeof(*r));
	GMimeObject *obj = c->obj;

	r->source.read = reader_read;
	r->source.ctx = r;
	r->cancel = cancel;
	r->rfd = r->wfd = -1;
	if (c->data != NULL) {
		bd_mem_source_init(&r->mem, c->data, c->len);
		r->in_memory = true;
		return r;
	}
	if (c->bytes != NULL) {
		read_range(r, c->bytes, declared_encoding(obj), c->raw);
		if (!c->raw) {
			/* an .eml has CRLF line ends: bare LFs get their CR, nothing else changes
			 */
			GMimeFilter *crlf = g_mime_filter_unix2dos_new(FALSE);

			g_mime_stream_filter_add(GMIME_STREAM_FILTER(r->stream), crlf);
			g_object_unref(crlf);
		}
		return r;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		int fds[2];
		pthread_attr_t attr;

		if (m == NULL)
			return r; /* an empty message/rfc822 part: zero bytes */
		if (pipe2(fds, O_CLOEXEC) < 0) {
			bd_error_set(err, BD_E_TEMP, "pipe: %s", strerror(errno));
			free(r);
			return NULL;
		}
		r->rfd = fds[0];
		r->wfd = fds[1];
		r->message = GMIME_OBJECT(m);
		r->format = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(r->format, GMIME_NEWLINE_FORMAT_DOS);
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, PRODUCER_STACK);
		if (pthread_create(&r->producer, &attr, produce, r) != 0) {
			pthread_attr_destroy(&attr);
			close(r->wfd);
			reader_close(&r);
			bd_error_set(err, BD_E_TEMP, "cannot start a thread");
			return NULL;
		}
		pthread_attr_destroy(&attr);
		r->running = true;
		return r;
	}
	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
		GMimeStream *raw = w != NULL ? g_mime_data_wrapper_get_stream(w) : NULL;

		if (raw != NULL && !c->raw &&
		    g_mime_data_wrapper_get_encoding(w) == GMIME_CONTENT_ENCODING_BASE64) {
			r->b64 = g_mime_stream_substream(raw, raw->bound_start, raw->bound_end);
			r->b64_in = bd_malloc(B64_READ);
		} else if (raw != NULL) {
			read_range(r, raw, g_mime_data_wrapper_get_encoding(w), c->raw);
		}
		return r;
	}
	bd_error_set(err, BD_E_INVALID, "not a part with content");
	free(r);
	return NULL;
}

bool bd_attachment_raw_blank(GMimeObject *obj)
{
	struct bd_attachment_content c = {.obj = obj, .raw = true};
	struct reader *r;
	uint8_t buf[4096];
	ssize_t n;
	bool blank = true;

	if (!GMIME_IS_PART(obj) || (r = reader_open(&c, NULL, NULL)) == NULL)
		return true;
	while (blank && (n = reader_read(r, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n && blank; i++)
			blank = g_ascii_isspace(buf[i]);
	reader_close(&r);
	return blank;
}

/* Finish reading: a producer that failed means the bytes were not the message. */
static int reader_finish(struct reader **r, struct bd_error *err)
{
	bool failed;

	if ((*r)->running) {
		pthread_join((*r)->producer, NULL);
		(*r)->running = false;
	}
	failed = (*r)->produce_failed;
	reader_close(r);
	if (failed)
		return bd_error_set(err, BD_E_IO, "writing an attached message failed");
	return 0;
}

int bd_attachment_copy_pieces(const struct bd_attachment_content *c, size_t piece,
                              struct bd_sink *sink, struct bd_error *err)
{
	struct reader *r = reader_open(c, NULL, err);
	uint8_t *buf;
	ssize_t n;

	if (r == NULL)
		return -1;
	buf = bd_malloc(piece);
	while ((n = reader_read(r, buf, piece)) > 0) {
		if (sink->write(sink->ctx, buf, (size_t)n) < 0) {
			free(buf);
			reader_close(&r);
			return bd_error_set(err, BD_E_IO, "writing part content failed");
		}
	}
	free(buf);
	if (n < 0) {
		reader_close(&r);
		return bd_error_set(err, BD_E_IO, "reading part content failed");
	}
	return reader_finish(&r, err);
}

int bd_attachment_copy(const struct bd_attachment_content *c, struct bd_sink *sink,
                       struct bd_error *err)
{
	return bd_attachment_copy_pieces(c, 65536, sink, err);
}

static int count_write(void *ctx, const uint8_t *buf, size_t len)
{
	*(uint64_t *)ctx += len;
	return 0;
}

/* The encoded content of a leaf part in base64 that is read decoded; else NULL. */
static GMimeStream *base64_content(const struct bd_attachment_content *c)
{
	GMimeDataWrapper *w;

	if (c->raw || c->data != NULL || c->bytes != NULL || !GMIME_IS_PART(c->obj))
		return NULL;
	w = g_mime_part_get_content(GMIME_PART(c->obj));
	if (w == NULL || g_mime_data_wrapper_get_encoding(w) != GMIME_CONTENT_ENCODING_BASE64)
		return NULL;
	return g_mime_data_wrapper_get_stream(w);
}

/* The decoded size of base64 in STREAM's bounds, counted without decoding: the
 * decoder (bd_mimestream_base64_decoder_new) would write exactly as many bytes. */
static int count_base64(GMimeStream *stream, uint64_t *size, struct bd_error *err)
{
	GMimeStream *sub = g_mime_stream_substream(stream, stream->bound_start, stream->bound_end);
	struct bd_base64_state st = {0, 0};
	char buf[65536];
	ssize_t n;

	while (!g_mime_stream_eos(sub) && (n = g_mime_stream_read(sub, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (g_mime_stream_eos(sub))
				break;
			g_object_unref(sub);
			return bd_error_set(err, BD_E_IO, "reading part content failed");
		}
		*size += bd_base64_decoded_count((const uint8_t *)buf, (size_t)n, &st);
	}
	g_object_unref(sub);
	return 0;
}

int bd_attachment_measure(const struct bd_attachment_content *c, uint64_t *size,
                          struct bd_error *err)
{
	struct bd_sink counter = {count_write, size};
	GMimeStream *b64 = base64_content(c);

	*size = 0;
	if (b64 != NULL)
		return count_base64(b64, size, err);
	return bd_attachment_copy(c, &counter, err);
}

/* ---- the parallel upload ---- */

struct pool {
	struct bd_store *store;
	const struct bd_package_keys *keys;
	struct bd_attachment_item *items;
	size_t n, next;
	unsigned running;
	int cancel;
	bool failed;
	struct bd_error err;
	pthread_mutex_t lock;
	pthread_cond_t done;
};

static int upload_one(struct pool *p, struct bd_attachment_item *it, struct bd_error *err)
{
	uint8_t *key = bd_secret_alloc(BD_CONTENT_KEY_BYTES);
	struct reader *r = reader_open(&it->content, &p->cancel, err);
	struct bd_stream_enc *enc;
	char name[64];
	int rc;

	if (r == NULL) {
		bd_secret_free(key);
		return -1;
	}
	bd_package_file_key(p->keys, it->index, key);
	enc = bd_stream_enc_new(key, &r->source, it->size);
	bd_secret_free(key);
	if (enc == NULL) {
		reader_close(&r);
		return bd_error_set(err, BD_E_LIMIT, "part too large to encrypt");
	}
	bd_package_object_name(p->keys->id, it->index, name, sizeof(name));
	rc = bd_store_put(p->store, name, bd_stream_enc_source(enc),
	                  bd_stream_ciphertext_size(it->size), err);
	bd_stream_enc_free(&enc);
	if (rc < 0) {
		reader_close(&r);
		return -1;
	}
	return reader_finish(&r, err);
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct bd_attachment_item *it;
		struct bd_error err;
		int rc;

		pthread_mutex_lock(&p->lock);
		if (p->next >= p->n || p->failed) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		it = &p->items[p->next++];
		it->tried = true;
		pthread_mutex_unlock(&p->lock);

		bd_error_clear(&err);
		rc = upload_one(p, it, &err);

		pthread_mutex_lock(&p->lock);
		if (rc == 0) {
			it->stored = true;
		} else if (!p->failed) {
			p->failed = true;
			p->err = err;
			__atomic_store_n(&p->cancel, 1, __ATOMIC_RELAXED);
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int bd_attachment_run(struct bd_store *store, const struct bd_package_keys *keys,
                      struct bd_attachment_item *items, size_t n, unsigned threads,
                      const struct bd_rewrite_envelope *env, struct bd_error *err)
{
	struct pool p = {.store = store, .keys = keys, .items = items, .n = n};
	pthread_t *tids;
	unsigned started = 0;

	if (threads == 0)
		threads = 1;
	if (threads > n)
		threads = (unsigned)n;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.done, NULL);
	tids = bd_calloc(threads ? threads : 1, sizeof(*tids));
	pthread_mutex_lock(&p.lock);
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&tids[started], NULL, worker, &p) != 0)
			break;
		started++;
		p.running++;
	}
	if (started == 0) {
		/* no thread to be had: do it here, one after the other */
		p.running = 1;
		pthread_mutex_unlock(&p.lock);
		worker(&p);
		pthread_mutex_lock(&p.lock);
	}
	while (p.running > 0) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += PROGRESS_EVERY;
		if (pthread_cond_timedwait(&p.done, &p.lock, &until) == ETIMEDOUT && env != NULL &&
		    env->progress != NULL) {
			pthread_mutex_unlock(&p.lock);
			env->progress(env->progress_ctx);
			pthread_mutex_lock(&p.lock);
		}
	}
	pthread_mutex_unlock(&p.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_cond_destroy(&p.done);
	pthread_mutex_destroy(&p.lock);
	if (p.failed) {
		if (err != NULL)
			*err = p.err;
		return -1;
	}
	return 0;
}
