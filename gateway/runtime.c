/*
 * runtime.c - the settings, keys, store, pages and audit trail in force
 * (gateway.h), reloadable like the milter's (milter/runtime.c): a reload
 * builds a complete new runtime first and installs it only when all of it
 * loaded, so a broken file on SIGHUP leaves the gateway as it was.
 * Settings bound at start (the socket, TLS, the user, the embedded store)
 * keep their values until a restart; a reload that changes them says so.
 * Each runtime has a key process of its own (keyproc.c), started with the
 * keys it loads and ended with it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "gateway.h"
#include "audit.h"
#include "log.h"
#include "mem.h"
#include "pages.h"
#include "settings.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static struct bd_current current = BD_CURRENT_INIT;

static void runtime_free(struct bd_ref *ref)
{
	struct gw_runtime *rt = (struct gw_runtime *)ref;

	gw_audit_close(&rt->audit);
	gw_pages_free(&rt->pages);
	bd_settings_free(&rt->settings);
	free(rt);
}

/* Bound when the gateway starts (sockets, files read as root, the store's kind). */
static const char *const restart_only[][2] = {
        {"gateway", "listen"},
        {"gateway", "tls_cert"},
        {"gateway", "tls_key"},
        {"gateway", "user"},
        {"gateway", "data_dir"},
        {"gateway", "pid_file"},
        {"gateway", "max_connections"},
        {"gateway", "connection_timeout"},
        {"gateway", "max_connections_per_client"},
        {"gateway", "header_timeout"},
        {"storage", "driver"},
        {"storage", "token_file"},
        {"admin", "listen"},
        {"admin", "token_file"},
        {"gateway", "internal_listen"},
};

/*
 * Log each setting bound at start that CONF changes. Only main.c reads them, at
 * start, so the running values stay whatever CONF says; the store's kind is the
 * one the runtime itself uses, so it is put back.
 */
static void keep_restart_settings(struct bd_conf *conf, void *cls)
{
	const struct bd_conf *old = cls;
	char now[1024], was[1024];

	for (size_t i = 0; i < sizeof(restart_only) / sizeof(restart_only[0]); i++) {
		const struct bd_conf_key *key =
		        bd_conf_find(restart_only[i][0], restart_only[i][1]);

		bd_conf_format_value(conf, key, now, sizeof(now));
		bd_conf_format_value(old, key, was, sizeof(was));
		if (strcmp(now, was) != 0)
			bd_log(LOG_WARNING,
			       "event=reload-setting setting=\"[%s] %s\" result=\"needs a "
			       "restart\"",
			       key->section, key->name);
	}
	conf->storage.driver = old->storage.driver;
}

struct gw_runtime *gw_runtime_load(const char *path, const struct gw_runtime *old,
                                   struct bd_objstore *objects, int check_only,
                                   struct bd_error *err)
{
	/* The secret keys stay in the key process; -t reads them itself to check them. */
	struct bd_settings_options o = {
	        .need_keys = BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC |
	                     (check_only ? BD_NEED_GATEWAY_SECRET : 0),
	        .local = objects,
	        .adjust = old != NULL ? keep_restart_settings : NULL,
	        .cls = old != NULL ? old->settings.conf : NULL,
	};
	struct gw_runtime *rt = bd_calloc(1, sizeof(*rt));
	const struct bd_conf_gateway *g;

	bd_ref_init(&rt->ref, runtime_free);
	if (bd_settings_load(&rt->settings, path, &o, err) < 0)
		goto fail;
	rt->pages = gw_pages_new(&rt->settings.conf->gateway, err);
	if (rt->pages == NULL)
		goto fail;
	g = &rt->settings.conf->gateway;
	if (check_only)
		return rt; /* -t: no log file is opened, or made, no key process started */
	if (gw_runtime_restart_keyproc(rt, err) < 0)
		goto fail;
	/* The same log stays open: the file was made as root, the reload runs as the user. */
	if (old != NULL && gw_audit_is(old->audit, g->audit_log, g->audit_client_address))
		rt->audit = gw_audit_hold(old->audit);
	else
		rt->audit = gw_audit_open(g->audit_log, g->audit_client_address, err);
	if (rt->audit == NULL)
		goto fail;
	return rt;
fail:
	bd_ref_release(&rt->ref);
	return NULL;
}

int gw_runtime_restart_keyproc(struct gw_runtime *rt, struct bd_error *err)
{
	const struct bd_conf *conf = rt->settings.conf;
	/* the keyring ends the key process it had, if any, when it gets the new one */
	struct bd_keyproc *kp =
	        gw_keyproc_start(rt->settings.keys, conf->keys.dir, conf->gateway.user, err);

	if (kp == NULL)
		return -1;
	rt->keyproc = kp;
	return 0;
}

/* The runtime is a struct bd_ref at its start: these only say which type it is. */
void gw_runtime_install(struct gw_runtime *rt)
{
	bd_current_install(&current, (struct bd_ref *)rt);
}

struct gw_runtime *gw_runtime_get(void)
{
	return (struct gw_runtime *)bd_current_get(&current);
}

struct gw_runtime *gw_runtime_hold(struct gw_runtime *rt)
{
	return (struct gw_runtime *)bd_ref_hold((struct bd_ref *)rt);
}

void gw_runtime_release(struct gw_runtime *rt)
{
	bd_ref_release((struct bd_ref *)rt);
}
