/*
 * runtime.c - the settings, keys, store, pages and audit trail in force
 * (gateway.h), reloadable like the milter's (milter/runtime.c): a reload
 * builds a complete new runtime first and installs it only when all of it
 * loaded, so a broken file on SIGHUP leaves the gateway as it was.
 * Settings bound at start (the socket, TLS, the user, the embedded store)
 * keep their values until a restart; a reload that changes them says so.
 */
#include "gateway.h"
#include "audit.h"
#include "log.h"
#include "mem.h"
#include "pages.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static struct bd_current current = BD_CURRENT_INIT;

static void runtime_free(struct bd_ref *ref)
{
	struct gw_runtime *rt = (struct gw_runtime *)ref;

	gw_audit_close(&rt->audit);
	gw_pages_free(&rt->pages);
	bd_store_close(&rt->store);
	bd_keyring_free(&rt->keys);
	bd_conf_free(&rt->conf);
	free(rt);
}

/* The string settings read once at start; a reload keeps their old values. */
static const struct {
	const char *name;
	size_t offset;
} restart_strings[] = {
        {"[gateway] listen", offsetof(struct bd_conf, gateway.listen)},
        {"[gateway] tls_cert", offsetof(struct bd_conf, gateway.tls_cert)},
        {"[gateway] tls_key", offsetof(struct bd_conf, gateway.tls_key)},
        {"[gateway] user", offsetof(struct bd_conf, gateway.user)},
        {"[gateway] data_dir", offsetof(struct bd_conf, gateway.data_dir)},
        {"[gateway] pid_file", offsetof(struct bd_conf, gateway.pid_file)},
        {"[storage] token_file", offsetof(struct bd_conf, storage.token_file)},
};

static void needs_restart(const char *name)
{
	bd_log(LOG_WARNING, "event=reload-setting setting=\"%s\" result=\"needs a restart\"", name);
}

static void keep_restart_settings(struct bd_conf *conf, const struct bd_conf *old)
{
	for (size_t i = 0; i < sizeof(restart_strings) / sizeof(restart_strings[0]); i++) {
		char **now = (char **)((char *)conf + restart_strings[i].offset);
		char *const *was = (char *const *)((const char *)old + restart_strings[i].offset);

		if (strcmp(*now, *was) == 0)
			continue;
		needs_restart(restart_strings[i].name);
		free(*now);
		*now = bd_strdup(*was);
	}
	if (conf->storage.driver != old->storage.driver) {
		needs_restart("[storage] driver");
		conf->storage.driver = old->storage.driver;
	}
	if (conf->gateway.max_connections != old->gateway.max_connections) {
		needs_restart("[gateway] max_connections");
		conf->gateway.max_connections = old->gateway.max_connections;
	}
	if (conf->gateway.connection_timeout != old->gateway.connection_timeout) {
		needs_restart("[gateway] connection_timeout");
		conf->gateway.connection_timeout = old->gateway.connection_timeout;
	}
}

struct gw_runtime *gw_runtime_load(const char *path, const struct gw_runtime *old,
                                   struct bd_objstore *objects, struct bd_error *err)
{
	struct gw_runtime *rt = bd_calloc(1, sizeof(*rt));
	const struct bd_conf_gateway *g;

	bd_ref_init(&rt->ref, runtime_free);
	rt->conf = bd_conf_load(path, err);
	if (rt->conf == NULL)
		goto fail;
	if (old != NULL)
		keep_restart_settings(rt->conf, old->conf);
	g = &rt->conf->gateway;
	rt->keys = bd_keyring_load(rt->conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET, err);
	if (rt->keys == NULL)
		goto fail;
	/* With the embedded store the packages are on our own disk: no HTTP round trip. */
	if (objects != NULL)
		rt->store = bd_objstore_store(objects);
	else if ((rt->store = bd_store_open(rt->conf, err)) == NULL) {
		bd_error_prefix(err, "[storage]");
		goto fail;
	}
	rt->pages = gw_pages_new(g, err);
	if (rt->pages == NULL)
		goto fail;
	rt->audit = gw_audit_open(g->audit_log, g->audit_client_address, err);
	if (rt->audit == NULL)
		goto fail;
	return rt;
fail:
	bd_ref_release(&rt->ref);
	return NULL;
}

void gw_runtime_install(struct gw_runtime *rt)
{
	bd_current_install(&current, rt != NULL ? &rt->ref : NULL);
}

struct gw_runtime *gw_runtime_get(void)
{
	return (struct gw_runtime *)bd_current_get(&current);
}

struct gw_runtime *gw_runtime_hold(struct gw_runtime *rt)
{
	bd_ref_hold(&rt->ref);
	return rt;
}

void gw_runtime_release(struct gw_runtime *rt)
{
	if (rt != NULL)
		bd_ref_release(&rt->ref);
}
