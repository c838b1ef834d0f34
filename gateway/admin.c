/*
 * admin.c - the admin API (docs/API.md, docs/api/openapi.json): package status,
 * revoke, extend, the audit entries of one package, storage and traffic
 * statistics, creating an upload request; JSON in and out (jansson). It runs on its own listener
 * ([admin] listen), never on the recipients' port, and every request needs the
 * bearer token of [admin] token_file. A package is named by its id (16 hex
 * digits) or its link token; only the link shows file names or can extend it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "audit.h"
#include "bearer.h"
#include "download.h"
#include "gateway.h"
#include "info.h"
#include "invite.h"
#include "mem.h"
#include "metrics.h"
#include "remove.h"
#include "token.h"

#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREFIX   "/admin/v1"
#define BODY_MAX 4096 /* a request's note fits */
#define ARG_MAX  128

struct gw_admin {
	struct gw_bearer token;
};

struct gw_admin *gw_admin_open(const char *token_file, struct bd_error *err)
{
	struct gw_admin *a = bd_calloc(1, sizeof(*a));

	if (gw_bearer_load(&a->token, token_file, "admin API token ([admin] token_file)", err) <
	    0) {
		free(a);
		return NULL;
	}
	return a;
}

void gw_admin_close(struct gw_admin **ap)
{
	if (*ap == NULL)
		return;
	gw_bearer_wipe(&(*ap)->token);
	free(*ap);
	*ap = NULL;
}

/* What one request names and holds: the package argument, the body read so far. */
struct call {
	char arg[ARG_MAX];
	char body[BODY_MAX + 1];
	size_t len;
	int too_long;
};

typedef enum MHD_Result (*admin_op)(struct gw_request *r, struct call *c);

static enum MHD_Result respond_json(struct gw_request *r, unsigned status, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	struct MHD_Response *resp;
	size_t len;

	json_decref(doc);
	if (text == NULL)
		return MHD_NO;
	len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for the NUL, which becomes a newline */
	resp = MHD_create_response_from_buffer_with_free_callback(len + 1, text, free);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r->bytes = len + 1;
	return gw_respond(r, status, resp);
}

static enum MHD_Result respond_error(struct gw_request *r, unsigned status, const char *msg)
{
	return respond_json(r, status, json_pack("{s:s}", "error", msg));
}

static json_t *json_time(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[32];

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static int is_package_id(const char *s)
{
	return strlen(s) == BD_PACKAGE_ID_HEX - 1 &&
	       strspn(s, "0123456789abcdef") == BD_PACKAGE_ID_HEX - 1;
}

/*
 * The package C->arg names: ID gets its id; with a link that opens, *D the open
 * package (names, keys). An expired link still names its package. -1 when the
 * argument names none of ours (answered 404 by the caller).
 */
static int resolve(const struct gw_runtime *rt, const char *arg, char id[BD_PACKAGE_ID_HEX],
                   struct bd_download **d)
{
	struct bd_error err;
	struct bd_token t;
	int64_t now = (int64_t)time(NULL);
	int r;

	*d = NULL;
	if (is_package_id(arg)) {
		memcpy(id, arg, BD_PACKAGE_ID_HEX);
		return 0;
	}
	if (bd_download_open(arg, rt->settings.keys, rt->settings.store, now, d, &err) == 0) {
		memcpy(id, bd_download_package_id(*d), BD_PACKAGE_ID_HEX);
		return 0;
	}
	r = bd_token_decode(arg, rt->settings.keys, now, &t, &err);
	if (r < 0 && err.code != BD_E_EXPIRED)
		return -1;
	bd_package_id_hex(t.package_id, id);
	sodium_memzero(&t, sizeof(t));
	return 0;
}

/* The audit log's lines about package ID, oldest first: the rotated file, then the current. */
static json_t *audit_entries(const struct gw_runtime *rt, const char *id)
{
	const char *path = rt->settings.conf->gateway.audit_log;
	json_t *out = json_array();
	char name[4096], line[2048];

	if (path[0] == '\0')
		return json_decref(out), NULL;
	for (int rotated = 1; rotated >= 0; rotated--) {
		FILE *f;

		snprintf(name, sizeof(name), "%s%s", path, rotated ? ".1" : "");
		f = fopen(name, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			json_t *e;

			if (strstr(line, id) == NULL)
				continue;
			e = json_loads(line, 0, NULL);
			if (json_is_object(e) &&
			    g_strcmp0(json_string_value(json_object_get(e, "package")), id) == 0)
				json_array_append(out, e);
			json_decref(e);
		}
		fclose(f);
	}
	return out;
}

/* Count the audit entries of EVENT with OUTCOME (NULL: any). */
static json_int_t count_events(json_t *entries, const char *event, const char *outcome)
{
	json_int_t n = 0;
	size_t i;
	json_t *e;

	json_array_foreach(entries, i, e)
	{
		const char *ev = json_string_value(json_object_get(e, "event"));
		const char *oc = json_string_value(json_object_get(e, "outcome"));

		if (ev != NULL && strcmp(ev, event) == 0 &&
		    (outcome == NULL || (oc != NULL && strcmp(oc, outcome) == 0)))
			n++;
	}
	return n;
}

static void audit_admin(struct gw_request *r, const char *event, const char *id)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct gw_audit_event ev = {.event = event,
	                            .package = id,
	                            .file = -1,
	                            .bytes = -1,
	                            .outcome = "done",
	                            .status = MHD_HTTP_OK,
	                            .client = ci != NULL ? ci->client_addr : NULL};

	gw_audit_write(gw_request_runtime(r)->audit, &ev);
}

