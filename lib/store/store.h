/*
 * store.h - object storage: the interface every caller uses.
 *
 * bd_store_open() picks the driver [storage] driver names ("gateway": the
 * object API of bestanden-gateway; "s3": any S3-compatible store) from one
 * table, store_drivers.c. Object names use only [0-9a-f/] (see package.h),
 * so they never need escaping; other names are refused. Every call has
 * timeouts and retries, and on failure says which backend, which object and
 * which HTTP status or curl error. A struct bd_store may be used from
 * several threads at once. Drivers see store-private.h as well.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_STORE_H
#define BD_STORE_H

#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "io.h"

#define BD_STORE_TO_END UINT64_MAX
/* Longest object name any driver accepts (the gateway keeps names as paths). */
#define BD_STORE_NAME_MAX 255

struct bd_store;

/*
 * The driver SETTINGS->driver names, credentials loaded. BD_E_CONFIG for a
 * driver no table row has or a key the driver needs left empty.
 */
struct bd_store *bd_store_open(const struct bd_conf_storage *settings, struct bd_error *err);
void bd_store_close(struct bd_store **store);
/* "gateway" or "s3", for log lines; "?" for a value that names no driver. */
const char *bd_store_driver_name(enum bd_storage_driver driver);
/*
 * `bestanden storage init`: prepare the storage SETTINGS names. S3 creates
 * the bucket when CREATE is set (an existing bucket of ours is fine) and
 * installs the lifecycle rules: objects expire after EXPIRE_DAYS days,
 * incomplete multipart uploads are aborted after one day. The gateway driver
 * has nothing to create: it checks that the object API answers and accepts
 * the token.
 */
int bd_store_init(const struct bd_conf_storage *settings, int create, unsigned expire_days,
                  struct bd_error *err);

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
 * True when NAME uses only [0-9a-f/], is not empty, is at most
 * BD_STORE_NAME_MAX long and has no "//" and no leading or trailing '/'.
 */
int bd_store_name_valid(const char *name);

#endif
