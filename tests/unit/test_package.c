/*
 * test_package.c - package ids and object names, content key derivation (with the
 * FORMAT.md vectors), sealing the server key and every way opening it must fail.
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

#include "package.h"
#include "package_fixture.h"

static int setup(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void test_new_and_alloc(void **state)
{
	struct bd_package_keys *a = bd_package_keys_new(), *b = bd_package_keys_new();
	struct bd_package_keys *z = bd_package_keys_alloc();
	static const struct bd_package_keys zero;

	assert_memory_not_equal(a->id, b->id, sizeof(a->id));
	assert_memory_not_equal(a->secret, b->secret, sizeof(a->secret));
	assert_memory_not_equal(a->server_key, b->server_key, sizeof(a->server_key));
	assert_memory_equal(z, &zero, sizeof(zero));
	bd_package_keys_free(&a);
	bd_package_keys_free(&b);
	bd_package_keys_free(&z);
	assert_null(a);
	bd_package_keys_free(&a); /* freeing NULL is fine */
}

static void test_ids_and_names(void **state)
{
	static const uint8_t id[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	static const char *bad[] = {"",
	                            "0123456789abcde",
	                            "0123456789abcdef0",
	                            "0123456789ABCDEF",
	                            "0123456789abcdeg",
	                            " 123456789abcdef",
	                            "0123456789abcde\n",
	                            "0x23456789abcdef"};
	char hex[BD_PACKAGE_ID_HEX], name[64];
	uint8_t back[8];

	bd_package_id_hex(id, hex);
	assert_string_equal(hex, "0123456789abcdef");
	assert_int_equal(bd_package_id_parse(hex, back), 0);
	assert_memory_equal(back, id, 8);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bd_package_id_parse(bad[i], back), -1);
	bd_package_object_name(id, 0, name, sizeof(name));
	assert_string_equal(name, "0123456789abcdef/0");
	bd_package_object_name(id, 1, name, sizeof(name));
	assert_string_equal(name, "0123456789abcdef/1");
	bd_package_object_name(id, 10, name, sizeof(name));
	assert_string_equal(name, "0123456789abcdef/a");
	bd_package_object_name(id, 1000, name, sizeof(name));
	assert_string_equal(name, "0123456789abcdef/3e8");
}

static void test_content_key_vectors(void **state)
{
	struct bd_package_keys *k = fixed_keys();
	uint8_t got[32], want[32];

	bd_package_file_key(k, 1, got);
	hex_decode("3027cd9a2249bf7a11f2a83cf0508c59bb33972c52f1551e28d9e1461168609f", want, 32);
	assert_memory_equal(got, want, 32);
	bd_package_file_key(k, 2, got);
	hex_decode("2c80c49d99cb54f6de9c9422f02f64b82c172dbdb563853297b53f96475609ac", want, 32);
	assert_memory_equal(got, want, 32);
	bd_package_manifest_key(k, got);
	hex_decode("d5200059acada8940f64a4534122de7b88eacb1a44538e9a3daf624b2ca46d33", want, 32);
	assert_memory_equal(got, want, 32);
	bd_package_keys_free(&k);
}

static void test_content_keys_depend_on_everything(void **state)
{
	struct bd_package_keys *k = fixed_keys();
	uint8_t base[32], other[32], m[32];

	bd_package_file_key(k, 1, base);
	bd_package_manifest_key(k, m);
	assert_memory_not_equal(base, m, 32);
	for (unsigned i = 2; i < 300; i++) {
		bd_package_file_key(k, i, other);
		assert_memory_not_equal(base, other, 32);
		assert_memory_not_equal(m, other, 32);
	}
	bd_package_file_key(k, 0, other); /* index 0 is not the manifest key either */
	assert_memory_not_equal(m, other, 32);
	/* every bit of the secret and of the server key matters; the id does not */
	for (size_t i = 0; i < 16 * 8; i++) {
		k->secret[i / 8] ^= (uint8_t)(1 << (i % 8));
		bd_package_file_key(k, 1, other);
		assert_memory_not_equal(base, other, 32);
		k->secret[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	for (size_t i = 0; i < 32 * 8; i++) {
		k->server_key[i / 8] ^= (uint8_t)(1 << (i % 8));
		bd_package_file_key(k, 1, other);
		assert_memory_not_equal(base, other, 32);
		k->server_key[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	bd_package_file_key(k, 1, other);
	assert_memory_equal(base, other, 32);
	bd_package_keys_free(&k);
}

static void test_seal_open(void **state)
{
	struct bd_package_keys *k = bd_package_keys_new(), *o = bd_package_keys_alloc();
	uint8_t pk[32], sk[32], pk2[32], sk2[32], sealed[BD_SEALED_SERVER_KEY_BYTES], again[80];
	static const uint8_t zero[32];
	struct bd_error err;

	crypto_box_keypair(pk, sk);
	crypto_box_keypair(pk2, sk2);
	assert_int_equal(bd_package_seal_server_key(k, pk, sealed), 0);
	assert_int_equal(bd_package_open_server_key(sealed, pk, sk, o, &err), 0);
	assert_memory_equal(o->server_key, k->server_key, 32);
	/* sealing is randomised */
	assert_int_equal(bd_package_seal_server_key(k, pk, again), 0);
	assert_memory_not_equal(sealed, again, sizeof(sealed));
	/* another gateway's key pair */
	assert_int_equal(bd_package_open_server_key(sealed, pk2, sk2, o, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	assert_memory_equal(o->server_key, zero, 32);
	/* every bit */
	for (size_t i = 0; i < sizeof(sealed) * 8; i++) {
		sealed[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(bd_package_open_server_key(sealed, pk, sk, o, &err), -1);
		assert_int_equal(err.code, BD_E_CRYPTO);
		sealed[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	assert_int_equal(bd_package_open_server_key(sealed, pk, sk, o, &err), 0);
	/* a low-order public key (a damaged key file) is refused, not used */
	assert_int_equal(bd_package_seal_server_key(k, zero, again), -1);
	bd_package_keys_free(&k);
	bd_package_keys_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_new_and_alloc),
	        cmocka_unit_test(test_ids_and_names),
	        cmocka_unit_test(test_content_key_vectors),
	        cmocka_unit_test(test_content_keys_depend_on_everything),
	        cmocka_unit_test(test_seal_open),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
