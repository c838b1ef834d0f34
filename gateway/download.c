/*
 * download.c - what a recipient's browser asks for under /d/:
 *   /d/<token>      the landing page; inert (link scanners fetch it), never a download;
 *                   a POST there is a recipient's verification (verify.c)
 *   /d/<token>/<n>  file n, decrypted while it streams; Range, If-Range, ETag
 *   /d/<token>/all  every file as one zip
 * The token is checked before storage is touched; refusals get the pages of
 * pages.c, each outcome one audit line. Only a token whose MAC does not verify
 * feeds the rate limit and is held back by it: forgeries from an address that
 * many people share (NAT, an IPv6 /64) never lock out its genuine recipients.
 * The upload-request links under /u/ share the limit (gw_link_check).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "audit.h"
#include "delivery.h"
#include "events.h"
#include "network.h"
#include "download.h"
#include "gateway.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "pages.h"
#include "pipe.h"
#include "ratelimit.h"
#include "remove.h"
#include "token.h"
#include "verify.h"
#include "zip.h"

#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PIPE_BYTES (256 * 1024) /* per transfer in flight: the bound on memory */
#define FORM_BYTES 4096         /* a verification form: an address or a code */

/* One request under /d/, as parsed and as it goes along. */
struct dl {
	struct gw_request *r;
	char token[BD_TOKEN_MAX_CHARS + 1];
	enum gw_target_kind kind;
	unsigned index;
	const char *lang;
	const struct sockaddr *client; /* the peer, or the client a trusted proxy names */
	struct sockaddr_storage forwarded;
	int head;
	const char *body; /* a POST's form, or NULL */
	const char *who;  /* the address the visitor verified (in WHO_BUF), or NULL */
	char who_buf[BD_EVENT_WHO_MAX];
};

struct gw_download {
	struct gw_ratelimit *ratelimit; /* failed lookups per client, kept across reloads */
	struct gw_verify *verify;       /* the gate before the files, its limits kept too */
	int https;                      /* TLS here: HSTS whatever public_url says */
};

void gw_download_set_rate(struct gw_download *d, unsigned per_minute)
{
	gw_ratelimit_set_rate(d->ratelimit, per_minute);
	gw_verify_set_rate(d->verify, per_minute);
}

void gw_download_free(struct gw_download **dp)
{
	if (*dp == NULL)
		return;
	gw_ratelimit_free(&(*dp)->ratelimit);
	gw_verify_free(&(*dp)->verify);
	free(*dp);
	*dp = NULL;
}

void gw_download_redact(char *text)
{
	for (char *p = strstr(text, "/d/"); p != NULL; p = strstr(p, "/d/")) {
		p += 3;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			*p++ = '*';
	}
}

static const char *header(const struct dl *c, const char *name)
{
	return MHD_lookup_connection_value(c->r->conn, MHD_HEADER_KIND, name);
}

/* One audit line; RETRIEVED: with this response a whole file reached someone (delivery.h). */
static void audit_line(const struct dl *c, const char *event, const char *package, int file,
                       int64_t bytes, const char *range, const char *outcome, unsigned status,
                       int retrieved)
{
	struct gw_audit_event ev = {.event = event,
	                            .package = package,
	                            .file = file,
	                            .bytes = bytes,
	                            .range = range,
	                            .outcome = outcome,
	                            .status = status,
	                            .client = c->client,
	                            .recipient = c->who,
	                            .retrieved = retrieved};

	gw_audit_write(gw_request_runtime(c->r)->audit, &ev);
}

static void audit(const struct dl *c, const char *event, const char *package, int file,
                  int64_t bytes, const char *range, const char *outcome, unsigned status)
{
	audit_line(c, event, package, file, bytes, range, outcome, status, 0);
}

/* "<token>", "<token>/", "<token>/<n>" or "<token>/all" after "/d/"; 0 or -1. */
static int parse_target(const char *rest, struct dl *c)
{
	return gw_parse_download_target(rest, c->token, &c->kind, &c->index);
}

