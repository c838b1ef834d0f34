/*
 * test_manifest.c - manifests: seal and open, the clear header, every single-bit
 * flip, truncation and extension refused, wrong secret and unknown key ids, the
 * caps, the body codec and the FORMAT.md vectors.
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

struct fixture {
	char *dir;
	struct bd_keyring *kr;
	const uint8_t *pk;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (sodium_init() < 0)
		return -1;
	f->dir = keydir_make(NULL, NULL);
	f->kr = bd_keyring_load(f->dir, BD_NEED_GATEWAY_PUBLIC | BD_NEED_GATEWAY_SECRET, NULL);
	if (f->kr == NULL)
		return -1;
	f->pk = bd_keyring_gateway_public(f->kr, 1);
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

static void hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t binlen;

	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &binlen, NULL), 0);
	assert_int_equal(binlen, len);
}

static struct bd_manifest *sample(const struct bd_package_keys *keys)
{
	struct bd_manifest *m = bd_manifest_new();

	memcpy(m->package_id, keys->id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = 3;
	m->gateway_key_id = 1;
	m->created = 1750000000;
	m->expires = 1750000000 + 14 * 86400;
	m->sender = bd_strdup("jan@example.nl");
	m->message_id = bd_strdup("<abc@mail.example.nl>");
	bd_manifest_add_file(m, 1, "Jaaropgave 2024.pdf", "application/pdf", 123456);
	bd_manifest_add_file(m, 2, "foto's – zomer.jpg", "image/jpeg", 0);
	bd_manifest_add_file(m, 7, "", "application/octet-stream", UINT64_C(1) << 40);
	return m;
}

static void assert_same(const struct bd_manifest *a, const struct bd_manifest *b)
{
	assert_memory_equal(a->package_id, b->package_id, BD_PACKAGE_ID_BYTES);
	assert_int_equal(a->link_key_id, b->link_key_id);
	assert_int_equal(a->gateway_key_id, b->gateway_key_id);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->expires, b->expires);
	if (a->sender || b->sender)
		assert_string_equal(a->sender, b->sender);
	if (a->message_id || b->message_id)
		assert_string_equal(a->message_id, b->message_id);
	assert_int_equal(a->nfiles, b->nfiles);
	for (size_t i = 0; i < a->nfiles; i++) {
		assert_int_equal(a->files[i].index, b->files[i].index);
		assert_string_equal(a->files[i].name, b->files[i].name);
		assert_string_equal(a->files[i].content_type, b->files[i].content_type);
		assert_int_equal(a->files[i].size, b->files[i].size);
	}
}

/* Open BUF; returns 0 or the error code. */
static int open_code(struct fixture *f, const uint8_t *buf, size_t len, const uint8_t *secret)
{
	struct bd_manifest *m = NULL;
	struct bd_package_keys *k = NULL;
	struct bd_error err = {0};

	if (bd_manifest_open(buf, len, secret, f->kr, &m, &k, &err) == 0) {
		bd_manifest_free(&m);
		bd_package_keys_free(&k);
		return 0;
	}
	assert_null(m);
	assert_null(k);
	assert_int_not_equal(err.code, BD_OK);
	return err.code;
}

static void test_seal_open(void **state)
{
	struct fixture *f = *state;
	struct bd_package_keys *keys = bd_package_keys_new(), *k2 = NULL;
	struct bd_manifest *m = sample(keys), *o = NULL;
	struct bd_manifest_header h;
	struct bd_error err;
	uint8_t *buf;
	size_t len;

	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), 0);
	assert_true(len <= BD_MANIFEST_MAX_BYTES);
	assert_int_equal(bd_manifest_parse_header(buf, len, &h, &err), 0);
	assert_int_equal(h.version, BD_MANIFEST_VERSION);
	assert_memory_equal(h.package_id, keys->id, BD_PACKAGE_ID_BYTES);
	assert_int_equal(h.link_key_id, 3);
	assert_int_equal(h.gateway_key_id, 1);
	assert_int_equal(h.created, m->created);
	assert_int_equal(h.expires, m->expires);
	/* no file name in the clear */
	assert_null(memmem(buf, len, "Jaaropgave", 10));
	assert_null(memmem(buf, len, "jan@example", 11));
	assert_int_equal(bd_manifest_open(buf, len, keys->secret, f->kr, &o, &k2, &err), 0);
	assert_same(m, o);
	assert_memory_equal(k2->id, keys->id, BD_PACKAGE_ID_BYTES);
	assert_memory_equal(k2->secret, keys->secret, BD_SECRET_BYTES);
	assert_memory_equal(k2->server_key, keys->server_key, BD_SERVER_KEY_BYTES);
	bd_manifest_free(&o);
	bd_package_keys_free(&k2);
	free(buf);
	/* optional fields absent, no files */
	bd_manifest_free(&m);
	m = bd_manifest_new();
	memcpy(m->package_id, keys->id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = m->gateway_key_id = 1;
	m->created = -5; /* signed fields survive */
	m->expires = INT64_MAX;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), 0);
	assert_int_equal(bd_manifest_open(buf, len, keys->secret, f->kr, &o, &k2, &err), 0);
	assert_same(m, o);
	assert_null(o->sender);
	assert_null(o->message_id);
	bd_manifest_free(&o);
	bd_package_keys_free(&k2);
	free(buf);
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
}

