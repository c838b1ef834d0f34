/*
 * token.h - signed link tokens: https://host/d/<token>.
 *
 * A token carries version and type (download, upload request, or the
 * sender's management link https://host/m/<token>), the id of
 * the link key that signed it, the expiry, the package id, the package's
 * link secret and a truncated keyed-BLAKE2b MAC over all of that. Encoded
 * as base64url without padding, at most BD_TOKEN_MAX_CHARS characters.
 * Decoding checks length, version, key id and MAC (in constant time) before
 * the expiry, and reports an expired but genuine token as BD_E_EXPIRED; every
 * other refusal is BD_E_INVALID (the gateway answers 410 and 404). Layout in
 * docs/FORMAT.md. struct bd_token holds the secret: wipe it (sodium_memzero).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_TOKEN_H
#define BD_TOKEN_H

#include <stdint.h>

#include "error.h"
#include "keys.h"
#include "package.h"

#define BD_TOKEN_MAX_CHARS 56 /* every token is exactly this long */
#define BD_TOKEN_BYTES     42 /* decoded length */
#define BD_TOKEN_VERSION   1

enum bd_token_type {
	BD_TOKEN_DOWNLOAD = 1,
	BD_TOKEN_UPLOAD = 2,
	BD_TOKEN_MANAGE = 3, /* the sender's /m/ link: status, revoke, extend; never /d/ */
};

struct bd_token {
	enum bd_token_type type;
	unsigned key_id; /* link key id */
	int64_t expires; /* unix seconds */
	uint8_t package_id[BD_PACKAGE_ID_BYTES];
	uint8_t secret[BD_SECRET_BYTES];
};

/* Sign T with link key T->key_id from KR into OUT (NUL-terminated). */
int bd_token_encode(const struct bd_token *t, const struct bd_keyring *kr,
                    char out[BD_TOKEN_MAX_CHARS + 1], struct bd_error *err);
/* Verify S against KR at time NOW (expired when NOW >= expires). On BD_E_EXPIRED the
 * token is genuine and OUT holds everything but the secret (zeroed); on any other
 * failure OUT is all zero. */
int bd_token_decode(const char *s, const struct bd_keyring *kr, int64_t now, struct bd_token *out,
                    struct bd_error *err);

#endif
