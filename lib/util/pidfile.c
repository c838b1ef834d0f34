/*
 * pidfile.c - write and remove the pid file (pidfile.h). The file is opened
 * O_NOFOLLOW: a link planted in a shared directory is not followed as root.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "pidfile.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The parent of PATH, made if missing (one level, like /run/bestanden) and given to USER. */
static int make_parent(const char *path, const char *user, struct bd_error *err)
{
	char *dir = bd_strdup(path), *slash = strrchr(dir, '/');
	struct passwd *pw;
	int rc = 0;

	if (slash == NULL || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	if (mkdir(dir, 0755) < 0) {
		if (errno != EEXIST)
			rc = bd_error_set(err, BD_E_IO, "cannot make %s for the pid file: %s", dir,
			                  strerror(errno));
		free(dir);
		return rc;
	}
	if (user != NULL && user[0] != '\0' && geteuid() == 0 && (pw = getpwnam(user)) != NULL &&
	    chown(dir, pw->pw_uid, pw->pw_gid) < 0)
		rc = bd_error_set(err, BD_E_IO, "cannot give %s to user %s: %s", dir, user,
		                  strerror(errno));
	free(dir);
	return rc;
}

int bd_pidfile_write(const char *path, const char *user, struct bd_error *err)
{
	char line[32];
	int fd, n;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (make_parent(path, user, err) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return bd_error_set(err, BD_E_IO, "cannot write pid file %s: %s", path,
		                    strerror(errno));
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n) {
		int e = errno;

		close(fd);
		unlink(path);
		return bd_error_set(err, BD_E_IO, "cannot write pid file %s: %s", path,
		                    strerror(e));
	}
	close(fd);
	return 0;
}

int bd_pidfile_remove(const char *path, struct bd_error *err)
{
	char line[32] = "";
	ssize_t n;
	int fd;

	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0 || strtol(line, NULL, 10) != (long)getpid() || unlink(path) == 0)
		return 0;
	return bd_error_set(err, BD_E_IO, "cannot remove pid file %s: %s", path, strerror(errno));
}
