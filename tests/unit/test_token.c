/*
 * test_token.c - link tokens: round trip, the FORMAT.md vector, every single-bit
 * flip and every one-character change refused, lengths, alphabet, unknown and
 * wrong keys, expiry reported only for genuine tokens.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "keydir.h"
#include "keys.h"
#include "token.h"

#define NOW 1750000000 /* 2025-06-15 */

struct fixture {
	char *dir;
	struct bd_keyring *kr;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (sodium_init() < 0)
		return -1;
	f->dir = keydir_make(NULL, NULL);
	f->kr = bd_keyring_load(f->dir, BD_NEED_LINK, NULL);
	if (f->kr == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bd_keyring_free(&f->kr);
	keydir_remove(f->dir);
	free(f);
	return 0;
}

static struct bd_token sample(enum bd_token_type type)
{
	struct bd_token t = {.type = type, .key_id = 1, .expires = NOW + 14 * 86400};

	randombytes_buf(t.package_id, sizeof(t.package_id));
	randombytes_buf(t.secret, sizeof(t.secret));
	return t;
}

static void test_roundtrip(void **state)
{
	struct fixture *f = *state;

	for (int type = BD_TOKEN_DOWNLOAD; type <= BD_TOKEN_MANAGE; type++) {
		struct bd_token t = sample(type), u;
		char s[BD_TOKEN_MAX_CHARS + 1];
		struct bd_error err;

		assert_int_equal(bd_token_encode(&t, f->kr, s, &err), 0);
		assert_int_equal(strlen(s), BD_TOKEN_MAX_CHARS);
		assert_int_equal(
		        strspn(s,
		               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
		        BD_TOKEN_MAX_CHARS);
		assert_int_equal(bd_token_decode(s, f->kr, NOW, &u, &err), 0);
		assert_int_equal(u.type, type);
		assert_int_equal(u.key_id, 1);
		assert_int_equal(u.expires, t.expires);
		assert_memory_equal(u.package_id, t.package_id, sizeof(t.package_id));
		assert_memory_equal(u.secret, t.secret, sizeof(t.secret));
	}
}

/* docs/FORMAT.md, "Test vectors": fixed link key, package id and secret. */
static void test_format_vector(void **state)
{
	static const char want[] = "EQFpVbkAASNFZ4mrze9AQUJDREVGR0hJSktMTU5PRroyoCXltMoIp0yM";
	static const char want_manage[] =
	        "EwFpVbkAASNFZ4mrze9AQUJDREVGR0hJSktMTU5PcQpCvYYPBggIcsog";
	uint8_t link_key[32], gw_sk[32];
	struct bd_token t = {.type = BD_TOKEN_DOWNLOAD, .key_id = 1, .expires = 1767225600}, u;
	char s[BD_TOKEN_MAX_CHARS + 1], *dir;
	struct bd_keyring *kr;

	for (int i = 0; i < 32; i++) {
		link_key[i] = (uint8_t)i;
		gw_sk[i] = (uint8_t)(0x20 + i);
	}
	for (int i = 0; i < 8; i++)
		t.package_id[i] = (uint8_t)(0x01 + 0x22 * i);
	for (int i = 0; i < 16; i++)
		t.secret[i] = (uint8_t)(0x40 + i);
	dir = keydir_make(link_key, gw_sk);
	kr = bd_keyring_load(dir, BD_NEED_LINK, NULL);
	assert_non_null(kr);
	assert_int_equal(bd_token_encode(&t, kr, s, NULL), 0);
	assert_string_equal(s, want);
	assert_int_equal(bd_token_decode(want, kr, 1767225599, &u, NULL), 0);
	assert_memory_equal(u.secret, t.secret, 16);
	/* the same package's management link (type 3) */
	t.type = BD_TOKEN_MANAGE;
	assert_int_equal(bd_token_encode(&t, kr, s, NULL), 0);
	assert_string_equal(s, want_manage);
	assert_int_equal(bd_token_decode(want_manage, kr, 1767225599, &u, NULL), 0);
	assert_int_equal(u.type, BD_TOKEN_MANAGE);
	bd_keyring_free(&kr);
	keydir_remove(dir);
}

/* Type 4 and up, and 0, are refused even with a MAC that matches: a version-1 reader knows
 * only download, upload request and management links. */
static void test_unknown_type_with_genuine_mac(void **state)
{
	struct fixture *f = *state;
	struct bd_token t = sample(BD_TOKEN_MANAGE), u;
	uint8_t raw[BD_TOKEN_BYTES], key[32], full[crypto_generichash_BYTES];
	static const char domain[] = "bestanden/v1 link token";
	char s[BD_TOKEN_MAX_CHARS + 1];
	crypto_generichash_state st;
	size_t len;
	struct bd_error err;

	memcpy(key, bd_keyring_link_key(f->kr, 1), sizeof(key));
	assert_int_equal(bd_token_encode(&t, f->kr, s, NULL), 0);
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), s, strlen(s), NULL, &len, NULL,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	for (int type = 0; type < 16; type++) {
		if (type >= BD_TOKEN_DOWNLOAD && type <= BD_TOKEN_MANAGE)
			continue;
		raw[0] = (uint8_t)(BD_TOKEN_VERSION << 4 | type);
		crypto_generichash_init(&st, key, sizeof(key), sizeof(full));
		crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
		crypto_generichash_update(&st, raw, 30);
		crypto_generichash_final(&st, full, sizeof(full));
		memcpy(raw + 30, full, 12);
		sodium_bin2base64(s, sizeof(s), raw, sizeof(raw),
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		assert_int_equal(bd_token_decode(s, f->kr, NOW, &u, &err), -1);
		assert_int_equal(err.code, BD_E_INVALID);
	}
}

static void test_every_bit_flip(void **state)
{
	struct fixture *f = *state;
	struct bd_token t = sample(BD_TOKEN_DOWNLOAD), u;
	char s[BD_TOKEN_MAX_CHARS + 1], m[BD_TOKEN_MAX_CHARS + 1];
	uint8_t raw[BD_TOKEN_BYTES];
	size_t len;
	struct bd_error err;

	assert_int_equal(bd_token_encode(&t, f->kr, s, NULL), 0);
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), s, strlen(s), NULL, &len, NULL,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	assert_int_equal(len, BD_TOKEN_BYTES);
	for (size_t i = 0; i < BD_TOKEN_BYTES; i++)
		for (int b = 0; b < 8; b++) {
			raw[i] ^= (uint8_t)(1 << b);
			sodium_bin2base64(m, sizeof(m), raw, sizeof(raw),
			                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
			/* even when the flipped token would be long expired, it is INVALID, not
			 * EXPIRED */
			assert_int_equal(bd_token_decode(m, f->kr, NOW, &u, &err), -1);
			assert_int_equal(err.code, BD_E_INVALID);
			assert_int_equal(bd_token_decode(m, f->kr, INT64_MAX, &u, &err), -1);
			assert_int_equal(err.code, BD_E_INVALID);
			/* and leaves nothing behind */
			assert_int_equal(u.key_id, 0);
			raw[i] ^= (uint8_t)(1 << b);
		}
	assert_int_equal(bd_token_decode(s, f->kr, NOW, &u, &err), 0);
}

static void test_every_character_change(void **state)
{
	struct fixture *f = *state;
	struct bd_token t = sample(BD_TOKEN_UPLOAD), u;
	char s[BD_TOKEN_MAX_CHARS + 1], m[BD_TOKEN_MAX_CHARS + 1];
	struct bd_error err;

	assert_int_equal(bd_token_encode(&t, f->kr, s, NULL), 0);
	/* every other byte value at every position: libsodium 1.0.18's base64 decoder maps
	 * some bytes >= 0x80 onto alphabet values, so this once found a second spelling */
	for (size_t i = 0; i < BD_TOKEN_MAX_CHARS; i++)
		for (int c = 1; c < 256; c++) {
			if ((char)c == s[i])
				continue;
			memcpy(m, s, sizeof(m));
			m[i] = (char)c;
			assert_int_equal(bd_token_decode(m, f->kr, NOW, &u, &err), -1);
			assert_int_equal(err.code, BD_E_INVALID);
		}
}

static void test_lengths(void **state)
{
	struct fixture *f = *state;
	struct bd_token t = sample(BD_TOKEN_DOWNLOAD), u;
	char s[BD_TOKEN_MAX_CHARS + 1], m[2 * BD_TOKEN_MAX_CHARS + 2];
	struct bd_error err;

	assert_int_equal(bd_token_encode(&t, f->kr, s, NULL), 0);
	for (size_t n = 0; n < BD_TOKEN_MAX_CHARS; n++) { /* every truncation */
		memcpy(m, s, n);
		m[n] = '\0';
		assert_int_equal(bd_token_decode(m, f->kr, NOW, &u, &err), -1);
		assert_int_equal(err.code, BD_E_INVALID);
	}
	for (size_t n = 1; n <= BD_TOKEN_MAX_CHARS;
	     n++) { /* every extension, incl. a doubled token */
		snprintf(m, sizeof(m), "%s%.*s", s, (int)n, s);
		assert_int_equal(bd_token_decode(m, f->kr, NOW, &u, &err), -1);
		assert_int_equal(err.code, BD_E_INVALID);
	}
	snprintf(m, sizeof(m), "%s=", s);
	assert_int_equal(bd_token_decode(m, f->kr, NOW, &u, &err), -1);
	snprintf(m, sizeof(m), "%s\n", s);
	assert_int_equal(bd_token_decode(m, f->kr, NOW, &u, &err), -1);
	assert_int_equal(bd_token_decode(s, f->kr, NOW, &u, &err), 0);
}

static void test_expiry(void **state)
{
	struct fixture *f = *state;
	struct bd_token t = sample(BD_TOKEN_DOWNLOAD), u;
	char s[BD_TOKEN_MAX_CHARS + 1];
	struct bd_error err;
	static const uint8_t zero[BD_SECRET_BYTES];

	assert_int_equal(bd_token_encode(&t, f->kr, s, NULL), 0);
	assert_int_equal(bd_token_decode(s, f->kr, t.expires - 1, &u, &err), 0);
	assert_int_equal(bd_token_decode(s, f->kr, t.expires, &u, &err), -1);
	assert_int_equal(err.code, BD_E_EXPIRED);
	/* genuine: the package id is there for the log, the secret is not */
	assert_memory_equal(u.package_id, t.package_id, sizeof(t.package_id));
	assert_memory_equal(u.secret, zero, sizeof(zero));
	assert_int_equal(bd_token_decode(s, f->kr, INT64_MAX, &u, &err), -1);
	assert_int_equal(err.code, BD_E_EXPIRED);
	/* the expiry range of the 32-bit field */
	t.expires = UINT32_MAX;
	assert_int_equal(bd_token_encode(&t, f->kr, s, NULL), 0);
	assert_int_equal(bd_token_decode(s, f->kr, NOW, &u, &err), 0);
	assert_int_equal(u.expires, UINT32_MAX);
	t.expires = (int64_t)UINT32_MAX + 1;
	assert_int_equal(bd_token_encode(&t, f->kr, s, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	t.expires = -1;
	assert_int_equal(bd_token_encode(&t, f->kr, s, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
}

static void test_keys(void **state)
{
	struct fixture *f = *state;
	struct bd_token t = sample(BD_TOKEN_DOWNLOAD), u;
	char s[BD_TOKEN_MAX_CHARS + 1], *other_dir;
	struct bd_keyring *other, *rotated;
	struct bd_error err;

	/* signing with a key id that is not loaded */
	t.key_id = 2;
	assert_int_equal(bd_token_encode(&t, f->kr, s, &err), -1);
	assert_int_equal(err.code, BD_E_KEY);
	t.key_id = 0;
	assert_int_equal(bd_token_encode(&t, f->kr, s, &err), -1);
	t.key_id = 1;
	t.type = 4; /* the first type there is none of */
	assert_int_equal(bd_token_encode(&t, f->kr, s, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	t.type = BD_TOKEN_DOWNLOAD;
	/* another installation's key of the same id: not genuine */
	other_dir = keydir_make(NULL, NULL);
	other = bd_keyring_load(other_dir, BD_NEED_LINK, NULL);
	assert_non_null(other);
	assert_int_equal(bd_token_encode(&t, f->kr, s, NULL), 0);
	assert_int_equal(bd_token_decode(s, other, NOW, &u, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	/* after rotation: the new key signs, the old id still verifies, an unknown id does not */
	assert_int_equal(bd_keys_rotate(other_dir, BD_KEY_LINK, NULL), 2);
	rotated = bd_keyring_load(other_dir, BD_NEED_LINK, NULL);
	assert_non_null(rotated);
	t.key_id = 2;
	assert_int_equal(bd_token_encode(&t, rotated, s, NULL), 0);
	assert_int_equal(bd_token_decode(s, rotated, NOW, &u, &err), 0);
	assert_int_equal(u.key_id, 2);
	assert_int_equal(bd_token_decode(s, other, NOW, &u, &err), -1); /* id 2 unknown there */
	assert_int_equal(err.code, BD_E_INVALID);
	t.key_id = 1;
	assert_int_equal(bd_token_encode(&t, other, s, NULL), 0);
	assert_int_equal(bd_token_decode(s, rotated, NOW, &u, &err), 0);
	bd_keyring_free(&rotated);
	bd_keyring_free(&other);
	keydir_remove(other_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_format_vector),
	        cmocka_unit_test(test_every_bit_flip),
	        cmocka_unit_test(test_every_character_change),
	        cmocka_unit_test(test_lengths),
	        cmocka_unit_test(test_expiry),
	        cmocka_unit_test(test_keys),
	        cmocka_unit_test(test_unknown_type_with_genuine_mac),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
