/*
 * rules.h - the [rule NAME] sections applied to a message and its attachments.
 *
 * The [policy] switches decide which parts are attachments at all; the rules
 * (conf->rules, read and checked by lib/conf) decide what becomes of each: the
 * first rule whose conditions all hold. bd_rules_match() is the matcher on facts
 * already gathered; bd_rules_decide() gathers them from a parsed message (the
 * Subject, the text parts for a BSN or IBAN, each attachment's first bytes)
 * only as far as some rule asks, and says what the whole message comes to:
 * block before tempfail before replace before pass.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_RULES_H
#define BD_RULES_H

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "envelope.h"
#include "sniff.h"

/* How much of each text part is searched for a BSN or IBAN, and of all together. */
#define BD_RULES_SCAN_PART  (1024 * 1024)
#define BD_RULES_SCAN_TOTAL (4 * 1024 * 1024)

/* The message as the rules see it. */
struct bd_rules_message {
	bool outgoing;
	const char *sender; /* address, or NULL when unknown */
	const char *const *recipients;
	size_t nrecipients;
	unsigned nattachments;
	uint64_t total;      /* decoded bytes of the attachments */
	bool upload_request; /* the Subject carries a [requests] subject_tags tag */
	unsigned sensitive;  /* enum bd_rule_sensitive bits found in the text parts */
};

/* One attachment as the rules see it. */
struct bd_rules_part {
	const char *extension;            /* of its file name, lower case, or NULL */
	const char *declared;             /* its Content-Type, lower case, or NULL */
	const struct bd_sniffed *sniffed; /* from its first bytes, or NULL */
	uint64_t size;
};

/*
 * The first rule of CONF that holds for message M and attachment P (NULL: the
 * message has no attachments, and rules with attachment conditions do not
 * hold), or NULL when there are no rules. WHY gets what held, for people.
 */
const struct bd_conf_rule *bd_rules_match(const struct bd_conf *conf,
                                          const struct bd_rules_message *m,
                                          const struct bd_rules_part *p, char *why, size_t size);

/* A leaf part of the message, for bd_rules_decide. */
struct bd_rules_item {
	GMimeObject *obj;
	bool attachment; /* the [policy] switches would send it */
	uint64_t size;   /* decoded bytes, for an attachment */
	/* out, for an attachment */
	const struct bd_conf_rule *rule;
	char why[256];
};

/* What the rules make of the whole message. */
struct bd_rules_verdict {
	enum bd_rule_action action;
	const struct bd_conf_rule *rule; /* the one that decided it */
	uint64_t retention;              /* replace: the shortest of the replacing rules' */
	/* replace: the strictest protection of the replacing rules (each rule's own, else
	 * [recipients]); false when no replace rule matched */
	bool protection;
	enum bd_conf_verify verify;
	enum bd_conf_receipts receipts;
	uint64_t max_downloads; /* the smallest limit; 0: none */
	char why[256];          /* the deciding rule's WHY */
};

/*
 * Match every attachment among ITEMS[0..N) of MSG (sent with ENV) against the
 * rules of CONF, which has some. A part that cannot be read is sniffed and
 * scanned as far as it can be (its upload would fail later, and say so).
 */
void bd_rules_decide(const struct bd_conf *conf, const struct bd_rewrite_envelope *env,
                     GMimeMessage *msg, struct bd_rules_item *items, size_t n,
                     struct bd_rules_verdict *verdict);

const char *bd_rules_action_name(enum bd_rule_action a);

/* What the sending client hears from a block (5.7.x) or tempfail (4.7.1) rule R: the
 * enhanced status code and the text (its reject_text, or a default fit for the action). */
const char *bd_rules_answer_code(const struct bd_conf_rule *r);
const char *bd_rules_answer_text(const struct bd_conf_rule *r);

#endif