static enum MHD_Result answer_failure(struct gw_request *r, const struct bd_error *err)
{
	if (err->code == BD_E_NOTFOUND)
		return respond_error(r, MHD_HTTP_NOT_FOUND, "no such package");
	gw_log_field(r, "error", err->msg);
	return respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
	                     "storage failed; see the gateway log");
}

/* Status of package ID; with D (the link was given) the files' names and sizes too. */
static enum MHD_Result answer_status(struct gw_request *r, const char *id, struct bd_download *d)
{
	const struct gw_runtime *rt = gw_request_runtime(r);
	struct bd_package_info info;
	struct bd_error err;
	json_t *doc, *files, *entries;

	if (bd_package_info(rt->settings.store, id, &info, &err) < 0)
		return answer_failure(r, &err);
	files = json_array();
	for (size_t i = 0; i < info.nobjects; i++) {
		json_t *f = json_pack("{s:i,s:I}", "index", (int)info.objects[i].index,
		                      "stored_bytes", (json_int_t)info.objects[i].stored);
		const struct bd_manifest_file *mf =
		        d != NULL ? bd_download_find(d, info.objects[i].index) : NULL;

		if (mf != NULL) {
			json_object_set_new(f, "name", json_string(mf->name));
			json_object_set_new(f, "content_type", json_string(mf->content_type));
			json_object_set_new(f, "size", json_integer((json_int_t)mf->size));
		}
		json_array_append_new(files, f);
	}
	doc = json_pack("{s:s,s:o,s:o,s:b,s:i,s:I,s:o,s:b}", "package", id, "created",
	                json_time(info.created), "expires", json_time(info.expires), "expired",
	                info.expires <= (int64_t)time(NULL), "file_count", (int)info.nobjects,
	                "stored_bytes", (json_int_t)info.stored, "files", files, "names_shown",
	                d != NULL);
	/* what the manifest asks of the recipients, and who they are: the link's secret */
	if (d != NULL) {
		const struct bd_manifest *m = bd_download_manifest(d);
		const struct bd_protection *pr = &m->protection;
		json_t *who = json_array();

		for (size_t i = 0; i < m->nrecipients; i++)
			json_array_append_new(who, json_string(m->recipients[i]));
		json_object_set_new(doc, "protection",
		                    json_pack("{s:s,s:s,s:i,s:b}", "verify",
		                              pr->verify == BD_VERIFY_CODE ? "code" : "off",
		                              "receipts",
		                              pr->receipts == BD_RECEIPTS_EVERY   ? "every"
		                              : pr->receipts == BD_RECEIPTS_FIRST ? "first"
		                                                                  : "off",
		                              "max_downloads", (int)pr->max_downloads,
		                              "access_code", pr->access_code_hash != NULL));
		json_object_set_new(doc, "recipients", who);
	} else {
		json_object_set_new(doc, "protection", json_null());
		json_object_set_new(doc, "recipients", json_null());
	}
	entries = audit_entries(rt, id);
	json_object_set_new(doc, "downloads",
	                    entries ? json_integer(count_events(entries, "download", "complete"))
	                            : json_null());
	json_object_set_new(doc, "page_views",
	                    entries ? json_integer(count_events(entries, "page-view", NULL))
	                            : json_null());
	json_decref(entries);
	bd_package_info_free(&info);
	return respond_json(r, MHD_HTTP_OK, doc);
}

