/*
 * conf.c - reading, checking and documenting the configuration file.
 *
 * libinih does the INI syntax; this file gives every value its type and
 * bounds from the key table and keeps the line number of each key (inih
 * hands lines to our reader one at a time, so the reader counts them).
 * Problems are collected, one line each, so check-config shows them all.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "conf.h"
#include "conf-private.h"
#include "mem.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 4096

struct parse_state {
	struct bd_conf *conf;
	const char *name;          /* file name for messages */
	FILE *fp;                  /* file input, or */
	const char *text;          /* string input */
	unsigned line;             /* line most recently handed to inih */
	unsigned *seen;            /* line where each key was set, 0 if not */
	unsigned section_line;     /* line of the most recent [section] heading */
	char *section;             /* the section of the previous key, or NULL */
	struct bd_conf_rule *rule; /* the [rule NAME] its keys go to, or NULL (skipped) */
	unsigned rule_heading;     /* the line of that section's heading */
	bd_conf_report_fn *report; /* gets every problem, or NULL */
	void *report_ctx;
	char summary[BD_ERROR_MAX]; /* the problems that fit, '\n'-separated */
	size_t used;
	unsigned nerrors, nomitted;
};

/* Room kept at the end of the summary for the "and N more" line. */
#define SUMMARY_TAIL 96

