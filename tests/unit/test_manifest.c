/*
 * test_manifest.c - manifests: seal and open, the clear header, every single-bit
 * flip, truncation and extension refused, wrong secret and unknown key ids, the
 * caps, the body codec of versions 1 and 2, recipients, access codes and the
 * FORMAT.md vectors.
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

#include "accesscode.h"
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
	assert_int_equal(bd_manifest_add_recipient(m, "piet@example.com", NULL), 0);
	assert_int_equal(bd_manifest_add_recipient(m, "marie@example.org", NULL), 0);
	m->protection.verify = BD_VERIFY_CODE;
	m->protection.receipts = BD_RECEIPTS_EVERY;
	m->protection.max_downloads = 5;
	m->protection.access_code_hash = bd_strdup("$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
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
	assert_int_equal(a->nrecipients, b->nrecipients);
	for (size_t i = 0; i < a->nrecipients; i++)
		assert_string_equal(a->recipients[i], b->recipients[i]);
	assert_int_equal(a->protection.verify, b->protection.verify);
	assert_int_equal(a->protection.receipts, b->protection.receipts);
	assert_int_equal(a->protection.max_downloads, b->protection.max_downloads);
	if (a->protection.access_code_hash || b->protection.access_code_hash)
		assert_string_equal(a->protection.access_code_hash, b->protection.access_code_hash);
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
	/* both versions of a manifest, but upload requests are still version 1 only */
	buf[5] = 1;
	for (unsigned v = 1; v <= BD_MANIFEST_VERSION; v++) {
		buf[4] = (uint8_t)v;
		assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), 0);
		assert_int_equal(h.version, v);
	}
	memcpy(buf, "BDRQ", 4);
	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), -1);
	buf[4] = 1;
	assert_int_equal(bd_manifest_parse_header(buf, sizeof(buf), &h, &err), 0);
	assert_int_equal(h.kind, BD_SEALED_REQUEST);
	memcpy(buf, "BDMF", 4);
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

