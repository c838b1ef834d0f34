/*
 * outmail.h - the gateway's own mail: one message to one address through [smtp].
 *
 * For what the gateway must tell someone itself (an upload arrived; an
 * invitation to upload). Composed as multipart/alternative, text/plain and
 * text/html, both UTF-8 in base64, with an RFC 2047 subject, and handed to
 * the MTA by libcurl's SMTP client (this layer does not use gmime). A
 * message the MTA did not accept is an error (BD_E_TEMP): the caller refuses
 * what depended on it rather than leaving it untold.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_OUTMAIL_H
#define BD_OUTMAIL_H

#include <time.h>

#include "conf.h"
#include "error.h"

struct bd_outmail {
	const char *from;    /* envelope and From: an address */
	const char *to;      /* envelope and To: an address */
	const char *subject; /* UTF-8 */
	const char *text;    /* UTF-8, LF line ends */
	const char *html;    /* a complete HTML document or a snippet, UTF-8 */
};

/* The message as sent (CRLF line ends), dated DATE; malloc'ed, NULL with ERR when an
 * address could break the header (CR, LF, '<', '>' or empty). */
char *bd_outmail_compose(const struct bd_outmail *m, time_t date, struct bd_error *err);
/* Compose M now and send it through SMTP's host and port. */
int bd_outmail_send(const struct bd_conf_smtp *smtp, const struct bd_outmail *m,
                    struct bd_error *err);

#endif
