/*
 * conf_table.c - every configuration key, in one table.
 *
 * The parser, check-config, the example file and the man page all read
 * this table; to add a key, add a field to struct bd_conf and a row to
 * conf_keys.def, which holds the rows.
 * Sections appear in the example and the man page in the order below.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(struct bd_conf, f)
#define KIB    1024ULL
#define MIB    (1024ULL * 1024)
#define GIB    (1024ULL * 1024 * 1024)
#define DAY    86400ULL

static int check_port(const char *p, struct bd_error *err, const char *what)
{
	char *end;
	long v;

	if (*p == '\0' || !isdigit((unsigned char)*p))
		return bd_error_set(err, BD_E_CONFIG, "%s: port missing", what);
	v = strtol(p, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return bd_error_set(err, BD_E_CONFIG, "%s: port must be 1..65535", what);
	return 0;
}

/* inet:PORT@HOST, inet6:PORT@HOST, unix:/path, local:/path (libmilter syntax). */
static int check_milter_socket(const char *v, struct bd_error *err)
{
	const char *at;
	char port[16];
	size_t n;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		const char *path = strchr(v, ':') + 1;

		if (path[0] != '/')
			return bd_error_set(err, BD_E_CONFIG,
			                    "'%s': a unix socket needs an absolute path, e.g. "
			                    "unix:/run/bestanden/milter.sock",
			                    v);
		return 0;
	}
	if (strncmp(v, "inet:", 5) != 0 && strncmp(v, "inet6:", 6) != 0)
		return bd_error_set(err, BD_E_CONFIG, "'%s': expected inet:PORT@HOST or unix:/PATH",
		                    v);
	v = strchr(v, ':') + 1;
	at = strchr(v, '@');
	n = at ? (size_t)(at - v) : strlen(v);
	if (n == 0 || n >= sizeof(port))
		return bd_error_set(err, BD_E_CONFIG, "'%s': expected inet:PORT@HOST", v);
	memcpy(port, v, n);
	port[n] = '\0';
	if (at != NULL && at[1] == '\0')
		return bd_error_set(err, BD_E_CONFIG, "'%s': host missing after '@'", v);
	return check_port(port, err, "milter socket");
}

/* HOST:PORT or [V6]:PORT. */
static int check_listen(const char *v, struct bd_error *err)
{
	const char *colon;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close[1] != ':')
			return bd_error_set(err, BD_E_CONFIG, "'%s': expected [ADDRESS]:PORT", v);
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL || colon == v)
			return bd_error_set(err, BD_E_CONFIG,
			                    "'%s': expected ADDRESS:PORT, e.g. 127.0.0.1:8080", v);
	}
	return check_port(colon + 1, err, "listen address");
}

/* Empty (not set), or HOST:PORT or [V6]:PORT. */
static int check_optional_listen(const char *v, struct bd_error *err)
{
	return v[0] == '\0' ? 0 : check_listen(v, err);
}

static int check_http_url(const char *v, struct bd_error *err)
{
	const char *host;

	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return bd_error_set(err, BD_E_CONFIG,
		                    "'%s': expected a URL starting with http:// or https://", v);
	if (*host == '\0' || *host == '/')
		return bd_error_set(err, BD_E_CONFIG, "'%s': the URL has no host", v);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>')
			return bd_error_set(
			        err, BD_E_CONFIG,
			        "'%s': the URL contains a space, quote or control character", v);
	if (v[strlen(v) - 1] == '/')
		return bd_error_set(err, BD_E_CONFIG, "'%s': leave out the trailing '/'", v);
	return 0;
}

static int check_optional_url(const char *v, struct bd_error *err)
{
	return *v == '\0' ? 0 : check_http_url(v, err);
}

/* ADDRESS/PREFIX or a bare address, IPv4 or IPv6. */
static int check_cidr(const char *v, struct bd_error *err)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char buf[16];
	const char *slash = strchr(v, '/');
	size_t n = slash ? (size_t)(slash - v) : strlen(v);
	int v6, maxlen;

	if (n == 0 || n >= sizeof(addr))
		return bd_error_set(err, BD_E_CONFIG, "'%s': not an address or network", v);
	memcpy(addr, v, n);
	addr[n] = '\0';
	v6 = strchr(addr, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1)
		return bd_error_set(
		        err, BD_E_CONFIG,
		        "'%s': not an IP address (write networks as 192.0.2.0/24 or 2001:db8::/32)",
		        v);
	maxlen = v6 ? 128 : 32;
	if (slash != NULL) {
		char *end;
		long len = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || len < 0 || len > maxlen)
			return bd_error_set(err, BD_E_CONFIG, "'%s': prefix length must be 0..%d",
			                    v, maxlen);
	}
	return 0;
}

static int check_domain(const char *v, struct bd_error *err)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			return bd_error_set(
			        err, BD_E_CONFIG,
			        "'%s': a domain may contain only letters, digits, '.' and '-'", v);
	return 0;
}

static int check_word(const char *v, struct bd_error *err)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return bd_error_set(
			        err, BD_E_CONFIG,
			        "'%s': spaces and control characters are not allowed here", v);
	return 0;
}

/* The name in "[NAME:code]": letters, digits, '-' and '_' (or empty: no tag). */
static int check_code_tag(const char *v, struct bd_error *err)
{
	if (strlen(v) > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                "0123456789-_") != strlen(v))
		return bd_error_set(err, BD_E_CONFIG,
		                    "'%s': a tag name is at most 32 letters, digits, '-' or '_'",
		                    v);
	return 0;
}

