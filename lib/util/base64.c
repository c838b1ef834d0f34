/*
 * base64.c - base64 decoding, sixteen input bytes per step where the CPU has SSSE3
 * (nearly every x86-64 machine), else four per table step (see base64.h).
 *
 * Four tables hold every input byte's digit already shifted into its place
 * in a 24-bit group, or a bit above the group for bytes outside the alphabet:
 * one OR of four lookups decodes a whole quartet and says whether all four
 * were digits. Anything else (line ends, a quartet split between pieces,
 * pending padding) goes one byte at a time.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "base64.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && !defined(BD_BASE64_NO_SSSE3)
#include <tmmintrin.h>
#define HAVE_SSSE3_PATH 1
#endif

#define NOT_DIGIT 0x80000000u

static uint32_t shifted[4][256];
static int ready;
#ifdef HAVE_SSSE3_PATH
static int ssse3; /* the CPU has SSSE3: sixteen digits a step (blocks_ssse3) */
#endif

static int digit(unsigned c)
{
	if (c >= 'A' && c <= 'Z')
		return (int)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (int)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (int)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1; /* '=' too: it leaves the fast path */
}

static void init_tables(void)
{
	for (unsigned c = 0; c < 256; c++) {
		int d = digit(c);

		for (unsigned k = 0; k < 4; k++)
			shifted[k][c] = d < 0 ? NOT_DIGIT : (uint32_t)d << (18 - 6 * k);
	}
#ifdef HAVE_SSSE3_PATH
	__builtin_cpu_init();
	ssse3 = __builtin_cpu_supports("ssse3");
#endif
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

/* '=' ended the data with N digits in SAVED (the '=' counted as one, of value 0). */
static uint8_t *finish(uint8_t *o, uint32_t saved, int n)
{
	if (n < 3)
		return o; /* nothing whole before it */
	if (n == 3)
		saved <<= 6; /* "xx==" or "xx=": one byte */
	*o++ = (uint8_t)(saved >> 16);
	if (n == 4)
		*o++ = (uint8_t)(saved >> 8); /* "xxx=": two bytes */
	return o;
}

#ifdef HAVE_SSSE3_PATH
/*
 * Whole blocks of sixteen digits from *P (while at least sixteen bytes remain before END),
 * twelve bytes each to *O; stops before the first block holding anything but digits (a line
 * end, '=', junk), which the caller then takes a quartet or a byte at a time.
 *
 * A byte is a digit when the bit of its high nibble is set in the mask its low nibble
 * selects (VALID_LO below); its value is the byte plus an offset chosen by its high nibble,
 * '/' shifted to a slot of its own (ROLL). Pairs of values are then merged into 12 bits,
 * pairs of those into 24, and the three bytes of each group put in order.
 */
__attribute__((target("ssse3"))) static void blocks_ssse3(const uint8_t **pp, const uint8_t *end,
                                                          uint8_t **op)
{
	/* per low nibble: which high nibbles make a digit with it (bit h for high nibble h) */
	const __m128i valid_lo = _mm_setr_epi8(
	        (char)0xA8, (char)0xF8, (char)0xF8, (char)0xF8, (char)0xF8, (char)0xF8, (char)0xF8,
	        (char)0xF8, (char)0xF8, (char)0xF8, (char)0xF0, 0x54, 0x50, 0x50, 0x50, 0x54);
	const __m128i bit_hi =
	        _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)128, 0, 0, 0, 0, 0, 0, 0, 0);
	/* offset from the byte to its value, by high nibble; slot 1 is '/' */
	const __m128i roll =
	        _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const uint8_t *p = *pp;
	uint8_t *o = *op;

	while (end - p >= 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hi = _mm_and_si128(_mm_srli_epi32(b, 4), _mm_set1_epi8(0x0F));
		__m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0F));
		__m128i ok =
		        _mm_and_si128(_mm_shuffle_epi8(valid_lo, lo), _mm_shuffle_epi8(bit_hi, hi));
		__m128i v, merged;
		uint32_t tail;

		if (_mm_movemask_epi8(_mm_cmpeq_epi8(ok, _mm_setzero_si128())) != 0)
			break;
		v = _mm_add_epi8(
		        b, _mm_shuffle_epi8(
		                   roll, _mm_add_epi8(hi, _mm_cmpeq_epi8(b, _mm_set1_epi8('/')))));
		merged = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));   /* a*64+b, c*64+d */
		merged = _mm_madd_epi16(merged, _mm_set1_epi32(0x00011000)); /* 24 bits a lane */
		merged = _mm_shuffle_epi8(merged, order);
		_mm_storel_epi64((__m128i *)(void *)o, merged);
		tail = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(merged, 8));
		memcpy(o + 8, &tail, 4); /* twelve bytes, not sixteen: OUT may end here */
		o += 12;
		p += 16;
	}
	*pp = p;
	*op = o;
}
#endif

