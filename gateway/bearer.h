/*
 * bearer.h - "Authorization: Bearer <token>" for the gateway's APIs (the object
 * API and the admin API), each with its own token file.
 *
 * The token is read once from a 0600 file (a looser mode is refused) and kept
 * only as its BLAKE2b hash; a request's token is hashed the same way and
 * compared with sodium_memcmp, so neither its content nor its length leaks
 * through timing.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_BEARER_H
#define GW_BEARER_H

#include <stdint.h>

#include "error.h"
#include "server.h"

struct gw_bearer {
	uint8_t hash[32];
};

/* Read the token in PATH into B; -1 with ERR (prefixed with WHAT) when it cannot be. */
int gw_bearer_load(struct gw_bearer *b, const char *path, const char *what, struct bd_error *err);
void gw_bearer_wipe(struct gw_bearer *b);
/* True when R carries the token of B. */
int gw_bearer_check(const struct gw_bearer *b, struct gw_request *r);
/* 401 with WWW-Authenticate naming REALM, the body BODY of CONTENT_TYPE. */
enum MHD_Result gw_bearer_refuse(struct gw_request *r, const char *realm, const char *body,
                                 const char *content_type);

#endif
