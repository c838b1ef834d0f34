/*
 * store-private.h - what a storage driver implements and registers.
 *
 * A driver fills a struct bd_store_ops and wraps its state with
 * bd_store_new(); store_drivers.c lists each driver once, indexed by enum
 * bd_storage_driver, with its open and optional init. Only drivers, the
 * table and tests that inject faults include this; callers use store.h.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_STORE_PRIVATE_H
#define BD_STORE_PRIVATE_H

#include "store.h"

/* One driver instance's operations; store.c checks names and prefixes errors. */
struct bd_store_ops {
	const char *name; /* "gateway", "s3", "memory" - used in error messages */
	int (*put)(void *impl, const char *name, struct bd_source *src, uint64_t length,
	           struct bd_error *err);
	int (*get)(void *impl, const char *name, uint64_t offset, uint64_t length,
	           struct bd_sink *sink, struct bd_error *err);
	int (*head)(void *impl, const char *name, uint64_t *size, struct bd_error *err);
	int (*del)(void *impl, const char *name, struct bd_error *err);
	int (*list)(void *impl, const char *prefix,
	            int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
	            struct bd_error *err);
	void (*close)(void *impl); /* may be NULL */
};
struct bd_store *bd_store_new(const struct bd_store_ops *ops, void *impl);

/* A row of the driver table. */
struct bd_store_driver {
	const char *name; /* the [storage] driver word */
	struct bd_store *(*open)(const struct bd_conf_storage *settings, struct bd_error *err);
	/* bd_store_init() for this driver; NULL when there is nothing to prepare. */
	int (*init)(const struct bd_conf_storage *settings, int create, unsigned expire_days,
	            struct bd_error *err);
};
/* The row for DRIVER, or NULL when the table has none. */
const struct bd_store_driver *bd_store_driver_find(enum bd_storage_driver driver);

/* The drivers' entry points, for the table. */
struct bd_store *bd_store_gateway_open(const struct bd_conf_storage *settings,
                                       struct bd_error *err);
int bd_store_gateway_init(const struct bd_conf_storage *settings, int create, unsigned expire_days,
                          struct bd_error *err);
struct bd_store *bd_store_s3_open(const struct bd_conf_storage *settings, struct bd_error *err);
int bd_store_s3_init(const struct bd_conf_storage *settings, int create, unsigned expire_days,
                     struct bd_error *err);

/* The HTTP client the [storage] timeouts and retries describe, for the HTTP drivers. */
struct bd_http *bd_store_http_new(const struct bd_conf_storage *settings);

#endif
