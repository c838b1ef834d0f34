/*
 * server.c - the HTTP core of bestanden-gateway (server.h): listening socket,
 * libmicrohttpd daemon (a thread per connection, so handlers may block on
 * disk and storage), the registered routes and hooks, request logging.
 * It knows no feature: a feature registers its routes and hooks at start-up.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "server.h"
#include "log.h"
#include "mem.h"
#include "network.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROUTES_MAX 16
#define HOOKS_MAX  8

struct hook {
	union {
		gw_header_hook header;
		gw_redactor redact;
		gw_observer observe;
	} fn;
	void *cls;
};

struct hooks {
	struct hook v[HOOKS_MAX];
	size_t n;
};

/* A listening socket and its daemon: the recipients', or the internal one (object API, metrics). */
struct listener {
	struct gw_server *srv;
	enum gw_listener kind;
	const char *key; /* the setting that names it, for errors */
	char *addr;      /* NULL: not used */
	int fd;
	struct MHD_Daemon *daemon;
};

/* An open connection, as the header watch sees it. */
struct watched {
	int fd;
	int waiting;      /* for a request's headers (set at the start and after each request) */
	int64_t since_ms; /* ... since then */
	struct watched *prev, *next;
};

/* Closes connections whose headers do not arrive in time: libmicrohttpd's timeout counts
 * silence only, so a client sending a byte a second would hold its slot for ever. */
struct header_watch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stop;
	struct watched *list;
};

struct gw_server {
	unsigned max_connections, connection_timeout, max_per_client, header_timeout;
	struct header_watch watch;
	const char *tls_cert, *tls_key;
	struct listener main, internal;
	struct gw_route routes[ROUTES_MAX];
	size_t nroutes;
	struct hooks headers, redactors, observers;
	void *(*ctx_hold)(void *cls);
	void (*ctx_drop)(void *ctx);
	void *ctx_cls;
};

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

struct gw_server *gw_server_new(const struct gw_server_settings *s)
{
	struct gw_server *srv = bd_calloc(1, sizeof(*srv));
	static const struct gw_route health = {.path = "/healthz",
	                                       .handler = health_handle,
	                                       .name = "healthz",
	                                       .quiet = 1,
	                                       .on = GW_ON_BOTH};

	srv->main = (struct listener){srv, GW_ON_PUBLIC, "listen", bd_strdup(s->listen), -1, NULL};
	srv->internal = (struct listener){srv, GW_ON_INTERNAL, "internal_listen", NULL, -1, NULL};
	if (s->internal_listen != NULL && s->internal_listen[0] != '\0')
		srv->internal.addr = bd_strdup(s->internal_listen);
	srv->max_connections = s->max_connections;
	srv->connection_timeout = s->connection_timeout;
	srv->max_per_client = s->max_per_client;
	srv->header_timeout = s->header_timeout;
	pthread_mutex_init(&srv->watch.lock, NULL);
	pthread_cond_init(&srv->watch.wake, NULL);
	srv->tls_cert = s->tls_cert;
	srv->tls_key = s->tls_key;
	gw_server_add_route(srv, &health);
	return srv;
}

void gw_server_free(struct gw_server **srvp)
{
	struct gw_server *srv = *srvp;

	if (srv == NULL)
		return;
	gw_server_stop(srv);
	for (struct listener *l = &srv->main; l != NULL;
	     l = l == &srv->main ? &srv->internal : NULL) {
		if (l->fd >= 0)
			close(l->fd);
		free(l->addr);
	}
	pthread_mutex_destroy(&srv->watch.lock);
	pthread_cond_destroy(&srv->watch.wake);
	free(srv);
	*srvp = NULL;
}

/* Fixed tables: the features are known at build time, so running out is a bug. */
static struct hook *hook_add(struct hooks *h, void *cls)
{
	if (h->n == HOOKS_MAX)
		abort();
	h->v[h->n].cls = cls;
	return &h->v[h->n++];
}

void gw_server_add_route(struct gw_server *srv, const struct gw_route *route)
{
	if (srv->nroutes == ROUTES_MAX)
		abort();
	srv->routes[srv->nroutes++] = *route;
}

void gw_server_add_header_hook(struct gw_server *srv, gw_header_hook hook, void *cls)
{
	hook_add(&srv->headers, cls)->fn.header = hook;
}

void gw_server_add_redactor(struct gw_server *srv, gw_redactor redact, void *cls)
{
	hook_add(&srv->redactors, cls)->fn.redact = redact;
}

void gw_server_add_observer(struct gw_server *srv, gw_observer observe, void *cls)
{
	hook_add(&srv->observers, cls)->fn.observe = observe;
}

