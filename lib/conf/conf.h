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
		char *admin_listen; /* "" : the object API and /metrics on listen */
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
	} keys;

	struct bd_conf_smtp {
		char *host;
		uint64_t port;
		char *from;
	} smtp;
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

/* Generated documents: the commented example file and the man page. */
void bd_conf_write_example(FILE *out);
void bd_conf_write_manpage(FILE *out);

/* Helpers shared with other modules. */
int bd_conf_parse_size(const char *s, uint64_t *out);
int bd_conf_parse_duration(const char *s, uint64_t *out);

#endif
