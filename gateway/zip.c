/*
 * zip.c - the "download all" zip (zip.h). libarchive writes the format
 * (local headers, data descriptors, zip64 when needed, central directory)
 * and hands its output to our callback unbuffered; file data comes from
 * bd_download_file chunk by chunk, so only a chunk is in memory at a time.
 * A zip that fails part-way must stay broken: once anything failed, nothing
 * more reaches the receiver, not even the central directory libarchive
 * writes when it is freed (a client that ignores the HTTP error would keep a
 * short archive that looks whole).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "zip.h"
#include "mem.h"
#include "names.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct zip_out {
	struct bd_sink *out;
	int failed; /* set: every further write is refused */
};

static la_ssize_t zip_write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct zip_out *z = ctx;

	if (z->failed) {
		archive_set_error(a, EPIPE, "the zip has failed");
		return -1;
	}
	if (z->out->write(z->out->ctx, buf, len) < 0) {
		archive_set_error(a, EPIPE, "the receiver stopped the transfer");
		return -1;
	}
	return (la_ssize_t)len;
}

/* Decrypted file bytes go into the current entry. */
static int entry_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct archive *a = ctx;

	while (len > 0) {
		la_ssize_t n = archive_write_data(a, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static char *clean_name(const char *name)
{
	char *s = bd_strdup(name[0] != '\0' ? name : "file");

	for (char *p = s; *p; p++)
		if (*p == '/' || *p == '\\')
			*p = '_';
	return s;
}

char **gw_zip_entry_names(const struct bd_manifest *m)
{
	char **names = bd_calloc(m->nfiles + 1, sizeof(*names));

	for (size_t i = 0; i < m->nfiles; i++) {
		char *base = clean_name(m->files[i].name);

		/* unique as written into the zip: Windows and macOS fold case */
		names[i] = bd_names_unique(base, names, i, 0);
		free(base);
	}
	return names;
}

void gw_zip_entry_names_free(char ***names)
{
	if (*names == NULL)
		return;
	for (char **p = *names; *p != NULL; p++)
		free(*p);
	free(*names);
	*names = NULL;
}

int gw_zip_write(struct bd_download *d, struct bd_sink *out, struct bd_error *err)
{
	const struct bd_manifest *m = bd_download_manifest(d);
	struct archive *a = archive_write_new();
	struct zip_out z = {out, 0};
	char **names;
	int rc = 0;

	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_store(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "zip:hdrcharset=UTF-8") != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open(a, &z, NULL, zip_write_cb, NULL) != ARCHIVE_OK) {
		rc = bd_error_set(err, BD_E_IO, "zip: %s", archive_error_string(a));
		archive_write_free(a);
		return rc;
	}
	names = gw_zip_entry_names(m);
	for (size_t i = 0; i < m->nfiles && rc == 0; i++) {
		const struct bd_manifest_file *f = &m->files[i];
		struct archive_entry *e = archive_entry_new();
		struct bd_sink sink = {entry_write, a};

		archive_entry_set_pathname_utf8(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)f->size);
		archive_entry_set_mtime(e, (time_t)m->created, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			rc = bd_error_set(err, BD_E_IO, "zip: %s", archive_error_string(a));
		else if (bd_download_file(d, f->index, 0, BD_STORE_TO_END, &sink, err) < 0)
			rc = -1;
		else if (archive_write_finish_entry(a) != ARCHIVE_OK)
			rc = bd_error_set(err, BD_E_IO, "zip: %s", archive_error_string(a));
		archive_entry_free(e);
	}
	gw_zip_entry_names_free(&names);
	if (rc < 0)
		z.failed = 1; /* archive_write_free must not end the archive */
	else if (archive_write_close(a) != ARCHIVE_OK)
		rc = bd_error_set(err, BD_E_IO, "zip: %s", archive_error_string(a));
	archive_write_free(a);
	return rc;
}
