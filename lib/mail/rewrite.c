/*
 * rewrite.c - one message through the pipeline: parse, decide, store, change, write.
 *
 * The order is the safety argument: every decision is made and every part
 * stored (files, then the manifest) before the first change to the parsed
 * message; a failure at any point before that deletes what was stored and
 * leaves the message as it came. Policy is in policy.c, the notice in
 * notice.c, part content and parallel upload in attachment.c.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "rewrite.h"
#include "accesscode.h"
#include "direction.h"
#include "filename.h"
#include "manifest.h"
#include "mem.h"
#include "mimestream.h"
#include "notice.h"
#include "policy.h"
#include "rules.h"
#include "pending.h"
#include "tnef.h"
#include "token.h"
#include "attachment.h"
#include "exact.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * gmime 3.2.13 folds an RFC 2231 parameter whose name has 70-72 characters
 * forever (fixed in 3.2.15) when it re-writes a Content-Type we changed:
 * messages with such names are treated as malformed (tests: 48-long-parameter-name).
 */
#define PARAM_NAME_MAX 64

struct bd_rewrite {
	const struct bd_conf *conf;
	const struct bd_keyring *keys;
	struct bd_store *store;
	struct bd_notice *notice;
};

/* What the parser said; lives as long as the message (gmime keeps the callback). */
struct warnings {
	int parsing;
	int critical;
	int first;     /* GMimeParserWarning of the first critical one */
	char item[40]; /* its header or parameter name, "" if none */
	gint64 offset;
};

struct bd_rewrite_state {
	GMimeStream *stream;
	GMimeMessage *message;
	GMimeFormatOptions *format;
	struct warnings warnings;
};

/* A part of the message body, parallel to result->parts. */
struct node {
	GMimeObject *obj;
	GMimeMultipart *parent; /* NULL: the top-level entity */
	int index;              /* position in parent */
	GMimeStream *bytes;     /* an attached message's exact bytes in the spool, or NULL */
	const struct bd_tnef_file *inner; /* a file from inside the winmail.dat OBJ, or NULL */
};

struct bd_rewrite_job {
	const struct bd_rewrite *rw;
	const struct bd_rewrite_envelope *env;
	struct bd_rewrite_result *res;
	GMimeMessage *msg;
	struct node *nodes;
	size_t cap;
	unsigned counted;
	const char *problem; /* malformed: why */
	const char *veto;    /* unchanged: why */
	time_t now;
	GPtrArray *tnef;     /* struct bd_tnef * of the winmail.dats opened, freed with the job */
	size_t tnef_files;   /* the files in them */
	uint64_t tnef_bytes; /* and their bytes */
	struct bd_rules_verdict verdict; /* when [rule NAME] sections are set */
};

const char *bd_rewrite_action_name(enum bd_rewrite_action a)
{
	switch (a) {
	case BD_REWRITE_KEEP: return "keep";
	case BD_REWRITE_SEND: return "send";
	case BD_REWRITE_BODY: return "notice";
	case BD_REWRITE_CONTAINER: return "multipart";
	}
	return "?";
}

struct bd_rewrite *bd_rewrite_new(const struct bd_conf *conf, const struct bd_keyring *keys,
                                  struct bd_store *store, struct bd_error *err)
{
	struct bd_rewrite *rw = bd_calloc(1, sizeof(*rw));

	rw->conf = conf;
	rw->keys = keys;
	rw->store = store;
	rw->notice = bd_notice_load(conf->notice.template_dir,
	                            bd_language_code(conf->notice.language), err);
	if (rw->notice == NULL) {
		free(rw);
		return NULL;
	}
	return rw;
}

void bd_rewrite_free(struct bd_rewrite **rw)
{
	if (rw == NULL || *rw == NULL)
		return;
	bd_notice_free(&(*rw)->notice);
	free(*rw);
	*rw = NULL;
}

static void free_secret_string(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

void bd_rewrite_result_free(struct bd_rewrite_result **r)
{
	struct bd_rewrite_result *res;

	if (r == NULL || *r == NULL)
		return;
	res = *r;
	for (size_t i = 0; i < res->nparts; i++) {
		free(res->parts[i].path);
		free(res->parts[i].filename);
		free(res->parts[i].rule);
		free(res->parts[i].rule_why);
	}
	free(res->parts);
	for (size_t i = 0; i < res->nheaders; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	free(res->headers);
	bd_manifest_free(&res->manifest);
	free_secret_string(res->manage_link);
	if (res->state != NULL) {
		if (res->state->message != NULL)
			g_object_unref(res->state->message);
		if (res->state->stream != NULL)
			g_object_unref(res->state->stream);
		if (res->state->format != NULL)
			g_mime_format_options_free(res->state->format);
		free(res->state);
	}
	free(res);
	*r = NULL;
}

/* ---- parsing ---- */

/*
 * Only what leaves the parts themselves in doubt makes a message malformed.
 * A bad header line (gmime reads on), a repeated Subject, an empty part
 * without its blank line, a repeated name: the parts are still clear, and
 * the message is rewritten like any other. Two Content-Type or transfer
 * encodings, or two boundaries, could each be read: that is malformed.
 */
static bool is_critical(GMimeParserWarning w, const char *item)
{
	switch (w) {
	case GMIME_CRIT_CONFLICTING_HEADER:
		return item != NULL && (g_ascii_strcasecmp(item, "Content-Type") == 0 ||
		                        g_ascii_strcasecmp(item, "Content-Transfer-Encoding") == 0);
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		return item != NULL && g_ascii_strcasecmp(item, "boundary") == 0;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_CRIT_NESTING_OVERFLOW: return true;
	default: return false;
	}
}

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	struct warnings *w = data;

	/* gmime also calls this later, when it decodes a header lazily: only parsing counts */
	if (!__atomic_load_n(&w->parsing, __ATOMIC_RELAXED) || !is_critical(code, item))
		return;
	if (w->critical++ == 0) {
		w->first = (int)code;
		w->offset = offset;
		snprintf(w->item, sizeof(w->item), "%s", item != NULL ? item : "");
	}
}

static const char *warning_name(int code)
{
	switch (code) {
	case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting headers";
	case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting header parameters";
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
	case GMIME_CRIT_NESTING_OVERFLOW: return "nesting overflow";
	}
	return "critical parser warning";
}

static int parse(struct bd_rewrite_result *res, int spool_fd, struct bd_error *err)
{
	struct bd_rewrite_state *st = bd_calloc(1, sizeof(*st));
	GMimeParserOptions *options;
	GMimeParser *parser;
	int fd = fcntl(spool_fd, F_DUPFD_CLOEXEC, 0);

	res->state = st;
	if (fd < 0)
		return bd_error_set(err, BD_E_IO, "spool: %s", strerror(errno));
	st->stream = bd_mimestream_pread_new(fd);
	if (st->stream == NULL) {
		close(fd);
		return bd_error_set(err, BD_E_INVALID, "spool is not a regular file");
	}
	st->format = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(st->format, GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_stream_length(st->stream) == 0)
		return 0;

	options = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(options, on_warning, &st->warnings);
	parser = g_mime_parser_new_with_stream(st->stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	__atomic_store_n(&st->warnings.parsing, 1, __ATOMIC_RELAXED);
	st->message = g_mime_parser_construct_message(parser, options);
	__atomic_store_n(&st->warnings.parsing, 0, __ATOMIC_RELAXED);
	g_object_unref(parser);
	g_mime_parser_options_free(options);
	return 0;
}

/* ---- checking the structure: counts, depth, hostile parameters ---- */

static bool params_too_long(GMimeParamList *list)
{
	int n = list != NULL ? g_mime_param_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		const char *name =
		        g_mime_param_get_name(g_mime_param_list_get_parameter_at(list, i));

		if (name != NULL && strlen(name) > PARAM_NAME_MAX)
			return true;
	}
	return false;
}

/* The boundaries of the multiparts around a part, innermost first. */
struct bounds {
	const char *boundary;
	const struct bounds *up;
};

/*
 * A multipart inside another with the same boundary: each boundary line
 * could end either, so the parts can be read two ways. (A boundary that only
 * begins with an enclosing one is clear: a boundary line has nothing but
 * white space after it.)
 */
static bool boundary_ambiguous(const char *b, const struct bounds *up)
{
	for (; up != NULL; up = up->up)
		if (strcmp(b, up->boundary) == 0)
			return true;
	return false;
}

static int check_structure(struct bd_rewrite_job *j, GMimeObject *obj, unsigned depth,
                           const struct bounds *up)
{
	const struct bd_conf *conf = j->rw->conf;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);

	if (++j->counted > conf->policy.max_parts) {
		j->problem = "more MIME parts than max_parts";
		return -1;
	}
	if (depth > conf->policy.max_depth) {
		j->problem = "MIME parts nested deeper than max_depth";
		return -1;
	}
	if ((ct != NULL && params_too_long(g_mime_content_type_get_parameters(ct))) ||
	    (cd != NULL && params_too_long(g_mime_content_disposition_get_parameters(cd)))) {
		j->problem = "a header parameter name longer than 64 characters";
		return -1;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		const char *b = g_mime_object_get_content_type_parameter(obj, "boundary");
		struct bounds here = {b, up};

		if (b == NULL || *b == '\0') {
			j->problem = "multipart without boundary";
			return -1;
		}
		if (boundary_ambiguous(b, up)) {
			j->problem = "boundaries readable two ways (a multipart inside one with "
			             "the same boundary)";
			return -1;
		}
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			if (check_structure(j, g_mime_multipart_get_part(mp, i), depth + 1, &here) <
			    0)
				return -1;
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (m != NULL && g_mime_message_get_mime_part(m) != NULL)
			return check_structure(j, g_mime_message_get_mime_part(m), depth + 1, up);
	}
	return 0;
}

