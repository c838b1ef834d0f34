/*
 * conf_rules.c - the [rule NAME] sections checked as a whole.
 *
 * conf.c reads each rule key into its struct bd_conf_rule through the rule key
 * table (conf_rules.def). Here the words are parsed into what the matcher
 * compares (kind and sensitive bits, lower-case extensions), the rules are
 * checked together (an action for each, keys that fit the action, a default
 * at the end), and a rule that an earlier one always takes first is a warning.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "conf-private.h"
#include "mem.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void bd_conf_rule_init(struct bd_conf_rule *rule, const char *name, unsigned line)
{
	struct bd_error err;

	memset(rule, 0, sizeof(*rule));
	for (size_t i = 0; i < BD_RULE_NKEYS; i++)
		if (bd_conf_set_value(rule, &bd_conf_rule_keys[i], bd_conf_rule_keys[i].def, &err) <
		    0)
			abort(); /* a bad default: the unit tests catch it */
	rule->name = bd_strdup(name);
	rule->line = line;
}

static void rule_free(struct bd_conf_rule *rule)
{
	for (size_t i = 0; i < BD_RULE_NKEYS; i++) {
		const struct bd_conf_key *key = &bd_conf_rule_keys[i];
		void *f = (char *)rule + key->offset;

		if (key->type == BD_CT_STRING || key->type == BD_CT_PATH)
			free(*(char **)f);
		else if (key->type == BD_CT_LIST)
			bd_conf_strlist_clear(f);
	}
	free(rule->name);
}

void bd_conf_rules_free(struct bd_conf_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++)
		rule_free(&rules->v[i]);
	free(rules->v);
	bd_conf_strlist_clear(&rules->warnings);
	memset(rules, 0, sizeof(*rules));
}

struct checker {
	struct bd_conf *conf;
	const char *file;
	void (*problem)(void *ctx, const char *line);
	void *ctx;
};

