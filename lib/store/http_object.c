/*
 * http_object.c - PUT, GET, HEAD and DELETE of one object over HTTP, the
 * same for every HTTP driver (see http.h): the request is built here, the
 * driver adds where it goes and who asks, and the answer is judged here.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "http.h"
#include "mem.h"

#include <stdlib.h>

#define DETAIL_MAX 160

enum op { OP_PUT, OP_GET, OP_HEAD, OP_DELETE };

static int judge(enum op op, const struct bd_http_request *rq, const struct bd_http_response *resp,
                 const char *detail, uint64_t *size, struct bd_error *err)
{
	long st = resp->status;

	switch (op) {
	case OP_PUT:
		if (st / 100 == 2)
			return 0;
		break;
	case OP_DELETE:
		if (st / 100 == 2 || st == 404)
			return 0;
		break;
	case OP_GET:
		if (st == 200 || st == 206 || (st == 416 && rq->offset == 0))
			return 0;
		if (st == 416)
			return bd_error_set(err, BD_E_INVALID, "GET: offset %llu is past the end",
			                    (unsigned long long)rq->offset);
		break;
	case OP_HEAD:
		detail = NULL; /* HEAD answers have no body */
		if (st == 200 && resp->content_length < 0)
			return bd_error_set(err, BD_E_STORAGE,
			                    "HEAD: the answer has no Content-Length");
		if (st == 200) {
			*size = (uint64_t)resp->content_length;
			return 0;
		}
		break;
	}
	return bd_http_status_error(resp, rq->method, detail, err);
}

static int object_request(void *impl, const char *name, enum op op,
                          const struct bd_http_request *rq, uint64_t *size, struct bd_error *err)
{
	const struct bd_http_objects *api = ((struct bd_http_backend *)impl)->api;
	struct bd_http_response resp;
	char buf[DETAIL_MAX];
	int rv = api->perform(impl, name, rq, &resp, err);

	if (rv == 0)
		rv = judge(op, rq, &resp, api->detail ? api->detail(&resp, buf, sizeof(buf)) : NULL,
		           size, err);
	bd_http_response_free(&resp);
	return rv;
}

int bd_http_object_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                       struct bd_error *err)
{
	const struct bd_http_request rq = {.method = "PUT", .source = src, .source_len = length};

	return object_request(impl, name, OP_PUT, &rq, NULL, err);
}

int bd_http_object_get(void *impl, const char *name, uint64_t offset, uint64_t length,
                       struct bd_sink *sink, struct bd_error *err)
{
	const struct bd_http_request rq = {.method = "GET",
	                                   .sink = sink,
	                                   .ranged = offset > 0 || length != UINT64_MAX,
	                                   .offset = offset,
	                                   .length = length};

	return object_request(impl, name, OP_GET, &rq, NULL, err);
}

int bd_http_object_head(void *impl, const char *name, uint64_t *size, struct bd_error *err)
{
	const struct bd_http_request rq = {.method = "HEAD"};

	return object_request(impl, name, OP_HEAD, &rq, size, err);
}

int bd_http_object_delete(void *impl, const char *name, struct bd_error *err)
{
	const struct bd_http_request rq = {.method = "DELETE"};

	return object_request(impl, name, OP_DELETE, &rq, NULL, err);
}

void bd_http_backend_clear(struct bd_http_backend *b)
{
	bd_http_free(&b->http);
	free(b->base);
	b->base = NULL;
	bd_secret_free(b->secret);
	b->secret = NULL;
}
