/*
 * milter.h - what the files of bestanden-milter share.
 *
 * main.c runs the process (options, supervisor, privileges, signals);
 * filter.c is the libmilter glue (per-connection and per-message state,
 * the callbacks, and the hand-over to the rewrite engine); runtime.c holds
 * the configuration, keys and store that messages use, swapped whole on
 * reload and reference-counted so a message in flight keeps its own.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_MILTER_H
#define BD_MILTER_H

#include <string.h>
#include <libmilter/mfapi.h>

#include "conf.h"
#include "current.h"
#include "error.h"
#include "keys.h"
#include "rewrite.h"
#include "store.h"

struct bd_runtime {
	struct bd_ref ref; /* first: the runtime is a bd_current value, like the gateway's */
	struct bd_conf *conf;
	struct bd_keyring *keys;
	struct bd_store *store;
	struct bd_rewrite *rewrite;
	char *path;                   /* the configuration file it was loaded from */
	struct bd_keys_stamp current; /* the key directory's `current` file when loaded */
};

/* Load configuration, keys, store and templates from PATH; NULL with ERR on failure. */
struct bd_runtime *bd_runtime_load(const char *path, struct bd_error *err);
/* Whether the [milter] socket SPEC is TCP ("inet:" or "inet6:"), not a local socket. */
static inline int bd_milter_socket_is_tcp(const char *spec)
{
	return strncmp(spec, "inet", 4) == 0;
}
/* Make RT the one new messages get (takes over the caller's reference). */
void bd_runtime_install(struct bd_runtime *rt);
/* A reference to the current runtime; release it with bd_runtime_release. */
struct bd_runtime *bd_runtime_get(void);
void bd_runtime_release(struct bd_runtime *rt);
/*
 * Reload when the key directory's `current` file changed since the runtime in
 * force was loaded (a rotation: `bestanden keys maintain`, or the gateway's
 * sweeper): new messages are sealed to the new gateway key without a SIGHUP.
 * One stat(2); called as each message begins.
 */
void bd_runtime_follow_keys(void);

/* The libmilter description of this filter. */
extern struct smfiDesc bd_filter_desc;
/* Messages being processed right now (for draining on stop). */
int bd_filter_active(void);
/* From now on new messages are tempfailed (shutting down). */
void bd_filter_drain(void);

#endif
