/*
 * sweep.h - deleting expired packages from storage.
 *
 * Lists every object, groups them by package ("<16 hex id>/<n hex>"), reads
 * each manifest's clear header for the expiry (no keys needed) and deletes
 * expired packages with bd_package_delete() (remove.h): the manifest first,
 * so the link dies at once; what an interrupted sweep leaves is an orphan.
 * A manifest that cannot be read keeps its package (counted as a failure:
 * never delete what we cannot judge). Packages with no manifest are orphans
 * of failed uploads or deletes: deleted only when the caller's ORPHAN
 * callback says so. Used by the gateway's timer and `bestanden sweep`.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_SWEEP_H
#define BD_SWEEP_H

#include <stdint.h>

#include "error.h"
#include "store.h"

struct bd_sweep_stats {
	uint64_t objects;  /* objects seen */
	uint64_t packages; /* packages with a manifest */
	uint64_t expired;  /* packages deleted because they expired */
	uint64_t orphans;  /* packages without a manifest */
	uint64_t deleted;  /* objects deleted */
	uint64_t failures; /* unreadable manifests, failed deletes */
};

struct bd_sweep_options {
	int64_t now; /* unix seconds: packages with expires <= now go */
	/* Asked for each orphan (ID: 16 hex digits); return 1 to delete it. NULL: keep all. */
	int (*orphan)(void *ctx, const char *id);
	void *ctx;
};

/*
 * Sweep S. Returns 0 when everything went, -1 when listing failed or any
 * package could not be judged or deleted (ERR has the first such problem;
 * the sweep still went on past it). STATS is filled either way.
 */
int bd_sweep_run(struct bd_store *s, const struct bd_sweep_options *opts,
                 struct bd_sweep_stats *stats, struct bd_error *err);

#endif
