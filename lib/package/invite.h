/*
 * invite.h - an upload request as an administrator orders it.
 *
 * `bestanden request create` and the admin API's POST /admin/v1/requests both
 * come here: the order is checked (addresses, limits), what it leaves out is
 * taken from [requests], the request is stored (upload.h) and, when asked,
 * the invitation is mailed to the recipient through [smtp] (notify.h). An
 * invitation that could not be sent takes its request with it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_INVITE_H
#define BD_INVITE_H

#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "keys.h"
#include "package.h"
#include "store.h"

/* What is asked; a zero value takes the [requests] default. */
struct bd_invite_order {
	const char *requester;   /* an address; required */
	const char *recipient;   /* an address, or NULL; required with send */
	const char *note;        /* may be NULL */
	uint64_t expires;        /* seconds from now */
	uint64_t max_total_size; /* bytes */
	uint64_t max_file_size;  /* bytes; never more than max_total_size */
	unsigned max_files;      /* 1 .. 1000 */
	int several_uses;        /* 1 or 0; -1: the default */
	int send;                /* mail the invitation to the recipient */
};

/* The request made: its id (hex), expiry and link (malloc'ed; wipe and free it). */
struct bd_invite {
	char id[BD_PACKAGE_ID_HEX];
	int64_t expires;
	char *link;
};

/*
 * Check O (BD_E_INVALID names the field that is wrong), store the request with
 * KR's current keys in S, mail it when O->send. OUT is filled on success.
 */
int bd_invite_create(const struct bd_conf *conf, struct bd_store *s, const struct bd_keyring *kr,
                     const struct bd_invite_order *o, struct bd_invite *out, struct bd_error *err);
/* Wipe and free OUT's link. */
void bd_invite_clear(struct bd_invite *out);

#endif
