/*
 * keyproc.c - the request that opens a sealed server key in another process,
 * checked on the key process's side and asked, one at a time, on the other
 * (see keyproc.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "keyproc.h"
#include "mem.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define OP_OPEN     1
#define HELLO_BYTES (8 + BD_ERROR_MAX)

static const uint8_t magic[4] = {'B', 'D', 'K', 'P'};
static const uint8_t hello_magic[4] = {'B', 'D', 'K', 'H'};

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * bd_manifest_parse_header checks lengths of whole objects: the shortest is a header and
 * an empty body's tag, so a header alone is parsed with a zero tag behind it.
 */
static int parse_header(const uint8_t header[BD_MANIFEST_HEADER_BYTES],
                        struct bd_manifest_header *h)
{
	uint8_t object[BD_MANIFEST_HEADER_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES] = {0};

	memcpy(object, header, BD_MANIFEST_HEADER_BYTES);
	return bd_manifest_parse_header(object, sizeof(object), h, NULL);
}

/* ---- the key process's side ------------------------------------------------------------------ */

/* Put ST in ANSWER, and REASON (a refusal's) in WHY; returns ST. */
static enum bd_keyproc_status status(enum bd_keyproc_status st, uint8_t *answer,
                                     struct bd_error *why, const char *reason)
{
	answer[4] = (uint8_t)st;
	if (reason != NULL)
		bd_error_set(why, BD_E_INVALID, "%s", reason);
	return st;
}

enum bd_keyproc_status bd_keyproc_answer(const struct bd_keyring *kr, const uint8_t *req,
                                         size_t reqlen, uint8_t answer[BD_KEYPROC_ANSWER_BYTES],
                                         struct bd_error *why)
{
	struct bd_manifest_header h;
	struct bd_package_keys *keys;
	struct bd_error perr;
	int rc;

	memset(answer, 0, BD_KEYPROC_ANSWER_BYTES);
	memcpy(answer, magic, sizeof(magic));
	bd_error_clear(why);
	if (reqlen != BD_KEYPROC_REQUEST_BYTES)
		return status(BD_KEYPROC_REFUSED, answer, why, "a request of the wrong length");
	memcpy(answer + 8, req + 8, 4); /* the sequence number, whatever else is wrong */
	if (memcmp(req, magic, sizeof(magic)) != 0)
		return status(BD_KEYPROC_REFUSED, answer, why, "a request without the magic");
	if (req[4] != OP_OPEN)
		return status(BD_KEYPROC_REFUSED, answer, why, "an unknown operation");
	if (req[6] != 0 || req[7] != 0)
		return status(BD_KEYPROC_REFUSED, answer, why, "a request with non-zero padding");
	if (parse_header(req + 12, &h) < 0)
		return status(BD_KEYPROC_REFUSED, answer, why, "a header that does not parse");
	if (h.kind != BD_SEALED_MANIFEST && h.kind != BD_SEALED_REQUEST)
		return status(BD_KEYPROC_REFUSED, answer, why, "a header of an unknown kind");
	if (req[5] != h.gateway_key_id)
		return status(BD_KEYPROC_REFUSED, answer, why, "a key id that is not the header's");
	if (bd_keyring_gateway_secret(kr, h.gateway_key_id) == NULL)
		return status(BD_KEYPROC_NO_KEY, answer, NULL, NULL);
	keys = bd_package_keys_alloc();
	rc = bd_keyring_open_server_key(kr, h.gateway_key_id, req + 12, BD_MANIFEST_HEADER_BYTES,
	                                h.sealed_server_key, keys, &perr);
	if (rc == 0)
		memcpy(answer + 12, keys->server_key, BD_SERVER_KEY_BYTES);
	bd_package_keys_free(&keys);
	return status(rc == 0 ? BD_KEYPROC_OPENED : BD_KEYPROC_NO_OPEN, answer, NULL, NULL);
}

