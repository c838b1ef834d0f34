/*
 * ratelimit.h - how many failed link lookups one client may make.
 *
 * A token bucket per client address (IPv4 /32, IPv6 /64, the block one
 * subscriber usually has) holding [gateway] failed_lookups_per_minute
 * tokens, refilled evenly over a minute; each 404 takes one. An address
 * with an empty bucket gets 429 for every link until it has refilled a bit.
 * The table has a fixed size; the stalest entry makes room. Thread-safe.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct gw_ratelimit;

struct gw_ratelimit *gw_ratelimit_new(unsigned per_minute);
void gw_ratelimit_free(struct gw_ratelimit **rl);
/* A new rate (a reload); the buckets keep what they hold, up to the new size. */
void gw_ratelimit_set_rate(struct gw_ratelimit *rl, unsigned per_minute);
/* The monotonic clock in milliseconds, the NOW_MS the functions below take. */
int64_t gw_ratelimit_now_ms(void);
/* True when CLIENT has no failed lookup left at NOW_MS (monotonic milliseconds). */
bool gw_ratelimit_blocked(struct gw_ratelimit *rl, const struct sockaddr *client, int64_t now_ms);
/* Count one failed lookup by CLIENT. */
void gw_ratelimit_failed(struct gw_ratelimit *rl, const struct sockaddr *client, int64_t now_ms);
/* The same for a bucket named by KEY instead of an address (e.g. a package: its first
 * byte a tag of the caller's, never 4 or 6, which name addresses). */
bool gw_ratelimit_blocked_key(struct gw_ratelimit *rl, const uint8_t key[16], int64_t now_ms);
void gw_ratelimit_failed_key(struct gw_ratelimit *rl, const uint8_t key[16], int64_t now_ms);

#endif