/* ---- the walk over the message body ---- */

static size_t add_node(struct bd_rewrite_job *j, GMimeObject *obj, GMimeMultipart *parent,
                       int index, const char *path)
{
	struct bd_rewrite_result *res = j->res;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	struct bd_rewrite_part *p;
	char *type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	char *lower = g_ascii_strdown(type, -1);

	if (res->nparts == j->cap) {
		j->cap = j->cap ? 2 * j->cap : 16;
		res->parts = bd_realloc(res->parts, j->cap * sizeof(*res->parts));
		j->nodes = bd_realloc(j->nodes, j->cap * sizeof(*j->nodes));
	}
	p = &res->parts[res->nparts];
	memset(p, 0, sizeof(*p));
	p->path = bd_strdup(path);
	if (strlen(lower) < sizeof(p->content_type))
		snprintf(p->content_type, sizeof(p->content_type), "%s", lower);
	else
		snprintf(p->content_type, sizeof(p->content_type), "application/octet-stream");
	p->action = BD_REWRITE_KEEP;
	p->reason = "";
	j->nodes[res->nparts] = (struct node){.obj = obj, .parent = parent, .index = index};
	g_free(type);
	g_free(lower);
	return res->nparts++;
}

/* Depth is bounded by check_structure() before this runs. */
static void walk(struct bd_rewrite_job *j, GMimeObject *obj, GMimeMultipart *parent, int index,
                 const char *path)
{
	size_t me = add_node(j, obj, parent, index, path);
	const char *veto = bd_policy_check_part(obj);

	if (veto != NULL && j->veto == NULL)
		j->veto = veto;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);

		j->res->parts[me].action = BD_REWRITE_CONTAINER;
		j->res->parts[me].reason = "multipart: its parts are decided one by one";
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
			/* as long as it takes: max_depth allows paths of hundreds of bytes */
			char *sub = bd_asprintf("%s.%d", path, i + 1);

			walk(j, g_mime_multipart_get_part(mp, i), mp, i, sub);
			free(sub);
		}
	}
}

/* Content-IDs that the HTML body parts show through cid: URLs. */
static GHashTable *collect_cids(struct bd_rewrite_job *j)
{
	GHashTable *cids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (size_t i = 0; i < j->res->nparts; i++) {
		const char *reason;
		struct bd_attachment_content c = {.obj = j->nodes[i].obj};
		struct bd_cid_scan *scan;
		struct bd_sink sink;

		if (j->res->parts[i].action == BD_REWRITE_CONTAINER ||
		    strcmp(j->res->parts[i].content_type, "text/html") != 0 ||
		    bd_policy_decide(&j->rw->conf->policy, j->nodes[i].obj, false, &reason) !=
		            BD_REWRITE_BODY)
			continue;
		/* read in a window: a body part may be larger than memory should hold */
		scan = bd_policy_cid_scan_new(cids);
		sink = (struct bd_sink){bd_policy_cid_scan_write, scan};
		bd_attachment_copy(&c, &sink, NULL);
		bd_policy_cid_scan_end(&scan);
	}
	return cids;
}

/* NAME, made to differ from the names of the parts before part I that go. */
static char *unique_name(struct bd_rewrite_job *j, size_t i, const char *name)
{
	char **taken = bd_calloc(i + 1, sizeof(char *));
	char *unique;

	for (size_t k = 0; k < i; k++)
		taken[k] = j->res->parts[k].action == BD_REWRITE_SEND ? j->res->parts[k].filename
		                                                      : NULL;
	unique = bd_filename_unique(name, taken, i);
	free(taken);
	return unique;
}

