/*
 * privileges.h - giving up root after start-up.
 *
 * The daemons open their sockets and read their keys as root, then switch
 * to the configured user ([milter] user, [gateway] user) for good: the
 * group list, the group and the user all change, and the change is checked.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_PRIVILEGES_H
#define BD_PRIVILEGES_H

#include <sys/types.h>

#include "error.h"

/* Switch to USER. An empty USER, or not running as root, changes nothing. */
int bd_privileges_drop(const char *user, struct bd_error *err);
/* Make DIR and the directories directly in it USER's (before dropping to USER);
 * nothing happens for an empty USER or when not root. */
int bd_privileges_give(const char *dir, const char *user, struct bd_error *err);

/*
 * Create DIR with MODE when it is missing (its parent must exist) and, when
 * running as root, give it to USER and GROUP (empty GROUP, or one that does
 * not exist: USER's own group). Returns 1 when it was created, 0 when it was
 * already there, -1 with ERR otherwise.
 */
int bd_privileges_make_dir(const char *dir, mode_t mode, const char *user, const char *group,
                           struct bd_error *err);
/* Give the file PATH to USER and GROUP as above (running as root and USER not empty only). */
int bd_privileges_give_file(const char *path, const char *user, const char *group,
                            struct bd_error *err);
/*
 * True when USER (empty: whoever runs this) may access PATH as access(2)'s
 * MODE (R_OK, W_OK, X_OK) says, judged from its owner, group and mode bits
 * and USER's groups, without switching users. Root may do anything.
 */
int bd_privileges_user_can(const char *user, const char *path, int mode);

#endif
