/*
 * upload.c - what an outsider's browser asks for under /u/:
 *   GET  /u/<token>  the upload page of a request; inert (link scanners fetch it)
 *   POST /u/<token>  the upload: multipart/form-data, parsed as it arrives by
 *                    libmicrohttpd's post processor; each file is encrypted and
 *                    stored while it streams (package/upload.h), the limits held
 *                    at every byte; then the manifest, the mail to the requester
 *                    (package/notify.h) and the confirmation page.
 * Any refusal - a limit, the expiry, storage or the MTA failing - deletes what
 * was stored and answers with a page that says why. One audit line per outcome.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "audit.h"
#include "gateway.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "notify.h"
#include "pages.h"
#include "upload.h"

#include <ctype.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define POST_BUFFER          (64 * 1024) /* the post processor's buffer: the bound on memory */
#define FIELD_MAX            1000        /* bytes kept of the uploader's name or message */
#define FORM_OVERHEAD(files) (64 * 1024 + 4096 * (uint64_t)(files)) /* fields, part headers */

/* One request under /u/, from its first call to its end. */
struct up {
	struct gw_request *r;
	char token[BD_TOKEN_MAX_CHARS + 1];
	const char *lang;
	const struct sockaddr *client;
	struct sockaddr_storage forwarded;
	struct bd_request *req;
	struct bd_upload *upload;
	struct MHD_PostProcessor *pp;
	int limited; /* the client has used up its failed lookups: 429 */
	int file_open;
	uint64_t file_bytes, total_bytes;
	unsigned files;
	GString *name, *message;
	/* the first failure, if any: the rest of the body is read and dropped */
	int failed;
	enum gw_upload_refusal why;
	char bad_file[256];
	struct bd_error err;
};

static void audit(const struct up *u, const char *event, const char *package, int files,
                  int64_t bytes, const char *outcome, unsigned status)
{
	char request[BD_PACKAGE_ID_HEX] = "";
	struct gw_audit_event ev = {.event = event,
	                            .package = package,
	                            .file = files,
	                            .bytes = bytes,
	                            .outcome = outcome,
	                            .status = status,
	                            .client = u->client};

	if (u->req != NULL && package == NULL) {
		bd_package_id_hex(u->req->id, request);
		ev.package = request; /* the request's id: the only package it has yet */
	}
	gw_audit_write(gw_request_runtime(u->r)->audit, &ev);
}

static struct gw_upload_limits limits_of(const struct up *u)
{
	return (struct gw_upload_limits){
	        .file = u->bad_file[0] ? u->bad_file : NULL,
	        .max_file_size = u->req ? u->req->max_file_size : 0,
	        .max_total_size = u->req ? u->req->max_total_size : 0,
	        .max_files = u->req ? u->req->max_files : 0,
	};
}

static const char *const refusal_names[GW_UPLOAD_REFUSALS] = {
        [GW_UPLOAD_FILE_TOO_LARGE] = "file-too-large",
        [GW_UPLOAD_TOO_LARGE] = "too-large",
        [GW_UPLOAD_TOO_MANY] = "too-many-files",
        [GW_UPLOAD_EXPIRED] = "expired",
        [GW_UPLOAD_EMPTY] = "no-file",
        [GW_UPLOAD_UNAVAILABLE] = "unavailable",
        [GW_UPLOAD_INFECTED] = "infected",
};

/* Refuse: delete what was stored, count, audit, and answer with the page for WHY. */
static enum MHD_Result refuse(struct up *u, enum gw_upload_refusal why)
{
	struct gw_upload_limits lim = limits_of(u);
	struct gw_html page;
	struct bd_error err;

	if (u->upload != NULL && bd_upload_abort(u->upload, &err) < 0)
		bd_log(LOG_WARNING, "event=upload-cleanup-failed package=%s error=\"%s\"",
		       bd_upload_package_id(u->upload), err.msg);
	gw_metrics_event(GW_EV_UPLOAD_REFUSED);
	gw_log_field(u->r, "result", refusal_names[why]);
	if (u->err.code != BD_OK && why == GW_UPLOAD_UNAVAILABLE)
		gw_log_field(u->r, "error", u->err.msg);
	gw_pages_upload_refused(gw_request_runtime(u->r)->pages, u->lang,
	                        why == GW_UPLOAD_EXPIRED ? NULL : u->token, why, &lim, &page);
	audit(u, "upload-refused", NULL, (int)u->files, (int64_t)u->total_bytes, refusal_names[why],
	      page.status);
	return gw_respond_page(u->r, &page);
}