/* The name a part that goes is listed under: its own, sanitised, or a generated one. */
static char *part_name(struct bd_rewrite_job *j, size_t i, unsigned *nameless)
{
	GMimeObject *obj = j->nodes[i].obj;
	const char *raw = bd_policy_filename(obj);
	bool message = bd_policy_is_attached_message(obj);
	char *name = NULL, *unique;

	if (raw == NULL && GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		raw = m != NULL ? g_mime_message_get_subject(m) : NULL;
	}
	if (raw != NULL)
		name = bd_filename_sanitise(raw);
	if (name != NULL && message && !g_str_has_suffix(name, ".eml") &&
	    !g_str_has_suffix(name, ".EML")) {
		char *eml = bd_asprintf("%s.eml", name);

		free(name);
		name = bd_filename_sanitise(eml); /* keeps the length cap */
		free(eml);
	}
	if (name == NULL)
		name = bd_filename_generate(bd_notice_language(j->rw->notice), ++*nameless,
		                            j->res->parts[i].content_type);
	unique = unique_name(j, i, name);
	free(name);
	return unique;
}

/* ---- attached messages: the bytes they arrived as ---- */

/* The boundaries of the multiparts around node I, innermost first, NULL-terminated. */
static const char **enclosing_boundaries(const struct bd_rewrite_job *j, size_t i)
{
	const char **b = bd_calloc(j->res->nparts + 1, sizeof(*b));
	GMimeMultipart *up = j->nodes[i].parent;
	size_t n = 0;

	while (up != NULL) {
		const char *one =
		        g_mime_object_get_content_type_parameter(GMIME_OBJECT(up), "boundary");
		size_t k = 0;

		if (one != NULL)
			b[n++] = one;
		while (k < j->res->nparts && j->nodes[k].obj != GMIME_OBJECT(up))
			k++;
		up = k < j->res->nparts ? j->nodes[k].parent : NULL;
	}
	return b;
}

/*
 * An attached message's bytes as they are in the spool, or NULL (then it is
 * serialised). With a transfer encoding gmime leaves the part a leaf, whose
 * content already is those bytes; otherwise they are found by exact.h.
 */
