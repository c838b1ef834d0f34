/*
 * pending.c - the file of packages whose delete failed (see pending.h). One
 * mutex orders the appends and the rewrite in this process; the deletes of a
 * retry run without it, so a message that gives up never waits for storage.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "pending.h"
#include "io.h"
#include "log.h"
#include "mem.h"
#include "package.h"
#include "remove.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct entry {
	char *line; /* as read, without the newline */
	bool done;  /* leaves the file */
};

static bool valid_id(const char *id)
{
	return strlen(id) == BD_PACKAGE_ID_HEX - 1 &&
	       strspn(id, "0123456789abcdef") == BD_PACKAGE_ID_HEX - 1;
}

int bd_pending_add(const char *dir, const char *id_hex, int64_t now, struct bd_error *err)
{
	char line[64];
	char *path;
	int fd, n, rc = 0;

	if (!valid_id(id_hex))
		return bd_error_set(err, BD_E_INVALID, "'%.40s' is not a package id", id_hex);
	n = snprintf(line, sizeof(line), "%s %" PRId64 "\n", id_hex, now);
	path = bd_asprintf("%s/%s", dir, BD_PENDING_FILE);
	pthread_mutex_lock(&lock);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || bd_write_all(fd, line, (size_t)n) < 0 || fsync(fd) < 0)
		rc = bd_error_set(err, BD_E_IO, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	pthread_mutex_unlock(&lock);
	free(path);
	return rc;
}

int bd_package_delete_or_queue(struct bd_store *s, const char *dir, const char *id_hex)
{
	struct bd_error err, qerr;

	if (bd_package_delete(s, id_hex, NULL, &err) == 0)
		return 0;
	if (dir == NULL) {
		bd_log(LOG_ERR, "event=package-not-deleted package=%.16s error=\"%s\" queued=no",
		       id_hex, err.msg);
		return -1;
	}
	if (bd_pending_add(dir, id_hex, (int64_t)time(NULL), &qerr) < 0) {
		bd_log(LOG_ERR,
		       "event=package-not-deleted package=%.16s error=\"%s\" queued=no "
		       "queue_error=\"%s\"",
		       id_hex, err.msg, qerr.msg);
		return -1;
	}
	bd_log(LOG_WARNING, "event=package-not-deleted package=%s error=\"%s\" queued=yes", id_hex,
	       err.msg);
	return 1;
}