static void add_error(struct parse_state *st, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * Every problem goes to the report callback; the summary for struct bd_error
 * keeps whole lines while they fit and counts the rest.
 */
static void add_error(struct parse_state *st, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	st->nerrors++;
	if (st->report != NULL)
		st->report(st->report_ctx, line);
	len = strlen(line);
	if (st->nomitted > 0 || st->used + len + 1 > sizeof(st->summary) - SUMMARY_TAIL) {
		st->nomitted++;
		return;
	}
	st->used += (size_t)snprintf(st->summary + st->used, sizeof(st->summary) - st->used, "%s%s",
	                             st->used ? "\n" : "", line);
}

static void add_problem(void *st, const char *line)
{
	add_error(st, "%s", line);
}

static void *field(void *base, const struct bd_conf_key *key)
{
	return (char *)base + key->offset;
}

void bd_conf_strlist_clear(struct bd_strlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *yes[] = {"yes", "true", "on", "1"};
	static const char *no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* Digits, then an optional unit from UNITS (with its multiplier). */
static int parse_scaled(const char *s, const char *units, const uint64_t *mult, uint64_t *out)
{
	const char *p = s;
	uint64_t v = 0, m = 1;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0') {
		const char *u = strchr(units, tolower((unsigned char)*p));

		if (u == NULL || p[1] != '\0')
			return -1;
		m = mult[u - units];
	}
	if (v != 0 && m > UINT64_MAX / v)
		return -1;
	*out = v * m;
	return 0;
}

int bd_conf_parse_size(const char *s, uint64_t *out)
{
	static const uint64_t mult[] = {1024ULL, 1024ULL * 1024, 1024ULL * 1024 * 1024};

	return parse_scaled(s, "kmg", mult, out);
}

int bd_conf_parse_duration(const char *s, uint64_t *out)
{
	static const uint64_t mult[] = {1, 60, 3600, 86400};

	return parse_scaled(s, "smhd", mult, out);
}

/* The index of V among the '|'-separated CHOICES, or -1. */
static int enum_index(const char *choices, const char *v)
{
	size_t n = strlen(v);
	int i = 0;

	for (const char *p = choices; *p; i++) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return i;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	return -1;
}

const char *bd_conf_enum_name(const struct bd_conf_key *key, int v, char *buf, size_t size)
{
	int i = 0;

	for (const char *p = key->choices; p && *p; i++) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (i == v) {
			snprintf(buf, size, "%.*s", (int)len, p);
			return buf;
		}
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	snprintf(buf, size, "?");
	return buf;
}

const char *bd_language_code(enum bd_language lang)
{
	switch (lang) {
	case BD_LANG_EN: return "en";
	case BD_LANG_AUTO: return "auto";
	default: return "nl";
	}
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Give KEY of BASE (a struct bd_conf, or a struct bd_conf_rule for a rule key) the value V;
 * on failure leave the field alone and describe why in ERR. */
int bd_conf_set_value(void *base, const struct bd_conf_key *key, const char *v,
                      struct bd_error *err)
{
	void *f = field(base, key);
	uint64_t n;

	switch (key->type) {
	case BD_CT_STRING:
	case BD_CT_PATH:
		if (key->type == BD_CT_PATH && *v != '\0' && *v != '/')
			return bd_error_set(err, BD_E_CONFIG, "'%s' is not an absolute path", v);
		if (key->type == BD_CT_PATH && *v == '\0' && key->min)
			return bd_error_set(err, BD_E_CONFIG, "a path is required");
		if (*v != '\0' && key->check && key->check(v, err) < 0)
			return -1;
		free(*(char **)f);
		*(char **)f = bd_strdup(v);
		return 0;
	case BD_CT_BOOL:
		if (parse_bool(v, (bool *)f) < 0)
			return bd_error_set(err, BD_E_CONFIG, "'%s' is not yes or no", v);
		return 0;
	case BD_CT_ENUM: {
		int i = enum_index(key->choices, v);

		if (i < 0)
			return bd_error_set(err, BD_E_CONFIG, "'%s' is not one of %s", v,
			                    key->choices);
		*(int *)f = i;
		return 0;
	}
	case BD_CT_UINT:
	case BD_CT_SIZE:
	case BD_CT_DURATION: {
		int r;

		if (key->type == BD_CT_UINT) {
			char *end;

			errno = 0;
			n = strtoull(v, &end, 10);
			r = (!isdigit((unsigned char)*v) || *end != '\0' || errno) ? -1 : 0;
		} else if (key->type == BD_CT_SIZE) {
			r = bd_conf_parse_size(v, &n);
		} else {
			r = bd_conf_parse_duration(v, &n);
		}
		if (r < 0)
			return bd_error_set(err, BD_E_CONFIG, "'%s' is not %s", v,
			                    key->type == BD_CT_UINT ? "a whole number"
			                    : key->type == BD_CT_SIZE
			                            ? "a size (e.g. 512K, 10M, 1G)"
			                            : "a duration (e.g. 30s, 5m, 2h, 14d)");
		if (n < key->min || n > key->max) {
			char lo[32], hi[32];

			snprintf(lo, sizeof(lo), "%" PRIu64, key->min);
			snprintf(hi, sizeof(hi), "%" PRIu64, key->max);
			return bd_error_set(err, BD_E_CONFIG, "'%s' is out of range (%s..%s%s)", v,
			                    lo, hi,
			                    key->type == BD_CT_SIZE       ? " bytes"
			                    : key->type == BD_CT_DURATION ? " seconds"
			                                                  : "");
		}
		*(uint64_t *)f = n;
		return 0;
	}
	case BD_CT_LIST: {
		struct bd_strlist list = {0, NULL};
		char *copy = bd_strdup(v), *save = NULL;

		for (char *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			char *item = trim(tok);

			if (*item == '\0')
				continue;
			if (key->check && key->check(item, err) < 0) {
				free(copy);
				bd_conf_strlist_clear(&list);
				return -1;
			}
			list.v = bd_realloc(list.v, (list.n + 1) * sizeof(char *));
			list.v[list.n++] = bd_strdup(item);
		}
		free(copy);
		bd_conf_strlist_clear((struct bd_strlist *)f);
		*(struct bd_strlist *)f = list;
		return 0;
	}
	}
	return bd_error_set(err, BD_E_CONFIG, "internal error: unknown type");
}

const struct bd_conf_key *bd_conf_find(const char *section, const char *name)
{
	for (size_t i = 0; i < bd_conf_nkeys; i++)
		if (strcmp(bd_conf_keys[i].section, section) == 0 &&
		    strcmp(bd_conf_keys[i].name, name) == 0)
			return &bd_conf_keys[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < bd_conf_nkeys; i++)
		if (strcmp(bd_conf_keys[i].section, section) == 0)
			return true;
	return false;
}

/* A close match in KEYS[0..N) for a misspelt key, to suggest in the message. */
static const struct bd_conf_key *near_key(const struct bd_conf_key *keys, size_t nkeys,
                                          const char *section, const char *name)
{
	const struct bd_conf_key *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < nkeys; i++) {
		const char *a = name, *b = keys[i].name;
		size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

		if (strcmp(keys[i].section, section) != 0 || la >= 63 || lb >= 63)
			continue;
		for (size_t j = 0; j <= lb; j++)
			prev[j] = j;
		for (size_t x = 1; x <= la; x++) {
			cur[0] = x;
			for (size_t y = 1; y <= lb; y++) {
				size_t c = prev[y - 1] + (a[x - 1] != b[y - 1]);

				if (prev[y] + 1 < c)
					c = prev[y] + 1;
				if (cur[y - 1] + 1 < c)
					c = cur[y - 1] + 1;
				cur[y] = c;
			}
			memcpy(prev, cur, sizeof(size_t) * (lb + 1));
		}
		if (prev[lb] < best_d) {
			best_d = prev[lb];
			best = &keys[i];
		}
	}
	return best;
}

/* "rule NAME": NAME, or NULL for another section. */
static const char *rule_name(const char *section)
{
	if (strncmp(section, "rule", 4) != 0 ||
	    (section[4] != '\0' && !isspace((unsigned char)section[4])))
		return NULL;
	section += 4;
	while (isspace((unsigned char)*section))
		section++;
	return section;
}

/* The first key of a [rule NAME] section: a new rule, or NULL when it cannot be one. */
static struct bd_conf_rule *begin_rule(struct parse_state *st, const char *name)
{
	struct bd_conf_rules *rules = &st->conf->rules;
	struct bd_conf_rule *r;

	if (*name == '\0') {
		add_error(st, "%s:%u: [rule] needs a name: [rule NAME]", st->name,
		          st->section_line);
		return NULL;
	}
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') {
			add_error(
			        st,
			        "%s:%u: rule name '%s': use letters, digits, '-', '_' and '.' only",
			        st->name, st->section_line, name);
			return NULL;
		}
	for (size_t i = 0; i < rules->n; i++)
		if (strcmp(rules->v[i].name, name) == 0) {
			add_error(
			        st,
			        "%s:%u: [rule %s] again (first on line %u); rule names are unique",
			        st->name, st->section_line, name, rules->v[i].line);
			return NULL;
		}
	rules->v = bd_realloc(rules->v, (rules->n + 1) * sizeof(*rules->v));
	r = &rules->v[rules->n++];
	bd_conf_rule_init(r, name, st->section_line);
	return r;
}