static void test_every_bit_flip(void **state)
{
	struct fixture *f = *state;
	struct bd_package_keys *keys = bd_package_keys_new();
	struct bd_manifest *m = sample(keys);
	uint8_t *buf;
	size_t len;

	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, NULL), 0);
	for (size_t i = 0; i < len; i++)
		for (int b = 0; b < 8; b++) {
			int code;

			buf[i] ^= (uint8_t)(1 << b);
			code = open_code(f, buf, len, keys->secret);
			/* the gateway key id byte may name a key that is not there */
			if (i == 6)
				assert_true(code == BD_E_KEY || code == BD_E_CRYPTO);
			else
				assert_int_equal(code, BD_E_CRYPTO);
			buf[i] ^= (uint8_t)(1 << b);
		}
	assert_int_equal(open_code(f, buf, len, keys->secret), 0);
	free(buf);
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
}

static void test_truncate_extend_wrong_secret(void **state)
{
	struct fixture *f = *state;
	struct bd_package_keys *keys = bd_package_keys_new();
	struct bd_manifest *m = sample(keys);
	uint8_t *buf, secret[BD_SECRET_BYTES];
	size_t len;

	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, NULL), 0);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(open_code(f, buf, n, keys->secret), BD_E_CRYPTO);
	buf = bd_realloc(buf, len + 64);
	memset(buf + len, 0, 64);
	for (size_t n = 1; n <= 64; n++)
		assert_int_equal(open_code(f, buf, len + n, keys->secret), BD_E_CRYPTO);
	for (size_t i = 0; i < sizeof(secret) * 8; i++) {
		memcpy(secret, keys->secret, sizeof(secret));
		secret[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(open_code(f, buf, len, secret), BD_E_CRYPTO);
	}
	assert_int_equal(open_code(f, buf, len, keys->secret), 0);
	free(buf);
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
}

static void test_key_ids(void **state)
{
	struct fixture *f = *state;
	struct bd_package_keys *keys = bd_package_keys_new();
	struct bd_manifest *m = sample(keys);
	struct bd_keyring *pub_only;
	struct bd_error err;
	uint8_t *buf;
	size_t len;

	/* sealed for gateway key 9, which this keyring does not have */
	m->gateway_key_id = 9;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, NULL), 0);
	assert_int_equal(open_code(f, buf, len, keys->secret), BD_E_KEY);
	free(buf);
	/* a keyring with public keys only (the milter's) cannot open */
	m->gateway_key_id = 1;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, NULL), 0);
	pub_only = bd_keyring_load(f->dir, BD_NEED_GATEWAY_PUBLIC, NULL);
	assert_non_null(pub_only);
	{
		struct bd_manifest *o = NULL;
		struct bd_package_keys *k = NULL;

		assert_int_equal(bd_manifest_open(buf, len, keys->secret, pub_only, &o, &k, &err),
		                 -1);
		assert_int_equal(err.code, BD_E_KEY);
	}
	bd_keyring_free(&pub_only);
	free(buf);
	/* sealing refuses ids out of range */
	m->link_key_id = 0;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	m->link_key_id = 256;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	m->link_key_id = 1;
	/* and a package id that is not the keys' */
	m->package_id[0] ^= 1;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	m->package_id[0] ^= 1;
	/* and an unusable public key */
	{
		static const uint8_t zero[32];

		assert_int_equal(bd_manifest_seal(m, keys, zero, &buf, &len, &err), -1);
		assert_int_equal(err.code, BD_E_KEY);
	}
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
}

