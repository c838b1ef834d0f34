/*
 * privileges.h - giving up root after start-up.
 *
 * The daemons open their sockets and read their keys as root, then switch
 * to the configured user ([milter] user, [gateway] user) for good: the
 * group list, the group and the user all change, and the change is checked.
 */
#ifndef BD_PRIVILEGES_H
#define BD_PRIVILEGES_H

#include "error.h"

/* Switch to USER. An empty USER, or not running as root, changes nothing. */
int bd_privileges_drop(const char *user, struct bd_error *err);
/* Make DIR and the directories directly in it USER's (before dropping to USER);
 * nothing happens for an empty USER or when not root. */
int bd_privileges_give(const char *dir, const char *user, struct bd_error *err);

#endif