void gw_server_set_context(struct gw_server *srv, void *(*hold)(void *cls), void (*drop)(void *ctx),
                           void *cls)
{
	srv->ctx_hold = hold;
	srv->ctx_drop = drop;
	srv->ctx_cls = cls;
}

static void redact(const struct gw_server *srv, char *text)
{
	for (size_t i = 0; i < srv->redactors.n; i++)
		srv->redactors.v[i].fn.redact(text, srv->redactors.v[i].cls);
}

/* The route of URL on listener L: with an internal listener, the internal routes answer only
 * there and the others only on the recipients' one; without, all answer on the one. */
static const struct gw_route *find_route(const struct listener *l, const char *url)
{
	const struct gw_server *srv = l->srv;

	for (size_t i = 0; i < srv->nroutes; i++) {
		const struct gw_route *rt = &srv->routes[i];
		enum gw_listener on = rt->on == GW_ON_BOTH ? l->kind : rt->on;

		if (rt->enabled != NULL && !rt->enabled(rt->cls))
			continue;
		if (srv->internal.addr != NULL && on != l->kind)
			continue;
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
	for (size_t i = 0; i < r->srv->headers.n; i++)
		r->srv->headers.v[i].fn.header(r, resp, r->srv->headers.v[i].cls);
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

int gw_body_append(char *buf, size_t max, size_t *len, const char *data, size_t *size)
{
	size_t n = *size < max - *len ? *size : max - *len;
	int cut = n < *size;

	memcpy(buf + *len, data, n);
	*len += n;
	*size = 0;
	return cut;
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
	int bad_name;  /* a header name that is not an RFC 9110 token */
};

/* RFC 9110 5.6.2: "Transfer-Encoding : chunked" has a name ending in a space, which one
 * parser drops and another keeps, so it is no name at all. */
static int header_name_valid(const char *key)
{
	if (*key == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (!isalnum(*p) && strchr("!#$%&'*+-.^_`|~", *p) == NULL)
			return 0;
	return 1;
}

static enum MHD_Result note_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	struct framing *f = cls;

	if (!header_name_valid(key))
		f->bad_name = 1;
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
 * bytes otherwise (request smuggling), so such requests are refused, before any body,
 * and so is a header name with a space or any other character a token cannot have.
 */
static enum MHD_Result check_framing(struct gw_request *r)
{
	struct framing f = {0};

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, note_framing, &f);
	if (f.bad_name) {
		gw_log_field(r, "result", "bad-header");
		return gw_respond_text(r, MHD_HTTP_BAD_REQUEST, "malformed header name\n");
	}
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

/* ---- the header watch ---- */

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct header_watch *hw = &((struct gw_server *)cls)->watch;
	const union MHD_ConnectionInfo *ci;
	struct watched *w = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL)
			return;
		w = bd_calloc(1, sizeof(*w));
		w->fd = ci->connect_fd;
		w->waiting = 1;
		w->since_ms = monotonic_ms();
		pthread_mutex_lock(&hw->lock);
		w->next = hw->list;
		if (hw->list != NULL)
			hw->list->prev = w;
		hw->list = w;
		pthread_mutex_unlock(&hw->lock);
		*socket_context = w;
		return;
	}
	if (w == NULL)
		return;
	/* Told before libmicrohttpd closes the socket: the watch never sees a reused number. */
	pthread_mutex_lock(&hw->lock);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		hw->list = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&hw->lock);
	free(w);
	*socket_context = NULL;
}

/* CONN's headers are in (WAITING 0), or it now waits for the next request's (1). */
static void watch_mark(struct gw_server *srv, struct MHD_Connection *conn, int waiting)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watched *w = ci != NULL ? ci->socket_context : NULL;

	if (w == NULL)
		return;
	pthread_mutex_lock(&srv->watch.lock);
	w->waiting = waiting;
	w->since_ms = monotonic_ms();
	pthread_mutex_unlock(&srv->watch.lock);
}

