/*
 * runtime.c - the configuration, keys and store in force, reloadable.
 *
 * A reload builds a complete new runtime first; only if everything loads
 * does it replace the old one, so a broken configuration on SIGHUP leaves
 * the milter running as it was. Messages hold a reference for their whole
 * end-of-message processing. The gateway reloads the same way (bd_current).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "milter.h"
#include "settings.h"

static struct bd_current current = BD_CURRENT_INIT;

static void runtime_free(struct bd_ref *ref)
{
	struct bd_runtime *rt = (struct bd_runtime *)ref;

	bd_rewrite_free(&rt->rewrite);
	free(rt->path);
	bd_settings_free(&(struct bd_settings){rt->conf, rt->keys, rt->store});
	free(rt);
}

struct bd_runtime *bd_runtime_load(const char *path, struct bd_error *err)
{
	static const struct bd_settings_options o = {.need_keys =
	                                                     BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC};
	struct bd_runtime *rt = bd_calloc(1, sizeof(*rt));
	struct bd_settings s;

	bd_ref_init(&rt->ref, runtime_free);
	rt->path = bd_strdup(path);
	if (bd_settings_load(&s, path, &o, err) < 0)
		goto fail;
	rt->conf = s.conf;
	rt->keys = s.keys;
	rt->store = s.store;
	/* Before the keys are read would be safer, but they were: a rotation in
	 * between is seen at the next message and reloads once more. */
	bd_keys_stamp_read(rt->conf->keys.dir, &rt->current);
	rt->rewrite = bd_rewrite_new(rt->conf, rt->keys, rt->store, err);
	if (rt->rewrite == NULL)
		goto fail;
	for (size_t i = 0; i < rt->conf->rules.warnings.n; i++) {
		char kv[700] = "";

		bd_log_kv_str(kv, sizeof(kv), "warning", rt->conf->rules.warnings.v[i]);
		bd_log(LOG_WARNING, "event=config-warning%s", kv);
	}
	return rt;
fail:
	bd_ref_release(&rt->ref);
	return NULL;
}

void bd_runtime_install(struct bd_runtime *rt)
{
	if (rt != NULL) /* its rules show in /metrics from now on, with the ones before */
		bd_metrics_add_rules(&rt->conf->rules);
	bd_current_install(&current, rt != NULL ? &rt->ref : NULL);
}

struct bd_runtime *bd_runtime_get(void)
{
	return (struct bd_runtime *)bd_current_get(&current);
}

void bd_runtime_release(struct bd_runtime *rt)
{
	if (rt != NULL)
		bd_ref_release(&rt->ref);
}

void bd_runtime_follow_keys(void)
{
	static pthread_mutex_t reloading = PTHREAD_MUTEX_INITIALIZER;
	static struct bd_keys_stamp failed; /* under the lock: a change that did not load */
	struct bd_runtime *rt = bd_runtime_get(), *next;
	struct bd_keys_stamp now;
	struct bd_error err;

	bd_keys_stamp_read(rt->conf->keys.dir, &now);
	/* One thread reloads; the others go on with the keys in force meanwhile. */
	if (bd_keys_stamp_equal(&now, &rt->current) || pthread_mutex_trylock(&reloading) != 0) {
		bd_runtime_release(rt);
		return;
	}
	if (bd_keys_stamp_equal(&now, &failed)) {
		/* Not again for this same change: the next rotation or a SIGHUP tries anew. */
	} else if ((next = bd_runtime_load(rt->path, &err)) == NULL) {
		bd_log(LOG_ERR,
		       "event=reload-failed config=%s reason=keys-changed error=\"%s\" "
		       "action=\"kept the running configuration\"",
		       rt->path, err.msg);
		failed = now;
	} else {
		bd_runtime_install(next);
		bd_log(LOG_INFO, "event=reloaded config=%s reason=keys-changed gateway_key=%u",
		       rt->path, bd_keyring_current(next->keys, BD_KEY_GATEWAY));
	}
	pthread_mutex_unlock(&reloading);
	bd_runtime_release(rt);
}
