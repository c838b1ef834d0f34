/*
 * download.h - opening a package from its link and reading its files.
 *
 * What the gateway's pages and `bestanden fetch` share: check the token,
 * fetch and open the manifest, then stream any byte range of any file,
 * decrypted chunk by chunk. Error codes tell the caller what to answer:
 * BD_E_EXPIRED (410), BD_E_INVALID / BD_E_NOTFOUND / BD_E_CRYPTO / BD_E_KEY
 * (404: forged, tampered, unknown and revoked look the same), BD_E_STORAGE
 * and BD_E_TEMP (503). The expiry in force is the manifest's: it starts as
 * the link's own and only bd_download_extend moves it later. A struct bd_download owns the manifest
 * and keys.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_DOWNLOAD_H
#define BD_DOWNLOAD_H

#include <stdint.h>

#include "error.h"
#include "io.h"
#include "keys.h"
#include "manifest.h"
#include "store.h"
#include "token.h"

struct bd_download;

/* Verify TOKEN (the part after /d/) at time NOW and open its package. */
int bd_download_open(const char *token, const struct bd_keyring *kr, struct bd_store *store,
                     int64_t now, struct bd_download **out, struct bd_error *err);
/* The same for a token of TYPE: BD_TOKEN_MANAGE for the sender's /m/ link. A token of any
 * other type is BD_E_INVALID, so neither link opens where the other belongs. */
int bd_download_open_as(const char *token, enum bd_token_type type, const struct bd_keyring *kr,
                        struct bd_store *store, int64_t now, struct bd_download **out,
                        struct bd_error *err);
const struct bd_manifest *bd_download_manifest(const struct bd_download *d);
/* The package id as 16 hex digits, for logs. */
const char *bd_download_package_id(const struct bd_download *d);
/* The package's keys, for its events (events.h); D owns them. */
const struct bd_package_keys *bd_download_keys(const struct bd_download *d);
/* The file with object number INDEX, or NULL. */
const struct bd_manifest_file *bd_download_find(const struct bd_download *d, unsigned index);
/*
 * Plaintext bytes [off, off+len) of file INDEX to OUT (len BD_STORE_TO_END: to the
 * end). Nothing unauthenticated reaches OUT: a tampered chunk stops the transfer
 * with BD_E_CRYPTO before its bytes are written.
 */
int bd_download_file(struct bd_download *d, unsigned index, uint64_t off, uint64_t len,
                     struct bd_sink *out, struct bd_error *err);
/* The same into a sink that lends its memory: whole chunks are decrypted in place
 * there (bd_stream_dec_lend), one copy of every byte less. */
int bd_download_file_lent(struct bd_download *d, unsigned index, uint64_t off, uint64_t len,
                          struct bd_lending_sink *out, struct bd_error *err);
/*
 * Seal the manifest anew with expiry EXPIRES (the gateway public key of its key id
 * from KR) and store it over the old one: the link works until then even past the
 * date in the link itself, and the sweep keeps the package until then. Only the
 * link can do this: the manifest is sealed with the link's secret.
 */
int bd_download_extend(struct bd_download *d, const struct bd_keyring *kr, int64_t expires,
                       struct bd_error *err);
/* The latest expiry an extension may set: the package's creation + MAX_RETENTION
 * ([admin] max_retention), the one rule for the admin API and the sender's link. */
int64_t bd_download_extend_limit(const struct bd_download *d, uint64_t max_retention);
/* bd_download_extend when EXPIRES lies after NOW and not after the limit above; else
 * BD_E_INVALID and nothing changes. */
int bd_download_extend_within(struct bd_download *d, const struct bd_keyring *kr, int64_t expires,
                              int64_t now, uint64_t max_retention, struct bd_error *err);
void bd_download_close(struct bd_download **d);

/* Object NAME from OFF, at most MAX bytes, into OUT (more is BD_E_IO): the manifest and
 * other sealed objects (upload.c). OUT->data is malloc'ed. */
int bd_download_fetch_small(struct bd_store *store, const char *name, uint64_t off, size_t max,
                            struct bd_buf_sink *out, struct bd_error *err);

#endif
