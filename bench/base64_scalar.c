/*
 * base64_scalar.c - the decoder without its SSSE3 step, under other names, so that
 * bench_base64 can set both against each other in one run.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#define BD_BASE64_NO_SSSE3
#define bd_base64_decode_step   bench_scalar_decode_step
#define bd_base64_decoded_count bench_scalar_decoded_count /* unused here */
#include "../lib/util/base64.c"
