/*
 * bench_base64.c - the milter's base64 decoder and its size count against gmime's
 * decoder (g_mime_encoding_base64_decode_step) and memcpy, over the same text in the
 * same run: MiB of random bytes as base64 in 76-column lines with CRLF, as mail carries
 * it, taken 64 KiB at a time as the attachment reader does. Each measurement is repeated,
 * interleaved; the median MB/s of encoded text and the ratio to gmime are printed.
 * "scalar" is the same decoder without its SSSE3 step (base64_scalar.c).
 * usage: bench_base64 [MiB] [repetitions]     (defaults 64 and 9)
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <glib.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "benchclock.h"

#define PIECE 65536

size_t bench_scalar_decode_step(const uint8_t *in, size_t len, uint8_t *out,
                                struct bd_base64_state *st);

enum { GMIME, OURS, SCALAR, COUNT, COPY, KINDS };
static const char *const names[KINDS] = {"gmime decoder (baseline)", "decoder",
                                         "decoder without SSSE3", "count without decoding",
                                         "memcpy (memory speed)"};

/* One pass of KIND over TEXT in 64 KiB pieces into OUT; the bytes it gave (or counted). */
static uint64_t pass(int kind, const uint8_t *text, size_t len, uint8_t *out)
{
	struct bd_base64_state st = {0, 0};
	int gstate = 0;
	guint32 gsave = 0;
	uint64_t n = 0;

	for (size_t off = 0; off < len; off += PIECE) {
		size_t k = len - off < PIECE ? len - off : PIECE;
		const uint8_t *in = text + off;

		switch (kind) {
		case GMIME:
			n += g_mime_encoding_base64_decode_step(in, k, out, &gstate, &gsave);
			break;
		case OURS: n += bd_base64_decode_step(in, k, out, &st); break;
		case SCALAR: n += bench_scalar_decode_step(in, k, out, &st); break;
		case COUNT: n += bd_base64_decoded_count(in, k, &st); break;
		default:
			memcpy(out, in, k);
			n += k / 4 * 3;
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	int reps = argc > 2 ? atoi(argv[2]) : 9;
	size_t rawlen = mib << 20, len = 0;
	uint8_t *raw = malloc(rawlen), *text, *out = malloc(PIECE);
	gchar *b64;
	size_t b64len;
	double *t[KINDS], med[KINDS];
	GRand *r = g_rand_new_with_seed(7);

	if (mib == 0 || reps < 1 || raw == NULL || out == NULL) {
		fprintf(stderr, "usage: bench_base64 [MiB] [repetitions]\n");
		return 2;
	}
	for (size_t i = 0; i < rawlen; i++)
		raw[i] = (uint8_t)g_rand_int(r);
	b64 = g_base64_encode(raw, rawlen);
	b64len = strlen(b64);
	text = malloc(b64len + b64len / 76 * 2 + 2);
	for (size_t i = 0; i < b64len; i += 76) {
		size_t k = b64len - i < 76 ? b64len - i : 76;

		memcpy(text + len, b64 + i, k);
		len += k;
		text[len++] = '\r';
		text[len++] = '\n';
	}
	g_free(b64);
	for (int k = 0; k < KINDS; k++)
		t[k] = calloc((size_t)reps, sizeof(double));
	for (int i = 0; i < reps; i++) {
		for (int j = 0; j < KINDS; j++) {
			int k = (i + j) % KINDS; /* the order rotates by repetition */
			double t0 = bench_now();
			uint64_t n = pass(k, text, len, out);

			t[k][i] = bench_now() - t0;
			if (k != COPY && n != rawlen) {
				fprintf(stderr, "bench_base64: %s gave %llu bytes, not %zu\n",
				        names[k], (unsigned long long)n, rawlen);
				return 1;
			}
		}
	}
	printf("%zu MiB as %.1f MB of base64 (76-column lines, CRLF), 64 KiB pieces, median of "
	       "%d\n",
	       mib, (double)len / 1e6, reps);
	for (int k = 0; k < KINDS; k++)
		med[k] = bench_median(t[k], reps);
	for (int k = 0; k < KINDS; k++)
		printf("%-28s %8.0f MB/s   %5.2f x gmime\n", names[k], (double)len / 1e6 / med[k],
		       med[GMIME] / med[k]);
	return 0;
}
