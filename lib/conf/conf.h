/*
 * conf.h - the one configuration file, /etc/bestanden/bestanden.conf.
 *
 * All three programs read the same INI file. Every key is a row in one
 * table (conf_table.c, rows in conf_keys.def): section, name, type, default, bounds and a one-line
 * description. That table drives the parser, the validation, `bestanden
 * check-config`, the example conf/bestanden.conf and bestanden.conf(5).
 * Errors name the file, the line and the key. bd_conf_load() returns a
 * struct bd_conf that the caller releases with bd_conf_free().
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_CONF_H
#define BD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "strlist.h"

#define BD_CONF_DEFAULT_PATH "/etc/bestanden/bestanden.conf"

/*
 * Enumerated settings, parsed once at load. Each enum's order is the order of
 * the choices in its key's table row (conf_keys.def); bd_conf_enum_name() gives
 * the word back, and a unit test checks the two agree.
 */
enum bd_language { BD_LANG_NL, BD_LANG_EN, BD_LANG_AUTO };
enum bd_audit_address { BD_AUDIT_ADDRESS_FULL, BD_AUDIT_ADDRESS_TRUNCATED, BD_AUDIT_ADDRESS_NONE };
enum bd_storage_driver { BD_STORAGE_GATEWAY, BD_STORAGE_S3 };
enum bd_s3_addressing { BD_S3_PATH, BD_S3_VIRTUAL };
enum bd_forwarded { BD_FORWARDED_EML, BD_FORWARDED_KEEP };
enum bd_failure_mode { BD_FAILURE_TEMPFAIL, BD_FAILURE_ACCEPT };
enum bd_malformed { BD_MALFORMED_UNCHANGED, BD_MALFORMED_TEMPFAIL, BD_MALFORMED_REJECT };
enum bd_undecodable { BD_UNDECODABLE_RAW, BD_UNDECODABLE_TEMPFAIL, BD_UNDECODABLE_UNCHANGED };
/* [recipients]; the same numbers as the manifest's enum bd_verify and bd_receipts (crypto). */
enum bd_conf_verify { BD_CONF_VERIFY_OFF = 0, BD_CONF_VERIFY_CODE = 1 };
enum bd_conf_receipts {
	BD_CONF_RECEIPTS_OFF = 0,
	BD_CONF_RECEIPTS_FIRST = 1,
	BD_CONF_RECEIPTS_EVERY = 2,
};

/*
 * Policy rules: [rule NAME] sections, in file order, first match wins (conf_rules.c).
 * Each rule key's row is in conf_rules.def; a rule remembers which keys it set in
 * .set (bit 1 << BD_RULE_KEY_*), so an absent condition is no condition.
 */
enum bd_rule_direction { BD_RULE_OUTGOING, BD_RULE_INBOUND };
enum bd_rule_external { BD_RULE_EXTERNAL_SOME, BD_RULE_EXTERNAL_ALL, BD_RULE_EXTERNAL_NONE };
enum bd_rule_action { BD_RULE_PASS, BD_RULE_REPLACE, BD_RULE_BLOCK, BD_RULE_TEMPFAIL };
/* What `sensitive` can look for: bits of bd_conf_rule.sensitive. */
enum bd_rule_sensitive { BD_SENSITIVE_BSN = 1, BD_SENSITIVE_IBAN = 2 };
/* File kinds a `type` entry may name instead of a MIME type: bits of bd_conf_rule.kinds. */
enum bd_rule_kind {
	BD_KIND_EXECUTABLE = 1,
	BD_KIND_ARCHIVE = 2,
	BD_KIND_IMAGE = 4,
	BD_KIND_DOCUMENT = 8,
};

enum bd_rule_key_id {
#define R(id, row) BD_RULE_KEY_##id,
#include "conf_rules.def"
#undef R
	BD_RULE_NKEYS
};
/* The keys before `action` are conditions. */
#define BD_RULE_CONDITIONS ((1ULL << BD_RULE_KEY_ACTION) - 1)

