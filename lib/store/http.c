/*
 * http.c - one HTTP request with timeouts, retries and resumption (see http.h).
 *
 * Connections are never shared between threads (libcurl does not support
 * that): each thread borrows an easy handle from the pool, with its idle
 * connections, and gives it back. Only the DNS and TLS session caches are
 * shared, under a lock per kind of data.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "http.h"
#include "mem.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define POOL_MAX       64
#define ERROR_BODY_MAX 4096
#define BUFFER_SIZE    (256 * 1024)

struct bd_http {
	struct bd_http_options o;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock;
	CURL *idle[POOL_MAX];
	size_t nidle;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *ctx)
{
	struct bd_http *h = ctx;

	pthread_mutex_lock(&h->share_lock[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *ctx)
{
	struct bd_http *h = ctx;

	pthread_mutex_unlock(&h->share_lock[data]);
}

struct bd_http *bd_http_new(const struct bd_http_options *opts)
{
	struct bd_http *h = bd_calloc(1, sizeof(*h));

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		fprintf(stderr, "bestanden: libcurl failed to initialise\n");
		abort();
	}
	h->o = *opts;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_lock[i], NULL);
	pthread_mutex_init(&h->pool_lock, NULL);
	h->share = curl_share_init();
	if (h->share == NULL) {
		fprintf(stderr, "bestanden: out of memory creating a curl share\n");
		abort();
	}
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return h;
}

void bd_http_free(struct bd_http **hp)
{
	struct bd_http *h = hp ? *hp : NULL;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_lock[i]);
	pthread_mutex_destroy(&h->pool_lock);
	free(h);
	*hp = NULL;
}

static CURL *pool_get(struct bd_http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->pool_lock);
	if (h->nidle > 0)
		c = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->pool_lock);
	if (c == NULL) {
		c = curl_easy_init();
		if (c == NULL) {
			fprintf(stderr, "bestanden: out of memory creating a curl handle\n");
			abort();
		}
	} else {
		curl_easy_reset(c); /* keeps the handle's live connections */
	}
	return c;
}

static void pool_put(struct bd_http *h, CURL *c)
{
	pthread_mutex_lock(&h->pool_lock);
	if (h->nidle < POOL_MAX) {
		h->idle[h->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->pool_lock);
	if (c != NULL)
		curl_easy_cleanup(c);
}

/* One attempt's state, seen by the callbacks. */
struct xfer {
	const struct bd_http_request *rq;
	struct bd_http_response *resp;
	CURL *curl;
	/* upload */
	const uint8_t *body;
	size_t body_len, body_pos;
	uint64_t *src_sent; /* across attempts: a source cannot be read twice */
	int src_failed, src_short;
	/* download */
	int status_known, to_sink;
	uint64_t skip;       /* bytes to drop: the server ignored our Range */
	uint64_t *delivered; /* to the sink, across attempts */
	uint64_t want;       /* still wanted by the sink (UINT64_MAX: all) */
	int sink_failed, too_large;
	/* progress: the [storage] timeout is "no byte moved for this long" */
	unsigned timeout;
	curl_off_t moved;
	struct timespec last_move;
	int stalled;
};

static size_t on_upload(char *buf, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;

	if (x->body != NULL || x->rq->source == NULL) {
		size_t left = x->body_len - x->body_pos;

		if (len > left)
			len = left;
		if (len > 0)
			memcpy(buf, x->body + x->body_pos, len);
		x->body_pos += len;
		return len;
	} else {
		uint64_t left = x->rq->source_len - *x->src_sent;
		ssize_t r;

		if (left == 0)
			return 0;
		if (len > left)
			len = (size_t)left;
		r = x->rq->source->read(x->rq->source->ctx, (uint8_t *)buf, len);
		if (r < 0) {
			x->src_failed = 1;
			return CURL_READFUNC_ABORT;
		}
		if (r == 0) {
			x->src_short = 1;
			return CURL_READFUNC_ABORT;
		}
		*x->src_sent += (uint64_t)r;
		return (size_t)r;
	}
}

static int on_seek(void *ctx, curl_off_t offset, int origin)
{
	struct xfer *x = ctx;

	/* Only an in-memory body can be sent again (e.g. after a redirect). */
	if (x->body == NULL || origin != SEEK_SET || offset < 0 || (size_t)offset > x->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->body_pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static void keep_body(struct bd_http_response *resp, const char *p, size_t len, size_t cap)
{
	if (resp->body_len + len > cap)
		len = cap - resp->body_len;
	resp->body = bd_realloc(resp->body, resp->body_len + len + 1);
	memcpy(resp->body + resp->body_len, p, len);
	resp->body_len += len;
	resp->body[resp->body_len] = '\0';
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n, l = len;

	if (!x->status_known) {
		long status = 0;

		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		x->status_known = 1;
		x->to_sink = x->rq->sink != NULL && status / 100 == 2;
		if (x->to_sink && status == 200 && (x->rq->ranged || *x->delivered > 0))
			x->skip = (x->rq->ranged ? x->rq->offset : 0) + *x->delivered;
		if (!x->to_sink && status / 100 == 2 && x->rq->sink == NULL)
			x->to_sink = x->rq->max_body > 0 ? -1 : -2; /* 2xx kept, or not wanted */
	}
	if (x->to_sink == 1) {
		if (x->skip > 0) {
			size_t drop = x->skip < l ? (size_t)x->skip : l;

			p += drop;
			l -= drop;
			x->skip -= drop;
		}
		if (x->want != UINT64_MAX && l > x->want)
			l = (size_t)x->want;
		if (l > 0) {
			if (x->rq->sink->write(x->rq->sink->ctx, (const uint8_t *)p, l) < 0) {
				x->sink_failed = 1;
				return 0;
			}
			*x->delivered += l;
			if (x->want != UINT64_MAX)
				x->want -= l;
		}
		return len;
	}
	if (x->to_sink == -2)
		return len;
	if (x->to_sink == -1) {
		if (x->resp->body_len + len > x->rq->max_body) {
			x->too_large = 1;
			return 0;
		}
		keep_body(x->resp, p, len, x->rq->max_body);
		return len;
	}
	if (x->resp->body_len < ERROR_BODY_MAX)
		keep_body(x->resp, p, len, ERROR_BODY_MAX);
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->resp->etag[0] = '\0';
	} else if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
		const char *v = p + 5, *e = p + len;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			e--;
		if ((size_t)(e - v) < sizeof(x->resp->etag)) {
			memcpy(x->resp->etag, v, (size_t)(e - v));
			x->resp->etag[e - v] = '\0';
		}
	}
	return len;
}

/*
 * libcurl's own low-speed check averages over several seconds, so a transfer
 * that stalls after moving a few bytes fails only seconds after the limit;
 * counting the time since the last byte moved keeps the promise exactly.
 */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct xfer *x = ctx;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (dlnow + ulnow != x->moved || x->last_move.tv_sec == 0) {
		x->moved = dlnow + ulnow;
		x->last_move = now;
		return 0;
	}
	if ((now.tv_sec - x->last_move.tv_sec) * 1000 +
	            (now.tv_nsec - x->last_move.tv_nsec) / 1000000 >=
	    (long)x->timeout * 1000) {
		x->stalled = 1;
		return 1;
	}
	return 0;
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR: return 1;
	default: return 0;
	}
}