static GMimeStream *message_bytes(const struct bd_rewrite_job *j, size_t i)
{
	GMimeObject *obj = j->nodes[i].obj;
	GMimeStream *bytes = NULL;

	if (GMIME_IS_PART(obj) && bd_policy_is_attached_message(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

		bytes = w != NULL ? g_mime_data_wrapper_get_stream(w) : NULL;
		return bytes != NULL ? g_object_ref(bytes) : NULL;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		const char **b = enclosing_boundaries(j, i);

		bytes = bd_exact_message_bytes(j->res->state->stream, obj, b);
		free(b);
	}
	return bytes;
}

static void free_nodes(struct bd_rewrite_job *j)
{
	for (size_t i = 0; j->nodes != NULL && i < j->res->nparts; i++)
		if (j->nodes[i].bytes != NULL)
			g_object_unref(j->nodes[i].bytes);
	free(j->nodes);
	j->nodes = NULL;
}

static struct bd_attachment_content content_of(const struct bd_rewrite_job *j, size_t i)
{
	const struct bd_tnef_file *f = j->nodes[i].inner;

	return (struct bd_attachment_content){.obj = j->nodes[i].obj,
	                                      .raw = j->res->parts[i].raw,
	                                      .bytes = j->nodes[i].bytes,
	                                      .data = f != NULL ? f->data : NULL,
	                                      .len = f != NULL ? f->size : 0};
}

/*
 * The size of a part that goes. A part is empty only when its raw content is:
 * one whose declared transfer encoding yields nothing from something is
 * handled as [policy] undecodable says, never kept as if it were empty.
 */
static int measure(struct bd_rewrite_job *j, size_t i, struct bd_error *err)
{
	struct bd_rewrite_part *p = &j->res->parts[i];
	struct bd_attachment_content c;

	if (j->nodes[i].bytes == NULL)
		j->nodes[i].bytes = message_bytes(j, i);
	c = content_of(j, i);
	if (bd_attachment_measure(&c, &p->size, err) < 0)
		return -1;
	if (p->size > 0 || !GMIME_IS_PART(c.obj) || bd_attachment_raw_blank(c.obj))
		return 0;
	switch (j->rw->conf->policy.undecodable) {
	case BD_UNDECODABLE_TEMPFAIL:
		return bd_error_set(err, BD_E_INVALID,
		                    "its transfer encoding yields nothing ([policy] undecodable = "
		                    "tempfail)");
	case BD_UNDECODABLE_UNCHANGED:
		p->action = BD_REWRITE_KEEP;
		p->reason = "its transfer encoding yields nothing: the message stays unchanged "
		            "([policy] undecodable = unchanged)";
		if (j->veto == NULL)
			j->veto = "an attachment whose transfer encoding yields nothing";
		return 0;
	case BD_UNDECODABLE_RAW: break;
	}
	p->raw = true;
	c.raw = true;
	return bd_attachment_measure(&c, &p->size, err);
}

/* Move the part last added to position TO (the parts from TO on move up one). */
static void move_last_to(struct bd_rewrite_job *j, size_t to)
{
	struct bd_rewrite_result *res = j->res;
	size_t last = res->nparts - 1;
	struct bd_rewrite_part p = res->parts[last];
	struct node n = j->nodes[last];

	memmove(&res->parts[to + 1], &res->parts[to], (last - to) * sizeof(*res->parts));
	memmove(&j->nodes[to + 1], &j->nodes[to], (last - to) * sizeof(*j->nodes));
	res->parts[to] = p;
	j->nodes[to] = n;
}

/*
 * Part I, a winmail.dat that goes: the files inside it go too, each a part
 * of its own right after it ("1.2/1", "1.2/2", ...); the winmail.dat itself
 * stays in the package for those who use Outlook. One that cannot be opened,
 * or that would pass the caps (for all winmail.dats of the message
 * together), goes alone, and its reason says why. Returns the parts added.
 */
static size_t add_tnef_files(struct bd_rewrite_job *j, size_t i, unsigned *nameless)
{
	struct bd_rewrite_result *res = j->res;
	struct bd_attachment_content c = content_of(j, i);
	struct bd_tnef_limits lim = bd_tnef_default_limits;
	struct bd_tnef *t = NULL;
	enum bd_tnef_status s;

	if (c.raw || !bd_tnef_is_tnef(res->parts[i].content_type, bd_policy_filename(c.obj)))
		return 0;
	lim.max_files -= j->tnef_files;
	lim.max_bytes -= j->tnef_bytes;
	s = bd_tnef_extract_part(&c, res->parts[i].size, &lim, &t);
	res->parts[i].reason = bd_tnef_status_text(s);
	if (s != BD_TNEF_OK)
		return 0;
	if (j->tnef == NULL)
		j->tnef = g_ptr_array_new();
	g_ptr_array_add(j->tnef, t);
	for (size_t k = 0; k < t->n; k++) {
		const struct bd_tnef_file *f = &t->files[k];
		char *path = bd_asprintf("%s/%zu", res->parts[i].path, k + 1);
		size_t at = i + 1 + k;
		struct bd_rewrite_part *p;
		char *name;

		add_node(j, c.obj, j->nodes[i].parent, j->nodes[i].index, path);
		free(path);
		move_last_to(j, at);
		j->nodes[at].inner = f;
		p = &res->parts[at];
		snprintf(p->content_type, sizeof(p->content_type), "%s", f->content_type);
		p->action = BD_REWRITE_SEND;
		p->reason = "inside winmail.dat (TNEF)";
		p->size = f->size;
		name = f->name != NULL ? bd_strdup(f->name)
		                       : bd_filename_generate(bd_notice_language(j->rw->notice),
		                                              ++*nameless, f->content_type);
		p->filename = unique_name(j, at, name);
		free(name);
		res->nfiles++;
		res->bytes += f->size;
		j->tnef_files++;
		j->tnef_bytes += f->size;
	}
	return t->n;
}

/* The [rule NAME] sections decide what becomes of the attachments (rules.h). */
static void apply_rules(struct bd_rewrite_job *j)
{
	struct bd_rewrite_result *res = j->res;
	struct bd_rules_item *items = bd_calloc(res->nparts, sizeof(*items));

	for (size_t i = 0; i < res->nparts; i++)
		items[i] = (struct bd_rules_item){.obj = j->nodes[i].obj,
		                                  .attachment =
		                                          res->parts[i].action == BD_REWRITE_SEND,
		                                  .size = res->parts[i].size};
	bd_rules_decide(j->rw->conf, j->env, j->msg, items, res->nparts, &j->verdict);
	for (size_t i = 0; i < res->nparts; i++) {
		struct bd_rewrite_part *p = &res->parts[i];

		if (items[i].rule == NULL)
			continue;
		p->rule = bd_strdup(items[i].rule->name);
		p->rule_why = bd_strdup(items[i].why);
		if (items[i].rule->action == BD_RULE_PASS) {
			p->action = BD_REWRITE_KEEP;
			p->reason = "stays: its rule says pass";
			res->nfiles--;
			res->bytes -= p->size;
		}
	}
	if (j->verdict.rule != NULL) {
		snprintf(res->rule, sizeof(res->rule), "%s", j->verdict.rule->name);
		res->rule_action = bd_rules_action_name(j->verdict.action);
	}
	free(items);
}

/* Decide every leaf; measure and name what goes. */
static int decide(struct bd_rewrite_job *j, struct bd_error *err)
{
	struct bd_rewrite_result *res = j->res;
	GHashTable *cids = collect_cids(j);
	unsigned nameless = 0;

	for (size_t i = 0; i < res->nparts; i++) {
		struct bd_rewrite_part *p = &res->parts[i];
		GMimeObject *obj = j->nodes[i].obj;
		const char *raw = bd_policy_filename(obj);
		char *cid;
		bool referenced;

		if (p->action == BD_REWRITE_CONTAINER)
			continue;
		cid = bd_policy_content_id(obj);
		referenced = cid != NULL && g_hash_table_contains(cids, cid);
		g_free(cid);
		p->action = bd_policy_decide(&j->rw->conf->policy, obj, referenced, &p->reason);
		if (p->action == BD_REWRITE_SEND) {
			if (measure(j, i, err) < 0) {
				g_hash_table_destroy(cids);
				return bd_error_prefix(err, "part %s", p->path);
			}
			if (p->action == BD_REWRITE_SEND)
				p->action = bd_policy_decide_size(&j->rw->conf->policy, p->size,
				                                  &p->reason);
			if (p->action == BD_REWRITE_SEND && p->raw)
				p->reason = "its transfer encoding yields nothing: goes as its raw "
				            "bytes "
				            "([policy] undecodable = raw)";
		}
		if (p->action == BD_REWRITE_SEND) {
			p->filename = part_name(j, i, &nameless);
			res->nfiles++;
			res->bytes += p->size;
			i += add_tnef_files(j, i, &nameless);
		} else if (raw != NULL) {
			p->filename = bd_filename_sanitise(raw);
		}
	}
	g_hash_table_destroy(cids);
	if (j->rw->conf->rules.n > 0)
		apply_rules(j);
	return 0;
}

/* ---- protection ---- */

/* Each outside recipient of the envelope, as the manifest lists them; returns how many. */
static unsigned add_recipients(const struct bd_rewrite_job *j, struct bd_manifest *m)
{
	for (size_t i = 0; i < j->env->nrecipients; i++) {
		char *a = bd_recipient_external_form(&j->rw->conf->milter, j->env->recipients[i]);

		/* past the manifest's caps an address is left out: it cannot verify */
		if (a != NULL)
			(void)bd_manifest_add_recipient(m, a, NULL);
		free(a);
	}
	return (unsigned)m->nrecipients;
}

static void decide_protection(struct bd_rewrite_job *j)
{
	const struct bd_conf_recipients *d = &j->rw->conf->recipients;
	const struct bd_rules_verdict *v = &j->verdict;
	struct bd_rewrite_protection *p = &j->res->protection;
	struct bd_manifest *m = bd_manifest_new();

	p->verify = v->protection ? v->verify : d->verify;
	p->receipts = v->protection ? v->receipts : d->receipts;
	p->max_downloads = v->protection ? v->max_downloads : d->max_downloads;
	p->code = j->env->access_code != NULL;
	p->recipients = add_recipients(j, m);
	bd_manifest_free(&m);
}

/* The manifest's recipients and protection, with the access code's hash. */
static int protect(const struct bd_rewrite_job *j, struct bd_manifest *m, struct bd_error *err)
{
	const struct bd_rewrite_protection *p = &j->res->protection;
	char hash[BD_ACCESS_CODE_HASH_MAX];

	add_recipients(j, m);
	m->protection.verify = (enum bd_verify)p->verify;
	m->protection.receipts = (enum bd_receipts)p->receipts;
	m->protection.max_downloads =
	        p->max_downloads > UINT32_MAX ? UINT32_MAX : (unsigned)p->max_downloads;
	if (j->env->access_code == NULL)
		return 0;
	if (bd_access_code_hash(j->env->access_code, hash, err) < 0)
		return -1;
	m->protection.access_code_hash = bd_strdup(hash);
	return 0;
}

/* ---- storing ---- */

/*
 * Undo what a failed rewrite stored. An upload that failed may have landed all
 * the same (its answer was lost, or came after [storage] timeout): such objects
 * are deleted by name, as a listing may fail on the same slow store; then, if
 * storage confirmed anything, the manifest and whatever a listing still shows.
 */
static void delete_package(struct bd_rewrite_job *j, const struct bd_package_keys *keys,
                           const struct bd_attachment_item *items, size_t n, bool manifest)
{
	char hex[BD_PACKAGE_ID_HEX];
	bool stored = manifest;

	for (size_t i = 0; i < n; i++) {
		char name[64];

		stored = stored || items[i].stored;
		if (!items[i].tried || items[i].stored)
			continue;
		bd_package_object_name(keys->id, items[i].index, name, sizeof(name));
		bd_store_delete(j->rw->store, name, NULL);
	}
	if (!stored) /* nothing else to undo: spare a store that may be down more retries */
		return;
	bd_package_id_hex(keys->id, hex);
	bd_package_delete_or_queue(j->rw->store, j->rw->conf->milter.spool_dir, hex);
}

static char *bounded_copy(const char *s)
{
	return s != NULL && *s != '\0' && strlen(s) <= BD_MANIFEST_MAX_STRING ? bd_strdup(s) : NULL;
}

static int store_manifest(struct bd_rewrite_job *j, const struct bd_package_keys *keys,
                          int64_t expires, struct bd_error *err)
{
	const struct bd_keyring *kr = j->rw->keys;
	unsigned gw = bd_keyring_current(kr, BD_KEY_GATEWAY);
	const uint8_t *pk = bd_keyring_gateway_public(kr, gw);
	struct bd_manifest *m = bd_manifest_new();
	struct bd_mem_source src;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	char name[64];
	unsigned index = 0;
	int rc;

	if (pk == NULL) {
		bd_manifest_free(&m);
		return bd_error_set(err, BD_E_KEY, "no current gateway public key");
	}
	memcpy(m->package_id, keys->id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = bd_keyring_current(kr, BD_KEY_LINK);
	m->gateway_key_id = gw;
	m->created = (int64_t)j->now;
	m->expires = expires;
	if (j->env->sender != NULL && strcmp(j->env->sender, "<>") != 0)
		m->sender = bounded_copy(j->env->sender);
	m->message_id = bounded_copy(g_mime_message_get_message_id(j->msg));
	for (size_t i = 0; i < j->res->nparts; i++) {
		const struct bd_rewrite_part *p = &j->res->parts[i];

		if (p->action == BD_REWRITE_SEND)
			bd_manifest_add_file(m, ++index, p->filename, p->content_type, p->size);
	}
	rc = protect(j, m, err);
	if (rc == 0)
		rc = bd_manifest_seal(m, keys, pk, &sealed, &sealed_len, err);
	bd_manifest_free(&j->res->manifest);
	j->res->manifest = m; /* what the sender's management mail tells */
	if (rc < 0)
		return -1;
	bd_package_object_name(keys->id, 0, name, sizeof(name));
	bd_mem_source_init(&src, sealed, sealed_len);
	rc = bd_store_put(j->rw->store, name, &src.source, sealed_len, err);
	free(sealed);
	return rc;
}

/* The link of TYPE to the package: /d/ for the recipients, /m/ for the sender. */
static char *make_link(struct bd_rewrite_job *j, const struct bd_package_keys *keys,
                       int64_t expires, enum bd_token_type type, struct bd_error *err)
{
	struct bd_token t = {.type = type,
	                     .key_id = bd_keyring_current(j->rw->keys, BD_KEY_LINK),
	                     .expires = expires};
	char token[BD_TOKEN_MAX_CHARS + 1];
	char *link = NULL;

	memcpy(t.package_id, keys->id, BD_PACKAGE_ID_BYTES);
	memcpy(t.secret, keys->secret, BD_SECRET_BYTES);
	if (bd_token_encode(&t, j->rw->keys, token, err) == 0)
		link = bd_asprintf("%s/%s/%s", j->rw->conf->gateway.public_url,
		                   type == BD_TOKEN_MANAGE ? "m" : "d", token);
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(token, sizeof(token));
	return link;
}

/* ---- changing the message ---- */

struct removal {
	GMimeMultipart *parent;
	int index;
};

static int by_index_desc(const void *a, const void *b)
{
	const struct removal *x = a, *y = b;

	return (y->index > x->index) - (y->index < x->index);
}

/* Take out every part that went, and multiparts that only held such parts. */
static bool remove_sent(struct bd_rewrite_job *j)
{
	struct bd_rewrite_result *res = j->res;
	struct removal *rm = bd_calloc(res->nparts, sizeof(*rm));
	GHashTable *emptied = g_hash_table_new(g_direct_hash, g_direct_equal);
	bool top_gone = false;
	size_t n = 0;

	for (size_t i = 0; i < res->nparts; i++) {
		if (res->parts[i].action != BD_REWRITE_SEND || j->nodes[i].inner != NULL)
			continue; /* a file from inside a winmail.dat goes with it */
		if (j->nodes[i].parent == NULL)
			top_gone = true;
		else
			rm[n++] = (struct removal){j->nodes[i].parent, j->nodes[i].index};
	}
	/* highest index first, so the indexes still to come stay valid */
	qsort(rm, n, sizeof(*rm), by_index_desc);
	for (size_t i = 0; i < n; i++) {
		GMimeObject *gone = g_mime_multipart_remove_at(rm[i].parent, rm[i].index);

		if (gone != NULL)
			g_object_unref(gone);
		g_hash_table_add(emptied, rm[i].parent);
	}
	/* children come after their parent in document order: go backwards */
	for (size_t i = res->nparts; i-- > 0;) {
		GMimeObject *obj = j->nodes[i].obj;

		if (res->parts[i].action != BD_REWRITE_CONTAINER ||
		    !g_hash_table_contains(emptied, obj) ||
		    g_mime_multipart_get_count(GMIME_MULTIPART(obj)) > 0)
			continue;
		if (j->nodes[i].parent == NULL) {
			top_gone = true;
		} else {
			int at = g_mime_multipart_index_of(j->nodes[i].parent, obj);

			if (at >= 0) {
				GMimeObject *gone =
				        g_mime_multipart_remove_at(j->nodes[i].parent, at);

				if (gone != NULL)
					g_object_unref(gone);
				g_hash_table_add(emptied, j->nodes[i].parent);
			}
		}
		res->parts[i].reason = "multipart: emptied, removed";
	}
	g_hash_table_destroy(emptied);
	free(rm);
	return top_gone;
}

static void add_notice_part(struct bd_rewrite_job *j, const char *text, bool top_gone)
{
	GMimeObject *top = g_mime_message_get_mime_part(j->msg);
	GMimePart *part = bd_notice_new_text_part(text);

	if (top_gone || top == NULL) {
		g_mime_message_set_mime_part(j->msg, GMIME_OBJECT(part));
	} else if (GMIME_IS_MULTIPART(top) &&
	           g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart",
	                                       "mixed")) {
		g_mime_multipart_insert(GMIME_MULTIPART(top), 0, GMIME_OBJECT(part));
	} else {
		GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");

		g_mime_multipart_add(mixed, GMIME_OBJECT(part));
		g_mime_multipart_add(mixed, top);
		g_mime_message_set_mime_part(j->msg, GMIME_OBJECT(mixed));
		g_object_unref(mixed);
	}
	g_object_unref(part);
}

/*
 * The notice goes into the body once: the first plain-text part that takes it and the
 * first HTML part that takes it (the two halves of a multipart/alternative). Further
 * body parts (a mail client that splits the text around an inline image, or a message
 * of thousands of text parts) stay as they are, so the message grows by one notice.
 */
static int insert_notices(struct bd_rewrite_job *j, const char *text, const char *html,
                          bool top_gone)
{
	struct bd_rewrite_result *res = j->res;
	bool placed_text = false, placed_html = false;

	if (!top_gone) {
		for (size_t i = 0; i < res->nparts; i++) {
			struct bd_error err;
			GMimePart *part;
			bool is_html;
			int rc;

			if (res->parts[i].action != BD_REWRITE_BODY)
				continue;
			is_html = strcmp(res->parts[i].content_type, "text/html") == 0;
			if (is_html ? placed_html : placed_text) {
				res->parts[i].reason =
				        "body text (the notice is in an earlier part)";
				continue;
			}
			part = GMIME_PART(j->nodes[i].obj);
			rc = is_html ? bd_notice_add_to_html(part, html, &err)
			             : bd_notice_add_to_text(part, text, &err);
			if (rc < 0)
				res->parts[i].reason =
				        "body text in a charset the notice cannot join";
			else if (is_html)
				placed_html = true;
			else
				placed_text = true;
		}
	}
	if (!placed_text && !placed_html)
		add_notice_part(j, text, top_gone);
	return 0;
}

/* ---- top-level headers ---- */

/* Always compared; then every other Content-* header the top-level part has
 * before or after the change (a replaced part's Content-ID must not stay). */
static const char *const top_headers[] = {"Content-Type", "Content-Transfer-Encoding",
                                          "Content-Disposition", "MIME-Version"};
#define NTOP (sizeof(top_headers) / sizeof(top_headers[0]))

bool bd_rewrite_header_may_change(const char *name)
{
	return g_ascii_strncasecmp(name, "Content-", 8) == 0 ||
	       g_ascii_strcasecmp(name, "MIME-Version") == 0;
}

static void add_name(GPtrArray *names, const char *name)
{
	for (guint i = 0; i < names->len; i++)
		if (g_ascii_strcasecmp(names->pdata[i], name) == 0)
			return;
	g_ptr_array_add(names, g_strdup(name));
}

static void top_header_names(GMimeMessage *msg, GPtrArray *names)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeHeaderList *list;

	for (size_t i = 0; i < NTOP; i++)
		add_name(names, top_headers[i]);
	if (top == NULL)
		return;
	list = g_mime_object_get_header_list(top);
	for (int i = 0; i < g_mime_header_list_get_count(list); i++) {
		const char *name =
		        g_mime_header_get_name(g_mime_header_list_get_header_at(list, i));

		if (name != NULL && bd_rewrite_header_may_change(name))
			add_name(names, name);
	}
}

