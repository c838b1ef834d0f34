/*
 * package.h - the split key of one package (the attachments of one message).
 *
 * A package has a random 8-byte id (its object prefix, 16 hex digits), a
 * 16-byte secret that exists only in the link, and a 32-byte server key
 * that is stored only sealed (crypto_box_seal) to the gateway's X25519
 * public key. Content keys derive from both with keyed BLAKE2b and a
 * distinct domain string per file and for the manifest (docs/FORMAT.md),
 * so neither the link alone nor the store alone opens anything, and
 * destroying the gateway's secret key destroys every package sealed to it.
 * struct bd_package_keys lives in sodium_malloc'ed memory: free it with
 * bd_package_keys_free().
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_PACKAGE_H
#define BD_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define BD_PACKAGE_ID_BYTES        8
#define BD_PACKAGE_ID_HEX          17 /* 16 hex digits and NUL */
#define BD_SECRET_BYTES            16
#define BD_SERVER_KEY_BYTES        32
#define BD_SEALED_SERVER_KEY_BYTES 80 /* crypto_box_SEALBYTES + 32 */
#define BD_CONTENT_KEY_BYTES       32

struct bd_package_keys {
	uint8_t id[BD_PACKAGE_ID_BYTES];
	uint8_t secret[BD_SECRET_BYTES];
	uint8_t server_key[BD_SERVER_KEY_BYTES];
};

/* Fresh random id, secret and server key. Never fails (aborts without memory). */
struct bd_package_keys *bd_package_keys_new(void);
/* An empty one, for bd_package_open_server_key() to fill. */
struct bd_package_keys *bd_package_keys_alloc(void);
void bd_package_keys_free(struct bd_package_keys **keys);

void bd_package_id_hex(const uint8_t id[BD_PACKAGE_ID_BYTES], char out[BD_PACKAGE_ID_HEX]);
int bd_package_id_parse(const char *hex, uint8_t id[BD_PACKAGE_ID_BYTES]);
/* Object names: "<hex id>/0" for the manifest, "<hex id>/<n in hex>" for file n >= 1. */
void bd_package_object_name(const uint8_t id[BD_PACKAGE_ID_BYTES], unsigned n, char *out,
                            size_t size);

/* Content key of file INDEX (1-based) and of the manifest body. */
void bd_package_file_key(const struct bd_package_keys *keys, unsigned index,
                         uint8_t out[BD_CONTENT_KEY_BYTES]);
void bd_package_manifest_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES]);
/* Content key of an upload request's body (request.h): the request's id, secret, server key. */
void bd_package_request_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES]);
/* Key that seals the package's event objects (package/events.h), and the key of the
 * keyed hash that stands for a client address in them: like every content key, only
 * the link and the gateway key together give them. */
void bd_package_events_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES]);
void bd_package_client_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES]);

/* Seal the server key to a gateway public key; open it with that pair's secret key.
 * Sealing returns -1 (OUT zeroed, so nothing can open it) only for an unusable public key,
 * e.g. a low-order point from a damaged key file; bd_manifest_seal reports it as BD_E_KEY. */
int bd_package_seal_server_key(const struct bd_package_keys *keys, const uint8_t gateway_pk[32],
                               uint8_t out[BD_SEALED_SERVER_KEY_BYTES]);
int bd_package_open_server_key(const uint8_t sealed[BD_SEALED_SERVER_KEY_BYTES],
                               const uint8_t gateway_pk[32], const uint8_t gateway_sk[32],
                               struct bd_package_keys *keys, struct bd_error *err);

#endif