struct bd_conf_rule {
	char *name;
	unsigned line; /* of its [rule NAME] heading */
	uint64_t set;  /* keys set in the file: 1 << BD_RULE_KEY_* */
	/* conditions: all that are set must hold */
	enum bd_rule_direction direction;
	struct bd_strlist senders;    /* address globs (with '@') or domain globs */
	struct bd_strlist recipients; /* every recipient matches one; same syntax */
	enum bd_rule_external external;
	uint64_t min_attachments, max_attachments;
	uint64_t min_size, max_size;             /* of the one attachment */
	uint64_t min_total_size, max_total_size; /* of all of them */
	struct bd_strlist types;                 /* MIME type globs (fnmatch, lower case) */
	unsigned kinds;                          /* and file kinds (enum bd_rule_kind) */
	struct bd_strlist extensions;            /* lower case, without the dot */
	bool upload_request;                     /* the Subject has a [requests] subject_tags tag */
	struct bd_strlist sensitive_words;       /* as written; parsed into: */
	unsigned sensitive;                      /* enum bd_rule_sensitive bits */
	/* what happens */
	enum bd_rule_action action;
	uint64_t retention; /* replace; unset: [policy] retention */
	/* replace; unset: [recipients] */
	enum bd_conf_verify verify;
	enum bd_conf_receipts receipts;
	uint64_t max_downloads;
	char *reject_code; /* block: 5.7.x */
	char *reject_text; /* block and tempfail: the text the sending client sees */
};

/* "nl" or "en": the code templates and pages use; "auto" for BD_LANG_AUTO. */
const char *bd_language_code(enum bd_language lang);

struct bd_conf {
	char *path; /* the file this was read from, or NULL for defaults */

	struct bd_conf_milter {
		char *socket;
		char *user;
		char *pid_file;
		char *spool_dir;
		uint64_t spool_memory;
		uint64_t max_message_size;
		struct bd_strlist internal_networks;
		struct bd_strlist internal_domains;
		struct bd_strlist originating_daemons;
		uint64_t timeout;
	} milter;

	struct bd_conf_gateway {
		char *listen;
		char *internal_listen; /* "" : the object API and /metrics on listen */
		char *public_url;
		char *organisation;
		char *logo;
		char *tls_cert;
		char *tls_key;
		char *data_dir;
		enum bd_language language;
		char *user;
		char *pid_file;
		uint64_t max_connections;
		uint64_t connection_timeout;
		uint64_t sweep_interval;
		uint64_t failed_lookups_per_minute;
		char *audit_log;
		enum bd_audit_address audit_client_address;
		struct bd_strlist trusted_proxies;
	} gateway;

	struct bd_conf_storage {
		enum bd_storage_driver driver;
		char *url;
		char *token_file;
		char *s3_endpoint;
		char *s3_region;
		char *s3_bucket;
		char *s3_access_key;
		char *s3_secret_key_file;
		enum bd_s3_addressing s3_addressing;
		uint64_t s3_multipart_threshold;
		uint64_t s3_part_size;
		uint64_t timeout;
		uint64_t connect_timeout;
		uint64_t retries;
		uint64_t parallel_uploads;
	} storage;

	struct bd_conf_policy {
		bool outgoing_only;
		bool skip_internal_only;
		uint64_t min_attachment_size;
		bool keep_inline_images;
		bool keep_calendar;
		bool keep_signatures;
		enum bd_forwarded forwarded_messages;
		uint64_t retention;
		enum bd_failure_mode failure_mode;
		enum bd_malformed malformed;
		enum bd_undecodable undecodable;
		uint64_t max_parts;
		uint64_t max_depth;
	} policy;

	struct bd_conf_notice {
		enum bd_language language;
		struct bd_strlist dutch_domains; /* language = auto: who reads Dutch */
		char *template_dir;
	} notice;

	struct bd_conf_keys {
		char *dir;
		uint64_t grace;
		uint64_t rotate_every; /* seconds; 0: no scheduled rotation */
	} keys;

	struct bd_conf_smtp {
		char *host;
		uint64_t port;
		char *from;
	} smtp;

	struct bd_conf_admin {
		char *listen; /* "" : no admin API */
		char *token_file;
		uint64_t max_retention;
		char *url; /* "" : the CLI works on storage directly */
	} admin;

	struct bd_conf_requests {
		struct bd_strlist subject_tags; /* a Subject containing one asks for an upload */
		char *address;
		uint64_t expires;
		uint64_t max_file_size;
		uint64_t max_total_size;
		uint64_t max_files;
		bool several_uses;
		char *spool_dir;
	} requests;

	struct bd_conf_scan {
		char *clamd;
		uint64_t timeout;
	} scan;

	/* What a package asks of its recipients (rules may override the first three). */
	struct bd_conf_recipients {
		enum bd_conf_verify verify;
		enum bd_conf_receipts receipts;
		uint64_t max_downloads; /* per file; 0 = no limit */
		char *code_tag;         /* "code": [code:...] in the Subject; "" = none */
		uint64_t code_ttl;      /* seconds a mailed code stays valid */
		uint64_t code_tries;    /* wrong codes before a client is locked out */
		uint64_t lockout;       /* seconds */
	} recipients;
	/* The [rule NAME] sections in file order; none: the [policy] switches alone. */
	struct bd_conf_rules {
		struct bd_conf_rule *v;
		size_t n;
		/* Rules that can never match, and the like: file:line and why. Not errors. */
		struct bd_strlist warnings;
	} rules;
};

