/*
 * uploadreq.h - an outgoing mail that asks its recipient to upload files.
 *
 * A staff member marks a mail as an upload request with a subject tag
 * ([requests] subject_tags, any case; removed from the subject) or by adding
 * [requests] address as a recipient (removed from the envelope). Then an
 * upload request is stored (package/upload.h) for the requester - the
 * authenticated sender, else the envelope sender - and the request notice
 * (the "request" templates: link, expiry, limits) goes into the body text
 * parts. The changed message is a new spool that the rewrite engine then
 * takes as usual (attachments out, download notice in); the milter applies
 * what this module changed when the rewrite changes nothing itself.
 * The caller owns the result: bd_uploadreq_free (it deletes nothing stored).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_UPLOADREQ_H
#define BD_UPLOADREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"
#include "io.h"
#include "keys.h"
#include "rewrite.h"
#include "store.h"

struct bd_uploadreq_envelope {
	const char *sender;      /* envelope sender, without brackets */
	const char *auth_authen; /* the {auth_authen} macro, or NULL */
	const char *const *recipients;
	size_t nrecipients;
};

struct bd_uploadreq {
	int fd;                /* the changed message (CRLF), positioned at 0 */
	char *subject;         /* the new Subject header value (tag removed, encoded), or NULL */
	const char *drop_rcpt; /* the recipient to remove (as the MTA gave it), or NULL */
	struct bd_rewrite_header headers[3]; /* top-level MIME headers of the changed message */
	size_t nheaders;
	char request_id[17];
	struct bd_spool *spool;
	void *message; /* the parsed, changed message; private */
};

/* True when SUBJECT (a raw header value, decoded here) or one of the recipients marks an
 * upload request: the cheap test for every message. */
bool bd_uploadreq_wanted(const struct bd_conf_requests *conf, const char *subject,
                         const char *const *recipients, size_t n);
/*
 * Look at the message in FD; not a request: 0 with *OUT NULL. A request: stored,
 * the notice in, 0 with *OUT. -1 with ERR when storing or parsing failed (the
 * request, if stored, is deleted again).
 */
int bd_uploadreq_prepare(const struct bd_conf *conf, const struct bd_keyring *kr,
                         struct bd_store *store, int fd, const struct bd_uploadreq_envelope *env,
                         struct bd_uploadreq **out, struct bd_error *err);
/* The changed message's body (after the header block), CRLF, for smfi_replacebody. */
int bd_uploadreq_write_body(struct bd_uploadreq *rq, struct bd_sink *out, struct bd_error *err);
/* Delete the stored request (the message was not sent after all); when storage
 * fails, queue it in PENDING_DIR (may be NULL) for a retry (pending.h). */
void bd_uploadreq_cancel(struct bd_uploadreq *rq, struct bd_store *store, const char *pending_dir);
void bd_uploadreq_free(struct bd_uploadreq **rq);

#endif
