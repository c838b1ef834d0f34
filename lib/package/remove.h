/*
 * remove.h - deleting one package from storage, the one way every caller does it.
 *
 * The manifest "<id>/0" goes first, so the package's link is dead even if a
 * later delete fails; then every other "<id>/..." object. What is left after a
 * failure has no manifest: an orphan, which the gateway's sweep (and for S3
 * the lifecycle rule) removes. Used by `bestanden revoke`, the sweep, the
 * rewrite when storing fails and the milter when nobody will get the link.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_REMOVE_H
#define BD_REMOVE_H

#include <stddef.h>

#include "error.h"
#include "store.h"

/*
 * Delete package ID_HEX (16 lowercase hex digits) from S. *DELETED (may be
 * NULL) counts the objects removed after the manifest. Deleting what is not
 * there is not an error, so this is idempotent.
 */
int bd_package_delete(struct bd_store *s, const char *id_hex, size_t *deleted,
                      struct bd_error *err);

#endif