static void test_caps(void **state)
{
	struct fixture *f = *state;
	struct bd_package_keys *keys = bd_package_keys_new(), *k2 = NULL;
	struct bd_manifest *m = bd_manifest_new(), *o = NULL;
	char *big = bd_malloc(BD_MANIFEST_MAX_STRING + 2);
	struct bd_error err;
	uint8_t *buf;
	size_t len;

	memset(big, 'x', BD_MANIFEST_MAX_STRING + 1);
	big[BD_MANIFEST_MAX_STRING + 1] = '\0';
	memcpy(m->package_id, keys->id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = m->gateway_key_id = 1;
	/* every cap reached: still fits BD_MANIFEST_MAX_BYTES and opens */
	big[BD_MANIFEST_MAX_STRING] = '\0';
	m->sender = bd_strdup(big);
	m->message_id = bd_strdup(big);
	for (unsigned i = 1; i <= BD_MANIFEST_MAX_FILES; i++)
		bd_manifest_add_file(m, i, big, big, i);
	/* version 2: every recipient and the access code hash at their caps too */
	for (unsigned i = 0; i < BD_MANIFEST_MAX_RECIPIENTS; i++) {
		char prefix[8];

		snprintf(prefix, sizeof(prefix), "%04u@", i);
		memcpy(big, prefix, 5);
		assert_int_equal(bd_manifest_add_recipient(m, big, &err), 0);
	}
	memset(big, 'x', 5);
	m->protection.access_code_hash = bd_strndup(big, BD_ACCESS_CODE_HASH_MAX - 1);
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), 0);
	assert_int_equal(len, BD_MANIFEST_MAX_BYTES);
	assert_int_equal(bd_manifest_open(buf, len, keys->secret, f->kr, &o, &k2, &err), 0);
	assert_same(m, o);
	bd_manifest_free(&o);
	bd_package_keys_free(&k2);
	free(buf);
	/* one file too many */
	bd_manifest_add_file(m, BD_MANIFEST_MAX_FILES + 1, "a", "b", 1);
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	m->nfiles--;
	free(m->files[m->nfiles].name);
	free(m->files[m->nfiles].content_type);
	/* one byte too many in a string */
	big[BD_MANIFEST_MAX_STRING] = 'x';
	free(m->files[5].name);
	m->files[5].name = bd_strdup(big);
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	bd_manifest_free(&m);
	/* duplicate and zero indexes, oversized files */
	m = bd_manifest_new();
	memcpy(m->package_id, keys->id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = m->gateway_key_id = 1;
	bd_manifest_add_file(m, 1, "a", "b", 1);
	bd_manifest_add_file(m, 1, "c", "d", 1);
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	m->files[1].index = 0;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	m->files[1].index = 2;
	m->files[1].size = UINT64_MAX;
	assert_int_equal(bd_manifest_seal(m, keys, f->pk, &buf, &len, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	bd_manifest_free(&m);
	free(big);
	bd_package_keys_free(&keys);
}

static void test_parse_header_refusals(void **state)
{
	uint8_t buf[BD_MANIFEST_HEADER_BYTES + 16] = "BDMF\x01\x01\x01";
	struct bd_manifest_header h;
	struct bd_error err;

	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), 0);
	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf) - 1, &h, &err), -1);
	assert_int_equal(bd_manifest_parse_header(buf, BD_MANIFEST_MAX_BYTES + 1, &h, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	buf[0] = 'b';
	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	buf[0] = 'B';
	buf[4] = BD_MANIFEST_VERSION + 1;
	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), -1);
	buf[4] = 1;
	buf[5] = 0;
	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), -1);
	buf[5] = 1;
	buf[7] = 1;
	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), -1);
}

static struct bd_manifest *manifest_v1(void)
{
	struct bd_manifest *m = bd_manifest_new();

	m->version = 1;
	return m;
}

