/*
 * sealed.h - what the two sealed objects of a package id share: the
 * manifest (manifest.h) and the upload request (request.h).
 *
 * Both are a 136-byte clear header (magic, version, key ids, id, created,
 * expires, sealed server key, body nonce) and a body under XChaCha20-Poly1305
 * with the header as associated data; only the magic and the content key of
 * the body differ (docs/FORMAT.md, sections 5 and 10). The body codec is a
 * big-endian writer and a bounds-checked reader of integers and u16-length
 * strings. Bodies are wiped when released: they hold names and addresses.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_SEALED_H
#define BD_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "keys.h"
#include "manifest.h"
#include "package.h"

/* ---- body codec ---- */

struct bd_codec_writer {
	uint8_t *p;
	size_t len, cap;
};

void bd_codec_put(struct bd_codec_writer *w, const void *data, size_t n);
void bd_codec_put_be(struct bd_codec_writer *w, uint64_t v, int n);
/* A u16-length string of at most BD_MANIFEST_MAX_STRING bytes; WHAT names it in errors. */
int bd_codec_put_string(struct bd_codec_writer *w, const char *s, const char *what,
                        struct bd_error *err);
/* Wipe and free what W holds. */
void bd_codec_writer_wipe(struct bd_codec_writer *w);

struct bd_codec_reader {
	const uint8_t *p;
	size_t len, pos;
	const char *what; /* "manifest body", for errors */
};

/* 0, or -1 with ERR (BD_E_INVALID: truncated). */
int bd_codec_get_be(struct bd_codec_reader *r, int n, uint64_t *v, struct bd_error *err);
/* A u16-length string; EMPTY_NULL turns length 0 into NULL (the optional fields). */
int bd_codec_get_string(struct bd_codec_reader *r, int empty_null, char **out,
                        struct bd_error *err);
/* A u16 count of at most MAX WHATs (BD_E_LIMIT past it). */
int bd_codec_get_count(struct bd_codec_reader *r, uint64_t max, const char *what, uint64_t *n,
                       struct bd_error *err);
/* 0 when every byte was read, else BD_E_INVALID. */
int bd_codec_get_end(const struct bd_codec_reader *r, struct bd_error *err);

/* ---- the sealed object ---- */

/*
 * Seal BODY under KIND's content key of KEYS into a new object *OUT (malloc'ed).
 * H gives the version-independent fields: package id (must equal KEYS->id), key
 * ids, created, expires; its sealed_server_key is filled here.
 */
int bd_sealed_seal(enum bd_sealed_kind kind, const struct bd_manifest_header *h,
                   const struct bd_package_keys *keys, const uint8_t gateway_pk[32],
                   const uint8_t *body, size_t bodylen, uint8_t **out, size_t *outlen,
                   struct bd_error *err);
/*
 * Open an object of KIND with the link SECRET and KR's gateway key: *H, the body
 * (*BODY malloc'ed, wipe it) and the keys (*KEYS_OUT). Anything else than an intact
 * object of KIND is BD_E_CRYPTO; an unknown gateway key id is BD_E_KEY.
 */
int bd_sealed_open(enum bd_sealed_kind kind, const uint8_t *buf, size_t len,
                   const uint8_t secret[BD_SECRET_BYTES], const struct bd_keyring *kr,
                   struct bd_manifest_header *h, uint8_t **body, size_t *bodylen,
                   struct bd_package_keys **keys_out, struct bd_error *err);

#endif