static char *unfolded(const char *v)
{
	GString *s;

	if (v == NULL)
		return NULL;
	s = g_string_new(NULL);
	for (const char *p = v; *p; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		g_string_append_c(s, *p == '\t' && (s->len == 0 || p[-1] == '\n') ? ' ' : *p);
	}
	g_strstrip(s->str);
	return g_string_free(s, FALSE);
}

static GMimeObject *header_owner(GMimeMessage *msg, const char *name)
{
	return strcmp(name, "MIME-Version") == 0 ? GMIME_OBJECT(msg)
	                                         : g_mime_message_get_mime_part(msg);
}

/* The raw value as it would be written (unfolded), or NULL when absent. */
static char *top_header(GMimeMessage *msg, GMimeFormatOptions *fmt, const char *name)
{
	GMimeObject *owner = header_owner(msg, name);
	GMimeHeader *h;

	if (owner == NULL)
		return NULL;
	h = g_mime_header_list_get_header(g_mime_object_get_header_list(owner), name);
	if (h == NULL)
		return NULL;
	if (g_mime_header_get_raw_value(h) != NULL)
		return unfolded(g_mime_header_get_raw_value(h));
	return unfolded(g_mime_header_get_value(h));
}

/* BEFORE[i]: the value of NAMES[i] before the change (names added since have none). */
static void diff_headers(struct bd_rewrite_job *j, GPtrArray *names, GPtrArray *before,
                         GMimeFormatOptions *fmt)
{
	top_header_names(j->msg, names);
	j->res->headers = bd_calloc(names->len, sizeof(*j->res->headers));
	for (guint i = 0; i < names->len; i++) {
		const char *was = i < before->len ? before->pdata[i] : NULL;
		char *after = top_header(j->msg, fmt, names->pdata[i]);

		if (g_strcmp0(was, after) != 0) {
			j->res->headers[j->res->nheaders].name = bd_strdup(names->pdata[i]);
			j->res->headers[j->res->nheaders].value = after ? bd_strdup(after) : NULL;
			j->res->nheaders++;
		}
		g_free(after);
	}
}

