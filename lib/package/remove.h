/*
 * remove.h - deleting one package from storage, the one way every caller does it.
 *
 * The manifest "<id>/0" goes first, so the package's link is dead even if a
 * later delete fails; then every other "<id>/..." object. What is left after a
 * failure has no manifest: an orphan, which the gateway's sweep (and for S3
 * the lifecycle rule) removes. Used by `bestanden revoke`, the sweep, the
 * rewrite when storing fails and the milter when nobody will get the link.
 *
 * The sender's own revocation (the /m/ link) leaves one marker behind,
 * "<id>/ffffffff": 8 bytes, the date the package would have expired, nothing
 * else. While it is there the recipients' link says "withdrawn by the
 * sender" (410) instead of "does not work"; the sweep deletes it at that date.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_REMOVE_H
#define BD_REMOVE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/*
 * Delete package ID_HEX (16 lowercase hex digits) from S. *DELETED (may be
 * NULL) counts the objects removed after the manifest. Deleting what is not
 * there is not an error, so this is idempotent.
 */
int bd_package_delete(struct bd_store *s, const char *id_hex, size_t *deleted,
                      struct bd_error *err);

#define BD_PACKAGE_WITHDRAWN_INDEX 0xffffffffu /* the marker's object number */

/* The sender's revocation: bd_package_delete, then the marker, kept until UNTIL. */
int bd_package_withdraw(struct bd_store *s, const char *id_hex, int64_t until, size_t *deleted,
                        struct bd_error *err);
/* 1 when package ID_HEX was withdrawn by its sender (*UNTIL, may be NULL: the marker's
 * date), 0 when there is no marker, -1 with ERR when storage failed. */
int bd_package_withdrawn(struct bd_store *s, const char *id_hex, int64_t *until,
                         struct bd_error *err);

#endif