/* A request link that does not open: the download pages' answers (404, 410, 503). */
static enum MHD_Result refuse_link(struct up *u, const struct bd_error *err)
{
	struct gw_runtime *rt = gw_request_runtime(u->r);
	struct gw_html page;
	enum gw_page which;

	switch (err->code) {
	case BD_E_EXPIRED: return refuse(u, GW_UPLOAD_EXPIRED);
	case BD_E_STORAGE:
	case BD_E_TEMP:
	case BD_E_IO: which = GW_PAGE_UNAVAILABLE; break;
	case BD_E_INVALID:
	case BD_E_NOTFOUND:
	case BD_E_CRYPTO:
	case BD_E_KEY: which = GW_PAGE_NOT_FOUND; break;
	default: which = GW_PAGE_ERROR;
	}
	gw_metrics_event(which == GW_PAGE_NOT_FOUND ? GW_EV_NOT_FOUND : GW_EV_UPLOAD_REFUSED);
	gw_log_field(u->r, "result", which == GW_PAGE_NOT_FOUND ? "not-found" : "unavailable");
	if (which != GW_PAGE_NOT_FOUND)
		gw_log_field(u->r, "error", err->msg);
	audit(u, "request-refused", NULL, -1, -1,
	      which == GW_PAGE_NOT_FOUND ? "not-found" : "failed",
	      which == GW_PAGE_NOT_FOUND ? MHD_HTTP_NOT_FOUND : MHD_HTTP_SERVICE_UNAVAILABLE);
	gw_pages_error(rt->pages, u->lang, which, 0, &page);
	return gw_respond_page(u->r, &page);
}

/* A client that has used up its failed lookups (gw_link_check): 429, and nothing looked up. */
static enum MHD_Result too_many(struct up *u)
{
	struct gw_html page;

	audit(u, "rate-limited", NULL, -1, -1, "refused", MHD_HTTP_TOO_MANY_REQUESTS);
	gw_pages_error(gw_request_runtime(u->r)->pages, u->lang, GW_PAGE_TOO_MANY, 0, &page);
	return gw_respond_page(u->r, &page);
}

/* ---- the form, as it arrives ---- */

static void fail(struct up *u, enum gw_upload_refusal why, const struct bd_error *err)
{
	if (u->failed)
		return;
	u->failed = 1;
	u->why = why;
	if (err != NULL)
		u->err = *err;
}

/* Which limit a refused write crossed, by the same counts the library keeps. */
static enum gw_upload_refusal limit_crossed(const struct up *u, size_t len)
{
	return u->file_bytes + len > u->req->max_file_size ? GW_UPLOAD_FILE_TOO_LARGE
	                                                   : GW_UPLOAD_TOO_LARGE;
}

static int end_file(struct up *u)
{
	struct bd_error err;

	if (!u->file_open)
		return 0;
	u->file_open = 0;
	if (bd_upload_file_end(u->upload, &err) < 0) {
		fail(u, err.code == BD_E_INFECTED ? GW_UPLOAD_INFECTED : GW_UPLOAD_UNAVAILABLE,
		     &err);
		return -1;
	}
	return 0;
}

static void keep_field(GString **s, const char *data, size_t size)
{
	if (*s == NULL)
		*s = g_string_new(NULL);
	if ((*s)->len < FIELD_MAX)
		g_string_append_len(*s, data, (gssize)MIN(size, FIELD_MAX - (*s)->len));
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
	struct up *u = cls;
	struct bd_error err;

	if (u->failed)
		return MHD_NO;
	if (strcmp(key, "name") == 0 && filename == NULL) {
		keep_field(&u->name, data, size);
		return MHD_YES;
	}
	if (strcmp(key, "message") == 0 && filename == NULL) {
		keep_field(&u->message, data, size);
		return MHD_YES;
	}
	if (strcmp(key, "file") != 0 || filename == NULL)
		return MHD_YES; /* nothing we asked for */
	if (off == 0) {
		if (end_file(u) < 0)
			return MHD_NO;
		if (filename[0] == '\0' && size == 0)
			return MHD_YES; /* the empty part of a form sent without a file */
		snprintf(u->bad_file, sizeof(u->bad_file), "%s", filename);
		if (bd_upload_file_begin(u->upload, filename, content_type, &err) < 0) {
			fail(u,
			     err.code == BD_E_LIMIT     ? GW_UPLOAD_TOO_MANY
			     : err.code == BD_E_EXPIRED ? GW_UPLOAD_EXPIRED
			                                : GW_UPLOAD_UNAVAILABLE,
			     &err);
			return MHD_NO;
		}
		u->file_open = 1;
		u->file_bytes = 0;
		u->files++;
	}
	if (!u->file_open || size == 0)
		return MHD_YES;
	if (bd_upload_file_write(u->upload, (const uint8_t *)data, size, &err) < 0) {
		fail(u, err.code == BD_E_LIMIT ? limit_crossed(u, size) : GW_UPLOAD_UNAVAILABLE,
		     &err);
		return MHD_NO;
	}
	u->file_bytes += size;
	u->total_bytes += size;
	return MHD_YES;
}