static int check_address(const char *v, struct bd_error *err)
{
	const char *at = strchr(v, '@');

	if (at == NULL || at == v || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return bd_error_set(err, BD_E_CONFIG,
		                    "'%s': expected an address like name@example.org", v);
	return check_word(v, err);
}

static int check_optional_address(const char *v, struct bd_error *err)
{
	return v[0] == '\0' ? 0 : check_address(v, err);
}

static int check_bucket(const char *v, struct bd_error *err)
{
	size_t n = strlen(v);

	if (n == 0)
		return 0;
	if (n < 3 || n > 63)
		return bd_error_set(err, BD_E_CONFIG, "'%s': a bucket name has 3 to 63 characters",
		                    v);
	for (const char *p = v; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' &&
		    *p != '.')
			return bd_error_set(err, BD_E_CONFIG,
			                    "'%s': a bucket name has only lower-case letters, "
			                    "digits, '-' and '.'",
			                    v);
	return 0;
}

/* A sender or recipient pattern: an address or a domain, exact or a glob. */
static int check_rule_pattern(const char *v, struct bd_error *err)
{
	const char *at = strchr(v, '@');

	if (at != NULL && (at[1] == '\0' || strchr(at + 1, '@') != NULL))
		return bd_error_set(
		        err, BD_E_CONFIG,
		        "'%s': expected an address (name@example.org, *@example.org) or "
		        "a domain (example.org, *.example.org)",
		        v);
	return check_word(v, err);
}

const char *const bd_conf_rule_kind_names[] = {"executable", "archive", "image", "document", NULL};

/* A MIME type glob (type/subtype) or a kind word. */
static int check_rule_type(const char *v, struct bd_error *err)
{
	if (strchr(v, '/') != NULL)
		return check_word(v, err);
	for (size_t i = 0; bd_conf_rule_kind_names[i] != NULL; i++)
		if (strcasecmp(v, bd_conf_rule_kind_names[i]) == 0)
			return 0;
	return bd_error_set(err, BD_E_CONFIG,
	                    "'%s': expected a MIME type (application/pdf, image/*) or one of "
	                    "executable, archive, image, document",
	                    v);
}

static int check_rule_extension(const char *v, struct bd_error *err)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return bd_error_set(
			        err, BD_E_CONFIG,
			        "'%s': an extension is letters and digits, without the dot "
			        "(pdf, exe)",
			        v);
	return 0;
}

static int check_rule_sensitive(const char *v, struct bd_error *err)
{
	if (strcasecmp(v, "bsn") == 0 || strcasecmp(v, "iban") == 0)
		return 0;
	return bd_error_set(err, BD_E_CONFIG, "'%s': expected bsn or iban", v);
}

/* 5.7.x: a refusal for policy reasons (RFC 3463). */
static int check_reject_code(const char *v, struct bd_error *err)
{
	size_t n = strlen(v);

	if (strncmp(v, "5.7.", 4) != 0 || n < 5 || n > 7 || strspn(v + 4, "0123456789") != n - 4)
		return bd_error_set(err, BD_E_CONFIG,
		                    "'%s': expected a permanent policy status code 5.7.x (5.7.1)",
		                    v);
	return 0;
}

/* One line the MTA can put in its reply: printable ASCII, no '%' (libmilter formats it). */
static int check_reject_text(const char *v, struct bd_error *err)
{
	if (strlen(v) > 200)
		return bd_error_set(err, BD_E_CONFIG, "the text is longer than 200 characters");
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f || *p == '%')
			return bd_error_set(err, BD_E_CONFIG,
			                    "the text may hold printable ASCII only, without '%%'");
	return 0;
}

/*
 * One macro per kind of row, so each row holds only what its type uses.
 * A required path (min = 1) may not be set to empty.
 */
/* clang-format off */
#define K_TEXT(sec, name, def, f, check, doc) \
	{sec, name, BD_CT_STRING, def, 0, 0, NULL, OFF(f), check, doc}
#define K_PATH(sec, name, def, f, doc) \
	{sec, name, BD_CT_PATH, def, 0, 0, NULL, OFF(f), NULL, doc}
#define K_PATH_REQUIRED(sec, name, def, f, doc) \
	{sec, name, BD_CT_PATH, def, 1, 0, NULL, OFF(f), NULL, doc}
#define K_BOOL(sec, name, def, f, doc) \
	{sec, name, BD_CT_BOOL, def, 0, 0, NULL, OFF(f), NULL, doc}
#define K_UINT(sec, name, def, min, max, f, doc) \
	{sec, name, BD_CT_UINT, def, min, max, NULL, OFF(f), NULL, doc}
#define K_SIZE(sec, name, def, min, max, f, doc) \
	{sec, name, BD_CT_SIZE, def, min, max, NULL, OFF(f), NULL, doc}
#define K_DURATION(sec, name, def, min, max, f, doc) \
	{sec, name, BD_CT_DURATION, def, min, max, NULL, OFF(f), NULL, doc}
#define K_ENUM(sec, name, def, choices, f, doc) \
	{sec, name, BD_CT_ENUM, def, 0, 0, choices, OFF(f), NULL, doc}
#define K_LIST(sec, name, def, f, check, doc) \
	{sec, name, BD_CT_LIST, def, 0, 0, NULL, OFF(f), check, doc}
/* clang-format on */

const struct bd_conf_key bd_conf_keys[] = {
#include "conf_keys.def"
};

const size_t bd_conf_nkeys = sizeof(bd_conf_keys) / sizeof(bd_conf_keys[0]);

#undef OFF
#define OFF(f) offsetof(struct bd_conf_rule, f)
const struct bd_conf_key bd_conf_rule_keys[BD_RULE_NKEYS] = {
#define R(id, row) [BD_RULE_KEY_##id] = row,
#include "conf_rules.def"
#undef R
};
