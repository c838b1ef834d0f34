/*
 * audit.c - JSON lines of page views and downloads (see audit.h). Each line
 * is one write(2) to a file opened O_APPEND, under a lock, so lines never
 * interleave. When logrotate moves the file away, the next line (checked at
 * most once a second) goes to a fresh file at the configured path.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "audit.h"
#include "current.h"
#include "log.h"
#include "mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct gw_audit {
	struct bd_ref ref; /* shared by the runtimes that log to the same file */
	char *path;        /* NULL: syslog */
	enum bd_audit_address client_mode;
	pthread_mutex_t lock;
	int fd;
	dev_t dev;
	ino_t ino;
	time_t checked;
};

static int open_file(struct gw_audit *a, struct bd_error *err)
{
	struct stat st;
	int fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

	if (fd < 0)
		return bd_error_set(err, BD_E_IO, "cannot open audit log %s: %s", a->path,
		                    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bd_error_set(err, BD_E_IO, "audit log %s is not a regular file", a->path);
	}
	if (st.st_size == 0 && st.st_uid == geteuid())
		fchmod(fd, 0640); /* logrotate's "create 0640", whatever the umask */
	if (a->fd >= 0)
		close(a->fd);
	a->fd = fd;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	return 0;
}

static void audit_free(struct bd_ref *ref)
{
	struct gw_audit *a = (struct gw_audit *)ref;

	if (a->fd >= 0)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}

struct gw_audit *gw_audit_open(const char *path, enum bd_audit_address client_mode,
                               struct bd_error *err)
{
	struct gw_audit *a = bd_calloc(1, sizeof(*a));

	bd_ref_init(&a->ref, audit_free);
	a->fd = -1;
	a->client_mode = client_mode;
	pthread_mutex_init(&a->lock, NULL);
	if (path[0] != '\0') {
		a->path = bd_strdup(path);
		if (open_file(a, err) < 0) {
			bd_error_prefix(err, "[gateway] audit_log");
			gw_audit_close(&a);
			return NULL;
		}
	}
	return a;
}

struct gw_audit *gw_audit_hold(struct gw_audit *a)
{
	bd_ref_hold(&a->ref);
	return a;
}

int gw_audit_is(const struct gw_audit *a, const char *path, enum bd_audit_address client_mode)
{
	return strcmp(a->path != NULL ? a->path : "", path) == 0 && a->client_mode == client_mode;
}

void gw_audit_close(struct gw_audit **ap)
{
	if (*ap != NULL)
		bd_ref_release(&(*ap)->ref);
	*ap = NULL;
}

void gw_audit_client(const struct sockaddr *sa, enum bd_audit_address mode, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int truncate = mode == BD_AUDIT_ADDRESS_TRUNCATED;

	out[0] = '\0';
	if (sa == NULL || mode == BD_AUDIT_ADDRESS_NONE)
		return;
	if (sa->sa_family == AF_INET6) {
		struct in6_addr a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			struct in_addr a4;

			memcpy(&a4, &a6.s6_addr[12], 4);
			if (truncate)
				((uint8_t *)&a4)[3] = 0;
			inet_ntop(AF_INET, &a4, addr, sizeof(addr));
			snprintf(out, size, "%s%s", addr, truncate ? "/24" : "");
			return;
		}
		if (truncate)
			memset(&a6.s6_addr[6], 0, 10);
		inet_ntop(AF_INET6, &a6, addr, sizeof(addr));
		snprintf(out, size, "%s%s", addr, truncate ? "/48" : "");
	} else if (sa->sa_family == AF_INET) {
		struct in_addr a4 = ((const struct sockaddr_in *)sa)->sin_addr;

		if (truncate)
			((uint8_t *)&a4)[3] = 0;
		inet_ntop(AF_INET, &a4, addr, sizeof(addr));
		snprintf(out, size, "%s%s", addr, truncate ? "/24" : "");
	}
}

/* Every value we log is ours (hex, fixed words, numbers), but quote as JSON all the same. */
static size_t put_json_string(char *buf, size_t size, size_t n, const char *key, const char *v)
{
	if (n >= size)
		return n;
	n += (size_t)snprintf(buf + n, size - n, ",\"%s\":\"", key);
	for (; *v && n + 8 < size; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(buf + n, size - n, "\\%c", c);
		else if (c < 0x20)
			n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
		else
			buf[n++] = (char)c;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n < size ? n : size - 1] = '\0';
	return n;
}

/* A moved or deleted file (logrotate) is replaced by a fresh one; checked once a second. */
static void reopen_if_rotated(struct gw_audit *a, time_t now)
{
	struct bd_error err;
	struct stat st;

	if (now == a->checked)
		return;
	a->checked = now;
	if (stat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino)
		return;
	if (open_file(a, &err) < 0)
		bd_log(LOG_ERR, "event=audit-error error=\"%s\"", err.msg);
}

void gw_audit_write(struct gw_audit *a, const struct gw_audit_event *ev)
{
	char line[1024], ts[40], client[64];
	struct timespec now;
	struct tm tm;
	size_t n;

	if (a == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\"", ts);
	n = put_json_string(line, sizeof(line), n, "event", ev->event);
	if (ev->package != NULL)
		n = put_json_string(line, sizeof(line), n, "package", ev->package);
	if (ev->file >= 0 && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"file\":%d", ev->file);
	if (ev->range != NULL)
		n = put_json_string(line, sizeof(line), n, "range", ev->range);
	if (ev->bytes >= 0 && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"bytes\":%lld",
		                      (long long)ev->bytes);
	if (ev->status != 0 && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"status\":%u", ev->status);
	if (ev->outcome != NULL)
		n = put_json_string(line, sizeof(line), n, "outcome", ev->outcome);
	gw_audit_client(ev->client, a->client_mode, client, sizeof(client));
	if (client[0] != '\0')
		n = put_json_string(line, sizeof(line), n, "client", client);
	if (ev->recipient != NULL && ev->recipient[0] != '\0')
		n = put_json_string(line, sizeof(line), n, "recipient", ev->recipient);
	if (ev->retrieved && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"retrieved\":true");
	if (n + 2 >= sizeof(line))
		n = sizeof(line) - 3;
	line[n++] = '}';
	line[n++] = '\n';
	line[n] = '\0';
	if (a->path == NULL) {
		line[n - 1] = '\0';
		bd_log(LOG_INFO, "audit %s", line);
		return;
	}
	pthread_mutex_lock(&a->lock);
	reopen_if_rotated(a, now.tv_sec);
	if (a->fd >= 0 && write(a->fd, line, n) != (ssize_t)n)
		bd_log(LOG_ERR, "event=audit-error error=\"cannot write %s: %s\"", a->path,
		       strerror(errno));
	pthread_mutex_unlock(&a->lock);
}
