/*
 * upload.h - upload requests and the uploads made through them.
 *
 * Creating a request stores its sealed object "<id>/0" (request.h) and gives
 * the link token (type 2); opening one checks the token and reads the object
 * back. An upload is a new package, built while the files arrive: each file
 * is encrypted as it comes (STREAM, push) into an unlinked 0600 spool file
 * and stored when it ends, so memory does not grow with its size; the
 * request's limits (size per file and in total, number of files, expiry) are
 * held at every byte; with clamd, each file's plaintext is scanned while it is
 * encrypted (scan.h) and stored only when clean. bd_upload_commit seals and stores the manifest and
 * gives the download token; until then, or after any failure, bd_upload_abort (and bd_upload_free)
 * deletes whatever was stored (remove.h). A struct bd_upload is used by one thread; it holds the
 * package keys in secret memory until it is freed.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_UPLOAD_H
#define BD_UPLOAD_H

#include <stdint.h>

#include "error.h"
#include "keys.h"
#include "manifest.h"
#include "request.h"
#include "store.h"
#include "token.h"

/*
 * Store request R (requester, recipient, note, limits, flags, created, expires
 * filled in) under fresh keys signed with KR's current keys; R->id and the key ids
 * are set here. TOKEN gets the link's token.
 */
int bd_upload_request_create(struct bd_store *s, const struct bd_keyring *kr, struct bd_request *r,
                             char token[BD_TOKEN_MAX_CHARS + 1], struct bd_error *err);
/*
 * Check TOKEN (type 2) at NOW and read its request. Errors as bd_download_open:
 * BD_E_EXPIRED (410; *OUT then NULL), BD_E_INVALID / NOTFOUND / CRYPTO / KEY (404),
 * BD_E_STORAGE / BD_E_TEMP (503).
 */
int bd_upload_request_open(const char *token, const struct bd_keyring *kr, struct bd_store *s,
                           int64_t now, struct bd_request **out, struct bd_error *err);
/* Delete request R's object (a single-use request that has been used). */
int bd_upload_request_delete(struct bd_store *s, const struct bd_request *r, struct bd_error *err);

struct bd_upload_settings {
	const char *spool_dir; /* where the encrypted files wait for storage */
	int64_t retention;     /* seconds the uploaded package lives */
	const char *clamd;     /* clamd's socket: every file is scanned as it arrives; NULL: not */
	unsigned scan_timeout; /* seconds */
};

struct bd_upload;

/* A new package for an upload through REQ (copied: the limits) at NOW. */
struct bd_upload *bd_upload_begin(const struct bd_request *req, struct bd_store *s,
                                  const struct bd_keyring *kr,
                                  const struct bd_upload_settings *settings, int64_t now);
/* The next file. BD_E_LIMIT when it is one too many; BD_E_EXPIRED past the request's date. */
int bd_upload_file_begin(struct bd_upload *u, const char *name, const char *content_type,
                         struct bd_error *err);
/* More of it. BD_E_LIMIT the moment the file or the upload grows past its limit. */
int bd_upload_file_write(struct bd_upload *u, const uint8_t *data, size_t len,
                         struct bd_error *err);
/* The file is whole: store it. BD_E_INFECTED (the signature in ERR) when clamd found
 * something: nothing of it is stored; BD_E_TEMP when clamd could not say. */
int bd_upload_file_end(struct bd_upload *u, struct bd_error *err);
/*
 * Seal and store the manifest, naming UPLOADER (may be NULL) as its sender; TOKEN
 * gets the download link's token. BD_E_INVALID when no file came.
 */
int bd_upload_commit(struct bd_upload *u, const char *uploader, char token[BD_TOKEN_MAX_CHARS + 1],
                     struct bd_error *err);
/* The manifest so far (the files stored). */
const struct bd_manifest *bd_upload_manifest(const struct bd_upload *u);
/* The new package's id, 16 hex digits. */
const char *bd_upload_package_id(const struct bd_upload *u);
/* Delete what was stored (also after a commit: the requester could not be told). */
int bd_upload_abort(struct bd_upload *u, struct bd_error *err);
/* Free U; an upload neither committed nor aborted is aborted first. */
void bd_upload_free(struct bd_upload **u);

#endif
