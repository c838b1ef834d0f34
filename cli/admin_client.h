/*
 * admin_client.h - the bestanden command as a client of the gateway's admin API.
 *
 * With [admin] url set, inspect, revoke, request create and stats ask the
 * admin API (docs/API.md) with the bearer token of [admin] token_file instead
 * of reading storage themselves. Each function prints its answer or its error
 * (naming the setting to fix) and returns the command's exit status.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_CLI_ADMIN_CLIENT_H
#define BD_CLI_ADMIN_CLIENT_H

#include "conf.h"
#include "invite.h"

/* Whether the commands go through the admin API: [admin] url is set. */
int bd_cli_admin_wanted(const struct bd_conf *conf);

/* GET /admin/v1/packages/ARG: the package's status (names when ARG is a link token). */
int bd_cli_admin_inspect(const struct bd_conf *conf, const char *arg);
/* DELETE /admin/v1/packages/ARG. */
int bd_cli_admin_revoke(const struct bd_conf *conf, const char *arg);
/* POST /admin/v1/requests with O. */
int bd_cli_admin_request(const struct bd_conf *conf, const struct bd_invite_order *o);
/* GET /admin/v1/stats. */
int bd_cli_admin_stats(const struct bd_conf *conf);

#endif