/* An address of X-Forwarded-For into OUT; -1 if it is none. */
static int parse_addr(const char *s, size_t n, struct sockaddr_storage *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)out)->sin_addr) == 1) {
		out->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)out)->sin6_addr) == 1) {
		out->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

/*
 * Behind a reverse proxy in [gateway] trusted_proxies, the client is the right-most
 * X-Forwarded-For address that is not itself a trusted proxy (what a client writes
 * there itself stands further left and is never believed).
 */
const struct sockaddr *gw_request_client(struct gw_request *r, struct sockaddr_storage *forwarded)
{
	const struct bd_strlist *proxies =
	        &gw_request_runtime(r)->settings.conf->gateway.trusted_proxies;
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci != NULL ? ci->client_addr : NULL;
	const char *xff, *end;

	if (peer == NULL || proxies->n == 0 || !bd_addr_in_networks(peer, proxies))
		return peer;
	xff = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (xff == NULL)
		return peer;
	end = xff + strlen(xff);
	while (end > xff) {
		const char *start = end;
		const char *a, *b;

		while (start > xff && start[-1] != ',')
			start--;
		for (a = start; a < end && *a == ' '; a++)
			;
		for (b = end; b > a && b[-1] == ' '; b--)
			;
		if (parse_addr(a, (size_t)(b - a), forwarded) < 0)
			return peer;
		if (!bd_addr_in_networks((const struct sockaddr *)forwarded, proxies))
			return (const struct sockaddr *)forwarded;
		end = start > xff ? start - 1 : xff;
	}
	return (const struct sockaddr *)forwarded;
}

const char *gw_request_language(struct gw_request *r)
{
	return gw_pages_language(
	        MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "lang"),
	        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                    MHD_HTTP_HEADER_ACCEPT_LANGUAGE),
	        bd_language_code(gw_request_runtime(r)->settings.conf->gateway.language));
}

int gw_request_same_site(struct gw_request *r)
{
	const char *url = gw_request_runtime(r)->settings.conf->gateway.public_url;
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *site = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *host = strstr(url, "://");
	const char *path = host != NULL ? strchr(host + 3, '/') : NULL;
	size_t n = path != NULL ? (size_t)(path - url) : strlen(url);

	if (site != NULL && strcmp(site, "cross-site") == 0)
		return 0;
	return origin == NULL || strcmp(origin, "null") == 0 ||
	       (strlen(origin) == n && strncasecmp(origin, url, n) == 0);
}

static enum gw_page page_for(int code)
{
	switch (code) {
	case BD_E_EXPIRED: return GW_PAGE_EXPIRED;
	case BD_E_INVALID:
	case BD_E_NOTFOUND:
	case BD_E_CRYPTO:
	case BD_E_KEY: return GW_PAGE_NOT_FOUND;
	case BD_E_STORAGE:
	case BD_E_TEMP:
	case BD_E_IO: return GW_PAGE_UNAVAILABLE;
	default: return GW_PAGE_ERROR;
	}
}

static enum gw_metric_error metric_error_for(int code)
{
	switch (code) {
	case BD_E_STORAGE:
	case BD_E_TEMP:
	case BD_E_IO: return GW_ERR_STORAGE;
	case BD_E_CRYPTO: return GW_ERR_CRYPTO;
	default: return GW_ERR_INTERNAL;
	}
}

/* ---- pages as responses ---- */

static void free_page(void *cls)
{
	g_free(cls);
}

