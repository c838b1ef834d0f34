/*
 * test_stream.c - the payload format: sizes, round trips, byte ranges, tampering,
 * the age STREAM vectors (tests/vectors/age, zlib-compressed ones inflated here)
 * and the payload vectors of docs/FORMAT.md.
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
#include <dirent.h>
#include <sodium.h>
#include <zlib.h>

#include "mem.h"
#include "stream.h"

#define CHUNK  BD_STREAM_CHUNK
#define SEALED (BD_STREAM_CHUNK + BD_STREAM_TAG_BYTES)

static uint8_t key[BD_STREAM_KEY_BYTES];

static int setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	return 0;
}

static uint8_t *pattern(size_t len, uint32_t seed)
{
	uint8_t *p = bd_malloc(len);
	uint8_t s[randombytes_SEEDBYTES] = {0};

	memcpy(s, &seed, sizeof(seed));
	randombytes_buf_deterministic(p, len, s);
	return p;
}

static void hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t binlen;

	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &binlen, NULL), 0);
	assert_int_equal(binlen, len);
}

/* Decrypt a whole ciphertext; returns 0 or the error code. */
static int decrypt_code(const uint8_t *c, size_t len)
{
	struct bd_error err = {0};
	uint8_t *p = NULL;
	size_t plen;

	if (bd_stream_decrypt_buffer(key, c, len, &p, &plen, &err) == 0) {
		free(p);
		return 0;
	}
	assert_int_not_equal(err.code, BD_OK);
	return err.code;
}

/* ---- HKDF ------------------------------------------------------------------------------------ */

static void test_hkdf_rfc5869(void **state)
{
	/* RFC 5869, A.1 and A.3 (empty salt and info) */
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	bd_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info), okm, sizeof(okm));
	hex_decode("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b8871"
	           "85865",
	           want, sizeof(want));
	assert_memory_equal(okm, want, sizeof(want));
	bd_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, okm, sizeof(okm));
	hex_decode("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61"
	           "a96c8",
	           want, sizeof(want));
	assert_memory_equal(okm, want, sizeof(want));
}

/* ---- sizes ----------------------------------------------------------------------------------- */

static void test_sizes(void **state)
{
	const uint64_t h = bd_stream_header_size();
	uint64_t p;

	assert_int_equal(h, 22);
	assert_int_equal(bd_stream_ciphertext_size(0), h + 16);
	assert_int_equal(bd_stream_ciphertext_size(1), h + 17);
	assert_int_equal(bd_stream_ciphertext_size(CHUNK), h + SEALED);
	assert_int_equal(bd_stream_ciphertext_size(CHUNK + 1), h + SEALED + 17);
	assert_int_equal(bd_stream_ciphertext_size(5 * (uint64_t)CHUNK), h + 5 * (uint64_t)SEALED);
	/* the inverse, over every size around chunk boundaries */
	for (uint64_t n = 0; n < 4 * (uint64_t)CHUNK + 100;
	     n += (n % CHUNK < 40 || n % CHUNK > CHUNK - 40) ? 1 : 997) {
		assert_int_equal(bd_stream_plaintext_size(bd_stream_ciphertext_size(n), &p), 0);
		assert_int_equal(p, n);
	}
	/* sizes no plaintext produces */
	assert_int_equal(bd_stream_plaintext_size(0, &p), -1);
	assert_int_equal(bd_stream_plaintext_size(h + 15, &p), -1);
	assert_int_equal(bd_stream_plaintext_size(h + SEALED + 16, &p), -1); /* empty final chunk */
	assert_int_equal(bd_stream_plaintext_size(h + SEALED + 5, &p), -1);
	assert_int_equal(bd_stream_plaintext_size(UINT64_MAX, &p), -1);
}

static void test_cipher_range(void **state)
{
	const uint64_t h = bd_stream_header_size(), size = 3 * (uint64_t)CHUNK + 10;
	uint64_t off, len;

	bd_stream_cipher_range(size, 0, size, &off, &len);
	assert_int_equal(off, h);
	assert_int_equal(len, bd_stream_ciphertext_size(size) - h);
	bd_stream_cipher_range(size, CHUNK - 1, 2, &off, &len); /* straddles chunks 0 and 1 */
	assert_int_equal(off, h);
	assert_int_equal(len, 2 * SEALED);
	bd_stream_cipher_range(size, 3 * (uint64_t)CHUNK + 2, 3, &off,
	                       &len); /* the short last chunk */
	assert_int_equal(off, h + 3 * (uint64_t)SEALED);
	assert_int_equal(len, 26);
	bd_stream_cipher_range(size, CHUNK, 0, &off, &len); /* empty range: the chunk at POFF */
	assert_int_equal(off, h + SEALED);
	assert_int_equal(len, SEALED);
	bd_stream_cipher_range(0, 0, 0, &off, &len); /* empty payload: its one empty chunk */
	assert_int_equal(off, h);
	assert_int_equal(len, 16);
	bd_stream_cipher_range(size, 2 * (uint64_t)CHUNK, 1000000, &off, &len); /* clipped */
	assert_int_equal(off, h + 2 * (uint64_t)SEALED);
	assert_int_equal(len, SEALED + 26);
}

/* ---- round trips ----------------------------------------------------------------------------- */

