/*
 * direction.h - is this message outgoing, and does it leave the organisation?
 *
 * A message counts as outgoing when the client authenticated, when it came
 * in through a daemon named in [milter] originating_daemons (Postfix's
 * milter_macro_daemon_name on the submission service), when the client
 * address is in [milter] internal_networks, or when it was submitted
 * locally (no client address: sendmail(1) via non_smtpd_milters).
 * Recipients are internal when their domain is in [milter] internal_domains
 * (or a subdomain of one).
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
bool bd_is_outgoing(const struct bd_conf *conf, const struct bd_origin *o, const char **reason);
/* True when ADDRESS ("user@domain", with or without <>) has an internal domain. */
bool bd_recipient_is_internal(const struct bd_conf *conf, const char *address);

#endif
