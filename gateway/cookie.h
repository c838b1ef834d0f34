/*
 * cookie.h - the cookie that says "this browser has verified itself for this
 * package": a package id, an expiry, a keyed hash of the verified address
 * (all zero for the sender's access code) and a MAC, base64url (layout in
 * docs/FORMAT.md). The MAC key is derived from the package's link key, so every
 * gateway sharing the key directory accepts what another set, and nobody
 * without it can make one. Pure functions: tests/unit/test_gateway.c calls them.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_COOKIE_H
#define GW_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "package.h"

#define GW_COOKIE_NAME     "bd_verified"
#define GW_COOKIE_KEY      32
#define GW_COOKIE_WHO      16   /* bytes of the address hash */
#define GW_COOKIE_BYTES    65   /* version, id, expiry, who, MAC */
#define GW_COOKIE_CHARS    87   /* base64url without padding */
#define GW_COOKIE_LIFETIME 3600 /* seconds a verification lasts in one browser */

/* The cookie key of LINK_KEY (a link key, BD_LINK_KEY_BYTES). */
void gw_cookie_key(const uint8_t *link_key, uint8_t out[GW_COOKIE_KEY]);
/*
 * The keyed hash of ADDRESS for package ID: the local part as written, the
 * domain in lower case (so "Jan@Example.NL" and "Jan@example.nl" are one
 * recipient, "jan@" and "Jan@" are two).
 */
void gw_cookie_who(const uint8_t key[GW_COOKIE_KEY], const uint8_t id[BD_PACKAGE_ID_BYTES],
                   const char *address, uint8_t out[GW_COOKIE_WHO]);
/* The cookie value for package ID, good until EXPIRES, of WHO (NULL: no address). */
void gw_cookie_encode(const uint8_t key[GW_COOKIE_KEY], const uint8_t id[BD_PACKAGE_ID_BYTES],
                      int64_t expires, const uint8_t *who, char out[GW_COOKIE_CHARS + 1]);
/*
 * 0 when VALUE is a cookie made with KEY for package ID that has not expired at
 * NOW (WHO then holds its address hash), -1 otherwise: malformed, forged, another
 * package's, expired, or dated further ahead than a cookie ever is.
 */
int gw_cookie_decode(const uint8_t key[GW_COOKIE_KEY], const uint8_t id[BD_PACKAGE_ID_BYTES],
                     const char *value, int64_t now, uint8_t who[GW_COOKIE_WHO]);
/*
 * The next value of cookie NAME in a Cookie header from HEADER on, into OUT (a value
 * longer than SIZE - 1 is skipped): where to look for the next one, or NULL when
 * there is none. A browser may send several of one name.
 */
const char *gw_cookie_next(const char *header, const char *name, char *out, size_t size);

#endif