/* ---- the request ---- */

static void up_free(struct gw_request *r, int completed)
{
	struct up *u = r->state;

	if (u == NULL)
		return;
	if (u->pp != NULL)
		MHD_destroy_post_processor(u->pp);
	bd_upload_free(&u->upload); /* aborts one that was not committed */
	bd_request_free(&u->req);
	if (u->name != NULL)
		g_string_free(u->name, TRUE);
	if (u->message != NULL)
		g_string_free(u->message, TRUE);
	sodium_memzero(u->token, sizeof(u->token));
	free(u);
	r->state = NULL;
}

static enum MHD_Result show_page(struct up *u)
{
	struct gw_html page;
	char id[BD_PACKAGE_ID_HEX];

	bd_package_id_hex(u->req->id, id);
	gw_log_field(u->r, "request", id);
	gw_log_field(u->r, "result", "page");
	if (strcmp(u->r->method, "HEAD") != 0) {
		gw_metrics_event(GW_EV_UPLOAD_PAGE_VIEW);
		audit(u, "request-view", NULL, -1, -1, "shown", MHD_HTTP_OK);
	}
	gw_pages_upload(gw_request_runtime(u->r)->pages, u->lang, u->token, u->req, &page);
	return gw_respond_page(u->r, &page);
}

/* The first call of a POST: the request must open and the announced size may not
 * already break the limits; then the post processor and the package are set up. */
static enum MHD_Result begin_post(struct up *u)
{
	struct gw_runtime *rt = gw_request_runtime(u->r);
	const struct bd_conf *conf = rt->settings.conf;
	const char *length = MHD_lookup_connection_value(u->r->conn, MHD_HEADER_KIND,
	                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct bd_upload_settings settings = {
	        .spool_dir = conf->requests.spool_dir,
	        .retention = (int64_t)conf->policy.retention,
	        .clamd = conf->scan.clamd,
	        .scan_timeout = (unsigned)conf->scan.timeout,
	};

	if (length != NULL && strtoull(length, NULL, 10) >
	                              u->req->max_total_size + FORM_OVERHEAD(u->req->max_files)) {
		u->bad_file[0] = '\0';
		return refuse(u, GW_UPLOAD_TOO_LARGE);
	}
	u->pp = MHD_create_post_processor(u->r->conn, POST_BUFFER, on_field, u);
	if (u->pp == NULL)
		return refuse(u, GW_UPLOAD_EMPTY); /* not a form of files */
	u->upload = bd_upload_begin(u->req, rt->settings.store, rt->settings.keys, &settings,
	                            (int64_t)time(NULL));
	return MHD_YES;
}

/* A virus in a file: counted and audited as such, and the requester told (the upload is
 * refused whatever that mail does). */
static void infected(struct up *u)
{
	const struct bd_conf *conf = gw_request_runtime(u->r)->settings.conf;
	struct bd_error err;

	gw_log_field(u->r, "signature", u->err.msg);
	audit(u, "upload-infected", NULL, (int)u->files, (int64_t)u->total_bytes, u->err.msg,
	      MHD_HTTP_UNPROCESSABLE_CONTENT);
	if (bd_notify_infected(conf, u->req, u->bad_file,
	                       u->name != NULL && u->name->len > 0 ? u->name->str : NULL,
	                       u->err.msg, &err) < 0)
		bd_log(LOG_WARNING, "event=requester-not-told reason=infected error=\"%s\"",
		       err.msg);
	else
		gw_metrics_event(GW_EV_REQUESTER_NOTIFIED);
}

/* The whole body is in: store the manifest, tell the requester, thank the uploader. */
static enum MHD_Result finish_post(struct up *u)
{
	struct gw_runtime *rt = gw_request_runtime(u->r);
	const struct bd_conf *conf = rt->settings.conf;
	char token[BD_TOKEN_MAX_CHARS + 1], *link;
	const char *who = u->name != NULL && u->name->len > 0 ? u->name->str : NULL;
	const char *package;
	struct gw_html page;
	struct bd_error err;
	int rc;

