/*
 * bench_stream.c - payload encryption and decryption speed against raw
 * ChaCha20-Poly1305 (crypto_aead_chacha20poly1305_ietf_*) over the same
 * 64 KiB chunks of the same buffers, in the same run. Each measurement is
 * repeated; the median MB/s and the ratio to raw are printed.
 * usage: bench_stream [MiB] [repetitions]     (defaults 64 and 9)
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchclock.h"
#include "mem.h"
#include "stream.h"

#define CHUNK  BD_STREAM_CHUNK
#define SEALED (BD_STREAM_CHUNK + BD_STREAM_TAG_BYTES)

static const uint8_t key[32] = {1};
static const uint8_t nonce12[12] = {2};

/* Raw AEAD over 64 KiB chunks: the floor any chunked format pays. */
static void raw_encrypt(const uint8_t *plain, size_t len, uint8_t *out)
{
	for (size_t off = 0, i = 0; off < len; off += CHUNK, i++) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;

		crypto_aead_chacha20poly1305_ietf_encrypt(out + i * SEALED, NULL, plain + off, n,
		                                          NULL, 0, NULL, nonce12, key);
	}
}

static void raw_decrypt(const uint8_t *cipher, size_t plen, uint8_t *out)
{
	for (size_t off = 0, i = 0; off < plen; off += CHUNK, i++) {
		size_t n = plen - off < CHUNK ? plen - off : CHUNK;

		if (crypto_aead_chacha20poly1305_ietf_decrypt(out + off, NULL, NULL,
		                                              cipher + i * SEALED, n + 16, NULL, 0,
		                                              nonce12, key) != 0)
			abort();
	}
}

/* Copy each chunk into the output, then encrypt it there: the least any pull source pays,
 * since the plaintext has to be written into someone's buffer before it is encrypted. */
static void raw_copy_encrypt(const uint8_t *plain, size_t len, uint8_t *out)
{
	for (size_t off = 0, i = 0; off < len; off += CHUNK, i++) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;

		memcpy(out + i * SEALED, plain + off, n);
		crypto_aead_chacha20poly1305_ietf_encrypt(out + i * SEALED, NULL, out + i * SEALED,
		                                          n, NULL, 0, NULL, nonce12, key);
	}
}

/* Pull the encryptor dry in reads of STEP bytes into OUT. */
static void stream_encrypt(const uint8_t *plain, size_t len, uint8_t *out, size_t step)
{
	struct bd_mem_source src;
	struct bd_stream_enc *enc;
	struct bd_source *s;
	size_t done = 0;
	ssize_t n;

	bd_mem_source_init(&src, plain, len);
	enc = bd_stream_enc_new(key, &src.source, len);
	s = bd_stream_enc_source(enc);
	while ((n = s->read(s->ctx, out + done, step)) > 0)
		done += (size_t)n;
	if (n < 0 || done != bd_stream_ciphertext_size(len))
		abort();
	bd_stream_enc_free(&enc);
}

/* A sink that copies into a preallocated buffer, as a response buffer would. */
struct copy_sink {
	struct bd_sink sink;
	uint8_t *p;
	size_t len;
};

static int copy_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct copy_sink *c = ctx;

	memcpy(c->p + c->len, buf, len);
	c->len += len;
	return 0;
}

static void stream_decrypt(const uint8_t *cipher, size_t plen, uint8_t *out, size_t step)
{
	struct copy_sink sink = {{copy_write, &sink}, out, 0};
	size_t clen = (size_t)bd_stream_ciphertext_size(plen), h = bd_stream_header_size();
	struct bd_stream_dec *dec;

	dec = bd_stream_dec_new(key, cipher, h, plen, 0, plen, &sink.sink, NULL);
	if (dec == NULL)
		abort();
	for (size_t off = h; off < clen; off += step)
		if (bd_stream_dec_update(dec, cipher + off, clen - off < step ? clen - off : step,
		                         NULL) < 0)
			abort();
	if (bd_stream_dec_final(dec, NULL) < 0 || sink.len != plen)
		abort();
	bd_stream_dec_free(&dec);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 64, len = mib << 20;
	int reps = argc > 2 ? atoi(argv[2]) : 9;
	size_t clen = (size_t)bd_stream_ciphertext_size(len), h = bd_stream_header_size();
	uint8_t *plain, *cipher, *back, *raw;
	double *t[7];
	static const char *names[7] = {"raw encrypt",
	                               "encrypt, whole-buffer reads",
	                               "encrypt, 64 KiB reads",
	                               "raw decrypt",
	                               "decrypt, whole-buffer writes",
	                               "decrypt, 64 KiB writes",
	                               "(reference: memcpy + raw)"};

	if (sodium_init() < 0 || reps < 1 || mib < 1)
		return 2;
	plain = bd_malloc(len);
	cipher = bd_malloc(clen);
	back = bd_malloc(len);
	raw = bd_malloc(clen);
	randombytes_buf(plain, len);
	for (int k = 0; k < 7; k++)
		t[k] = bd_calloc((size_t)reps, sizeof(double));
	/* warm up every buffer once */
	raw_encrypt(plain, len, raw);
	stream_encrypt(plain, len, cipher, clen);
	for (int r = 0; r < reps; r++) {
		double a;

		a = bench_now(), raw_encrypt(plain, len, raw), t[0][r] = bench_now() - a;
		a = bench_now(), stream_encrypt(plain, len, cipher, clen),
		t[1][r] = bench_now() - a;
		a = bench_now(), stream_encrypt(plain, len, cipher, CHUNK),
		t[2][r] = bench_now() - a;
		a = bench_now(), raw_decrypt(raw, len, back), t[3][r] = bench_now() - a;
		a = bench_now(), stream_decrypt(cipher, len, back, clen - h),
		t[4][r] = bench_now() - a;
		a = bench_now(), stream_decrypt(cipher, len, back, CHUNK),
		t[5][r] = bench_now() - a;
		a = bench_now(), raw_copy_encrypt(plain, len, raw), t[6][r] = bench_now() - a;
	}
	if (memcmp(back, plain, len) != 0)
		return 1;
	printf("payload %zu MiB, %d repetitions, median MB/s (1 MB = 10^6 bytes)\n", mib, reps);
	for (int k = 0; k < 7; k++) {
		double mbs = (double)len / bench_median(t[k], reps) / 1e6;
		double base = (double)len / bench_median(t[k < 3 || k == 6 ? 0 : 3], reps) / 1e6;

		/* bench_median() sorted t[0] and t[3] in place; their medians stay the same */
		printf("%-30s %8.1f MB/s  %5.1f%% of raw\n", names[k], mbs, 100.0 * mbs / base);
	}
	for (int k = 0; k < 7; k++)
		free(t[k]);
	free(plain);
	free(cipher);
	free(back);
	free(raw);
	return 0;
}
