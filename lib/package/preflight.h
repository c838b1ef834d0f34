/*
 * preflight.h - what can be checked before the first message: `-t` and
 * `bestanden check-config -v`.
 *
 * Storage answers and accepts the configured credentials (a HEAD of a name
 * nobody uses must say "not found"); the daemon's user can read the key
 * files it reloads and write the directories it needs (a missing directory
 * whose parent exists is fine: the daemon creates it at start). Each problem
 * goes to REPORT as one line that names the setting to change; nothing is
 * created or changed here.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_PREFLIGHT_H
#define BD_PREFLIGHT_H

#include "conf.h"

enum bd_preflight_role {
	BD_PREFLIGHT_MILTER = 1 << 0,
	BD_PREFLIGHT_GATEWAY = 1 << 1,
};

/* Run the checks of ROLES (an OR of the above); returns how many problems were reported. */
unsigned bd_preflight_run(const struct bd_conf *conf, unsigned roles, bd_conf_report_fn *report,
                          void *ctx);

#endif
