/*
 * request.h - an upload request: what one link of type 2 lets an outsider send.
 *
 * The link (token.h, type BD_TOKEN_UPLOAD) carries the request's id, its
 * secret and its expiry; everything else - who asked, for whom, the note, the
 * limits - is in a sealed object "<id>/0" in storage, the manifest's format
 * with magic "BDRQ" and a body of its own under the request key (package.h),
 * so storage sees no address and the link alone opens nothing
 * (docs/FORMAT.md, section 10). A struct bd_request and its strings are
 * malloc'ed: bd_request_free().
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_REQUEST_H
#define BD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "keys.h"
#include "package.h"

#define BD_REQUEST_SEVERAL_USES 0x01 /* flags: the link may be used until it expires */

struct bd_request {
	uint8_t id[BD_PACKAGE_ID_BYTES];
	unsigned link_key_id;
	unsigned gateway_key_id;
	int64_t created;        /* unix seconds */
	int64_t expires;        /* unix seconds; the link's expiry too */
	char *requester;        /* who asked, and who is told of uploads: an address, never empty */
	char *recipient;        /* who was asked (an address), or NULL */
	char *note;             /* the requester's words for the uploader, or NULL */
	uint64_t max_file_size; /* bytes per file, 1 .. 2^60 */
	uint64_t max_total_size; /* bytes of all files together, 1 .. 2^60 */
	unsigned max_files;      /* 1 .. BD_MANIFEST_MAX_FILES */
	unsigned flags;          /* BD_REQUEST_* */
};

struct bd_request *bd_request_new(void);
void bd_request_free(struct bd_request **r);

/* Seal R (its id must equal KEYS->id) to GATEWAY_PK. *out is malloc'ed. */
int bd_request_seal(const struct bd_request *r, const struct bd_package_keys *keys,
                    const uint8_t gateway_pk[32], uint8_t **out, size_t *outlen,
                    struct bd_error *err);
/* Open a sealed request with the link's SECRET; errors as bd_manifest_open. *KEYS_OUT
 * may be NULL when the caller needs no keys. */
int bd_request_open(const uint8_t *buf, size_t len, const uint8_t secret[BD_SECRET_BYTES],
                    const struct bd_keyring *kr, struct bd_request **r_out,
                    struct bd_package_keys **keys_out, struct bd_error *err);

/* The body codec alone (tests, fuzzing): decoding fills the strings, limits and flags of R
 * and accepts exactly what encoding produces. */
int bd_request_body_encode(const struct bd_request *r, uint8_t **out, size_t *outlen,
                           struct bd_error *err);
int bd_request_body_decode(const uint8_t *buf, size_t len, struct bd_request *r,
                           struct bd_error *err);

#endif
