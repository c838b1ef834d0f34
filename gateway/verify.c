/*
 * verify.c - the gate before a package's files (see verify.h).
 *
 * Posts carry a form token bound to the package and the hour (a keyed hash
 * under the cookie key), and one from another site (Origin, Sec-Fetch-Site)
 * is refused; each takes one try from the client's and the package's
 * bucket. A known address gets its code from a thread of its own after the
 * page has gone out, so a listed and an unknown address get the same bytes
 * at the same speed. Nothing here logs a code, an address or the link.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "verify.h"
#include "audit.h"
#include "cookie.h"
#include "events.h"
#include "gateway.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "notify.h"
#include "pages.h"
#include "ratelimit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <glib.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADDRESS_MAX        254
#define CODE_DIGITS        6
#define PACKAGE_PER_MINUTE 30   /* posts for one package, from everywhere */
#define FORM_WINDOW        3600 /* a form token is good in its hour and the next */
#define RESEND_AFTER       30   /* seconds before one address gets another code */
#define CODES_PER_HOUR     10   /* codes one package mails in an hour, to all its recipients */

struct gw_verify {
	struct gw_ratelimit *clients;  /* posts per client address */
	struct gw_ratelimit *packages; /* posts per package */
	int https;
};

struct gw_verify *gw_verify_new(int https)
{
	struct gw_verify *v = bd_calloc(1, sizeof(*v));

	v->clients = gw_ratelimit_new(0);
	v->packages = gw_ratelimit_new(PACKAGE_PER_MINUTE);
	v->https = https;
	return v;
}

void gw_verify_free(struct gw_verify **vp)
{
	if (*vp == NULL)
		return;
	gw_ratelimit_free(&(*vp)->clients);
	gw_ratelimit_free(&(*vp)->packages);
	free(*vp);
	*vp = NULL;
}

void gw_verify_set_rate(struct gw_verify *v, unsigned per_minute)
{
	gw_ratelimit_set_rate(v->clients, per_minute);
}

/* ---- what one gate decision needs ---- */

struct gate {
	struct gw_verify *v;
	const struct gw_verify_request *q;
	struct gw_request *r;
	const struct gw_runtime *rt;
	const struct bd_manifest *m;
	const struct bd_download *d;
	const char *package; /* hex */
	uint8_t key[GW_COOKIE_KEY];
	int64_t now;
};

static void audit(const struct gate *g, const char *event, const char *outcome, unsigned status,
                  const char *who)
{
	struct gw_audit_event ev = {.event = event,
	                            .package = g->package,
	                            .file = -1,
	                            .bytes = -1,
	                            .outcome = outcome,
	                            .status = status,
	                            .client = g->q->client,
	                            .recipient = who};

	gw_audit_write(g->rt->audit, &ev);
}

/* The cookie key of the package's link key; -1 when that key is gone. */
static int cookie_key_of(const struct gw_runtime *rt, const struct bd_manifest *m,
                         uint8_t out[GW_COOKIE_KEY])
{
	const uint8_t *link = bd_keyring_link_key(rt->settings.keys, m->link_key_id);

	if (link == NULL)
		return -1;
	gw_cookie_key(link, out);
	return 0;
}

/* The recipient of M that ADDRESS names (the manifest's spelling), or NULL; every
 * recipient is compared, so the time taken does not say which matched. */
static const char *recipient_of(const uint8_t key[GW_COOKIE_KEY], const struct bd_manifest *m,
                                const uint8_t who[GW_COOKIE_WHO])
{
	const char *found = NULL;

	for (size_t i = 0; i < m->nrecipients; i++) {
		uint8_t h[GW_COOKIE_WHO];

		gw_cookie_who(key, m->package_id, m->recipients[i], h);
		if (sodium_memcmp(h, who, GW_COOKIE_WHO) == 0 && found == NULL)
			found = m->recipients[i];
	}
	return found;
}

