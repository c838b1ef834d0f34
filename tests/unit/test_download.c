/*
 * test_download.c - from link to decrypted bytes, over the in-memory store:
 * whole files, ranges, and every refusal (forged, expired, missing, tampered,
 * an upload link, a manifest under another package's id, an object of the
 * wrong length).
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
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "download.h"
#include "keys.h"
#include "manifest.h"
#include "package.h"
#include "package_fixture.h"
#include "store-memory.h"
#include "store.h"
#include "stream.h"
#include "token.h"

struct fx {
	char dir[64];
	struct bd_keyring *kr;
	struct bd_store *store;
	uint8_t *data[3];
	size_t size[3];
	char token[BD_TOKEN_MAX_CHARS + 1];
	uint8_t id[BD_PACKAGE_ID_BYTES];
	uint8_t secret[BD_SECRET_BYTES];
	int64_t expires;
};

/* A token of TYPE for package ID with the package's secret, signed with the link key. */
static void sign(const struct fx *f, enum bd_token_type type, const uint8_t *id,
                 char out[BD_TOKEN_MAX_CHARS + 1])
{
	struct bd_token t = {0};
	struct bd_error err;

	t.type = type;
	t.key_id = bd_keyring_current(f->kr, BD_KEY_LINK);
	t.expires = f->expires;
	memcpy(t.package_id, id, sizeof(t.package_id));
	memcpy(t.secret, f->secret, sizeof(t.secret));
	assert_int_equal(bd_token_encode(&t, f->kr, out, &err), 0);
}

