/*
 * pipe.c - producer thread, ring buffer and MHD content reader (pipe.h).
 * One producer and one reader (a connection thread, which may block in
 * thread-per-connection mode): each copies its bytes outside the lock, into
 * room or out of bytes only it may touch, and takes the lock only to move the
 * ring's bounds. A side that waits is woken only when the other side has made
 * enough of a change for it to do a real piece of work (hysteresis), so a
 * steady transfer costs few wake-ups instead of two per write.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "pipe.h"
#include "mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* What libmicrohttpd asks for at most in one call, and the buffer it keeps for it. */
#define BLOCK_BYTES (128 * 1024)

struct gw_pipe {
	pthread_mutex_t lock;
	pthread_cond_t room;  /* the producer waits here for free space */
	pthread_cond_t bytes; /* readers wait here for bytes or the end */
	uint8_t *ring;
	size_t cap, head, len;
	size_t mark; /* half the ring: a waiting side is woken once this much is free or ready */
	size_t room_wanted; /* ... or this much, when the producer waits for more */
	int producer_waits;
	int readers_waiting;
	int refs;
	int done;      /* the producer returned */
	int failed;    /* ... with an error */
	int cancelled; /* nobody reads any more */
	uint64_t sent;
	uint64_t last; /* the piece handed over last */
	struct bd_error err;
	pthread_t thread;
	int thread_started;
	gw_pipe_producer produce;
	void *ctx;
	void (*ctx_free)(void *ctx);
	void (*on_sent)(uint64_t n);
};

/* With P locked: wait until WANT bytes are free; -1 once nobody reads any more. The
 * reader wakes us only when a good part of the ring is free, not for every piece. */
static int wait_room(struct gw_pipe *p, size_t want)
{
	while (p->cap - p->len < want && !p->cancelled) {
		/* what is there must be read for room to come, however little it is */
		if (p->readers_waiting > 0 && p->len > 0)
			pthread_cond_signal(&p->bytes);
		p->room_wanted = want > p->mark ? want : p->mark;
		p->producer_waits = 1;
		pthread_cond_wait(&p->room, &p->lock);
		p->producer_waits = 0;
	}
	return p->cancelled ? -1 : 0;
}

/* Make N more bytes past the ring's data readable; wakes a reader that waits once
 * there is a good piece to read. */
static void publish(struct gw_pipe *p, size_t n)
{
	int wake;

	pthread_mutex_lock(&p->lock);
	p->len += n;
	wake = p->readers_waiting > 0 && p->len >= p->mark;
	pthread_mutex_unlock(&p->lock);
	if (wake)
		pthread_cond_signal(&p->bytes);
}

static int pipe_write(void *ctx, const uint8_t *data, size_t len)
{
	struct gw_pipe *p = ctx;

	while (len > 0) {
		size_t tail, n;

		pthread_mutex_lock(&p->lock);
		if (wait_room(p, 1) < 0) {
			pthread_mutex_unlock(&p->lock);
			return -1;
		}
		tail = (p->head + p->len) % p->cap;
		n = p->cap - p->len;
		pthread_mutex_unlock(&p->lock);
		/* [tail, tail + n) is free: no reader looks at it until len covers it */
		if (n > p->cap - tail)
			n = p->cap - tail;
		if (n > len)
			n = len;
		memcpy(p->ring + tail, data, n);
		publish(p, n);
		data += n;
		len -= n;
	}
	return 0;
}

