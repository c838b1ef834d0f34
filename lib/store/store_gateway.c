/*
 * store_gateway.c - the "gateway" driver: a client of bestanden-gateway's
 * object API (docs/STORAGE.md): PUT/GET/HEAD/DELETE /v1/objects/<name> and
 * GET /v1/objects?prefix=&after=&limit= for listings, bearer token from
 * [storage] token_file. The token lives in sodium_malloc'ed memory and every
 * copy handed to libcurl is wiped after the request. Its init only checks
 * that the API answers and accepts the token: the gateway has nothing to set up.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "store-private.h"
#include "http.h"
#include "keys.h"
#include "mem.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 1024
#define LIST_PAGE 1000

/* struct bd_http_backend: base is [storage] url, secret "Authorization: Bearer ...". */

/* The bearer token, and no "Expect: 100-continue": libcurl would wait for the gateway's
 * interim answer before sending a body over 1 MiB: a round trip on every large upload to
 * save the body's bytes only when the gateway refuses it, which a working setup never sees. */
static struct curl_slist *auth_headers(const struct bd_http_backend *g)
{
	struct curl_slist *l = curl_slist_append(NULL, g->secret);

	if (l != NULL && curl_slist_append(l, "Expect:") == NULL) {
		curl_slist_free_all(l);
		l = NULL;
	}
	if (l == NULL) {
		fprintf(stderr, "bestanden: out of memory building a request\n");
		abort();
	}
	return l;
}

static void free_headers(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* A copy of RQ to object NAME (NULL: to RQ->url) with the bearer token; *RESP is the caller's. */
static int gw_perform(void *impl, const char *name, const struct bd_http_request *rq,
                      struct bd_http_response *resp, struct bd_error *err)
{
	struct bd_http_backend *g = impl;
	struct bd_http_request full = *rq;
	char *url = name ? bd_asprintf("%s/v1/objects/%s", g->base, name) : NULL;
	int rv;

	if (url != NULL)
		full.url = url;
	full.headers = auth_headers(g);
	rv = bd_http_perform(g->http, &full, resp, err);
	free_headers(full.headers);
	free(url);
	return rv;
}

/* The gateway's error answers are one short line of text. */
static const char *gw_detail(const struct bd_http_response *resp, char *buf, size_t size)
{
	if (resp->body == NULL || resp->body_len >= 200)
		return NULL;
	snprintf(buf, size, "%s", resp->body);
	return buf;
}

static const struct bd_http_objects gw_objects = {gw_perform, gw_detail};

/* One page: lines "<name> <size>". Returns the entry count, or -1. */
static int parse_page(char *body, char *last, size_t lastsize,
                      int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                      int *stopped, struct bd_error *err)
{
	int n = 0;

	for (char *line = body, *next; line != NULL && *line != '\0'; line = next) {
		char *sp, *end;
		unsigned long long size;

		next = strchr(line, '\n');
		if (next == NULL)
			return bd_error_set(err, BD_E_STORAGE, "list: truncated answer");
		*next++ = '\0';
		sp = strchr(line, ' ');
		if (sp == NULL)
			return bd_error_set(err, BD_E_STORAGE, "list: malformed line in answer");
		*sp = '\0';
		size = strtoull(sp + 1, &end, 10);
		if (!bd_store_name_valid(line) || *end != '\0' || end == sp + 1)
			return bd_error_set(err, BD_E_STORAGE, "list: malformed line in answer");
		snprintf(last, lastsize, "%s", line);
		n++;
		if (cb(ctx, line, size) != 0) {
			*stopped = 1;
			break;
		}
	}
	return n;
}

static int gw_list(void *impl, const char *prefix,
                   int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                   struct bd_error *err)
{
	struct bd_http_backend *g = impl;
	char last[BD_STORE_NAME_MAX + 1] = "";
	int stopped = 0, rv = 0;

	/* Pages continue after the last name seen, so CB may delete as it goes. */
	while (!stopped && rv == 0) {
		struct bd_http_request rq = {.method = "GET", .max_body = BD_HTTP_SMALL_BODY};
		struct bd_http_response resp;
		char *url = bd_asprintf("%s/v1/objects?prefix=%s&after=%s&limit=%d", g->base,
		                        prefix, last, LIST_PAGE);
		int n = -1;

		rq.url = url;
		if (gw_perform(g, NULL, &rq, &resp, err) < 0)
			rv = -1;
		else if (resp.status != 200)
			rv = bd_http_status_error(&resp, "list", NULL, err);
		else
			n = parse_page(resp.body ? resp.body : (char *)"", last, sizeof(last), cb,
			               ctx, &stopped, err);
		if (rv == 0 && n < 0)
			rv = -1;
		bd_http_response_free(&resp);
		free(url);
		if (rv == 0 && n < LIST_PAGE)
			break;
	}
	return rv;
}

static void gw_close(void *impl)
{
	bd_http_backend_clear(impl);
	free(impl);
}

static const struct bd_store_ops gw_ops = {"gateway",
                                           bd_http_object_put,
                                           bd_http_object_get,
                                           bd_http_object_head,
                                           bd_http_object_delete,
                                           gw_list,
                                           gw_close};

struct bd_store *bd_store_gateway_open(const struct bd_conf_storage *settings, struct bd_error *err)
{
	static const char prefix[] = "Authorization: Bearer ";
	struct bd_http_backend *g;
	char *token;
	size_t n;

	token = bd_secret_file_read(settings->token_file, TOKEN_MAX, err);
	if (token == NULL) {
		bd_error_prefix(err, "gateway store: token");
		return NULL;
	}
	for (const char *p = token; *p; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			bd_secret_free(token);
			bd_error_set(err, BD_E_KEY,
			             "gateway store: %s holds characters a token cannot have",
			             settings->token_file);
			return NULL;
		}
	}
	g = bd_calloc(1, sizeof(*g));
	g->api = &gw_objects;
	n = sizeof(prefix) + strlen(token);
	g->secret = bd_secret_alloc(n);
	snprintf(g->secret, n, "%s%s", prefix, token);
	bd_secret_free(token);
	g->base = bd_strdup(settings->url);
	g->http = bd_store_http_new(settings);
	return bd_store_new(&gw_ops, g);
}

/* Nothing to create (the gateway owns its directory and sweeps it): prove the API answers. */
int bd_store_gateway_init(const struct bd_conf_storage *settings, int create, unsigned expire_days,
                          struct bd_error *err)
{
	struct bd_store *s = bd_store_gateway_open(settings, err);
	struct bd_error e;
	uint64_t size;
	int rc;

	if (s == NULL)
		return -1;
	/* A name nobody uses: "not found" proves the API answers and takes the token. */
	rc = bd_store_head(s, "0/0", &size, &e);
	bd_store_close(&s);
	if (rc < 0 && e.code != BD_E_NOTFOUND) {
		if (err != NULL)
			*err = e;
		return -1;
	}
	return 0;
}
