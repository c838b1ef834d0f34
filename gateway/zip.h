/*
 * zip.h - every file of a package as one zip, streamed (libarchive).
 *
 * Entries are stored, not compressed: most attachments are compressed
 * already, and storing keeps a download as fast as the single files.
 * Names are the manifest's display names, UTF-8 flagged; a '/' or '\'
 * becomes '_' and a repeated name gets " (2)", " (3)" ... before its
 * extension, so nothing unpacks outside the folder or over a sibling.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_ZIP_H
#define GW_ZIP_H

#include "download.h"
#include "error.h"
#include "io.h"

/* Write the zip of all files of D to OUT. */
int gw_zip_write(struct bd_download *d, struct bd_sink *out, struct bd_error *err);
/* The entry names of M's files, in order, NULL-terminated, each unique. */
char **gw_zip_entry_names(const struct bd_manifest *m);
void gw_zip_entry_names_free(char ***names);

#endif
