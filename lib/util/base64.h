/*
 * base64.h - an incremental base64 decoder: sixteen bytes per step with SSSE3,
 * else table-driven, four bytes per step.
 *
 * It decodes exactly as gmime's g_mime_encoding_base64_decode_step() does
 * (the same bytes for the same input in the same pieces, tested on the whole
 * corpus and by tests/fuzz/fuzz-base64.c): characters outside the alphabet
 * are skipped, and the first '=' ends the data: the bytes its quartet
 * completes come out, everything after it is ignored. It is here because
 * gmime's decoder, one byte and one branch at a time, was most of the
 * milter's CPU time.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_BASE64_H
#define BD_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Start zeroed; carries a partial quartet from one call to the next. */
struct bd_base64_state {
	uint32_t saved; /* the digits of the quartet so far */
	int n;          /* how many (0-3); -1 once '=' has ended the data */
};

/* The most bytes decoding LEN bytes can produce. */
#define BD_BASE64_DECODED_MAX(len) (((len) / 4 + 1) * 3)

/* Decode IN[0..LEN) into OUT (room for BD_BASE64_DECODED_MAX(LEN)); the bytes written. */
size_t bd_base64_decode_step(const uint8_t *in, size_t len, uint8_t *out,
                             struct bd_base64_state *st);

/*
 * How many bytes bd_base64_decode_step() would write for IN[0..LEN) in state ST,
 * without decoding: the same digits counted, the same '=' rule. ST moves on as
 * the decoder's would (its SAVED digits are not kept: only their number counts).
 */
uint64_t bd_base64_decoded_count(const uint8_t *in, size_t len, struct bd_base64_state *st);

#endif