/* 1 when one of the request's cookies is valid for M; its address hash into WHO. */
static int cookie_valid(struct gw_request *r, const uint8_t key[GW_COOKIE_KEY],
                        const struct bd_manifest *m, int64_t now, uint8_t who[GW_COOKIE_WHO])
{
	const char *header = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Cookie");
	char value[GW_COOKIE_CHARS + 1];

	for (const char *p = header; p != NULL;) {
		p = gw_cookie_next(p, GW_COOKIE_NAME, value, sizeof(value));
		if (p != NULL && gw_cookie_decode(key, m->package_id, value, now, who) == 0)
			return 1;
	}
	return 0;
}

const char *bd_verify_who(struct gw_request *r, const struct bd_download *d)
{
	const struct bd_manifest *m = bd_download_manifest(d);
	uint8_t key[GW_COOKIE_KEY], who[GW_COOKIE_WHO], zero[GW_COOKIE_WHO] = {0};
	const char *found = NULL;

	if (cookie_key_of(gw_request_runtime(r), m, key) == 0 &&
	    cookie_valid(r, key, m, (int64_t)time(NULL), who) &&
	    sodium_memcmp(who, zero, sizeof(zero)) != 0)
		found = recipient_of(key, m, who);
	sodium_memzero(key, sizeof(key));
	return found;
}

/* ---- the form ---- */

/* The form token of package M for the window of NOW (22 characters). */
static void form_token(const uint8_t key[GW_COOKIE_KEY], const struct bd_manifest *m, int64_t now,
                       char out[32])
{
	static const char domain[] = "bestanden verify form v1";
	crypto_generichash_state st;
	uint8_t h[16], window[8];
	uint64_t w = (uint64_t)now / FORM_WINDOW;

	for (int i = 7; i >= 0; i--, w >>= 8)
		window[i] = (uint8_t)w;
	crypto_generichash_init(&st, key, GW_COOKIE_KEY, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain) - 1);
	crypto_generichash_update(&st, m->package_id, BD_PACKAGE_ID_BYTES);
	crypto_generichash_update(&st, window, sizeof(window));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2base64(out, 32, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* 1 when a post came from this gateway's own page: the form token of this or the last
 * window, and no sign of another site. */
static int post_genuine(const struct gate *g)
{
	char got[32], now[32], last[32];
	int ok;

	if (!gw_request_same_site(g->r))
		return 0;
	if (gw_parse_form_field(g->q->body, "form", got, sizeof(got)) < 0 || strlen(got) != 22)
		return 0;
	form_token(g->key, g->m, g->now, now);
	form_token(g->key, g->m, g->now - FORM_WINDOW, last);
	ok = sodium_memcmp(got, now, 22) == 0;
	ok |= sodium_memcmp(got, last, 22) == 0;
	return ok;
}

/* ---- answers ---- */

static enum MHD_Result page(const struct gate *g, enum gw_verify_step step, const char *address,
                            int64_t until)
{
	char form[32];
	struct gw_verify_form f = {
	        .token = g->q->token,
	        .form = form,
	        .address = address,
	        .minutes = (unsigned)((g->rt->settings.conf->recipients.code_ttl + 59) / 60),
	        .until = until};
	struct gw_html html;

	form_token(g->key, g->m, g->now, form);
	gw_pages_verify(g->rt->pages, g->q->lang, step, &f, &html);
	/* a file asked for without the cookie: the gate's page, but not as a success */
	if (html.status == MHD_HTTP_OK && !g->q->landing)
		html.status = MHD_HTTP_FORBIDDEN;
	return gw_respond_page(g->r, &html);
}

/* A right answer: the cookie, and back to the page with a GET. */
static enum MHD_Result verified(const struct gate *g, const char *who)
{
	const char *base = gw_pages_base_path(g->rt->pages);
	const char *url = g->rt->settings.conf->gateway.public_url;
	uint8_t hash[GW_COOKIE_WHO];
	char value[GW_COOKIE_CHARS + 1], *cookie, *location;
	struct MHD_Response *resp;
	int secure = g->v->https || strncmp(url, "https://", 8) == 0;

	if (who != NULL)
		gw_cookie_who(g->key, g->m->package_id, who, hash);
	gw_cookie_encode(g->key, g->m->package_id, g->now + GW_COOKIE_LIFETIME,
	                 who != NULL ? hash : NULL, value);
	cookie = bd_asprintf("%s=%s; Path=%s/d/%s; Max-Age=%d; HttpOnly; SameSite=Strict%s",
	                     GW_COOKIE_NAME, value, base, g->q->token, GW_COOKIE_LIFETIME,
	                     secure ? "; Secure" : "");
	location = bd_asprintf("%s/d/%s?lang=%s", base, g->q->token, g->q->lang);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp != NULL) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	}
	sodium_memzero(cookie, strlen(cookie));
	sodium_memzero(location, strlen(location));
	free(cookie);
	free(location);
	gw_metrics_event(GW_EV_VERIFIED);
	audit(g, "verified", "verified", MHD_HTTP_SEE_OTHER, who);
	gw_log_field(g->r, "result", "verified");
	return resp != NULL ? gw_respond(g->r, MHD_HTTP_SEE_OTHER, resp) : MHD_NO;
}

