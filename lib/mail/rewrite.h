/*
 * rewrite.h - the rewrite engine: attachments out, notice in.
 *
 * One message in (a seekable spool), the policy applied to every part, each
 * part that goes decoded, encrypted and stored (in parallel), the manifest
 * stored, the link formed, the notice put into every body text part. The
 * message changes only after every upload is confirmed; any failure returns
 * -1 and deletes what this message already stored. The milter and
 * `bestanden rewrite` run exactly this code.
 *
 * Ownership: struct bd_rewrite borrows CONF, KEYS and STORE (they must
 * outlive it) and is read-only afterwards, so threads may share it. A result
 * belongs to the caller (bd_rewrite_result_free) and holds a duplicate of the
 * spool descriptor until it is freed (parts are read from the spool when the
 * output is written): the spool's content must not change meanwhile.
 * The engine reads the spool with pread(2) only (see mimestream.h), so it
 * never moves the caller's file offset. Memory does not grow with attachment
 * size; body text parts that get the notice are rewritten in memory.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_REWRITE_H
#define BD_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "envelope.h"
#include "error.h"
#include "io.h"
#include "keys.h"
#include "package.h"
#include "store.h"

struct bd_rewrite;

/* True for the top-level headers a rewrite may change: MIME-Version and every
 * Content-* header (a replaced part's Content-ID, -Location, -MD5 ... go). The
 * only statement of that rule; the milter counts these headers' copies. */
bool bd_rewrite_header_may_change(const char *name);

/* One line of `bestanden rewrite --explain`; nothing secret in here. */
struct bd_rewrite_part {
	char *path; /* "1", "1.2", "1.2.3" (gmime's part numbering, 1-based); "1.2/1": a file inside
	               the winmail.dat 1.2 */
	char content_type[128];
	char *filename; /* sanitised name the part is listed under, or NULL */
	uint64_t size;  /* decoded bytes (SEND and size-checked parts), else 0 */
	bool raw;       /* goes as its raw bytes: its transfer encoding yielded nothing */
	enum bd_rewrite_action action;
	const char *reason; /* static text */
	char *rule;         /* the [rule NAME] that decided an attachment, or NULL */
	char *rule_why;     /* which of its conditions held, or NULL */
};

/* A header of the top-level entity to change: VALUE NULL deletes it. */
struct bd_rewrite_header {
	char *name;
	char *value; /* unfolded, one line */
};

struct bd_rewrite_result {
	bool changed;   /* false: pass the message on as it came (or refuse it) */
	bool malformed; /* the MIME structure was flagged: unchanged or refused */
	/* Refuse the message for good (SMTP 550 with this enhanced status code and
	 * text, for the sender): never set together with changed. */
	bool refused;
	/* Hold the message back (SMTP 451): a rule says tempfail. Never with changed
	 * or refused; the status and text below are for it too. */
	bool tempfail;
	const char *refusal_status; /* "5.6.0"; static, or the rule's in the engine's CONF */
	const char *refusal_text;   /* one line; static, or the rule's in the engine's CONF */
	/* The [rule NAME] that decided the message and its action, "" when no rules are set. */
	char rule[64];
	const char *rule_action; /* "pass", "replace", "block", "tempfail"; NULL without rules */
	char reason[256];     /* why unchanged or refused, or a summary; for logs, nothing secret */
	unsigned nfiles;      /* parts stored */
	uint64_t bytes;       /* their decoded size */
	double store_seconds; /* spent encrypting and storing them and the manifest (for logs) */
	char package_id[BD_PACKAGE_ID_HEX]; /* "" when unchanged */
	/* What the package asks of its recipients: the replacing rules', else [recipients];
	 * set when files go (by bd_rewrite_explain too). Nothing secret: CODE only says
	 * whether the envelope's access code protects it. */
	struct bd_rewrite_protection {
		enum bd_conf_verify verify;
		enum bd_conf_receipts receipts;
		uint64_t max_downloads;
		bool code;
		unsigned recipients; /* outside recipients the manifest lists */
	} protection;
	char x_bestanden[96]; /* value for the X-Bestanden header, "" when unchanged */
	/* When changed: the manifest as stored, and when it wants receipts the sender's
	 * management link (<public_url>/m/<token>, a secret: freed wiped), else NULL. A
	 * caller may take either (and set it NULL); bd_rewrite_result_free frees the rest. */
	struct bd_manifest *manifest;
	char *manage_link;
	/* Top-level headers that differ from the original: MIME-Version and the
	 * Content-* headers of the top-level part (a replaced part's go). */
	struct bd_rewrite_header *headers;
	size_t nheaders;
	/* Every part, in document order, with its decision. */
	struct bd_rewrite_part *parts;
	size_t nparts;
	struct bd_rewrite_state *state; /* the parsed message; private */
};

/* Load and check the notice templates; borrow CONF, KEYS and STORE (both may
 * be NULL for an engine that only explains). Call g_mime_init() first. */
struct bd_rewrite *bd_rewrite_new(const struct bd_conf *conf, const struct bd_keyring *keys,
                                  struct bd_store *store, struct bd_error *err);
void bd_rewrite_free(struct bd_rewrite **rw);

/*
 * Rewrite the message in SPOOL_FD (read from offset 0; CRLF or LF; the fd
 * is duplicated, not closed). 0 with *out filled (changed, unchanged or
 * refused), or -1: BD_E_INVALID for malformed MIME under [policy] malformed =
 * tempfail (or an undecodable part under undecodable = tempfail), any other
 * code for a failure to store (the milter tempfails, or accepts the message
 * unchanged under [policy] failure_mode = accept).
 */
int bd_rewrite_message(const struct bd_rewrite *rw, int spool_fd,
                       const struct bd_rewrite_envelope *env, struct bd_rewrite_result **out,
                       struct bd_error *err);

/*
 * The same in two steps, for a caller that puts a deadline on storage.
 * bd_rewrite_begin parses the message and decides every part: local work, no
 * storage and no network. It returns 1 with *out final when nothing is to be
 * stored (unchanged, refused, held back), 0 with *job when files are to be
 * stored, or -1 as above (*out NULL). bd_rewrite_finish stores them and changes
 * the message, returning as bd_rewrite_message does; it frees *job, and *out on
 * failure. ENV must outlive the job.
 */
struct bd_rewrite_job;
int bd_rewrite_begin(const struct bd_rewrite *rw, int spool_fd,
                     const struct bd_rewrite_envelope *env, struct bd_rewrite_result **out,
                     struct bd_rewrite_job **job, struct bd_error *err);
int bd_rewrite_finish(struct bd_rewrite_job **job, struct bd_rewrite_result **out,
                      struct bd_error *err);

/*
 * Classify only (for --explain): the same decisions and sizes, nothing is
 * stored and the message is not changed (result->changed stays false;
 * result->nfiles counts the parts that would go).
 */
int bd_rewrite_explain(const struct bd_rewrite *rw, int spool_fd,
                       const struct bd_rewrite_envelope *env, struct bd_rewrite_result **out,
                       struct bd_error *err);

/* The changed message, with CRLF line ends: whole (with the X-Bestanden
 * header) or only the body (for smfi_replacebody). Only when changed. */
int bd_rewrite_write_message(struct bd_rewrite_result *r, struct bd_sink *out,
                             struct bd_error *err);
int bd_rewrite_write_body(struct bd_rewrite_result *r, struct bd_sink *out, struct bd_error *err);

void bd_rewrite_result_free(struct bd_rewrite_result **r);

#endif
