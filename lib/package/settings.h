/*
 * settings.h - what a daemon runs with, loaded all at once: the configuration
 * file, the keys its [keys] dir holds, and the store its [storage] names.
 *
 * The milter and the gateway load this at start and again on SIGHUP; either
 * all of it loads or nothing does, so a reload can be refused whole. The
 * caller owns what comes back and frees it with bd_settings_free.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_SETTINGS_H
#define BD_SETTINGS_H

#include "conf.h"
#include "error.h"
#include "keys.h"
#include "objstore.h"
#include "store.h"

struct bd_settings {
	struct bd_conf *conf;
	struct bd_keyring *keys;
	struct bd_store *store;
};

struct bd_settings_options {
	unsigned need_keys;        /* BD_NEED_* */
	struct bd_objstore *local; /* the embedded store to read through, or NULL: [storage] */
	/* Called with the configuration before the keys and store are loaded (may be NULL). */
	void (*adjust)(struct bd_conf *conf, void *cls);
	void *cls;
};

/* Load PATH into S; 0, or -1 with ERR and S all NULL. */
int bd_settings_load(struct bd_settings *s, const char *path, const struct bd_settings_options *o,
                     struct bd_error *err);
void bd_settings_free(struct bd_settings *s);

#endif
