/*
 * admin_client.c - the bestanden command over the admin API (see admin_client.h).
 *
 * One request per command through the storage drivers' curl client (http.h),
 * without retries: an administrator waiting at a prompt wants the reason at
 * once. The token is read from [admin] token_file into secret memory and
 * wiped with the Authorization header after the request.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "admin_client.h"
#include "http.h"
#include "keys.h"
#include "mem.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/admin/v1"

int bd_cli_admin_wanted(const struct bd_conf *conf)
{
	return conf->admin.url != NULL && conf->admin.url[0] != '\0';
}

/* "Authorization: Bearer <token of [admin] token_file>", or NULL (said why). */
static char *authorization(const struct bd_conf *conf)
{
	static const char name[] = "Authorization: Bearer ";
	struct bd_error err;
	char *token = bd_secret_file_read(conf->admin.token_file, 256, &err), *header;
	size_t n;

	if (token == NULL) {
		fprintf(stderr,
		        "bestanden: cannot read the admin API token: %s (set [admin] token_file to "
		        "a copy of the gateway's admin token, mode 0600)\n",
		        err.msg);
		return NULL;
	}
	n = sizeof(name) + strlen(token);
	header = bd_secret_alloc(n);
	snprintf(header, n, "%s%s", name, token);
	bd_secret_free(token);
	return header;
}

/*
 * METHOD PATH (under [admin] url) with BODY (may be NULL); *OUT gets the JSON answer of a
 * 2xx. Returns 0, or the exit status after saying what went wrong.
 */
static int call(const struct bd_conf *conf, const char *method, const char *path, json_t *body,
                json_t **out)
{
	const struct bd_http_options opts = {.timeout = 60, .connect_timeout = 10, .retries = 0};
	struct bd_http_response resp = {0};
	struct bd_http_request rq = {.method = method, .max_body = BD_HTTP_SMALL_BODY};
	struct curl_slist *headers = NULL;
	struct bd_http *http;
	struct bd_error err;
	char *auth, *url, *text = NULL;
	json_t *doc;
	int rc = 1;

	*out = NULL;
	if ((auth = authorization(conf)) == NULL)
		return 1;
	url = bd_asprintf("%s%s%s", conf->admin.url,
	                  conf->admin.url[strlen(conf->admin.url) - 1] == '/' ? PREFIX + 1 : PREFIX,
	                  path);
	headers = curl_slist_append(headers, auth);
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		headers = curl_slist_append(headers, "Content-Type: application/json");
		rq.body = (const uint8_t *)text;
		rq.body_len = strlen(text);
	}
	rq.url = url;
	rq.headers = headers;
	http = bd_http_new(&opts);
	if (bd_http_perform(http, &rq, &resp, &err) < 0) {
		fprintf(stderr,
		        "bestanden: cannot reach the admin API at %s: %s (check [admin] url: it "
		        "must be the gateway's [admin] listen, and the gateway must run)\n",
		        conf->admin.url, err.msg);
		goto out;
	}
	doc = resp.body != NULL ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
	if (resp.status == 401) {
		fprintf(stderr,
		        "bestanden: the admin API at %s refused the token (check [admin] "
		        "token_file = %s: it must hold the gateway's admin token)\n",
		        conf->admin.url, conf->admin.token_file);
	} else if (resp.status / 100 != 2 || !json_is_object(doc)) {
		const char *msg = json_string_value(json_object_get(doc, "error"));

		if (msg != NULL)
			fprintf(stderr, "bestanden: %s\n", msg);
		else
			fprintf(stderr,
			        "bestanden: %s did not answer as the admin API does (HTTP %ld; "
			        "check [admin] url)\n",
			        conf->admin.url, resp.status);
	} else {
		*out = doc;
		doc = NULL;
		rc = 0;
	}
	json_decref(doc);
out:
	bd_http_response_free(&resp);
	bd_http_free(&http);
	curl_slist_free_all(headers);
	bd_secret_free(auth);
	free(text);
	free(url);
	return rc;
}

static json_int_t num(json_t *doc, const char *path)
{
	json_t *v = doc;
	char key[64];

	for (const char *p = path; v != NULL && *p != '\0';) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		v = json_object_get(v, key);
		p += n + (p[n] == '.');
	}
	return json_integer_value(v);
}

static const char *str(json_t *doc, const char *key)
{
	const char *s = json_string_value(json_object_get(doc, key));

	return s != NULL ? s : "-";
}

