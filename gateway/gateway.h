/*
 * gateway.h - what the features of bestanden-gateway share.
 *
 * The HTTP core (server.h) knows no feature; each feature's register
 * function adds its routes and hooks to it. The runtime is what SIGHUP
 * reloads whole (runtime.c): settings, keys, store, pages, audit trail. Every
 * request holds the runtime it began with as r->ctx, so a reload changes new
 * requests only; what cannot change without a restart (sockets, TLS, user,
 * the embedded store) is set up once in main.c and kept.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_GATEWAY_H
#define BD_GATEWAY_H

#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "current.h"
#include "error.h"
#include "keys.h"
#include "objstore.h"
#include "server.h"
#include "settings.h"
#include "store.h"
#include "sweep.h"

struct gw_pages;
struct gw_audit;
struct gw_ratelimit;

struct gw_runtime {
	struct bd_ref ref;           /* first: the runtime is a bd_current value */
	struct bd_settings settings; /* configuration, keys, the store packages are read from */
	struct gw_pages *pages;      /* pages.c: logo, CSP, texts */
	struct gw_audit *audit;      /* audit.c: JSON lines */
	struct bd_keyproc *keyproc;  /* keyproc.c: opens sealed server keys (the keyring owns it) */
};

/*
 * Load the configuration at PATH and all that is built from it: keys, store
 * (the embedded one is OBJECTS when not NULL), pages, audit log. With OLD, the
 * settings that need a restart keep OLD's values, each difference logged, and
 * an unchanged audit log stays open. CHECK_ONLY (-t) opens no log file.
 * NULL with ERR when anything does not load.
 */
struct gw_runtime *gw_runtime_load(const char *path, const struct gw_runtime *old,
                                   struct bd_objstore *objects, int check_only,
                                   struct bd_error *err);
/* Start RT's key process (again: the daemon makes its own, as its child, before threads). */
int gw_runtime_restart_keyproc(struct gw_runtime *rt, struct bd_error *err);
/* Make RT the one new requests get (takes over the caller's reference; NULL at exit). */
void gw_runtime_install(struct gw_runtime *rt);
/* A reference to the runtime in force; let go with gw_runtime_release. */
struct gw_runtime *gw_runtime_get(void);
struct gw_runtime *gw_runtime_hold(struct gw_runtime *rt);
void gw_runtime_release(struct gw_runtime *rt);

/*
 * keyproc.c: the key process that holds the gateway secret keys. Start one for
 * the key directory DIR, dropping to USER, as KR's opener (the keyring owns it);
 * NULL with ERR (the key process's own reason) when it did not come up.
 * gw_keyproc_main is that process, run as "bestanden-gateway --key-process".
 */
struct bd_keyproc *gw_keyproc_start(struct bd_keyring *kr, const char *dir, const char *user,
                                    struct bd_error *err);
void gw_keyproc_foreground(int on); /* key processes log to standard error too (-f) */
int gw_keyproc_main(int argc, char **argv);

/* The runtime a request began with. */
static inline struct gw_runtime *gw_request_runtime(const struct gw_request *r)
{
	return r->ctx;
}

/* objects.c: the object API under /v1/objects, when [storage] driver = gateway */
struct gw_objects;
/* The embedded store in DATA_DIR and the API token from TOKEN_FILE (read now, as root). */
struct gw_objects *gw_objects_open(const char *data_dir, const char *token_file,
                                   struct bd_error *err);
void gw_objects_close(struct gw_objects **o);
struct bd_objstore *gw_objects_store(struct gw_objects *o);
/* [gateway] failed_lookups_per_minute, for wrong tokens; O may be NULL. */
void gw_objects_set_rate(struct gw_objects *o, unsigned per_minute);
/* Adds the /v1/objects routes; they exist only while O is not NULL. */
void gw_objects_register(struct gw_server *srv, struct gw_objects *o);

/* download.c: GET /d/<token> (the page), /d/<token>/<n> (a file), /d/<token>/all (zip),
 * /logo, the security headers of every response (HTTPS: TLS is on here), and the
 * redaction of link tokens in logged text. Keeps the failed-lookup counts. */
struct gw_download;
struct gw_download *gw_download_register(struct gw_server *srv, int https);
void gw_download_free(struct gw_download **d);
/* [gateway] failed_lookups_per_minute (at start and on every reload); counts are kept. */
void gw_download_set_rate(struct gw_download *d, unsigned per_minute);
/*
 * The failed-lookup limit of link tokens, one count per client for /d/ and /u/ together.
 * TOKEN (NULL: not even the form of one) is checked against the link keys in force: a
 * genuine one, expired or not, is GW_LINK_GENUINE and never counted nor held back. Any
 * other is GW_LINK_LIMITED (answer 429; counted in the metrics and the log line) while
 * CLIENT has used up its failed lookups, else it is counted and GW_LINK_FORGED (answer 404).
 */
enum gw_link_check { GW_LINK_GENUINE, GW_LINK_FORGED, GW_LINK_LIMITED };
enum gw_link_check gw_link_check(struct gw_download *dl, struct gw_request *r, const char *token,
                                 const struct sockaddr *client);
/* Blank out link tokens ("/d/<token>") in TEXT, in place. */
void gw_download_redact(char *text);
/* Answer with PAGE (pages.h; its body is handed on): type, language, CSP, robots. */
struct gw_html;
enum MHD_Result gw_respond_page(struct gw_request *r, struct gw_html *page);
/* The client of R for the audit trail and rate limits: the peer, or behind a trusted proxy
 * the address it names (kept in FORWARDED). */
const struct sockaddr *gw_request_client(struct gw_request *r, struct sockaddr_storage *forwarded);
/* The language of R's pages: ?lang=, then Accept-Language, then [gateway] language. */
const char *gw_request_language(struct gw_request *r);
/* 0 when R says it comes from another site than [gateway] public_url's origin (Origin, or
 * Sec-Fetch-Site cross-site). No Origin, and "Origin: null" (what a browser sends under our
 * pages' Referrer-Policy no-referrer), pass: a form field bound to the page must decide. */
int gw_request_same_site(struct gw_request *r);

/* upload.c: GET /u/<token> (the upload page; inert) and POST /u/<token> (the upload,
 * streamed, encrypted and stored as it arrives; the requester told by mail), and the
 * redaction of their tokens. Failed lookups count in DL's limit (gw_link_check). */
void gw_upload_register(struct gw_server *srv, struct gw_download *dl);

/* sweep.c: the periodic sweep of expired packages, with the runtime in force */
struct gw_sweeper;
struct gw_sweeper *gw_sweep_start(struct bd_error *err);
void gw_sweep_stop(struct gw_sweeper **sw);
struct gw_sweep_report {
	int64_t at; /* unix seconds the last sweep ran; 0: none yet */
	int ok;     /* it judged and deleted everything it meant to */
	struct bd_sweep_stats stats;
};
/* The last sweep's report into OUT; 0 when none has run yet. */
int gw_sweep_last(struct gw_sweep_report *out);

/* admin.c: the admin API under /admin/v1 (docs/API.md), on its own listener ([admin] listen).
 * TOKEN_FILE is read now (as root); NULL with ERR when it is missing or loosely protected. */
struct gw_admin;
struct gw_admin *gw_admin_open(const char *token_file, struct bd_error *err);
void gw_admin_close(struct gw_admin **a);
/* Adds the admin routes and the redaction of links in admin URLs to SRV. */
void gw_admin_register(struct gw_server *srv, struct gw_admin *a);

#endif
