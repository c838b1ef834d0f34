/*
 * info.h - what storage tells about packages without their links: the admin
 * API's package status and storage statistics, and `bestanden inspect` of a
 * package id.
 *
 * Only the manifest's clear header (created, expires) and the objects' names
 * and stored sizes are read: no keys, so no file names and no plaintext
 * sizes (those need the link, download.h). The caller owns what comes back.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_INFO_H
#define BD_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "package.h"
#include "store.h"

struct bd_package_object {
	unsigned index;  /* object number; 0 is the manifest */
	uint64_t stored; /* bytes in storage (encrypted) */
};

struct bd_package_info {
	char id[BD_PACKAGE_ID_HEX];
	int64_t created, expires;          /* unix seconds, from the manifest's clear header */
	struct bd_package_object *objects; /* the files' objects, manifest not counted */
	size_t nobjects;
	uint64_t stored; /* all objects, manifest included */
};

/* Package ID_HEX in S; BD_E_NOTFOUND when it has no manifest (revoked, swept, unknown). */
int bd_package_info(struct bd_store *s, const char *id_hex, struct bd_package_info *out,
                    struct bd_error *err);
void bd_package_info_free(struct bd_package_info *info);

struct bd_storage_totals {
	uint64_t objects;  /* every object */
	uint64_t bytes;    /* their stored size */
	uint64_t packages; /* objects named <id>/0: packages with a manifest */
};

/* Count what S holds (one listing of everything). */
int bd_storage_totals(struct bd_store *s, struct bd_storage_totals *out, struct bd_error *err);

#endif
