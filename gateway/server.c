/*
 * server.c - the HTTP server of bestanden-gateway: listening socket,
 * libmicrohttpd daemon (a thread per connection, so handlers may block on
 * disk and storage), the routing table, request logging.
 * A new feature adds its handler in its own file and one row to routes[].
 */
#include "gateway.h"
#include "log.h"
#include "mem.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static enum MHD_Result health_handle(struct gw_request *r, const char *data, size_t *size)
{
	if (r->calls == 1 || *size > 0) {
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return gw_respond_not_allowed(r, "GET, HEAD");
	return gw_respond_text(r, MHD_HTTP_OK, "ok\n");
}

static const struct gw_route routes[] = {
        {"/healthz", 0, health_handle, "healthz"},
        {"/v1/objects", 0, gw_objects_handle, "objects"},
        {"/v1/objects/", 1, gw_objects_handle, "objects"},
        {"/d/", 1, gw_download_handle, "download"},
        {"/logo", 0, gw_pages_logo_handle, "logo"},
        {"/metrics", 0, gw_metrics_handle, "metrics"},
};

static const struct gw_route *find_route(const struct gw_server *srv, const char *url)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct gw_route *rt = &routes[i];

		if (rt->handler == gw_objects_handle && srv->objects == NULL)
			continue; /* S3 holds the objects; no object API here */
		if (rt->is_prefix ? strncmp(url, rt->path, strlen(rt->path)) == 0
		                  : strcmp(url, rt->path) == 0)
			return rt;
	}
	return NULL;
}

enum MHD_Result gw_respond(struct gw_request *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result rc;

	if (resp == NULL) {
		bd_log(LOG_ERR, "event=response-failed reason=\"out of memory\"");
		return MHD_NO;
	}
	r->status = status;
	gw_security_headers(r->srv, resp); /* pages.c: CSP, nosniff, no-store ... on everything */
	rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result gw_respond_text(struct gw_request *r, unsigned status, const char *text)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);

	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        "text/plain; charset=utf-8");
	return gw_respond(r, status, resp);
}

enum MHD_Result gw_respond_not_allowed(struct gw_request *r, const char *allow)
{
	char text[64];
	struct MHD_Response *resp;

	snprintf(text, sizeof(text), "use %s\n", allow);
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	if (resp != NULL) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        "text/plain; charset=utf-8");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	}
	return gw_respond(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

void gw_log_field(struct gw_request *r, const char *key, const char *value)
{
	bd_log_kv_str(r->log, sizeof(r->log), key, value);
}

struct framing {
	const char *length; /* the first Content-Length */
	int lengths_differ;
	int encodings; /* Transfer-Encoding headers */
	int chunked;   /* ... and the last one says "chunked" */
};

static enum MHD_Result note_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	struct framing *f = cls;

	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->length != NULL && strcmp(f->length, value) != 0)
			f->lengths_differ = 1;
		f->length = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encodings++;
		f->chunked = strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/*
 * Where the body ends must be beyond doubt (RFC 9112 6.3): libmicrohttpd takes the
 * first of two different Content-Lengths and reads the rest as the next request, and
 * waits for the close on a coding it does not know. A proxy in front may read the same
 * bytes otherwise (request smuggling), so such requests are refused, before any body.
 */
static enum MHD_Result check_framing(struct gw_request *r)
{
	struct framing f = {0};

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, note_framing, &f);
	if (f.lengths_differ || (f.encodings > 0 && f.length != NULL)) {
		gw_log_field(r, "result", "bad-framing");
		return gw_respond_text(r, MHD_HTTP_BAD_REQUEST,
		                       "conflicting Content-Length or Transfer-Encoding\n");
	}
	if (f.encodings > 1 || (f.encodings == 1 && !f.chunked)) {
		gw_log_field(r, "result", "bad-framing");
		return gw_respond_text(r, MHD_HTTP_NOT_IMPLEMENTED,
		                       "only the chunked transfer coding is supported\n");
	}
	return MHD_YES;
}

