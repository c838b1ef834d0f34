/*
 * server.h - the HTTP core of bestanden-gateway, and all a feature needs to answer.
 *
 * The core (server.c) owns the libmicrohttpd daemon and knows no feature: it calls
 * only what was registered with it - routes, response-header hooks, log redactors,
 * request-end observers, and the request context (what a request holds from its
 * start to its end, e.g. the settings in force). A request lives in one struct
 * gw_request and logs one key=value line when it ends; handlers add fields to
 * r->log and never put tokens or link secrets there (paths are not logged).
 * Registration happens before gw_server_start; afterwards the tables are read-only.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include "parse.h"
#include <microhttpd.h>
#include <stdint.h>
#include <time.h>

#include "error.h"

struct gw_server;
struct gw_request;

/*
 * Called once when the headers are in (r->calls == 1), then for every piece
 * of the body (*size > 0: consume it and set *size = 0), and once more at the
 * end (*size == 0). Queue the response with gw_respond*() at the end; an
 * answer queued at the first call (e.g. a refusal before a large upload)
 * makes libmicrohttpd close the connection afterwards.
 */
typedef enum MHD_Result (*gw_handler)(struct gw_request *r, const char *data, size_t *size);

/* Where a route answers when [gateway] internal_listen is set (without it, everywhere). */
enum gw_listener {
	GW_ON_PUBLIC = 0, /* the recipients' listener */
	GW_ON_INTERNAL,   /* the internal listener: the object API, metrics */
	GW_ON_BOTH,       /* health checks */
};

struct gw_route {
	const char *path;
	int is_prefix; /* path matches the start of the URL */
	gw_handler handler;
	const char *name;          /* in log lines and metrics; static */
	int (*enabled)(void *cls); /* NULL: always; else the route exists while it says 1 */
	void *cls;                 /* the feature's, for ENABLED and the handler (r->route) */
	int quiet;                 /* a 200 is logged at debug level (health checks) */
	enum gw_listener on;
};

struct gw_request {
	struct gw_server *srv; /* opaque: the core's */
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const struct gw_route *route;
	void *ctx; /* the request context (gw_server_set_context), held until the end */
	unsigned calls;
	unsigned status; /* of the queued response */
	uint64_t bytes;  /* body bytes received or sent, for the log */
	char log[512];   /* extra " key=value" pairs */
	struct timespec start;
	void *state; /* the handler's, released by state_free */
	void (*state_free)(struct gw_request *r, int completed);
};

/* Adds headers to every response just before it is queued (e.g. security headers). */
typedef void (*gw_header_hook)(struct gw_request *r, struct MHD_Response *resp, void *cls);
/* Blanks out secrets in TEXT, in place (a URL or a libmicrohttpd message is logged). */
typedef void (*gw_redactor)(char *text, void *cls);
/* Told of every request when it ends (after the handler's state_free). */
typedef void (*gw_observer)(const struct gw_request *r, void *cls);

struct gw_server_settings {
	const char *listen;          /* HOST:PORT or [V6]:PORT */
	const char *internal_listen; /* NULL or "": the internal routes answer on LISTEN */
	unsigned max_connections;
	unsigned connection_timeout; /* seconds of silence */
	unsigned max_per_client;     /* connections from one address; 0: no limit */
	unsigned header_timeout;     /* seconds from a connection's start to its headers */
	const char *tls_cert;        /* PEM text, or NULL for plain HTTP */
	const char *tls_key;         /* PEM text; the caller keeps it (secret memory) */
};

/* A server with only /healthz; copies nothing from S but the strings it keeps. */
struct gw_server *gw_server_new(const struct gw_server_settings *s);
void gw_server_free(struct gw_server **srv);

/* Registration; ROUTE is copied. Routes are tried in the order they were added. */
void gw_server_add_route(struct gw_server *srv, const struct gw_route *route);
void gw_server_add_header_hook(struct gw_server *srv, gw_header_hook hook, void *cls);
void gw_server_add_redactor(struct gw_server *srv, gw_redactor redact, void *cls);
void gw_server_add_observer(struct gw_server *srv, gw_observer observe, void *cls);
/* HOLD(CLS) gives r->ctx when a request begins; DROP(ctx) when it has ended. */
void gw_server_set_context(struct gw_server *srv, void *(*hold)(void *cls), void (*drop)(void *ctx),
                           void *cls);

/* Bind the listening socket (as root, before privileges are dropped). */
int gw_server_listen(struct gw_server *srv, struct bd_error *err);
int gw_server_start(struct gw_server *srv, struct bd_error *err);
void gw_server_stop(struct gw_server *srv);

/* Queue RESP (destroyed here) with STATUS, after the header hooks. */
enum MHD_Result gw_respond(struct gw_request *r, unsigned status, struct MHD_Response *resp);
/* A short text/plain answer. */
enum MHD_Result gw_respond_text(struct gw_request *r, unsigned status, const char *text);
/* 405 with the Allow header, e.g. ALLOW "GET, HEAD". */
enum MHD_Result gw_respond_not_allowed(struct gw_request *r, const char *allow);
/* A piece of a small body (a form, a JSON document): DATA's *SIZE bytes go after the *LEN in
 * BUF as far as MAX allows, *SIZE becomes 0; 1 when some did not fit, else 0. */
int gw_body_append(char *buf, size_t max, size_t *len, const char *data, size_t *size);
/* Add " KEY=VALUE" to the request's log line. */
void gw_log_field(struct gw_request *r, const char *key, const char *value);

#endif