static enum MHD_Result op_status(struct gw_request *r, struct call *c)
{
	struct bd_download *d;
	char id[BD_PACKAGE_ID_HEX];
	enum MHD_Result rc;

	if (resolve(gw_request_runtime(r), c->arg, id, &d) < 0)
		return respond_error(r, MHD_HTTP_NOT_FOUND, "no such package");
	rc = answer_status(r, id, d);
	bd_download_close(&d);
	return rc;
}

static enum MHD_Result op_revoke(struct gw_request *r, struct call *c)
{
	struct bd_download *d;
	struct bd_error err;
	char id[BD_PACKAGE_ID_HEX];
	size_t deleted = 0;

	if (resolve(gw_request_runtime(r), c->arg, id, &d) < 0)
		return respond_error(r, MHD_HTTP_NOT_FOUND, "no such package");
	bd_download_close(&d);
	if (bd_package_delete(gw_request_runtime(r)->settings.store, id, &deleted, &err) < 0)
		return answer_failure(r, &err);
	audit_admin(r, "revoked", id);
	gw_log_field(r, "package", id);
	return respond_json(r, MHD_HTTP_OK,
	                    json_pack("{s:s,s:b,s:I}", "package", id, "revoked", 1,
	                              "objects_deleted", (json_int_t)deleted));
}

/* The new expiry C's body asks for: {"expires": "YYYY-MM-DDTHH:MM:SSZ"} or {"days": N}. */
static int wanted_expiry(const struct call *c, int64_t current, int64_t *out, const char **why)
{
	json_t *doc = json_loadb(c->body, c->len, 0, NULL), *v;
	int r = -1;

	*why = "the body must be JSON: {\"expires\": \"YYYY-MM-DDTHH:MM:SSZ\"} or {\"days\": N}";
	if (!json_is_object(doc))
		goto out;
	if ((v = json_object_get(doc, "days")) != NULL) {
		if (json_is_integer(v) && json_integer_value(v) > 0 &&
		    json_integer_value(v) <= 365) {
			*out = current + json_integer_value(v) * 86400;
			r = 0;
		}
	} else if (json_is_string(v = json_object_get(doc, "expires"))) {
		struct tm tm = {0};
		const char *end = strptime(json_string_value(v), "%Y-%m-%dT%H:%M:%SZ", &tm);

		if (end != NULL && *end == '\0') {
			*out = (int64_t)timegm(&tm);
			r = 0;
		}
	}
out:
	json_decref(doc);
	return r;
}

static enum MHD_Result op_extend(struct gw_request *r, struct call *c)
{
	const struct gw_runtime *rt = gw_request_runtime(r);
	const struct bd_manifest *m;
	struct bd_download *d;
	struct bd_error err;
	char id[BD_PACKAGE_ID_HEX], msg[160];
	const char *why;
	int64_t expires, limit;
	enum MHD_Result rc;
	int extended;

