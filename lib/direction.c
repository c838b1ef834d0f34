/*
 * direction.c - outgoing or not, internal or not (see direction.h).
 */
#include "direction.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Compare the first BITS bits of A and B. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool bd_addr_in_networks(const struct sockaddr *sa, const struct bd_strlist *nets)
{
	unsigned char addr[16];
	int family;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) { /* ::ffff:192.0.2.1 matches 192.0.2.0/24 */
			memcpy(addr, &a6->s6_addr[12], 4);
			family = AF_INET;
		} else {
			memcpy(addr, a6, 16);
			family = AF_INET6;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < nets->n; i++) {
		char buf[INET6_ADDRSTRLEN + 8];
		unsigned char net[16];
		char *slash;
		int nfam;
		unsigned bits;

		snprintf(buf, sizeof(buf), "%s", nets->v[i]);
		slash = strchr(buf, '/');
		if (slash)
			*slash = '\0';
		nfam = strchr(buf, ':') ? AF_INET6 : AF_INET;
		if (nfam != family || inet_pton(nfam, buf, net) != 1)
			continue;
		bits = slash ? (unsigned)atoi(slash + 1) : (family == AF_INET ? 32 : 128);
		if (prefix_equal(addr, net, bits))
			return true;
	}
	return false;
}

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