/* Pull the whole encryptor output in reads of at most STEP bytes. */
static uint8_t *encrypt_in_steps(const uint8_t nonce[16], const uint8_t *plain, size_t len,
                                 size_t step, size_t *outlen)
{
	struct bd_mem_source src;
	struct bd_stream_enc *enc;
	struct bd_source *s;
	size_t size = (size_t)bd_stream_ciphertext_size(len), done = 0;
	uint8_t *out = bd_malloc(size + 1);
	ssize_t n;

	bd_mem_source_init(&src, plain, len);
	enc = bd_stream_enc_new_nonce(key, nonce, &src.source, len);
	s = bd_stream_enc_source(enc);
	while ((n = s->read(s->ctx, out + done, step < size + 1 - done ? step : size + 1 - done)) >
	       0)
		done += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(bd_stream_enc_error(enc)->code, BD_OK);
	bd_stream_enc_free(&enc);
	assert_null(enc);
	*outlen = done;
	return out;
}

static void test_roundtrip_sizes(void **state)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 2 * 65536, 5 * 1048576 + 7};
	static const uint8_t nonce[16] = {1, 2, 3};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i], clen, plen, slen;
		uint8_t *plain = pattern(len, (uint32_t)i), *c, *p, *steps;
		struct bd_error err = {0};

		assert_int_equal(bd_stream_encrypt_buffer(key, plain, len, &c, &clen, &err), 0);
		assert_int_equal(clen, bd_stream_ciphertext_size(len));
		assert_int_equal(bd_stream_decrypt_buffer(key, c, clen, &p, &plen, &err), 0);
		assert_non_null(p);
		assert_int_equal(plen, len);
		if (len > 0)
			assert_memory_equal(p, plain, len);
		free(c);
		free(p);
		/* any read slicing yields the same bytes */
		c = encrypt_in_steps(nonce, plain, len, SIZE_MAX / 2, &clen);
		assert_int_equal(clen, bd_stream_ciphertext_size(len));
		if (len < 200000) {
			steps = encrypt_in_steps(nonce, plain, len, 7, &slen);
			assert_int_equal(slen, clen);
			assert_memory_equal(steps, c, clen);
			free(steps);
		}
		steps = encrypt_in_steps(nonce, plain, len, SEALED - 1, &slen);
		assert_int_equal(slen, clen);
		assert_memory_equal(steps, c, clen);
		free(steps);
		assert_int_equal(bd_stream_decrypt_buffer(key, c, clen, &p, &plen, &err), 0);
		assert_int_equal(plen, len);
		if (len > 0)
			assert_memory_equal(p, plain, len);
		free(p);
		free(c);
		free(plain);
	}
}

static void test_nonce_is_random(void **state)
{
	uint8_t *a, *b;
	size_t alen, blen;

	assert_int_equal(bd_stream_encrypt_buffer(key, (const uint8_t *)"x", 1, &a, &alen, NULL),
	                 0);
	assert_int_equal(bd_stream_encrypt_buffer(key, (const uint8_t *)"x", 1, &b, &blen, NULL),
	                 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, "BDST\x01\x01", 6);
	assert_memory_not_equal(a + 6, b + 6, 16);
	assert_memory_not_equal(a + 22, b + 22, alen - 22);
	free(a);
	free(b);
}

/* A source that yields a buffer, then EOF, or fails after a while. */
struct short_source {
	struct bd_source source;
	size_t left;
	int fail;
};

static ssize_t short_read(void *ctx, uint8_t *buf, size_t len)
{
	struct short_source *s = ctx;
	size_t n = len < s->left ? len : s->left;

	if (n == 0 && s->fail)
		return -1;
	memset(buf, 'a', n);
	s->left -= n;
	return (ssize_t)n;
}

static ssize_t pull_all(struct bd_stream_enc *enc, size_t step)
{
	struct bd_source *s = bd_stream_enc_source(enc);
	uint8_t *buf = bd_malloc(step);
	ssize_t n, total = 0;

	while ((n = s->read(s->ctx, buf, step)) > 0)
		total += n;
	free(buf);
	return n < 0 ? -1 : total;
}

static void test_source_size_mismatch(void **state)
{
	struct short_source src = {{short_read, &src}, 1000, 0};
	struct bd_stream_enc *enc;

	/* shorter than declared */
	enc = bd_stream_enc_new(key, &src.source, 1001);
	assert_int_equal(pull_all(enc, 4096), -1);
	assert_int_equal(bd_stream_enc_error(enc)->code, BD_E_INVALID);
	bd_stream_enc_free(&enc);
	/* longer than declared, in both read paths */
	for (size_t step = 100; step <= 200000; step += 199900) {
		src.left = 1000;
		enc = bd_stream_enc_new(key, &src.source, 999);
		assert_int_equal(pull_all(enc, step), -1);
		assert_int_equal(bd_stream_enc_error(enc)->code, BD_E_INVALID);
		bd_stream_enc_free(&enc);
	}
	/* the source fails */
	src.left = 70000;
	src.fail = 1;
	enc = bd_stream_enc_new(key, &src.source, 80000);
	assert_int_equal(pull_all(enc, 4096), -1);
	assert_int_equal(bd_stream_enc_error(enc)->code, BD_E_IO);
	/* and stays failed */
	assert_int_equal(pull_all(enc, 4096), -1);
	bd_stream_enc_free(&enc);
	/* exact size works */
	src.left = 70000;
	src.fail = 0;
	enc = bd_stream_enc_new(key, &src.source, 70000);
	assert_int_equal(pull_all(enc, 4096), (ssize_t)bd_stream_ciphertext_size(70000));
	bd_stream_enc_free(&enc);
}