static void on_rule_key(struct parse_state *st, const char *name, const char *value)
{
	struct bd_conf_rule *r = st->rule;
	const struct bd_conf_key *key = NULL;
	struct bd_error err;
	size_t id;

	if (r == NULL)
		return;
	for (id = 0; id < BD_RULE_NKEYS; id++)
		if (strcmp(bd_conf_rule_keys[id].name, name) == 0) {
			key = &bd_conf_rule_keys[id];
			break;
		}
	if (key == NULL) {
		const struct bd_conf_key *near =
		        near_key(bd_conf_rule_keys, BD_RULE_NKEYS, "rule", name);

		add_error(st, "%s:%u: [rule %s]: unknown condition or action '%s'%s%s%s", st->name,
		          st->line, r->name, name, near ? "; did you mean '" : "",
		          near ? near->name : "", near ? "'?" : "");
		return;
	}
	if (bd_conf_rule_has(r, (enum bd_rule_key_id)id)) {
		add_error(st, "%s:%u: [rule %s] %s is set again", st->name, st->line, r->name,
		          name);
		return;
	}
	if (bd_conf_set_value(r, key, value, &err) < 0) {
		add_error(st, "%s:%u: [rule %s] %s: %s", st->name, st->line, r->name, name,
		          err.msg);
		return;
	}
	r->set |= 1ULL << id;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	const struct bd_conf_key *key;
	const char *rule;
	struct bd_error err;
	size_t idx;

	rule = rule_name(section);
	if (rule != NULL) {
		/* a new heading, even with the same name, is a new rule */
		if (st->section == NULL || strcmp(st->section, section) != 0 ||
		    st->rule_heading != st->section_line) {
			free(st->section);
			st->section = bd_strdup(section);
			st->rule = begin_rule(st, rule);
			st->rule_heading = st->section_line;
		}
		on_rule_key(st, name, value);
		return 1;
	}
	free(st->section);
	st->section = bd_strdup(section);
	st->rule = NULL;
	if (*section == '\0') {
		add_error(st, "%s:%u: key '%s' stands before any [section]", st->name, st->line,
		          name);
		return 1;
	}
	if (!section_known(section)) {
		add_error(st, "%s:%u: unknown section [%s] (key '%s')", st->name, st->line, section,
		          name);
		return 1;
	}
	key = bd_conf_find(section, name);
	if (key == NULL) {
		const struct bd_conf_key *near =
		        near_key(bd_conf_keys, bd_conf_nkeys, section, name);

		if (near)
			add_error(st, "%s:%u: unknown key '%s' in [%s]; did you mean '%s'?",
			          st->name, st->line, name, section, near->name);
		else
			add_error(st, "%s:%u: unknown key '%s' in [%s]", st->name, st->line, name,
			          section);
		return 1;
	}
	idx = (size_t)(key - bd_conf_keys);
	if (st->seen[idx]) {
		add_error(st, "%s:%u: [%s] %s is set again (first set on line %u)", st->name,
		          st->line, section, name, st->seen[idx]);
		return 1;
	}
	st->seen[idx] = st->line;
	if (bd_conf_set_value(st->conf, key, value, &err) < 0)
		add_error(st, "%s:%u: [%s] %s: %s", st->name, st->line, section, name, err.msg);
	return 1;
}