/* Build a package the way the rewrite engine does. */
static void make_package(struct fx *f, int64_t expires)
{
	struct bd_package_keys *keys = bd_package_keys_new();
	struct bd_manifest *m = bd_manifest_new();
	unsigned gw = bd_keyring_current(f->kr, BD_KEY_GATEWAY);
	struct bd_error err;
	uint8_t *sealed;
	size_t sealed_len;
	char name[64];

	memcpy(f->id, keys->id, sizeof(f->id));
	memcpy(m->package_id, keys->id, sizeof(keys->id));
	m->link_key_id = bd_keyring_current(f->kr, BD_KEY_LINK);
	m->gateway_key_id = gw;
	m->created = (int64_t)time(NULL);
	m->expires = expires;
	for (unsigned i = 0; i < 3; i++) {
		uint8_t key[BD_CONTENT_KEY_BYTES], *ct;
		size_t ctlen;
		char fname[32];

		snprintf(fname, sizeof(fname), "file-%u.bin", i + 1);
		bd_manifest_add_file(m, i + 1, fname, "application/octet-stream", f->size[i]);
		bd_package_file_key(keys, i + 1, key);
		assert_int_equal(
		        bd_stream_encrypt_buffer(key, f->data[i], f->size[i], &ct, &ctlen, &err),
		        0);
		bd_package_object_name(keys->id, i + 1, name, sizeof(name));
		put_buffer(f->store, name, ct, ctlen);
		free(ct);
	}
	assert_int_equal(bd_manifest_seal(m, keys, bd_keyring_gateway_public(f->kr, gw), &sealed,
	                                  &sealed_len, &err),
	                 0);
	bd_package_object_name(keys->id, 0, name, sizeof(name));
	put_buffer(f->store, name, sealed, sealed_len);
	free(sealed);
	memcpy(f->secret, keys->secret, sizeof(f->secret));
	f->expires = expires;
	sign(f, BD_TOKEN_DOWNLOAD, keys->id, f->token);
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct bd_error err;
	char keys[96];
	static const size_t sizes[3] = {0, 1000, 3 * 65536 + 17};

	strcpy(f->dir, "/tmp/bd-test-dl-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(keys, sizeof(keys), "%s/keys", f->dir);
	if (bd_keys_generate(keys, &err) < 0)
		return -1;
	f->kr = bd_keyring_load(
	        keys, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC | BD_NEED_GATEWAY_SECRET, &err);
	f->store = bd_store_new_memory();
	for (int i = 0; i < 3; i++) {
		f->size[i] = sizes[i];
		f->data[i] = malloc(sizes[i] + 1);
		randombytes_buf(f->data[i], sizes[i]);
	}
	*state = f;
	return f->kr ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	for (int i = 0; i < 3; i++)
		free(f->data[i]);
	bd_keyring_free(&f->kr);
	bd_store_close(&f->store);
	free(f);
	return 0;
}

static int get(struct bd_download *d, unsigned index, uint64_t off, uint64_t len,
               struct bd_buf_sink *out, struct bd_error *err)
{
	bd_buf_sink_init(out);
	return bd_download_file(d, index, off, len, &out->sink, err);
}

static void test_whole_files_and_ranges(void **state)
{
	struct fx *f = *state;
	struct bd_download *d;
	struct bd_error err;
	struct bd_buf_sink out;
	int64_t now = (int64_t)time(NULL);

	make_package(f, now + 3600);
	assert_int_equal(bd_download_open(f->token, f->kr, f->store, now, &d, &err), 0);
	assert_int_equal(bd_download_manifest(d)->nfiles, 3);
	assert_string_equal(bd_download_find(d, 2)->name, "file-2.bin");
	assert_null(bd_download_find(d, 4));
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(get(d, i + 1, 0, BD_STORE_TO_END, &out, &err), 0);
		assert_int_equal(out.len, f->size[i]);
		if (f->size[i])
			assert_memory_equal(out.data, f->data[i], f->size[i]);
		free(out.data);
	}
	/* ranges across chunk boundaries, at the end, single bytes */
	static const uint64_t ranges[][2] = {
	        {0, 1},          {65535, 2},          {65536, 65536},       {100, 150000},
	        {3 * 65536, 17}, {3 * 65536 + 16, 1}, {1, BD_STORE_TO_END}, {131071, 65538},
	};
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		uint64_t off = ranges[r][0], len = ranges[r][1];
		uint64_t want = len == BD_STORE_TO_END ? f->size[2] - off : len;

		assert_int_equal(get(d, 3, off, len, &out, &err), 0);
		assert_int_equal(out.len, want);
		assert_memory_equal(out.data, f->data[2] + off, want);
		free(out.data);
	}
	assert_int_equal(get(d, 3, f->size[2], 1, &out, &err), -1);
	free(out.data);
	assert_int_equal(get(d, 9, 0, 1, &out, &err), -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
	free(out.data);
	bd_download_close(&d);
	assert_null(d);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct bd_download *d;
	struct bd_error err;
	int64_t now = (int64_t)time(NULL);
	char forged[BD_TOKEN_MAX_CHARS + 1], name[64];

	make_package(f, now + 3600);
	/* expired: by the clock, distinctly */
	assert_int_equal(bd_download_open(f->token, f->kr, f->store, now + 7200, &d, &err), -1);
	assert_int_equal(err.code, BD_E_EXPIRED);
	/* one changed character */
	strcpy(forged, f->token);
	forged[10] = forged[10] == 'A' ? 'B' : 'A';
	assert_int_equal(bd_download_open(forged, f->kr, f->store, now, &d, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	assert_int_equal(bd_download_open("", f->kr, f->store, now, &d, &err), -1);
	assert_int_equal(bd_download_open("not-a-token", f->kr, f->store, now, &d, &err), -1);
	/* a file object changed in storage: the chunk fails, nothing is released */
	{
		struct bd_buf_sink out;
		struct bd_buf_sink obj;
		uint8_t *copy;

		bd_package_object_name(f->id, 3, name, sizeof(name));
		bd_buf_sink_init(&obj);
		assert_int_equal(bd_store_get(f->store, name, 0, BD_STORE_TO_END, &obj.sink, &err),
		                 0);
		copy = obj.data;
		copy[obj.len - 5] ^= 1; /* in the last chunk */
		put_buffer(f->store, name, copy, obj.len);
		free(obj.data);
		assert_int_equal(bd_download_open(f->token, f->kr, f->store, now, &d, &err), 0);
		assert_int_equal(get(d, 3, 0, 65536, &out, &err), 0); /* first chunk still fine */
		free(out.data);
		assert_int_equal(get(d, 3, 3 * 65536, 17, &out, &err), -1);
		assert_int_equal(err.code, BD_E_CRYPTO);
		assert_int_equal(out.len, 0);
		free(out.data);
		bd_download_close(&d);
	}
	/* the manifest gone: not found */
	bd_package_object_name(f->id, 0, name, sizeof(name));
	assert_int_equal(bd_store_delete(f->store, name, &err), 0);
	assert_int_equal(bd_download_open(f->token, f->kr, f->store, now, &d, &err), -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
}

/* Store file INDEX's object ORIG (LEN bytes) with DELTA bytes more (> 0) or fewer (< 0). */
static void put_resized(struct fx *f, unsigned index, const uint8_t *orig, size_t len, int delta)
{
	uint8_t *copy = calloc(1, len + 16);
	char name[64];

	memcpy(copy, orig, len);
	bd_package_object_name(f->id, index, name, sizeof(name));
	put_buffer(f->store, name, copy, (size_t)((int64_t)len + delta));
	free(copy);
}

/* FORMAT.md 4.4: an object whose length is not C(P) is refused, whatever range is asked. */
static void test_object_of_the_wrong_length(void **state)
{
	struct fx *f = *state;
	static const int deltas[] = {1, 16, -1};
	int64_t now = (int64_t)time(NULL);

	make_package(f, now + 3600);
	for (size_t i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		struct bd_download *d;
		struct bd_buf_sink out;
		struct bd_error err;
		unsigned index = i == 0 ? 1 : 3; /* the empty file too */

		struct bd_buf_sink orig;
		char name[64];

		bd_package_object_name(f->id, index, name, sizeof(name));
		bd_buf_sink_init(&orig);
		assert_int_equal(bd_store_get(f->store, name, 0, BD_STORE_TO_END, &orig.sink, &err),
		                 0);
		put_resized(f, index, orig.data, orig.len, deltas[i]);
		assert_int_equal(bd_download_open(f->token, f->kr, f->store, now, &d, &err), 0);
		assert_int_equal(get(d, index, 0, BD_STORE_TO_END, &out, &err), -1);
		assert_int_equal(err.code, BD_E_CRYPTO);
		assert_int_equal(out.len, 0);
		free(out.data);
		if (index == 3) {
			assert_int_equal(get(d, index, 0, 10, &out, &err),
			                 -1); /* first chunk only */
			assert_int_equal(err.code, BD_E_CRYPTO);
			free(out.data);
		}
		put_resized(f, index, orig.data, orig.len, 0);
		free(orig.data);
		assert_int_equal(get(d, index, 0, BD_STORE_TO_END, &out, &err), 0);
		free(out.data);
		bd_download_close(&d);
	}
}

/* A genuine token for another package id, carrying this package's secret: the manifest
 * opens, but it names its own package, and FORMAT.md requires the two to be equal. */
static void test_manifest_of_another_package(void **state)
{
	struct fx *f = *state;
	struct bd_download *d;
	struct bd_buf_sink obj;
	struct bd_error err;
	uint8_t other[BD_PACKAGE_ID_BYTES];
	char token[BD_TOKEN_MAX_CHARS + 1], name[64];
	int64_t now = (int64_t)time(NULL);

	make_package(f, now + 3600);
	memcpy(other, f->id, sizeof(other));
	other[0] ^= 0x80;
	bd_package_object_name(f->id, 0, name, sizeof(name));
	bd_buf_sink_init(&obj);
	assert_int_equal(bd_store_get(f->store, name, 0, BD_STORE_TO_END, &obj.sink, &err), 0);
	bd_package_object_name(other, 0, name, sizeof(name));
	put_buffer(f->store, name, obj.data, obj.len);
	free(obj.data);
	sign(f, BD_TOKEN_DOWNLOAD, other, token);
	assert_int_equal(bd_download_open(token, f->kr, f->store, now, &d, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	assert_null(d);
}

/* An upload request's token is genuine, but it never opens a package for download. */
static void test_upload_token_is_not_a_download(void **state)
{
	struct fx *f = *state;
	struct bd_download *d;
	struct bd_error err;
	char token[BD_TOKEN_MAX_CHARS + 1];
	int64_t now = (int64_t)time(NULL);

	make_package(f, now + 3600);
	sign(f, BD_TOKEN_UPLOAD, f->id, token);
	assert_int_equal(bd_download_open(token, f->kr, f->store, now, &d, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	assert_null(d);
	assert_int_equal(bd_download_open(f->token, f->kr, f->store, now, &d, &err), 0);
	bd_download_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_whole_files_and_ranges, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_object_of_the_wrong_length, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_manifest_of_another_package, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_upload_token_is_not_a_download, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
