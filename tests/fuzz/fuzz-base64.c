/*
 * fuzz-base64.c - bd_base64_decode_step against gmime's decoder: the input,
 * split at a point its first byte chooses, must decode to the same bytes, and
 * bd_base64_decoded_count must count as many.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut = size > 0 ? (size_t)data[0] * size / 256 : 0;
	size_t cap = BD_BASE64_DECODED_MAX(size) + 8;
	uint8_t *a = malloc(cap), *b = malloc(cap);
	struct bd_base64_state st = {0, 0}, cst = {0, 0};
	uint64_t nc;
	int gstate = 0;
	guint32 gsave = 0;
	size_t na, nb;

	na = bd_base64_decode_step(data, cut, a, &st);
	na += bd_base64_decode_step(data + cut, size - cut, a + na, &st);
	nb = g_mime_encoding_base64_decode_step(data, cut, b, &gstate, &gsave);
	nb += g_mime_encoding_base64_decode_step(data + cut, size - cut, b + nb, &gstate, &gsave);
	nc = bd_base64_decoded_count(data, cut, &cst);
	nc += bd_base64_decoded_count(data + cut, size - cut, &cst);
	if (na != nb || memcmp(a, b, na) != 0 || nc != nb)
		abort();
	free(a);
	free(b);
	return 0;
}