static void failed(const struct gate *g, const char *why, unsigned status)
{
	gw_metrics_event(GW_EV_VERIFY_FAILED);
	audit(g, "verification-failed", why, status, NULL);
	gw_log_field(g->r, "result", "verification-failed");
	gw_log_field(g->r, "reason", why);
}

/* ---- events ---- */

/* The keyed hash of the client's address (IPv4 whole, IPv6 its /64, as the rate limits). */
static void client_hash(const struct gate *g, uint8_t out[16])
{
	char text[INET6_ADDRSTRLEN + 4] = "";
	const struct sockaddr *sa = g->q->client;

	if (sa != NULL && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof(text));
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof(text));
		} else {
			memset(&a.s6_addr[8], 0, 8);
			inet_ntop(AF_INET6, &a, text, sizeof(text));
			strcat(text, "/64");
		}
	}
	bd_event_client_hash(bd_download_keys(g->d), text, out);
}

static int record(const struct gate *g, struct bd_event *ev)
{
	struct bd_error err;

	ev->at = g->now;
	if (bd_events_record(g->rt->settings.store, bd_download_keys(g->d), ev, &err) < 0) {
		bd_log(LOG_WARNING, "event=verify-event-failed package=%s error=\"%s\"", g->package,
		       err.msg);
		return -1;
	}
	return 0;
}

/* The keyed hash of CODE as mailed to ADDRESS, kept in a CODE_SENT event's offset and
 * length (16 bytes): only the package's keys can compute it. */
static void code_hash(const struct bd_package_keys *keys, const char *address, const char *code,
                      uint64_t *a, uint64_t *b)
{
	static const char domain[] = "bestanden verify code v1";
	crypto_generichash_state st;
	uint8_t key[32], h[16];

	crypto_generichash(key, sizeof(key), keys->id, sizeof(keys->id), keys->server_key,
	                   sizeof(keys->server_key));
	crypto_generichash_init(&st, key, sizeof(key), sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain) - 1);
	crypto_generichash_update(&st, (const uint8_t *)address, strlen(address) + 1);
	crypto_generichash_update(&st, (const uint8_t *)code, strlen(code));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(a, h, 8);
	memcpy(b, h + 8, 8);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(h, sizeof(h));
}

/* ---- the sender's access code ---- */

/* Until when CLIENT is locked out by EV (0: not), and its wrong tries since. */
static int64_t lock_state(const struct gate *g, const struct bd_event *ev, size_t n,
                          const uint8_t client[16], unsigned *tries)
{
	int64_t lockout = (int64_t)g->rt->settings.conf->recipients.lockout;
	int64_t since = g->now - lockout, until = 0;

	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == BD_EVENT_LOCKED && sodium_memcmp(ev[i].client, client, 16) == 0 &&
		    ev[i].at > since) {
			since = ev[i].at;
			until = ev[i].at + lockout;
		}
	*tries = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == BD_EVENT_CODE_FAILED && ev[i].who[0] == '\0' &&
		    sodium_memcmp(ev[i].client, client, 16) == 0 && ev[i].at >= since)
			(*tries)++;
	return until > g->now ? until : 0;
}

