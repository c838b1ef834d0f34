/*
 * events.h - what happened to a package, as small objects beside it in storage.
 *
 * Every gateway that serves a package sees the same events, so downloads,
 * verifications and receipts agree behind a load balancer. An event is the
 * object "hex(id)/0e/<16 hex microseconds><8 hex random>" (docs/FORMAT.md,
 * section 11): its name tells storage the package and the time, nothing else;
 * its body is sealed under a key derived from the package's keys, so only the
 * link and the gateway key open it, and it goes with the package (remove.h,
 * sweep.h) and is shredded with the gateway key like the files.
 * Lists are capped (BD_EVENTS_MAX, BD_EVENT_OBJECT_MAX): a hostile store cannot
 * make a caller allocate without bound. Returned arrays are malloc'ed: free().
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_EVENTS_H
#define BD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "package.h"
#include "store.h"

/* The folder of a package's events: "hex(id)/0e/"; no file has this name (file numbers
 * have no leading zero), so no object store sees a file where it needs a folder. */
#define BD_EVENTS_DIR         "0e"
#define BD_EVENTS_MAX         4096 /* events one package may have; more is BD_E_LIMIT */
#define BD_EVENT_OBJECT_MAX   1024 /* bytes of one event object; larger is BD_E_LIMIT */
#define BD_EVENT_WHO_MAX      256
#define BD_EVENT_CLIENT_BYTES 16

enum bd_event_kind {
	BD_EVENT_RANGE = 1,    /* bytes [offset, offset+length) of FILE were sent */
	BD_EVENT_COMPLETE,     /* every byte of FILE has reached WHO (events since the last) */
	BD_EVENT_CODE_SENT,    /* a verification code went to WHO */
	BD_EVENT_VERIFIED,     /* WHO proved who they are */
	BD_EVENT_CODE_FAILED,  /* a wrong code was typed */
	BD_EVENT_LOCKED,       /* too many wrong codes: the client is locked out */
	BD_EVENT_RECEIPT_SENT, /* the sender's receipt for FILE is (being) sent; OFFSET: a random
	                          tag, so concurrent gateways agree which one sends */
	BD_EVENT_EXTENDED,     /* the sender moved the expiry */
	BD_EVENT_MANAGE_VIEWED /* the sender looked at the status page */
};

struct bd_event {
	enum bd_event_kind kind;
	int64_t at;    /* unix seconds; 0 when recording: now */
	unsigned file; /* object number; 0 = none */
	uint64_t offset, length;
	char who[BD_EVENT_WHO_MAX];            /* verified address or "" */
	uint8_t client[BD_EVENT_CLIENT_BYTES]; /* bd_event_client_hash(), or zeros */
};

/* Store EV as a new event of the package KEYS belongs to. */
int bd_events_record(struct bd_store *st, const struct bd_package_keys *keys,
                     const struct bd_event *ev, struct bd_error *err);
/*
 * Every event of the package, oldest first, into *OUT (malloc'ed, free(); NULL when
 * *N is 0). An event that does not open (tampered, moved, another package's) is
 * BD_E_CRYPTO; more than BD_EVENTS_MAX, or an object larger than BD_EVENT_OBJECT_MAX,
 * is BD_E_LIMIT. On failure *OUT is NULL and *N 0.
 */
int bd_events_list(struct bd_store *st, const struct bd_package_keys *keys, struct bd_event **out,
                   size_t *n, struct bd_error *err);
/* A keyed hash of a client ADDRESS (its text form): the same client gives the same
 * hash within one package, and storage cannot tell which address it was. */
void bd_event_client_hash(const struct bd_package_keys *keys, const char *address,
                          uint8_t out[BD_EVENT_CLIENT_BYTES]);

/* "range", "complete", ... for logs and pages; "?" for no kind. */
const char *bd_event_kind_name(enum bd_event_kind kind);
/* Events of KIND for FILE (0: any file) in EV[0..N), and for WHO when WHO is not NULL. */
size_t bd_events_count(const struct bd_event *ev, size_t n, enum bd_event_kind kind, unsigned file,
                       const char *who);
/*
 * True when the RANGE events of FILE for WHO recorded after WHO's last COMPLETE of
 * FILE cover all SIZE bytes together: a file counts as downloaded only then (one
 * response, or several ranges; a 10-byte range is not a download).
 */
int bd_events_covered(const struct bd_event *ev, size_t n, unsigned file, const char *who,
                      uint64_t size);

#endif
