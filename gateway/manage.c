/*
 * manage.c - the sender's management link, /m/<token> (a token of type 3,
 * mailed to the sender only):
 *   GET  /m/<token>         the package's status: files, recipients, who downloaded
 *                           what and when (its events); inert, like every GET
 *   POST /m/<token>/revoke  delete the package at once; its links then say withdrawn
 *   POST /m/<token>/extend  move the expiry by "days", within [admin] max_retention
 *                           from its creation (the admin API's rule, download.h)
 * A POST must carry the page's form field (a keyed hash of the package, so only
 * a page served for this package has it) and, when the browser names one, an
 * Origin that is [gateway] public_url's: no other site can make a sender's browser
 * revoke. Wrong tokens feed the failed-lookup limit like /d/ does.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "manage.h"
#include "audit.h"
#include "download.h"
#include "events.h"
#include "gateway.h"
#include "log.h"
#include "mem.h"
#include "pages.h"
#include "ratelimit.h"
#include "remove.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_MAX   1024 /* the forms' fields fit many times */
#define FORM_BYTES 16
#define DAY        86400

enum manage_action { M_STATUS, M_REVOKE, M_EXTEND };

struct gw_manage {
	struct gw_ratelimit *ratelimit; /* failed lookups per client, kept across reloads */
};

