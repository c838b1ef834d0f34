/*
 * network.h - matching a client address against configured networks.
 *
 * Entries are an address ("192.0.2.1", "2001:db8::1") or a network in CIDR
 * form ("192.0.2.0/24", "2001:db8::/32"), as [milter] internal_networks and
 * [gateway] trusted_proxies hold them; the configuration checks their syntax
 * at load. An IPv4-mapped IPv6 address matches its IPv4 networks.
 * bd_listen_tcp opens the listening sockets of the daemons' HTTP servers.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_NETWORK_H
#define BD_NETWORK_H

#include <stdbool.h>
#include <sys/socket.h>

#include "error.h"
#include "strlist.h"

/* True when SA is inside one of the networks in NETS; false for a NULL SA. */
bool bd_addr_in_networks(const struct sockaddr *sa, const struct bd_strlist *nets);

/*
 * A TCP socket bound to ADDR (HOST:PORT or [V6]:PORT, as the configuration
 * checked it) and listening, close-on-exec; or -1 with ERR: BD_E_CONFIG when
 * HOST does not resolve, BD_E_IO when it cannot be bound (in use, no
 * permission). The caller owns the descriptor.
 */
int bd_listen_tcp(const char *addr, struct bd_error *err);

#endif