enum MHD_Result gw_respond_page(struct gw_request *r, struct gw_html *page)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(
	        page->len, page->body, free_page);
	char retry[16];

	if (resp == NULL) {
		g_free(page->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_LANGUAGE, page->lang);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Language");
	MHD_add_response_header(resp, "Content-Security-Policy", page->csp);
	MHD_add_response_header(resp, "X-Robots-Tag", "noindex, nofollow");
	if (page->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", page->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	if (strcmp(r->method, "HEAD") != 0)
		r->bytes = page->len;
	return gw_respond(r, page->status, resp);
}

static enum MHD_Result respond_page_error(struct gw_request *r, const char *lang,
                                          enum gw_page which, int64_t expires)
{
	struct gw_html page;

	gw_pages_error(gw_request_runtime(r)->pages, lang, which, expires, &page);
	return gw_respond_page(r, &page);
}

static enum MHD_Result not_found(struct dl *c, const char *package, int file)
{
	gw_metrics_event(GW_EV_NOT_FOUND);
	if (!c->head)
		audit(c, "not-found", package, file, -1, NULL, "refused", MHD_HTTP_NOT_FOUND);
	gw_log_field(c->r, "result", "not-found");
	return respond_page_error(c->r, c->lang, GW_PAGE_NOT_FOUND, 0);
}

/*
 * Answer a failure. A genuine link (expired, or its package gone or damaged) is
 * decoded once more for its package id and date, so the audit trail can name it;
 * a forged one names nothing. Every kind of 404 renders the same page.
 */
static enum MHD_Result refuse(struct dl *c, const struct bd_error *err, int file)
{
	struct gw_request *r = c->r;
	enum gw_page page = page_for(err->code);
	char package[BD_PACKAGE_ID_HEX] = "";
	int64_t expires = 0;

	if (err->code != BD_E_INVALID) {
		struct bd_token t;
		struct bd_error e2;

		int rc = bd_token_decode(c->token, gw_request_runtime(r)->settings.keys,
		                         (int64_t)time(NULL), &t, &e2);

		if (rc == 0 || e2.code == BD_E_EXPIRED) {
			bd_package_id_hex(t.package_id, package);
			expires = t.expires;
			gw_log_field(r, "package", package);
		}
		sodium_memzero(&t, sizeof(t));
	}
	switch (page) {
	case GW_PAGE_EXPIRED:
		gw_metrics_event(GW_EV_EXPIRED);
		if (!c->head)
			audit(c, "expired", package[0] ? package : NULL, file, -1, NULL, "refused",
			      MHD_HTTP_GONE);
		gw_log_field(r, "result", "expired");
		return respond_page_error(r, c->lang, GW_PAGE_EXPIRED, expires);
	case GW_PAGE_NOT_FOUND:
		if (err->code == BD_E_NOTFOUND && package[0] != '\0' &&
		    bd_package_withdrawn(gw_request_runtime(r)->settings.store, package, NULL,
		                         NULL) == 1) {
			if (!c->head)
				audit(c, "withdrawn", package, file, -1, NULL, "refused",
				      MHD_HTTP_GONE);
			gw_log_field(r, "result", "withdrawn");
			return respond_page_error(r, c->lang, GW_PAGE_WITHDRAWN, 0);
		}
		if (err->code == BD_E_CRYPTO || err->code == BD_E_KEY) {
			gw_metrics_error(GW_ERR_CRYPTO);
			gw_log_field(r, "error", err->msg);
		}
		return not_found(c, package[0] ? package : NULL, file);
	default:
		gw_metrics_error(metric_error_for(err->code));
		gw_log_field(r, "result", page == GW_PAGE_UNAVAILABLE ? "unavailable" : "error");
		gw_log_field(r, "error", err->msg);
		return respond_page_error(r, c->lang, page, 0);
	}
}

/* ---- one file, or all as a zip ---- */

struct job {
	struct gw_runtime *rt; /* the store D reads from */
	struct bd_download *d;
	unsigned index; /* 0: the zip */
	uint64_t off, len;
};

static int job_produce(void *ctx, struct bd_lending_sink *out, struct bd_error *err)
{
	struct job *j = ctx;

	if (j->index == 0)
		return gw_zip_write(j->d, &out->sink, err);
	return bd_download_file_lent(j->d, j->index, j->off, j->len, out, err);
}

static void job_free(void *ctx)
{
	struct job *j = ctx;

	bd_download_close(&j->d);
	gw_runtime_release(j->rt);
	free(j);
}

/* What the request keeps of a transfer, for the audit line when it ends. */
struct transfer {
	struct dl c;
	struct gw_pipe *pipe;
	char package[BD_PACKAGE_ID_HEX];
	char range[64];
	uint64_t off;      /* the first byte of the file sent */
	uint64_t expected; /* MHD_SIZE_UNKNOWN for a zip */
	struct sockaddr_storage client;
	struct gw_delivery *delivery; /* what the package's events learn when this ends */
};

static void transfer_end(struct gw_request *r, int completed)
{
	struct transfer *t = r->state;
	struct bd_error err;
	uint64_t sent;
	int rc, whole, retrieved;

	if (!completed)
		gw_pipe_cancel(t->pipe);
	rc = gw_pipe_result(t->pipe, &err);
	sent = gw_pipe_sent(t->pipe);
	whole = completed && rc == 0 && (t->expected == MHD_SIZE_UNKNOWN || sent == t->expected);
	gw_metrics_download_end();
	gw_metrics_event(whole ? GW_EV_DOWNLOAD_COMPLETE : GW_EV_DOWNLOAD_INCOMPLETE);
	r->bytes = sent;
	if (rc < 0) {
		gw_metrics_error(metric_error_for(err.code));
		gw_log_field(r, "error", err.msg);
		bd_log(LOG_WARNING,
		       "event=download-failed package=%s file=%u bytes=%llu error=\"%s\"",
		       t->package, t->c.index, (unsigned long long)sent, err.msg);
	}
	/* What reached the client: of a broken transfer, what surely left the socket. */
	retrieved = gw_delivery_end(&t->delivery, gw_request_runtime(r), t->off,
	                            whole ? sent : gw_pipe_written(t->pipe), whole);
	/* A request that got every byte it asked for is a complete response; a file is
	 * retrieved only when all of its bytes have reached the person (with earlier ranges). */
	audit_line(&t->c, whole ? "download" : "download-incomplete", t->package, (int)t->c.index,
	           (int64_t)sent, t->range[0] ? t->range : NULL,
	           whole    ? "complete"
	           : rc < 0 ? "failed"
	                    : "aborted",
	           r->status, retrieved);
	gw_log_field(r, "transfer", whole ? "complete" : rc < 0 ? "failed" : "aborted");
	gw_pipe_release(&t->pipe);
	sodium_memzero(t->c.who_buf, sizeof(t->c.who_buf));
	free(t);
	r->state = NULL;
}

/* IMF-fixdate, with English names whatever the locale. */
static void http_date(int64_t when, char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* RFC 6266: a quoted ASCII stand-in for old clients, and the real name as RFC 8187 UTF-8. */
static char *content_disposition(const char *name)
{
	static const char attr_char[] = "!#$&+-.^_`|~";
	GString *out = g_string_new("attachment; filename=\"");
	int any = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p >= 0x80) {
			/* one '_' per UTF-8 sequence, not per byte */
			if ((*p & 0xc0) != 0x80)
				g_string_append_c(out, '_');
		} else if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == '%' ||
		           *p == '/') {
			g_string_append_c(out, '_');
		} else {
			g_string_append_c(out, (char)*p);
		}
		any = 1;
	}
	if (!any)
		g_string_append(out, "download");
	g_string_append(out, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isalnum(*p) || (*p < 0x80 && strchr(attr_char, *p) != NULL && *p != '\0'))
			g_string_append_c(out, (char)*p);
		else
			g_string_append_printf(out, "%%%02X", *p);
	}
	if (!any)
		g_string_append(out, "download");
	return g_string_free(out, FALSE);
}