/* ---- the pipeline ---- */

static void summary(struct bd_rewrite_result *res, const char *prefix, const char *what)
{
	snprintf(res->reason, sizeof(res->reason), "%s: %s", prefix, what);
}

static void refuse(struct bd_rewrite_result *res, const char *why, const char *text)
{
	res->refused = true;
	res->refusal_status = "5.6.0";
	res->refusal_text = text;
	summary(res, "refused", why);
}

/* A Content-* header line that names a file or an attachment, or a type that is
 * not text; a uuencoded block. LINE is lower case; *IN_CONTENT carries over folds. */
static bool line_says_file(const char *line, bool *in_content)
{
	if (*line == ' ' || *line == '\t') {
		if (!*in_content)
			return false;
	} else {
		*in_content = strncmp(line, "content-", 8) == 0;
	}
	if (strncmp(line, "begin ", 6) == 0 && g_ascii_isdigit(line[6]))
		return true;
	if (!*in_content)
		return false;
	if (strstr(line, "name") != NULL || strstr(line, "attachment") != NULL)
		return true;
	if (strncmp(line, "content-type:", 13) == 0) {
		const char *t = line + 13 + strspn(line + 13, " \t");

		return *t != '\0' && *t != '\r' && strncmp(t, "text/", 5) != 0 &&
		       strncmp(t, "multipart/", 10) != 0 && strncmp(t, "message/", 8) != 0;
	}
	return false;
}

/*
 * Whether a message looks like it carries files, read from its bytes: the
 * parse of a malformed message may not show its parts. Errs towards yes.
 */
