/*
 * template.c - notice templates: load, check, render (see template.h).
 *
 * Templates are compiled into a token list at load time so that every
 * mistake (unknown placeholder, unbalanced section, no link line) is found
 * when the program starts, not when the first message goes out.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "template.h"
#include "format.h"
#include "html.h"
#include "mem.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_MAX (64 * 1024)

enum tok_kind { TOK_TEXT, TOK_VAR, TOK_OPEN, TOK_CLOSE };

struct tok {
	enum tok_kind kind;
	char *text; /* literal, variable name or section name */
	size_t end; /* TOK_OPEN: index of its TOK_CLOSE */
};

struct template
{
	struct tok *v;
	size_t n, cap;
};

/* One language's templates. */
struct wording {
	char lang[8];
	struct template text, html;
};

struct bd_notice {
	struct wording w[2]; /* the languages loaded, Dutch first */
	size_t n;
};

static const char *const variables[] = {
        "organisation", "link", "expiry", "count", "requester", "note",    "max_size",
        "max_files",    "file", "when",   "who",   "code",      "minutes", "recipients"};
static const char *const file_variables[] = {"name", "size"};
static const char *const sections[] = {"files", "one", "many", "note", "who", "anyone"};
/* Templates of mails that are about a link: the link must be in them (a receipt has none). */
static const char *const linked[] = {"notice", "request", "manage"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

#define IN_LIST(s, list) in_list((s), (list), sizeof(list) / sizeof((list)[0]))

static void template_add(struct template *t, enum tok_kind kind, const char *text, size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 32;
		t->v = bd_realloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n].kind = kind;
	t->v[t->n].text = bd_strndup(text, len);
	t->v[t->n].end = 0;
	t->n++;
}