/* The manifest's type when it is a plain type/subtype, else octet-stream. */
static void safe_content_type(const char *type, char *out, size_t size)
{
	size_t n = strcspn(type, "; "), slash = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)type[i];

		if (ch == '/' && slash == 0 && i > 0)
			slash = i;
		else if (!isalnum(ch) && ch != '.' && ch != '+' && ch != '-' && ch != '_')
			n = 0;
	}
	if (n == 0 || n >= size || slash == 0 || slash + 1 == n)
		snprintf(out, size, "application/octet-stream");
	else
		snprintf(out, size, "%.*s", (int)n, type);
}

/*
 * The package's download limit: file INDEX (0: the zip, -1: the landing page) was
 * downloaded as often as it may be. Events that cannot be read count as reached: a
 * limit is a promise to the sender.
 */
static int limit_reached(struct dl *c, const struct bd_download *d, int index)
{
	struct bd_error err;
	int rc = gw_delivery_limit_reached(gw_request_runtime(c->r), d, index, &err);

	if (rc < 0) {
		gw_log_field(c->r, "error", err.msg);
		bd_log(LOG_WARNING, "event=events-unreadable package=%s error=\"%s\"",
		       bd_download_package_id(d), err.msg);
	}
	return rc != 0;
}

/* 410 with the page that says the download limit was reached; closes D. */
static enum MHD_Result limit_page(struct dl *c, struct bd_download *d, int index)
{
	gw_metrics_event(GW_EV_DOWNLOAD_LIMIT);
	if (!c->head)
		audit(c, "download-limit", bd_download_package_id(d), index, -1, NULL, "refused",
		      MHD_HTTP_GONE);
	gw_log_field(c->r, "package", bd_download_package_id(d));
	gw_log_field(c->r, "result", "download-limit");
	bd_download_close(&d);
	return respond_page_error(c->r, c->lang, GW_PAGE_LIMIT, 0);
}

