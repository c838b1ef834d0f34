/*
 * test_request.c - upload requests: the request key and the sealed request of
 * docs/FORMAT.md section 10, seal and open, a request is never a manifest
 * (nor the other way round), the body codec's rules, tampering.
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
#include "manifest.h"
#include "mem.h"
#include "request.h"

/* docs/FORMAT.md 10.4 */
static const char body_hex[] =
        "000e6a616e406578616d706c652e6e6c001368757572646572406578616d706c652e6f7267"
        "0017496e6b6f6d656e737665726b6c6172696e6720323032340000000000a0000000000000"
        "03200000000500";
static const char sealed_hex[] =
        "42445251010101000123456789abcdef0000000069434400000000006955b900a1faf5d101"
        "8c395e41b823910795d6ff13078ec46f8fd5e157d4c5d8b131f366e07416b6c56dbdbe3677"
        "f7d6d720d45b0a363d2bbadd75e31f2d133d5d5e5b307895761b210558db231f51b9588a1f"
        "fcac10d6f7973051ad78bd43a9451b56cb35749eb8566a771c54e1afb091ea088a02cafeea"
        "4b8cafb69dad729113282c1f112e8adb3985b9463a5e1d8307e7a8b65023032c48b7ee2a57"
        "8c9eb46d182c2b336c5c3fcc1f57a1095662c4fff5612009a8a1a29198906673e74e605db4"
        "2e683fb6ff71101d95afd9";

static void hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t binlen;

	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &binlen, NULL), 0);
	assert_int_equal(binlen, len);
}

/* The FORMAT.md package: id 0123456789abcdef, secret 40..4f, server key 50..6f. */
static struct bd_package_keys *vector_keys(void)
{
	static const uint8_t id[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	struct bd_package_keys *k = bd_package_keys_alloc();

	memcpy(k->id, id, sizeof(id));
	for (int i = 0; i < 16; i++)
		k->secret[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 32; i++)
		k->server_key[i] = (uint8_t)(0x50 + i);
	return k;
}

static struct bd_request *vector_request(void)
{
	struct bd_request *r = bd_request_new();