/* Lend the producer the next LEN free bytes of the ring (in two pieces where it wraps). */
static int pipe_reserve(void *ctx, size_t len, struct bd_span room[2])
{
	struct gw_pipe *p = ctx;
	size_t tail;

	if (len > p->cap)
		return 1;
	pthread_mutex_lock(&p->lock);
	if (wait_room(p, len) < 0) {
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	tail = (p->head + p->len) % p->cap;
	pthread_mutex_unlock(&p->lock);
	room[0].data = p->ring + tail;
	room[0].len = p->cap - tail < len ? p->cap - tail : len;
	room[1].data = p->ring;
	room[1].len = len - room[0].len;
	return 0;
}

static int pipe_commit(void *ctx, size_t len)
{
	struct gw_pipe *p = ctx;
	int cancelled;

	pthread_mutex_lock(&p->lock);
	cancelled = p->cancelled;
	pthread_mutex_unlock(&p->lock);
	if (cancelled)
		return -1;
	publish(p, len);
	return 0;
}

/* Wait on P's bytes condition (with P locked), counted so that the producer knows. */
static void wait_bytes(struct gw_pipe *p)
{
	p->readers_waiting++;
	pthread_cond_wait(&p->bytes, &p->lock);
	p->readers_waiting--;
}

static void *producer_main(void *arg)
{
	struct gw_pipe *p = arg;
	struct bd_lending_sink sink = {{pipe_write, p}, pipe_reserve, pipe_commit};
	struct bd_error err;
	int rc;

	bd_error_clear(&err);
	rc = p->produce(p->ctx, &sink, &err);
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	if (rc < 0 && !p->cancelled) { /* a write refused after a cancel is not a failure */
		p->failed = 1;
		p->err = err;
	}
	pthread_cond_broadcast(&p->bytes);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct gw_pipe *gw_pipe_start(size_t capacity, gw_pipe_producer produce, void *ctx,
                              void (*ctx_free)(void *ctx), struct bd_error *err)
{
	struct gw_pipe *p = bd_calloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->room, NULL);
	pthread_cond_init(&p->bytes, NULL);
	p->cap = capacity;
	p->mark = capacity / 2;
	p->ring = bd_malloc(capacity);
	p->refs = 1;
	p->produce = produce;
	p->ctx = ctx;
	p->ctx_free = ctx_free;
	if (pthread_create(&p->thread, NULL, producer_main, p) != 0) {
		bd_error_set(err, BD_E_TEMP, "cannot start a download thread");
		gw_pipe_release(&p);
		return NULL;
	}
	p->thread_started = 1;
	return p;
}

int gw_pipe_wait_first(struct gw_pipe *p, struct bd_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	while (p->len == 0 && !p->done)
		wait_bytes(p);
	if (p->len == 0 && p->failed) {
		if (err)
			*err = p->err;
		rc = -1;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static ssize_t pipe_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	return gw_pipe_read(cls, buf, max);
}

ssize_t gw_pipe_read(struct gw_pipe *p, char *buf, size_t max)
{
	size_t n, first, head;
	int wake;

	pthread_mutex_lock(&p->lock);
	while (p->len == 0 && !p->done)
		wait_bytes(p);
	if (p->len == 0) {
		int failed = p->failed;

		pthread_mutex_unlock(&p->lock);
		return failed ? MHD_CONTENT_READER_END_WITH_ERROR
		              : MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = p->len < max ? p->len : max;
	head = p->head;
	/* [head, head + n) stays put: the producer writes only past head + len */
	pthread_mutex_unlock(&p->lock);
	first = p->cap - head < n ? p->cap - head : n;
	memcpy(buf, p->ring + head, first);
	memcpy(buf + first, p->ring, n - first);
	pthread_mutex_lock(&p->lock);
	p->head = (head + n) % p->cap;
	p->len -= n;
	p->sent += n;
	p->last = n;
	wake = p->producer_waits && p->cap - p->len >= p->room_wanted;
	pthread_mutex_unlock(&p->lock);
	if (wake)
		pthread_cond_signal(&p->room);
	if (p->on_sent != NULL)
		p->on_sent(n);
	return (ssize_t)n;
}

static void pipe_response_free(void *cls)
{
	struct gw_pipe *p = cls;

	gw_pipe_release(&p);
}

struct MHD_Response *gw_pipe_response(struct gw_pipe *p, uint64_t size, void (*sent)(uint64_t n))
{
	struct MHD_Response *resp;

	pthread_mutex_lock(&p->lock);
	p->refs++;
	p->on_sent = sent;
	pthread_mutex_unlock(&p->lock);
	resp = MHD_create_response_from_callback(size, BLOCK_BYTES, pipe_read, p,
	                                         pipe_response_free);
	if (resp == NULL) {
		struct gw_pipe *q = p;

		gw_pipe_release(&q);
	}
	return resp;
}

uint64_t gw_pipe_sent(struct gw_pipe *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = p->sent;
	pthread_mutex_unlock(&p->lock);
	return n;
}

uint64_t gw_pipe_written(struct gw_pipe *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = p->sent - p->last;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void gw_pipe_cancel(struct gw_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->cancelled = 1;
	pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
}

int gw_pipe_result(struct gw_pipe *p, struct bd_error *err)
{
	int rc;

	pthread_mutex_lock(&p->lock);
	while (!p->done)
		wait_bytes(p);
	rc = p->failed ? -1 : 0;
	if (rc < 0 && err)
		*err = p->err;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void gw_pipe_release(struct gw_pipe **pp)
{
	struct gw_pipe *p = *pp;
	int last;

	if (p == NULL)
		return;
	*pp = NULL;
	pthread_mutex_lock(&p->lock);
	p->cancelled = 1;
	last = --p->refs == 0;
	pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
	if (!last)
		return;
	if (p->thread_started)
		pthread_join(p->thread, NULL);
	if (p->ctx_free != NULL)
		p->ctx_free(p->ctx);
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->bytes);
	pthread_mutex_destroy(&p->lock);
	free(p->ring);
	free(p);
}