/* True when EV holds a lock of any client within the last lockout: its sender was warned
 * then, and one warning per lockout is enough (many clients must not flood the sender). */
static bool lock_warned(const struct gate *g, const struct bd_event *ev, size_t n)
{
	int64_t since = g->now - (int64_t)g->rt->settings.conf->recipients.lockout;

	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == BD_EVENT_LOCKED && ev[i].at > since)
			return true;
	return false;
}

/* With receipts on, the sender hears of a lock: the recipient may call, or the link may be
 * in the wrong hands (then the management link withdraws it). */
static void warn_sender(const struct gate *g, int64_t until)
{
	struct bd_error err;

	if (g->m->protection.receipts == BD_RECEIPTS_OFF || g->m->sender == NULL)
		return;
	if (bd_notify_locked(g->rt->settings.conf, g->m->sender, (time_t)until, &err) < 0)
		bd_log(LOG_WARNING, "event=lock-warning-failed package=%s error=\"%s\"", g->package,
		       err.msg);
	else
		bd_log(LOG_INFO, "event=lock-warning-sent package=%s", g->package);
}

static enum MHD_Result access_code(const struct gate *g)
{
	struct bd_event *ev = NULL, e = {.kind = BD_EVENT_CODE_FAILED};
	struct bd_error err;
	char code[160];
	unsigned tries;
	size_t n = 0;
	int64_t until;
	bool warned;

	client_hash(g, e.client);
	if (bd_events_list(g->rt->settings.store, bd_download_keys(g->d), &ev, &n, &err) < 0) {
		bd_log(LOG_WARNING, "event=verify-events-failed package=%s error=\"%s\"",
		       g->package, err.msg);
		failed(g, "storage", MHD_HTTP_SERVICE_UNAVAILABLE);
		return page(g, GW_VERIFY_BUSY, NULL, 0);
	}
	until = lock_state(g, ev, n, e.client, &tries);
	warned = lock_warned(g, ev, n);
	free(ev);
	if (until != 0) {
		failed(g, "locked", MHD_HTTP_TOO_MANY_REQUESTS);
		return page(g, GW_VERIFY_LOCKED, NULL, until);
	}
	if (gw_parse_form_field(g->q->body, "code", code, sizeof(code)) == 0 &&
	    bd_access_code_check(g->m->protection.access_code_hash, code) == 1) {
		sodium_memzero(code, sizeof(code));
		e.kind = BD_EVENT_VERIFIED;
		record(g, &e);
		return verified(g, NULL);
	}
	sodium_memzero(code, sizeof(code));
	record(g, &e);
	if (tries + 1 >= g->rt->settings.conf->recipients.code_tries) {
		e.kind = BD_EVENT_LOCKED;
		record(g, &e);
		gw_metrics_event(GW_EV_LOCKED);
		audit(g, "locked", "locked", MHD_HTTP_TOO_MANY_REQUESTS, NULL);
		bd_log(LOG_NOTICE, "event=verify-locked package=%s", g->package);
		gw_log_field(g->r, "result", "locked");
		if (!warned)
			warn_sender(g, g->now + (int64_t)g->rt->settings.conf->recipients.lockout);
		return page(g, GW_VERIFY_LOCKED, NULL,
		            g->now + (int64_t)g->rt->settings.conf->recipients.lockout);
	}
	failed(g, "wrong-access-code", MHD_HTTP_FORBIDDEN);
	return page(g, GW_VERIFY_WRONG_ACCESS, NULL, 0);
}

/* ---- a code by mail ---- */

/* What the mailing thread needs; it owns all of it. */
struct code_job {
	struct gw_runtime *rt;
	struct bd_package_keys *keys;
	struct bd_event ev; /* CODE_SENT to ev.who, the client filled in */
	char *link;
	char lang[4];
	char package[BD_PACKAGE_ID_HEX];
	struct sockaddr_storage client;
};