	if (c->too_long)
		return respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is too long");
	if (resolve(rt, c->arg, id, &d) < 0)
		return respond_error(r, MHD_HTTP_NOT_FOUND, "no such package");
	if (d == NULL)
		return respond_error(
		        r, MHD_HTTP_CONFLICT,
		        "only the link can extend a package (its manifest is sealed "
		        "with the link's secret); a package that has expired stays so");
	m = bd_download_manifest(d);
	limit = bd_download_extend_limit(d, rt->settings.conf->admin.max_retention);
	if (wanted_expiry(c, m->expires, &expires, &why) < 0) {
		rc = respond_error(r, MHD_HTTP_BAD_REQUEST, why);
	} else if ((extended = bd_download_extend_within(
	                    d, rt->settings.keys, expires, (int64_t)time(NULL),
	                    rt->settings.conf->admin.max_retention, &err)) < 0 &&
	           err.code == BD_E_INVALID) {
		struct tm tm;
		time_t lt = (time_t)limit;
		char date[32];

		gmtime_r(&lt, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(msg, sizeof(msg),
		         "the expiry must lie in the future and not after %s ([admin] "
		         "max_retention from its creation)",
		         date);
		rc = respond_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, msg);
	} else if (extended < 0) {
		rc = answer_failure(r, &err);
	} else {
		audit_admin(r, "extended", id);
		gw_log_field(r, "package", id);
		rc = answer_status(r, id, d);
	}
	bd_download_close(&d);
	return rc;
}

static enum MHD_Result op_audit(struct gw_request *r, struct call *c)
{
	struct bd_download *d;
	char id[BD_PACKAGE_ID_HEX];
	json_t *entries;

	if (resolve(gw_request_runtime(r), c->arg, id, &d) < 0)
		return respond_error(r, MHD_HTTP_NOT_FOUND, "no such package");
	bd_download_close(&d);
	entries = audit_entries(gw_request_runtime(r), id);
	if (entries == NULL)
		return respond_error(r, MHD_HTTP_NOT_FOUND,
		                     "[gateway] audit_log is empty: the audit trail is in syslog");
	return respond_json(r, MHD_HTTP_OK,
	                    json_pack("{s:s,s:o}", "package", id, "entries", entries));
}

static json_t *sweep_json(void)
{
	struct gw_sweep_report s;

	if (!gw_sweep_last(&s))
		return json_pack("{s:n}", "last_run");
	return json_pack("{s:o,s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "last_run", json_time(s.at), "ok",
	                 s.ok, "objects", (json_int_t)s.stats.objects, "packages",
	                 (json_int_t)s.stats.packages, "expired", (json_int_t)s.stats.expired,
	                 "orphans", (json_int_t)s.stats.orphans, "deleted",
	                 (json_int_t)s.stats.deleted, "failures", (json_int_t)s.stats.failures);
}

static enum MHD_Result op_stats(struct gw_request *r, struct call *c)
{
	struct bd_storage_totals st;
	struct gw_metrics_totals mt;
	struct bd_error err;
	json_t *traffic;

	if (bd_storage_totals(gw_request_runtime(r)->settings.store, &st, &err) < 0)
		return answer_failure(r, &err);
	gw_metrics_read(&mt);
	traffic = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "bytes_sent",
	                    (json_int_t)mt.bytes_out, "page_views",
	                    (json_int_t)mt.events[GW_EV_PAGE_VIEW], "downloads_complete",
	                    (json_int_t)mt.events[GW_EV_DOWNLOAD_COMPLETE], "downloads_incomplete",
	                    (json_int_t)mt.events[GW_EV_DOWNLOAD_INCOMPLETE], "downloads_active",
	                    (json_int_t)mt.downloads_active, "refused_expired",
	                    (json_int_t)mt.events[GW_EV_EXPIRED], "refused_not_found",
	                    (json_int_t)mt.events[GW_EV_NOT_FOUND], "rate_limited",
	                    (json_int_t)mt.events[GW_EV_RATE_LIMITED]);
	json_object_set_new(traffic, "errors",
	                    json_pack("{s:I,s:I,s:I}", "storage",
	                              (json_int_t)mt.errors[GW_ERR_STORAGE], "crypto",
	                              (json_int_t)mt.errors[GW_ERR_CRYPTO], "internal",
	                              (json_int_t)mt.errors[GW_ERR_INTERNAL]));
	return respond_json(r, MHD_HTTP_OK,
	                    json_pack("{s:{s:I,s:I,s:I},s:o,s:o}", "storage", "packages",
	                              (json_int_t)st.packages, "objects", (json_int_t)st.objects,
	                              "bytes", (json_int_t)st.bytes, "sweep", sweep_json(),
	                              "traffic", traffic));
}