/*
 * libmicrohttpd decodes %XX in the path and the query; a decoded NUL would end the
 * string there, so "/v1/objects/ab%00/0" would mean "ab". A "%00" is left as it
 * stands: '%' belongs to no object name, token or argument, so it is refused.
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	if (strstr(s, "%00") != NULL)
		return strlen(s);
	return MHD_http_unescape(s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
	struct gw_server *srv = cls;
	struct gw_request *r = *con_cls;
	enum MHD_Result rc;

	if (r == NULL) {
		r = bd_calloc(1, sizeof(*r));
		r->srv = srv;
		r->conn = conn;
		r->method = method;
		r->url = url;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		r->route = find_route(srv, url);
		*con_cls = r;
		rc = check_framing(r);
		if (rc != MHD_YES || r->status != 0)
			return rc;
	}
	if (r->status != 0) { /* answered already: nothing more reaches a handler */
		*size = 0;
		return MHD_YES;
	}
	if (r->route == NULL) {
		/* Answered only once the request is in, so the connection stays usable. */
		if (*size > 0) {
			*size = 0;
			return MHD_YES;
		}
		r->calls++;
		return r->calls == 1 ? MHD_YES
		                     : gw_respond_text(r, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	r->calls++;
	return r->route->handler(r, data, size);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct gw_request *r = *con_cls;
	struct timespec now;
	char method[48] = "";
	long ms;
	int quiet;

	if (r == NULL)
		return;
	if (r->state_free != NULL)
		r->state_free(r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	gw_metrics_request(r);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - r->start.tv_sec) * 1000 + (now.tv_nsec - r->start.tv_nsec) / 1000000;
	quiet = r->route != NULL && r->route->handler == health_handle && r->status == 200;
	/* The method is the client's text: quoted, escaped and cut short like any value. */
	bd_log_kv_str(method, sizeof(method), "method", r->method);
	gw_download_redact(method);
	bd_log(quiet ? LOG_DEBUG : LOG_INFO,
	       "event=request route=%s%s status=%u bytes=%llu ms=%ld%s%s",
	       r->route ? r->route->name : "none", method, r->status, (unsigned long long)r->bytes,
	       ms, r->log, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " result=aborted");
	free(r);
	*con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	gw_download_redact(msg); /* libmicrohttpd names the URL, and a link's URL is a secret */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '"')
			*p = '\'';
	bd_log(LOG_WARNING, "event=http-error error=\"%s\"", msg);
}

/* [gateway] listen is HOST:PORT or [V6]:PORT (conf_table.c checked the form). */
int gw_listen(struct gw_server *srv, struct bd_error *err)
{
	const char *addr = srv->conf->gateway.listen, *colon;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV},
	                *res = NULL;
	char host[256];
	int fd = -1, on = 1, rc;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	}
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0)
		return bd_error_set(err, BD_E_CONFIG, "[gateway] listen %s: %s", addr,
		                    gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
			int e = errno;

			close(fd);
			fd = -1;
			errno = e;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return bd_error_set(err, BD_E_IO, "cannot listen on %s: %s", addr, strerror(errno));
	srv->listen_fd = fd;
	return 0;
}

int gw_server_start(struct gw_server *srv, struct bd_error *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                 MHD_USE_POLL | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};

	if (srv->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			return bd_error_set(
			        err, BD_E_CONFIG,
			        "[gateway] tls_cert is set but this libmicrohttpd has no TLS; "
			        "use a TLS reverse proxy instead");
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
		tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
	}
	srv->daemon = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error,
	        srv, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned)srv->conf->gateway.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)srv->conf->gateway.connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (size_t)(256 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY, tls,
	        MHD_OPTION_END);
	if (srv->daemon == NULL)
		return bd_error_set(err, BD_E_IO, "cannot start the HTTP server on %s",
		                    srv->conf->gateway.listen);
	return 0;
}

void gw_server_stop(struct gw_server *srv)
{
	if (srv->daemon == NULL)
		return;
	MHD_stop_daemon(srv->daemon); /* closes the listening socket, ends every connection */
	srv->daemon = NULL;
	srv->listen_fd = -1;
}

int gw_parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
	unsigned long long a = 0, b = 0;
	int has_a, has_b;
	char *end;

	if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	h += 6;
	while (*h == ' ')
		h++;
	has_a = isdigit((unsigned char)*h);
	if (has_a) {
		errno = 0;
		a = strtoull(h, &end, 10);
		if (errno != 0)
			return 0;
		h = end;
	}
	if (*h++ != '-')
		return 0;
	has_b = isdigit((unsigned char)*h);
	if (has_b) {
		errno = 0;
		b = strtoull(h, &end, 10);
		if (errno != 0)
			return 0;
		h = end;
	}
	while (*h == ' ')
		h++;
	if (*h != '\0' || (!has_a && !has_b) || (has_a && has_b && b < a))
		return 0;
	if (!has_a) { /* the last B bytes */
		if (b == 0 || size == 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (a >= size)
		return -1;
	*first = a;
	*last = has_b && b < size - 1 ? b : size - 1;
	return 1;
}

const struct bd_keyring *gw_keys_hold(struct gw_server *srv)
{
	pthread_rwlock_rdlock(&srv->keys_lock);
	return srv->keys;
}

void gw_keys_drop(struct gw_server *srv)
{
	pthread_rwlock_unlock(&srv->keys_lock);
}

int gw_keys_reload(struct gw_server *srv, struct bd_error *err)
{
	struct bd_keyring *kr, *old;

	kr = bd_keyring_load(srv->conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET, err);
	if (kr == NULL)
		return -1;
	pthread_rwlock_wrlock(&srv->keys_lock);
	old = srv->keys;
	srv->keys = kr;
	pthread_rwlock_unlock(&srv->keys_lock);
	bd_keyring_free(&old);
	return 0;
}
