/*
 * keyproc.h - sealed server keys opened by another process.
 *
 * The gateway keeps its X25519 secret keys in a key process of their own
 * (gateway/keyproc.c): the process that parses HTTP never holds them. The two
 * share one SOCK_SEQPACKET socketpair and one kind of request, "open the
 * sealed server key in this clear header with gateway key N"; the answer is
 * the opened server key, or a refusal. The key process checks every request
 * (bd_keyproc_answer) and answers anything malformed with a refusal; the
 * client (bd_keyproc_connect) keeps one request in flight under a mutex and
 * is a keyring's opener (keys.h), so bd_manifest_open and bd_request_open
 * work unchanged. Wire layout: docs/ARCHITECTURE.md, "The gateway's processes".
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_KEYPROC_H
#define BD_KEYPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "keys.h"
#include "manifest.h"

/* magic "BDKP", op, key id, two zero bytes, u32 sequence, then the clear header */
#define BD_KEYPROC_REQUEST_BYTES (12 + BD_MANIFEST_HEADER_BYTES)
/* magic "BDKP", status, three zero bytes, u32 sequence, the server key (zero unless opened) */
#define BD_KEYPROC_ANSWER_BYTES (12 + BD_SERVER_KEY_BYTES)

enum bd_keyproc_status {
	BD_KEYPROC_OPENED = 0,
	BD_KEYPROC_REFUSED = 1, /* malformed request: not answered */
	BD_KEYPROC_NO_KEY = 2,  /* the key id is not loaded (removed: shredded) */
	BD_KEYPROC_NO_OPEN = 3, /* the sealed server key does not open with it */
};

/* ---- the key process's side ---- */

/*
 * Answer one request REQ of REQLEN bytes with KR's secret keys: fills ANSWER
 * (always BD_KEYPROC_ANSWER_BYTES) and returns its status. A request is
 * accepted only when it is exactly BD_KEYPROC_REQUEST_BYTES long, has the
 * magic, the one operation and zero padding, its header parses
 * (bd_manifest_parse_header) as a manifest's or an upload request's, and its
 * key id is the header's. WHY (may be NULL) says what was refused, for the
 * log; it never holds key material.
 */
enum bd_keyproc_status bd_keyproc_answer(const struct bd_keyring *kr, const uint8_t *req,
                                         size_t reqlen, uint8_t answer[BD_KEYPROC_ANSWER_BYTES],
                                         struct bd_error *why);

/* The first message on FD: ready (ERR NULL), or why the keys did not load. */
int bd_keyproc_hello(int fd, const struct bd_error *err);

/* ---- the asking side ---- */

/* One request, as bd_keyproc_connect's client sends it (tests build their own). */
void bd_keyproc_request_encode(unsigned id, uint32_t seq,
                               const uint8_t header[BD_MANIFEST_HEADER_BYTES],
                               uint8_t out[BD_KEYPROC_REQUEST_BYTES]);

struct bd_keyproc;

/*
 * Wait up to TIMEOUT_MS for the hello of the key process PID on FD (a
 * SOCK_SEQPACKET socket), then make it KR's opener: the keyring owns FD from
 * here, and at bd_keyring_free closes it, ends PID and reaps it. NULL with ERR
 * (the key process's own error when it said why) and FD closed on failure.
 * Each open waits at most TIMEOUT_MS; a key process that does not answer in
 * time, or hangs up, is dead from then on: opens fail with BD_E_TEMP.
 */
struct bd_keyproc *bd_keyproc_connect(struct bd_keyring *kr, int fd, pid_t pid, unsigned timeout_ms,
                                      struct bd_error *err);
/* Whether the key process still answers: not hung up, no failed exchange. */
int bd_keyproc_alive(struct bd_keyproc *kp);
pid_t bd_keyproc_pid(const struct bd_keyproc *kp);

#endif
