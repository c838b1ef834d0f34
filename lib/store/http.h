/*
 * http.h - the libcurl client under the storage drivers.
 *
 * A struct bd_http keeps a pool of curl easy handles (each holds its own
 * live connections, so consecutive requests reuse them) and a share for
 * the DNS and TLS session caches; any number of threads may perform
 * requests at once. bd_http_perform() applies the timeouts, retries with
 * backoff after timeouts, broken connections and 5xx answers, and resumes
 * a download where it broke off rather than pushing bytes to a sink twice.
 * The object requests both HTTP drivers share are declared at the end.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_HTTP_H
#define BD_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "io.h"

/* Uploads up to this size are read into memory first so that they can be retried. */
#define BD_HTTP_RETRY_BUFFER (1024 * 1024)
/* Largest error or small answer body kept in memory. */
#define BD_HTTP_SMALL_BODY (8 * 1024 * 1024)

struct bd_http_options {
	unsigned timeout;         /* seconds without progress before a request fails */
	unsigned connect_timeout; /* seconds */
	unsigned retries;         /* extra attempts after a retryable failure */
};

struct bd_http_request {
	const char *method; /* GET, HEAD, PUT, POST, DELETE */
	const char *url;
	struct curl_slist *headers; /* extra request headers; caller owns */
	/* Body: in memory, or pulled from a source (exactly source_len bytes). */
	const uint8_t *body;
	size_t body_len;
	struct bd_source *source;
	uint64_t source_len;
	/* GET: the range wanted (ranged = 0: the whole object). */
	int ranged;
	uint64_t offset, length;
	/* A 2xx body goes to SINK; without one it is kept in resp->body (at most max_body). */
	struct bd_sink *sink;
	size_t max_body;
	/* Called on the handle before every attempt, e.g. to set SigV4 signing. */
	int (*setup)(void *ctx, CURL *curl);
	void *setup_ctx;
};

struct bd_http_response {
	long status;            /* final HTTP status; 0 when no answer came */
	int64_t content_length; /* -1 when unknown */
	char *body;             /* NUL-terminated; error answers, or a 2xx body without sink */
	size_t body_len;
	char etag[128];
	unsigned attempts;
};

struct bd_http;

struct bd_http *bd_http_new(const struct bd_http_options *opts);
void bd_http_free(struct bd_http **h);

/*
 * Perform RQ. Returns 0 when an HTTP answer came (any status: see
 * resp->status), -1 with ERR set when none did (curl error after the
 * retries, the source or sink failed). Release resp with bd_http_response_free().
 */
int bd_http_perform(struct bd_http *h, const struct bd_http_request *rq,
                    struct bd_http_response *resp, struct bd_error *err);
void bd_http_response_free(struct bd_http_response *resp);

/*
 * Turn an unexpected status into an error: 404 is BD_E_NOTFOUND, 416
 * BD_E_INVALID, the rest BD_E_STORAGE. DETAIL (may be NULL) follows the
 * status, e.g. the backend's error code. Always returns -1.
 */
int bd_http_status_error(const struct bd_http_response *resp, const char *method,
                         const char *detail, struct bd_error *err);

/*
 * Object requests as both HTTP drivers make them (http_object.c). A driver's
 * state begins with a struct bd_http_backend whose API says how a request
 * reaches object NAME (URL, credentials) and where an error answer keeps the
 * backend's own words. The bd_http_object_* functions have the signatures of
 * struct bd_store_ops, IMPL being that state: they build the request and
 * judge the answer the same way for every driver: a PUT wants 2xx, a DELETE
 * 2xx or 404 (already gone), a GET from OFFSET 200 or 206 (or 416 at offset
 * 0: every range of an empty object is unsatisfiable), a HEAD 200 with a
 * length. Other answers become errors by bd_http_status_error().
 */
struct bd_http_objects {
	/* Perform a copy of RQ on NAME with URL and credentials added; release only those. */
	int (*perform)(void *impl, const char *name, const struct bd_http_request *rq,
	               struct bd_http_response *resp, struct bd_error *err);
	/* The backend's words in an error answer, into BUF; NULL when it has none. */
	const char *(*detail)(const struct bd_http_response *resp, char *buf, size_t size);
};

struct bd_http_backend {
	const struct bd_http_objects *api;
	struct bd_http *http;
	char *base;   /* the URL objects live under, no trailing '/' */
	char *secret; /* the credential, bd_secret_alloc'ed */
};
/* Release http, base and secret (wiping the secret); B itself belongs to the caller. */
void bd_http_backend_clear(struct bd_http_backend *b);

int bd_http_object_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                       struct bd_error *err);
int bd_http_object_get(void *impl, const char *name, uint64_t offset, uint64_t length,
                       struct bd_sink *sink, struct bd_error *err);
int bd_http_object_head(void *impl, const char *name, uint64_t *size, struct bd_error *err);
int bd_http_object_delete(void *impl, const char *name, struct bd_error *err);

/* S into OUT (of SIZE), percent-encoded except for RFC 3986 unreserved characters. */
void bd_http_url_encode(char *out, size_t size, const char *s);

#endif
