/*
 * parse.h - what the gateway reads from a request before it touches keys or
 * storage: the /d/ and /u/ targets, the Range header, Accept-Language. Pure
 * string functions with no HTTP library, so tests/fuzz can call them without
 * a server (fuzz-gateway-request).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_PARSE_H
#define GW_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "token.h"

#define GW_INDEX_MAX 1000000u /* the highest file number a /d/ target may name */

enum gw_target_kind { T_PAGE, T_FILE, T_ALL };

/*
 * "<token>", "<token>/", "<token>/<n>" or "<token>/all" after "/d/": 0 with
 * TOKEN, *KIND and (T_FILE) *INDEX set, or -1. The token is only shaped, not
 * verified.
 */
int gw_parse_download_target(const char *rest, char token[BD_TOKEN_MAX_CHARS + 1],
                             enum gw_target_kind *kind, unsigned *index);
/* "<token>" or "<token>/" after "/u/": 0 with TOKEN set, or -1. */
int gw_parse_upload_target(const char *rest, char token[BD_TOKEN_MAX_CHARS + 1]);

/*
 * An HTTP Range header against SIZE bytes: "bytes=A-B", "bytes=A-", "bytes=-N".
 * 1 with [*first, *last] set; 0 to ignore it (absent, malformed, another unit,
 * several ranges: the whole body is the answer); -1 when unsatisfiable (416).
 */
int gw_parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last);

/* Field NAME of an application/x-www-form-urlencoded BODY, decoded, into OUT (SIZE bytes
 * with the NUL); -1 when it is absent, longer, or holds a control character. */
int gw_parse_form_field(const char *body, const char *name, char *out, size_t size);

/* "nl" or "en": ?lang= first, then Accept-Language (q-values), then DEF
 * ("nl", "en", or "auto": then "en"). */
const char *gw_pages_language(const char *lang_arg, const char *accept_language, const char *def);

#endif
