/*
 * rules.c - matching the [rule NAME] sections, first match wins.
 *
 * The rules arrive typed (lib/conf); here they meet the message. Facts that
 * cost something to learn (the Subject's tags, a BSN or IBAN in the text, an
 * attachment's first bytes) are gathered only when a rule asks for them, and
 * every match says in plain words which conditions held.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "rules.h"
#include "attachment.h"
#include "direction.h"
#include "format.h"
#include "mem.h"
#include "policy.h"
#include "sensitive.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bd_rules_action_name(enum bd_rule_action a)
{
	switch (a) {
	case BD_RULE_PASS: return "pass";
	case BD_RULE_REPLACE: return "replace";
	case BD_RULE_BLOCK: return "block";
	case BD_RULE_TEMPFAIL: return "tempfail";
	}
	return "?";
}

const char *bd_rules_answer_code(const struct bd_conf_rule *r)
{
	return r->action == BD_RULE_BLOCK ? r->reject_code : "4.7.1";
}

const char *bd_rules_answer_text(const struct bd_conf_rule *r)
{
	if (r->action == BD_RULE_TEMPFAIL && !bd_conf_rule_has(r, BD_RULE_KEY_REJECT_TEXT))
		return "This message is held back by the policy of your organisation; it will be "
		       "tried again later";
	return r->reject_text;
}

/* The reasons a rule matched, "; "-separated. */
struct why {
	char *buf;
	size_t size, used;
};

static void say(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct why *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->used + 3 >= w->size)
		return;
	if (w->used > 0) {
		memcpy(w->buf + w->used, "; ", 3);
		w->used += 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->used, w->size - w->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->used += (size_t)n < w->size - w->used ? (size_t)n : w->size - w->used - 1;
}

/* An address pattern (with '@') against the whole address, a domain pattern against its domain. */
static bool address_matches(const char *pattern, const char *address)
{
	const char *at = strrchr(address, '@');

	if (strchr(pattern, '@') != NULL)
		return fnmatch(pattern, address, FNM_CASEFOLD) == 0;
	return at != NULL && fnmatch(pattern, at + 1, FNM_CASEFOLD) == 0;
}

static const char *matching_pattern(const struct bd_strlist *patterns, const char *address)
{
	for (size_t i = 0; i < patterns->n; i++)
		if (address_matches(patterns->v[i], address))
			return patterns->v[i];
	return NULL;
}

/* ADDRESS without angle brackets and white space, into BUF. */
static const char *bare(const char *address, char *buf, size_t size)
{
	size_t n;

	address += strspn(address, " \t<");
	n = strcspn(address, ">");
	while (n > 0 && (address[n - 1] == ' ' || address[n - 1] == '\t'))
		n--;
	snprintf(buf, size, "%.*s", (int)n, address);
	return buf;
}

static bool every_recipient_matches(const struct bd_strlist *patterns,
                                    const struct bd_rules_message *m)
{
	for (size_t i = 0; i < m->nrecipients; i++) {
		char a[512];

		if (matching_pattern(patterns, bare(m->recipients[i], a, sizeof(a))) == NULL)
			return false;
	}
	return m->nrecipients > 0;
}

/* Whether the recipients are external as the rule asks, with direction.c's rules. */
static bool external_holds(const struct bd_conf *conf, enum bd_rule_external want,
                           const struct bd_rules_message *m)
{
	size_t external = 0;

	if (want == BD_RULE_EXTERNAL_SOME)
		return bd_recipients_any_external(&conf->milter, m->recipients, m->nrecipients);
	for (size_t i = 0; i < m->nrecipients; i++)
		external += !bd_recipient_is_internal(&conf->milter, m->recipients[i]);
	if (m->nrecipients == 0)
		return false;
	return want == BD_RULE_EXTERNAL_ALL ? external == m->nrecipients : external == 0;
}

static bool in_list(const struct bd_strlist *list, const char *s)
{
	return s != NULL && bd_strlist_contains(list, s);
}