/* inih reads through this, one line per call, so st->line is the current line. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_state *st = stream;
	size_t len;

	if (st->fp != NULL) {
		if (fgets(buf, size, st->fp) == NULL)
			return NULL;
	} else {
		const char *nl;

		if (*st->text == '\0')
			return NULL;
		nl = strchr(st->text, '\n');
		len = nl ? (size_t)(nl - st->text + 1) : strlen(st->text);
		if (len >= (size_t)size)
			len = (size_t)size - 1;
		memcpy(buf, st->text, len);
		buf[len] = '\0';
		st->text += len;
	}
	st->line++;
	if (buf[strspn(buf, " \t")] == '[')
		st->section_line = st->line;
	len = strlen(buf);
	if (len == (size_t)size - 1 && buf[len - 1] != '\n') {
		int c;

		add_error(st, "%s:%u: line longer than %d characters", st->name, st->line,
		          size - 2);
		/* skip the rest of the line so it is not read as a new one */
		if (st->fp != NULL) {
			while ((c = fgetc(st->fp)) != EOF && c != '\n')
				;
		} else {
			const char *nl = strchr(st->text, '\n');

			st->text = nl ? nl + 1 : st->text + strlen(st->text);
		}
		buf[0] = '\0';
	}
	return buf;
}

/* Checks that involve more than one key. */
size_t bd_conf_storage_missing(const struct bd_conf_storage *settings, const char **missing,
                               size_t max)
{
	static const struct {
		enum bd_storage_driver driver;
		const char *name;
		size_t off;
	} need[] = {
	        {BD_STORAGE_GATEWAY, "token_file", offsetof(struct bd_conf_storage, token_file)},
	        {BD_STORAGE_S3, "s3_endpoint", offsetof(struct bd_conf_storage, s3_endpoint)},
	        {BD_STORAGE_S3, "s3_bucket", offsetof(struct bd_conf_storage, s3_bucket)},
	        {BD_STORAGE_S3, "s3_access_key", offsetof(struct bd_conf_storage, s3_access_key)},
	        {BD_STORAGE_S3, "s3_secret_key_file",
	         offsetof(struct bd_conf_storage, s3_secret_key_file)},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		const char *v = *(char *const *)((const char *)settings + need[i].off);

		if (need[i].driver != settings->driver || (v != NULL && v[0] != '\0'))
			continue;
		if (n < max)
			missing[n] = need[i].name;
		n++;
	}
	return n;
}