static int retryable_status(long status)
{
	return status == 500 || status == 502 || status == 503 || status == 504;
}

static void backoff(unsigned attempt)
{
	/* 250 ms, 500 ms, 1 s, ... up to 4 s, with up to 50 % jitter so clients spread out. */
	unsigned ms = 250u << (attempt < 4 ? attempt : 4);
	struct timespec ts;

	ms += randombytes_uniform(ms / 2 + 1);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* What the upload source did wrong, if anything: -1 with ERR set, else 0. */
static int source_error(const struct xfer *x, struct bd_error *err)
{
	if (x->src_failed)
		return bd_error_set(err, BD_E_IO, "reading the upload source failed");
	if (x->src_short)
		return bd_error_set(err, BD_E_INVALID, "the source ended after %llu of %llu bytes",
		                    (unsigned long long)*x->src_sent,
		                    (unsigned long long)x->rq->source_len);
	return 0;
}

static void setup_handle(struct bd_http *h, CURL *c, struct xfer *x, char *errbuf)
{
	const struct bd_http_request *rq = x->rq;

	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)h->o.connect_timeout);
	/* "Timeout" means no progress: a 100 MiB upload may take long, a stuck one may not. */
	x->timeout = h->o.timeout;
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)BUFFER_SIZE);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, (long)BUFFER_SIZE);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
	curl_easy_setopt(c, CURLOPT_READDATA, x);
	curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
	if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		                 (curl_off_t)(x->body ? x->body_len : rq->source_len));
	} else if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)(x->body ? x->body_len : rq->source_len));
	} else if (strcmp(rq->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	}
}