/* One request under /m/. */
struct mg {
	struct gw_request *r;
	char token[BD_TOKEN_MAX_CHARS + 1];
	enum manage_action action;
	const char *lang;
	const struct sockaddr *client;
	struct sockaddr_storage forwarded;
	char body[BODY_MAX + 1];
	size_t len;
	int too_long;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gw_manage_redact(char *text)
{
	for (char *p = strstr(text, "/m/"); p != NULL; p = strstr(p, "/m/")) {
		p += 3;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			*p++ = '*';
	}
}

/* "<token>", "<token>/", "<token>/revoke" or "<token>/extend" after "/m/"; 0 or -1. */
static int parse_target(const char *rest, struct mg *c)
{
	size_t n = strcspn(rest, "/");
	const char *tail = rest + n;

	if (n != BD_TOKEN_MAX_CHARS)
		return -1;
	memcpy(c->token, rest, n);
	c->token[n] = '\0';
	if (*tail == '\0' || strcmp(tail, "/") == 0)
		c->action = M_STATUS;
	else if (strcmp(tail, "/revoke") == 0)
		c->action = M_REVOKE;
	else if (strcmp(tail, "/extend") == 0)
		c->action = M_EXTEND;
	else
		return -1;
	return 0;
}

static void audit(const struct mg *c, const char *event, const char *package, const char *outcome,
                  unsigned status)
{
	struct gw_audit_event ev = {.event = event,
	                            .package = package,
	                            .file = -1,
	                            .bytes = -1,
	                            .outcome = outcome,
	                            .status = status,
	                            .client = c->client};

	gw_audit_write(gw_request_runtime(c->r)->audit, &ev);
}

/* The form field of package D's page: hex of a hash keyed with the link's secret. */
static void form_token(const struct bd_download *d, char out[2 * FORM_BYTES + 1])
{
	static const char domain[] = "bestanden manage form";
	const struct bd_package_keys *k = bd_download_keys(d);
	uint8_t mac[FORM_BYTES];
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->secret, sizeof(k->secret), sizeof(mac));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, k->id, sizeof(k->id));
	crypto_generichash_final(&st, mac, sizeof(mac));
	sodium_bin2hex(out, 2 * FORM_BYTES + 1, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

static enum MHD_Result respond(struct mg *c, struct gw_html *page)
{
	return gw_respond_page(c->r, page);
}

static enum MHD_Result refuse_page(struct mg *c, enum gw_page which, int64_t expires)
{
	struct gw_html page;

	gw_pages_error(gw_request_runtime(c->r)->pages, c->lang, which, expires, &page);
	return respond(c, &page);
}

/* A link that does not open: like /d/, a forgery feeds the limit; a withdrawn package
 * says so; an expired link gets its page. */
static enum MHD_Result refuse(struct mg *c, int genuine, const struct bd_error *err)
{
	const struct gw_runtime *rt = gw_request_runtime(c->r);
	char package[BD_PACKAGE_ID_HEX] = "";
	struct bd_token t;
	struct bd_error e2;
	int64_t expires = 0;

	if (genuine &&
	    (bd_token_decode(c->token, rt->settings.keys, (int64_t)time(NULL), &t, &e2) == 0 ||
	     e2.code == BD_E_EXPIRED)) {
		bd_package_id_hex(t.package_id, package);
		expires = t.expires;
		gw_log_field(c->r, "package", package);
	}
	sodium_memzero(&t, sizeof(t));
	if (!genuine) /* only forgeries count, as under /d/: a shared address stays usable */
		gw_ratelimit_failed(((struct gw_manage *)c->r->route->cls)->ratelimit, c->client,
		                    now_ms());
	if (err->code == BD_E_NOTFOUND && package[0] != '\0' &&
	    bd_package_withdrawn(rt->settings.store, package, NULL, NULL) == 1) {
		gw_log_field(c->r, "result", "withdrawn");
		return refuse_page(c, GW_PAGE_WITHDRAWN, 0);
	}
	if (err->code == BD_E_EXPIRED) {
		gw_log_field(c->r, "result", "expired");
		audit(c, "manage-expired", package[0] ? package : NULL, "refused", MHD_HTTP_GONE);
		return refuse_page(c, GW_PAGE_EXPIRED, expires);
	}
	if (err->code == BD_E_STORAGE || err->code == BD_E_TEMP || err->code == BD_E_IO) {
		gw_log_field(c->r, "result", "unavailable");
		gw_log_field(c->r, "error", err->msg);
		return refuse_page(c, GW_PAGE_UNAVAILABLE, 0);
	}
	gw_log_field(c->r, "result", "not-found");
	audit(c, "manage-not-found", package[0] ? package : NULL, "refused", MHD_HTTP_NOT_FOUND);
	return refuse_page(c, GW_PAGE_NOT_FOUND, 0);
}

/* The most whole days Extend may add to D now; 0 when none. */
static unsigned max_days(const struct bd_download *d, uint64_t max_retention)
{
	int64_t room =
	        bd_download_extend_limit(d, max_retention) - bd_download_manifest(d)->expires;

	return room >= DAY ? (unsigned)(room / DAY) : 0;
}

static enum MHD_Result status_page(struct mg *c, struct bd_download *d, int64_t extended_to)
{
	const struct gw_runtime *rt = gw_request_runtime(c->r);
	struct gw_manage_view v = {.token = c->token, .extended_to = extended_to};
	struct bd_event *events = NULL;
	struct bd_error err;
	struct gw_html page;
	char form[2 * FORM_BYTES + 1];
	size_t n = 0;

	/* Events that cannot be read leave the page without them, and the log says why. */
	if (bd_events_list(rt->settings.store, bd_download_keys(d), &events, &n, &err) < 0)
		gw_log_field(c->r, "events", err.msg);
	form_token(d, form);
	v.form = form;
	v.events = events;
	v.nevents = n;
	v.max_days = max_days(d, rt->settings.conf->admin.max_retention);
	if (strcmp(c->r->method, "HEAD") != 0 && extended_to == 0)
		audit(c, "manage-view", bd_download_package_id(d), "shown", MHD_HTTP_OK);
	gw_log_field(c->r, "result", "page");
	gw_pages_manage(rt->pages, c->lang, bd_download_manifest(d), &v, &page);
	free(events);
	sodium_memzero(form, sizeof(form));
	return respond(c, &page);
}

static enum MHD_Result revoke_package(struct mg *c, struct bd_download *d)
{
	const struct gw_runtime *rt = gw_request_runtime(c->r);
	char id[BD_PACKAGE_ID_HEX];
	struct gw_html page;
	struct bd_error err;
	int64_t until = bd_download_manifest(d)->expires;

	snprintf(id, sizeof(id), "%s", bd_download_package_id(d));
	bd_download_close(&d);
	if (bd_package_withdraw(rt->settings.store, id, until, NULL, &err) < 0) {
		gw_log_field(c->r, "error", err.msg);
		return refuse_page(c, GW_PAGE_UNAVAILABLE, 0);
	}
	audit(c, "revoked", id, "sender", MHD_HTTP_OK);
	bd_log(LOG_INFO, "event=revoked package=%s by=sender", id);
	gw_log_field(c->r, "result", "revoked");
	gw_pages_manage_revoked(rt->pages, c->lang, &page);
	return respond(c, &page);
}

static enum MHD_Result extend_package(struct mg *c, struct bd_download *d)
{
	const struct gw_runtime *rt = gw_request_runtime(c->r);
	uint64_t max_retention = rt->settings.conf->admin.max_retention;
	struct bd_event ev = {.kind = BD_EVENT_EXTENDED};
	char days_text[16], *end;
	struct gw_html page;
	struct bd_error err;
	enum MHD_Result rc;
	long days = 0;
	int64_t expires;

	if (gw_parse_form_field(c->body, "days", days_text, sizeof(days_text)) == 0)
		days = strtol(days_text, &end, 10);
	if (days <= 0 || days > 365 || *end != '\0') {
		gw_pages_manage_refused(rt->pages, c->lang, c->token, 0, &page);
		page.status = MHD_HTTP_BAD_REQUEST;
		bd_download_close(&d);
		return respond(c, &page);
	}
	expires = bd_download_manifest(d)->expires + (int64_t)days * DAY;
	if (bd_download_extend_within(d, rt->settings.keys, expires, (int64_t)time(NULL),
	                              max_retention, &err) < 0) {
		if (err.code == BD_E_INVALID) {
			gw_log_field(c->r, "result", "past-maximum");
			gw_pages_manage_refused(rt->pages, c->lang, c->token,
			                        bd_download_extend_limit(d, max_retention), &page);
			rc = respond(c, &page);
		} else {
			gw_log_field(c->r, "error", err.msg);
			rc = refuse_page(c, GW_PAGE_UNAVAILABLE, 0);
		}
		bd_download_close(&d);
		return rc;
	}
	if (bd_events_record(rt->settings.store, bd_download_keys(d), &ev, &err) < 0)
		gw_log_field(c->r, "events", err.msg);
	audit(c, "extended", bd_download_package_id(d), "sender", MHD_HTTP_OK);
	rc = status_page(c, d, expires);
	bd_download_close(&d);
	return rc;
}

static enum MHD_Result handle(struct mg *c)
{
	struct gw_request *r = c->r;
	const struct gw_runtime *rt = gw_request_runtime(r);
	struct bd_download *d = NULL;
	struct bd_error err;
	char form[2 * FORM_BYTES + 1], given[2 * FORM_BYTES + 2] = "";
	int genuine, post = strcmp(r->method, "POST") == 0;
	struct bd_token t;
	enum MHD_Result rc;

	genuine =
	        parse_target(r->url + strlen("/m/"), c) == 0 &&
	        (bd_token_decode(c->token, rt->settings.keys, (int64_t)time(NULL), &t, &err) == 0 ||
	         err.code == BD_E_EXPIRED);
	sodium_memzero(&t, sizeof(t));
	if (!genuine && gw_ratelimit_blocked(((struct gw_manage *)r->route->cls)->ratelimit,
	                                     c->client, now_ms())) {
		audit(c, "rate-limited", NULL, "refused", MHD_HTTP_TOO_MANY_REQUESTS);
		gw_log_field(r, "result", "rate-limited");
		return refuse_page(c, GW_PAGE_TOO_MANY, 0);
	}
	if (!genuine) {
		bd_error_set(&err, BD_E_INVALID, "not a management link");
		return refuse(c, 0, &err);
	}
	if ((c->action == M_STATUS) == post)
		return gw_respond_not_allowed(r, c->action == M_STATUS ? "GET, HEAD" : "POST");
	if (bd_download_open_as(c->token, BD_TOKEN_MANAGE, rt->settings.keys, rt->settings.store,
	                        (int64_t)time(NULL), &d, &err) < 0)
		return refuse(c, 1, &err);
	gw_log_field(r, "package", bd_download_package_id(d));
	if (c->action == M_STATUS) {
		rc = status_page(c, d, 0);
		bd_download_close(&d);
		return rc;
	}
	/* a POST: from the page itself, or nothing happens */
	form_token(d, form);
	gw_parse_form_field(c->body, "form", given, sizeof(given));
	if (c->too_long || !gw_request_same_site(c->r) || strlen(given) != strlen(form) ||
	    sodium_memcmp(given, form, strlen(form)) != 0) {
		struct gw_html page;

		sodium_memzero(form, sizeof(form));
		audit(c, c->action == M_REVOKE ? "revoke-refused" : "extend-refused",
		      bd_download_package_id(d), "forbidden", MHD_HTTP_FORBIDDEN);
		gw_log_field(r, "result", "forbidden");
		bd_download_close(&d);
		gw_pages_manage_refused(rt->pages, c->lang, c->token, 0, &page);
		return respond(c, &page);
	}
	sodium_memzero(form, sizeof(form));
	return c->action == M_REVOKE ? revoke_package(c, d) : extend_package(c, d);
}

static void mg_free(struct gw_request *r, int completed)
{
	struct mg *c = r->state;

	sodium_memzero(c, sizeof(*c));
	free(c);
	r->state = NULL;
}

static enum MHD_Result manage_handle(struct gw_request *r, const char *data, size_t *size)
{
	struct mg *c = r->state;

	if (r->calls == 1) {
		if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 &&
		    strcmp(r->method, "POST") != 0)
			return gw_respond_not_allowed(r, "GET, HEAD, POST");
		c = bd_calloc(1, sizeof(*c));
		c->r = r;
		r->state = c;
		r->state_free = mg_free;
		c->lang = gw_request_language(r);
		c->client = gw_request_client(r, &c->forwarded);
		return MHD_YES;
	}
	if (*size > 0) {
		r->bytes += *size;
		c->too_long |= gw_body_append(c->body, BODY_MAX, &c->len, data, size);
		return MHD_YES;
	}
	c->body[c->len] = '\0';
	return handle(c);
}

static void redact(char *text, void *cls)
{
	gw_manage_redact(text);
}

struct gw_manage *gw_manage_register(struct gw_server *srv)
{
	struct gw_manage *m = bd_calloc(1, sizeof(*m));
	const struct gw_route route = {.path = "/m/",
	                               .is_prefix = 1,
	                               .handler = manage_handle,
	                               .name = "manage",
	                               .cls = m};

	m->ratelimit = gw_ratelimit_new(0);
	gw_server_add_route(srv, &route);
	gw_server_add_redactor(srv, redact, NULL);
	return m;
}

void gw_manage_set_rate(struct gw_manage *m, unsigned per_minute)
{
	gw_ratelimit_set_rate(m->ratelimit, per_minute);
}

void gw_manage_free(struct gw_manage **mp)
{
	if (*mp == NULL)
		return;
	gw_ratelimit_free(&(*mp)->ratelimit);
	free(*mp);
	*mp = NULL;
}
