/*
 * envelope.h - what the MTA tells about a message, and what may become of a part.
 *
 * The words the mail layer's modules share: the policy decides actions, the
 * attachment uploader reports progress through the envelope, the rewrite
 * engine drives both. Kept apart so that none of them includes another's
 * header only for these types.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_ENVELOPE_H
#define BD_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* What the MTA knows about the message; the policy needs it. */
struct bd_rewrite_envelope {
	/* Envelope sender: "" (or "<>") is the null sender; NULL means unknown,
	 * and then a Return-Path header, if present, stands in for it. */
	const char *sender;
	const char *const *recipients; /* may be NULL when nrecipients is 0 */
	size_t nrecipients;
	bool outgoing; /* see direction.h; [policy] outgoing_only skips the rest */
	time_t now;    /* 0: the current time */
	/* Called from the calling thread at least every few seconds while uploads
	 * run (the milter sends smfi_progress); NULL for none. */
	void (*progress)(void *ctx);
	void *progress_ctx;
	/* The message asks for an upload (uploadreq.h): its tag or address was taken out
	 * before the rewrite sees it. A rule's upload_request condition holds then too. */
	bool upload_request;
	/* The sender's access code from the Subject's tag (codetag.h), normalised, or NULL.
	 * A secret: the rewrite stores only its hash in the manifest, and logs nothing of it. */
	const char *access_code;
};

enum bd_rewrite_action {
	BD_REWRITE_KEEP,      /* the part stays as it is */
	BD_REWRITE_SEND,      /* the part leaves the message (stored, listed in the notice) */
	BD_REWRITE_BODY,      /* a text/plain or text/html body part: the notice goes in */
	BD_REWRITE_CONTAINER, /* a multipart: its children are decided one by one */
};

const char *bd_rewrite_action_name(enum bd_rewrite_action a);

#endif
