/*
 * linkfind.h - the download link in a delivered message.
 *
 * For administrators who have the mail rather than the link (an access or
 * erasure request, a message forwarded to the helpdesk): parse the message,
 * decode its text parts (quoted-printable wraps a long link; HTML escapes
 * it) and find the first link that starts with the gateway's public URL.
 * Needs g_mime_init() to have been called.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_LINKFIND_H
#define BD_LINKFIND_H

#include <stddef.h>

#include "error.h"
#include "token.h"

/* Find a link PUBLIC_URL/d/TOKEN in the message in FD; TOKEN goes to OUT. */
int bd_link_find(int fd, const char *public_url, char out[BD_TOKEN_MAX_CHARS + 1],
                 struct bd_error *err);

#endif
