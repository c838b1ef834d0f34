/*
 * privileges.c - initgroups, setgid, setuid, and a check that root is gone.
 *
 * SPDX-License-Identifier: EUPL-1.2
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

/* USER's ids, and GROUP's id when GROUP names a group; -1 when USER does not exist. */
static int lookup_ids(const char *user, const char *group, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr = group && *group ? getgrnam(group) : NULL;

	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = gr ? gr->gr_gid : pw->pw_gid;
	return 0;
}

int bd_privileges_give_file(const char *path, const char *user, const char *group,
                            struct bd_error *err)
{
	uid_t uid;
	gid_t gid;

	if (user == NULL || *user == '\0' || geteuid() != 0)
		return 0;
	if (lookup_ids(user, group, &uid, &gid) < 0)
		return bd_error_set(err, BD_E_CONFIG, "user '%s' does not exist", user);
	if (chown(path, uid, gid) < 0)
		return bd_error_set(err, BD_E_IO, "cannot give %s to user %s: %s", path, user,
		                    strerror(errno));
	return 0;
}

int bd_privileges_make_dir(const char *dir, mode_t mode, const char *user, const char *group,
                           struct bd_error *err)
{
	if (mkdir(dir, mode) < 0) {
		struct stat st;

		if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return bd_error_set(err, BD_E_IO, "cannot create directory %s: %s", dir,
		                    strerror(errno));
	}
	/* mkdir's mode passes through the umask; the configured mode is what counts */
	if (chmod(dir, mode) < 0)
		return bd_error_set(err, BD_E_IO, "cannot set the mode of %s: %s", dir,
		                    strerror(errno));
	return bd_privileges_give_file(dir, user, group, err) < 0 ? -1 : 1;
}

static int in_groups(const struct passwd *pw, gid_t gid)
{
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0]));

	if (pw->pw_gid == gid)
		return 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

int bd_privileges_user_can(const char *user, const char *path, int mode)
{
	struct passwd *pw;
	struct stat st;
	mode_t bits;

	if (user == NULL || *user == '\0')
		return access(path, mode) == 0;
	pw = getpwnam(user);
	if (pw == NULL || stat(path, &st) < 0)
		return 0;
	if (pw->pw_uid == 0)
		return 1;
	if (st.st_uid == pw->pw_uid)
		bits = (st.st_mode >> 6) & 7;
	else if (in_groups(pw, st.st_gid))
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	return ((mode & R_OK) == 0 || (bits & 4)) && ((mode & W_OK) == 0 || (bits & 2)) &&
	       ((mode & X_OK) == 0 || (bits & 1));
}