/* The last code mailed to TO among EV (NULL: none), and the wrong tries since, in *FAILED. */
static const struct bd_event *last_code(const struct bd_event *ev, size_t n, const char *to,
                                        uint64_t *failed)
{
	const struct bd_event *sent = NULL;

	*failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev[i].who, to) != 0)
			continue;
		if (ev[i].kind == BD_EVENT_CODE_SENT)
			sent = &ev[i], *failed = 0;
		else if (ev[i].kind == BD_EVENT_CODE_FAILED && sent != NULL)
			(*failed)++;
	}
	return sent;
}

/* 1 when the events EV allow another code to TO at NOW: fewer than CODES_PER_HOUR in
 * the last hour, and none to TO in the last RESEND_AFTER seconds unless its TRIES are
 * used up. A recipient's mailbox is not a target for whoever holds the link. */
static int may_send(const struct bd_event *ev, size_t n, const char *to, int64_t now,
                    uint64_t tries)
{
	uint64_t failed;
	const struct bd_event *last = last_code(ev, n, to, &failed);
	unsigned hour = 0;

	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == BD_EVENT_CODE_SENT && ev[i].at > now - 3600)
			hour++;
	if (last != NULL && last->at > now - RESEND_AFTER && failed < tries)
		return 0;
	return hour < CODES_PER_HOUR;
}

static void *code_job_run(void *cls)
{
	struct code_job *j = cls;
	const struct bd_conf *conf = j->rt->settings.conf;
	struct gw_audit_event a = {.event = "code-sent",
	                           .package = j->package,
	                           .file = -1,
	                           .bytes = -1,
	                           .outcome = "sent",
	                           .client = (const struct sockaddr *)&j->client,
	                           .recipient = j->ev.who};
	struct bd_error err;
	char code[CODE_DIGITS + 1];

	struct bd_event *ev = NULL;
	size_t n = 0;
	int rc = bd_events_list(j->rt->settings.store, j->keys, &ev, &n, &err);

	if (rc == 0 && !may_send(ev, n, j->ev.who, j->ev.at, conf->recipients.code_tries)) {
		bd_log(LOG_NOTICE, "event=verify-code-throttled package=%s", j->package);
		a.event = "verification-failed";
		a.outcome = "code-throttled";
		gw_metrics_event(GW_EV_VERIFY_FAILED);
		goto done;
	}
	snprintf(code, sizeof(code), "%06u", (unsigned)randombytes_uniform(1000000));
	code_hash(j->keys, j->ev.who, code, &j->ev.offset, &j->ev.length);
	if (rc < 0 || bd_events_record(j->rt->settings.store, j->keys, &j->ev, &err) < 0 ||
	    bd_notify_code(conf, j->lang, j->ev.who, j->link, code,
	                   (unsigned)((conf->recipients.code_ttl + 59) / 60), &err) < 0) {
		bd_log(LOG_WARNING, "event=verify-code-failed package=%s error=\"%s\"", j->package,
		       err.msg);
		a.event = "verification-failed";
		a.outcome = "code-not-sent";
		gw_metrics_event(GW_EV_VERIFY_FAILED);
	} else {
		bd_log(LOG_INFO, "event=verify-code-sent package=%s", j->package);
		gw_metrics_event(GW_EV_CODE_SENT);
	}
done:
	free(ev);
	gw_audit_write(j->rt->audit, &a);
	sodium_memzero(code, sizeof(code));
	sodium_memzero(j->link, strlen(j->link));
	free(j->link);
	bd_package_keys_free(&j->keys);
	gw_runtime_release(j->rt);
	free(j);
	return NULL;
}

static void send_code(const struct gate *g, const char *to, const uint8_t client[16])
{
	struct code_job *j = bd_calloc(1, sizeof(*j));
	const struct sockaddr *sa = g->q->client;
	GThread *t;

	j->rt = gw_runtime_hold((struct gw_runtime *)g->rt);
	j->keys = bd_package_keys_alloc();
	memcpy(j->keys, bd_download_keys(g->d), sizeof(*j->keys));
	j->ev = (struct bd_event){.kind = BD_EVENT_CODE_SENT, .at = g->now};
	snprintf(j->ev.who, sizeof(j->ev.who), "%s", to);
	memcpy(j->ev.client, client, 16);
	j->link = bd_asprintf("%s/d/%s", g->rt->settings.conf->gateway.public_url, g->q->token);
	snprintf(j->lang, sizeof(j->lang), "%s", g->q->lang);
	snprintf(j->package, sizeof(j->package), "%s", g->package);
	if (sa != NULL)
		memcpy(&j->client, sa,
		       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                 : sizeof(struct sockaddr_in));
	t = g_thread_new("verify-code", code_job_run, j);
	g_thread_unref(t);
}

