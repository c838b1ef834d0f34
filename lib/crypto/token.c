/*
 * token.c - signing and verifying link tokens.
 *
 * 42 bytes: version/type, link key id, expiry, package id, secret, and a
 * 12-byte MAC (BLAKE2b-256 keyed with the link key over a domain string and
 * the first 30 bytes, truncated) - 56 base64url characters without padding.
 * Decoding accepts exactly one spelling per token. Layout: docs/FORMAT.md.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "token.h"

#include <sodium.h>
#include <string.h>

#define TOKEN_BYTES  42
#define SIGNED_BYTES 30
#define MAC_BYTES    12

static const char mac_domain[] = "bestanden/v1 link token"; /* NUL included in the MAC input */

static int known_type(int type)
{
	return type == BD_TOKEN_DOWNLOAD || type == BD_TOKEN_UPLOAD || type == BD_TOKEN_MANAGE;
}

static void token_mac(const uint8_t key[BD_LINK_KEY_BYTES], const uint8_t raw[SIGNED_BYTES],
                      uint8_t mac[MAC_BYTES])
{
	crypto_generichash_state st;
	uint8_t full[crypto_generichash_BYTES];

	crypto_generichash_init(&st, key, BD_LINK_KEY_BYTES, sizeof(full));
	crypto_generichash_update(&st, (const uint8_t *)mac_domain, sizeof(mac_domain));
	crypto_generichash_update(&st, raw, SIGNED_BYTES);
	crypto_generichash_final(&st, full, sizeof(full));
	memcpy(mac, full, MAC_BYTES);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(full, sizeof(full));
}

int bd_token_encode(const struct bd_token *t, const struct bd_keyring *kr,
                    char out[BD_TOKEN_MAX_CHARS + 1], struct bd_error *err)
{
	const uint8_t *key;
	uint8_t raw[TOKEN_BYTES];

	if (!known_type((int)t->type))
		return bd_error_set(err, BD_E_INVALID, "token: unknown type %d", (int)t->type);
	if (t->expires < 0 || t->expires > (int64_t)UINT32_MAX)
		return bd_error_set(err, BD_E_INVALID, "token: expiry %lld is out of range",
		                    (long long)t->expires);
	key = t->key_id >= 1 && t->key_id <= BD_KEY_ID_MAX ? bd_keyring_link_key(kr, t->key_id)
	                                                   : NULL;
	if (key == NULL)
		return bd_error_set(err, BD_E_KEY, "token: link key %u is not loaded", t->key_id);
	raw[0] = (uint8_t)(BD_TOKEN_VERSION << 4 | t->type);
	raw[1] = (uint8_t)t->key_id;
	raw[2] = (uint8_t)(t->expires >> 24);
	raw[3] = (uint8_t)(t->expires >> 16);
	raw[4] = (uint8_t)(t->expires >> 8);
	raw[5] = (uint8_t)t->expires;
	memcpy(raw + 6, t->package_id, BD_PACKAGE_ID_BYTES);
	memcpy(raw + 14, t->secret, BD_SECRET_BYTES);
	token_mac(key, raw, raw + SIGNED_BYTES);
	sodium_bin2base64(out, BD_TOKEN_MAX_CHARS + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int bd_token_decode(const char *s, const struct bd_keyring *kr, int64_t now, struct bd_token *out,
                    struct bd_error *err)
{
	uint8_t raw[TOKEN_BYTES], mac[MAC_BYTES];
	const uint8_t *key;
	size_t len = strnlen(s, BD_TOKEN_MAX_CHARS + 1), binlen = 0;
	int64_t expires;
	int type;

	memset(out, 0, sizeof(*out));
	if (len != BD_TOKEN_MAX_CHARS)
		return bd_error_set(err, BD_E_INVALID, "token: wrong length");
	/* Only the 64 characters of base64url. libsodium 1.0.18 maps some bytes >= 0x80
	 * onto alphabet values (signed char arithmetic), so it cannot be the only check. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return bd_error_set(err, BD_E_INVALID, "token: not base64url");
	}
	/* 56 characters carry exactly 42 bytes with no spare bits: one spelling per token */
	if (sodium_base642bin(raw, sizeof(raw), s, len, NULL, &binlen, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    binlen != sizeof(raw))
		return bd_error_set(err, BD_E_INVALID, "token: not base64url");
	type = raw[0] & 0x0f;
	if (raw[0] >> 4 != BD_TOKEN_VERSION || !known_type(type))
		goto invalid;
	key = bd_keyring_link_key(kr, raw[1]);
	if (key == NULL)
		goto invalid;
	token_mac(key, raw, mac);
	if (sodium_memcmp(mac, raw + SIGNED_BYTES, MAC_BYTES) != 0)
		goto invalid;
	expires = (int64_t)((uint32_t)raw[2] << 24 | (uint32_t)raw[3] << 16 |
	                    (uint32_t)raw[4] << 8 | raw[5]);
	out->type = (enum bd_token_type)type;
	out->key_id = raw[1];
	out->expires = expires;
	memcpy(out->package_id, raw + 6, BD_PACKAGE_ID_BYTES);
	memcpy(out->secret, raw + 14, BD_SECRET_BYTES);
	sodium_memzero(raw, sizeof(raw));
	if (now >= expires) {
		/* genuine, so the caller may read type and package id, but never the secret */
		sodium_memzero(out->secret, sizeof(out->secret));
		return bd_error_set(err, BD_E_EXPIRED, "token: expired");
	}
	return 0;
invalid:
	sodium_memzero(raw, sizeof(raw));
	return bd_error_set(err, BD_E_INVALID, "token: not genuine");
}
