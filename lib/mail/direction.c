/*
 * direction.c - outgoing or not, internal or not (see direction.h).
 */
#include "direction.h"
#include "network.h"

#include <string.h>
#include <strings.h>

bool bd_is_outgoing(const struct bd_conf *conf, const struct bd_origin *o, const char **reason)
{
	const char *why;
	bool out = true;

	if (o->authenticated)
		why = "authenticated";
	else if (o->daemon_name &&
	         bd_strlist_contains(&conf->milter.originating_daemons, o->daemon_name))
		why = "originating-daemon";
	else if (o->client == NULL)
		why = "local-submission";
	else if (bd_addr_in_networks(o->client, &conf->milter.internal_networks))
		why = "internal-network";
	else
		why = "external-client", out = false;
	if (reason)
		*reason = why;
	return out;
}

bool bd_recipient_is_internal(const struct bd_conf *conf, const char *address)
{
	const char *at = strrchr(address, '@');
	char domain[256];
	size_t n;

	if (at == NULL)
		return true; /* a local user name without domain stays inside */
	n = strcspn(at + 1, ">");
	if (n == 0 || n >= sizeof(domain))
		return false;
	memcpy(domain, at + 1, n);
	domain[n] = '\0';
	if (n > 0 && domain[n - 1] == '.')
		domain[--n] = '\0';
	for (size_t i = 0; i < conf->milter.internal_domains.n; i++) {
		const char *d = conf->milter.internal_domains.v[i];
		size_t dl = strlen(d);

		if (strcasecmp(domain, d) == 0)
			return true;
		if (n > dl && domain[n - dl - 1] == '.' && strcasecmp(domain + n - dl, d) == 0)
			return true;
	}
	return false;
}