int bd_cli_admin_inspect(const struct bd_conf *conf, const char *arg)
{
	json_t *doc, *files, *f;
	char *path = bd_asprintf("/packages/%s", arg);
	size_t i;
	int rc = call(conf, "GET", path, NULL, &doc);

	free(path);
	if (rc != 0)
		return rc;
	printf("package  %s\ncreated  %s\nexpires  %s%s\nfiles    %" JSON_INTEGER_FORMAT
	       " (%" JSON_INTEGER_FORMAT " bytes stored)\ndownloads %" JSON_INTEGER_FORMAT
	       ", page views %" JSON_INTEGER_FORMAT "\n",
	       str(doc, "package"), str(doc, "created"), str(doc, "expires"),
	       json_is_true(json_object_get(doc, "expired")) ? " (expired)" : "",
	       num(doc, "file_count"), num(doc, "stored_bytes"), num(doc, "downloads"),
	       num(doc, "page_views"));
	files = json_object_get(doc, "files");
	json_array_foreach(files, i, f)
	{
		if (json_object_get(f, "name") != NULL)
			printf("file %-3" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT
			       "  %-30s %s\n",
			       num(f, "index"), num(f, "size"), str(f, "content_type"),
			       str(f, "name"));
		else
			printf("file %-3" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT
			       " stored (names only with the link)\n",
			       num(f, "index"), num(f, "stored_bytes"));
	}
	json_decref(doc);
	return 0;
}

int bd_cli_admin_revoke(const struct bd_conf *conf, const char *arg)
{
	char *path = bd_asprintf("/packages/%s", arg);
	json_t *doc;
	int rc = call(conf, "DELETE", path, NULL, &doc);
	json_int_t deleted;

	free(path);
	if (rc != 0)
		return rc;
	deleted = num(doc, "objects_deleted");
	printf("package %s revoked: link disabled, %" JSON_INTEGER_FORMAT
	       " file object%s deleted\n",
	       str(doc, "package"), deleted, deleted == 1 ? "" : "s");
	json_decref(doc);
	return 0;
}

int bd_cli_admin_request(const struct bd_conf *conf, const struct bd_invite_order *o)
{
	json_t *body = json_pack("{s:s,s:b}", "requester", o->requester, "send", o->send), *doc;
	int rc;

	if (o->recipient != NULL)
		json_object_set_new(body, "to", json_string(o->recipient));
	if (o->note != NULL)
		json_object_set_new(body, "note", json_string(o->note));
	if (o->expires)
		json_object_set_new(body, "expires", json_integer((json_int_t)o->expires));
	if (o->max_total_size)
		json_object_set_new(body, "max_size", json_integer((json_int_t)o->max_total_size));
	if (o->max_file_size)
		json_object_set_new(body, "max_file_size",
		                    json_integer((json_int_t)o->max_file_size));
	if (o->max_files)
		json_object_set_new(body, "max_files", json_integer(o->max_files));
	if (o->several_uses >= 0)
		json_object_set_new(body, "several_uses", json_boolean(o->several_uses));
	rc = call(conf, "POST", "/requests", body, &doc);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (json_is_true(json_object_get(doc, "sent")))
		printf("upload request %s sent to %s\n", str(doc, "request"), o->recipient);
	else
		printf("%s\n", str(doc, "link"));
	json_decref(doc);
	return 0;
}

int bd_cli_admin_stats(const struct bd_conf *conf)
{
	static const char *const traffic[] = {
	        "bytes_sent",       "page_views",      "downloads_complete", "downloads_incomplete",
	        "downloads_active", "refused_expired", "refused_not_found",  "rate_limited",
	};
	json_t *doc, *sweep;
	char key[64];
	int rc = call(conf, "GET", "/stats", NULL, &doc);

	if (rc != 0)
		return rc;
	printf("storage packages  %" JSON_INTEGER_FORMAT "\nstorage objects   %" JSON_INTEGER_FORMAT
	       "\nstorage bytes     %" JSON_INTEGER_FORMAT "\n",
	       num(doc, "storage.packages"), num(doc, "storage.objects"),
	       num(doc, "storage.bytes"));
	for (size_t i = 0; i < sizeof(traffic) / sizeof(traffic[0]); i++) {
		snprintf(key, sizeof(key), "traffic.%s", traffic[i]);
		printf("%-17s %" JSON_INTEGER_FORMAT "\n", traffic[i], num(doc, key));
	}
	sweep = json_object_get(doc, "sweep");
	if (json_is_string(json_object_get(sweep, "last_run")))
		printf("last sweep        %s (%s), %" JSON_INTEGER_FORMAT " deleted\n",
		       str(sweep, "last_run"),
		       json_is_true(json_object_get(sweep, "ok")) ? "ok" : "with failures",
		       num(sweep, "deleted"));
	else
		printf("last sweep        - (none since the gateway started)\n");
	json_decref(doc);
	return 0;
}
