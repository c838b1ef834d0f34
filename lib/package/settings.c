/*
 * settings.c - configuration, keys and store loaded together (settings.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "settings.h"

int bd_settings_load(struct bd_settings *s, const char *path, const struct bd_settings_options *o,
                     struct bd_error *err)
{
	*s = (struct bd_settings){0};
	s->conf = bd_conf_load(path, err);
	if (s->conf == NULL)
		return -1;
	if (o->adjust != NULL)
		o->adjust(s->conf, o->cls);
	s->keys = bd_keyring_load(s->conf->keys.dir, o->need_keys, err);
	if (s->keys == NULL)
		goto fail;
	/* The embedded store is our own disk: no HTTP round trip to ourselves. */
	s->store = o->local != NULL ? bd_objstore_store(o->local)
	                            : bd_store_open(&s->conf->storage, err);
	if (s->store == NULL) {
		bd_error_prefix(err, "[storage]");
		goto fail;
	}
	return 0;
fail:
	bd_settings_free(s);
	return -1;
}

void bd_settings_free(struct bd_settings *s)
{
	bd_store_close(&s->store);
	bd_keyring_free(&s->keys);
	bd_conf_free(&s->conf);
}