/* The file's content, or NULL with *LEN 0 when there is none. */
static char *read_all(const char *path, size_t *len, struct bd_error *err)
{
	size_t cap = 4096;
	char *buf;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0) {
		if (errno != ENOENT)
			bd_error_set(err, BD_E_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = bd_malloc(cap + 1);
	while ((r = read(fd, buf + *len, cap - *len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			bd_error_set(err, BD_E_IO, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			*len = 0;
			return NULL;
		}
		*len += (size_t)r;
		if (*len == cap) {
			cap *= 2;
			buf = bd_realloc(buf, cap + 1);
		}
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* Split BUF into lines (empty ones skipped); *N entries. */
static struct entry *split(char *buf, size_t *n)
{
	struct entry *v = NULL;
	size_t cap = 0;

	*n = 0;
	for (char *line = buf, *next; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = bd_realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = (struct entry){line, false};
	}
	return v;
}

/* "<16 hex> <seconds>": 0 with ID and *ADDED, -1 otherwise. */
static int parse(const char *line, char id[BD_PACKAGE_ID_HEX], int64_t *added)
{
	char *end;
	long long t;

	if (strlen(line) < BD_PACKAGE_ID_HEX + 1 || line[BD_PACKAGE_ID_HEX - 1] != ' ')
		return -1;
	memcpy(id, line, BD_PACKAGE_ID_HEX - 1);
	id[BD_PACKAGE_ID_HEX - 1] = '\0';
	if (!valid_id(id) || line[BD_PACKAGE_ID_HEX] < '0' || line[BD_PACKAGE_ID_HEX] > '9')
		return -1;
	errno = 0;
	t = strtoll(line + BD_PACKAGE_ID_HEX, &end, 10);
	if (errno != 0 || *end != '\0' || t < 0)
		return -1;
	*added = t;
	return 0;
}

static void retry_one(struct entry *e, struct bd_store *s, int64_t now, uint64_t give_up,
                      struct bd_pending_counts *c)
{
	char id[BD_PACKAGE_ID_HEX], kv[300] = "";
	struct bd_error err;
	int64_t added;

	e->done = true;
	if (parse(e->line, id, &added) < 0) {
		bd_log_kv_str(kv, sizeof(kv), "line", e->line);
		bd_log(LOG_WARNING, "event=pending-delete result=dropped reason=unreadable%s", kv);
		c->dropped++;
	} else if (now > added && (uint64_t)(now - added) > give_up) {
		bd_log(LOG_WARNING,
		       "event=pending-delete package=%s result=given-up reason=\"past the "
		       "retention; the sweep deletes it\"",
		       id);
		c->expired++;
	} else if (bd_package_delete(s, id, NULL, &err) == 0) {
		bd_log(LOG_INFO, "event=pending-delete package=%s result=deleted", id);
		c->deleted++;
	} else {
		bd_log(LOG_WARNING, "event=pending-delete package=%s result=failed error=\"%s\"",
		       id, err.msg);
		e->done = false;
		c->failed++;
	}
}

/* Under the lock: DIR's file again, without the lines DONE says are done. */
static int rewrite_file(const char *path, const struct entry *done, size_t ndone,
                        struct bd_error *err)
{
	char *buf, *tmp = bd_asprintf("%s.tmp", path);
	struct entry *now;
	size_t len, n, kept = 0;
	int fd = -1, rc = -1;

	err->code = BD_OK;
	buf = read_all(path, &len, err);
	if (buf == NULL) {
		rc = err->code == BD_OK ? 0 : -1;
		free(tmp);
		return rc;
	}
	now = split(buf, &n);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		bool gone = false;

		for (size_t j = 0; j < ndone && !gone; j++)
			gone = done[j].done && strcmp(done[j].line, now[i].line) == 0;
		if (gone)
			continue;
		if (bd_write_all(fd, now[i].line, strlen(now[i].line)) < 0 ||
		    bd_write_all(fd, "\n", 1) < 0)
			goto fail;
		kept++;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (kept == 0 ? unlink(path) < 0 : rename(tmp, path) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc < 0)
		bd_error_set(err, BD_E_IO, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc < 0 || kept == 0)
		unlink(tmp);
	free(now);
	free(buf);
	free(tmp);
	return rc;
}

int bd_pending_retry(const char *dir, struct bd_store *s, int64_t now, uint64_t give_up,
                     struct bd_pending_counts *c, struct bd_error *err)
{
	struct bd_pending_counts ignored;
	struct bd_error local;
	char *path = bd_asprintf("%s/%s", dir, BD_PENDING_FILE), *buf;
	struct entry *v;
	size_t len, n;
	int rc;

	if (c == NULL)
		c = &ignored;
	if (err == NULL)
		err = &local;
	*c = (struct bd_pending_counts){0};
	err->code = BD_OK;
	pthread_mutex_lock(&lock);
	buf = read_all(path, &len, err);
	pthread_mutex_unlock(&lock);
	if (buf == NULL) {
		rc = err->code == BD_OK ? 0 : -1;
		free(path);
		return rc;
	}
	v = split(buf, &n);
	for (size_t i = 0; i < n; i++)
		retry_one(&v[i], s, now, give_up, c);
	pthread_mutex_lock(&lock);
	rc = rewrite_file(path, v, n, err);
	pthread_mutex_unlock(&lock);
	free(v);
	free(buf);
	free(path);
	return rc;
}
