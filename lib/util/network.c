/*
 * network.c - is an address inside a list of networks (see network.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