/* HEAD: the headers a GET would get, and no producer at all. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result serve(struct dl *c, struct bd_download *d)
{
	struct gw_request *r = c->r;
	const struct bd_manifest *m = bd_download_manifest(d);
	const struct bd_manifest_file *f = NULL;
	const char *package = bd_download_package_id(d);
	struct MHD_Response *resp;
	struct transfer *t;
	struct gw_pipe *pipe = NULL;
	struct gw_delivery *delivery = NULL;
	struct bd_error err;
	struct job *j;
	char etag[64], modified[40], value[128], *disposition;
	uint64_t off = 0, len = MHD_SIZE_UNKNOWN, size = 0, first, last;
	unsigned status = MHD_HTTP_OK;
	int partial = 0;

	if (c->kind == T_FILE) {
		f = bd_download_find(d, c->index);
		if (f == NULL) {
			char id[BD_PACKAGE_ID_HEX];

			snprintf(id, sizeof(id), "%s", package);
			bd_download_close(&d);
			return not_found(c, id, (int)c->index);
		}
		size = len = f->size;
	}
	if (limit_reached(c, d, c->kind == T_FILE ? (int)c->index : 0))
		return limit_page(c, d, c->kind == T_FILE ? (int)c->index : 0);
	snprintf(etag, sizeof(etag), "\"%s-%u\"", package, c->kind == T_FILE ? c->index : 0);
	http_date(m->created, modified);
	if (f != NULL && f->size > 0) {
		const char *range = header(c, MHD_HTTP_HEADER_RANGE);
		const char *if_range = header(c, MHD_HTTP_HEADER_IF_RANGE);
		int rc = 0;

		/* If-Range: the range only if the client's copy is this one; else the whole file.
		 */
		if (range != NULL && (if_range == NULL || strcmp(if_range, etag) == 0 ||
		                      strcmp(if_range, modified) == 0))
			rc = gw_parse_range(range, f->size, &first, &last);
		if (rc < 0) {
			bd_download_close(&d);
			resp = MHD_create_response_from_buffer(0, (void *)"",
			                                       MHD_RESPMEM_PERSISTENT);
			snprintf(value, sizeof(value), "bytes */%" PRIu64, size);
			if (resp != NULL)
				MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, value);
			gw_log_field(r, "result", "unsatisfiable-range");
			return gw_respond(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
		}
		if (rc > 0) {
			off = first;
			len = last - first + 1;
			partial = 1;
			status = MHD_HTTP_PARTIAL_CONTENT;
		}
	}
	if (c->head) {
		resp = MHD_create_response_from_callback(len, 1024, no_body, NULL, NULL);
		/* Of unknown length (the zip), libmicrohttpd 0.9.75 ends a chunked body even for
		 * HEAD: "0\r\n\r\n" that a client would read as the next answer. Without
		 * chunking, the answer ends with the connection. */
		if (resp != NULL && len == MHD_SIZE_UNKNOWN)
			MHD_set_response_options(resp, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END);
	} else {
		delivery = gw_delivery_new(d, c->kind == T_FILE ? c->index : 0, c->who, c->client);
		j = bd_calloc(1, sizeof(*j));
		j->rt = gw_runtime_hold(gw_request_runtime(r));
		j->d = d; /* the job owns it now */
		j->index = c->kind == T_FILE ? c->index : 0;
		j->off = off;
		j->len = len;
		pipe = gw_pipe_start(PIPE_BYTES, job_produce, j, job_free, &err);
		if (pipe == NULL) {
			gw_delivery_free(&delivery);
			return refuse(c, &err, c->kind == T_FILE ? (int)c->index : 0);
		}
		/* Wait for the first bytes, so a failure can still get its proper page. */
		if (gw_pipe_wait_first(pipe, &err) < 0) {
			gw_pipe_release(&pipe);
			gw_delivery_free(&delivery);
			return refuse(c, &err, c->kind == T_FILE ? (int)c->index : 0);
		}
		resp = gw_pipe_response(pipe, len, gw_metrics_bytes_out);
	}
	if (resp == NULL) {
		if (c->head)
			bd_download_close(&d);
		gw_pipe_release(&pipe);
		gw_delivery_free(&delivery);
		return MHD_NO;
	}
	if (f != NULL) {
		safe_content_type(f->content_type, value, sizeof(value));
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, value);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
		disposition = content_disposition(f->name);
	} else {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zip");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "none");
		disposition = content_disposition(gw_pages_zip_name(c->lang));
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
	g_free(disposition);
	if (partial) {
		snprintf(value, sizeof(value), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
		         off + len - 1, size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, value);
	}
	gw_log_field(r, "package", package);
	snprintf(value, sizeof(value), "%u", c->kind == T_FILE ? c->index : 0);
	gw_log_field(r, "file", value);
	if (c->head) {
		bd_download_close(&d); /* F and PACKAGE point into it */
		return gw_respond(r, status, resp);
	}

	t = bd_calloc(1, sizeof(*t));
	t->c = *c;
	sodium_memzero(t->c.token, sizeof(t->c.token)); /* not needed past this point */
	t->c.body = NULL;
	if (c->who != NULL)
		t->c.who = t->c.who_buf;
	t->pipe = pipe;
	t->delivery = delivery;
	t->off = off;
	t->expected = len;
	snprintf(t->package, sizeof(t->package), "%s", package);
	if (partial)
		snprintf(t->range, sizeof(t->range), "%" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
		         off + len - 1, size);
	if (c->client != NULL) {
		memcpy(&t->client, c->client,
		       c->client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                        : sizeof(struct sockaddr_in));
		t->c.client = (const struct sockaddr *)&t->client;
	}
	r->state = t;
	r->state_free = transfer_end;
	gw_metrics_download_begin();
	return gw_respond(r, status, resp);
}

