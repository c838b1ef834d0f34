/*
 * bearer.c - bearer tokens of the gateway's APIs, kept as a hash (bearer.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "bearer.h"
#include "keys.h"
#include "mem.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MAX 1024

int gw_bearer_load(struct gw_bearer *b, const char *path, const char *what, struct bd_error *err)
{
	char *token = bd_secret_file_read(path, TOKEN_MAX, err);

	if (token == NULL) {
		bd_error_prefix(err, "%s", what);
		return -1;
	}
	crypto_generichash(b->hash, sizeof(b->hash), (const uint8_t *)token, strlen(token), NULL,
	                   0);
	bd_secret_free(token);
	return 0;
}

void gw_bearer_wipe(struct gw_bearer *b)
{
	sodium_memzero(b->hash, sizeof(b->hash));
}

int gw_bearer_check(const struct gw_bearer *b, struct gw_request *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	uint8_t hash[32];
	int ok;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	crypto_generichash(hash, sizeof(hash), (const uint8_t *)h, strlen(h), NULL, 0);
	ok = sodium_memcmp(hash, b->hash, sizeof(hash)) == 0;
	sodium_memzero(hash, sizeof(hash));
	return ok;
}

enum MHD_Result gw_bearer_refuse(struct gw_request *r, const char *realm, const char *body,
                                 const char *content_type)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	char challenge[96];

	if (resp != NULL) {
		snprintf(challenge, sizeof(challenge), "Bearer realm=\"%s\"", realm);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	}
	gw_log_field(r, "result", "unauthorized");
	return gw_respond(r, MHD_HTTP_UNAUTHORIZED, resp);
}