static void template_clear(struct template *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* True when [from, to) holds only blanks. */
static bool blank(const char *from, const char *to)
{
	for (; from < to; from++)
		if (*from != ' ' && *from != '\t')
			return false;
	return true;
}

/*
 * Compile SRC. A section tag alone on its line takes the line with it, so
 * templates can put {{#files}} on a line of its own without leaving a gap.
 */
static int template_compile(struct template *t, const char *src, const char *path,
                            struct bd_error *err)
{
	size_t stack[8], depth = 0, infiles = 0;
	const char *p = src, *lit = src, *line_start = src;
	unsigned line = 1;
	GString *literal = g_string_new(NULL);

	while (*p) {
		if (p == line_start && p[0] == '#' && p[1] == '#') {
			const char *nl = strchr(p, '\n');

			g_string_append_len(literal, lit, p - lit);
			p = nl ? nl + 1 : p + strlen(p);
			lit = line_start = p;
			line++;
			continue;
		}
		if (*p == '\n') {
			line++;
			line_start = ++p;
			continue;
		}
		if (p[0] != '{' || p[1] != '{') {
			p++;
			continue;
		}
		{
			const char *close = strstr(p + 2, "}}");
			const char *name = p + 2, *after;
			enum tok_kind kind = TOK_VAR;
			char word[32];
			size_t len;

			if (close == NULL) {
				g_string_free(literal, TRUE);
				return bd_error_set(err, BD_E_CONFIG, "%s:%u: '{{' without '}}'",
				                    path, line);
			}
			if (*name == '#' || *name == '/') {
				kind = *name == '#' ? TOK_OPEN : TOK_CLOSE;
				name++;
			}
			len = (size_t)(close - name);
			if (len == 0 || len >= sizeof(word) || memchr(name, '\n', len) != NULL) {
				g_string_free(literal, TRUE);
				return bd_error_set(err, BD_E_CONFIG,
				                    "%s:%u: malformed placeholder", path, line);
			}
			memcpy(word, name, len);
			word[len] = '\0';
			after = close + 2;
			g_string_append_len(literal, lit, p - lit);
			if (kind != TOK_VAR && blank(line_start, p) &&
			    (after[strspn(after, " \t")] == '\n' ||
			     after[strspn(after, " \t")] == '\0')) {
				/* standalone section tag: drop its indentation and its newline */
				g_string_truncate(literal, literal->len - (size_t)(p - line_start));
				after += strspn(after, " \t");
				if (*after == '\n') {
					after++;
					line++;
				}
				line_start = after;
			}
			if (literal->len > 0)
				template_add(t, TOK_TEXT, literal->str, literal->len);
			g_string_truncate(literal, 0);

			if (kind == TOK_VAR) {
				if (!IN_LIST(word, variables) &&
				    !(infiles > 0 && IN_LIST(word, file_variables))) {
					g_string_free(literal, TRUE);
					return bd_error_set(err, BD_E_CONFIG,
					                    "%s:%u: unknown placeholder {{%s}}%s",
					                    path, line, word,
					                    IN_LIST(word, file_variables)
					                            ? " (only inside {{#files}})"
					                            : "");
				}
			} else if (kind == TOK_OPEN) {
				if (!IN_LIST(word, sections) ||
				    depth == sizeof(stack) / sizeof(stack[0])) {
					g_string_free(literal, TRUE);
					return bd_error_set(err, BD_E_CONFIG,
					                    "%s:%u: unknown section {{#%s}}", path,
					                    line, word);
				}
				stack[depth++] = t->n;
				if (strcmp(word, "files") == 0)
					infiles++;
			} else {
				if (depth == 0 || strcmp(t->v[stack[depth - 1]].text, word) != 0) {
					g_string_free(literal, TRUE);
					return bd_error_set(
					        err, BD_E_CONFIG,
					        "%s:%u: {{/%s}} does not close an open section",
					        path, line, word);
				}
				t->v[stack[--depth]].end = t->n;
				if (strcmp(word, "files") == 0)
					infiles--;
			}
			template_add(t, kind, word, len);
			p = lit = after;
		}
	}
	g_string_append_len(literal, lit, p - lit);
	if (literal->len > 0)
		template_add(t, TOK_TEXT, literal->str, literal->len);
	g_string_free(literal, TRUE);
	if (depth > 0)
		return bd_error_set(err, BD_E_CONFIG, "%s: section {{#%s}} is never closed", path,
		                    t->v[stack[depth - 1]].text);
	return 0;
}

static char *read_template(const char *path, struct bd_error *err)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL) {
		bd_error_set(err, BD_E_CONFIG, "notice template %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = bd_malloc(TEMPLATE_MAX + 1);
	n = fread(buf, 1, TEMPLATE_MAX + 1, f);
	fclose(f);
	if (n > TEMPLATE_MAX) {
		free(buf);
		bd_error_set(err, BD_E_CONFIG, "notice template %s: larger than %d bytes", path,
		             TEMPLATE_MAX);
		return NULL;
	}
	buf[n] = '\0';
	if (strlen(buf) != n || !g_utf8_validate(buf, (gssize)n, NULL)) {
		free(buf);
		bd_error_set(err, BD_E_CONFIG, "notice template %s: not UTF-8 text", path);
		return NULL;
	}
	return buf;
}

static bool has_line(const char *src, const char *wanted)
{
	size_t wl = strlen(wanted);

	for (const char *p = src; p != NULL && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t len = strcspn(p, "\n");

		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		if (len == wl && memcmp(p, wanted, wl) == 0)
			return true;
	}
	return false;
}

static int load_one(struct template *t, const char *dir, const char *name, const char *lang,
                    const char *ext, struct bd_error *err)
{
	char *path = bd_asprintf("%s/%s.%s.%s", dir, name, lang, ext);
	char *src = read_template(path, err);
	int r = -1;

	if (src == NULL)
		goto out;
	if (!IN_LIST(name, linked)) {
		r = template_compile(t, src, path, err);
		goto out;
	}
	if (strstr(src, "{{link}}") == NULL) {
		bd_error_set(err, BD_E_CONFIG, "notice template %s: {{link}} is missing", path);
		goto out;
	}
	if (strcmp(ext, "txt") == 0 && !has_line(src, "<{{link}}>")) {
		bd_error_set(
		        err, BD_E_CONFIG,
		        "notice template %s: needs the line <{{link}}> (the URL alone on its line)",
		        path);
		goto out;
	}
	r = template_compile(t, src, path, err);
out:
	free(src);
	free(path);
	return r;
}

struct bd_notice *bd_notice_load(const char *dir, const char *lang, struct bd_error *err)
{
	return bd_notice_load_named(dir, "notice", lang, err);
}

struct bd_notice *bd_notice_load_named(const char *dir, const char *name, const char *lang,
                                       struct bd_error *err)
{
	static const char *const both[] = {"nl", "en"};
	struct bd_notice *n;
	size_t count = 1;
	const char *const *langs = &lang;

	if (strcmp(lang, "auto") == 0)
		langs = both, count = 2;
	else if (strcmp(lang, "nl") != 0 && strcmp(lang, "en") != 0) {
		bd_error_set(err, BD_E_CONFIG, "notice language '%s': expected nl, en or auto",
		             lang);
		return NULL;
	}
	n = bd_calloc(1, sizeof(*n));
	for (; n->n < count; n->n++) {
		struct wording *w = &n->w[n->n];

		snprintf(w->lang, sizeof(w->lang), "%s", langs[n->n]);
		if (load_one(&w->text, dir, name, w->lang, "txt", err) < 0 ||
		    load_one(&w->html, dir, name, w->lang, "html", err) < 0) {
			n->n++;
			bd_notice_free(&n);
			return NULL;
		}
	}
	return n;
}

void bd_notice_free(struct bd_notice **np)
{
	struct bd_notice *n = np != NULL ? *np : NULL;

	if (n != NULL) {
		for (size_t i = 0; i < n->n; i++) {
			template_clear(&n->w[i].text);
			template_clear(&n->w[i].html);
		}
		free(n);
		*np = NULL;
	}
}

const char *bd_notice_language(const struct bd_notice *n)
{
	return n->w[0].lang;
}

static void append_escaped(GString *out, const char *value, bool html)
{
	if (html)
		bd_html_append_escaped(out, value);
	else
		g_string_append(out, value);
}

struct render {
	const char *lang;
	const struct bd_notice_vars *v;
	struct bd_notice_request rq; /* all empty outside the "request" templates */
	struct bd_notice_receipt rc; /* all empty outside the "receipt" templates */
	struct bd_notice_code code;  /* all empty outside the "code" templates */
	const char *recipients;      /* the "manage" templates': to whom the message went */
	bool html;
	char expiry[64], when[96];
	GString *out;
};

static void render_range(struct render *r, const struct template *t, size_t from, size_t to,
                         size_t file)
{
	for (size_t i = from; i < to; i++) {
		const struct tok *k = &t->v[i];
		char buf[64];

		switch (k->kind) {
		case TOK_TEXT: g_string_append(r->out, k->text); break;
		case TOK_VAR:
			if (strcmp(k->text, "organisation") == 0) {
				append_escaped(r->out, r->v->organisation, r->html);
			} else if (strcmp(k->text, "link") == 0) {
				append_escaped(r->out, r->v->link, r->html);
			} else if (strcmp(k->text, "expiry") == 0) {
				append_escaped(r->out, r->expiry, r->html);
			} else if (strcmp(k->text, "requester") == 0) {
				append_escaped(r->out, r->rq.requester ? r->rq.requester : "",
				               r->html);
			} else if (strcmp(k->text, "note") == 0) {
				append_escaped(r->out, r->rq.note ? r->rq.note : "", r->html);
			} else if (strcmp(k->text, "file") == 0) {
				append_escaped(r->out, r->rc.file ? r->rc.file : "", r->html);
			} else if (strcmp(k->text, "when") == 0) {
				append_escaped(r->out, r->when, r->html);
			} else if (strcmp(k->text, "who") == 0) {
				append_escaped(r->out, r->rc.who ? r->rc.who : "", r->html);
			} else if (strcmp(k->text, "recipients") == 0) {
				append_escaped(r->out, r->recipients ? r->recipients : "", r->html);
			} else if (strcmp(k->text, "max_size") == 0) {
				bd_format_size(r->lang, r->rq.max_size, buf, sizeof(buf));
				append_escaped(r->out, buf, r->html);
			} else if (strcmp(k->text, "max_files") == 0) {
				snprintf(buf, sizeof(buf), "%zu", r->rq.max_files);
				g_string_append(r->out, buf);
			} else if (strcmp(k->text, "code") == 0) {
				append_escaped(r->out, r->code.code ? r->code.code : "", r->html);
			} else if (strcmp(k->text, "minutes") == 0) {
				snprintf(buf, sizeof(buf), "%u", r->code.minutes);
				g_string_append(r->out, buf);
			} else if (strcmp(k->text, "count") == 0) {
				snprintf(buf, sizeof(buf), "%zu", r->v->nfiles);
				g_string_append(r->out, buf);
			} else if (strcmp(k->text, "name") == 0) {
				append_escaped(r->out, r->v->files[file].name, r->html);
			} else if (strcmp(k->text, "size") == 0) {
				bd_format_size(r->lang, r->v->files[file].size, buf, sizeof(buf));
				append_escaped(r->out, buf, r->html);
			}
			break;
		case TOK_OPEN:
			if (strcmp(k->text, "files") == 0) {
				for (size_t f = 0; f < r->v->nfiles; f++)
					render_range(r, t, i + 1, k->end, f);
			} else if (strcmp(k->text, "note") == 0) {
				if (r->rq.note != NULL && r->rq.note[0] != '\0')
					render_range(r, t, i + 1, k->end, file);
			} else if (strcmp(k->text, "who") == 0 || strcmp(k->text, "anyone") == 0) {
				if ((r->rc.who != NULL && r->rc.who[0] != '\0') ==
				    (strcmp(k->text, "who") == 0))
					render_range(r, t, i + 1, k->end, file);
			} else if ((strcmp(k->text, "one") == 0) == (r->v->nfiles == 1)) {
				render_range(r, t, i + 1, k->end, file);
			}
			i = k->end;
			break;
		case TOK_CLOSE: break;
		}
	}
}

/* What one rendering fills in beyond V: an upload request's, a receipt's or a code's values. */
struct extras {
	const struct bd_notice_request *rq;
	const struct bd_notice_receipt *rc;
	const struct bd_notice_code *code;
	const char *recipients;
};

static void render_one(const struct wording *w, const struct bd_notice_vars *v,
                       const struct extras *x, bool html, GString *out)
{
	struct render r = {.lang = w->lang, .v = v, .html = html, .out = out};

	if (x->rq != NULL)
		r.rq = *x->rq;
	if (x->code != NULL)
		r.code = *x->code;
	r.recipients = x->recipients;
	if (x->rc != NULL) {
		struct tm tm;
		time_t when = x->rc->when;
		size_t n;

		r.rc = *x->rc;
		bd_format_date(w->lang, when, r.when, sizeof(r.when));
		n = strlen(r.when);
		localtime_r(&when, &tm);
		strftime(r.when + n, sizeof(r.when) - n, " %H:%M (%Z)", &tm);
	}
	const struct template *t = html ? &w->html : &w->text;

	bd_format_date(w->lang, v->expires, r.expiry, sizeof(r.expiry));
	render_range(&r, t, 0, t->n, 0);
}

/* The wordings V asks for: one, or every one loaded (then each HTML one marked with its
 * language, and the texts parted by a rule). */
static char *render(const struct bd_notice *n, const struct bd_notice_vars *v,
                    const struct extras *x, bool html)
{
	const char *want = v->languages == BD_NOTICE_NL   ? "nl"
	                   : v->languages == BD_NOTICE_EN ? "en"
	                                                  : NULL;
	GString *out = g_string_new(NULL);
	size_t from = 0, to = n->n;
	char *result;

	if (want != NULL)
		to = 1;
	for (size_t i = 0; want != NULL && i < n->n; i++)
		if (strcmp(n->w[i].lang, want) == 0)
			from = i, to = i + 1;
	if (to - from == 1)
		render_one(&n->w[from], v, x, html, out);
	for (size_t i = from; to - from > 1 && i < to; i++) {
		if (html)
			g_string_append_printf(out, "<div lang=\"%s\">\n", n->w[i].lang);
		else if (i > from)
			g_string_append(out, "\n----------------------------------------\n\n");
		render_one(&n->w[i], v, x, html, out);
		if (html)
			g_string_append(out, "</div>\n");
	}
	if (html) {
		/* ASCII only: the snippet then fits every charset the part may have */
		GString *ascii = g_string_new(NULL);

		for (const char *p = out->str; *p; p = g_utf8_next_char(p)) {
			gunichar c = g_utf8_get_char(p);

			if (c < 0x80)
				g_string_append_c(ascii, (char)c);
			else
				g_string_append_printf(ascii, "&#%u;", (unsigned)c);
		}
		g_string_free(out, TRUE);
		out = ascii;
	}
	result = bd_strdup(out->str);
	g_string_free(out, TRUE);
	return result;
}

char *bd_notice_render_text(const struct bd_notice *n, const struct bd_notice_vars *v)
{
	return render(n, v, &(struct extras){0}, false);
}

char *bd_notice_render_html(const struct bd_notice *n, const struct bd_notice_vars *v)
{
	return render(n, v, &(struct extras){0}, true);
}

char *bd_notice_render_request_text(const struct bd_notice *n, const struct bd_notice_vars *v,
                                    const struct bd_notice_request *rq)
{
	return render(n, v, &(struct extras){.rq = rq}, false);
}

char *bd_notice_render_request_html(const struct bd_notice *n, const struct bd_notice_vars *v,
                                    const struct bd_notice_request *rq)
{
	return render(n, v, &(struct extras){.rq = rq}, true);
}

char *bd_notice_render_receipt(const struct bd_notice *n, const struct bd_notice_vars *v,
                               const struct bd_notice_receipt *rc, int html)
{
	return render(n, v, &(struct extras){.rc = rc}, html != 0);
}

char *bd_notice_render_code_text(const struct bd_notice *n, const struct bd_notice_vars *v,
                                 const struct bd_notice_code *code)
{
	return render(n, v, &(struct extras){.code = code}, false);
}

char *bd_notice_render_code_html(const struct bd_notice *n, const struct bd_notice_vars *v,
                                 const struct bd_notice_code *code)
{
	return render(n, v, &(struct extras){.code = code}, true);
}

char *bd_notice_render_manage(const struct bd_notice *n, const struct bd_notice_vars *v,
                              const char *recipients, int html)
{
	return render(n, v, &(struct extras){.recipients = recipients}, html != 0);
}