static enum MHD_Result landing(struct dl *c, struct bd_download *d)
{
	struct gw_html page;
	enum MHD_Result rc;

	if (limit_reached(c, d, -1))
		return limit_page(c, d, -1);
	gw_log_field(c->r, "package", bd_download_package_id(d));
	gw_log_field(c->r, "result", "page");
	if (!c->head) {
		gw_metrics_event(GW_EV_PAGE_VIEW);
		audit(c, "page-view", bd_download_package_id(d), -1, -1, NULL, "shown",
		      MHD_HTTP_OK);
	}
	gw_pages_landing(gw_request_runtime(c->r)->pages, c->lang, c->token,
	                 bd_download_manifest(d), &page);
	rc = gw_respond_page(c->r, &page);
	bd_download_close(&d);
	return rc;
}

/* True when TOKEN's MAC verifies, expired or not: only the link key could have made it. */
static int token_genuine(const struct gw_request *r, const char *token)
{
	struct bd_token t;
	struct bd_error err;
	int rc = bd_token_decode(token, gw_request_runtime(r)->settings.keys, (int64_t)time(NULL),
	                         &t, &err);

	sodium_memzero(&t, sizeof(t));
	return rc == 0 || err.code == BD_E_EXPIRED;
}

enum gw_link_check gw_link_check(struct gw_download *dl, struct gw_request *r, const char *token,
                                 const struct sockaddr *client)
{
	if (token != NULL && token_genuine(r, token))
		return GW_LINK_GENUINE;
	if (gw_ratelimit_blocked(dl->ratelimit, client, gw_ratelimit_now_ms())) {
		gw_metrics_event(GW_EV_RATE_LIMITED);
		gw_log_field(r, "result", "rate-limited");
		return GW_LINK_LIMITED;
	}
	gw_ratelimit_failed(dl->ratelimit, client, gw_ratelimit_now_ms());
	return GW_LINK_FORGED;
}

