/*
 * smtp_load.c - send one message N times over S parallel SMTP sessions, like
 * Postfix's smtp-source -s S -m N, and report each transaction's latency.
 *
 * Each message gets a session of its own (connect, EHLO, MAIL, RCPT, DATA,
 * QUIT), as smtp-source does by default. The message file must already be
 * in wire form: CRLF line ends, dot-stuffed, without the final ".".
 *
 * usage: bench_smtp_load HOST PORT SESSIONS MESSAGES FILE
 * Prints one line per message: the transaction's latency in seconds (connect
 * to the 250 after the data), then a line "wall SECONDS FAILED".
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;
static const char *message;
static size_t message_len;
static atomic_int next_message;
static int total;
static double *latency;
static atomic_int failed;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one (possibly multi-line) reply; its code, or -1. */
static int reply(int fd)
{
	char line[1024];
	size_t len = 0;

	for (;;) {
		ssize_t r = recv(fd, line + len, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (line[len] == '\n') {
			line[len] = '\0';
			if (len >= 3 && line[3] != '-')
				return atoi(line);
			len = 0;
			continue;
		}
		if (len < sizeof(line) - 2)
			len++;
	}
}

static int command(int fd, const char *cmd, int want)
{
	if (cmd != NULL && send_all(fd, cmd, strlen(cmd)) < 0)
		return -1;
	return reply(fd) / 100 == want ? 0 : -1;
}

static int transaction(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	int rc = -1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) == 0 &&
	    command(fd, NULL, 2) == 0 && command(fd, "EHLO load.bestanden.test\r\n", 2) == 0 &&
	    command(fd, "MAIL FROM:<medewerker@bestanden.test>\r\n", 2) == 0 &&
	    command(fd, "RCPT TO:<klant@example.org>\r\n", 2) == 0 &&
	    command(fd, "DATA\r\n", 3) == 0 && send_all(fd, message, message_len) == 0 &&
	    command(fd, ".\r\n", 2) == 0)
		rc = 0;
	if (rc == 0)
		command(fd, "QUIT\r\n", 2);
	close(fd);
	return rc;
}

static void *session(void *arg)
{
	(void)arg;
	for (;;) {
		int i = atomic_fetch_add(&next_message, 1);
		double t0;

		if (i >= total)
			return NULL;
		t0 = now();
		if (transaction() < 0)
			atomic_fetch_add(&failed, 1);
		latency[i] = now() - t0;
	}
}

int main(int argc, char **argv)
{
	int sessions;
	FILE *f;
	struct stat st;
	pthread_t *tids;
	double t0;
	char *buf;

	if (argc != 6) {
		fprintf(stderr, "usage: %s HOST PORT SESSIONS MESSAGES FILE\n", argv[0]);
		return 2;
	}
	server.sin_family = AF_INET;
	server.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
		fprintf(stderr, "%s: not an IPv4 address: %s\n", argv[0], argv[1]);
		return 2;
	}
	sessions = atoi(argv[3]);
	total = atoi(argv[4]);
	if (sessions < 1 || total < 1 || (f = fopen(argv[5], "rb")) == NULL ||
	    fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "%s: bad arguments or unreadable %s\n", argv[0], argv[5]);
		return 2;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[5]);
		return 1;
	}
	fclose(f);
	message = buf;
	message_len = (size_t)st.st_size;
	latency = calloc((size_t)total, sizeof(double));
	tids = calloc((size_t)sessions, sizeof(pthread_t));
	t0 = now();
	for (int i = 0; i < sessions; i++)
		pthread_create(&tids[i], NULL, session, NULL);
	for (int i = 0; i < sessions; i++)
		pthread_join(tids[i], NULL);
	for (int i = 0; i < total; i++)
		printf("%.6f\n", latency[i]);
	printf("wall %.6f %d\n", now() - t0, atomic_load(&failed));
	free(tids);
	free(latency);
	free(buf);
	return 0;
}