enum bd_conf_type {
	BD_CT_STRING,   /* free text */
	BD_CT_PATH,     /* absolute path, or empty when the default allows it */
	BD_CT_BOOL,     /* yes/no, true/false, on/off, 1/0 */
	BD_CT_UINT,     /* decimal integer within [min, max] */
	BD_CT_SIZE,     /* bytes, with optional K, M, G suffix (powers of 1024) */
	BD_CT_DURATION, /* seconds, with optional s, m, h, d suffix */
	BD_CT_ENUM,     /* one of the '|'-separated choices, stored as an int (its index) */
	BD_CT_LIST,     /* comma-separated words */
};

struct bd_conf_key {
	const char *section;
	const char *name;
	enum bd_conf_type type;
	const char *def;     /* default, in the syntax of the file */
	uint64_t min, max;   /* bounds for UINT, SIZE, DURATION */
	const char *choices; /* ENUM: "a|b|c" */
	size_t offset;       /* into struct bd_conf */
	/* Extra syntax check for strings and list items; NULL if none. */
	int (*check)(const char *value, struct bd_error *err);
	const char *doc; /* one line */
};

extern const struct bd_conf_key bd_conf_keys[];
extern const size_t bd_conf_nkeys;
/* The keys of a [rule NAME] section (section "rule", offsets into struct bd_conf_rule),
 * indexed by enum bd_rule_key_id. */
extern const struct bd_conf_key bd_conf_rule_keys[BD_RULE_NKEYS];
/* The kind words of `type`, in the order of enum bd_rule_kind's bits; NULL-terminated. */
extern const char *const bd_conf_rule_kind_names[];

/* A configuration holding only defaults (never fails). */
struct bd_conf *bd_conf_defaults(void);
/*
 * Read PATH over the defaults. On failure *err lists the problems, one per
 * line, as many as fit, and then how many more there are.
 */
struct bd_conf *bd_conf_load(const char *path, struct bd_error *err);
/* Same, from a string (for tests); NAME is used in messages. */
struct bd_conf *bd_conf_load_string(const char *name, const char *text, struct bd_error *err);
/*
 * Gets each problem found while loading, however many there are: one line
 * naming the file, the line and the key. PROBLEM is valid during the call only.
 * Warnings (conf->rules.warnings: "FILE:LINE: warning: ...") come this way too,
 * also when the file loads.
 */
typedef void bd_conf_report_fn(void *ctx, const char *problem);
/* bd_conf_load() and bd_conf_load_string() that also hand every problem to REPORT. */
struct bd_conf *bd_conf_load_reporting(const char *path, bd_conf_report_fn *report, void *ctx,
                                       struct bd_error *err);
struct bd_conf *bd_conf_load_string_reporting(const char *name, const char *text,
                                              bd_conf_report_fn *report, void *ctx,
                                              struct bd_error *err);
void bd_conf_free(struct bd_conf **conf);

/*
 * The keys the driver SETTINGS names needs and SETTINGS leaves empty: up to
 * MAX of their names into MISSING, in key-table order; returns how many
 * there are. The one rule check-config and bd_store_open() both apply.
 */
size_t bd_conf_storage_missing(const struct bd_conf_storage *settings, const char **missing,
                               size_t max);
/* Look up a key by section and name; NULL when there is none. */
const struct bd_conf_key *bd_conf_find(const char *section, const char *name);
/* The word for value V of enumerated KEY (its choice number V), or "?" when out of range. */
const char *bd_conf_enum_name(const struct bd_conf_key *key, int v, char *buf, size_t size);
/* Write the value of KEY in CONF in the file's syntax into BUF. */
void bd_conf_format_value(const struct bd_conf *conf, const struct bd_conf_key *key, char *buf,
                          size_t size);
/* The same for rule key ID of RULE (sizes and durations with their unit). */
void bd_conf_rule_format_value(const struct bd_conf_rule *rule, enum bd_rule_key_id id, char *buf,
                               size_t size);
/* True when RULE sets key ID. */
static inline bool bd_conf_rule_has(const struct bd_conf_rule *rule, enum bd_rule_key_id id)
{
	return (rule->set >> id) & 1;
}

/* Generated documents: the commented example file and the man page. */
void bd_conf_write_example(FILE *out);
void bd_conf_write_manpage(FILE *out);

/* Helpers shared with other modules. */
int bd_conf_parse_size(const char *s, uint64_t *out);
int bd_conf_parse_duration(const char *s, uint64_t *out);

#endif
