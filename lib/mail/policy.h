/*
 * policy.h - which messages and which parts leave, and why ([policy] keys).
 *
 * Decisions only: no decoding, no storing. Every decision comes with a short
 * reason in plain words, so `bestanden rewrite --explain` and the logs can
 * say why a part went or stayed. Reasons are static strings.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_POLICY_H
#define BD_POLICY_H

#include <glib.h>
#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "envelope.h"

/* A reason the whole message stays unchanged (envelope and top-level
 * headers: direction, null sender, internal recipients, Auto-Submitted), or NULL.
 * MILTER: only for which recipients are internal (direction.h). */
const char *bd_policy_check_message(const struct bd_conf_policy *policy,
                                    const struct bd_conf_milter *milter,
                                    const struct bd_rewrite_envelope *env, GMimeMessage *msg);

/* A part in the message body that makes the whole message stay unchanged
 * (signed, encrypted, delivery or read report), or NULL. */
const char *bd_policy_check_part(GMimeObject *obj);

/*
 * The decision for one leaf part of the message body (not one inside an
 * attached message). REFERENCED: its Content-ID is the target of a cid: URL
 * in an HTML body part. Returns KEEP, SEND or BODY.
 */
enum bd_rewrite_action bd_policy_decide(const struct bd_conf_policy *policy, GMimeObject *obj,
                                        bool referenced, const char **reason);

/* The size rules for a part that would go: SEND, or KEEP with the reason. */
enum bd_rewrite_action bd_policy_decide_size(const struct bd_conf_policy *policy, uint64_t size,
                                             const char **reason);

/* The raw (decoded, unsanitised) file name of OBJ, or NULL. */
const char *bd_policy_filename(GMimeObject *obj);

/* True for message/rfc822 and its kin, also when gmime kept it as an encoded leaf. */
bool bd_policy_is_attached_message(GMimeObject *obj);

/* Add every Content-ID that a cid: URL in HTML (LEN bytes) names to SET
 * (keys malloc'ed with g_malloc, compared without case). */
void bd_policy_collect_cids(const char *html, size_t len, GHashTable *set);
/* The same for HTML that comes in pieces, in a bounded window: write every
 * piece with bd_policy_cid_scan_write (a struct bd_sink's write, CTX the scan),
 * then bd_policy_cid_scan_end. */
struct bd_cid_scan *bd_policy_cid_scan_new(GHashTable *set);
int bd_policy_cid_scan_write(void *ctx, const uint8_t *buf, size_t len);
void bd_policy_cid_scan_end(struct bd_cid_scan **scan);
/* The normalised Content-ID of OBJ (lower case, no <>), g_malloc'ed, or NULL. */
char *bd_policy_content_id(GMimeObject *obj);

#endif