static void check_combinations(struct parse_state *st)
{
	struct bd_conf *c = st->conf;
	const char *missing[8];
	size_t n = bd_conf_storage_missing(&c->storage, missing, 8);
	char driver[16];

	bd_conf_enum_name(bd_conf_find("storage", "driver"), (int)c->storage.driver, driver,
	                  sizeof(driver));
	for (size_t i = 0; i < n && i < 8; i++)
		add_error(st, "%s: [storage] driver = %s needs %s to be set", st->name, driver,
		          missing[i]);
	if ((c->gateway.tls_cert[0] == '\0') != (c->gateway.tls_key[0] == '\0'))
		add_error(st, "%s: [gateway] tls_cert and tls_key go together: set both or neither",
		          st->name);
	if (c->storage.s3_part_size > c->storage.s3_multipart_threshold)
		add_error(st, "%s: [storage] s3_part_size is larger than s3_multipart_threshold",
		          st->name);
}

/*
 * A program run from the build tree (before `make install`) finds no
 * installed templates; it then uses the source tree's, so the newcomer's
 * first `bestanden rewrite --explain` works. An installed program, or one
 * whose template_dir names another directory, is left alone.
 */
static void use_source_templates_from_build_tree(struct bd_conf *conf)
{
	static const char build_dir[] = BD_BUILD_DIR "/";
	char exe[4096];
	ssize_t n;
	struct stat st;

	if (strcmp(conf->notice.template_dir, BD_TEMPLATE_DIR) != 0 ||
	    stat(BD_TEMPLATE_DIR, &st) == 0)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	if (strncmp(exe, build_dir, sizeof(build_dir) - 1) != 0)
		return;
	free(conf->notice.template_dir);
	conf->notice.template_dir = bd_strdup(BD_SOURCE_TEMPLATE_DIR);
}

struct bd_conf *bd_conf_defaults(void)
{
	struct bd_conf *conf = bd_calloc(1, sizeof(*conf));
	struct bd_error err;

	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		if (bd_conf_set_value(conf, &bd_conf_keys[i], bd_conf_keys[i].def, &err) < 0) {
			/* A bad default is a programming error; the unit tests catch it. */
			fprintf(stderr, "bestanden: bad default for [%s] %s: %s\n",
			        bd_conf_keys[i].section, bd_conf_keys[i].name, err.msg);
			abort();
		}
	}
	use_source_templates_from_build_tree(conf);
	return conf;
}

/* Read NAME, or TEXT under that name when TEXT is not NULL. */
static struct bd_conf *load(const char *name, const char *text, bd_conf_report_fn *report,
                            void *ctx, struct bd_error *err)
{
	struct parse_state *st = bd_calloc(1, sizeof(*st));
	struct bd_conf *conf = NULL;
	int r = 0;

	*st = (struct parse_state){.name = name, .text = text, .report = report, .report_ctx = ctx};
	if (text == NULL && (st->fp = fopen(name, "r")) == NULL) {
		int e = errno;

		add_error(st, "%s: cannot open configuration: %s%s", name, strerror(e),
		          e == ENOENT ? " (use -c FILE to name another one)" : "");
	} else {
		st->conf = bd_conf_defaults();
		st->seen = bd_calloc(bd_conf_nkeys, sizeof(unsigned));
		r = ini_parse_stream(read_line, st, on_key, st);
		if (st->fp != NULL)
			fclose(st->fp);
		free(st->seen);
		free(st->section);
	}
	/* inih names only the first line it could not parse */
	if (r > 0)
		add_error(st, "%s:%d: syntax error (expected [section] or key = value)", name, r);
	else if (r < 0)
		add_error(st, "%s: could not be read", name);
	if (st->conf != NULL) {
		bd_conf_rules_check(st->conf, name, add_problem, st);
		/* warnings are not problems: the file loads, and the reader hears of them */
		for (size_t i = 0; st->report != NULL && i < st->conf->rules.warnings.n; i++)
			st->report(st->report_ctx, st->conf->rules.warnings.v[i]);
	}
	if (st->nerrors == 0)
		check_combinations(st);
	if (st->nerrors == 0) {
		conf = st->conf;
		conf->path = bd_strdup(name);
		use_source_templates_from_build_tree(conf);
	} else {
		if (st->nomitted > 0)
			snprintf(st->summary + st->used, sizeof(st->summary) - st->used,
			         "\n%s: and %u more problem%s (bestanden check-config lists them "
			         "all)",
			         name, st->nomitted, st->nomitted == 1 ? "" : "s");
		bd_error_set(err, BD_E_CONFIG, "%s", st->summary);
		bd_conf_free(&st->conf);
	}
	free(st);
	return conf;
}

