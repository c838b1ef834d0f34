/*
 * info.c - a package and the whole store as a listing and one manifest header
 * show them (see info.h). Object names are "<16 hex id>/<hex number>".
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "info.h"
#include "manifest.h"
#include "mem.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJECTS_MAX (BD_MANIFEST_MAX_FILES + 1)
#define HEADER_TAG  crypto_aead_xchacha20poly1305_ietf_ABYTES

static int note_object(void *ctx, const char *name, uint64_t size)
{
	struct bd_package_info *info = ctx;
	const char *slash = strchr(name, '/');
	unsigned long n;
	char *end;

	if (slash == NULL)
		return 0;
	n = strtoul(slash + 1, &end, 16);
	if (*end != '\0' || end == slash + 1)
		return 0; /* not an object of ours */
	info->stored += size;
	if (n == 0 || info->nobjects == OBJECTS_MAX)
		return 0;
	info->objects = bd_realloc(info->objects, (info->nobjects + 1) * sizeof(*info->objects));
	info->objects[info->nobjects++] = (struct bd_package_object){(unsigned)n, size};
	return 0;
}

/* The manifest's clear header: the first bytes of "<id>/0" (the parser wants the tag too). */
static int read_header(struct bd_store *s, const char *id_hex, struct bd_manifest_header *h,
                       struct bd_error *err)
{
	struct bd_buf_sink buf;
	char name[BD_PACKAGE_ID_HEX + 2];
	int r;

	snprintf(name, sizeof(name), "%s/0", id_hex);
	bd_buf_sink_init(&buf);
	r = bd_store_get(s, name, 0, BD_MANIFEST_HEADER_BYTES + HEADER_TAG, &buf.sink, err);
	if (r == 0)
		r = bd_manifest_parse_header(buf.data, buf.len, h, err);
	free(buf.data);
	return r;
}

int bd_package_info(struct bd_store *s, const char *id_hex, struct bd_package_info *out,
                    struct bd_error *err)
{
	struct bd_manifest_header h;
	char prefix[BD_PACKAGE_ID_HEX + 1];

	memset(out, 0, sizeof(*out));
	if (strlen(id_hex) != BD_PACKAGE_ID_HEX - 1 ||
	    strspn(id_hex, "0123456789abcdef") != BD_PACKAGE_ID_HEX - 1)
		return bd_error_set(err, BD_E_INVALID, "'%.40s' is not a package id", id_hex);
	if (read_header(s, id_hex, &h, err) < 0)
		return -1;
	memcpy(out->id, id_hex, BD_PACKAGE_ID_HEX);
	out->created = h.created;
	out->expires = h.expires;
	snprintf(prefix, sizeof(prefix), "%s/", id_hex);
	if (bd_store_list(s, prefix, note_object, out, err) < 0) {
		bd_package_info_free(out);
		return -1;
	}
	return 0;
}

void bd_package_info_free(struct bd_package_info *info)
{
	free(info->objects);
	info->objects = NULL;
	info->nobjects = 0;
}

static int count_object(void *ctx, const char *name, uint64_t size)
{
	struct bd_storage_totals *t = ctx;
	size_t len = strlen(name);

	t->objects++;
	t->bytes += size;
	if (len > 2 && strcmp(name + len - 2, "/0") == 0)
		t->packages++;
	return 0;
}

int bd_storage_totals(struct bd_store *s, struct bd_storage_totals *out, struct bd_error *err)
{
	memset(out, 0, sizeof(*out));
	return bd_store_list(s, "", count_object, out, err);
}
