/*
 * pending.h - packages whose delete failed, kept until a retry deletes them.
 *
 * When the milter gives up on a message after part of its package reached
 * storage, nobody will get the link, so it deletes the package. If storage is
 * down at that moment the delete fails; the package id (16 hex digits, never
 * a token) and the time are then appended to DIR/pending-deletes (0600, one
 * line "<id> <unix seconds>", O_APPEND and fsync). The milter retries the file
 * at start and every minute; lines whose package was deleted, or that are older
 * than the give-up age (the sweep takes the package at its expiry), or that do
 * not parse, leave the file (a temporary file renamed over it).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_PENDING_H
#define BD_PENDING_H

#include <stdint.h>

#include "error.h"
#include "store.h"

#define BD_PENDING_FILE "pending-deletes"

/* Append package ID_HEX, given up at NOW, to DIR's file. */
int bd_pending_add(const char *dir, const char *id_hex, int64_t now, struct bd_error *err);

/*
 * Delete package ID_HEX; when that fails and DIR is not NULL, queue it there
 * for bd_pending_retry. Logs what happened. 0: deleted; 1: queued; -1 neither.
 */
int bd_package_delete_or_queue(struct bd_store *s, const char *dir, const char *id_hex);

struct bd_pending_counts {
	unsigned deleted; /* now gone from storage */
	unsigned failed;  /* still there; kept for the next retry */
	unsigned expired; /* older than the give-up age; left to the sweep */
	unsigned dropped; /* lines that did not parse */
};

/*
 * Try the deletes queued in DIR once (each outcome logged as
 * event=pending-delete), give up on those added more than GIVE_UP seconds
 * before NOW, and rewrite the file without the ones done. *C may be NULL.
 * No file is no work. -1 with ERR when the file cannot be read or rewritten.
 */
int bd_pending_retry(const char *dir, struct bd_store *s, int64_t now, uint64_t give_up,
                     struct bd_pending_counts *c, struct bd_error *err);

#endif
