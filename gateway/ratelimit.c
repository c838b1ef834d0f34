/*
 * ratelimit.c - token buckets of failed lookups per client (ratelimit.h).
 * Open addressing over a fixed table keyed by a keyed hash of the address
 * prefix; a lookup probes a few slots and, when all are taken by others,
 * reuses the one touched longest ago. One mutex: lookups are short.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "ratelimit.h"
#include "mem.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS  16384 /* power of two */
#define PROBES 8

struct bucket {
	uint8_t key[16]; /* the address prefix; all zero: free */
	int used;
	double tokens;
	int64_t updated_ms;
};

struct gw_ratelimit {
	pthread_mutex_t lock;
	double capacity;
	double per_ms;
	uint8_t hash_key[crypto_shorthash_KEYBYTES]; /* so nobody can aim at one slot */
	struct bucket slots[SLOTS];
};

struct gw_ratelimit *gw_ratelimit_new(unsigned per_minute)
{
	struct gw_ratelimit *rl = bd_calloc(1, sizeof(*rl));

	pthread_mutex_init(&rl->lock, NULL);
	gw_ratelimit_set_rate(rl, per_minute);
	crypto_shorthash_keygen(rl->hash_key);
	return rl;
}

void gw_ratelimit_set_rate(struct gw_ratelimit *rl, unsigned per_minute)
{
	pthread_mutex_lock(&rl->lock);
	rl->capacity = per_minute;
	rl->per_ms = per_minute / 60000.0;
	pthread_mutex_unlock(&rl->lock);
}

void gw_ratelimit_free(struct gw_ratelimit **rl)
{
	if (*rl == NULL)
		return;
	pthread_mutex_destroy(&(*rl)->lock);
	free(*rl);
	*rl = NULL;
}

int64_t gw_ratelimit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* IPv4 (also v4-mapped) whole, IPv6 its /64; tagged so the two never collide. */
static int client_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			key[0] = 4;
			memcpy(key + 1, &a6->s6_addr[12], 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a6->s6_addr, 8);
		}
		return 0;
	}
	return -1;
}

/* The bucket of KEY, refilled up to NOW; when it has none, a fresh full one if CREATE
 * is set (else NULL), so clients that never fail take no room. Lock held. */
static struct bucket *find(struct gw_ratelimit *rl, const uint8_t key[16], int64_t now_ms,
                           int create)
{
	uint8_t h[crypto_shorthash_BYTES];
	struct bucket *b, *stalest = NULL;
	size_t start;

	crypto_shorthash(h, key, 16, rl->hash_key);
	memcpy(&start, h, sizeof(start));
	for (size_t i = 0; i < PROBES; i++) {
		b = &rl->slots[(start + i) & (SLOTS - 1)];
		if (b->used && memcmp(b->key, key, 16) == 0) {
			b->tokens += (double)(now_ms - b->updated_ms) * rl->per_ms;
			if (b->tokens > rl->capacity)
				b->tokens = rl->capacity;
			b->updated_ms = now_ms;
			return b;
		}
		if (!b->used) {
			stalest = b;
			break;
		}
		if (stalest == NULL || b->updated_ms < stalest->updated_ms)
			stalest = b;
	}
	if (!create)
		return NULL;
	b = stalest;
	memcpy(b->key, key, 16);
	b->used = 1;
	b->tokens = rl->capacity;
	b->updated_ms = now_ms;
	return b;
}

bool gw_ratelimit_blocked_key(struct gw_ratelimit *rl, const uint8_t key[16], int64_t now_ms)
{
	struct bucket *b;
	bool blocked;

	pthread_mutex_lock(&rl->lock);
	b = find(rl, key, now_ms, 0);
	blocked = b != NULL && b->tokens < 1.0;
	pthread_mutex_unlock(&rl->lock);
	return blocked;
}

void gw_ratelimit_failed_key(struct gw_ratelimit *rl, const uint8_t key[16], int64_t now_ms)
{
	struct bucket *b;

	pthread_mutex_lock(&rl->lock);
	b = find(rl, key, now_ms, 1);
	b->tokens = b->tokens >= 1.0 ? b->tokens - 1.0 : 0.0;
	pthread_mutex_unlock(&rl->lock);
}

bool gw_ratelimit_blocked(struct gw_ratelimit *rl, const struct sockaddr *client, int64_t now_ms)
{
	uint8_t key[16];

	if (client_key(client, key) < 0)
		return false;
	return gw_ratelimit_blocked_key(rl, key, now_ms);
}

void gw_ratelimit_failed(struct gw_ratelimit *rl, const struct sockaddr *client, int64_t now_ms)
{
	uint8_t key[16];

	if (client_key(client, key) < 0)
		return;
	gw_ratelimit_failed_key(rl, key, now_ms);
}
