/*
 * objects.c - the object API of the embedded store (docs/STORAGE.md):
 * PUT/GET/HEAD/DELETE /v1/objects/<name>, GET /v1/objects?prefix=&after=&limit=.
 * Every request needs "Authorization: Bearer <token>"; the token is compared
 * as a BLAKE2b hash with sodium_memcmp, so neither its content nor its length
 * leaks through timing. A client that keeps presenting a wrong token is held
 * back by the failed-lookup limit (429, before the token is even compared); one
 * that presents the right token never is. Uploads stream to a temporary file
 * (lib/objstore.c).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "bearer.h"
#include "gateway.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "ratelimit.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LIST_DEFAULT 1000
#define LIST_MAX     10000

struct gw_objects {
	struct bd_objstore *store;
	struct gw_bearer token;
	struct gw_ratelimit *ratelimit; /* wrong tokens per client */
};

struct gw_objects *gw_objects_open(const char *data_dir, const char *token_file,
                                   struct bd_error *err)
{
	struct gw_objects *o = bd_calloc(1, sizeof(*o));

	o->ratelimit = gw_ratelimit_new(0);
	if (gw_bearer_load(&o->token, token_file, "object API token ([storage] token_file)", err) <
	    0)
		goto fail;
	o->store = bd_objstore_open(data_dir, err);
	if (o->store != NULL)
		return o;
	bd_error_prefix(err, "[gateway] data_dir");
fail:
	gw_objects_close(&o);
	return NULL;
}

void gw_objects_close(struct gw_objects **op)
{
	struct gw_objects *o = *op;

	if (o == NULL)
		return;
	bd_objstore_close(&o->store);
	gw_bearer_wipe(&o->token);
	gw_ratelimit_free(&o->ratelimit);
	free(o);
	*op = NULL;
}

void gw_objects_set_rate(struct gw_objects *o, unsigned per_minute)
{
	if (o != NULL)
		gw_ratelimit_set_rate(o->ratelimit, per_minute);
}

struct bd_objstore *gw_objects_store(struct gw_objects *o)
{
	return o != NULL ? o->store : NULL;
}

static struct gw_objects *objects_of(const struct gw_request *r)
{
	return r->route->cls;
}

static int authorized(struct gw_request *r)
{
	return gw_bearer_check(&objects_of(r)->token, r);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A wrong token: 429 while its client has used up its failures, else counted and 401. */
static enum MHD_Result refuse_auth(struct gw_request *r)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *client = ci != NULL ? ci->client_addr : NULL;
	struct gw_ratelimit *rl = objects_of(r)->ratelimit;
	struct MHD_Response *resp;

	if (gw_ratelimit_blocked(rl, client, now_ms())) {
		gw_log_field(r, "result", "rate-limited");
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (resp != NULL)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "60");
		return gw_respond(r, MHD_HTTP_TOO_MANY_REQUESTS, resp);
	}
	gw_ratelimit_failed(rl, client, now_ms());
	return gw_bearer_refuse(r, "bestanden objects", "missing or wrong bearer token\n",
	                        "text/plain; charset=utf-8");
}

static unsigned status_of(const struct bd_error *err)
{
	switch (err->code) {
	case BD_E_NOTFOUND: return MHD_HTTP_NOT_FOUND;
	case BD_E_INVALID: return MHD_HTTP_CONFLICT;
	case BD_E_LIMIT: return MHD_HTTP_INSUFFICIENT_STORAGE;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static enum MHD_Result respond_error(struct gw_request *r, const struct bd_error *err)
{
	char text[BD_ERROR_MAX + 2];
	unsigned status = status_of(err);

	if (status == MHD_HTTP_INTERNAL_SERVER_ERROR || status == MHD_HTTP_INSUFFICIENT_STORAGE) {
		/* The details (paths, errno) are for the log, not for the client. */
		gw_log_field(r, "error", err->msg);
		return gw_respond_text(r, status, "the object store failed; see the gateway log\n");
	}
	snprintf(text, sizeof(text), "%s\n", err->msg);
	return gw_respond_text(r, status, text);
}

/* Upload state: the writer, and the first failure (the body is drained after it). */
struct put_state {
	struct bd_objstore_writer *w;
	struct bd_error err;
	int failed;
};

static void put_free(struct gw_request *r, int completed)
{
	struct put_state *st = r->state;

	bd_objstore_abort(&st->w); /* no-op after a commit */
	free(st);
}

static enum MHD_Result put_object(struct gw_request *r, const char *name, const char *data,
                                  size_t *size)
{
	struct put_state *st = r->state;

	if (st == NULL) {
		st = bd_calloc(1, sizeof(*st));
		r->state = st;
		r->state_free = put_free;
		st->w = bd_objstore_writer_new(objects_of(r)->store, name, &st->err);
		if (st->w == NULL)
			st->failed = 1;
		return MHD_YES; /* MHD now sends "100 Continue" if asked */
	}
	if (*size > 0) {
		if (!st->failed && bd_objstore_write(st->w, data, *size, &st->err) < 0) {
			st->failed = 1;
			bd_objstore_abort(&st->w);
		}
		r->bytes += *size;
		*size = 0;
		return MHD_YES;
	}
	if (!st->failed && bd_objstore_commit(&st->w, &st->err) < 0)
		st->failed = 1;
	if (st->failed)
		return respond_error(r, &st->err);
	return gw_respond_text(r, MHD_HTTP_CREATED, "stored\n");
}

static enum MHD_Result get_object(struct gw_request *r, const char *name)
{
	struct MHD_Response *resp;
	struct bd_error err;
	uint64_t size, from = 0, to = 0, len;
	char value[96];
	unsigned status = MHD_HTTP_OK;
	int fd, range;

	fd = bd_objstore_open_object(objects_of(r)->store, name, &size, &err);
	if (fd < 0)
		return respond_error(r, &err);
	range = gw_parse_range(
	        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE), size,
	        &from, &to);
	if (range < 0) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		snprintf(value, sizeof(value), "bytes */%" PRIu64, size);
		if (resp != NULL)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, value);
		return gw_respond(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
	}
	len = range ? to - from + 1 : size;
	if (len == 0) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		/* MHD sends from the descriptor (sendfile) and closes it; HEAD sends no body. */
		resp = MHD_create_response_from_fd_at_offset64(len, fd, from);
		if (resp == NULL)
			close(fd);
	}
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (range) {
		snprintf(value, sizeof(value), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to,
		         size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, value);
		status = MHD_HTTP_PARTIAL_CONTENT;
	}
	if (strcmp(r->method, "GET") == 0)
		r->bytes = len;
	return gw_respond(r, status, resp);
}

