/*
 * conf_table.c - every configuration key, in one table.
 *
 * The parser, check-config, the example file and the man page all read
 * this table; to add a key, add a field to struct bd_conf and a row here.
 * Sections appear in the example and the man page in the order below.
 */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

static int check_address(const char *v, struct bd_error *err)
{
	const char *at = strchr(v, '@');

	if (at == NULL || at == v || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return bd_error_set(err, BD_E_CONFIG,
		                    "'%s': expected an address like name@example.org", v);
	return check_word(v, err);
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
        /* [milter] */
        K_TEXT("milter", "socket", "inet:8891@127.0.0.1", milter.socket, check_milter_socket,
               "Where the milter listens: inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH."),
        K_TEXT("milter", "user", "", milter.user, check_word,
               "User to run as after opening the socket and reading keys (empty: do not change "
               "user)."),
        K_PATH("milter", "pid_file", "/run/bestanden/milter.pid", milter.pid_file,
               "PID file written at start-up (empty: none)."),
        K_PATH_REQUIRED("milter", "spool_dir", "/var/spool/bestanden", milter.spool_dir,
                        "Directory for the unlinked 0600 temporary files that hold messages larger "
                        "than spool_memory."),
        K_SIZE("milter", "spool_memory", "1M", 0, 64 * MIB, milter.spool_memory,
               "Messages up to this size are held in memory; larger ones go to a temporary file."),
        K_SIZE("milter", "max_message_size", "150M", 1 * MIB, 4 * GIB, milter.max_message_size,
               "Largest message the milter accepts; larger ones are refused with a permanent "
               "error."),
        K_LIST("milter", "internal_networks", "127.0.0.0/8, ::1/128", milter.internal_networks,
               check_cidr,
               "Client networks whose mail counts as outgoing (also: authenticated clients, "
               "originating daemons)."),
        K_LIST("milter", "internal_domains", "", milter.internal_domains, check_domain,
               "Recipient domains of the organisation; mail only to these is left alone when "
               "skip_internal_only is on."),
        K_LIST("milter", "originating_daemons", "ORIGINATING", milter.originating_daemons,
               check_word,
               "Values of the {daemon_name} macro that mark mail as outgoing (Postfix "
               "milter_macro_daemon_name)."),
        K_DURATION("milter", "timeout", "240s", 10, 3600, milter.timeout,
                   "Most time one message may take at end of message before it is tempfailed "
                   "(Sendmail allows 5m)."),

        /* [gateway] */
        K_TEXT("gateway", "listen", "127.0.0.1:8080", gateway.listen, check_listen,
               "Address and port the gateway listens on: ADDRESS:PORT or [IPV6]:PORT."),
        K_TEXT("gateway", "public_url", "http://127.0.0.1:8080", gateway.public_url, check_http_url,
               "The gateway's address as recipients reach it; links in mail start with this."),
        K_TEXT("gateway", "organisation", "Bestanden", gateway.organisation, NULL,
               "Organisation name shown in notices and on the download page."),
        K_PATH("gateway", "logo", "", gateway.logo,
               "PNG or SVG logo shown on the pages (empty: none)."),
        K_PATH("gateway", "tls_cert", "", gateway.tls_cert,
               "TLS certificate chain (PEM); empty serves plain HTTP, e.g. behind a TLS reverse "
               "proxy."),
        K_PATH("gateway", "tls_key", "", gateway.tls_key, "TLS private key (PEM), mode 0600."),
        K_PATH_REQUIRED("gateway", "data_dir", "/var/lib/bestanden/objects", gateway.data_dir,
                        "Directory of the embedded object store (storage driver 'gateway')."),
        K_ENUM("gateway", "language", "nl", "nl|en|auto", gateway.language,
               "Page language when the browser's Accept-Language names none we have (auto: "
               "English, so Dutch only for a browser that asks for it)."),
        K_TEXT("gateway", "user", "", gateway.user, check_word,
               "User to run as after binding the port and reading keys (empty: do not change "
               "user)."),
        K_PATH("gateway", "pid_file", "/run/bestanden/gateway.pid", gateway.pid_file,
               "PID file written at start-up (empty: none)."),
        K_UINT("gateway", "max_connections", "512", 1, 65535, gateway.max_connections,
               "Most simultaneous HTTP connections."),
        K_DURATION("gateway", "connection_timeout", "60s", 1, 3600, gateway.connection_timeout,
                   "Idle connections are closed after this long."),
        K_DURATION("gateway", "sweep_interval", "1h", 60, 7 * DAY, gateway.sweep_interval,
                   "How often the gateway deletes expired packages from storage."),
        K_UINT("gateway", "failed_lookups_per_minute", "30", 1, 100000,
               gateway.failed_lookups_per_minute,
               "Invalid or unknown links one client address may try per minute before it is slowed "
               "down (429)."),
        K_PATH("gateway", "audit_log", "/var/log/bestanden/audit.log", gateway.audit_log,
               "Audit log of page views and downloads, JSON lines (empty: syslog only)."),
        K_ENUM("gateway", "audit_client_address", "truncated", "full|truncated|none",
               gateway.audit_client_address,
               "Client address in the audit log: full, truncated (IPv4 /24, IPv6 /48) or none."),
        K_LIST("gateway", "trusted_proxies", "", gateway.trusted_proxies, check_cidr,
               "Reverse proxies (addresses or networks) whose X-Forwarded-For names the real "
               "client, for the audit log and the failed-lookup limit."),

        /* [storage] */
        K_ENUM("storage", "driver", "gateway", "gateway|s3", storage.driver,
               "Where encrypted files go: the gateway's embedded store, or an S3-compatible object "
               "store."),
        K_TEXT("storage", "url", "http://127.0.0.1:8080", storage.url, check_http_url,
               "Base URL of the gateway's object API (driver 'gateway')."),
        K_PATH("storage", "token_file", "/etc/bestanden/keys/store.token", storage.token_file,
               "File with the bearer token of the gateway's object API (mode 0600; bestanden "
               "keygen writes it)."),
        K_TEXT("storage", "s3_endpoint", "", storage.s3_endpoint, check_optional_url,
               "S3 endpoint URL, e.g. https://s3.eu-central-1.amazonaws.com or "
               "http://127.0.0.1:7480."),
        K_TEXT("storage", "s3_region", "us-east-1", storage.s3_region, check_word,
               "Region used in the SigV4 signature."),
        K_TEXT("storage", "s3_bucket", "", storage.s3_bucket, check_bucket,
               "Bucket that holds the encrypted objects."),
        K_TEXT("storage", "s3_access_key", "", storage.s3_access_key, check_word,
               "S3 access key id."),
        K_PATH("storage", "s3_secret_key_file", "", storage.s3_secret_key_file,
               "File holding the S3 secret key (mode 0600)."),
        K_ENUM("storage", "s3_addressing", "path", "path|virtual", storage.s3_addressing,
               "Path-style (endpoint/bucket/key) or virtual-host (bucket.endpoint/key) requests."),
        K_SIZE("storage", "s3_multipart_threshold", "64M", 5 * MIB, 5 * GIB,
               storage.s3_multipart_threshold,
               "Objects at least this large are sent as a multipart upload."),
        K_SIZE("storage", "s3_part_size", "16M", 5 * MIB, 5 * GIB, storage.s3_part_size,
               "Part size of multipart uploads (S3 allows 5M to 5G)."),
        K_DURATION("storage", "timeout", "60s", 1, 3600, storage.timeout,
                   "A storage request that makes no progress for this long fails."),
        K_DURATION("storage", "connect_timeout", "5s", 1, 300, storage.connect_timeout,
                   "Time allowed to connect to the storage backend."),
        K_UINT("storage", "retries", "3", 0, 10, storage.retries,
               "Retries, with backoff, after a 5xx answer or a timeout."),
        K_UINT("storage", "parallel_uploads", "4", 1, 32, storage.parallel_uploads,
               "Attachments of one message uploaded at the same time."),

        /* [policy] */
        K_BOOL("policy", "outgoing_only", "yes", policy.outgoing_only,
               "Only rewrite outgoing mail (authenticated, from an internal network or an "
               "originating daemon)."),
        K_BOOL("policy", "skip_internal_only", "yes", policy.skip_internal_only,
               "Leave mail unchanged when every recipient is in internal_domains."),
        K_SIZE("policy", "min_attachment_size", "0", 0, 4 * GIB, policy.min_attachment_size,
               "Attachments smaller than this stay in the message (0: every attachment goes)."),
        K_BOOL("policy", "keep_inline_images", "yes", policy.keep_inline_images,
               "Keep images that the HTML body shows through cid: references."),
        K_BOOL("policy", "keep_calendar", "yes", policy.keep_calendar,
               "Keep text/calendar parts (invitations must stay usable)."),
        K_BOOL("policy", "keep_signatures", "yes", policy.keep_signatures,
               "Keep detached signature parts and S/MIME or PGP keys attached to the message."),
        K_ENUM("policy", "forwarded_messages", "eml", "eml|keep", policy.forwarded_messages,
               "Attached messages (message/rfc822): replaced as one .eml file, or kept in the "
               "message."),
        K_DURATION("policy", "retention", "14d", DAY, 365 * DAY, policy.retention,
                   "How long links work; the files are deleted after this."),
        K_ENUM("policy", "failure_mode", "tempfail", "tempfail|accept", policy.failure_mode,
               "When storing fails: tempfail (the MTA retries later) or accept the message "
               "unchanged."),
        K_ENUM("policy", "malformed", "reject", "unchanged|tempfail|reject", policy.malformed,
               "MIME whose parts cannot be found unambiguously: pass it on unchanged, tempfail it, "
               "or reject it (5.6.0) when it seems to carry files (else unchanged)."),
        K_ENUM("policy", "undecodable", "raw", "raw|tempfail|unchanged", policy.undecodable,
               "An attachment whose transfer encoding yields nothing: sent as its raw bytes, "
               "tempfail the message, or pass the message on unchanged."),
        K_UINT("policy", "max_parts", "10000", 1, 100000, policy.max_parts,
               "Messages with more MIME parts than this are treated as malformed."),
        K_UINT("policy", "max_depth", "100", 1, 1000, policy.max_depth,
               "Messages nested deeper than this are treated as malformed."),

        /* [notice] */
        K_ENUM("notice", "language", "nl", "nl|en|auto", notice.language,
               "Language of the notice put into the message (auto: Dutch when every outside "
               "recipient is in dutch_domains, else Dutch and English)."),
        K_LIST("notice", "dutch_domains", ".nl, .be", notice.dutch_domains, check_domain,
               "With language = auto: domains whose people read Dutch; '.nl' stands for every "
               "domain ending in .nl, 'example.org' for it and its subdomains."),
        K_PATH_REQUIRED("notice", "template_dir", BD_TEMPLATE_DIR, notice.template_dir,
                        "Directory with the notice and page templates."),

        /* [keys] */
        K_PATH_REQUIRED("keys", "dir", "/etc/bestanden/keys", keys.dir,
                        "Directory with the link keys and gateway key pairs (bestanden keygen "
                        "creates it)."),
        K_DURATION("keys", "grace", "7d", 0, 365 * DAY, keys.grace,
                   "How long a retired key is kept after the last link it signed has expired."),

        /* [smtp] */
        K_TEXT("smtp", "host", "127.0.0.1", smtp.host, check_word,
               "Mail server the gateway hands its own messages to (upload notifications)."),
        K_UINT("smtp", "port", "25", 1, 65535, smtp.port, "Port of that mail server."),
        K_TEXT("smtp", "from", "bestanden@localhost", smtp.from, check_address,
               "Sender address of the gateway's own messages."),
};

const size_t bd_conf_nkeys = sizeof(bd_conf_keys) / sizeof(bd_conf_keys[0]);
