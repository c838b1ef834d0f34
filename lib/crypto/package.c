/*
 * package.c - the split key of a package: ids, content keys, the sealed server key.
 *
 * Content key = BLAKE2b-256 keyed with the server key over a NUL-terminated
 * domain string, the link secret and a 32-bit big-endian index, so the link
 * (secret) and the gateway (server key) are both needed. The exact bytes are
 * in docs/FORMAT.md, "Package keys".
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "package.h"
#include "mem.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Domain strings; the NUL is part of the hashed input (sizeof counts it). */
static const char file_domain[] = "bestanden/v1 file key";
static const char manifest_domain[] = "bestanden/v1 manifest key";
static const char request_domain[] = "bestanden/v1 request key";
static const char events_domain[] = "bestanden/v1 events key";
static const char client_domain[] = "bestanden/v1 client key";

struct bd_package_keys *bd_package_keys_alloc(void)
{
	struct bd_package_keys *keys = bd_secret_alloc(sizeof(*keys));

	sodium_memzero(keys, sizeof(*keys));
	return keys;
}

struct bd_package_keys *bd_package_keys_new(void)
{
	struct bd_package_keys *keys = bd_package_keys_alloc();

	randombytes_buf(keys->id, sizeof(keys->id));
	randombytes_buf(keys->secret, sizeof(keys->secret));
	randombytes_buf(keys->server_key, sizeof(keys->server_key));
	return keys;
}

void bd_package_keys_free(struct bd_package_keys **keys)
{
	bd_secret_free(*keys);
	*keys = NULL;
}

void bd_package_id_hex(const uint8_t id[BD_PACKAGE_ID_BYTES], char out[BD_PACKAGE_ID_HEX])
{
	sodium_bin2hex(out, BD_PACKAGE_ID_HEX, id, BD_PACKAGE_ID_BYTES);
}

int bd_package_id_parse(const char *hex, uint8_t id[BD_PACKAGE_ID_BYTES])
{
	/* exactly 16 lowercase hex digits: object names have one spelling */
	for (int i = 0; i < 2 * BD_PACKAGE_ID_BYTES; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return -1;
	if (hex[2 * BD_PACKAGE_ID_BYTES] != '\0')
		return -1;
	for (int i = 0; i < BD_PACKAGE_ID_BYTES; i++) {
		int hi = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
		int lo = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;

		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void bd_package_object_name(const uint8_t id[BD_PACKAGE_ID_BYTES], unsigned n, char *out,
                            size_t size)
{
	char hex[BD_PACKAGE_ID_HEX];

	bd_package_id_hex(id, hex);
	snprintf(out, size, "%s/%x", hex, n);
}

static void content_key(const struct bd_package_keys *keys, const char *domain, size_t domainlen,
                        uint32_t index, uint8_t out[BD_CONTENT_KEY_BYTES])
{
	crypto_generichash_state st;
	uint8_t be[4] = {(uint8_t)(index >> 24), (uint8_t)(index >> 16), (uint8_t)(index >> 8),
	                 (uint8_t)index};

	crypto_generichash_init(&st, keys->server_key, sizeof(keys->server_key),
	                        BD_CONTENT_KEY_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)domain, domainlen);
	crypto_generichash_update(&st, keys->secret, sizeof(keys->secret));
	crypto_generichash_update(&st, be, sizeof(be));
	crypto_generichash_final(&st, out, BD_CONTENT_KEY_BYTES);
	sodium_memzero(&st, sizeof(st));
}

void bd_package_file_key(const struct bd_package_keys *keys, unsigned index,
                         uint8_t out[BD_CONTENT_KEY_BYTES])
{
	content_key(keys, file_domain, sizeof(file_domain), index, out);
}

void bd_package_manifest_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES])
{
	content_key(keys, manifest_domain, sizeof(manifest_domain), 0, out);
}

void bd_package_request_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES])
{
	content_key(keys, request_domain, sizeof(request_domain), 0, out);
}

void bd_package_events_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES])
{
	content_key(keys, events_domain, sizeof(events_domain), 0, out);
}

void bd_package_client_key(const struct bd_package_keys *keys, uint8_t out[BD_CONTENT_KEY_BYTES])
{
	content_key(keys, client_domain, sizeof(client_domain), 0, out);
}

int bd_package_seal_server_key(const struct bd_package_keys *keys, const uint8_t gateway_pk[32],
                               uint8_t out[BD_SEALED_SERVER_KEY_BYTES])
{
	if (crypto_box_seal(out, keys->server_key, sizeof(keys->server_key), gateway_pk) != 0) {
		sodium_memzero(out, BD_SEALED_SERVER_KEY_BYTES);
		return -1;
	}
	return 0;
}

int bd_package_open_server_key(const uint8_t sealed[BD_SEALED_SERVER_KEY_BYTES],
                               const uint8_t gateway_pk[32], const uint8_t gateway_sk[32],
                               struct bd_package_keys *keys, struct bd_error *err)
{
	if (crypto_box_seal_open(keys->server_key, sealed, BD_SEALED_SERVER_KEY_BYTES, gateway_pk,
	                         gateway_sk) != 0) {
		sodium_memzero(keys->server_key, sizeof(keys->server_key));
		return bd_error_set(err, BD_E_CRYPTO,
		                    "the sealed server key does not open with this gateway key");
	}
	return 0;
}
