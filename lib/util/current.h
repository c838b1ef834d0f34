/*
 * current.h - the value in force, swapped whole, reference-counted.
 *
 * What a daemon reloads on SIGHUP (settings, keys, what is built from them)
 * is one value that embeds a struct bd_ref. Readers take a reference for as
 * long as they work with it (a message, a request); installing a new value
 * lets the old one go when its last reader lets go, so nothing in flight
 * sees a change half-way. Thread-safe.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_CURRENT_H
#define BD_CURRENT_H

#include <pthread.h>

struct bd_ref {
	int refs;
	void (*free)(struct bd_ref *self); /* runs when the last reference goes */
};

struct bd_current {
	pthread_mutex_t lock;
	struct bd_ref *value;
};

#define BD_CURRENT_INIT                                                                            \
	{                                                                                          \
		PTHREAD_MUTEX_INITIALIZER, NULL                                                    \
	}

/* A new value's reference: one, the creator's. */
void bd_ref_init(struct bd_ref *ref, void (*free_fn)(struct bd_ref *self));
/* Make V the value new readers get, taking over the caller's reference; the old
 * one is released. V may be NULL (at exit). */
void bd_current_install(struct bd_current *c, struct bd_ref *v);
/* A reference to the value in force (NULL before the first install). */
struct bd_ref *bd_current_get(struct bd_current *c);
/* Let go of a reference from bd_current_get, bd_ref_init or bd_ref_hold. */
void bd_ref_release(struct bd_ref *v);
/* One more reference to V, which the caller holds already. */
struct bd_ref *bd_ref_hold(struct bd_ref *v);

#endif