int bd_http_perform(struct bd_http *h, const struct bd_http_request *rq,
                    struct bd_http_response *resp, struct bd_error *err)
{
	uint64_t src_sent = 0, delivered = 0;
	uint8_t *buffered = NULL;
	const uint8_t *body = rq->body;
	size_t body_len = rq->body_len;
	int rv = -1;

	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	if (rq->source != NULL && rq->source_len <= BD_HTTP_RETRY_BUFFER && h->o.retries > 0) {
		/* Small enough to hold: then every failure can be retried. */
		struct xfer pull = {.rq = rq, .src_sent = &src_sent};

		buffered = bd_malloc((size_t)rq->source_len);
		while (src_sent < rq->source_len) {
			size_t got = on_upload((char *)buffered + src_sent, 1,
			                       (size_t)(rq->source_len - src_sent), &pull);

			if (pull.src_failed || pull.src_short)
				break;
			(void)got;
		}
		if (source_error(&pull, err) < 0)
			goto out;
		body = buffered;
		body_len = (size_t)rq->source_len;
	}
	for (unsigned attempt = 0;; attempt++) {
		char errbuf[CURL_ERROR_SIZE] = "", range[64];
		struct xfer x = {.rq = rq,
		                 .resp = resp,
		                 .body = body,
		                 .body_len = body_len,
		                 .src_sent = &src_sent,
		                 .delivered = &delivered,
		                 .want = UINT64_MAX};
		CURL *c = pool_get(h);
		CURLcode rc;
		curl_off_t cl = -1;
		int retry;

		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
		resp->status = 0;
		resp->etag[0] = '\0';
		resp->attempts = attempt + 1;
		if (rq->body == NULL && rq->source == NULL)
			x.body = (const uint8_t *)"";
		x.curl = c;
		setup_handle(h, c, &x, errbuf);
		if (rq->ranged || delivered > 0) {
			uint64_t start = (rq->ranged ? rq->offset : 0) + delivered;

			if (rq->ranged && rq->length != UINT64_MAX) {
				x.want = rq->length - delivered;
				snprintf(range, sizeof(range), "%llu-%llu",
				         (unsigned long long)start,
				         (unsigned long long)(rq->offset + rq->length - 1));
			} else {
				snprintf(range, sizeof(range), "%llu-", (unsigned long long)start);
			}
			curl_easy_setopt(c, CURLOPT_RANGE, range);
		}
		if (rq->setup != NULL && rq->setup(rq->setup_ctx, c) < 0) {
			pool_put(h, c);
			bd_error_set(err, BD_E_INVALID, "could not set up the request");
			goto out;
		}
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		resp->content_length = cl;
		pool_put(h, c);
		if (x.sink_failed) {
			bd_error_set(err, BD_E_IO, "the receiver stopped the transfer");
			goto out;
		}
		if (source_error(&x, err) < 0)
			goto out;
		if (x.too_large) {
			bd_error_set(err, BD_E_STORAGE,
			             "%s %s: the answer is larger than %zu bytes", rq->method,
			             rq->url, rq->max_body);
			goto out;
		}
		if (rc == CURLE_OK && !retryable_status(resp->status)) {
			rv = 0;
			goto out;
		}
		retry = rc == CURLE_OK ? 1 : x.stalled || retryable_curl(rc);
		/* A streamed body can be sent again only if none of it was read yet. */
		if (body == NULL && rq->source != NULL && src_sent > 0)
			retry = 0;
		if (!retry || attempt >= h->o.retries) {
			if (rc == CURLE_OK) {
				rv = 0; /* a 5xx answer: the caller words it */
				goto out;
			}
			char tries[32] = "";

			if (attempt > 0)
				snprintf(tries, sizeof(tries), " after %u attempts", attempt + 1);
			if (x.stalled)
				bd_error_set(
				        err, BD_E_STORAGE,
				        "%s %s: no progress for %u s (the [storage] timeout)%s",
				        rq->method, rq->url, h->o.timeout, tries);
			else
				bd_error_set(err, BD_E_STORAGE, "%s %s: %s (curl error %d)%s",
				             rq->method, rq->url,
				             errbuf[0] ? errbuf : curl_easy_strerror(rc), (int)rc,
				             tries);
			goto out;
		}
		backoff(attempt);
	}
out:
	free(buffered);
	return rv;
}

void bd_http_response_free(struct bd_http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int bd_http_status_error(const struct bd_http_response *resp, const char *method,
                         const char *detail, struct bd_error *err)
{
	int code = BD_E_STORAGE;
	const char *hint = "";
	char attempts[32] = "", line[160] = "";

	/* The backend's own words, first line only, printable ASCII only. */
	for (size_t i = 0; detail != NULL && detail[i] != '\0' && detail[i] != '\n' &&
	                   detail[i] != '\r' && i + 1 < sizeof(line);
	     i++)
		line[i] = (unsigned char)detail[i] < ' ' || (unsigned char)detail[i] > '~'
		                  ? '?'
		                  : detail[i];
	detail = line[0] ? line : NULL;

	if (resp->status == 404)
		code = BD_E_NOTFOUND;
	else if (resp->status == 416)
		code = BD_E_INVALID;
	if (resp->status == 401 || resp->status == 403)
		hint = " (access denied: check the credentials in the [storage] section)";
	if (resp->attempts > 1)
		snprintf(attempts, sizeof(attempts), " after %u attempts", resp->attempts);
	return bd_error_set(err, code, "%s: HTTP %ld%s%s%s%s", method, resp->status,
	                    detail ? " " : "", detail ? detail : "", hint, attempts);
}

void bd_http_url_encode(char *out, size_t size, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (size > 0)
		out[o < size ? o : size - 1] = '\0';
}