struct bd_conf *bd_conf_load_reporting(const char *path, bd_conf_report_fn *report, void *ctx,
                                       struct bd_error *err)
{
	return load(path, NULL, report, ctx, err);
}

struct bd_conf *bd_conf_load(const char *path, struct bd_error *err)
{
	return load(path, NULL, NULL, NULL, err);
}

struct bd_conf *bd_conf_load_string_reporting(const char *name, const char *text,
                                              bd_conf_report_fn *report, void *ctx,
                                              struct bd_error *err)
{
	return load(name, text, report, ctx, err);
}

struct bd_conf *bd_conf_load_string(const char *name, const char *text, struct bd_error *err)
{
	return load(name, text, NULL, NULL, err);
}

void bd_conf_free(struct bd_conf **confp)
{
	struct bd_conf *conf = *confp;

	if (conf == NULL)
		return;
	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		const struct bd_conf_key *key = &bd_conf_keys[i];

		if (key->type == BD_CT_STRING || key->type == BD_CT_PATH)
			free(*(char **)field(conf, key));
		else if (key->type == BD_CT_LIST)
			bd_conf_strlist_clear(field(conf, key));
	}
	bd_conf_rules_free(&conf->rules);
	free(conf->path);
	free(conf);
	*confp = NULL;
}

static void format_bound(const struct bd_conf_key *key, uint64_t v, char *buf, size_t size);

/* The value of KEY at BASE in the file's syntax; sizes and durations with a unit when HUMAN. */
static void format_value(const void *base, const struct bd_conf_key *key, bool human, char *buf,
                         size_t size)
{
	const void *f = (const char *)base + key->offset;

	if (human && (key->type == BD_CT_SIZE || key->type == BD_CT_DURATION)) {
		format_bound(key, *(const uint64_t *)f, buf, size);
		return;
	}

	switch (key->type) {
	case BD_CT_STRING:
	case BD_CT_PATH: snprintf(buf, size, "%s", *(char *const *)f); break;
	case BD_CT_ENUM: bd_conf_enum_name(key, *(const int *)f, buf, size); break;
	case BD_CT_BOOL: snprintf(buf, size, "%s", *(const bool *)f ? "yes" : "no"); break;
	case BD_CT_UINT:
	case BD_CT_SIZE:
	case BD_CT_DURATION: snprintf(buf, size, "%" PRIu64, *(const uint64_t *)f); break;
	case BD_CT_LIST: {
		const struct bd_strlist *l = f;
		size_t used = 0;

		buf[0] = '\0';
		for (size_t i = 0; i < l->n && used < size; i++)
			used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
			                         l->v[i]);
		break;
	}
	}
}

void bd_conf_format_value(const struct bd_conf *conf, const struct bd_conf_key *key, char *buf,
                          size_t size)
{
	format_value(conf, key, false, buf, size);
}