/* The address as typed, trimmed; -1 when it cannot be an address at all. */
static int typed_address(const struct gate *g, char out[ADDRESS_MAX + 1])
{
	char *at;
	size_t n;

	if (gw_parse_form_field(g->q->body, "address", out, ADDRESS_MAX + 1) < 0)
		return -1;
	g_strstrip(out);
	n = strlen(out);
	at = strrchr(out, '@');
	if (n < 3 || at == NULL || at == out || at[1] == '\0' || strpbrk(out, " <>\",;") != NULL)
		return -1;
	return 0;
}

static enum MHD_Result request_code(const struct gate *g)
{
	char address[ADDRESS_MAX + 1];
	uint8_t who[GW_COOKIE_WHO], client[16];
	const char *to;

	if (typed_address(g, address) < 0)
		return page(g, GW_VERIFY_ASK_ADDRESS, NULL, 0);
	gw_cookie_who(g->key, g->m->package_id, address, who);
	to = recipient_of(g->key, g->m, who);
	client_hash(g, client);
	if (to != NULL)
		send_code(g, to, client);
	else
		audit(g, "verification-failed", "unknown-address", MHD_HTTP_OK, NULL);
	gw_log_field(g->r, "result", "code-requested");
	return page(g, GW_VERIFY_ASK_CODE, address, 0);
}

/* The six digits of what was typed (spaces and dashes left out); -1 when it is not that. */
static int typed_code(const struct gate *g, char out[CODE_DIGITS + 1])
{
	char raw[32];
	size_t n = 0;

	if (gw_parse_form_field(g->q->body, "code", raw, sizeof(raw)) < 0)
		return -1;
	for (const char *p = raw; *p; p++) {
		if (isdigit((unsigned char)*p) && n < CODE_DIGITS)
			out[n++] = *p;
		else if (*p != ' ' && *p != '-')
			n = CODE_DIGITS + 1;
		if (n > CODE_DIGITS)
			break;
	}
	sodium_memzero(raw, sizeof(raw));
	out[n <= CODE_DIGITS ? n : 0] = '\0';
	return n == CODE_DIGITS ? 0 : -1;
}

/* 1 when CODE is the last code mailed to TO, within its time and tries. */
static int code_right(const struct gate *g, const struct bd_event *ev, size_t n, const char *to,
                      const char *code)
{
	const struct bd_conf_recipients *rc = &g->rt->settings.conf->recipients;
	uint64_t tries, a, b;
	const struct bd_event *sent = last_code(ev, n, to, &tries);

	if (sent == NULL || sent->at + (int64_t)rc->code_ttl <= g->now || tries >= rc->code_tries)
		return 0;
	code_hash(bd_download_keys(g->d), to, code, &a, &b);
	return (sodium_memcmp(&a, &sent->offset, 8) == 0) &
	       (sodium_memcmp(&b, &sent->length, 8) == 0);
}

static enum MHD_Result enter_code(const struct gate *g)
{
	char address[ADDRESS_MAX + 1], code[CODE_DIGITS + 1];
	uint8_t who[GW_COOKIE_WHO];
	struct bd_event *ev = NULL, e = {.kind = BD_EVENT_CODE_FAILED};
	struct bd_error err;
	const char *to = NULL;
	size_t n = 0;
	int right = 0;

