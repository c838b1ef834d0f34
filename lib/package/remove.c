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
#include <stdlib.h>
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

static void marker_name(const char *id_hex, char *out, size_t size)
{
	snprintf(out, size, "%s/%x", id_hex, BD_PACKAGE_WITHDRAWN_INDEX);
}

int bd_package_withdraw(struct bd_store *s, const char *id_hex, int64_t until, size_t *deleted,
                        struct bd_error *err)
{
	struct bd_mem_source src;
	uint8_t date[8];
	char name[BD_PACKAGE_ID_HEX + 9];

	if (bd_package_delete(s, id_hex, deleted, err) < 0)
		return -1;
	/* after the delete, which would take it along */
	for (int i = 0; i < 8; i++)
		date[i] = (uint8_t)((uint64_t)until >> (56 - 8 * i));
	marker_name(id_hex, name, sizeof(name));
	bd_mem_source_init(&src, date, sizeof(date));
	return bd_store_put(s, name, &src.source, sizeof(date), err);
}

int bd_package_withdrawn(struct bd_store *s, const char *id_hex, int64_t *until,
                         struct bd_error *err)
{
	struct bd_buf_sink sink;
	struct bd_error e;
	char name[BD_PACKAGE_ID_HEX + 9];
	uint64_t date = 0;

	marker_name(id_hex, name, sizeof(name));
	bd_buf_sink_init(&sink);
	if (bd_store_get(s, name, 0, 8, &sink.sink, &e) < 0) {
		free(sink.data);
		if (e.code == BD_E_NOTFOUND)
			return 0;
		if (err != NULL)
			*err = e;
		return -1;
	}
	for (size_t i = 0; i < sink.len && i < 8; i++)
		date = date << 8 | sink.data[i];
	free(sink.data);
	if (until != NULL)
		*until = (int64_t)date;
	return 1;
}