	hex_decode("0123456789abcdef", r->id, 8);
	r->link_key_id = 1;
	r->gateway_key_id = 1;
	r->created = 1766016000;
	r->expires = 1767225600;
	r->requester = bd_strdup("jan@example.nl");
	r->recipient = bd_strdup("huurder@example.org");
	r->note = bd_strdup("Inkomensverklaring 2024");
	r->max_file_size = 10485760;
	r->max_total_size = 52428800;
	r->max_files = 5;
	return r;
}

static void test_request_key_vector(void **state)
{
	struct bd_package_keys *k = vector_keys();
	uint8_t key[32], want[32], mkey[32];

	bd_package_request_key(k, key);
	hex_decode("86a55dce45c8fbea2220aad2090a446f364d9658833611a915354c5fefa86c58", want, 32);
	assert_memory_equal(key, want, 32);
	/* a domain of its own: never the manifest key */
	bd_package_manifest_key(k, mkey);
	assert_memory_not_equal(key, mkey, 32);
	bd_package_keys_free(&k);
}

static void test_body_vector(void **state)
{
	struct bd_request *r = vector_request(), *back = bd_request_new();
	uint8_t want[81], *body;
	size_t len;
	struct bd_error err;

	hex_decode(body_hex, want, sizeof(want));
	assert_int_equal(bd_request_body_encode(r, &body, &len, &err), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(body, want, len);
	assert_int_equal(bd_request_body_decode(body, len, back, &err), 0);
	assert_string_equal(back->requester, "jan@example.nl");
	assert_string_equal(back->recipient, "huurder@example.org");
	assert_string_equal(back->note, "Inkomensverklaring 2024");
	assert_int_equal(back->max_file_size, 10485760);
	assert_int_equal(back->max_total_size, 52428800);
	assert_int_equal(back->max_files, 5);
	assert_int_equal(back->flags, 0);
	free(body);
	bd_request_free(&r);
	bd_request_free(&back);
}

/* The sealed vector opens with gateway secret key 1 and the secret, and nothing else does. */
static void test_sealed_vector(void **state)
{
	uint8_t link_key[32], gsk[32], sealed[233], secret[16];
	char *dir;
	struct bd_keyring *kr;
	struct bd_request *r = NULL;
	struct bd_package_keys *k = NULL;
	struct bd_manifest *m = NULL;
	struct bd_manifest_header h;
	struct bd_error err;

	for (int i = 0; i < 32; i++) {
		link_key[i] = (uint8_t)i;
		gsk[i] = (uint8_t)(0x20 + i);
	}
	for (int i = 0; i < 16; i++)
		secret[i] = (uint8_t)(0x40 + i);
	dir = keydir_make(link_key, gsk);
	kr = bd_keyring_load(dir, BD_NEED_GATEWAY_SECRET | BD_NEED_GATEWAY_PUBLIC, &err);
	assert_non_null(kr);
	hex_decode(sealed_hex, sealed, sizeof(sealed));

	assert_int_equal(bd_manifest_parse_header(sealed, sizeof(sealed), &h, &err), 0);
	assert_int_equal(h.kind, BD_SEALED_REQUEST);
	assert_int_equal(h.expires, 1767225600);

	assert_int_equal(bd_request_open(sealed, sizeof(sealed), secret, kr, &r, &k, &err), 0);
	assert_string_equal(r->requester, "jan@example.nl");
	assert_string_equal(r->note, "Inkomensverklaring 2024");
	assert_int_equal(r->created, 1766016000);
	assert_int_equal(r->expires, 1767225600);
	assert_int_equal(k->server_key[0], 0x50);
	assert_int_equal(k->server_key[31], 0x6f);
	bd_request_free(&r);
	bd_package_keys_free(&k);

	/* a request is not a manifest, even with the right secret */
	assert_int_equal(bd_manifest_open(sealed, sizeof(sealed), secret, kr, &m, &k, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	/* a wrong secret */
	secret[0] ^= 1;
	assert_int_equal(bd_request_open(sealed, sizeof(sealed), secret, kr, &r, NULL, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	secret[0] ^= 1;
	/* every single-bit flip */
	for (size_t i = 0; i < sizeof(sealed) * 8; i++) {
		sealed[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(
		        bd_request_open(sealed, sizeof(sealed), secret, kr, &r, NULL, &err), -1);
		sealed[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	bd_keyring_free(&kr);
	keydir_remove(dir);
}

/* Seal, open; a manifest never opens as a request. */
static void test_roundtrip(void **state)
{
	char *dir = keydir_make(NULL, NULL);
	struct bd_error err;
	struct bd_keyring *kr =
	        bd_keyring_load(dir, BD_NEED_GATEWAY_SECRET | BD_NEED_GATEWAY_PUBLIC, &err);
	struct bd_package_keys *k = bd_package_keys_new(), *k2 = NULL;
	struct bd_request *r = vector_request(), *back = NULL;
	struct bd_manifest *m = bd_manifest_new();
	uint8_t *buf;
	size_t len;

	assert_non_null(kr);
	memcpy(r->id, k->id, 8);
	free(r->recipient);
	r->recipient = NULL;
	r->flags = BD_REQUEST_SEVERAL_USES;
	assert_int_equal(bd_request_seal(r, k, bd_keyring_gateway_public(kr, 1), &buf, &len, &err),
	                 0);
	assert_int_equal(bd_request_open(buf, len, k->secret, kr, &back, &k2, &err), 0);
	assert_null(back->recipient);
	assert_int_equal(back->flags, BD_REQUEST_SEVERAL_USES);
	assert_memory_equal(back->id, k->id, 8);
	assert_memory_equal(k2->server_key, k->server_key, 32);
	free(buf);
	bd_request_free(&back);
	bd_package_keys_free(&k2);

	memcpy(m->package_id, k->id, 8);
	m->link_key_id = m->gateway_key_id = 1;
	assert_int_equal(bd_manifest_seal(m, k, bd_keyring_gateway_public(kr, 1), &buf, &len, &err),
	                 0);
	assert_int_equal(bd_request_open(buf, len, k->secret, kr, &back, NULL, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	free(buf);
	bd_manifest_free(&m);
	bd_request_free(&r);
	bd_package_keys_free(&k);
	bd_keyring_free(&kr);
	keydir_remove(dir);
}

/* The body rules of FORMAT.md 10.2, both ways. */
static void test_body_rules(void **state)
{
	struct bd_request *r = vector_request(), *back;
	uint8_t want[81], spoilt[82];
	struct bd_error err;
	uint8_t *body;
	size_t len;

	hex_decode(body_hex, want, sizeof(want));
	/* trailing byte, truncation, unknown flag, zero files, zero size, empty requester */
	memcpy(spoilt, want, 81);
	spoilt[81] = 0;
	back = bd_request_new();
	assert_int_equal(bd_request_body_decode(spoilt, 82, back, &err), -1);
	bd_request_free(&back);
	for (size_t n = 0; n < 81; n++) {
		back = bd_request_new();
		assert_int_equal(bd_request_body_decode(want, n, back, &err), -1);
		bd_request_free(&back);
	}
	memcpy(spoilt, want, 81);
	spoilt[80] = 0x02;
	back = bd_request_new();
	assert_int_equal(bd_request_body_decode(spoilt, 81, back, &err), -1);
	bd_request_free(&back);
	memcpy(spoilt, want, 81);
	spoilt[78] = spoilt[79] = 0;
	back = bd_request_new();
	assert_int_equal(bd_request_body_decode(spoilt, 81, back, &err), -1);
	bd_request_free(&back);

	r->max_total_size = 0;
	assert_int_equal(bd_request_body_encode(r, &body, &len, &err), -1);
	r->max_total_size = 1;
	r->max_files = BD_MANIFEST_MAX_FILES + 1;
	assert_int_equal(bd_request_body_encode(r, &body, &len, &err), -1);
	r->max_files = 1;
	r->requester[0] = '\0';
	assert_int_equal(bd_request_body_encode(r, &body, &len, &err), -1);
	bd_request_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_request_key_vector), cmocka_unit_test(test_body_vector),
	        cmocka_unit_test(test_sealed_vector),      cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_body_rules),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
