/*
 * network.h - matching a client address against configured networks.
 *
 * Entries are an address ("192.0.2.1", "2001:db8::1") or a network in CIDR
 * form ("192.0.2.0/24", "2001:db8::/32"), as [milter] internal_networks and
 * [gateway] trusted_proxies hold them; the configuration checks their syntax
 * at load. An IPv4-mapped IPv6 address matches its IPv4 networks.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_NETWORK_H
#define BD_NETWORK_H

#include <stdbool.h>
#include <sys/socket.h>

#include "strlist.h"

/* True when SA is inside one of the networks in NETS; false for a NULL SA. */
bool bd_addr_in_networks(const struct sockaddr *sa, const struct bd_strlist *nets);

#endif
