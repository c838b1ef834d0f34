/*
 * cookie.c - the verification cookie's codec (see cookie.h). Keyed BLAKE2b
 * for the key, the address hash and the MAC, each with its own domain
 * string; the MAC is compared in constant time before anything else of the
 * cookie is believed.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "cookie.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#define VERSION 1
#define BODY    (1 + BD_PACKAGE_ID_BYTES + 8 + GW_COOKIE_WHO) /* what the MAC covers */
#define MAC     (GW_COOKIE_BYTES - BODY)

void gw_cookie_key(const uint8_t *link_key, uint8_t out[GW_COOKIE_KEY])
{
	static const char domain[] = "bestanden verify cookie v1";

	crypto_generichash(out, GW_COOKIE_KEY, (const uint8_t *)domain, sizeof(domain) - 1,
	                   link_key, 32);
}

void gw_cookie_who(const uint8_t key[GW_COOKIE_KEY], const uint8_t id[BD_PACKAGE_ID_BYTES],
                   const char *address, uint8_t out[GW_COOKIE_WHO])
{
	static const char domain[] = "bestanden verified address v1";
	crypto_generichash_state st;
	const char *at = strrchr(address, '@');
	size_t local = at != NULL ? (size_t)(at - address) : strlen(address);

	crypto_generichash_init(&st, key, GW_COOKIE_KEY, GW_COOKIE_WHO);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain) - 1);
	crypto_generichash_update(&st, id, BD_PACKAGE_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)address, local);
	for (const char *p = address + local; *p; p++) {
		uint8_t c = (uint8_t)tolower((unsigned char)*p);

		crypto_generichash_update(&st, &c, 1);
	}
	crypto_generichash_final(&st, out, GW_COOKIE_WHO);
}

static void mac(const uint8_t key[GW_COOKIE_KEY], const uint8_t body[BODY], uint8_t out[MAC])
{
	crypto_generichash(out, MAC, body, BODY, key, GW_COOKIE_KEY);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void gw_cookie_encode(const uint8_t key[GW_COOKIE_KEY], const uint8_t id[BD_PACKAGE_ID_BYTES],
                      int64_t expires, const uint8_t *who, char out[GW_COOKIE_CHARS + 1])
{
	uint8_t raw[GW_COOKIE_BYTES] = {VERSION};

	memcpy(raw + 1, id, BD_PACKAGE_ID_BYTES);
	put_be64(raw + 1 + BD_PACKAGE_ID_BYTES, (uint64_t)expires);
	if (who != NULL)
		memcpy(raw + 1 + BD_PACKAGE_ID_BYTES + 8, who, GW_COOKIE_WHO);
	mac(key, raw, raw + BODY);
	sodium_bin2base64(out, GW_COOKIE_CHARS + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int gw_cookie_decode(const uint8_t key[GW_COOKIE_KEY], const uint8_t id[BD_PACKAGE_ID_BYTES],
                     const char *value, int64_t now, uint8_t who[GW_COOKIE_WHO])
{
	uint8_t raw[GW_COOKIE_BYTES], want[MAC];
	size_t len = 0;
	int64_t expires;
	int ok;

	if (strlen(value) != GW_COOKIE_CHARS ||
	    sodium_base642bin(raw, sizeof(raw), value, GW_COOKIE_CHARS, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(raw))
		return -1;
	mac(key, raw, want);
	ok = sodium_memcmp(want, raw + BODY, MAC) == 0;
	/* the package compared whatever the MAC said: the time taken tells nothing */
	ok &= sodium_memcmp(raw + 1, id, BD_PACKAGE_ID_BYTES) == 0;
	ok &= raw[0] == VERSION;
	expires = (int64_t)get_be64(raw + 1 + BD_PACKAGE_ID_BYTES);
	ok &= expires > now && expires <= now + GW_COOKIE_LIFETIME + 60;
	if (!ok)
		return -1;
	memcpy(who, raw + 1 + BD_PACKAGE_ID_BYTES + 8, GW_COOKIE_WHO);
	return 0;
}

const char *gw_cookie_next(const char *header, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = header;

	while (p != NULL && *p) {
		const char *end = strchr(p, ';');
		size_t len;

		p += strspn(p, " \t");
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=' && len - nl - 1 < size) {
			memcpy(out, p + nl + 1, len - nl - 1);
			out[len - nl - 1] = '\0';
			return end != NULL ? end + 1 : p + len;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}
