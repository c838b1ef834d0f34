/*
 * store.c - the storage interface: argument checks and dispatch to a driver,
 * the choice of driver from the configuration, and the in-memory store.
 *
 * Drivers report what went wrong in their own terms (HTTP status, curl
 * error); this layer puts the backend and the object name in front.
 */
#include "store.h"
#include "mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bd_store {
	const struct bd_store_ops *ops;
	void *impl;
};

struct bd_store *bd_store_new(const struct bd_store_ops *ops, void *impl)
{
	struct bd_store *s = bd_calloc(1, sizeof(*s));

	s->ops = ops;
	s->impl = impl;
	return s;
}

void bd_store_close(struct bd_store **store)
{
	if (store == NULL || *store == NULL)
		return;
	if ((*store)->ops->close != NULL)
		(*store)->ops->close((*store)->impl);
	free(*store);
	*store = NULL;
}

struct bd_store *bd_store_open(const struct bd_conf *conf, struct bd_error *err)
{
	if (conf->storage.driver == BD_STORAGE_GATEWAY)
		return bd_store_gateway_open(conf, err);
	if (conf->storage.driver == BD_STORAGE_S3)
		return bd_store_s3_open(conf, err);
	bd_error_set(err, BD_E_CONFIG, "[storage] driver %d is not a known driver",
	             (int)conf->storage.driver);
	return NULL;
}

const char *bd_store_driver_name(enum bd_storage_driver driver)
{
	return driver == BD_STORAGE_S3 ? "s3" : "gateway";
}

static int name_chars_valid(const char *name, size_t *len)
{
	size_t n = 0;

	for (const char *p = name; *p; p++, n++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '/'))
			return 0;
		if (*p == '/' && (p == name || p[1] == '/'))
			return 0;
		if (n >= BD_STORE_NAME_MAX)
			return 0;
	}
	*len = n;
	return 1;
}

int bd_store_name_valid(const char *name)
{
	size_t len;

	if (name == NULL || !name_chars_valid(name, &len) || len == 0)
		return 0;
	return name[len - 1] != '/';
}

/* A prefix is empty, or a valid name, or a valid name followed by one '/'. */
static int prefix_valid(const char *prefix)
{
	size_t len;

	return prefix != NULL && name_chars_valid(prefix, &len);
}

static int check_name(const struct bd_store *s, const char *name, struct bd_error *err)
{
	if (bd_store_name_valid(name))
		return 0;
	return bd_error_set(err, BD_E_INVALID,
	                    "%s store: '%.64s' is not a valid object name (only 0-9, a-f and "
	                    "single inner '/', at most %d characters)",
	                    s->ops->name, name ? name : "(null)", BD_STORE_NAME_MAX);
}

static int failed(const struct bd_store *s, const char *op, const char *name, struct bd_error *err)
{
	return bd_error_prefix(err, "%s store: %s %s", s->ops->name, op, name);
}

int bd_store_put(struct bd_store *s, const char *name, struct bd_source *src, uint64_t length,
                 struct bd_error *err)
{
	if (check_name(s, name, err) < 0)
		return -1;
	if (s->ops->put(s->impl, name, src, length, err) < 0)
		return failed(s, "put", name, err);
	return 0;
}

int bd_store_get(struct bd_store *s, const char *name, uint64_t offset, uint64_t length,
                 struct bd_sink *sink, struct bd_error *err)
{
	if (check_name(s, name, err) < 0)
		return -1;
	if (length == 0) {
		/* Nothing to move, but the object and the offset must still make sense. */
		uint64_t size;

		if (s->ops->head(s->impl, name, &size, err) < 0)
			return failed(s, "get", name, err);
		if (offset > size || (offset == size && offset > 0))
			return bd_error_set(
			        err, BD_E_INVALID,
			        "%s store: get %s: offset %llu is past the end (%llu bytes)",
			        s->ops->name, name, (unsigned long long)offset,
			        (unsigned long long)size);
		return 0;
	}
	if (s->ops->get(s->impl, name, offset, length, sink, err) < 0)
		return failed(s, "get", name, err);
	return 0;
}

int bd_store_head(struct bd_store *s, const char *name, uint64_t *size, struct bd_error *err)
{
	if (check_name(s, name, err) < 0)
		return -1;
	if (s->ops->head(s->impl, name, size, err) < 0)
		return failed(s, "head", name, err);
	return 0;
}

int bd_store_delete(struct bd_store *s, const char *name, struct bd_error *err)
{
	if (check_name(s, name, err) < 0)
		return -1;
	if (s->ops->del(s->impl, name, err) < 0)
		return failed(s, "delete", name, err);
	return 0;
}

int bd_store_list(struct bd_store *s, const char *prefix,
                  int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                  struct bd_error *err)
{
	if (!prefix_valid(prefix))
		return bd_error_set(err, BD_E_INVALID, "%s store: '%.64s' is not a valid prefix",
		                    s->ops->name, prefix ? prefix : "(null)");
	if (s->ops->list(s->impl, prefix, cb, ctx, err) < 0)
		return bd_error_prefix(err, "%s store: list '%s'", s->ops->name, prefix);
	return 0;
}

struct package_delete {
	struct bd_store *s;
	size_t deleted;
	struct bd_error *err;
	int failed;
};

static int delete_listed(void *ctx, const char *name, uint64_t size)
{
	struct package_delete *pd = ctx;

	if (bd_store_delete(pd->s, name, pd->err) < 0) {
		pd->failed = 1;
		return 1;
	}
	pd->deleted++;
	return 0;
}

int bd_store_delete_package(struct bd_store *s, const char *id_hex, size_t *deleted,
                            struct bd_error *err)
{
	struct package_delete pd = {s, 0, err, 0};
	char name[40];

	if (strlen(id_hex) != 16 || strspn(id_hex, "0123456789abcdef") != 16)
		return bd_error_set(err, BD_E_INVALID, "'%.40s' is not a package id", id_hex);
	snprintf(name, sizeof(name), "%s/0", id_hex);
	if (bd_store_delete(s, name, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/", id_hex);
	if (bd_store_list(s, name, delete_listed, &pd, err) < 0 || pd.failed)
		return -1;
	if (deleted)
		*deleted = pd.deleted;
	return 0;
}

/*
 * The in-memory store: a sorted array under one mutex. Data is read from the
 * source before the lock is taken, so a slow source never blocks others, and
 * an object appears only once it is complete.
 */
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

static const struct bd_store_ops mem_ops = {
        .name = "memory",
        .put = mem_put,
        .get = mem_get,
        .head = mem_head,
        .del = mem_del,
        .list = mem_list,
        .close = mem_close,
};

struct bd_store *bd_store_new_memory(void)
{
	struct mem_store *m = bd_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return bd_store_new(&mem_ops, m);
}
