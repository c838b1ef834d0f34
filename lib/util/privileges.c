/*
 * privileges.c - initgroups, setgid, setuid, and a check that root is gone.
 */
#include "privileges.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

int bd_privileges_drop(const char *user, struct bd_error *err)
{
	struct passwd *pw;

	if (user == NULL || *user == '\0' || geteuid() != 0)
		return 0;
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL)
		return bd_error_set(err, BD_E_CONFIG,
		                    "user '%s' does not exist (create it, or change the "
		                    "configured user)",
		                    user);
	if (pw->pw_uid == 0)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return bd_error_set(err, BD_E_IO, "cannot switch to user %s: %s", user,
		                    strerror(errno));
	if (setuid(0) == 0 || geteuid() == 0)
		return bd_error_set(err, BD_E_IO, "switching to user %s did not drop root", user);
	return 0;
}

int bd_privileges_give(const char *dir, const char *user, struct bd_error *err)
{
	struct passwd *pw;
	struct dirent *de;
	DIR *d;

	if (user == NULL || *user == '\0' || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL)
		return bd_error_set(err, BD_E_CONFIG, "user '%s' does not exist", user);
	if (chown(dir, pw->pw_uid, pw->pw_gid) < 0)
		return bd_error_set(err, BD_E_IO, "cannot give %s to user %s: %s", dir, user,
		                    strerror(errno));
	d = opendir(dir);
	if (d == NULL)
		return bd_error_set(err, BD_E_IO, "cannot open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* only directories, never following links; the objects in them keep their owner */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_uid == 0 &&
		    fchownat(dirfd(d), de->d_name, pw->pw_uid, pw->pw_gid, AT_SYMLINK_NOFOLLOW) <
		            0) {
			closedir(d);
			return bd_error_set(err, BD_E_IO, "cannot give %s/%s to user %s: %s", dir,
			                    de->d_name, user, strerror(errno));
		}
	}
	closedir(d);
	return 0;
}