static bool type_holds(const struct bd_conf_rule *r, const struct bd_rules_part *p, struct why *w)
{
	unsigned kinds =
	        bd_sniff_extension_kind(p->extension) | (p->sniffed ? p->sniffed->kind : 0);

	for (size_t k = 0; bd_conf_rule_kind_names[k] != NULL; k++)
		if ((r->kinds & kinds & (1u << k)) != 0) {
			say(w, "type %s (%s)", bd_conf_rule_kind_names[k],
			    p->sniffed && (p->sniffed->kind & (1u << k)) ? p->sniffed->what
			                                                 : "by its extension");
			return true;
		}
	for (size_t i = 0; i < r->types.n; i++) {
		if (p->declared != NULL && fnmatch(r->types.v[i], p->declared, 0) == 0) {
			say(w, "type %s (declared)", p->declared);
			return true;
		}
		if (p->sniffed != NULL && fnmatch(r->types.v[i], p->sniffed->type, 0) == 0) {
			say(w, "type %s (sniffed: %s)", p->sniffed->type, p->sniffed->what);
			return true;
		}
	}
	return false;
}

static bool extension_holds(const struct bd_conf_rule *r, const struct bd_rules_part *p,
                            struct why *w)
{
	if (in_list(&r->extensions, p->extension)) {
		say(w, "extension .%s", p->extension);
		return true;
	}
	if (p->sniffed != NULL && in_list(&r->extensions, p->sniffed->extension)) {
		say(w, "extension .%s (sniffed: %s%s%s)", p->sniffed->extension, p->sniffed->what,
		    p->extension ? ", named ." : "", p->extension ? p->extension : "");
		return true;
	}
	return false;
}

static bool at_least(uint64_t v, uint64_t min, const char *what, struct why *w)
{
	char a[32], b[32];

	if (v < min)
		return false;
	bd_format_size("en", v, a, sizeof(a));
	bd_format_size("en", min, b, sizeof(b));
	say(w, "%s %s >= %s", what, a, b);
	return true;
}

static bool at_most(uint64_t v, uint64_t max, const char *what, struct why *w)
{
	char a[32], b[32];

	if (v > max)
		return false;
	bd_format_size("en", v, a, sizeof(a));
	bd_format_size("en", max, b, sizeof(b));
	say(w, "%s %s <= %s", what, a, b);
	return true;
}

/* Whether condition ID of R holds; says so in W. */
static bool holds(const struct bd_conf *conf, const struct bd_conf_rule *r, enum bd_rule_key_id id,
                  const struct bd_rules_message *m, const struct bd_rules_part *p, struct why *w)
{
	const char *pat;
	char a[512];

	switch (id) {
	case BD_RULE_KEY_DIRECTION:
		if ((r->direction == BD_RULE_OUTGOING) != m->outgoing)
			return false;
		say(w, "%s", m->outgoing ? "outgoing" : "inbound");
		return true;
	case BD_RULE_KEY_SENDER:
		if (m->sender == NULL ||
		    (pat = matching_pattern(&r->senders, bare(m->sender, a, sizeof(a)))) == NULL)
			return false;
		say(w, "sender %s matches %s", a, pat);
		return true;
	case BD_RULE_KEY_RECIPIENT:
		if (!every_recipient_matches(&r->recipients, m))
			return false;
		say(w, "every recipient matches recipient");
		return true;
	case BD_RULE_KEY_EXTERNAL:
		if (!external_holds(conf, r->external, m))
			return false;
		say(w, "%s of the recipients external",
		    r->external == BD_RULE_EXTERNAL_SOME  ? "some"
		    : r->external == BD_RULE_EXTERNAL_ALL ? "all"
		                                          : "none");
		return true;
	case BD_RULE_KEY_MIN_ATTACHMENTS:
	case BD_RULE_KEY_MAX_ATTACHMENTS:
		if (id == BD_RULE_KEY_MIN_ATTACHMENTS ? m->nattachments < r->min_attachments
		                                      : m->nattachments > r->max_attachments)
			return false;
		say(w, "%u attachment%s", m->nattachments, m->nattachments == 1 ? "" : "s");
		return true;
	case BD_RULE_KEY_MIN_SIZE: return p != NULL && at_least(p->size, r->min_size, "size", w);
	case BD_RULE_KEY_MAX_SIZE: return p != NULL && at_most(p->size, r->max_size, "size", w);
	case BD_RULE_KEY_MIN_TOTAL_SIZE:
		return at_least(m->total, r->min_total_size, "all attachments", w);
	case BD_RULE_KEY_MAX_TOTAL_SIZE:
		return at_most(m->total, r->max_total_size, "all attachments", w);
	case BD_RULE_KEY_TYPE: return p != NULL && type_holds(r, p, w);
	case BD_RULE_KEY_EXTENSION: return p != NULL && extension_holds(r, p, w);
	case BD_RULE_KEY_UPLOAD_REQUEST:
		if (m->upload_request != r->upload_request)
			return false;
		say(w, "%s upload-request tag in the Subject", m->upload_request ? "an" : "no");
		return true;
	case BD_RULE_KEY_SENSITIVE:
		if ((m->sensitive & r->sensitive) == 0)
			return false;
		say(w, "the text carries %s",
		    (m->sensitive & r->sensitive & BD_SENSITIVE_BSN) ? "a BSN (11-check)"
		                                                     : "an IBAN (mod 97)");
		return true;
	default: return true;
	}
}

