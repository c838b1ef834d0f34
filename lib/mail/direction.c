/*
 * direction.c - outgoing or not, internal or not (see direction.h).
 *
 * The recipient test accepts only the plainest address form and calls
 * everything else external: taking out attachments of a message that stays
 * inside costs a click, leaving them in one that leaves costs the data.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "direction.h"
#include "mem.h"
#include "network.h"

#include <ctype.h>

#include <string.h>
#include <strings.h>

bool bd_is_outgoing(const struct bd_conf_milter *conf, const struct bd_origin *o,
                    const char **reason)
{
	const char *why;
	bool out = true;

	if (o->authenticated)
		why = "authenticated";
	else if (o->daemon_name && bd_strlist_contains(&conf->originating_daemons, o->daemon_name))
		why = "originating-daemon";
	else if (o->client == NULL)
		why = "local-submission";
	else if (bd_addr_in_networks(o->client, &conf->internal_networks))
		why = "internal-network";
	else
		why = "external-client", out = false;
	if (reason)
		*reason = why;
	return out;
}

/* A character of an unquoted local part that cannot route the message on: RFC 5322
 * atext without '%' and '!' (the percent hack and bang paths), '.', or any byte of a
 * UTF-8 sequence (RFC 6531). Quotes, backslashes, '@', ':' and ',' are not. */
static bool plain_local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || (c != '\0' && strchr("#$&'*+-/=?^_`{|}~.", c) != NULL);
}

static bool plain_domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || c == '-' || c == '.';
}

/* DOMAIN (N bytes, a trailing dot ignored) is in LIST: an entry starting with '.' matches
 * the domains that end in it, any other that domain and its subdomains. */
static bool domain_in_list(const struct bd_strlist *list, const char *domain, size_t n)
{
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!plain_domain_char((unsigned char)domain[i]))
			return false;
	for (size_t i = 0; i < list->n; i++) {
		const char *d = list->v[i];
		size_t dl = strlen(d);

		if (d[0] == '.' && n > dl && strncasecmp(domain + n - dl, d, dl) == 0)
			return true;
		if (d[0] == '.')
			continue;
		if (n == dl && strncasecmp(domain, d, n) == 0)
			return true;
		if (n > dl && domain[n - dl - 1] == '.' && strncasecmp(domain + n - dl, d, dl) == 0)
			return true;
	}
	return false;
}

/*
 * The domain of ADDRESS when it is a plain local@domain: 1 with *DOMAIN and *N set,
 * 0 for a local user name without domain, -1 for anything that may route elsewhere.
 */
static int plain_address(const char *address, const char **domain, size_t *n)
{
	const char *start = address, *end = address + strlen(address), *at;

	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - start >= 2 && *start == '<' && end[-1] == '>')
		start++, end--;
	if (start == end)
		return -1;
	/* the local part: up to the one '@', and only plain characters (a source
	 * route starts with '@', a quoted local part with '"': neither gets past here) */
	for (at = start; at < end && *at != '@'; at++)
		if (!plain_local_char((unsigned char)*at))
			return -1;
	if (at == start)
		return -1;
	if (at == end)
		return 0;
	*domain = at + 1;
	*n = (size_t)(end - at - 1);
	return 1;
}

bool bd_recipient_is_internal(const struct bd_conf_milter *conf, const char *address)
{
	const char *domain;
	size_t n;

	switch (plain_address(address, &domain, &n)) {
	case 0: return true; /* a local user name without domain stays inside */
	case 1: return domain_in_list(&conf->internal_domains, domain, n);
	default: return false;
	}
}

char *bd_recipient_external_form(const struct bd_conf_milter *conf, const char *address)
{
	const char *domain;
	size_t n;
	char *out, *at;

	if (plain_address(address, &domain, &n) != 1 ||
	    domain_in_list(&conf->internal_domains, domain, n) || n == 0)
		return NULL;
	while (*address == ' ' || *address == '\t' || *address == '<')
		address++;
	out = bd_strndup(address, (size_t)(domain + n - address));
	at = strchr(out, '@');
	for (char *p = at + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

bool bd_recipient_domain_in(const struct bd_strlist *domains, const char *address)
{
	const char *domain;
	size_t n;

	return plain_address(address, &domain, &n) == 1 && domain_in_list(domains, domain, n);
}

bool bd_recipients_any_external(const struct bd_conf_milter *conf, const char *const *recipients,
                                size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!bd_recipient_is_internal(conf, recipients[i]))
			return true;
	return false;
}
