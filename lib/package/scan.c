/*
 * scan.c - clamd's INSTREAM protocol over a unix socket (see scan.h).
 *
 * "zINSTREAM\0", then chunks of u32 big-endian length and bytes, then a
 * zero length; clamd answers "stream: OK\0", "stream: NAME FOUND\0" or
 * "... ERROR\0". A write that fails (clamd closed the stream early, for
 * instance past its StreamMaxLength) is remembered and the answer read at
 * the end, so the caller learns why.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "scan.h"
#include "io.h"
#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CHUNK_MAX (1024 * 1024) /* bytes in one INSTREAM chunk */
#define REPLY_MAX 512

struct bd_scan {
	int fd;
	int broken; /* a write failed: only the answer is left to read */
};

struct bd_scan *bd_scan_begin(const char *socket_path, unsigned timeout_seconds,
                              struct bd_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_seconds};
	static const char command[] = "zINSTREAM"; /* the NUL ends the command */
	struct bd_scan *s;
	int fd;

	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		bd_error_set(err, BD_E_CONFIG, "[scan] clamd %s: path too long", socket_path);
		return NULL;
	}
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    bd_write_all(fd, command, sizeof(command)) < 0) {
		bd_error_set(err, BD_E_TEMP, "clamd %s: %s", socket_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	s = bd_calloc(1, sizeof(*s));
	s->fd = fd;
	return s;
}

static int put_chunk(struct bd_scan *s, const uint8_t *data, size_t len)
{
	uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                 (uint8_t)len};

	if (bd_write_all(s->fd, be, sizeof(be)) < 0 ||
	    (len > 0 && bd_write_all(s->fd, data, len) < 0))
		return -1;
	return 0;
}

int bd_scan_write(struct bd_scan *s, const uint8_t *data, size_t len, struct bd_error *err)
{
	while (len > 0 && !s->broken) {
		size_t n = len < CHUNK_MAX ? len : CHUNK_MAX;

		if (put_chunk(s, data, n) < 0)
			s->broken = 1;
		data += n;
		len -= n;
	}
	return 0;
}

int bd_scan_end(struct bd_scan *s, struct bd_error *err)
{
	char reply[REPLY_MAX + 1];
	size_t got = 0;
	const char *found;

	if (!s->broken && put_chunk(s, NULL, 0) < 0)
		s->broken = 1;
	while (got < REPLY_MAX) {
		ssize_t n = read(s->fd, reply + got, REPLY_MAX - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(reply, '\0', got) != NULL)
			break;
	}
	reply[got] = '\0';
	while (got > 0 && (reply[got - 1] == '\n' || reply[got - 1] == '\0'))
		reply[--got] = '\0';
	if (got == 0)
		return bd_error_set(err, BD_E_TEMP, "clamd gave no answer%s",
		                    s->broken ? " (it stopped reading the file)" : "");
	if (strcmp(reply, "stream: OK") == 0)
		return 0;
	found = strstr(reply, " FOUND");
	if (strncmp(reply, "stream: ", 8) == 0 && found != NULL && found[6] == '\0')
		return bd_error_set(err, BD_E_INFECTED, "%.*s", (int)(found - reply - 8),
		                    reply + 8);
	for (char *p = reply; *p; p++)
		if (*p == '"' || (unsigned char)*p < 0x20)
			*p = '\'';
	return bd_error_set(err, BD_E_TEMP, "clamd: %s", reply);
}

void bd_scan_free(struct bd_scan **sp)
{
	struct bd_scan *s = *sp;

	if (s == NULL)
		return;
	close(s->fd);
	free(s);
	*sp = NULL;
}
