/*
 * fuzz-gateway-request.c - libFuzzer target for what the gateway reads from a
 * request before it touches storage (gateway/parse.c), and the token it finds.
 *
 * The first byte chooses: 0 a /d/ target (then its token is decoded and
 * verified, as the download handler does), 1 a /u/ target, 2 a Range header
 * against a size taken from the next 8 bytes, 3 an Accept-Language header,
 * 4 a posted form (its "form" and "days" fields). Each must refuse or answer
 * within its contract: a target's token is exactly a token's length of
 * base64url, a file number within 1..GW_INDEX_MAX, a range within the body, a
 * language "nl" or "en", a form field within its buffer and free of control
 * characters.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "parse.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_token(const char *token)
{
	static struct bd_keyring *kr;
	struct bd_token t;
	struct bd_error err;

	if (strlen(token) != BD_TOKEN_MAX_CHARS)
		abort();
	if (kr == NULL)
		kr = fuzz_keyring(BD_NEED_LINK);
	if (bd_token_decode(token, kr, 0, &t, &err) < 0 && err.code != BD_E_INVALID &&
	    err.code != BD_E_EXPIRED)
		abort();
}

static void download_target(const char *s)
{
	char token[BD_TOKEN_MAX_CHARS + 1];
	enum gw_target_kind kind = T_PAGE;
	unsigned index = 0;

	if (gw_parse_download_target(s, token, &kind, &index) < 0)
		return;
	if (kind == T_FILE && (index < 1 || index > GW_INDEX_MAX))
		abort();
	check_token(token);
}

static void range(const char *s, uint64_t size)
{
	uint64_t first = 0, last = 0;
	int r = gw_parse_range(s, size, &first, &last);

	if (r == 1 && (first > last || last >= size))
		abort();
	if (r < -1 || r > 1)
		abort();
}

/* A form field fits its buffer, NUL-terminated, and holds no control character. */
static void form(const char *s)
{
	static const char *const names[] = {"form", "days"};
	char out[34];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(out, 'x', sizeof(out));
		if (gw_parse_form_field(s, names[i], out, sizeof(out)) < 0)
			continue;
		if (memchr(out, '\0', sizeof(out)) == NULL)
			abort();
		for (const char *p = out; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, token[BD_TOKEN_MAX_CHARS + 1];
	uint64_t body = 0;
	const char *lang;
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0] % 5;
	data++, size--;
	if (mode == 2 && size >= 8) {
		memcpy(&body, data, 8);
		data += 8, size -= 8;
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	switch (mode) {
	case 0: download_target(s); break;
	case 1:
		if (gw_parse_upload_target(s, token) == 0)
			check_token(token);
		break;
	case 2: range(s, body); break;
	case 4: form(s); break;
	default:
		lang = gw_pages_language(NULL, s, size % 2 ? "nl" : "auto");
		if (strcmp(lang, "nl") != 0 && strcmp(lang, "en") != 0)
			abort();
	}
	free(s);
	return 0;
}