static void error_at(struct checker *c, const struct bd_conf_rule *r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void warn_at(struct checker *c, const struct bd_conf_rule *r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void error_at(struct checker *c, const struct bd_conf_rule *r, const char *fmt, ...)
{
	char what[400], line[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%u: [rule %s] %s", c->file, r->line, r->name, what);
	c->problem(c->ctx, line);
}

static void warn_at(struct checker *c, const struct bd_conf_rule *r, const char *fmt, ...)
{
	struct bd_strlist *w = &c->conf->rules.warnings;
	char what[400], line[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%u: warning: [rule %s] %s", c->file, r->line, r->name,
	         what);
	w->v = bd_realloc(w->v, (w->n + 1) * sizeof(char *));
	w->v[w->n++] = bd_strdup(line);
}

/* The typed fields that the words of a rule's lists stand for. */
static void parse_words(struct bd_conf_rule *r)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->types.n; i++) {
		char *t = r->types.v[i];
		bool kind = false;

		for (size_t k = 0; bd_conf_rule_kind_names[k] != NULL; k++)
			if (strcasecmp(t, bd_conf_rule_kind_names[k]) == 0) {
				r->kinds |= 1u << k;
				kind = true;
			}
		for (char *p = t; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (kind)
			free(t);
		else
			r->types.v[kept++] = t;
	}
	r->types.n = kept;
	for (size_t i = 0; i < r->extensions.n; i++)
		for (char *p = r->extensions.v[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < r->sensitive_words.n; i++)
		r->sensitive |= strcasecmp(r->sensitive_words.v[i], "bsn") == 0 ? BD_SENSITIVE_BSN
		                                                                : BD_SENSITIVE_IBAN;
}

static void check_bounds(struct checker *c, const struct bd_conf_rule *r, enum bd_rule_key_id lo,
                         enum bd_rule_key_id hi, uint64_t min, uint64_t max)
{
	if (bd_conf_rule_has(r, lo) && bd_conf_rule_has(r, hi) && min > max)
		error_at(c, r, "%s is larger than %s: no attachment can match",
		         bd_conf_rule_keys[lo].name, bd_conf_rule_keys[hi].name);
}

static void check_one(struct checker *c, const struct bd_conf_rule *r)
{
	static const struct {
		enum bd_rule_key_id key;
		unsigned actions; /* 1 << enum bd_rule_action */
		const char *which;
	} fits[] = {
	        {BD_RULE_KEY_RETENTION, 1u << BD_RULE_REPLACE, "replace"},
	        {BD_RULE_KEY_VERIFY, 1u << BD_RULE_REPLACE, "replace"},
	        {BD_RULE_KEY_RECEIPTS, 1u << BD_RULE_REPLACE, "replace"},
	        {BD_RULE_KEY_MAX_DOWNLOADS, 1u << BD_RULE_REPLACE, "replace"},
	        {BD_RULE_KEY_REJECT_CODE, 1u << BD_RULE_BLOCK, "block"},
	        {BD_RULE_KEY_REJECT_TEXT, (1u << BD_RULE_BLOCK) | (1u << BD_RULE_TEMPFAIL),
	         "block or tempfail"},
	};

	if (!bd_conf_rule_has(r, BD_RULE_KEY_ACTION)) {
		error_at(c, r, "has no action: add action = pass, replace, block or tempfail");
		return;
	}
	for (size_t i = 0; i < sizeof(fits) / sizeof(fits[0]); i++)
		if (bd_conf_rule_has(r, fits[i].key) && !(fits[i].actions & (1u << r->action)))
			error_at(c, r, "%s goes only with action = %s",
			         bd_conf_rule_keys[fits[i].key].name, fits[i].which);
	check_bounds(c, r, BD_RULE_KEY_MIN_ATTACHMENTS, BD_RULE_KEY_MAX_ATTACHMENTS,
	             r->min_attachments, r->max_attachments);
	check_bounds(c, r, BD_RULE_KEY_MIN_SIZE, BD_RULE_KEY_MAX_SIZE, r->min_size, r->max_size);
	check_bounds(c, r, BD_RULE_KEY_MIN_TOTAL_SIZE, BD_RULE_KEY_MAX_TOTAL_SIZE,
	             r->min_total_size, r->max_total_size);
	if (bd_conf_rule_has(r, BD_RULE_KEY_DIRECTION) && r->direction == BD_RULE_INBOUND &&
	    c->conf->policy.outgoing_only)
		warn_at(c, r,
		        "can never match: direction = inbound, but [policy] outgoing_only = yes "
		        "leaves inbound mail alone");
	if (bd_conf_rule_has(r, BD_RULE_KEY_UPLOAD_REQUEST) && r->upload_request &&
	    c->conf->requests.subject_tags.n == 0)
		warn_at(c, r,
		        "can never match: upload_request = yes, but [requests] subject_tags "
		        "is empty");
}

/* A pattern as an address glob: a domain D stands for *@D. */
static void as_address(const char *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", strchr(p, '@') ? "" : "*@", p);
}

/* Every pattern of INNER is matched by one of OUTER (patterns as address globs). */
static bool patterns_cover(const struct bd_strlist *outer, const struct bd_strlist *inner,
                           bool addresses)
{
	for (size_t i = 0; i < inner->n; i++) {
		bool found = false;

		for (size_t j = 0; j < outer->n && !found; j++) {
			char a[512], b[512];

			if (addresses) {
				as_address(outer->v[j], a, sizeof(a));
				as_address(inner->v[i], b, sizeof(b));
			} else {
				snprintf(a, sizeof(a), "%s", outer->v[j]);
				snprintf(b, sizeof(b), "%s", inner->v[i]);
			}
			found = fnmatch(a, b, FNM_CASEFOLD) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

/* True when every message and attachment that B matches, A matches too. */
static bool covers(const struct bd_conf_rule *a, const struct bd_conf_rule *b)
{
	uint64_t need = a->set & BD_RULE_CONDITIONS;

	if ((b->set & need) != need)
		return false;
	for (unsigned id = 0; id < BD_RULE_KEY_ACTION; id++) {
		bool ok = true;

		if (!((need >> id) & 1))
			continue;
		switch ((enum bd_rule_key_id)id) {
		case BD_RULE_KEY_DIRECTION: ok = a->direction == b->direction; break;
		case BD_RULE_KEY_SENDER: ok = patterns_cover(&a->senders, &b->senders, true); break;
		case BD_RULE_KEY_RECIPIENT:
			ok = patterns_cover(&a->recipients, &b->recipients, true);
			break;
		case BD_RULE_KEY_EXTERNAL: ok = a->external == b->external; break;
		case BD_RULE_KEY_MIN_ATTACHMENTS:
			ok = a->min_attachments <= b->min_attachments;
			break;
		case BD_RULE_KEY_MAX_ATTACHMENTS:
			ok = a->max_attachments >= b->max_attachments;
			break;
		case BD_RULE_KEY_MIN_SIZE: ok = a->min_size <= b->min_size; break;
		case BD_RULE_KEY_MAX_SIZE: ok = a->max_size >= b->max_size; break;
		case BD_RULE_KEY_MIN_TOTAL_SIZE: ok = a->min_total_size <= b->min_total_size; break;
		case BD_RULE_KEY_MAX_TOTAL_SIZE: ok = a->max_total_size >= b->max_total_size; break;
		case BD_RULE_KEY_TYPE:
			ok = (b->kinds & ~a->kinds) == 0 &&
			     patterns_cover(&a->types, &b->types, false);
			break;
		case BD_RULE_KEY_EXTENSION:
			ok = patterns_cover(&a->extensions, &b->extensions, false);
			break;
		case BD_RULE_KEY_UPLOAD_REQUEST: ok = a->upload_request == b->upload_request; break;
		case BD_RULE_KEY_SENSITIVE: ok = (b->sensitive & ~a->sensitive) == 0; break;
		default: break;
		}
		if (!ok)
			return false;
	}
	return true;
}

void bd_conf_rules_check(struct bd_conf *conf, const char *file,
                         void (*problem)(void *ctx, const char *line), void *ctx)
{
	struct checker c = {conf, file, problem, ctx};
	struct bd_conf_rules *rules = &conf->rules;
	const struct bd_conf_rule *last;

	if (rules->n == 0)
		return;
	for (size_t i = 0; i < rules->n; i++) {
		parse_words(&rules->v[i]);
		check_one(&c, &rules->v[i]);
	}
	last = &rules->v[rules->n - 1];
	if (last->set & BD_RULE_CONDITIONS)
		error_at(&c, last,
		         "is the last rule but has conditions: end the rules with a default rule "
		         "without conditions, e.g. [rule default] action = replace");
	for (size_t j = 1; j < rules->n; j++)
		for (size_t i = 0; i < j; i++)
			if (covers(&rules->v[i], &rules->v[j])) {
				warn_at(&c, &rules->v[j],
				        "can never match: [rule %s] (line %u) comes first and "
				        "matches "
				        "everything it matches",
				        rules->v[i].name, rules->v[i].line);
				break;
			}
}
