/*
 * store.h - object storage: one interface, two drivers.
 *
 * "gateway": the embedded store of bestanden-gateway, over its object API
 * (PUT/GET/HEAD/DELETE /v1/objects/<name>, bearer token). "s3": any
 * S3-compatible store, SigV4 via libcurl. Object names use only [0-9a-f/]
 * (see package.h), so they never need escaping; other names are refused.
 * Every call has timeouts, retries 5xx answers and timeouts with backoff,
 * and on failure says which backend, which object and which HTTP status or
 * curl error. A struct bd_store may be used from several threads at once.
 */
#ifndef BD_STORE_H
#define BD_STORE_H

#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "io.h"

#define BD_STORE_TO_END UINT64_MAX

struct bd_store;

/* The driver the configuration names ([storage] driver), credentials loaded. */
struct bd_store *bd_store_open(const struct bd_conf *conf, struct bd_error *err);
void bd_store_close(struct bd_store **store);
/* "gateway" or "s3", for log lines. */
const char *bd_store_driver_name(enum bd_storage_driver driver);

/* Upload exactly LENGTH bytes pulled from SRC. The object appears whole or not at all. */
int bd_store_put(struct bd_store *s, const char *name, struct bd_source *src, uint64_t length,
                 struct bd_error *err);
/*
 * Bytes [offset, offset+length) (length BD_STORE_TO_END: to the end) pushed to
 * SINK. A range running past the end stops at the end; an OFFSET at or past
 * the end of a non-empty object (or above 0 for an empty one) is BD_E_INVALID.
 */
int bd_store_get(struct bd_store *s, const char *name, uint64_t offset, uint64_t length,
                 struct bd_sink *sink, struct bd_error *err);
/* Size of an object; BD_E_NOTFOUND when it does not exist. */
int bd_store_head(struct bd_store *s, const char *name, uint64_t *size, struct bd_error *err);
/* Delete; deleting what is not there is not an error. */
int bd_store_delete(struct bd_store *s, const char *name, struct bd_error *err);
/*
 * Call CB for every object whose name starts with PREFIX ("" for all), in
 * byte order of names; CB returns non-zero to stop. CB may delete the object
 * it is given.
 */
int bd_store_list(struct bd_store *s, const char *prefix,
                  int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                  struct bd_error *err);

/*
 * Delete package ID_HEX (16 hex digits): its manifest "<id>/0" first, so its link
 * is dead even if a later delete fails, then every other "<id>/..." object.
 * *DELETED (may be NULL) counts the file objects removed. Idempotent.
 */
int bd_store_delete_package(struct bd_store *s, const char *id_hex, size_t *deleted,
                            struct bd_error *err);

/* Drivers, and test doubles for fault injection, implement these. */
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
	void (*close)(void *impl);
};
struct bd_store *bd_store_new(const struct bd_store_ops *ops, void *impl);
/*
 * True when NAME uses only [0-9a-f/], is not empty, is at most
 * BD_STORE_NAME_MAX long and has no "//" and no leading or trailing '/'.
 */
int bd_store_name_valid(const char *name);
/* Longest object name any driver accepts (the gateway keeps names as paths). */
#define BD_STORE_NAME_MAX 255

/* The drivers themselves, for callers that know which one they want. */
struct bd_store *bd_store_gateway_open(const struct bd_conf *conf, struct bd_error *err);
struct bd_store *bd_store_s3_open(const struct bd_conf *conf, struct bd_error *err);
/*
 * `bestanden storage init` for S3: create the bucket when CREATE_BUCKET is set
 * (an existing bucket of ours is fine), then install the lifecycle rules:
 * objects expire after EXPIRE_DAYS days, incomplete multipart uploads are
 * aborted after one day.
 */
int bd_store_s3_init(const struct bd_conf *conf, int create_bucket, unsigned expire_days,
                     struct bd_error *err);

/* An in-memory store (thread-safe), for unit tests of code that uses a store. */
struct bd_store *bd_store_new_memory(void);

#endif