int bd_keyproc_hello(int fd, const struct bd_error *err)
{
	uint8_t msg[HELLO_BYTES] = {0};
	size_t len = 8;

	memcpy(msg, hello_magic, sizeof(hello_magic));
	if (err != NULL) {
		size_t n = strnlen(err->msg, BD_ERROR_MAX - 1);

		msg[4] = (uint8_t)(err->code != BD_OK ? err->code : BD_E_KEY);
		memcpy(msg + 8, err->msg, n);
		len += n;
	}
	return send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* ---- the asking side ------------------------------------------------------------------------- */

struct bd_keyproc {
	pthread_mutex_t lock; /* one request in flight */
	int fd;
	pid_t pid;
	unsigned timeout_ms;
	uint32_t seq;
	int dead; /* atomic: hung up, or out of step */
};

void bd_keyproc_request_encode(unsigned id, uint32_t seq,
                               const uint8_t header[BD_MANIFEST_HEADER_BYTES],
                               uint8_t out[BD_KEYPROC_REQUEST_BYTES])
{
	memcpy(out, magic, sizeof(magic));
	out[4] = OP_OPEN;
	out[5] = (uint8_t)id;
	out[6] = out[7] = 0;
	put_u32(out + 8, seq);
	memcpy(out + 12, header, BD_MANIFEST_HEADER_BYTES);
}

/* Receive one message into BUF within the client's timeout: its length, 0 at hang-up, -1. */
static ssize_t recv_within(int fd, uint8_t *buf, size_t size, unsigned timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	for (;;) {
		int r = poll(&p, 1, (int)timeout_ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = recv(fd, buf, size, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

static int died(struct bd_keyproc *kp, struct bd_error *err, const char *what)
{
	__atomic_store_n(&kp->dead, 1, __ATOMIC_RELEASE);
	return bd_error_set(err, BD_E_TEMP, "the key process (pid %ld) %s", (long)kp->pid, what);
}

static int remote_open(void *ctx, unsigned id, const uint8_t *header, size_t headerlen,
                       const uint8_t sealed[BD_SEALED_SERVER_KEY_BYTES],
                       struct bd_package_keys *keys, struct bd_error *err)
{
	struct bd_keyproc *kp = ctx;
	uint8_t req[BD_KEYPROC_REQUEST_BYTES], ans[BD_KEYPROC_ANSWER_BYTES + 1];
	struct bd_manifest_header h;
	ssize_t n;
	int rc = -1;

	/* The key process opens what the header holds: it must be what the caller means. */
	if (headerlen != BD_MANIFEST_HEADER_BYTES || parse_header(header, &h) < 0 ||
	    h.gateway_key_id != id ||
	    memcmp(h.sealed_server_key, sealed, BD_SEALED_SERVER_KEY_BYTES) != 0)
		return bd_error_set(err, BD_E_CRYPTO, "not a sealed object's header");
	pthread_mutex_lock(&kp->lock);
	if (__atomic_load_n(&kp->dead, __ATOMIC_ACQUIRE)) {
		bd_error_set(err, BD_E_TEMP, "the key process (pid %ld) is not running",
		             (long)kp->pid);
		goto out;
	}
	bd_keyproc_request_encode(id, ++kp->seq, header, req);
	do
		n = send(kp->fd, req, sizeof(req), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(req)) {
		died(kp, err, "cannot be reached");
		goto out;
	}
	n = recv_within(kp->fd, ans, sizeof(ans), kp->timeout_ms);
	if (n == 0) {
		died(kp, err, "hung up");
		goto out;
	}
	if (n != BD_KEYPROC_ANSWER_BYTES || memcmp(ans, magic, sizeof(magic)) != 0 ||
	    get_u32(ans + 8) != kp->seq) {
		died(kp, err, n < 0 ? "did not answer in time" : "answered out of step");
		goto out;
	}
	switch (ans[4]) {
	case BD_KEYPROC_OPENED:
		memcpy(keys->server_key, ans + 12, BD_SERVER_KEY_BYTES);
		rc = 0;
		break;
	case BD_KEYPROC_NO_KEY:
		bd_error_set(err, BD_E_KEY, "gateway key %u is not available", id);
		break;
	case BD_KEYPROC_NO_OPEN:
		bd_error_set(err, BD_E_CRYPTO,
		             "the sealed server key does not open with this gateway key");
		break;
	default: bd_error_set(err, BD_E_CRYPTO, "the key process refused the request");
	}
out:
	pthread_mutex_unlock(&kp->lock);
	sodium_memzero(ans, sizeof(ans));
	return rc;
}

static void remote_close(void *ctx)
{
	struct bd_keyproc *kp = ctx;

	close(kp->fd);
	/* It leaves at the hang-up; a stopped or stuck one must not hold us up. */
	if (kp->pid > 0 && waitpid(kp->pid, NULL, WNOHANG) == 0) {
		kill(kp->pid, SIGKILL);
		waitpid(kp->pid, NULL, 0);
	}
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

static const struct bd_key_opener remote_opener = {remote_open, remote_close};

struct bd_keyproc *bd_keyproc_connect(struct bd_keyring *kr, int fd, pid_t pid, unsigned timeout_ms,
                                      struct bd_error *err)
{
	struct bd_keyproc *kp = bd_calloc(1, sizeof(*kp));
	uint8_t hello[HELLO_BYTES + 1];
	ssize_t n;

	pthread_mutex_init(&kp->lock, NULL);
	kp->fd = fd;
	kp->pid = pid;
	kp->timeout_ms = timeout_ms;
	n = recv_within(fd, hello, sizeof(hello), timeout_ms);
	if (n < 8 || n > HELLO_BYTES || memcmp(hello, hello_magic, sizeof(hello_magic)) != 0) {
		bd_error_set(err, BD_E_KEY, "the key process (pid %ld) %s", (long)pid,
		             n < 0 ? "did not start in time" : "ended before it was ready");
		remote_close(kp);
		return NULL;
	}
	if (hello[4] != BD_OK) {
		bd_error_set(err, hello[4], "%.*s", (int)(n - 8), (const char *)hello + 8);
		remote_close(kp);
		return NULL;
	}
	bd_keyring_set_opener(kr, &remote_opener, kp);
	return kp;
}

int bd_keyproc_alive(struct bd_keyproc *kp)
{
	struct pollfd p = {.fd = kp->fd, .events = POLLRDHUP};

	if (__atomic_load_n(&kp->dead, __ATOMIC_ACQUIRE))
		return 0;
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
		__atomic_store_n(&kp->dead, 1, __ATOMIC_RELEASE);
		return 0;
	}
	return 1;
}

pid_t bd_keyproc_pid(const struct bd_keyproc *kp)
{
	return kp->pid;
}