/* ---- byte ranges ----------------------------------------------------------------------------- */

/* Decrypt [poff, poff+plen) from ciphertext C of a PSIZE payload to OUT (into room LEND
 * lends, unless NULL), feeding slices of random size. */
static int decrypt_into(const uint8_t *c, uint64_t psize, uint64_t poff, uint64_t plen,
                        struct bd_sink *out, struct bd_lending_sink *lend, struct bd_error *err)
{
	uint64_t off, len, fed = 0;
	struct bd_stream_dec *dec;
	int r = 0;

	bd_stream_cipher_range(psize, poff, plen, &off, &len);
	dec = bd_stream_dec_new(key, c, bd_stream_header_size(), psize, poff, plen, out, err);
	assert_non_null(dec);
	if (lend != NULL)
		bd_stream_dec_lend(dec, lend);
	while (fed < len && r == 0) {
		uint64_t n = randombytes_uniform(3) == 0 ? randombytes_uniform(100) + 1
		                                         : randombytes_uniform(2 * SEALED) + 1;

		if (n > len - fed)
			n = len - fed;
		r = bd_stream_dec_update(dec, c + off + fed, (size_t)n, err);
		fed += n;
	}
	if (r == 0)
		r = bd_stream_dec_final(dec, err);
	bd_stream_dec_free(&dec);
	assert_null(dec);
	return r;
}

static int decrypt_range(const uint8_t *c, uint64_t psize, uint64_t poff, uint64_t plen,
                         struct bd_buf_sink *sink, struct bd_error *err)
{
	bd_buf_sink_init(sink);
	return decrypt_into(c, psize, poff, plen, &sink->sink, NULL, err);
}

static void test_random_ranges(void **state)
{
	const size_t size = 4 * CHUNK + 1234;
	uint8_t *plain = pattern(size, 7), *c;
	size_t clen;
	struct bd_buf_sink sink;
	struct bd_error err;

	assert_int_equal(bd_stream_encrypt_buffer(key, plain, size, &c, &clen, &err), 0);
	for (int i = 0; i < 300; i++) {
		uint64_t poff = randombytes_uniform((uint32_t)size + 1);
		uint64_t plen = randombytes_uniform((uint32_t)(size - poff) + 1);

		if (i < 20) /* a few edge cases first */
			plen = i % 2 ? 0 : size - poff;
		assert_int_equal(decrypt_range(c, size, poff, plen, &sink, &err), 0);
		assert_int_equal(sink.len, plen);
		if (plen > 0)
			assert_memory_equal(sink.data, plain + poff, plen);
		free(sink.data);
	}
	/* a range outside the payload is refused */
	assert_null(bd_stream_dec_new(key, c, bd_stream_header_size(), size, size, 1, &sink.sink,
	                              &err));
	assert_int_equal(err.code, BD_E_INVALID);
	assert_null(bd_stream_dec_new(key, c, bd_stream_header_size(), size, 1, UINT64_MAX,
	                              &sink.sink, &err));
	/* a header that is not ours is refused */
	assert_null(bd_stream_dec_new(key, plain, bd_stream_header_size(), size, 0, 1, &sink.sink,
	                              &err));
	assert_int_equal(err.code, BD_E_INVALID);
	assert_null(bd_stream_dec_new(key, c, bd_stream_header_size() - 1, size, 0, 1, &sink.sink,
	                              &err));
	free(c);
	free(plain);
}