size_t bd_base64_decode_step(const uint8_t *in, size_t len, uint8_t *out,
                             struct bd_base64_state *st)
{
	const uint8_t *p = in, *end = in + len;
	uint8_t *o = out;
	uint32_t saved = st->saved;
	int n = st->n;

	if (n < 0)
		return 0;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		init_tables(); /* idempotent: a race only computes the same tables twice */
	while (p < end) {
		uint32_t d;

		/* whole blocks, then whole quartets at once while none is half done */
		if (n == 0) {
#ifdef HAVE_SSSE3_PATH
			if (ssse3 && end - p >= 16)
				blocks_ssse3(&p, end, &o);
#endif
			while (end - p >= 4) {
				uint32_t v = shifted[0][p[0]] | shifted[1][p[1]] |
				             shifted[2][p[2]] | shifted[3][p[3]];

				if (v & NOT_DIGIT)
					break;
				o[0] = (uint8_t)(v >> 16);
				o[1] = (uint8_t)(v >> 8);
				o[2] = (uint8_t)v;
				o += 3;
				p += 4;
			}
			if (p == end)
				break;
		}
		/* one byte: a line end, junk, the end, or a quartet across pieces */
		if (*p == '=') {
			o = finish(o, saved << 6, n + 1);
			st->saved = 0;
			st->n = -1;
			return (size_t)(o - out);
		}
		d = shifted[3][*p++];
		if (d & NOT_DIGIT)
			continue;
		saved = (saved << 6) | d;
		if (++n == 4) {
			o[0] = (uint8_t)(saved >> 16);
			o[1] = (uint8_t)(saved >> 8);
			o[2] = (uint8_t)saved;
			o += 3;
			saved = 0;
			n = 0;
		}
	}
	st->saved = saved;
	st->n = n;
	return (size_t)(o - out);
}

#ifdef __SSE2__
/* Each byte of B in [LO, LO + N): all ones, else zero (signed compares, shifted). */
static __m128i in_range(__m128i b, char lo, char n)
{
	__m128i shifted_b = _mm_add_epi8(b, _mm_set1_epi8((char)(-128 - lo)));

	return _mm_cmplt_epi8(shifted_b, _mm_set1_epi8((char)(-128 + n)));
}
#endif

uint64_t bd_base64_decoded_count(const uint8_t *in, size_t len, struct bd_base64_state *st)
{
	const uint8_t *p = in, *end = in + len;
	uint64_t digits = 0;
	int n = st->n;

	if (n < 0)
		return 0;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		init_tables();
#ifdef __SSE2__
	/* sixteen bytes at a time until an '=': the digits among them counted, the
	 * rest (line ends, junk) skipped, as the decoder skips them. A digit's byte in
	 * the compare is all ones (-1), so subtracting it counts per byte lane; the
	 * lanes are summed (psadbw) before they can overflow, at most 255 steps on */
	while (end - p >= 16) {
		__m128i lanes = _mm_setzero_si128(), sums;
		unsigned steps = 0;

		while (end - p >= 16 && steps < 255) {
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i is = _mm_or_si128(
			        _mm_or_si128(in_range(b, 'A', 26), in_range(b, 'a', 26)),
			        _mm_or_si128(
			                in_range(b, '0', 10),
			                _mm_or_si128(in_range(b, '+', 1), in_range(b, '/', 1))));

			if (_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8('='))) != 0)
				break;
			lanes = _mm_sub_epi8(lanes, is);
			p += 16;
			steps++;
		}
		sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
		digits += (uint64_t)_mm_cvtsi128_si32(sums) +
		          (uint64_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
		if (steps < 255)
			break; /* an '=' or the end */
	}
#endif
	while (p < end) {
		/* whole quartets of digits at once; N does not change over them */
		while (end - p >= 4 && !((shifted[0][p[0]] | shifted[1][p[1]] | shifted[2][p[2]] |
		                          shifted[3][p[3]]) &
		                         NOT_DIGIT)) {
			digits += 4;
			p += 4;
		}
		if (p == end)
			break;
		if (*p == '=') {
			/* finish(): "xx=" gives one byte, "xxx=" two, fewer digits none */
			uint64_t whole = (digits + (uint64_t)n) / 4 * 3;
			int left = (int)((digits + (uint64_t)n) % 4);

			st->saved = 0;
			st->n = -1;
			return whole + (left >= 2 ? (uint64_t)left - 1 : 0);
		}
		if (!(shifted[3][*p++] & NOT_DIGIT))
			digits++;
	}
	st->saved = 0;
	st->n = (int)((digits + (uint64_t)n) % 4);
	return (digits + (uint64_t)n) / 4 * 3;
}
