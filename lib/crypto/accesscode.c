/*
 * accesscode.c - normalising, hashing and checking a sender's access code
 * (see accesscode.h): Argon2id through crypto_pwhash_str at the interactive
 * limits, so a check costs a visitor about a tenth of a second and a stolen
 * manifest body an attacker as much per guess.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "accesscode.h"

#include <sodium.h>
#include <string.h>

_Static_assert(BD_ACCESS_CODE_HASH_MAX == crypto_pwhash_STRBYTES,
               "BD_ACCESS_CODE_HASH_MAX must be crypto_pwhash_STRBYTES");

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

int bd_access_code_normalise(const char *code, char out[BD_ACCESS_CODE_MAX + 1],
                             struct bd_error *err)
{
	const unsigned char *p = (const unsigned char *)code, *end;
	size_t n = 0;

	while (is_space(*p))
		p++;
	end = p + strlen((const char *)p);
	while (end > p && is_space(end[-1]))
		end--;
	if (end == p)
		return bd_error_set(err, BD_E_INVALID, "access code: empty");
	if ((size_t)(end - p) > BD_ACCESS_CODE_MAX)
		return bd_error_set(err, BD_E_INVALID, "access code: longer than %d bytes",
		                    BD_ACCESS_CODE_MAX);
	for (; p < end; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			sodium_memzero(out, BD_ACCESS_CODE_MAX + 1);
			return bd_error_set(err, BD_E_INVALID,
			                    "access code: holds a control character");
		}
		out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
	}
	out[n] = '\0';
	return (int)n;
}

int bd_access_code_hash(const char *code, char out[BD_ACCESS_CODE_HASH_MAX], struct bd_error *err)
{
	char norm[BD_ACCESS_CODE_MAX + 1];
	int n, rc = 0;

	if (sodium_init() < 0)
		return bd_error_set(err, BD_E_CRYPTO, "libsodium could not be initialised");
	n = bd_access_code_normalise(code, norm, err);
	if (n < 0)
		return -1;
	if (crypto_pwhash_str(out, norm, (unsigned long long)n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		rc = bd_error_set(err, BD_E_TEMP,
		                  "access code: could not be hashed (out of memory)");
	sodium_memzero(norm, sizeof(norm));
	return rc;
}

int bd_access_code_check(const char *hash, const char *code)
{
	char norm[BD_ACCESS_CODE_MAX + 1];
	struct bd_error err;
	int n, ok;

	if (hash == NULL || code == NULL || sodium_init() < 0 ||
	    strnlen(hash, BD_ACCESS_CODE_HASH_MAX) == BD_ACCESS_CODE_HASH_MAX)
		return 0;
	n = bd_access_code_normalise(code, norm, &err);
	if (n < 0)
		return 0;
	ok = crypto_pwhash_str_verify(hash, norm, (unsigned long long)n) == 0;
	sodium_memzero(norm, sizeof(norm));
	return ok;
}