/* A size or a duration: a number, or a string the configuration would accept ("50M", "7d"). */
static int json_amount(json_t *v, int (*parse)(const char *, uint64_t *), uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	return json_is_string(v) && parse(json_string_value(v), out) == 0 && *out > 0 ? 0 : -1;
}

/* C's body as an order; WHY says what is wrong with it. Strings point into *DOC. */
static int order_of(const struct call *c, json_t **doc, struct bd_invite_order *o, const char **why)
{
	const char *key;
	json_t *v;

	*doc = json_loadb(c->body, c->len, 0, NULL);
	*why = "the body must be a JSON object with at least \"requester\"";
	if (!json_is_object(*doc))
		return -1;
	json_object_foreach(*doc, key, v)
	{
		int ok;

		*why = key;
		if (strcmp(key, "requester") == 0)
			ok = (o->requester = json_string_value(v)) != NULL;
		else if (strcmp(key, "to") == 0)
			ok = json_is_null(v) || (o->recipient = json_string_value(v)) != NULL;
		else if (strcmp(key, "note") == 0)
			ok = json_is_null(v) || (o->note = json_string_value(v)) != NULL;
		else if (strcmp(key, "expires") == 0)
			ok = json_amount(v, bd_conf_parse_duration, &o->expires) == 0;
		else if (strcmp(key, "max_size") == 0)
			ok = json_amount(v, bd_conf_parse_size, &o->max_total_size) == 0;
		else if (strcmp(key, "max_file_size") == 0)
			ok = json_amount(v, bd_conf_parse_size, &o->max_file_size) == 0;
		else if (strcmp(key, "max_files") == 0)
			ok = json_is_integer(v) && json_integer_value(v) >= 1 &&
			     json_integer_value(v) <= 1000 &&
			     (o->max_files = (unsigned)json_integer_value(v)) > 0;
		else if (strcmp(key, "several_uses") == 0)
			ok = json_is_boolean(v) && ((o->several_uses = json_is_true(v)), 1);
		else if (strcmp(key, "send") == 0)
			ok = json_is_boolean(v) && ((o->send = json_is_true(v)), 1);
		else
			ok = 0;
		if (!ok)
			return -1;
	}
	*why = "requester";
	return o->requester != NULL ? 0 : -1;
}

static enum MHD_Result op_request(struct gw_request *r, struct call *c)
{
	const struct gw_runtime *rt = gw_request_runtime(r);
	struct bd_invite_order o = {.several_uses = -1};
	struct bd_invite inv;
	struct bd_error err;
	const char *why;
	char msg[160];
	json_t *doc;
	enum MHD_Result rc;

	if (c->too_long)
		return respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is too long");
	if (order_of(c, &doc, &o, &why) < 0) {
		snprintf(msg, sizeof(msg),
		         "%s: missing, of the wrong type or not a field (see docs/API.md)", why);
		json_decref(doc);
		return respond_error(r, MHD_HTTP_BAD_REQUEST, msg);
	}
	if (bd_invite_create(rt->settings.conf, rt->settings.store, rt->settings.keys, &o, &inv,
	                     &err) < 0) {
		json_decref(doc);
		if (err.code == BD_E_INVALID)
			return respond_error(r, MHD_HTTP_BAD_REQUEST, err.msg);
		gw_log_field(r, "error", err.msg);
		return respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		                     o.send ? "the request could not be stored or its invitation "
		                              "not be sent; see the gateway log"
		                            : "storage failed; see the gateway log");
	}
	audit_admin(r, "request-created", inv.id);
	gw_log_field(r, "request", inv.id);
	rc = respond_json(r, MHD_HTTP_CREATED,
	                  json_pack("{s:s,s:o,s:o,s:b}", "request", inv.id, "expires",
	                            json_time(inv.expires), "link",
	                            o.send ? json_null() : json_string(inv.link), "sent", o.send));
	json_decref(doc);
	bd_invite_clear(&inv);
	return rc;
}

