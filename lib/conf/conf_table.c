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

const struct bd_conf_key bd_conf_keys[] = {
        /* [milter] */
        {"milter", "socket", BD_CT_STRING, "inet:8891@127.0.0.1", 0, 0, NULL, OFF(milter.socket),
         check_milter_socket,
         "Where the milter listens: inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH."},
        {"milter", "user", BD_CT_STRING, "", 0, 0, NULL, OFF(milter.user), check_word,
         "User to run as after opening the socket and reading keys (empty: do not change user)."},
        {"milter", "pid_file", BD_CT_PATH, "/run/bestanden/milter.pid", 0, 0, NULL,
         OFF(milter.pid_file), NULL, "PID file written at start-up (empty: none)."},
        {"milter", "spool_dir", BD_CT_PATH, "/var/spool/bestanden", 1, 0, NULL,
         OFF(milter.spool_dir), NULL,
         "Directory for the unlinked 0600 temporary files that hold messages larger than "
         "spool_memory."},
        {"milter", "spool_memory", BD_CT_SIZE, "1M", 0, 64 * MIB, NULL, OFF(milter.spool_memory),
         NULL, "Messages up to this size are held in memory; larger ones go to a temporary file."},
        {"milter", "max_message_size", BD_CT_SIZE, "150M", 1 * MIB, 4 * GIB, NULL,
         OFF(milter.max_message_size), NULL,
         "Largest message the milter accepts; larger ones are refused with a permanent error."},
        {"milter", "internal_networks", BD_CT_LIST, "127.0.0.0/8, ::1/128", 0, 0, NULL,
         OFF(milter.internal_networks), check_cidr,
         "Client networks whose mail counts as outgoing (also: authenticated clients, originating "
         "daemons)."},
        {"milter", "internal_domains", BD_CT_LIST, "", 0, 0, NULL, OFF(milter.internal_domains),
         check_domain,
         "Recipient domains of the organisation; mail only to these is left alone when "
         "skip_internal_only is on."},
        {"milter", "originating_daemons", BD_CT_LIST, "ORIGINATING", 0, 0, NULL,
         OFF(milter.originating_daemons), check_word,
         "Values of the {daemon_name} macro that mark mail as outgoing (Postfix "
         "milter_macro_daemon_name)."},
        {"milter", "timeout", BD_CT_DURATION, "240s", 10, 3600, NULL, OFF(milter.timeout), NULL,
         "Most time one message may take at end of message before it is tempfailed (Sendmail "
         "allows 5m)."},

        /* [gateway] */
        {"gateway", "listen", BD_CT_STRING, "127.0.0.1:8080", 0, 0, NULL, OFF(gateway.listen),
         check_listen, "Address and port the gateway listens on: ADDRESS:PORT or [IPV6]:PORT."},
        {"gateway", "public_url", BD_CT_STRING, "http://127.0.0.1:8080", 0, 0, NULL,
         OFF(gateway.public_url), check_http_url,
         "The gateway's address as recipients reach it; links in mail start with this."},
        {"gateway", "organisation", BD_CT_STRING, "Bestanden", 0, 0, NULL,
         OFF(gateway.organisation), NULL,
         "Organisation name shown in notices and on the download page."},
        {"gateway", "logo", BD_CT_PATH, "", 0, 0, NULL, OFF(gateway.logo), NULL,
         "PNG or SVG logo shown on the pages (empty: none)."},
        {"gateway", "tls_cert", BD_CT_PATH, "", 0, 0, NULL, OFF(gateway.tls_cert), NULL,
         "TLS certificate chain (PEM); empty serves plain HTTP, e.g. behind a TLS reverse proxy."},
        {"gateway", "tls_key", BD_CT_PATH, "", 0, 0, NULL, OFF(gateway.tls_key), NULL,
         "TLS private key (PEM), mode 0600."},
        {"gateway", "data_dir", BD_CT_PATH, "/var/lib/bestanden/objects", 1, 0, NULL,
         OFF(gateway.data_dir), NULL,
         "Directory of the embedded object store (storage driver 'gateway')."},
        {"gateway", "language", BD_CT_ENUM, "nl", 0, 0, "nl|en", OFF(gateway.language), NULL,
         "Page language when the browser's Accept-Language names none we have."},
        {"gateway", "user", BD_CT_STRING, "", 0, 0, NULL, OFF(gateway.user), check_word,
         "User to run as after binding the port and reading keys (empty: do not change user)."},
        {"gateway", "pid_file", BD_CT_PATH, "/run/bestanden/gateway.pid", 0, 0, NULL,
         OFF(gateway.pid_file), NULL, "PID file written at start-up (empty: none)."},
        {"gateway", "max_connections", BD_CT_UINT, "512", 1, 65535, NULL,
         OFF(gateway.max_connections), NULL, "Most simultaneous HTTP connections."},
        {"gateway", "connection_timeout", BD_CT_DURATION, "60s", 1, 3600, NULL,
         OFF(gateway.connection_timeout), NULL, "Idle connections are closed after this long."},
        {"gateway", "sweep_interval", BD_CT_DURATION, "1h", 60, 7 * DAY, NULL,
         OFF(gateway.sweep_interval), NULL,
         "How often the gateway deletes expired packages from storage."},
        {"gateway", "failed_lookups_per_minute", BD_CT_UINT, "30", 1, 100000, NULL,
         OFF(gateway.failed_lookups_per_minute), NULL,
         "Invalid or unknown links one client address may try per minute before it is slowed down "
         "(429)."},
        {"gateway", "audit_log", BD_CT_PATH, "/var/log/bestanden/audit.log", 0, 0, NULL,
         OFF(gateway.audit_log), NULL,
         "Audit log of page views and downloads, JSON lines (empty: syslog only)."},
        {"gateway", "audit_client_address", BD_CT_ENUM, "truncated", 0, 0, "full|truncated|none",
         OFF(gateway.audit_client_address), NULL,
         "Client address in the audit log: full, truncated (IPv4 /24, IPv6 /48) or none."},
        {"gateway", "trusted_proxies", BD_CT_LIST, "", 0, 0, NULL, OFF(gateway.trusted_proxies),
         check_cidr,
         "Reverse proxies (addresses or networks) whose X-Forwarded-For names the real client, "
         "for the audit log and the failed-lookup limit."},

        /* [storage] */
        {"storage", "driver", BD_CT_ENUM, "gateway", 0, 0, "gateway|s3", OFF(storage.driver), NULL,
         "Where encrypted files go: the gateway's embedded store, or an S3-compatible object "
         "store."},
        {"storage", "url", BD_CT_STRING, "http://127.0.0.1:8080", 0, 0, NULL, OFF(storage.url),
         check_http_url, "Base URL of the gateway's object API (driver 'gateway')."},
        {"storage", "token_file", BD_CT_PATH, "/etc/bestanden/keys/store.token", 0, 0, NULL,
         OFF(storage.token_file), NULL,
         "File with the bearer token of the gateway's object API (mode 0600; bestanden keygen "
         "writes it)."},
        {"storage", "s3_endpoint", BD_CT_STRING, "", 0, 0, NULL, OFF(storage.s3_endpoint),
         check_optional_url,
         "S3 endpoint URL, e.g. https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:7480."},
        {"storage", "s3_region", BD_CT_STRING, "us-east-1", 0, 0, NULL, OFF(storage.s3_region),
         check_word, "Region used in the SigV4 signature."},
        {"storage", "s3_bucket", BD_CT_STRING, "", 0, 0, NULL, OFF(storage.s3_bucket), check_bucket,
         "Bucket that holds the encrypted objects."},
        {"storage", "s3_access_key", BD_CT_STRING, "", 0, 0, NULL, OFF(storage.s3_access_key),
         check_word, "S3 access key id."},
        {"storage", "s3_secret_key_file", BD_CT_PATH, "", 0, 0, NULL,
         OFF(storage.s3_secret_key_file), NULL, "File holding the S3 secret key (mode 0600)."},
        {"storage", "s3_addressing", BD_CT_ENUM, "path", 0, 0, "path|virtual",
         OFF(storage.s3_addressing), NULL,
         "Path-style (endpoint/bucket/key) or virtual-host (bucket.endpoint/key) requests."},
        {"storage", "s3_multipart_threshold", BD_CT_SIZE, "64M", 5 * MIB, 5 * GIB, NULL,
         OFF(storage.s3_multipart_threshold), NULL,
         "Objects at least this large are sent as a multipart upload."},
        {"storage", "s3_part_size", BD_CT_SIZE, "16M", 5 * MIB, 5 * GIB, NULL,
         OFF(storage.s3_part_size), NULL, "Part size of multipart uploads (S3 allows 5M to 5G)."},
        {"storage", "timeout", BD_CT_DURATION, "60s", 1, 3600, NULL, OFF(storage.timeout), NULL,
         "A storage request that makes no progress for this long fails."},
        {"storage", "connect_timeout", BD_CT_DURATION, "5s", 1, 300, NULL,
         OFF(storage.connect_timeout), NULL, "Time allowed to connect to the storage backend."},
        {"storage", "retries", BD_CT_UINT, "3", 0, 10, NULL, OFF(storage.retries), NULL,
         "Retries, with backoff, after a 5xx answer or a timeout."},
        {"storage", "parallel_uploads", BD_CT_UINT, "4", 1, 32, NULL, OFF(storage.parallel_uploads),
         NULL, "Attachments of one message uploaded at the same time."},

        /* [policy] */
        {"policy", "outgoing_only", BD_CT_BOOL, "yes", 0, 0, NULL, OFF(policy.outgoing_only), NULL,
         "Only rewrite outgoing mail (authenticated, from an internal network or an originating "
         "daemon)."},
        {"policy", "skip_internal_only", BD_CT_BOOL, "yes", 0, 0, NULL,
         OFF(policy.skip_internal_only), NULL,
         "Leave mail unchanged when every recipient is in internal_domains."},
        {"policy", "min_attachment_size", BD_CT_SIZE, "0", 0, 4 * GIB, NULL,
         OFF(policy.min_attachment_size), NULL,
         "Attachments smaller than this stay in the message (0: every attachment goes)."},
        {"policy", "keep_inline_images", BD_CT_BOOL, "yes", 0, 0, NULL,
         OFF(policy.keep_inline_images), NULL,
         "Keep images that the HTML body shows through cid: references."},
        {"policy", "keep_calendar", BD_CT_BOOL, "yes", 0, 0, NULL, OFF(policy.keep_calendar), NULL,
         "Keep text/calendar parts (invitations must stay usable)."},
        {"policy", "keep_signatures", BD_CT_BOOL, "yes", 0, 0, NULL, OFF(policy.keep_signatures),
         NULL, "Keep detached signature parts and S/MIME or PGP keys attached to the message."},
        {"policy", "forwarded_messages", BD_CT_ENUM, "eml", 0, 0, "eml|keep",
         OFF(policy.forwarded_messages), NULL,
         "Attached messages (message/rfc822): replaced as one .eml file, or kept in the message."},
        {"policy", "retention", BD_CT_DURATION, "14d", DAY, 365 * DAY, NULL, OFF(policy.retention),
         NULL, "How long links work; the files are deleted after this."},
        {"policy", "failure_mode", BD_CT_ENUM, "tempfail", 0, 0, "tempfail|accept",
         OFF(policy.failure_mode), NULL,
         "When storing fails: tempfail (the MTA retries later) or accept the message unchanged."},
        {"policy", "malformed", BD_CT_ENUM, "reject", 0, 0, "unchanged|tempfail|reject",
         OFF(policy.malformed), NULL,
         "MIME whose parts cannot be found unambiguously: pass it on unchanged, tempfail it, or "
         "reject it (5.6.0) when it seems to carry files (else unchanged)."},
        {"policy", "undecodable", BD_CT_ENUM, "raw", 0, 0, "raw|tempfail|unchanged",
         OFF(policy.undecodable), NULL,
         "An attachment whose transfer encoding yields nothing: sent as its raw bytes, tempfail "
         "the message, or pass the message on unchanged."},
        {"policy", "max_parts", BD_CT_UINT, "10000", 1, 100000, NULL, OFF(policy.max_parts), NULL,
         "Messages with more MIME parts than this are treated as malformed."},
        {"policy", "max_depth", BD_CT_UINT, "100", 1, 1000, NULL, OFF(policy.max_depth), NULL,
         "Messages nested deeper than this are treated as malformed."},

        /* [notice] */
        {"notice", "language", BD_CT_ENUM, "nl", 0, 0, "nl|en", OFF(notice.language), NULL,
         "Language of the notice put into the message."},
        {"notice", "template_dir", BD_CT_PATH, BD_TEMPLATE_DIR, 1, 0, NULL,
         OFF(notice.template_dir), NULL, "Directory with the notice and page templates."},

        /* [keys] */
        {"keys", "dir", BD_CT_PATH, "/etc/bestanden/keys", 1, 0, NULL, OFF(keys.dir), NULL,
         "Directory with the link keys and gateway key pairs (bestanden keygen creates it)."},
        {"keys", "grace", BD_CT_DURATION, "7d", 0, 365 * DAY, NULL, OFF(keys.grace), NULL,
         "How long a retired key is kept after the last link it signed has expired."},

        /* [smtp] */
        {"smtp", "host", BD_CT_STRING, "127.0.0.1", 0, 0, NULL, OFF(smtp.host), check_word,
         "Mail server the gateway hands its own messages to (upload notifications)."},
        {"smtp", "port", BD_CT_UINT, "25", 1, 65535, NULL, OFF(smtp.port), NULL,
         "Port of that mail server."},
        {"smtp", "from", BD_CT_STRING, "bestanden@localhost", 0, 0, NULL, OFF(smtp.from),
         check_address, "Sender address of the gateway's own messages."},
};

const size_t bd_conf_nkeys = sizeof(bd_conf_keys) / sizeof(bd_conf_keys[0]);
