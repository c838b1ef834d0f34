/*
 * scan.h - virus scanning of a file as it streams, by clamd (INSTREAM).
 *
 * One scan per file: bd_scan_begin connects to clamd's unix socket and
 * starts an INSTREAM session, bd_scan_write hands it each piece of the
 * plaintext as it arrives, bd_scan_end asks for the verdict. Nothing is
 * kept: clamd sees the bytes once, over a local socket. Every call is held
 * to the timeout given at the start.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_SCAN_H
#define BD_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct bd_scan;

/* Connect to the clamd at SOCKET_PATH (a unix socket); NULL with ERR (BD_E_TEMP). */
struct bd_scan *bd_scan_begin(const char *socket_path, unsigned timeout_seconds,
                              struct bd_error *err);
/* More of the file. A clamd that stopped listening is reported by bd_scan_end. */
int bd_scan_write(struct bd_scan *s, const uint8_t *data, size_t len, struct bd_error *err);
/* The verdict: 0 clean; -1 with BD_E_INFECTED and the signature's name in ERR's message;
 * -1 with BD_E_TEMP when clamd failed or did not answer (e.g. past its StreamMaxLength). */
int bd_scan_end(struct bd_scan *s, struct bd_error *err);
void bd_scan_free(struct bd_scan **s);

#endif
