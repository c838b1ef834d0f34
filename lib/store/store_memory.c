/*
 * store_memory.c - the in-memory store (see store-memory.h): a sorted array
 * under one mutex. Data is read from the source before the lock is taken,
 * so a slow source never blocks others, and an object appears only once it
 * is complete. Listings and gets hand out copies, so callbacks run unlocked.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "store-memory.h"
#include "store-private.h"
#include "mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct mem_object {
	char *name;
	uint8_t *data;
	size_t len;
};

struct mem_store {
	pthread_mutex_t lock;
	struct mem_object *v;
	size_t n, cap;
};

/* Index of NAME, or where it would go (*found says which). */
static size_t mem_find(const struct mem_store *m, const char *name, int *found)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->v[mid].name, name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static int mem_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                   struct bd_error *err)
{
	struct mem_store *m = impl;
	uint8_t *data;
	size_t got = 0, i;
	int found;

	if (length > SIZE_MAX / 2)
		return bd_error_set(err, BD_E_LIMIT, "%llu bytes do not fit in memory",
		                    (unsigned long long)length);
	data = bd_malloc((size_t)length);
	while (got < length) {
		ssize_t r = src->read(src->ctx, data + got, (size_t)length - got);

		if (r < 0 || r == 0) {
			free(data);
			if (r < 0)
				return bd_error_set(err, BD_E_IO,
				                    "reading the upload source failed");
			return bd_error_set(err, BD_E_INVALID,
			                    "the source ended after %zu of %llu bytes", got,
			                    (unsigned long long)length);
		}
		got += (size_t)r;
	}
	pthread_mutex_lock(&m->lock);
	i = mem_find(m, name, &found);
	if (found) {
		free(m->v[i].data);
	} else {
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 16;
			m->v = bd_realloc(m->v, m->cap * sizeof(*m->v));
		}
		memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
		m->v[i].name = bd_strdup(name);
		m->n++;
	}
	m->v[i].data = data;
	m->v[i].len = (size_t)length;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int mem_get(void *impl, const char *name, uint64_t offset, uint64_t length,
                   struct bd_sink *sink, struct bd_error *err)
{
	struct mem_store *m = impl;
	uint8_t *copy;
	size_t i, n;
	int found, r;

	pthread_mutex_lock(&m->lock);
	i = mem_find(m, name, &found);
	if (!found) {
		pthread_mutex_unlock(&m->lock);
		return bd_error_set(err, BD_E_NOTFOUND, "no such object");
	}
	if (offset > m->v[i].len || (offset == m->v[i].len && offset > 0)) {
		size_t len = m->v[i].len;

		pthread_mutex_unlock(&m->lock);
		return bd_error_set(err, BD_E_INVALID, "offset %llu is past the end (%zu bytes)",
		                    (unsigned long long)offset, len);
	}
	n = m->v[i].len - (size_t)offset;
	if (length < n)
		n = (size_t)length;
	/* The sink may be slow or call back into the store: give it a copy, unlocked. */
	copy = bd_malloc(n);
	memcpy(copy, m->v[i].data + offset, n);
	pthread_mutex_unlock(&m->lock);
	r = n > 0 ? sink->write(sink->ctx, copy, n) : 0;
	free(copy);
	if (r < 0)
		return bd_error_set(err, BD_E_IO, "the receiver stopped the transfer");
	return 0;
}

static int mem_head(void *impl, const char *name, uint64_t *size, struct bd_error *err)
{
	struct mem_store *m = impl;
	size_t i;
	int found;

	pthread_mutex_lock(&m->lock);
	i = mem_find(m, name, &found);
	if (found)
		*size = m->v[i].len;
	pthread_mutex_unlock(&m->lock);
	return found ? 0 : bd_error_set(err, BD_E_NOTFOUND, "no such object");
}

static int mem_del(void *impl, const char *name, struct bd_error *err)
{
	struct mem_store *m = impl;
	size_t i;
	int found;

	pthread_mutex_lock(&m->lock);
	i = mem_find(m, name, &found);
	if (found) {
		free(m->v[i].name);
		free(m->v[i].data);
		memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
		m->n--;
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

struct mem_entry {
	char *name;
	uint64_t size;
};

static int mem_list(void *impl, const char *prefix,
                    int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                    struct bd_error *err)
{
	struct mem_store *m = impl;
	struct mem_entry *snap;
	size_t n = 0, plen = strlen(prefix), i;
	int found;

	/* A snapshot, so CB runs unlocked and may delete what it is shown. */
	pthread_mutex_lock(&m->lock);
	snap = bd_calloc(m->n ? m->n : 1, sizeof(*snap));
	for (i = mem_find(m, prefix, &found); i < m->n; i++) {
		if (strncmp(m->v[i].name, prefix, plen) != 0)
			break;
		snap[n].name = bd_strdup(m->v[i].name);
		snap[n].size = m->v[i].len;
		n++;
	}
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < n; i++)
		if (cb(ctx, snap[i].name, snap[i].size) != 0)
			break;
	for (i = 0; i < n; i++)
		free(snap[i].name);
	free(snap);
	return 0;
}

static void mem_close(void *impl)
{
	struct mem_store *m = impl;

	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].data);
	}
	free(m->v);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct bd_store_ops mem_ops = {"memory", mem_put,  mem_get,  mem_head,
                                            mem_del,  mem_list, mem_close};

struct bd_store *bd_store_new_memory(void)
{
	struct mem_store *m = bd_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return bd_store_new(&mem_ops, m);
}