static enum MHD_Result op_index(struct gw_request *r, struct call *c);

/* Every admin route; {package} is one path segment. docs/api/openapi.json lists the same. */
static const struct admin_route {
	const char *method, *path;
	admin_op op;
} routes[] = {
        {"GET", PREFIX, op_index},
        {"GET", PREFIX "/stats", op_stats},
        {"GET", PREFIX "/packages/{package}", op_status},
        {"DELETE", PREFIX "/packages/{package}", op_revoke},
        {"POST", PREFIX "/packages/{package}/expiry", op_extend},
        {"GET", PREFIX "/packages/{package}/audit", op_audit},
        {"POST", PREFIX "/requests", op_request},
};

static enum MHD_Result op_index(struct gw_request *r, struct call *c)
{
	json_t *list = json_array();

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		json_array_append_new(list, json_pack("{s:s,s:s}", "method", routes[i].method,
		                                      "path", routes[i].path));
	return respond_json(r, MHD_HTTP_OK, json_pack("{s:o}", "routes", list));
}

/* URL against PATTERN; the {package} segment goes to ARG. */
static int matches(const char *pattern, const char *url, char arg[ARG_MAX])
{
	while (*pattern != '\0') {
		if (*pattern == '{') {
			size_t n = strcspn(url, "/");

			if (n == 0 || n >= ARG_MAX)
				return 0;
			memcpy(arg, url, n);
			arg[n] = '\0';
			url += n;
			pattern = strchr(pattern, '}') + 1;
		} else if (*pattern++ != *url++) {
			return 0;
		}
	}
	return *url == '\0';
}

static void call_free(struct gw_request *r, int completed)
{
	free(r->state);
}

static enum MHD_Result admin_handle(struct gw_request *r, const char *data, size_t *size)
{
	const struct gw_admin *a = r->route->cls;
	struct call *c = r->state;
	char allow[64] = "";
	admin_op op = NULL;

	if (r->calls == 1) {
		if (!gw_bearer_check(&a->token, r))
			return gw_bearer_refuse(r, "bestanden admin",
			                        "{\"error\": \"missing or wrong bearer token\"}\n",
			                        "application/json");
		r->state = c = bd_calloc(1, sizeof(*c));
		r->state_free = call_free;
		return MHD_YES;
	}
	if (*size > 0) {
		c->too_long |= gw_body_append(c->body, BODY_MAX, &c->len, data, size);
		return MHD_YES;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!matches(routes[i].path, r->url, c->arg))
			continue;
		if (strcmp(routes[i].method, r->method) == 0)
			op = routes[i].op;
		else
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			         allow[0] ? ", " : "", routes[i].method);
	}
	if (op != NULL)
		return op(r, c);
	if (allow[0] != '\0')
		return gw_respond_not_allowed(r, allow);
	return respond_error(r, MHD_HTTP_NOT_FOUND, "no such admin route");
}

/* Blank out what follows /packages/ in logged text: it may be a link. */
static void admin_redact(char *text, void *cls)
{
	static const char mark[] = "/packages/";

	for (char *p = strstr(text, mark); p != NULL; p = strstr(p, mark)) {
		p += sizeof(mark) - 1;
		for (; *p != '\0' && *p != '/' && *p != ' ' && *p != '\'' && *p != '"'; p++)
			*p = 'x';
	}
}

void gw_admin_register(struct gw_server *srv, struct gw_admin *a)
{
	const struct gw_route route = {
	        .path = PREFIX, .is_prefix = 1, .handler = admin_handle, .name = "admin", .cls = a};

	gw_server_add_route(srv, &route);
	gw_server_add_redactor(srv, admin_redact, NULL);
}