static enum MHD_Result handle(struct dl *c)
{
	struct gw_request *r = c->r;
	const struct gw_runtime *rt = gw_request_runtime(r);
	struct bd_download *d = NULL;
	struct bd_error err;
	int rc;

	int post = strcmp(r->method, "POST") == 0;
	struct gw_verify_request q;
	enum MHD_Result answer;

	c->head = strcmp(r->method, "HEAD") == 0;
	c->lang = gw_request_language(r);
	/* Every link takes GET and HEAD; a POST only one whose package asks for verification,
	 * which is not known yet. */
	if (strcmp(r->method, "GET") != 0 && !c->head && !post)
		return gw_respond_not_allowed(r, "GET, HEAD");
	c->client = gw_request_client(r, &c->forwarded);
	switch (gw_link_check(r->route->cls, r,
	                      parse_target(r->url + strlen("/d/"), c) == 0 ? c->token : NULL,
	                      c->client)) {
	case GW_LINK_LIMITED:
		audit(c, "rate-limited", NULL, -1, -1, NULL, "refused", MHD_HTTP_TOO_MANY_REQUESTS);
		return respond_page_error(r, c->lang, GW_PAGE_TOO_MANY, 0);
	case GW_LINK_FORGED: return not_found(c, NULL, -1);
	case GW_LINK_GENUINE: break;
	}
	rc = bd_download_open(c->token, rt->settings.keys, rt->settings.store, (int64_t)time(NULL),
	                      &d, &err);
	if (rc < 0)
		return refuse(c, &err,
		              c->kind == T_FILE  ? (int)c->index
		              : c->kind == T_ALL ? 0
		                                 : -1);
	q = (struct gw_verify_request){r, c->token, c->lang, c->client, c->body, c->kind == T_PAGE};
	if (post && c->kind != T_PAGE) {
		bd_download_close(&d);
		return gw_respond_not_allowed(r, "GET, HEAD");
	}
	if (!bd_verify_gate(((struct gw_download *)r->route->cls)->verify, &q, d, &answer)) {
		gw_log_field(r, "package", bd_download_package_id(d));
		bd_download_close(&d);
		return answer;
	}
	if (post) {
		bd_download_close(&d);
		return gw_respond_not_allowed(r, "GET, HEAD");
	}
	/* a copy: the audit line of a transfer is written after D has gone */
	if (bd_verify_who(r, d) != NULL) {
		snprintf(c->who_buf, sizeof(c->who_buf), "%s", bd_verify_who(r, d));
		c->who = c->who_buf;
	}
	return c->kind == T_PAGE ? landing(c, d) : serve(c, d);
}