	if (!u->failed)
		end_file(u);
	if (u->failed && u->why == GW_UPLOAD_INFECTED)
		infected(u);
	if (u->failed)
		return refuse(u, u->why);
	if (u->files == 0)
		return refuse(u, GW_UPLOAD_EMPTY);
	if (bd_upload_commit(u->upload, who, token, &u->err) < 0)
		return refuse(u, u->err.code == BD_E_EXPIRED ? GW_UPLOAD_EXPIRED
		                                             : GW_UPLOAD_UNAVAILABLE);
	package = bd_upload_package_id(u->upload);
	gw_log_field(u->r, "package", package);
	link = bd_asprintf("%s/d/%s", conf->gateway.public_url, token);
	sodium_memzero(token, sizeof(token));
	rc = bd_notify_upload(conf, u->req, bd_upload_manifest(u->upload), link, who,
	                      u->message != NULL ? u->message->str : NULL, &u->err);
	sodium_memzero(link, strlen(link));
	free(link);
	if (rc < 0) {
		/* untold is lost: nothing is kept, and the uploader may try again */
		bd_log(LOG_WARNING, "event=requester-not-told package=%s error=\"%s\"", package,
		       u->err.msg);
		return refuse(u, GW_UPLOAD_UNAVAILABLE);
	}
	gw_metrics_event(GW_EV_REQUESTER_NOTIFIED);
	audit(u, "requester-notified", package, (int)u->files, -1, "sent", 0);
	if (!(u->req->flags & BD_REQUEST_SEVERAL_USES) &&
	    bd_upload_request_delete(rt->settings.store, u->req, &err) < 0)
		bd_log(LOG_WARNING, "event=request-not-retired error=\"%s\"", err.msg);
	gw_metrics_event(GW_EV_UPLOAD_ACCEPTED);
	audit(u, "upload-accepted", package, (int)u->files, (int64_t)u->total_bytes, "stored",
	      MHD_HTTP_OK);
	gw_log_field(u->r, "result", "accepted");
	gw_pages_upload_done(rt->pages, u->lang, u->req->requester, bd_upload_manifest(u->upload),
	                     &page);
	return gw_respond_page(u->r, &page);
}

static enum MHD_Result upload_handle(struct gw_request *r, const char *data, size_t *size)
{
	struct gw_runtime *rt = gw_request_runtime(r);
	struct up *u = r->state;
	struct bd_error err;
	int post = strcmp(r->method, "POST") == 0;

	if (r->calls == 1) {
		if (!post && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
			return gw_respond_not_allowed(r, "GET, HEAD, POST");
		u = bd_calloc(1, sizeof(*u));
		u->r = r;
		r->state = u;
		r->state_free = up_free;
		u->lang = gw_request_language(r);
		u->client = gw_request_client(r, &u->forwarded);
		switch (gw_link_check(r->route->cls, r,
		                      gw_parse_upload_target(r->url + strlen("/u/"), u->token) == 0
		                              ? u->token
		                              : NULL,
		                      u->client)) {
		case GW_LINK_LIMITED: u->limited = 1; return post ? too_many(u) : MHD_YES;
		case GW_LINK_FORGED:
			u->err = (struct bd_error){.code = BD_E_INVALID};
			return post ? refuse_link(u, &u->err) : MHD_YES;
		case GW_LINK_GENUINE: break;
		}
		if (bd_upload_request_open(u->token, rt->settings.keys, rt->settings.store,
		                           (int64_t)time(NULL), &u->req, &err) < 0) {
			u->err = err;
			/* a GET is answered once the request is in, a POST before its body */
			return post ? refuse_link(u, &err) : MHD_YES;
		}
		return post ? begin_post(u) : MHD_YES;
	}
	if (*size > 0) {
		if (u->pp != NULL && !u->failed &&
		    MHD_post_process(u->pp, data, *size) != MHD_YES && !u->failed)
			fail(u, GW_UPLOAD_EMPTY, NULL); /* a body that is no form */
		r->bytes += *size;
		*size = 0;
		return MHD_YES;
	}
	if (u->req == NULL) {
		if (u->limited)
			return too_many(u);
		if (u->err.code == BD_OK)
			u->err.code = BD_E_INVALID;
		return refuse_link(u, &u->err);
	}
	return post ? finish_post(u) : show_page(u);
}

/* Link tokens in logged text ("/u/<token>") become asterisks. */
static void redact(char *text, void *cls)
{
	for (char *p = strstr(text, "/u/"); p != NULL; p = strstr(p, "/u/")) {
		p += 3;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			*p++ = '*';
	}
}

void gw_upload_register(struct gw_server *srv, struct gw_download *dl)
{
	const struct gw_route route = {.path = "/u/",
	                               .is_prefix = 1,
	                               .handler = upload_handle,
	                               .name = "upload",
	                               .cls = dl};

	gw_server_add_route(srv, &route);
	gw_server_add_redactor(srv, redact, NULL);
}
