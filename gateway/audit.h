/*
 * audit.h - the audit trail of what happened to each package: page views,
 * downloads, refusals. One JSON object per line in [gateway] audit_log (or
 * to syslog when that is empty), with the package id - never the link - and
 * the client address cut down as [gateway] audit_client_address says, and a
 * recipient's address only when they proved it was theirs.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "error.h"

struct gw_audit;

/* Fields in this order: the features fill it in one line. */
struct gw_audit_event {
	const char *event;   /* page-view, download, download-incomplete, expired, not-found,
	                        rate-limited, download-limit, code-sent, verified,
	                        verification-failed, locked */
	const char *package; /* 16 hex digits, or NULL when the link named no genuine package */
	int file;            /* object number; 0: the zip of all files; -1: none */
	int64_t bytes;       /* body bytes sent; -1: none */
	const char *range;   /* "FIRST-LAST/SIZE" for a partial request, else NULL */
	const char *outcome; /* complete, aborted, failed, shown, refused ... or NULL */
	unsigned status;     /* HTTP status, 0: none */
	const struct sockaddr *client;
	const char *recipient; /* the address a recipient verified, or NULL */
	int retrieved; /* a download's: with it every byte of the file (of each file of the zip)
	                  has reached the person, also through earlier ranges (delivery.h) */
};

/* PATH "" logs to syslog; CLIENT_MODE is full, truncated or none. */
struct gw_audit *gw_audit_open(const char *path, enum bd_audit_address client_mode,
                               struct bd_error *err);
void gw_audit_write(struct gw_audit *a, const struct gw_audit_event *ev);
/* One more owner of A (a reload that keeps the same log: the file stays open, so the
 * daemon's user need not be able to open it again); gw_audit_close lets go of one. */
struct gw_audit *gw_audit_hold(struct gw_audit *a);
/* True when A writes to PATH with CLIENT_MODE. */
int gw_audit_is(const struct gw_audit *a, const char *path, enum bd_audit_address client_mode);
void gw_audit_close(struct gw_audit **a);

/* The client address as logged: "192.0.2.0/24", "2001:db8:1::/48", "" for none. */
void gw_audit_client(const struct sockaddr *sa, enum bd_audit_address mode, char *out, size_t size);

#endif
