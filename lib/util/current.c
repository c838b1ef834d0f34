/*
 * current.c - the value in force (current.h). One mutex guards every count:
 * taking and letting go are rare next to the work done in between.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "current.h"

#include <stddef.h>

static pthread_mutex_t refs_lock = PTHREAD_MUTEX_INITIALIZER;

void bd_ref_init(struct bd_ref *ref, void (*free_fn)(struct bd_ref *self))
{
	ref->refs = 1;
	ref->free = free_fn;
}

struct bd_ref *bd_ref_hold(struct bd_ref *v)
{
	pthread_mutex_lock(&refs_lock);
	v->refs++;
	pthread_mutex_unlock(&refs_lock);
	return v;
}

void bd_ref_release(struct bd_ref *v)
{
	int last;

	if (v == NULL)
		return;
	pthread_mutex_lock(&refs_lock);
	last = --v->refs == 0;
	pthread_mutex_unlock(&refs_lock);
	if (last)
		v->free(v);
}

void bd_current_install(struct bd_current *c, struct bd_ref *v)
{
	struct bd_ref *old;

	pthread_mutex_lock(&c->lock);
	old = c->value;
	c->value = v;
	pthread_mutex_unlock(&c->lock);
	bd_ref_release(old);
}

struct bd_ref *bd_current_get(struct bd_current *c)
{
	struct bd_ref *v;

	pthread_mutex_lock(&c->lock);
	v = c->value;
	if (v != NULL)
		bd_ref_hold(v);
	pthread_mutex_unlock(&c->lock);
	return v;
}
