/*
 * pipe.c - producer thread, ring buffer and MHD content reader (pipe.h).
 * One mutex and one condition variable: the producer waits for room, the
 * reader (a connection thread, which may block in thread-per-connection
 * mode) waits for bytes; both are woken on every change.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "pipe.h"
#include "mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct gw_pipe {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *ring;
	size_t cap, head, len;
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

static int pipe_write(void *ctx, const uint8_t *data, size_t len)
{
	struct gw_pipe *p = ctx;

	pthread_mutex_lock(&p->lock);
	while (len > 0) {
		size_t tail, n;

		while (p->len == p->cap && !p->cancelled)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->cancelled) {
			pthread_mutex_unlock(&p->lock);
			return -1;
		}
		tail = (p->head + p->len) % p->cap;
		n = p->cap - p->len;
		if (n > p->cap - tail)
			n = p->cap - tail;
		if (n > len)
			n = len;
		memcpy(p->ring + tail, data, n);
		p->len += n;
		data += n;
		len -= n;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void *producer_main(void *arg)
{
	struct gw_pipe *p = arg;
	struct bd_sink sink = {pipe_write, p};
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
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct gw_pipe *gw_pipe_start(size_t capacity, gw_pipe_producer produce, void *ctx,
                              void (*ctx_free)(void *ctx), struct bd_error *err)
{
	struct gw_pipe *p = bd_calloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->cap = capacity;
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
		pthread_cond_wait(&p->cond, &p->lock);
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
	struct gw_pipe *p = cls;
	size_t n, first;

	pthread_mutex_lock(&p->lock);
	while (p->len == 0 && !p->done)
		pthread_cond_wait(&p->cond, &p->lock);
	if (p->len == 0) {
		int failed = p->failed;

		pthread_mutex_unlock(&p->lock);
		return failed ? MHD_CONTENT_READER_END_WITH_ERROR
		              : MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = p->len < max ? p->len : max;
	first = p->cap - p->head < n ? p->cap - p->head : n;
	memcpy(buf, p->ring + p->head, first);
	memcpy(buf + first, p->ring, n - first);
	p->head = (p->head + n) % p->cap;
	p->len -= n;
	p->sent += n;
	p->last = n;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
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
	resp = MHD_create_response_from_callback(size, 64 * 1024, pipe_read, p, pipe_response_free);
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
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int gw_pipe_result(struct gw_pipe *p, struct bd_error *err)
{
	int rc;

	pthread_mutex_lock(&p->lock);
	while (!p->done)
		pthread_cond_wait(&p->cond, &p->lock);
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
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (!last)
		return;
	if (p->thread_started)
		pthread_join(p->thread, NULL);
	if (p->ctx_free != NULL)
		p->ctx_free(p->ctx);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->ring);
	free(p);
}
