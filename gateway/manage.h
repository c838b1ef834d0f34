/*
 * manage.h - the sender's management link /m/<token> (manage.c): the status
 * of what was sent, Revoke and Extend, without JavaScript.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_MANAGE_H
#define GW_MANAGE_H

#include "server.h"

struct gw_manage;

/* Adds /m/ and the redaction of its tokens in logged text to SRV. */
struct gw_manage *gw_manage_register(struct gw_server *srv);
/* [gateway] failed_lookups_per_minute for wrong /m/ tokens (at start and on reload). */
void gw_manage_set_rate(struct gw_manage *m, unsigned per_minute);
void gw_manage_free(struct gw_manage **m);
/* Blank out management tokens ("/m/<token>") in TEXT, in place. */
void gw_manage_redact(char *text);

#endif
