/*
 * runtime.c - the configuration, keys and store in force, reloadable.
 *
 * A reload builds a complete new runtime first; only if everything loads
 * does it replace the old one, so a broken configuration on SIGHUP leaves
 * the milter running as it was. Messages hold a reference for their whole
 * end-of-message processing.
 */
#include <pthread.h>
#include <stdlib.h>

#include "mem.h"
#include "milter.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct bd_runtime *current;

struct bd_runtime *bd_runtime_load(const char *path, struct bd_error *err)
{
	struct bd_runtime *rt = bd_calloc(1, sizeof(*rt));

	rt->refs = 1;
	rt->conf = bd_conf_load(path, err);
	if (rt->conf == NULL)
		goto fail;
	rt->keys = bd_keyring_load(rt->conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, err);
	if (rt->keys == NULL)
		goto fail;
	rt->store = bd_store_open(&rt->conf->storage, err);
	if (rt->store == NULL)
		goto fail;
	rt->rewrite = bd_rewrite_new(rt->conf, rt->keys, rt->store, err);
	if (rt->rewrite == NULL)
		goto fail;
	return rt;
fail:
	rt->refs = 1;
	bd_runtime_release(rt);
	return NULL;
}

static void runtime_free(struct bd_runtime *rt)
{
	bd_rewrite_free(&rt->rewrite);
	bd_store_close(&rt->store);
	bd_keyring_free(&rt->keys);
	bd_conf_free(&rt->conf);
	free(rt);
}

void bd_runtime_install(struct bd_runtime *rt)
{
	struct bd_runtime *old;

	pthread_mutex_lock(&lock);
	old = current;
	current = rt;
	pthread_mutex_unlock(&lock);
	if (old)
		bd_runtime_release(old);
}

struct bd_runtime *bd_runtime_get(void)
{
	struct bd_runtime *rt;

	pthread_mutex_lock(&lock);
	rt = current;
	if (rt)
		rt->refs++;
	pthread_mutex_unlock(&lock);
	return rt;
}

void bd_runtime_release(struct bd_runtime *rt)
{
	int last;

	if (rt == NULL)
		return;
	pthread_mutex_lock(&lock);
	last = --rt->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		runtime_free(rt);
}