/* docs/FORMAT.md: the body of a fixed manifest, byte for byte. */
static void test_body_codec(void **state)
{
	struct bd_manifest *m = bd_manifest_new(), *d;
	uint8_t *body, *again, want[128];
	size_t len, alen, wantlen = 0;
	struct bd_error err;

	m->version = 1; /* the version 1 body; version 2: test_body_codec_v2 */
	m->sender = bd_strdup("jan@example.nl");
	bd_manifest_add_file(m, 1, "brief.txt", "text/plain", 12);
	bd_manifest_add_file(m, 2, "foto.jpg", "image/jpeg", 65537);
	assert_int_equal(bd_manifest_body_encode(m, &body, &len, &err), 0);
	hex_decode("000e6a616e406578616d706c652e6e6c"
	           "0000"
	           "0002"
	           "00000001"
	           "000000000000000c"
	           "0009"
	           "62726965662e747874"
	           "000a"
	           "746578742f706c61696e"
	           "00000002"
	           "0000000000010001"
	           "0008"
	           "666f746f2e6a7067"
	           "000a"
	           "696d6167652f6a706567",
	           want, wantlen = 16 + 2 + 2 + 4 + 8 + 2 + 9 + 2 + 10 + 4 + 8 + 2 + 8 + 2 + 10);
	assert_int_equal(len, wantlen);
	assert_memory_equal(body, want, len);
	/* decoding accepts it and re-encoding gives the same bytes */
	d = manifest_v1();
	assert_int_equal(bd_manifest_body_decode(body, len, d, &err), 0);
	assert_int_equal(bd_manifest_body_encode(d, &again, &alen, &err), 0);
	assert_int_equal(alen, len);
	assert_memory_equal(again, body, len);
	free(again);
	bd_manifest_free(&d);
	/* every truncation and a trailing byte are refused */
	for (size_t n = 0; n < len; n++) {
		d = manifest_v1();
		assert_int_equal(bd_manifest_body_decode(body, n, d, &err), -1);
		bd_manifest_free(&d);
	}
	body = bd_realloc(body, len + 1);
	body[len] = 0;
	d = manifest_v1();
	assert_int_equal(bd_manifest_body_decode(body, len + 1, d, &err), -1);
	bd_manifest_free(&d);
	/* a NUL inside a string */
	body[2] = 0;
	d = manifest_v1();
	assert_int_equal(bd_manifest_body_decode(body, len, d, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	bd_manifest_free(&d);
	free(body);
	bd_manifest_free(&m);
}

/* docs/FORMAT.md: a manifest sealed once with the fixed keys; it must keep opening. */
static const char manifest_vector[] =
        "42444d46010101000123456789abcdef0000000069434400000000006955b900ba230505875257d1"
        "6d23e50c7fe47b4941f27ed0a1d7c7fc2333e5da6659852df17beeb4f80afcdb6da85731676464d5"
        "da009ece2331a406e2ebba27ade488e22aaf054237090c37a34e466e98e7f0ac5c4cb99e500c8ab3"
        "c07b00679c39ab521ec5501daaeb3bf978880f20f5fd8b821e605841238d59bee683786aad84b448"
        "c0e52d17886e606fe146734e8ffe8257db5d293e801e65c6722e719ce673db570a1800043e53a5fb"
        "80e2c2fe94ab44c2b94e8aa5f359c5fda7d4f052684fcb9324952d0748e6d8cd286c6de56ef1542c"
        "1278ef093ac57538025691a25a46df";

static void test_format_vector(void **state)
{
	uint8_t link_key[32], gw_sk[32], secret[16], *buf, *body;
	size_t len = sizeof(manifest_vector) / 2, blen;
	struct bd_manifest *m = NULL;
	struct bd_package_keys *k = NULL;
	struct bd_keyring *kr;
	struct bd_error err;
	uint8_t want[256];
	char *dir;

	for (int i = 0; i < 32; i++) {
		link_key[i] = (uint8_t)i;
		gw_sk[i] = (uint8_t)(0x20 + i);
	}
	for (int i = 0; i < 16; i++)
		secret[i] = (uint8_t)(0x40 + i);
	dir = keydir_make(link_key, gw_sk);
	kr = bd_keyring_load(dir, BD_NEED_GATEWAY_SECRET, NULL);
	assert_non_null(kr);
	buf = bd_malloc(len);
	hex_decode(manifest_vector, buf, len);
	assert_int_equal(len, 255);
	assert_int_equal(bd_manifest_open(buf, len, secret, kr, &m, &k, &err), 0);
	assert_string_equal(m->sender, "jan@example.nl");
	assert_string_equal(m->message_id, "<1@example.nl>");
	assert_int_equal(m->created, 1766016000);
	assert_int_equal(m->expires, 1767225600);
	assert_int_equal(m->link_key_id, 1);
	assert_int_equal(m->gateway_key_id, 1);
	assert_int_equal(m->nfiles, 2);
	assert_string_equal(m->files[0].name, "brief.txt");
	assert_string_equal(m->files[0].content_type, "text/plain");
	assert_int_equal(m->files[0].size, 12);
	assert_int_equal(m->files[1].index, 2);
	assert_string_equal(m->files[1].name, "foto.jpg");
	assert_int_equal(m->files[1].size, 65537);
	for (int i = 0; i < 32; i++)
		assert_int_equal(k->server_key[i], 0x50 + i);
	/* the body plaintext as FORMAT.md shows it */
	assert_int_equal(bd_manifest_body_encode(m, &body, &blen, &err), 0);
	hex_decode("000e6a616e406578616d706c652e6e6c000e3c31406578616d706c652e6e6c3e0002"
	           "00000001000000000000000c000962726965662e747874000a746578742f706c61696e"
	           "0000000200000000000100010008666f746f2e6a7067000a696d6167652f6a706567",
	           want, blen);
	assert_int_equal(blen, len - BD_MANIFEST_HEADER_BYTES - 16);
	assert_memory_equal(body, want, blen);
	free(body);
	bd_manifest_free(&m);
	bd_package_keys_free(&k);
	free(buf);
	bd_keyring_free(&kr);
	keydir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_seal_open),
	        cmocka_unit_test(test_every_bit_flip),
	        cmocka_unit_test(test_truncate_extend_wrong_secret),
	        cmocka_unit_test(test_key_ids),
	        cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_parse_header_refusals),
	        cmocka_unit_test(test_body_codec),
	        cmocka_unit_test(test_format_vector),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
