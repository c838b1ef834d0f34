/*
 * fuzz_keys.h - a key directory for the fuzz targets: created once per process
 * with bd_keys_generate in a fresh temporary directory, removed at exit.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_FUZZ_KEYS_H
#define BD_FUZZ_KEYS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"

static char fuzz_keys_top[64];

static void fuzz_keys_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_keys_top);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fuzz_keys_top);
}

static struct bd_keyring *fuzz_keyring(unsigned need)
{
	char dir[128];
	struct bd_keyring *kr;
	struct bd_error err;

	strcpy(fuzz_keys_top, "/tmp/bd-fuzz-keys-XXXXXX");
	if (mkdtemp(fuzz_keys_top) == NULL)
		abort();
	atexit(fuzz_keys_remove);
	snprintf(dir, sizeof(dir), "%s/keys", fuzz_keys_top);
	if (bd_keys_generate(dir, &err) < 0 || (kr = bd_keyring_load(dir, need, &err)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		abort();
	}
	return kr;
}

#endif
