/*
 * direction.h - is this message outgoing, and does it leave the organisation?
 *
 * A message counts as outgoing when the client authenticated, when it came
 * in through a daemon named in [milter] originating_daemons (Postfix's
 * milter_macro_daemon_name on the submission service), when the client
 * address is in [milter] internal_networks, or when it was submitted
 * locally with no client address (Sendmail; Postfix's pickup gives 127.0.0.1).
 * A recipient is internal only when it is a plain local@domain whose domain
 * is in [milter] internal_domains (or a subdomain of one): a local part with
 * routing or quoting ('%', '!', quotes, a source route) may be relayed
 * elsewhere by the MTA, so it counts as external. The milter and the policy
 * both ask here; nothing else decides it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_DIRECTION_H
#define BD_DIRECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"

struct bd_origin {
	bool authenticated;            /* {auth_authen} or {auth_type} was set */
	const char *daemon_name;       /* {daemon_name}, or NULL */
	const struct sockaddr *client; /* NULL: local submission */
};

/* True when outgoing; *reason (static text) says why or why not, for the log. */
bool bd_is_outgoing(const struct bd_conf_milter *conf, const struct bd_origin *o,
                    const char **reason);

/* True when ADDRESS ("local@domain", with or without <>) stays inside: see above.
 * A bare local name without '@' (and without '%' or '!') is internal. */
bool bd_recipient_is_internal(const struct bd_conf_milter *conf, const char *address);

/* True when ADDRESS is a plain local@domain (as above) whose domain is in DOMAINS: an
 * entry starting with '.' matches every domain ending in it (".nl"), any other entry
 * that domain and its subdomains. internal_domains is matched the same way. */
bool bd_recipient_domain_in(const struct bd_strlist *domains, const char *address);

/* ADDRESS as the manifest lists an outside recipient: a plain local@domain (as above)
 * outside internal_domains, without <> and spaces, its domain in lower case (the local
 * part as written), malloc'ed; NULL for an internal or not plain address. */
char *bd_recipient_external_form(const struct bd_conf_milter *conf, const char *address);

/* True when any of the N RECIPIENTS is external, or when there are none (nothing
 * is known about where the message goes). */
bool bd_recipients_any_external(const struct bd_conf_milter *conf, const char *const *recipients,
                                size_t n);

#endif
