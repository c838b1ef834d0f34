/*
 * store.c - the storage interface's core: object-name and prefix checks,
 * then dispatch to the driver's operations (store-private.h).
 *
 * Drivers report what went wrong in their own terms (HTTP status, curl
 * error); this layer puts the backend and the object name in front.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "store-private.h"
#include "mem.h"

#include <stdlib.h>

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
