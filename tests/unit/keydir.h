/*
 * keydir.h - a throw-away key directory for unit tests: random keys from
 * bd_keys_generate, or fixed keys written in the key-file format keys.c reads
 * (for the vectors of docs/FORMAT.md). keydir_remove deletes it again.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_TEST_KEYDIR_H
#define BD_TEST_KEYDIR_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keys.h"

static void keydir_write(const char *dir, const char *name, const char *type, unsigned id,
                         const uint8_t *key, size_t keylen, mode_t mode)
{
	char path[512], b64[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	sodium_bin2base64(b64, sizeof(b64), key, keylen, sodium_base64_VARIANT_ORIGINAL);
	f = fopen(path, "w");
	if (f == NULL || fprintf(f, "type: %s\nid: %u\nkey: %s\n", type, id, b64) < 0 ||
	    fclose(f) != 0 || chmod(path, mode) != 0)
		abort();
}

/* A directory holding link key 1 and gateway key pair 1, both current. With NULL keys
 * they are random (bd_keys_generate); else LINK_KEY and GATEWAY_SK are used. */
static char *keydir_make(const uint8_t *link_key, const uint8_t *gateway_sk)
{
	char *dir = strdup("/tmp/bd-test-keydir-XXXXXX"), *sub;
	uint8_t pk[32];
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	sub = malloc(strlen(dir) + 6);
	sprintf(sub, "%s/keys", dir);
	free(dir);
	if (link_key == NULL) {
		if (bd_keys_generate(sub, NULL) != 0)
			abort();
		return sub;
	}
	if (mkdir(sub, 0700) != 0)
		abort();
	crypto_scalarmult_base(pk, gateway_sk);
	keydir_write(sub, "link-1.key", "link", 1, link_key, 32, 0600);
	keydir_write(sub, "gateway-1.key", "gateway", 1, gateway_sk, 32, 0600);
	keydir_write(sub, "gateway-1.pub", "gateway-public", 1, pk, 32, 0644);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/current", sub);
		f = fopen(path, "w");
		if (f == NULL || fputs("link: 1\ngateway: 1\n", f) < 0 || fclose(f) != 0)
			abort();
	}
	return sub;
}

static void keydir_remove(char *dir)
{
	char cmd[600];

	*strrchr(dir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		abort();
	free(dir);
}

#endif