static void *watch_run(void *cls)
{
	struct gw_server *srv = cls;
	struct header_watch *hw = &srv->watch;
	int64_t limit_ms = (int64_t)srv->header_timeout * 1000;
	struct timespec until;
	unsigned closed;

	pthread_mutex_lock(&hw->lock);
	while (!hw->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 500 * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&hw->wake, &hw->lock, &until);
		closed = 0;
		for (struct watched *w = hw->list; w != NULL; w = w->next) {
			if (!w->waiting || monotonic_ms() - w->since_ms < limit_ms)
				continue;
			/* Its thread sees the end of the stream and closes the connection. */
			shutdown(w->fd, SHUT_RDWR);
			w->waiting = 0;
			closed++;
		}
		if (closed > 0)
			bd_log(LOG_INFO, "event=slow-clients-closed count=%u header_timeout=%us",
			       closed, srv->header_timeout);
	}
	pthread_mutex_unlock(&hw->lock);
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
	const struct listener *l = cls;
	struct gw_server *srv = l->srv;
	struct gw_request *r = *con_cls;
	enum MHD_Result rc;

	if (r == NULL) {
		r = bd_calloc(1, sizeof(*r));
		r->srv = srv;
		r->conn = conn;
		r->method = method;
		r->url = url;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		r->route = find_route(l, url);
		if (srv->ctx_hold != NULL)
			r->ctx = srv->ctx_hold(srv->ctx_cls);
		*con_cls = r;
		watch_mark(srv, conn, 0);
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
	struct gw_server *srv = cls;
	struct gw_request *r = *con_cls;
	struct timespec now;
	char method[48] = "";
	long ms;
	int quiet;

	watch_mark(srv, conn, 1);
	if (r == NULL)
		return;
	if (r->state_free != NULL)
		r->state_free(r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	for (size_t i = 0; i < srv->observers.n; i++)
		srv->observers.v[i].fn.observe(r, srv->observers.v[i].cls);
	if (r->ctx != NULL && srv->ctx_drop != NULL)
		srv->ctx_drop(r->ctx);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - r->start.tv_sec) * 1000 + (now.tv_nsec - r->start.tv_nsec) / 1000000;
	quiet = r->route != NULL && r->route->quiet && r->status == MHD_HTTP_OK;
	/* The method is the client's text: quoted, escaped and cut short like any value. */
	bd_log_kv_str(method, sizeof(method), "method", r->method);
	redact(srv, method);
	bd_log(quiet ? LOG_DEBUG : LOG_INFO,
	       "event=request route=%s%s status=%u bytes=%llu ms=%ld%s%s",
	       r->route ? r->route->name : "none", method, r->status, (unsigned long long)r->bytes,
	       ms, r->log, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " result=aborted");
	free(r);
	*con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	const struct gw_server *srv = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	redact(srv, msg); /* libmicrohttpd names the URL, and a link's URL is a secret */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '"')
			*p = '\'';
	bd_log(LOG_WARNING, "event=http-error error=\"%s\"", msg);
}

/* L's HOST:PORT or [V6]:PORT (conf_table.c checked the form), bound and listening. */
static int listener_bind(struct listener *l, struct bd_error *err)
{
	l->fd = bd_listen_tcp(l->addr, err);
	if (l->fd < 0 && err != NULL && err->code == BD_E_CONFIG)
		bd_error_prefix(err, "[gateway] %s", l->key);
	return l->fd < 0 ? -1 : 0;
}

int gw_server_listen(struct gw_server *srv, struct bd_error *err)
{
	if (listener_bind(&srv->main, err) < 0)
		return -1;
	return srv->internal.addr != NULL ? listener_bind(&srv->internal, err) : 0;
}

static int listener_start(struct listener *l, unsigned flags, struct MHD_OptionItem *tls,
                          struct bd_error *err)
{
	struct gw_server *srv = l->srv;

	l->daemon = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, l, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, srv,
	        MHD_OPTION_LISTEN_SOCKET, l->fd, MHD_OPTION_CONNECTION_LIMIT, srv->max_connections,
	        MHD_OPTION_CONNECTION_TIMEOUT, srv->connection_timeout,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->max_per_client,
	        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY, tls,
	        MHD_OPTION_END);
	if (l->daemon == NULL)
		return bd_error_set(err, BD_E_IO, "cannot start the HTTP server on %s", l->addr);
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
		tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
		                                 (void *)srv->tls_cert};
		tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)srv->tls_key};
	}
	if (listener_start(&srv->main, flags, tls, err) < 0)
		return -1;
	srv->watch.stop = 0;
	if (pthread_create(&srv->watch.thread, NULL, watch_run, srv) != 0) {
		gw_server_stop(srv);
		return bd_error_set(err, BD_E_IO, "cannot start the header watch");
	}
	srv->watch.running = 1;
	if (srv->internal.addr != NULL && listener_start(&srv->internal, flags, tls, err) < 0) {
		gw_server_stop(srv);
		return -1;
	}
	return 0;
}

void gw_server_stop(struct gw_server *srv)
{
	for (struct listener *l = &srv->main; l != NULL;
	     l = l == &srv->main ? &srv->internal : NULL) {
		if (l->daemon == NULL)
			continue;
		MHD_stop_daemon(l->daemon); /* closes the listening socket, ends every connection */
		l->daemon = NULL;
		l->fd = -1;
	}
	if (srv->watch.running) {
		pthread_mutex_lock(&srv->watch.lock);
		srv->watch.stop = 1;
		pthread_cond_signal(&srv->watch.wake);
		pthread_mutex_unlock(&srv->watch.lock);
		pthread_join(srv->watch.thread, NULL);
		srv->watch.running = 0;
	}
}