static enum MHD_Result delete_object(struct gw_request *r, const char *name)
{
	struct bd_error err;

	if (bd_objstore_delete(objects_of(r)->store, name, &err) < 0)
		return respond_error(r, &err);
	return gw_respond(r, MHD_HTTP_NO_CONTENT,
	                  MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT));
}

struct listing {
	char *buf;
	size_t len, cap;
};

static int list_entry(void *ctx, const char *name, uint64_t size)
{
	struct listing *l = ctx;
	char line[BD_STORE_NAME_MAX + 32];
	int n = snprintf(line, sizeof(line), "%s %" PRIu64 "\n", name, size);

	if (l->len + (size_t)n + 1 > l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64 * 1024;
		l->buf = bd_realloc(l->buf, l->cap);
	}
	memcpy(l->buf + l->len, line, (size_t)n);
	l->len += (size_t)n;
	return 0;
}

/* Empty, or [0-9a-f/] without a leading '/' or "//". */
static int list_arg_valid(const char *s)
{
	if (*s == '/')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		      (*p == '/' && p[1] != '/')))
			return 0;
	return strlen(s) <= BD_STORE_NAME_MAX;
}

static enum MHD_Result list_objects(struct gw_request *r)
{
	const char *prefix = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "prefix");
	const char *after = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "after");
	const char *limit_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit");
	struct listing l = {0};
	struct bd_error err;
	unsigned long limit = LIST_DEFAULT;
	struct MHD_Response *resp;

	prefix = prefix ? prefix : "";
	after = after ? after : "";
	if (limit_s != NULL) {
		char *end;

		limit = strtoul(limit_s, &end, 10);
		if (*end != '\0' || limit == 0 || limit > LIST_MAX)
			return gw_respond_text(r, MHD_HTTP_BAD_REQUEST, "limit must be 1..10000\n");
	}
	if (!list_arg_valid(prefix) || !list_arg_valid(after))
		return gw_respond_text(r, MHD_HTTP_BAD_REQUEST,
		                       "prefix and after may hold only 0-9, a-f and '/'\n");
	gw_log_field(r, "prefix", prefix);
	if (bd_objstore_list(objects_of(r)->store, prefix, after, limit, list_entry, &l, &err) <
	    0) {
		free(l.buf);
		return respond_error(r, &err);
	}
	r->bytes = l.len;
	resp = MHD_create_response_from_buffer(l.len, l.buf ? l.buf : (void *)"",
	                                       l.buf ? MHD_RESPMEM_MUST_FREE
	                                             : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(l.buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	return gw_respond(r, MHD_HTTP_OK, resp);
}

static enum MHD_Result objects_handle(struct gw_request *r, const char *data, size_t *size)
{
	static const char base[] = "/v1/objects";
	const char *name;

	/* Refusals come before any body is read (and cost the connection). */
	if (r->calls == 1 && !authorized(r))
		return refuse_auth(r);
	name = strcmp(r->url, base) == 0 ? NULL : r->url + sizeof(base); /* after "/v1/objects/" */
	if (r->calls == 1 && name != NULL) {
		if (!bd_store_name_valid(name))
			return gw_respond_text(
			        r, MHD_HTTP_BAD_REQUEST,
			        "object names have only 0-9, a-f and single inner '/'\n");
		gw_log_field(r, "object", name);
	}
	if (name != NULL && strcmp(r->method, "PUT") == 0)
		return put_object(r, name, data, size);
	if (r->calls == 1 || *size > 0) { /* answer once the request is in; ignore stray bodies */
		*size = 0;
		return MHD_YES;
	}
	if (name == NULL)
		return strcmp(r->method, "GET") == 0 ? list_objects(r)
		                                     : gw_respond_not_allowed(r, "GET");
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		return get_object(r, name);
	if (strcmp(r->method, "DELETE") == 0)
		return delete_object(r, name);
	return gw_respond_not_allowed(r, "PUT, GET, HEAD, DELETE");
}

static int objects_enabled(void *cls)
{
	return cls != NULL; /* S3 holds the objects: no object API here */
}

void gw_objects_register(struct gw_server *srv, struct gw_objects *o)
{
	const struct gw_route list = {.path = "/v1/objects",
	                              .handler = objects_handle,
	                              .name = "objects",
	                              .on = GW_ON_INTERNAL,
	                              .enabled = objects_enabled,
	                              .cls = o};
	struct gw_route one = list;

	one.path = "/v1/objects/";
	one.is_prefix = 1;
	gw_server_add_route(srv, &list);
	gw_server_add_route(srv, &one);
}
