/*
 * gateway.h - what the parts of bestanden-gateway share.
 *
 * server.c owns the libmicrohttpd daemon and a routing table; each feature
 * (objects.c, later the download pages) is a handler with the MHD calling
 * convention plus a struct gw_request that lives for one request. A request
 * logs one key=value line when it ends; handlers add fields to r->log and
 * must never put tokens or link secrets there (paths are not logged).
 */
#ifndef BD_GATEWAY_H
#define BD_GATEWAY_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "error.h"
#include "keys.h"
#include "objstore.h"
#include "store.h"

struct gw_request;

/*
 * Called once when the headers are in (r->calls == 1), then for every piece
 * of the body (*size > 0: consume it and set *size = 0), and once more at the
 * end (*size == 0). Queue the response with gw_respond*() at the end; an
 * answer queued at the first call (e.g. a refusal before a large upload)
 * makes libmicrohttpd close the connection afterwards.
 */
typedef enum MHD_Result (*gw_handler)(struct gw_request *r, const char *data, size_t *size);

struct gw_route {
	const char *path;
	int is_prefix; /* path matches the start of the URL */
	gw_handler handler;
	const char *name; /* in log lines */
};

struct gw_server {
	struct bd_conf *conf;
	struct bd_keyring *keys;     /* swapped by gw_keys_reload: use gw_keys_hold/drop */
	pthread_rwlock_t keys_lock;
	int listen_fd;
	struct MHD_Daemon *daemon;
	char *tls_cert, *tls_key; /* PEM text; the key in secret memory */

	/* objects.c: the embedded store, when [storage] driver = gateway */
	struct bd_objstore *objects;
	uint8_t token_hash[32];

	/* download.c and friends: the recipient's pages (GET /d/...) */
	struct bd_store *store;         /* packages are read through this */
	struct gw_pages *pages;         /* pages.c: logo, CSP, texts */
	struct gw_audit *audit;         /* audit.c: JSON lines */
	struct gw_ratelimit *ratelimit; /* ratelimit.c: failed lookups per client */

	/* sweep.c */
	pthread_t sweeper;
	int sweeper_running;
	pthread_mutex_t sweep_lock;
	pthread_cond_t sweep_cond;
	int stopping;
};

struct gw_request {
	struct gw_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const struct gw_route *route;
	unsigned calls;
	unsigned status; /* of the queued response */
	uint64_t bytes;  /* body bytes received or sent, for the log */
	char log[512];   /* extra " key=value" pairs */
	struct timespec start;
	void *state; /* the handler's, released by state_free */
	void (*state_free)(struct gw_request *r, int completed);
};

/*
 * The keyring in force. Requests hold it (a read lock) only while they check a
 * token and open a manifest; SIGHUP loads the key directory anew and swaps it in,
 * keeping the old one if the new one does not load.
 */
const struct bd_keyring *gw_keys_hold(struct gw_server *srv);
void gw_keys_drop(struct gw_server *srv);
int gw_keys_reload(struct gw_server *srv, struct bd_error *err);

/* server.c */
int gw_listen(struct gw_server *srv, struct bd_error *err);
int gw_server_start(struct gw_server *srv, struct bd_error *err);
void gw_server_stop(struct gw_server *srv);
/* Queue RESP (destroyed here) with STATUS. */
enum MHD_Result gw_respond(struct gw_request *r, unsigned status, struct MHD_Response *resp);
/* A short text/plain answer. */
enum MHD_Result gw_respond_text(struct gw_request *r, unsigned status, const char *text);
/* 405 with the Allow header, e.g. ALLOW "GET, HEAD". */
enum MHD_Result gw_respond_not_allowed(struct gw_request *r, const char *allow);
/*
 * An HTTP Range header against SIZE bytes: "bytes=A-B", "bytes=A-", "bytes=-N".
 * 1 with [*first, *last] set; 0 to ignore it (absent, malformed, another unit,
 * several ranges: the whole body is the answer); -1 when unsatisfiable (416).
 */
int gw_parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last);
/* Add " KEY=VALUE" to the request's log line. */
void gw_log_field(struct gw_request *r, const char *key, const char *value);

/* objects.c: the object API under /v1/objects */
int gw_objects_init(struct gw_server *srv, struct bd_error *err);
void gw_objects_fini(struct gw_server *srv);
enum MHD_Result gw_objects_handle(struct gw_request *r, const char *data, size_t *size);

/* download.c: GET /d/<token> (the page), /d/<token>/<n> (a file), /d/<token>/all (zip) */
int gw_download_init(struct gw_server *srv, struct bd_error *err);
void gw_download_fini(struct gw_server *srv);
enum MHD_Result gw_download_handle(struct gw_request *r, const char *data, size_t *size);
/* Blank out link tokens ("/d/<token>") in TEXT, e.g. a libmicrohttpd message, in place. */
void gw_download_redact(char *text);
/* pages.c: the logo under /logo; headers every response carries */
enum MHD_Result gw_pages_logo_handle(struct gw_request *r, const char *data, size_t *size);
void gw_security_headers(const struct gw_server *srv, struct MHD_Response *resp);
/* metrics.c: GET /metrics, and one count per answered request */
enum MHD_Result gw_metrics_handle(struct gw_request *r, const char *data, size_t *size);
void gw_metrics_request(const struct gw_request *r);

/* sweep.c: the periodic sweep of expired packages */
int gw_sweep_start(struct gw_server *srv, struct bd_error *err);
void gw_sweep_stop(struct gw_server *srv);

#endif