const struct bd_conf_rule *bd_rules_match(const struct bd_conf *conf,
                                          const struct bd_rules_message *m,
                                          const struct bd_rules_part *p, char *why, size_t size)
{
	for (size_t i = 0; i < conf->rules.n; i++) {
		const struct bd_conf_rule *r = &conf->rules.v[i];
		struct why w = {why, size, 0};
		bool all = true;

		why[0] = '\0';
		for (unsigned id = 0; id < BD_RULE_KEY_ACTION && all; id++)
			if (bd_conf_rule_has(r, (enum bd_rule_key_id)id))
				all = holds(conf, r, (enum bd_rule_key_id)id, m, p, &w);
		if (!all)
			continue;
		if (w.used == 0)
			say(&w, "the default: no conditions");
		return r;
	}
	if (size > 0)
		why[0] = '\0';
	return NULL;
}

/* ---- gathering the facts ---- */

/* Up to CAP decoded bytes from the start of leaf OBJ into BUF; how many. */
static size_t first_bytes(GMimeObject *obj, uint8_t *buf, size_t cap)
{
	struct bd_attachment_content c = {.obj = obj};
	struct bd_fixed_sink b;

	bd_fixed_sink_init(&b, buf, cap);
	if (cap > 0)
		(void)bd_attachment_copy(&c, &b.sink, NULL); /* stopped early, or what there was */
	return b.len;
}

static bool subject_tagged(const struct bd_conf *conf, GMimeMessage *msg)
{
	const char *subject = g_mime_message_get_subject(msg);
	char *low;
	bool found = false;

	if (subject == NULL)
		return false;
	low = g_ascii_strdown(subject, -1);
	for (size_t i = 0; i < conf->requests.subject_tags.n && !found; i++) {
		char *tag = g_ascii_strdown(conf->requests.subject_tags.v[i], -1);

		found = strstr(low, tag) != NULL;
		g_free(tag);
	}
	g_free(low);
	return found;
}

static bool is_text(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return GMIME_IS_PART(obj) && ct != NULL && g_mime_content_type_is_type(ct, "text", "*");
}

/* The WANT kinds of number found in the text parts among ITEMS, within the scan bounds. */
static unsigned scan_texts(const struct bd_rules_item *items, size_t n, unsigned want)
{
	uint8_t *buf = bd_malloc(BD_RULES_SCAN_PART);
	size_t left = BD_RULES_SCAN_TOTAL;
	unsigned found = 0;

	for (size_t i = 0; i < n && left > 0 && found != want; i++) {
		size_t len;

		if (!is_text(items[i].obj))
			continue;
		len = first_bytes(items[i].obj, buf,
		                  left < BD_RULES_SCAN_PART ? left : BD_RULES_SCAN_PART);
		left -= len;
		found |= bd_sensitive_scan((const char *)buf, len, want);
	}
	free(buf);
	return found;
}

static const char *sender_of(const struct bd_rewrite_envelope *env, GMimeMessage *msg)
{
	InternetAddressList *from;

	if (env->sender != NULL)
		return env->sender;
	from = g_mime_message_get_from(msg);
	if (from != NULL && internet_address_list_length(from) > 0) {
		InternetAddress *a = internet_address_list_get_address(from, 0);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
	}
	return NULL;
}

/* The lower-case extension of OBJ's file name into BUF, or NULL. */
static const char *extension_of(GMimeObject *obj, char *buf, size_t size)
{
	const char *name = bd_policy_filename(obj);
	const char *dot = name ? strrchr(name, '.') : NULL;
	size_t i;

	if (dot == NULL || dot[1] == '\0')
		return NULL;
	for (i = 0; dot[1 + i] != '\0' && i + 1 < size; i++)
		buf[i] = g_ascii_tolower(dot[1 + i]);
	buf[i] = '\0';
	return buf;
}