	if (typed_address(g, address) < 0)
		return page(g, GW_VERIFY_ASK_ADDRESS, NULL, 0);
	gw_cookie_who(g->key, g->m->package_id, address, who);
	to = recipient_of(g->key, g->m, who);
	if (bd_events_list(g->rt->settings.store, bd_download_keys(g->d), &ev, &n, &err) < 0) {
		bd_log(LOG_WARNING, "event=verify-events-failed package=%s error=\"%s\"",
		       g->package, err.msg);
		failed(g, "storage", MHD_HTTP_SERVICE_UNAVAILABLE);
		return page(g, GW_VERIFY_BUSY, NULL, 0);
	}
	if (typed_code(g, code) == 0 && to != NULL)
		right = code_right(g, ev, n, to, code);
	sodium_memzero(code, sizeof(code));
	free(ev);
	client_hash(g, e.client);
	if (right) {
		e.kind = BD_EVENT_VERIFIED;
		snprintf(e.who, sizeof(e.who), "%s", to);
		record(g, &e);
		return verified(g, to);
	}
	/* an unknown address's try is kept too (without it), so both take as long */
	if (to != NULL)
		snprintf(e.who, sizeof(e.who), "%s", to);
	record(g, &e);
	failed(g, "wrong-code", MHD_HTTP_FORBIDDEN);
	return page(g, GW_VERIFY_WRONG_CODE, address, 0);
}

/* ---- the gate ---- */

static enum MHD_Result post(struct gate *g)
{
	uint8_t key[16] = {'p'};
	char step[16];

	if (!post_genuine(g)) {
		failed(g, "stale-form", MHD_HTTP_FORBIDDEN);
		return page(g, GW_VERIFY_STALE, NULL, 0);
	}
	memcpy(key + 1, g->m->package_id, BD_PACKAGE_ID_BYTES);
	if (gw_ratelimit_blocked(g->v->clients, g->q->client, gw_ratelimit_now_ms()) ||
	    gw_ratelimit_blocked_key(g->v->packages, key, gw_ratelimit_now_ms())) {
		failed(g, "rate-limited", MHD_HTTP_TOO_MANY_REQUESTS);
		return page(g, GW_VERIFY_BUSY, NULL, 0);
	}
	gw_ratelimit_failed(g->v->clients, g->q->client, gw_ratelimit_now_ms());
	gw_ratelimit_failed_key(g->v->packages, key, gw_ratelimit_now_ms());
	if (g->m->protection.access_code_hash != NULL)
		return access_code(g);
	if (gw_parse_form_field(g->q->body, "step", step, sizeof(step)) == 0 &&
	    strcmp(step, "code") == 0)
		return enter_code(g);
	return request_code(g);
}

int bd_verify_gate(struct gw_verify *v, const struct gw_verify_request *q,
                   const struct bd_download *d, enum MHD_Result *answer)
{
	struct gate g = {.v = v,
	                 .q = q,
	                 .r = q->r,
	                 .rt = gw_request_runtime(q->r),
	                 .m = bd_download_manifest(d),
	                 .d = d,
	                 .package = bd_download_package_id(d),
	                 .now = (int64_t)time(NULL)};
	uint8_t who[GW_COOKIE_WHO];
	int is_post = strcmp(q->r->method, "POST") == 0;

	if (g.m->protection.verify != BD_VERIFY_CODE && g.m->protection.access_code_hash == NULL)
		return 1;
	if (cookie_key_of(g.rt, g.m, g.key) < 0) {
		/* the link verified, so its key is here; a reload may have removed it since */
		*answer = gw_respond_text(q->r, MHD_HTTP_SERVICE_UNAVAILABLE, "try again\n");
		return 0;
	}
	if (cookie_valid(q->r, g.key, g.m, g.now, who) && !is_post) {
		sodium_memzero(g.key, sizeof(g.key));
		return 1;
	}
	if (!is_post) {
		gw_log_field(q->r, "result", "verify");
		*answer = page(&g,
		               g.m->protection.access_code_hash != NULL ? GW_VERIFY_ASK_ACCESS
		                                                        : GW_VERIFY_ASK_ADDRESS,
		               NULL, 0);
	} else {
		*answer = post(&g);
	}
	sodium_memzero(g.key, sizeof(g.key));
	return 0;
}
