/*
 * pidfile.h - the file that names a daemon's process id.
 *
 * Written once at start-up (as root, before privileges are dropped) and
 * removed by the same process when it stops. A missing parent directory
 * (/run/bestanden after a reboot) is made, and given to the daemon's user,
 * so the daemon can still remove its file once it runs as that user.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_PIDFILE_H
#define BD_PIDFILE_H

#include "error.h"

/* Write getpid() to PATH ("": no pid file, 0). USER ("" or NULL: none) gets a
 * parent directory made here when running as root. 0, or -1 with ERR. */
int bd_pidfile_write(const char *path, const char *user, struct bd_error *err);
/* Remove PATH if it still names this process (a successor's file is left alone).
 * -1 with ERR when it names this process but cannot be removed (its directory is
 * not writable by the user the daemon runs as now). */
int bd_pidfile_remove(const char *path, struct bd_error *err);

#endif