/* The key directory and secret of the FORMAT.md vectors. */
static void fixed_keys(char **dir, struct bd_keyring **kr, uint8_t secret[16])
{
	uint8_t link_key[32], gw_sk[32];

	for (int i = 0; i < 32; i++) {
		link_key[i] = (uint8_t)i;
		gw_sk[i] = (uint8_t)(0x20 + i);
	}
	for (int i = 0; i < 16; i++)
		secret[i] = (uint8_t)(0x40 + i);
	*dir = keydir_make(link_key, gw_sk);
	*kr = bd_keyring_load(*dir, BD_NEED_GATEWAY_SECRET | BD_NEED_GATEWAY_PUBLIC, NULL);
	assert_non_null(*kr);
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
	uint8_t secret[16], *buf, *body;
	size_t len = sizeof(manifest_vector) / 2, blen;
	struct bd_manifest *m = NULL;
	struct bd_package_keys *k = NULL;
	struct bd_keyring *kr;
	struct bd_error err;
	uint8_t want[256];
	char *dir;

	fixed_keys(&dir, &kr, secret);
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

/* docs/FORMAT.md 9.3: the version 2 body of a fixed manifest, byte for byte. */
static const char body_v2_hex[] =
        "000e6a616e406578616d706c652e6e6c000e3c32406578616d706c652e6e6c3e0001000000010000"
        "00000000000c000962726965662e747874000a746578742f706c61696e0002001070696574406578"
        "616d706c652e636f6d00184d617269652e4a616e73656e406578616d706c652e6f72670101000000"
        "030061246172676f6e32696424763d3139246d3d36353533362c743d322c703d312443696f444d38"
        "57336f374d4a4a4145703468574870672464584879676137454e53707970617349375279416f6c61"
        "39517653733044742b6b772f767078706a4d4c77";
static const char access_code_hash_v2[] = "$argon2id$v=19$m=65536,t=2,p=1$CioDM8W3o7MJJAEp4hWHpg$"
                                          "dXHyga7ENSpypasI7RyAola9QvSs0Dt+kw/vpxpjMLw";

static struct bd_manifest *sample_v2(void)
{
	struct bd_manifest *m = bd_manifest_new();

	m->sender = bd_strdup("jan@example.nl");
	m->message_id = bd_strdup("<2@example.nl>");
	bd_manifest_add_file(m, 1, "brief.txt", "text/plain", 12);
	assert_int_equal(bd_manifest_add_recipient(m, "piet@example.com", NULL), 0);
	assert_int_equal(bd_manifest_add_recipient(m, "Marie.Jansen@example.org", NULL), 0);
	m->protection.verify = BD_VERIFY_CODE;
	m->protection.receipts = BD_RECEIPTS_FIRST;
	m->protection.max_downloads = 3;
	m->protection.access_code_hash = bd_strdup(access_code_hash_v2);
	return m;
}

static int decode_code(const uint8_t *body, size_t len)
{
	struct bd_manifest *d = bd_manifest_new();
	struct bd_error err = {0};
	int rc = bd_manifest_body_decode(body, len, d, &err);

	bd_manifest_free(&d);
	return rc == 0 ? 0 : err.code;
}

static void test_body_codec_v2(void **state)
{
	struct bd_manifest *m = sample_v2(), *d;
	size_t len, alen, wantlen = strlen(body_v2_hex) / 2, at;
	uint8_t *body, *again, *want = bd_malloc(wantlen);
	struct bd_error err;

	assert_int_equal(bd_manifest_body_encode(m, &body, &len, &err), 0);
	hex_decode(body_v2_hex, want, wantlen);
	assert_int_equal(len, wantlen);
	assert_memory_equal(body, want, len);
	d = bd_manifest_new();
	assert_int_equal(bd_manifest_body_decode(body, len, d, &err), 0);
	assert_int_equal(d->version, 2);
	assert_same(m, d);
	assert_int_equal(bd_manifest_body_encode(d, &again, &alen, &err), 0);
	assert_int_equal(alen, len);
	assert_memory_equal(again, body, len);
	free(again);
	bd_manifest_free(&d);
	/* every truncation, a trailing byte, and the v2 body read as version 1 are refused */
	for (size_t n = 0; n < len; n++)
		assert_int_not_equal(decode_code(body, n), 0);
	body = bd_realloc(body, len + 1);
	body[len] = 0;
	assert_int_equal(decode_code(body, len + 1), BD_E_INVALID);
	d = manifest_v1();
	assert_int_equal(bd_manifest_body_decode(body, len, d, &err), -1);
	bd_manifest_free(&d);
	/* the protection bytes follow the second recipient: unknown values are refused */
	at = len - 2 - strlen(access_code_hash_v2) - 4 - 2;
	assert_int_equal(body[at], BD_VERIFY_CODE);
	body[at] = 2;
	assert_int_equal(decode_code(body, len), BD_E_INVALID);
	body[at] = BD_VERIFY_CODE;
	body[at + 1] = 3;
	assert_int_equal(decode_code(body, len), BD_E_INVALID);
	body[at + 1] = BD_RECEIPTS_FIRST;
	assert_int_equal(decode_code(body, len), 0);
	free(body);
	/* a repeated recipient (in any case) or an empty one has no encoding */
	free(m->recipients[1]);
	m->recipients[1] = bd_strdup("PIET@example.com");
	assert_int_equal(bd_manifest_body_encode(m, &body, &len, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	m->recipients[1][0] = '\0';
	assert_int_equal(bd_manifest_body_encode(m, &body, &len, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	bd_manifest_free(&m);
	free(want);
}

static void test_recipients(void **state)
{
	struct bd_manifest *m = bd_manifest_new();
	char *big = bd_malloc(BD_MANIFEST_MAX_STRING + 2);
	struct bd_error err;

	assert_int_equal(bd_manifest_add_recipient(m, "piet@example.com", &err), 0);
	assert_int_equal(bd_manifest_add_recipient(m, "Piet@Example.com", &err), 0);
	assert_int_equal(m->nrecipients, 1);
	assert_true(bd_manifest_has_recipient(m, "PIET@EXAMPLE.COM"));
	assert_false(bd_manifest_has_recipient(m, "piet@example.co"));
	assert_int_equal(bd_manifest_add_recipient(m, "", &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	memset(big, 'a', BD_MANIFEST_MAX_STRING + 1);
	big[BD_MANIFEST_MAX_STRING + 1] = '\0';
	assert_int_equal(bd_manifest_add_recipient(m, big, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	for (unsigned i = 1; i < BD_MANIFEST_MAX_RECIPIENTS; i++) {
		char a[32];

		snprintf(a, sizeof(a), "r%u@example.com", i);
		assert_int_equal(bd_manifest_add_recipient(m, a, &err), 0);
	}
	assert_int_equal(m->nrecipients, BD_MANIFEST_MAX_RECIPIENTS);
	assert_int_equal(bd_manifest_add_recipient(m, "one@too.many", &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	assert_int_equal(bd_manifest_add_recipient(m, "r1@example.com", &err), 0);
	free(big);
	bd_manifest_free(&m);
}

static void test_access_code(void **state)
{
	char norm[BD_ACCESS_CODE_MAX + 1], hash[BD_ACCESS_CODE_HASH_MAX],
	        big[BD_ACCESS_CODE_MAX + 2];
	struct bd_error err;

	assert_int_equal(bd_access_code_normalise("  4711-X\t", norm, &err), 6);
	assert_string_equal(norm, "4711-x");
	assert_int_equal(bd_access_code_normalise("a B", norm, &err), 3);
	assert_string_equal(norm, "a b");
	assert_int_equal(bd_access_code_normalise("\xc3\x89t\xc3\xa9", norm, &err), 5);
	assert_string_equal(norm, "\xc3\x89t\xc3\xa9"); /* only ASCII letters fold */
	assert_int_equal(bd_access_code_normalise(" \t ", norm, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	assert_int_equal(bd_access_code_normalise("47\n11", norm, &err), -1);
	assert_null(strstr(err.msg, "47"));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(bd_access_code_normalise(big, norm, &err), -1);
	big[BD_ACCESS_CODE_MAX] = '\0';
	assert_int_equal(bd_access_code_normalise(big, norm, &err), BD_ACCESS_CODE_MAX);

	assert_int_equal(bd_access_code_hash("4711-x", hash, &err), 0);
	assert_non_null(strstr(hash, "$argon2id$"));
	assert_null(strstr(hash, "4711"));
	assert_int_equal(bd_access_code_check(hash, "4711-x"), 1);
	assert_int_equal(bd_access_code_check(hash, " 4711-X "), 1);
	assert_int_equal(bd_access_code_check(hash, "4711x"), 0);
	assert_int_equal(bd_access_code_check(hash, "4711-x1"), 0);
	assert_int_equal(bd_access_code_check(hash, ""), 0);
	assert_int_equal(bd_access_code_check(hash, NULL), 0);
	assert_int_equal(bd_access_code_check(NULL, "4711-x"), 0);
	assert_int_equal(bd_access_code_check("not a hash", "4711-x"), 0);
	assert_int_equal(bd_access_code_hash("", hash, &err), -1);
	/* the vector's hash (FORMAT.md 9.3) */
	assert_int_equal(bd_access_code_check(access_code_hash_v2, "4711-X"), 1);
	assert_int_equal(bd_access_code_check(access_code_hash_v2, "4712-x"), 0);
}

/* docs/FORMAT.md 9.3: a version 2 manifest sealed once with the fixed keys. */
static const char manifest_vector_v2[] =
        "42444d46020101000123456789abcdef0000000069434400000000006955b900820e82659c1dc1d1"
        "a6c2e1890112b8a3b37f11e024e5c7c3bfa30c43ed5218259e810b48d0c8a8e2a39663ff303f9f60"
        "f59afcd6055530e1c86835af34063b0193fa1621d8e4d10ff1443ba35d4797928030ab4e7cd7f205"
        "986fb5b6d72c0385ffcc8b6408a2451743eaac92c38a0aa526d8090d133eb0df71bd4bcf0f695a7e"
        "5459ba7c6633f5056dbe8a87e02cee8a8a381e0d5c7f065d09260a5535f21d2f9857088239972f4e"
        "b224ad87a4fd2a6f486b19715a4c6628a5cffef03f7cbc840ddf6e8e98aa474b87e77a307ce0d8ff"
        "3d7f8eceab3c599457ad41f21f0ba9f07306670d88fb9a9c230bc0071ed9e3bce0d0bfefe89a9c82"
        "5b5fe3ca25221bd1a45dd395306614fcb3a6aaa8dba814e3edb1e5fd9af2efe283280026c99f9969"
        "4ecb52f3e7268ac588d96a24519c775e9aa433c7f26fc56033e0bddb0254dadbb182c82734ce40c1"
        "e60272ffe963d3de1ccfae6a";

static void test_format_vector_v2(void **state)
{
	size_t len = strlen(manifest_vector_v2) / 2, blen;
	struct bd_manifest *m = NULL, *want = sample_v2();
	struct bd_package_keys *k = NULL;
	uint8_t secret[16], *buf = bd_malloc(len), *body;
	struct bd_manifest_header h;
	struct bd_keyring *kr;
	struct bd_error err;
	char *dir;

	fixed_keys(&dir, &kr, secret);
	hex_decode(manifest_vector_v2, buf, len);
	assert_int_equal(bd_manifest_parse_header(buf, len, &h, &err), 0);
	assert_int_equal(h.version, 2);
	assert_int_equal(bd_manifest_open(buf, len, secret, kr, &m, &k, &err), 0);
	assert_int_equal(m->version, 2);
	memcpy(want->package_id, "\x01\x23\x45\x67\x89\xab\xcd\xef", BD_PACKAGE_ID_BYTES);
	want->link_key_id = want->gateway_key_id = 1;
	want->created = 1766016000;
	want->expires = 1767225600;
	assert_same(want, m);
	for (int i = 0; i < 32; i++)
		assert_int_equal(k->server_key[i], 0x50 + i);
	/* the body plaintext as FORMAT.md shows it */
	assert_int_equal(bd_manifest_body_encode(m, &body, &blen, &err), 0);
	assert_int_equal(blen, strlen(body_v2_hex) / 2);
	assert_int_equal(blen, len - BD_MANIFEST_HEADER_BYTES - 16);
	{
		uint8_t *plain = bd_malloc(blen);

		hex_decode(body_v2_hex, plain, blen);
		assert_memory_equal(body, plain, blen);
		free(plain);
	}
	free(body);
	bd_manifest_free(&m);
	bd_manifest_free(&want);
	bd_package_keys_free(&k);
	free(buf);
	bd_keyring_free(&kr);
	keydir_remove(dir);
}

/* The vectors above are the ones docs/FORMAT.md 9.3 shows (white space aside). */
static void test_format_md_shows_v2_vectors(void **state)
{
	const char *src = getenv("BD_SOURCE_DIR");
	char *path, *text = NULL, *flat;
	size_t n = 0, len;
	FILE *f;

	assert_non_null(src);
	path = bd_asprintf("%s/docs/FORMAT.md", src);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(getdelim(&text, &n, '\0', f) > 0);
	fclose(f);
	len = strlen(text);
	flat = bd_malloc(len + 1);
	n = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\n')
			flat[n++] = text[i];
	flat[n] = '\0';
	assert_non_null(strstr(flat, body_v2_hex));
	assert_non_null(strstr(flat, manifest_vector_v2));
	assert_non_null(strstr(text, access_code_hash_v2));
	free(flat);
	free(text);
	free(path);
}

/* A version 1 manifest opens with no recipients and no protection, and is sealed anew as 2. */
static void test_v1_reads_and_reseals_as_v2(void **state)
{
	struct fixture *f = *state;
	size_t len = sizeof(manifest_vector) / 2, slen;
	struct bd_manifest *m = NULL, *o = NULL;
	struct bd_package_keys *k = NULL, *k2 = NULL;
	uint8_t secret[16], *buf = bd_malloc(len), *sealed;
	struct bd_manifest_header h;
	struct bd_keyring *kr;
	struct bd_error err;
	char *dir;

	(void)f;
	fixed_keys(&dir, &kr, secret);
	hex_decode(manifest_vector, buf, len);
	assert_int_equal(bd_manifest_open(buf, len, secret, kr, &m, &k, &err), 0);
	assert_int_equal(m->version, 1);
	assert_int_equal(m->nrecipients, 0);
	assert_int_equal(m->protection.verify, BD_VERIFY_OFF);
	assert_int_equal(m->protection.receipts, BD_RECEIPTS_OFF);
	assert_int_equal(m->protection.max_downloads, 0);
	assert_null(m->protection.access_code_hash);
	assert_int_equal(
	        bd_manifest_seal(m, k, bd_keyring_gateway_public(kr, 1), &sealed, &slen, &err), 0);
	assert_int_equal(bd_manifest_parse_header(sealed, slen, &h, &err), 0);
	assert_int_equal(h.version, 2);
	assert_int_equal(bd_manifest_open(sealed, slen, secret, kr, &o, &k2, &err), 0);
	assert_int_equal(o->version, 2);
	assert_same(m, o);
	free(sealed);
	bd_manifest_free(&o);
	bd_package_keys_free(&k2);
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
	        cmocka_unit_test(test_body_codec_v2),
	        cmocka_unit_test(test_recipients),
	        cmocka_unit_test(test_access_code),
	        cmocka_unit_test(test_format_vector_v2),
	        cmocka_unit_test(test_v1_reads_and_reseals_as_v2),
	        cmocka_unit_test(test_format_md_shows_v2_vectors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
