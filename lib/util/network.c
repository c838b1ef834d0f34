/*
 * network.c - is an address inside a list of networks; a listening socket for
 * HOST:PORT (see network.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int bd_listen_tcp(const char *addr, struct bd_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV},
	                *res = NULL;
	const char *colon;
	char host[256];
	int fd, on = 1, rc;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL)
			return bd_error_set(err, BD_E_CONFIG, "%s: expected [ADDRESS]:PORT", addr);
		snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			return bd_error_set(err, BD_E_CONFIG, "%s: expected ADDRESS:PORT", addr);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	}
	if (*colon != ':')
		return bd_error_set(err, BD_E_CONFIG, "%s: expected [ADDRESS]:PORT", addr);
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0)
		return bd_error_set(err, BD_E_CONFIG, "%s: %s", addr, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
			int e = errno;

			close(fd);
			fd = -1;
			errno = e;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return bd_error_set(err, BD_E_IO, "cannot listen on %s: %s", addr, strerror(errno));
	return fd;
}
