/*
 * fuzz-token.c - libFuzzer target for link tokens.
 *
 * Mode 0 feeds the input to bd_token_decode as a string: it must be refused
 * without a crash, and anything accepted must re-encode to the same string.
 * Mode 1 builds a genuine token from the input, checks the round trip, then
 * changes one character (chosen by the input) and insists on a refusal.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void decode_any(const struct bd_keyring *kr, const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), again[BD_TOKEN_MAX_CHARS + 1];
	struct bd_token t;
	struct bd_error err;

	memcpy(s, data, size);
	s[size] = '\0';
	for (int64_t now = 0; now <= 1; now++) {
		int r = bd_token_decode(s, kr, now ? INT64_MAX : 0, &t, &err);

		if (r == 0) {
			if (bd_token_encode(&t, kr, again, &err) < 0 || strcmp(again, s) != 0)
				abort(); /* a second spelling of a genuine token */
		} else if (err.code != BD_E_INVALID && err.code != BD_E_EXPIRED) {
			abort();
		}
	}
	free(s);
}

static void genuine(const struct bd_keyring *kr, const uint8_t *data, size_t size)
{
	struct bd_token t = {0}, u;
	char s[BD_TOKEN_MAX_CHARS + 1];
	struct bd_error err;
	size_t pos;

	if (size < 32)
		return;
	t.type = data[0] & 1 ? BD_TOKEN_UPLOAD : data[0] & 2 ? BD_TOKEN_MANAGE : BD_TOKEN_DOWNLOAD;
	t.key_id = 1;
	t.expires = (int64_t)((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
	                      (uint32_t)data[3] << 8 | data[4]);
	memcpy(t.package_id, data + 5, sizeof(t.package_id));
	memcpy(t.secret, data + 13, sizeof(t.secret));
	if (bd_token_encode(&t, kr, s, &err) < 0 || strlen(s) != BD_TOKEN_MAX_CHARS)
		abort();
	if (bd_token_decode(s, kr, t.expires - 1, &u, &err) < 0 || u.type != t.type ||
	    u.expires != t.expires || memcmp(u.package_id, t.package_id, 8) != 0 ||
	    memcmp(u.secret, t.secret, 16) != 0)
		abort();
	if (bd_token_decode(s, kr, t.expires, &u, &err) == 0 || err.code != BD_E_EXPIRED)
		abort();
	pos = data[29] % BD_TOKEN_MAX_CHARS;
	s[pos] = data[30] & 0x80 ? (char)data[31] : alphabet[data[31] % 64];
	if (s[pos] == '\0')
		s[pos] = '.';
	if (bd_token_decode(s, kr, 0, &u, &err) == 0) {
		char orig[BD_TOKEN_MAX_CHARS + 1];

		/* only the unchanged token may pass */
		if (bd_token_encode(&t, kr, orig, &err) < 0 || strcmp(orig, s) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bd_keyring *kr;

	if (kr == NULL)
		kr = fuzz_keyring(BD_NEED_LINK);
	if (size == 0)
		return 0;
	if (data[0] == 'G')
		genuine(kr, data + 1, size - 1);
	else
		decode_any(kr, data, size);
	return 0;
}