void bd_conf_rule_format_value(const struct bd_conf_rule *rule, enum bd_rule_key_id id, char *buf,
                               size_t size)
{
	format_value(rule, &bd_conf_rule_keys[id], true, buf, size);
}

static const char *type_name(const struct bd_conf_key *key)
{
	switch (key->type) {
	case BD_CT_STRING: return "text";
	case BD_CT_PATH: return "path";
	case BD_CT_BOOL: return "yes|no";
	case BD_CT_UINT: return "number";
	case BD_CT_SIZE: return "size";
	case BD_CT_DURATION: return "duration";
	case BD_CT_ENUM: return key->choices;
	case BD_CT_LIST: return "list";
	}
	return "?";
}

/* V in the largest unit that divides it: 4G, 14d, 90s; 0 and unitless types as a number. */
static void format_bound(const struct bd_conf_key *key, uint64_t v, char *buf, size_t size)
{
	struct unit {
		uint64_t m;
		const char *u;
	};
	static const struct unit size_units[] = {
	        {1ULL << 30, "G"}, {1ULL << 20, "M"}, {1ULL << 10, "K"}, {1, ""}};
	static const struct unit time_units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
	const struct unit *units = key->type == BD_CT_SIZE       ? size_units
	                           : key->type == BD_CT_DURATION ? time_units
	                                                         : NULL;

	if (v != 0 && units != NULL) {
		while (v % units->m != 0)
			units++;
		snprintf(buf, size, "%" PRIu64 "%s", v / units->m, units->u);
		return;
	}
	snprintf(buf, size, "%" PRIu64, v);
}

/* "text", "size, 1M..4G", ... for the example and the man page. */
static void describe_type(const struct bd_conf_key *key, char *buf, size_t size)
{
	if (key->type == BD_CT_UINT || key->type == BD_CT_SIZE || key->type == BD_CT_DURATION) {
		char lo[32], hi[32];

		format_bound(key, key->min, lo, sizeof(lo));
		format_bound(key, key->max, hi, sizeof(hi));
		snprintf(buf, size, "%s, %s..%s", type_name(key), lo, hi);
	} else {
		snprintf(buf, size, "%s", type_name(key));
	}
}

/*
 * The generated documents walk the table alike: "[section]" between OPEN
 * and CLOSE before each section's first key, then WRITE_KEY for each key
 * with its described type.
 */
static void write_keys(FILE *out, const char *open, const char *close,
                       void (*write_key)(FILE *out, const struct bd_conf_key *key,
                                         const char *type))
{
	const char *section = "";

	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		const struct bd_conf_key *key = &bd_conf_keys[i];
		char type[96];

		if (strcmp(section, key->section) != 0) {
			section = key->section;
			fprintf(out, "%s[%s]%s", open, section, close);
		}
		describe_type(key, type, sizeof(type));
		write_key(out, key, type);
	}
}

/* WRITE_KEY for each rule key, with its described type. */
static void write_rule_keys(FILE *out, void (*write_key)(FILE *out, const struct bd_conf_key *key,
                                                         const char *type))
{
	for (size_t i = 0; i < BD_RULE_NKEYS; i++) {
		char type[96];

		describe_type(&bd_conf_rule_keys[i], type, sizeof(type));
		write_key(out, &bd_conf_rule_keys[i], type);
	}
}

static void example_key(FILE *out, const struct bd_conf_key *key, const char *type)
{
	fprintf(out, "\n# %s\n# (%s)\n%s =%s%s\n", key->doc, type, key->name, *key->def ? " " : "",
	        key->def);
}

/* TEXT as comment lines starting with PREFIX, broken between words before column 80. */
static void comment_wrapped(FILE *out, const char *prefix, const char *text)
{
	size_t width = 80 - strlen(prefix);

	while (*text != '\0') {
		size_t n = strlen(text);

		if (n > width) {
			n = width;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0)
				n = strcspn(text, " ");
		}
		fprintf(out, "%s%.*s\n", prefix, (int)n, text);
		text += n;
		text += strspn(text, " ");
	}
}