/* A verification form as it arrives; past FORM_BYTES it is cut (and so refused). */
static void form_free(struct gw_request *r, int completed)
{
	GString *form = r->state;

	sodium_memzero(form->str, form->allocated_len); /* it may hold a code */
	g_string_free(form, TRUE);
	r->state = NULL;
}

static enum MHD_Result download_handle(struct gw_request *r, const char *data, size_t *size)
{
	struct dl c = {.r = r};
	enum MHD_Result rc;

	if (r->calls == 1 && strcmp(r->method, "POST") == 0) {
		r->state = g_string_new(NULL);
		r->state_free = form_free;
	}
	if (r->calls == 1 || *size > 0) {
		if (r->state != NULL && ((GString *)r->state)->len + *size <= FORM_BYTES)
			g_string_append_len(r->state, data, (gssize)*size);
		*size = 0;
		return MHD_YES;
	}
	if (r->state != NULL)
		c.body = ((GString *)r->state)->str;
	rc = handle(&c);
	sodium_memzero(c.token, sizeof(c.token)); /* the copy of the link's secret */
	return rc;
}

/* ---- /logo, headers, redaction ---- */

static enum MHD_Result logo_handle(struct gw_request *r, const char *data, size_t *size)
{
	struct MHD_Response *resp;
	const uint8_t *logo;
	const char *type;
	size_t len;

	if (r->calls == 1 || *size > 0) {
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return gw_respond_not_allowed(r, "GET, HEAD");
	if (gw_pages_logo(gw_request_runtime(r)->pages, &logo, &len, &type) < 0)
		return gw_respond_text(r, MHD_HTTP_NOT_FOUND, "no logo configured\n");
	/* A copy: a reload may free the pages before the response has been sent. */
	resp = MHD_create_response_from_buffer(len, (void *)logo, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* Public and unchanging until the settings change: the one thing a browser may keep. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600");
	if (strcmp(r->method, "GET") == 0)
		r->bytes = len;
	return gw_respond(r, MHD_HTTP_OK, resp);
}

static void security_headers(struct gw_request *r, struct MHD_Response *resp, void *cls)
{
	const struct gw_download *dl = cls;
	const struct gw_runtime *rt = gw_request_runtime(r);

	gw_pages_security_headers(
	        resp, dl->https || (rt != NULL && strncmp(rt->settings.conf->gateway.public_url,
	                                                  "https://", 8) == 0));
}

static void redact(char *text, void *cls)
{
	gw_download_redact(text);
}

struct gw_download *gw_download_register(struct gw_server *srv, int https)
{
	struct gw_download *dl = bd_calloc(1, sizeof(*dl));
	const struct gw_route download = {.path = "/d/",
	                                  .is_prefix = 1,
	                                  .handler = download_handle,
	                                  .name = "download",
	                                  .cls = dl};
	const struct gw_route logo = {
	        .path = "/logo", .handler = logo_handle, .name = "logo", .cls = dl};

	dl->ratelimit = gw_ratelimit_new(0);
	dl->verify = gw_verify_new(https);
	dl->https = https;
	gw_server_add_route(srv, &download);
	gw_server_add_route(srv, &logo);
	gw_server_add_header_hook(srv, security_headers, dl);
	gw_server_add_redactor(srv, redact, NULL);
	return dl;
}
