/*
 * remove.c - delete one package (see remove.h): the manifest by name, then
 * what a listing of the package's prefix still shows. The listing may hand
 * each object to the delete as it goes: every driver allows that.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "remove.h"
#include "package.h"

#include <stdio.h>
#include <string.h>

struct removal {
	struct bd_store *s;
	size_t deleted;
	struct bd_error *err;
	int failed;
};

static int remove_listed(void *ctx, const char *name, uint64_t size)
{
	struct removal *r = ctx;

	if (bd_store_delete(r->s, name, r->err) < 0) {
		r->failed = 1;
		return 1;
	}
	r->deleted++;
	return 0;
}

int bd_package_delete(struct bd_store *s, const char *id_hex, size_t *deleted, struct bd_error *err)
{
	struct removal r = {s, 0, err, 0};
	char name[BD_PACKAGE_ID_HEX + 2];
	int rv;

	if (deleted != NULL)
		*deleted = 0;
	if (strlen(id_hex) != BD_PACKAGE_ID_HEX - 1 ||
	    strspn(id_hex, "0123456789abcdef") != BD_PACKAGE_ID_HEX - 1)
		return bd_error_set(err, BD_E_INVALID, "'%.40s' is not a package id", id_hex);
	snprintf(name, sizeof(name), "%s/0", id_hex);
	if (bd_store_delete(s, name, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/", id_hex);
	rv = bd_store_list(s, name, remove_listed, &r, err) < 0 || r.failed ? -1 : 0;
	if (deleted != NULL)
		*deleted = r.deleted;
	return rv;
}