static void test_range_stops_at_tampered_chunk(void **state)
{
	const size_t size = 3 * CHUNK;
	uint8_t *plain = pattern(size, 8), *c;
	const uint64_t h = bd_stream_header_size();
	size_t clen;
	struct bd_buf_sink sink;
	struct bd_error err;

	assert_int_equal(bd_stream_encrypt_buffer(key, plain, size, &c, &clen, &err), 0);
	c[h + SEALED + 100] ^= 1; /* damage chunk 1 */
	/* chunk 0 and 2 alone still decrypt */
	assert_int_equal(decrypt_range(c, size, 10, 100, &sink, &err), 0);
	free(sink.data);
	assert_int_equal(decrypt_range(c, size, 2 * CHUNK, CHUNK, &sink, &err), 0);
	free(sink.data);
	/* a range over chunk 1 releases chunk 0's part and nothing of chunk 1 */
	assert_int_equal(decrypt_range(c, size, CHUNK - 10, 20, &sink, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	assert_int_equal(sink.len, 10);
	free(sink.data);
	free(c);
	free(plain);
}

/* A sink that lends room in a ring of an odd size, so that chunks wrap at changing
 * places; what is committed (or written) is drained into OUT at once. */
#define LEND_RING (CHUNK + CHUNK / 3 + 5)

struct lend_ring {
	struct bd_lending_sink ls;
	uint8_t ring[LEND_RING];
	size_t tail; /* where the next room starts */
	struct bd_span held[2];
	int refuse;        /* reserve(): 1 cannot lend, -1 stops */
	int lent, written; /* chunks committed from room; plain writes */
	struct bd_buf_sink out;
};

static int lend_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct lend_ring *r = ctx;

	r->written++;
	return r->out.sink.write(&r->out, buf, len);
}

static int lend_reserve(void *ctx, size_t len, struct bd_span room[2])
{
	struct lend_ring *r = ctx;

	if (r->refuse != 0)
		return r->refuse;
	if (len > LEND_RING)
		return 1;
	room[0].data = r->ring + r->tail;
	room[0].len = LEND_RING - r->tail < len ? LEND_RING - r->tail : len;
	room[1].data = r->ring;
	room[1].len = len - room[0].len;
	r->held[0] = room[0];
	r->held[1] = room[1];
	memset(r->ring, 0xAA, sizeof(r->ring)); /* room holds old bytes, not zeros */
	return 0;
}

static int lend_commit(void *ctx, size_t len)
{
	struct lend_ring *r = ctx;

	assert_int_equal(len, r->held[0].len + r->held[1].len);
	r->lent++;
	r->tail = (r->tail + len) % LEND_RING;
	if (r->out.sink.write(&r->out, r->held[0].data, r->held[0].len) < 0)
		return -1;
	return r->out.sink.write(&r->out, r->held[1].data, r->held[1].len);
}

static void lend_ring_init(struct lend_ring *r, int refuse)
{
	memset(r, 0, sizeof(*r));
	r->ls.sink.write = lend_write;
	r->ls.sink.ctx = r;
	r->ls.reserve = lend_reserve;
	r->ls.commit = lend_commit;
	r->refuse = refuse;
	bd_buf_sink_init(&r->out);
}

/* As decrypt_range, into lent room. */
static int decrypt_range_lent(const uint8_t *c, uint64_t psize, uint64_t poff, uint64_t plen,
                              struct lend_ring *r, struct bd_error *err)
{
	return decrypt_into(c, psize, poff, plen, &r->ls.sink, &r->ls, err);
}

static void test_lent_room(void **state)
{
	const size_t size = 6 * CHUNK + 999;
	uint8_t *plain = pattern(size, 11), *c;
	const uint64_t h = bd_stream_header_size();
	struct lend_ring *r = malloc(sizeof(*r));
	size_t clen;
	struct bd_error err;

	assert_int_equal(bd_stream_encrypt_buffer(key, plain, size, &c, &clen, &err), 0);
	/* byte for byte what a plain sink gets, whole chunks through the room */
	for (int i = 0; i < 60; i++) {
		uint64_t poff = i < 2 ? 0 : randombytes_uniform((uint32_t)size + 1);
		uint64_t plen = i < 2 ? size : randombytes_uniform((uint32_t)(size - poff) + 1);

		lend_ring_init(r, 0);
		assert_int_equal(decrypt_range_lent(c, size, poff, plen, r, &err), 0);
		assert_int_equal(r->out.len, plen);
		if (plen > 0)
			assert_memory_equal(r->out.data, plain + poff, plen);
		if (i == 0) /* six whole chunks lent, the short last one too */
			assert_int_equal(r->lent, 7);
		if (i == 0)
			assert_int_equal(r->written, 0);
		free(r->out.data);
	}
	/* cut chunks still go through the decryptor's buffer: one at each end */
	lend_ring_init(r, 0);
	assert_int_equal(decrypt_range_lent(c, size, 10, 3 * CHUNK, r, &err), 0);
	assert_int_equal(r->lent, 2);
	assert_int_equal(r->written, 2);
	free(r->out.data);
	/* a sink that cannot lend gets plain writes */
	lend_ring_init(r, 1);
	assert_int_equal(decrypt_range_lent(c, size, 0, size, r, &err), 0);
	assert_int_equal(r->out.len, size);
	assert_memory_equal(r->out.data, plain, size);
	assert_int_equal(r->lent, 0);
	free(r->out.data);
	/* one that stops the transfer stops it */
	lend_ring_init(r, -1);
	assert_int_equal(decrypt_range_lent(c, size, 0, size, r, &err), -1);
	assert_int_equal(err.code, BD_E_IO);
	assert_int_equal(r->out.len, 0);
	free(r->out.data);
	/* a tampered chunk: nothing of it committed, and its room wiped */
	c[h + 2 * SEALED + 5000] ^= 1;
	lend_ring_init(r, 0);
	assert_int_equal(decrypt_range_lent(c, size, 0, size, r, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	assert_int_equal(r->out.len, 2 * CHUNK);
	assert_memory_equal(r->out.data, plain, 2 * CHUNK);
	for (int k = 0; k < 2; k++)
		for (size_t b = 0; b < r->held[k].len; b++)
			assert_int_equal(r->held[k].data[b], 0);
	free(r->out.data);
	/* and one cut off mid-chunk is wiped too */
	c[h + 2 * SEALED + 5000] ^= 1;
	lend_ring_init(r, 0);
	{
		uint64_t off, len;
		struct bd_stream_dec *dec;

		bd_stream_cipher_range(size, 0, size, &off, &len);
		dec = bd_stream_dec_new(key, c, h, size, 0, size, &r->ls.sink, &err);
		bd_stream_dec_lend(dec, &r->ls);
		assert_int_equal(bd_stream_dec_update(dec, c + off, SEALED + 3000, &err), 0);
		assert_int_equal(r->lent, 1);
		bd_stream_dec_free(&dec);
		for (int k = 0; k < 2; k++)
			for (size_t b = 0; b < r->held[k].len; b++)
				assert_int_equal(r->held[k].data[b], 0);
	}
	free(r->out.data);
	free(r);
	free(c);
	free(plain);
}

static void test_range_incomplete_or_extra(void **state)
{
	const size_t size = 2 * CHUNK + 5;
	uint8_t *plain = pattern(size, 9), *c;
	uint64_t off, len;
	size_t clen;
	struct bd_buf_sink sink;
	struct bd_stream_dec *dec;
	struct bd_error err;

	assert_int_equal(bd_stream_encrypt_buffer(key, plain, size, &c, &clen, &err), 0);
	bd_stream_cipher_range(size, 5, CHUNK, &off, &len);
	/* one byte short */
	bd_buf_sink_init(&sink);
	dec = bd_stream_dec_new(key, c, bd_stream_header_size(), size, 5, CHUNK, &sink.sink, &err);
	assert_int_equal(bd_stream_dec_update(dec, c + off, len - 1, &err), 0);
	assert_int_equal(bd_stream_dec_final(dec, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	bd_stream_dec_free(&dec);
	free(sink.data);
	/* one byte too many */
	bd_buf_sink_init(&sink);
	dec = bd_stream_dec_new(key, c, bd_stream_header_size(), size, 5, CHUNK, &sink.sink, &err);
	assert_int_equal(bd_stream_dec_update(dec, c + off, len + 1, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	assert_int_equal(bd_stream_dec_final(dec, &err), -1);
	bd_stream_dec_free(&dec);
	free(sink.data);
	free(c);
	free(plain);
}

/* ---- tampering ------------------------------------------------------------------------------- */

static void flip_every_bit(const uint8_t *c, size_t clen, size_t from, size_t to)
{
	uint8_t *d = bd_malloc(clen);

	memcpy(d, c, clen);
	for (size_t i = from; i < to; i++)
		for (int b = 0; b < 8; b++) {
			d[i] ^= (uint8_t)(1 << b);
			assert_int_not_equal(decrypt_code(d, clen), 0);
			d[i] ^= (uint8_t)(1 << b);
		}
	assert_int_equal(decrypt_code(d, clen), 0);
	free(d);
}

static void test_every_bit_flip(void **state)
{
	static const size_t sizes[] = {0, 1, 1000};
	uint8_t *plain, *c;
	size_t clen;

	for (size_t i = 0; i < 3; i++) {
		plain = pattern(sizes[i], 10);
		assert_int_equal(bd_stream_encrypt_buffer(key, plain, sizes[i], &c, &clen, NULL),
		                 0);
		flip_every_bit(c, clen, 0, clen);
		free(c);
		free(plain);
	}
	/* two chunks: the header, both tags, both chunk edges, the whole short last chunk */
	plain = pattern(CHUNK + 1, 11);
	assert_int_equal(bd_stream_encrypt_buffer(key, plain, CHUNK + 1, &c, &clen, NULL), 0);
	flip_every_bit(c, clen, 0, 22 + 40);
	flip_every_bit(c, clen, 22 + SEALED - 40, clen);
	free(c);
	free(plain);
}

static void test_truncate_extend_reorder(void **state)
{
	const size_t size = 3 * CHUNK + 100;
	const size_t h = bd_stream_header_size();
	uint8_t *plain = pattern(size, 12), *c, *d;
	size_t clen;

	assert_int_equal(bd_stream_encrypt_buffer(key, plain, size, &c, &clen, NULL), 0);
	/* truncation: all short lengths, around each chunk boundary, near the end */
	for (size_t n = 0; n < clen; n++) {
		size_t m = (n - h) % SEALED;

		if (n < h + 40 || m < 20 || m > SEALED - 20 || n > clen - 150)
			assert_int_not_equal(decrypt_code(c, n), 0);
	}
	/* extension by 1..40 bytes and by a copy of the last chunk */
	d = bd_malloc(clen + SEALED);
	memcpy(d, c, clen);
	memset(d + clen, 0, SEALED);
	for (size_t n = 1; n <= 40; n++)
		assert_int_not_equal(decrypt_code(d, clen + n), 0);
	memcpy(d + clen, c + h + 3 * SEALED, 116);
	assert_int_not_equal(decrypt_code(d, clen + 116), 0);
	/* swapping chunks 0 and 1, dropping chunk 1, duplicating chunk 0 */
	memcpy(d, c, clen);
	memcpy(d + h, c + h + SEALED, SEALED);
	memcpy(d + h + SEALED, c + h, SEALED);
	assert_int_equal(decrypt_code(d, clen), BD_E_CRYPTO);
	memcpy(d, c, h + SEALED);
	memcpy(d + h + SEALED, c + h + 2 * SEALED, clen - h - 2 * SEALED);
	assert_int_equal(decrypt_code(d, clen - SEALED), BD_E_CRYPTO);
	memcpy(d, c, clen);
	memcpy(d + h + SEALED, c + h, SEALED);
	assert_int_equal(decrypt_code(d, clen), BD_E_CRYPTO);
	/* the original still decrypts: the failures above are the edits, not the data */
	assert_int_equal(decrypt_code(c, clen), 0);
	free(d);
	free(c);
	free(plain);
}

static void test_wrong_key(void **state)
{
	uint8_t *c, *p = NULL, other[BD_STREAM_KEY_BYTES];
	size_t clen, plen;
	struct bd_error err;

	assert_int_equal(
	        bd_stream_encrypt_buffer(key, (const uint8_t *)"secret", 6, &c, &clen, &err), 0);
	memcpy(other, key, sizeof(other));
	other[31] ^= 0x80;
	assert_int_equal(bd_stream_decrypt_buffer(other, c, clen, &p, &plen, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	assert_null(p);
	free(c);
}

/* ---- age vectors ----------------------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n;

	assert_non_null(f);
	*len = 0;
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = bd_realloc(buf, cap);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return buf;
}

static uint8_t *inflate_all(const uint8_t *in, size_t len, size_t *outlen)
{
	z_stream z = {0};
	size_t cap = 1 << 20;
	uint8_t *out = bd_malloc(cap);
	int r;

	assert_int_equal(inflateInit(&z), Z_OK);
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)len;
	do {
		if (z.total_out == cap) {
			cap *= 2;
			out = bd_realloc(out, cap);
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		r = inflate(&z, Z_NO_FLUSH);
		assert_true(r == Z_OK || r == Z_STREAM_END);
	} while (r != Z_STREAM_END);
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

static int hash_write(void *ctx, const uint8_t *buf, size_t len)
{
	crypto_hash_sha256_update(ctx, buf, len);
	return 0;
}

/* Returns 1 when the vector applied and passed. */
static int run_age_vector(const char *path)
{
	size_t len, agelen, hlen;
	uint8_t *file = read_file(path, &len), *age, file_key[16], want[32], got[32];
	const char *expect = NULL, *payload = NULL, *fkey = NULL;
	int compressed = 0, r;
	char *text, *line, *save, *end;
	const uint8_t *p;
	crypto_hash_sha256_state st;
	struct bd_sink sink = {hash_write, &st};
	struct bd_error err;

	end = memmem(file, len, "\n\n", 2);
	assert_non_null(end);
	hlen = (size_t)(end - (char *)file);
	text = bd_strndup((char *)file, hlen);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "expect: ", 8) == 0)
			expect = line + 8;
		else if (strncmp(line, "payload: ", 9) == 0)
			payload = line + 9;
		else if (strncmp(line, "file key: ", 10) == 0)
			fkey = line + 10;
		else if (strcmp(line, "compressed: zlib") == 0)
			compressed = 1;
		else if (strcmp(line, "armored: yes") == 0)
			expect = "n/a";
	}
	assert_non_null(expect);
	if ((strcmp(expect, "success") != 0 && strcmp(expect, "payload failure") != 0) || !fkey) {
		free(text);
		free(file);
		return 0;
	}
	assert_non_null(payload);
	hex_decode(fkey, file_key, sizeof(file_key));
	hex_decode(payload, want, sizeof(want));
	if (compressed)
		age = inflate_all(file + hlen + 2, len - hlen - 2, &agelen);
	else {
		agelen = len - hlen - 2;
		age = bd_malloc(agelen);
		memcpy(age, file + hlen + 2, agelen);
	}
	/* the age header ends with the line "--- <mac>"; the payload follows its newline */
	p = age;
	while (!(p[0] == '-' && p[1] == '-' && p[2] == '-' && p[3] == ' ')) {
		p = memchr(p, '\n', agelen - (size_t)(p - age));
		assert_non_null(p);
		p++;
	}
	p = memchr(p, '\n', agelen - (size_t)(p - age));
	assert_non_null(p);
	p++;
	assert_true(agelen - (size_t)(p - age) >= 16);
	crypto_hash_sha256_init(&st);
	r = bd_stream_age_decrypt(file_key, p, p + 16, agelen - (size_t)(p - age) - 16, &sink,
	                          &err);
	crypto_hash_sha256_final(&st, got);
	if (strcmp(expect, "success") == 0) {
		if (r != 0) {
			fprintf(stderr, "%s: %s\n", path, err.msg);
			fail();
		}
	} else {
		if (r != -1) {
			fprintf(stderr, "%s: decrypted, expected a payload failure\n", path);
			fail();
		}
		assert_int_equal(err.code, BD_E_CRYPTO);
	}
	if (memcmp(got, want, 32) != 0) {
		fprintf(stderr, "%s: wrong plaintext released\n", path);
		fail();
	}
	free(age);
	free(text);
	free(file);
	return 1;
}

static void test_age_vectors(void **state)
{
	const char *src = getenv("BD_SOURCE_DIR");
	char dir[4096], path[8192];
	struct dirent *de;
	int passed = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/vectors/age", src ? src : ".");
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		passed += run_age_vector(path);
	}
	closedir(d);
	assert_int_equal(passed, 37);
}

/* The piecewise AEAD of stream.c against libsodium's one-shot ChaCha20-Poly1305, both ways,
 * with slicings that cut ChaCha20 blocks and Poly1305 blocks anywhere. */
static void one_shot_nonce(uint64_t i, int last, uint8_t n[12])
{
	memset(n, 0, 12);
	for (int b = 0; b < 8; b++)
		n[3 + b] = (uint8_t)(i >> (56 - 8 * b));
	n[11] = (uint8_t)last;
}

static void test_matches_one_shot_aead(void **state)
{
	static const size_t sizes[] = {0,  1,  15,   16,    17,         63,
	                               64, 65, 1000, CHUNK, CHUNK + 63, 2 * CHUNK + 129};
	static const size_t steps[] = {1, 7, 64, 1000, SEALED + 3};
	static const uint8_t nonce[16] = {9, 8, 7};
	uint8_t pkey[32];

	bd_hkdf_sha256(nonce, 16, key, 32, (const uint8_t *)"payload", 7, pkey, 32);
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t len = sizes[si], n = len == 0 ? 1 : (len + CHUNK - 1) / CHUNK, clen;
		uint8_t *plain = pattern(len, (uint32_t)si), *c, *mine, *p = bd_malloc(CHUNK);
		const uint8_t h = (uint8_t)bd_stream_header_size();

		/* ours encrypts, libsodium opens every chunk */
		for (size_t st = 0; st < sizeof(steps) / sizeof(steps[0]); st++) {
			if (steps[st] == 1 && len > 70000)
				continue;
			mine = encrypt_in_steps(nonce, plain, len, steps[st], &clen);
			for (size_t i = 0; i < n; i++) {
				size_t plen = i + 1 < n ? CHUNK : len - (n - 1) * CHUNK;
				uint8_t cn[12];

				one_shot_nonce(i, i + 1 == n, cn);
				assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(
				                         p, NULL, NULL, mine + h + i * SEALED,
				                         plen + 16, NULL, 0, cn, pkey),
				                 0);
				if (plen > 0)
					assert_memory_equal(p, plain + i * CHUNK, plen);
			}
			free(mine);
		}
		/* libsodium seals every chunk, ours opens it in odd slices */
		clen = (size_t)bd_stream_ciphertext_size(len);
		c = bd_malloc(clen);
		memcpy(c, "BDST\x01\x01", 6);
		memcpy(c + 6, nonce, 16);
		for (size_t i = 0; i < n; i++) {
			size_t plen = i + 1 < n ? CHUNK : len - (n - 1) * CHUNK;
			uint8_t cn[12];

			one_shot_nonce(i, i + 1 == n, cn);
			crypto_aead_chacha20poly1305_ietf_encrypt(c + h + i * SEALED, NULL,
			                                          plain + i * CHUNK, plen, NULL, 0,
			                                          NULL, cn, pkey);
		}
		for (int round = 0; round < 5; round++) {
			struct bd_buf_sink sink;
			struct bd_error err;

			assert_int_equal(decrypt_range(c, len, 0, len, &sink, &err), 0);
			assert_int_equal(sink.len, len);
			if (len > 0)
				assert_memory_equal(sink.data, plain, len);
			free(sink.data);
		}
		free(c);
		free(p);
		free(plain);
	}
}

/* ---- docs/FORMAT.md vectors ----------------------------------------------------------------- */

static void test_format_vectors(void **state)
{
	static const struct {
		const char *plain, *cipher;
	} v[] = {
	        {"",
	         "424453540101707172737475767778797a7b7c7d7e7fd388451630143e7aef48c6d1c69aa14b"},
	        {"Hallo, bestanden!\n", "424453540101707172737475767778797a7b7c7d7e7fd0368fa6307a2d"
	                                "76234892e93ee438f34580881b9"
	                                "d966ced105e331ac82346ed48a0"},
	};
	uint8_t fkey[32], nonce[16], want[128], digest[32], *c, *p, *big;
	size_t clen, plen;
	struct bd_error err;

	/* the file key of file 1 of the FORMAT.md package (test_package checks the derivation) */
	hex_decode("3027cd9a2249bf7a11f2a83cf0508c59bb33972c52f1551e28d9e1461168609f", fkey, 32);
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(0x70 + i);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct bd_mem_source src;
		struct bd_stream_enc *enc;
		struct bd_source *s;
		size_t n = strlen(v[i].cipher) / 2;

		hex_decode(v[i].cipher, want, n);
		bd_mem_source_init(&src, (const uint8_t *)v[i].plain, strlen(v[i].plain));
		enc = bd_stream_enc_new_nonce(fkey, nonce, &src.source, strlen(v[i].plain));
		s = bd_stream_enc_source(enc);
		c = bd_malloc(n + 1);
		assert_int_equal(s->read(s->ctx, c, n + 1), (ssize_t)n);
		assert_memory_equal(c, want, n);
		bd_stream_enc_free(&enc);
		assert_int_equal(bd_stream_decrypt_buffer(fkey, want, n, &p, &plen, &err), 0);
		assert_int_equal(plen, strlen(v[i].plain));
		assert_memory_equal(p, v[i].plain, plen);
		free(p);
		free(c);
	}
	/* two chunks: 65537 bytes, byte i = i mod 256; the ciphertext by its SHA-256 */
	big = bd_malloc(65537);
	for (size_t i = 0; i < 65537; i++)
		big[i] = (uint8_t)i;
	{
		struct bd_mem_source src;
		struct bd_stream_enc *enc;
		struct bd_source *s;

		bd_mem_source_init(&src, big, 65537);
		enc = bd_stream_enc_new_nonce(fkey, nonce, &src.source, 65537);
		s = bd_stream_enc_source(enc);
		clen = (size_t)bd_stream_ciphertext_size(65537);
		assert_int_equal(clen, 65591);
		c = bd_malloc(clen);
		assert_int_equal(s->read(s->ctx, c, clen), (ssize_t)clen);
		bd_stream_enc_free(&enc);
	}
	crypto_hash_sha256(digest, c, clen);
	hex_decode("6e9f28bbad10178cd05bbc915e9e63ce8802c1ee74d5c0ab32f8687705073a48", want, 32);
	assert_memory_equal(digest, want, 32);
	free(c);
	free(big);
}

/* ---- push encryption ------------------------------------------------------------------------- */

/* The push encryptor over PLAIN in slices of STEP bytes, into a buffer sink. */
static void push_encrypt(const uint8_t *k, const uint8_t *nonce, const uint8_t *plain, size_t len,
                         size_t step, struct bd_buf_sink *out)
{
	struct bd_stream_push *p;
	struct bd_error err;
	uint64_t total = 0;

	bd_buf_sink_init(out);
	p = bd_stream_push_new_nonce(k, nonce, &out->sink);
	for (size_t off = 0; off < len; off += step)
		assert_int_equal(bd_stream_push_update(p, plain + off,
		                                       len - off < step ? len - off : step, &err),
		                 0);
	assert_int_equal(bd_stream_push_final(p, &total, &err), 0);
	assert_int_equal(total, len);
	/* nothing may follow the last chunk */
	assert_int_equal(bd_stream_push_update(p, plain, 0, &err), -1);
	bd_stream_push_free(&p);
}

/* FORMAT.md 9.2 through the push encryptor, and pull == push for sizes around chunk edges. */
static void test_push_matches_pull(void **state)
{
	static const size_t sizes[] = {
	        0, 1, 18, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 5, 3 * CHUNK - 1};
	static const size_t steps[] = {1, 7, 4096, CHUNK, CHUNK + 3, 1 << 20};
	uint8_t fkey[32], nonce[16], want[64], digest[32];
	struct bd_buf_sink out;
	uint8_t *big = bd_malloc(65537);

	hex_decode("3027cd9a2249bf7a11f2a83cf0508c59bb33972c52f1551e28d9e1461168609f", fkey, 32);
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(0x70 + i);
	push_encrypt(fkey, nonce, (const uint8_t *)"Hallo, bestanden!\n", 18, 5, &out);
	hex_decode("424453540101707172737475767778797a7b7c7d7e7fd0368fa6307a2d76234892e93ee438f3"
	           "4580881b9d966ced105e331ac82346ed48a0",
	           want, 56);
	assert_int_equal(out.len, 56);
	assert_memory_equal(out.data, want, 56);
	free(out.data);
	for (size_t i = 0; i < 65537; i++)
		big[i] = (uint8_t)i;
	push_encrypt(fkey, nonce, big, 65537, 1000, &out);
	assert_int_equal(out.len, 65591);
	crypto_hash_sha256(digest, out.data, out.len);
	hex_decode("6e9f28bbad10178cd05bbc915e9e63ce8802c1ee74d5c0ab32f8687705073a48", want, 32);
	assert_memory_equal(digest, want, 32);
	free(out.data);
	free(big);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *plain = pattern(sizes[i] ? sizes[i] : 1, (uint32_t)i);
		size_t clen = (size_t)bd_stream_ciphertext_size(sizes[i]);
		uint8_t *c = bd_malloc(clen), *back;
		struct bd_mem_source src;
		struct bd_stream_enc *enc;
		struct bd_source *s;
		struct bd_error err;
		size_t blen;

		bd_mem_source_init(&src, plain, sizes[i]);
		enc = bd_stream_enc_new_nonce(key, nonce, &src.source, sizes[i]);
		s = bd_stream_enc_source(enc);
		for (size_t got = 0; got < clen;) {
			ssize_t n = s->read(s->ctx, c + got, clen - got);

			assert_true(n > 0);
			got += (size_t)n;
		}
		bd_stream_enc_free(&enc);
		for (size_t j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			push_encrypt(key, nonce, plain, sizes[i], steps[j], &out);
			assert_int_equal(out.len, clen);
			assert_memory_equal(out.data, c, clen);
			free(out.data);
		}
		assert_int_equal(bd_stream_decrypt_buffer(key, c, clen, &back, &blen, &err), 0);
		assert_int_equal(blen, sizes[i]);
		free(back);
		free(c);
		free(plain);
	}
}

/* A sink that refuses: the push encryptor fails and stays failed. */
static int refuse_write(void *ctx, const uint8_t *buf, size_t len)
{
	return -1;
}

static void test_push_sink_failure(void **state)
{
	struct bd_sink no = {refuse_write, NULL};
	struct bd_stream_push *p = bd_stream_push_new(key, &no);
	uint8_t *plain = pattern(2 * CHUNK, 9);
	struct bd_error err;

	/* the first chunk is sealed (and written) only when the byte after it arrives */
	assert_int_equal(bd_stream_push_update(p, plain, CHUNK, &err), 0);
	assert_int_equal(bd_stream_push_update(p, plain, 1, &err), -1);
	assert_int_equal(err.code, BD_E_IO);
	assert_int_equal(bd_stream_push_final(p, NULL, &err), -1);
	bd_stream_push_free(&p);
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hkdf_rfc5869),
	        cmocka_unit_test(test_sizes),
	        cmocka_unit_test(test_cipher_range),
	        cmocka_unit_test(test_roundtrip_sizes),
	        cmocka_unit_test(test_nonce_is_random),
	        cmocka_unit_test(test_source_size_mismatch),
	        cmocka_unit_test(test_random_ranges),
	        cmocka_unit_test(test_range_stops_at_tampered_chunk),
	        cmocka_unit_test(test_lent_room),
	        cmocka_unit_test(test_range_incomplete_or_extra),
	        cmocka_unit_test(test_every_bit_flip),
	        cmocka_unit_test(test_truncate_extend_reorder),
	        cmocka_unit_test(test_wrong_key),
	        cmocka_unit_test(test_age_vectors),
	        cmocka_unit_test(test_format_vectors),
	        cmocka_unit_test(test_matches_one_shot_aead),
	        cmocka_unit_test(test_push_matches_pull),
	        cmocka_unit_test(test_push_sink_failure),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