static bool carries_files(GMimeStream *spool)
{
	GMimeStream *sub = g_mime_stream_substream(spool, 0, -1);
	char buf[65536], line[256];
	size_t len = 0;
	bool in_content = false, found = false;
	ssize_t n;

	while (!found && (n = g_mime_stream_read(sub, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && !found; i++) {
			if (buf[i] == '\n') {
				line[len] = '\0';
				found = line_says_file(line, &in_content);
				len = 0;
			} else if (len < sizeof(line) - 1) {
				line[len++] = g_ascii_tolower(buf[i]);
			}
		}
	}
	line[len] = '\0';
	if (!found && len > 0)
		found = line_says_file(line, &in_content);
	g_object_unref(sub);
	return found;
}

/* The parts cannot be found unambiguously: what [policy] malformed says. */
static int malformed(struct bd_rewrite_job *j, struct bd_error *err)
{
	const struct bd_conf *conf = j->rw->conf;
	struct bd_rewrite_result *res = j->res;
	char why[200];

	res->malformed = true;
	summary(res, "malformed MIME", j->problem);
	switch (conf->policy.malformed) {
	case BD_MALFORMED_TEMPFAIL: return bd_error_set(err, BD_E_INVALID, "%s", res->reason);
	case BD_MALFORMED_REJECT:
		if ((j->env->outgoing || !conf->policy.outgoing_only) &&
		    carries_files(res->state->stream)) {
			snprintf(why, sizeof(why), "malformed MIME (%s) with attachments",
			         j->problem);
			refuse(res, why,
			       "the attachments of this message could not be read safely; it was "
			       "not sent");
		} else {
			summary(res, "malformed MIME, no attachments seen, unchanged", j->problem);
		}
		break;
	case BD_MALFORMED_UNCHANGED: break;
	}
	return 1;
}

/* Everything up to the decisions; returns 1 when the message stays unchanged (or is refused). */
static int prepare(struct bd_rewrite_job *j, int spool_fd, struct bd_error *err)
{
	struct bd_rewrite_result *res = j->res;
	struct bd_rewrite_state *st;
	GMimeObject *top;
	char why[128];

	if (parse(res, spool_fd, err) < 0)
		return -1;
	st = res->state;
	j->msg = st->message;
	if (j->msg == NULL || g_mime_message_get_mime_part(j->msg) == NULL) {
		j->problem = "not a message gmime can parse";
	} else if (st->warnings.critical > 0) {
		snprintf(why, sizeof(why), "gmime: %s at offset %lld",
		         warning_name(st->warnings.first), (long long)st->warnings.offset);
		j->problem = why;
	} else {
		top = g_mime_message_get_mime_part(j->msg);
		check_structure(j, top, 1, NULL);
	}
	if (j->problem != NULL)
		return malformed(j, err);
	j->veto =
	        bd_policy_check_message(&j->rw->conf->policy, &j->rw->conf->milter, j->env, j->msg);
	walk(j, g_mime_message_get_mime_part(j->msg), NULL, 0, "1");
	if (j->veto != NULL) {
		for (size_t i = 0; i < res->nparts; i++)
			if (res->parts[i].action != BD_REWRITE_CONTAINER)
				res->parts[i].reason = "the message stays unchanged";
		summary(res, "unchanged", j->veto);
		return 1;
	}
	if (decide(j, err) < 0)
		return -1;
	if (j->veto != NULL) {
		/* an undecodable part under [policy] undecodable = unchanged */
		for (size_t i = 0; i < res->nparts; i++)
			if (res->parts[i].action == BD_REWRITE_SEND) {
				res->parts[i].action = BD_REWRITE_KEEP;
				res->parts[i].reason = "the message stays unchanged";
			}
		res->nfiles = 0;
		res->bytes = 0;
		summary(res, "unchanged", j->veto);
		return 1;
	}
	if (j->verdict.rule != NULL &&
	    (j->verdict.action == BD_RULE_BLOCK || j->verdict.action == BD_RULE_TEMPFAIL)) {
		const struct bd_conf_rule *r = j->verdict.rule;

		res->refused = r->action == BD_RULE_BLOCK;
		res->tempfail = r->action == BD_RULE_TEMPFAIL;
		res->refusal_status = bd_rules_answer_code(r);
		res->refusal_text = bd_rules_answer_text(r);
		snprintf(res->reason, sizeof(res->reason), "%s by rule %s: %s",
		         res->refused ? "refused" : "held back", r->name, j->verdict.why);
		return 1;
	}
	if (res->nfiles > BD_MANIFEST_MAX_FILES) {
		/* never out with its files, never retried: the sender must split it */
		refuse(res, "more attachments than one download link can list (1000)",
		       "this message has more than 1000 attachments, more than one download "
		       "link can carry; it was not sent: send them in several messages");
		return 1;
	}
	if (res->nfiles == 0) {
		for (size_t i = 0; i < res->nparts; i++)
			if (res->parts[i].action == BD_REWRITE_BODY)
				res->parts[i].reason = "body text (no notice: nothing goes)";
		summary(res, "unchanged", "nothing to send");
		return 1;
	}
	decide_protection(j);
	snprintf(res->reason, sizeof(res->reason), "%u file%s to send", res->nfiles,
	         res->nfiles == 1 ? "" : "s");
	return 0;
}

static int start(const struct bd_rewrite *rw, const struct bd_rewrite_envelope *env,
                 struct bd_rewrite_job *j, struct bd_rewrite_result **out)
{
	static const struct bd_rewrite_envelope none = {0};

	*out = bd_calloc(1, sizeof(**out));
	memset(j, 0, sizeof(*j));
	j->rw = rw;
	j->env = env != NULL ? env : &none;
	j->res = *out;
	j->now = j->env->now ? j->env->now : time(NULL);
	return 0;
}

static void end_job(struct bd_rewrite_job *j)
{
	free_nodes(j);
	for (guint i = 0; j->tnef != NULL && i < j->tnef->len; i++) {
		struct bd_tnef *t = j->tnef->pdata[i];

		bd_tnef_free(&t);
	}
	if (j->tnef != NULL)
		g_ptr_array_free(j->tnef, TRUE);
}

int bd_rewrite_explain(const struct bd_rewrite *rw, int spool_fd,
                       const struct bd_rewrite_envelope *env, struct bd_rewrite_result **out,
                       struct bd_error *err)
{
	struct bd_rewrite_job j;
	int rc;

	start(rw, env, &j, out);
	rc = prepare(&j, spool_fd, err);
	end_job(&j);
	if (rc < 0) {
		bd_rewrite_result_free(out);
		return -1;
	}
	return 0;
}

static int rewrite(struct bd_rewrite_job *j, struct bd_error *err)
{
	struct bd_rewrite_result *res = j->res;
	const struct bd_conf *conf = j->rw->conf;
	struct bd_package_keys *keys = bd_package_keys_new();
	struct bd_attachment_item *items = bd_calloc(res->nfiles, sizeof(*items));
	struct bd_notice_file *files = bd_calloc(res->nfiles, sizeof(*files));
	int64_t expires =
	        (int64_t)j->now +
	        (int64_t)(j->verdict.retention ? j->verdict.retention : conf->policy.retention);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *before = g_ptr_array_new_with_free_func(g_free);
	char *link = NULL, *text = NULL, *html = NULL;
	size_t n = 0;
	bool top_gone, manifest_stored = false;
	struct timespec t0, t1;
	int rc = -1;

	for (size_t i = 0; i < res->nparts; i++) {
		if (res->parts[i].action != BD_REWRITE_SEND)
			continue;
		items[n] = (struct bd_attachment_item){.content = content_of(j, i),
		                                       .index = (unsigned)n + 1,
		                                       .size = res->parts[i].size};
		files[n] = (struct bd_notice_file){res->parts[i].filename, res->parts[i].size};
		n++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (bd_attachment_run(j->rw->store, keys, items, n,
	                      (unsigned)conf->storage.parallel_uploads, j->env, err) < 0)
		goto fail;
	if (store_manifest(j, keys, expires, err) < 0)
		goto fail;
	manifest_stored = true;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->store_seconds =
	        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	link = make_link(j, keys, expires, BD_TOKEN_DOWNLOAD, err);
	if (link == NULL)
		goto fail;
	if (res->manifest->protection.receipts != BD_RECEIPTS_OFF &&
	    (res->manage_link = make_link(j, keys, expires, BD_TOKEN_MANAGE, err)) == NULL)
		goto fail;
	{
		enum bd_notice_languages langs = bd_notice_language_for(
		        &conf->notice, &conf->milter, j->env->recipients, j->env->nrecipients);
		struct bd_notice_vars vars = {
		        conf->gateway.organisation, link, (time_t)expires, n, files, langs};

		text = bd_notice_render_text(j->rw->notice, &vars);
		html = bd_notice_render_html(j->rw->notice, &vars);
	}

	/* Every object is stored: from here on the message changes. */
	top_header_names(j->msg, names);
	for (guint i = 0; i < names->len; i++)
		g_ptr_array_add(before, top_header(j->msg, res->state->format, names->pdata[i]));
	/* a multipart whose closing boundary was missing gets one: once its
	 * last part is gone, nothing else would end it */
	for (size_t i = 0; i < res->nparts; i++)
		if (res->parts[i].action == BD_REWRITE_CONTAINER)
			GMIME_MULTIPART(j->nodes[i].obj)->write_end_boundary = TRUE;
	top_gone = remove_sent(j);
	insert_notices(j, text, html, top_gone);
	if (g_mime_object_get_header(GMIME_OBJECT(j->msg), "MIME-Version") == NULL)
		g_mime_object_set_header(GMIME_OBJECT(j->msg), "MIME-Version", "1.0", NULL);
	diff_headers(j, names, before, res->state->format);
	bd_package_id_hex(keys->id, res->package_id);
	snprintf(res->x_bestanden, sizeof(res->x_bestanden), "files=%u; package=%s", res->nfiles,
	         res->package_id);
	while (g_mime_header_list_remove(g_mime_object_get_header_list(GMIME_OBJECT(j->msg)),
	                                 "X-Bestanden"))
		;
	g_mime_object_append_header(GMIME_OBJECT(j->msg), "X-Bestanden", res->x_bestanden, NULL);
	res->changed = true;
	snprintf(res->reason, sizeof(res->reason), "%u file%s sent, package %s", res->nfiles,
	         res->nfiles == 1 ? "" : "s", res->package_id);
	rc = 0;
	goto out;
fail:
	delete_package(j, keys, items, n, manifest_stored);
out:
	g_ptr_array_free(names, TRUE);
	g_ptr_array_free(before, TRUE);
	free_secret_string(link);
	free_secret_string(text);
	free_secret_string(html);
	free(files);
	free(items);
	bd_package_keys_free(&keys);
	return rc;
}

int bd_rewrite_begin(const struct bd_rewrite *rw, int spool_fd,
                     const struct bd_rewrite_envelope *env, struct bd_rewrite_result **out,
                     struct bd_rewrite_job **jobp, struct bd_error *err)
{
	struct bd_rewrite_job *j;
	int rc;

	*jobp = NULL;
	if (rw->keys == NULL || rw->store == NULL) {
		*out = NULL;
		return bd_error_set(err, BD_E_INVALID,
		                    "no keys or store: this engine can only explain");
	}
	j = bd_malloc(sizeof(*j));
	start(rw, env, j, out);
	rc = prepare(j, spool_fd, err);
	if (rc == 0) {
		*jobp = j;
		return 0;
	}
	end_job(j);
	free(j);
	if (rc < 0) {
		bd_rewrite_result_free(out);
		return -1;
	}
	return 1;
}

int bd_rewrite_finish(struct bd_rewrite_job **jobp, struct bd_rewrite_result **out,
                      struct bd_error *err)
{
	struct bd_rewrite_job *j = *jobp;
	int rc = rewrite(j, err);

	end_job(j);
	free(j);
	*jobp = NULL;
	if (rc < 0)
		bd_rewrite_result_free(out);
	return rc;
}

int bd_rewrite_message(const struct bd_rewrite *rw, int spool_fd,
                       const struct bd_rewrite_envelope *env, struct bd_rewrite_result **out,
                       struct bd_error *err)
{
	struct bd_rewrite_job *j;
	int rc = bd_rewrite_begin(rw, spool_fd, env, out, &j, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return bd_rewrite_finish(&j, out, err);
}

/* ---- output ---- */

static int write_out(struct bd_rewrite_result *r, struct bd_sink *out, bool body_only,
                     struct bd_error *err)
{
	GMimeStream *sink, *filtered;
	GMimeFilter *crlf;
	ssize_t n;
	int rc = 0;

	if (!r->changed || r->state == NULL || r->state->message == NULL)
		return bd_error_set(err, BD_E_INVALID,
		                    "the message was not changed: pass on the original");
	sink = bd_mimestream_sink_new(out);
	filtered = g_mime_stream_filter_new(sink);
	crlf = g_mime_filter_unix2dos_new(FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), crlf);
	g_object_unref(crlf);
	if (body_only)
		n = g_mime_object_write_content_to_stream(GMIME_OBJECT(r->state->message),
		                                          r->state->format, filtered);
	else
		n = g_mime_object_write_to_stream(GMIME_OBJECT(r->state->message), r->state->format,
		                                  filtered);
	if (n < 0 || g_mime_stream_flush(filtered) < 0)
		rc = bd_error_set(err, BD_E_IO, "writing the rewritten message failed");
	g_object_unref(filtered);
	g_object_unref(sink);
	return rc;
}

int bd_rewrite_write_message(struct bd_rewrite_result *r, struct bd_sink *out, struct bd_error *err)
{
	return write_out(r, out, false, err);
}

int bd_rewrite_write_body(struct bd_rewrite_result *r, struct bd_sink *out, struct bd_error *err)
{
	return write_out(r, out, true, err);
}