static int rank(enum bd_rule_action a)
{
	switch (a) {
	case BD_RULE_BLOCK: return 3;
	case BD_RULE_TEMPFAIL: return 2;
	case BD_RULE_REPLACE: return 1;
	case BD_RULE_PASS: return 0;
	}
	return 0;
}

/* The protection of replace rule R (its own keys, else [recipients]) joins V's: the stricter
 * of each, so a file a strict rule replaced is never served more loosely. */
static void weigh_protection(const struct bd_conf_recipients *defaults, struct bd_rules_verdict *v,
                             const struct bd_conf_rule *r)
{
	enum bd_conf_verify verify =
	        bd_conf_rule_has(r, BD_RULE_KEY_VERIFY) ? r->verify : defaults->verify;
	enum bd_conf_receipts receipts =
	        bd_conf_rule_has(r, BD_RULE_KEY_RECEIPTS) ? r->receipts : defaults->receipts;
	uint64_t max = bd_conf_rule_has(r, BD_RULE_KEY_MAX_DOWNLOADS) ? r->max_downloads
	                                                              : defaults->max_downloads;

	if (!v->protection || verify > v->verify)
		v->verify = verify;
	if (!v->protection || receipts > v->receipts)
		v->receipts = receipts;
	if (!v->protection || (max != 0 && (v->max_downloads == 0 || max < v->max_downloads)))
		v->max_downloads = max;
	v->protection = true;
}

/* The message's verdict with one more matched rule R. */
static void weigh(const struct bd_conf *conf, struct bd_rules_verdict *v,
                  const struct bd_conf_rule *r, const char *why)
{
	uint64_t retention;

	if (r == NULL)
		return;
	if (v->rule == NULL || rank(r->action) > rank(v->action)) {
		v->rule = r;
		v->action = r->action;
		snprintf(v->why, sizeof(v->why), "%s", why);
	}
	if (r->action != BD_RULE_REPLACE)
		return;
	retention =
	        bd_conf_rule_has(r, BD_RULE_KEY_RETENTION) ? r->retention : conf->policy.retention;
	if (v->retention == 0 || retention < v->retention)
		v->retention = retention;
	weigh_protection(&conf->recipients, v, r);
}

void bd_rules_decide(const struct bd_conf *conf, const struct bd_rewrite_envelope *env,
                     GMimeMessage *msg, struct bd_rules_item *items, size_t n,
                     struct bd_rules_verdict *verdict)
{
	struct bd_rules_message m = {.outgoing = env->outgoing,
	                             .sender = sender_of(env, msg),
	                             .recipients = env->recipients,
	                             .nrecipients = env->nrecipients};
	uint64_t asked = 0;
	unsigned want = 0;
	uint8_t *head = NULL;
	char why[256];

	memset(verdict, 0, sizeof(*verdict));
	for (size_t i = 0; i < conf->rules.n; i++) {
		asked |= conf->rules.v[i].set;
		want |= conf->rules.v[i].sensitive;
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].attachment) {
			m.nattachments++;
			m.total += items[i].size;
		}
	if (asked & (1ULL << BD_RULE_KEY_UPLOAD_REQUEST))
		m.upload_request =
		        (env != NULL && env->upload_request) || subject_tagged(conf, msg);
	if (want != 0)
		m.sensitive = scan_texts(items, n, want);
	if (asked & ((1ULL << BD_RULE_KEY_TYPE) | (1ULL << BD_RULE_KEY_EXTENSION)))
		head = bd_malloc(BD_SNIFF_BYTES);
	for (size_t i = 0; i < n; i++) {
		struct bd_rules_item *it = &items[i];
		GMimeContentType *ct;
		char ext[32], *declared;
		struct bd_rules_part p;

		if (!it->attachment)
			continue;
		ct = g_mime_object_get_content_type(it->obj);
		declared = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
		for (char *q = declared; q != NULL && *q != '\0'; q++)
			*q = g_ascii_tolower(*q);
		p = (struct bd_rules_part){extension_of(it->obj, ext, sizeof(ext)), declared, NULL,
		                           it->size};
		if (head != NULL && GMIME_IS_PART(it->obj))
			p.sniffed = bd_sniff(head, first_bytes(it->obj, head, BD_SNIFF_BYTES));
		it->rule = bd_rules_match(conf, &m, &p, it->why, sizeof(it->why));
		weigh(conf, verdict, it->rule, it->why);
		g_free(declared);
	}
	free(head);
	if (m.nattachments == 0)
		weigh(conf, verdict, bd_rules_match(conf, &m, NULL, why, sizeof(why)), why);
}