/* A rule key in the example: commented out, as rules have no defaults to show. */
static void example_rule_key(FILE *out, const struct bd_conf_key *key, const char *type)
{
	fprintf(out, "#\n#   %s (%s)\n", key->name, type);
	comment_wrapped(out, "#       ", key->doc);
}

void bd_conf_write_example(FILE *out)
{
	fprintf(out,
	        "# bestanden.conf - configuration of bestanden-milter, bestanden-gateway and "
	        "bestanden.\n"
	        "#\n"
	        "# Every key is listed with its default value. Sizes take K, M or G; durations\n"
	        "# take s, m, h or d. Check a changed file with: bestanden check-config -c FILE\n"
	        "# This file is generated from the key table: bestanden check-config --example\n");
	write_keys(out, "\n", "\n", example_key);
	fprintf(out,
	        "\n# [rule NAME] sections: policy rules, first match wins; the last rule has no\n"
	        "# conditions (the default). Without rules the [policy] keys above decide.\n"
	        "# The keys a rule takes (see bestanden.conf(5) and ADMIN.md):\n");
	write_rule_keys(out, example_rule_key);
}

/* Escape text for roff: backslashes, and a leading dot or quote. */
static void roff_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void manpage_key(FILE *out, const struct bd_conf_key *key, const char *type)
{
	fprintf(out, ".TP\n\\fB");
	roff_text(out, key->name);
	fprintf(out, "\\fR (");
	roff_text(out, type);
	fprintf(out, "; default: \\fI");
	roff_text(out, *key->def ? key->def : "empty");
	fprintf(out, "\\fR)\n");
	roff_text(out, key->doc);
	fputc('\n', out);
}

void bd_conf_write_manpage(FILE *out)
{
	fprintf(out, ".TH BESTANDEN.CONF 5 \"\" \"bestanden\" \"File Formats\"\n"
	             ".SH NAME\nbestanden.conf \\- configuration of bestanden\n"
	             ".SH SYNOPSIS\n/etc/bestanden/bestanden.conf\n"
	             ".SH DESCRIPTION\n"
	             "One INI file configures bestanden\\-milter(8), bestanden\\-gateway(8) and "
	             "bestanden(1).\n"
	             "Lines are \\fIkey\\fR = \\fIvalue\\fR inside \\fB[section]\\fR headings; "
	             "lines starting with\n"
	             "\\fB#\\fR or \\fB;\\fR are comments. Unknown sections or keys, keys set "
	             "twice, and values of\n"
	             "the wrong type or out of range are errors that name the file, the line and "
	             "the key;\n"
	             "the programs refuse to start until they are fixed.\n"
	             ".PP\nSizes are bytes with an optional suffix K, M or G (powers of 1024).\n"
	             "Durations are seconds with an optional suffix s, m, h or d. Lists are "
	             "separated by commas.\n"
	             "Booleans are yes/no, true/false, on/off or 1/0.\n"
	             "Check a file with \\fBbestanden check\\-config \\-c\\fR \\fIFILE\\fR.\n");
	write_keys(out, ".SH ", "\n", manpage_key);
	fprintf(out,
	        ".SH [rule NAME]\n"
	        "Policy rules, read in file order; for each attachment the first rule whose "
	        "conditions all hold decides.\n"
	        "A rule without conditions matches everything: the last rule must be one (the "
	        "default), and a rule after\n"
	        "another that matches at least all it matches can never match (a warning).\n"
	        "A message is refused when one attachment's rule says block, tempfailed when one "
	        "says tempfail,\n"
	        "and otherwise loses the attachments whose rule says replace (one link; the "
	        "shortest retention).\n"
	        "A message without attachments is matched once, by its message conditions.\n"
	        "Without rules the [policy] keys decide alone.\n");
	write_rule_keys(out, manpage_key);
	fprintf(out, ".SH FILES\n/etc/bestanden/bestanden.conf, /etc/bestanden/keys/\n"
	             ".SH SEE ALSO\nbestanden(1), bestanden\\-milter(8), bestanden\\-gateway(8)\n");
}
