/*
 * pages.h - the HTML a recipient sees: the landing page of a link and the
 * pages for expired, unknown, unavailable and refused links, in Dutch or
 * English. Pages only render: a page comes out as a struct gw_html (status,
 * headers, body) that the handler (download.c) turns into a response, so
 * nothing here needs the HTTP core and tests read the HTML straight.
 * Rendered pages are g_malloc'ed strings (g_free); a struct gw_pages holds
 * what is read when the settings are loaded (logo, the inline style's CSP hash).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_PAGES_H
#define GW_PAGES_H

#include "parse.h"
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "conf.h"
#include "error.h"
#include "events.h"
#include "manifest.h"
#include "request.h"

enum gw_page {
	GW_PAGE_EXPIRED,     /* 410: a genuine link past its date */
	GW_PAGE_NOT_FOUND,   /* 404: forged, tampered, unknown, revoked - all alike */
	GW_PAGE_UNAVAILABLE, /* 503: storage failed */
	GW_PAGE_ERROR,       /* 500: anything else */
	GW_PAGE_TOO_MANY,    /* 429: too many failed lookups from this address */
	GW_PAGE_WITHDRAWN,   /* 410: the sender withdrew the package (its /m/ link) */
	GW_PAGE_LIMIT,       /* 410: downloaded as often as the sender allowed */
	GW_PAGES_ERRORS
};

struct gw_pages;

/* Uses organisation, public_url (its path) and logo. */
struct gw_pages *gw_pages_new(const struct bd_conf_gateway *conf, struct bd_error *err);
void gw_pages_free(struct gw_pages **p);

/* The landing page of a package; TOKEN goes into the download links only. */
char *gw_pages_render_landing(const struct gw_pages *p, const char *lang, const char *token,
                              const struct bd_manifest *m, size_t *len);
/* EXPIRES is shown on the expired page when it is not 0. */
char *gw_pages_render_error(const struct gw_pages *p, const char *lang, enum gw_page which,
                            int64_t expires, size_t *len);

/* A page as answered: the body is g_malloc'ed (the caller frees it or hands it on). */
struct gw_html {
	unsigned status;
	const char *lang; /* Content-Language */
	const char *csp;  /* the page's Content-Security-Policy; lives as long as the gw_pages */
	int retry_after;  /* seconds for Retry-After; 0: none */
	char *body;
	size_t len;
};

/* The landing page (200) and the refusals (410, 404, 503, 500, 429 by WHICH). */
void gw_pages_landing(const struct gw_pages *p, const char *lang, const char *token,
                      const struct bd_manifest *m, struct gw_html *out);
void gw_pages_error(const struct gw_pages *p, const char *lang, enum gw_page which, int64_t expires,
                    struct gw_html *out);

/* ---- upload requests (upload.c) ---- */

/* Why an upload was refused; every one leaves nothing in storage. */
enum gw_upload_refusal {
	GW_UPLOAD_FILE_TOO_LARGE, /* 413: one file past max_file_size */
	GW_UPLOAD_TOO_LARGE,      /* 413: all files past max_total_size */
	GW_UPLOAD_TOO_MANY,       /* 413: past max_files */
	GW_UPLOAD_EXPIRED,        /* 410: the request's link has expired */
	GW_UPLOAD_EMPTY,          /* 400: no file chosen */
	GW_UPLOAD_UNAVAILABLE,    /* 503: storage, the virus scanner or the MTA failed */
	GW_UPLOAD_INFECTED,       /* 422: the virus scanner found something in a file */
	GW_UPLOAD_REFUSALS
};

/* What a refusal page names. */
struct gw_upload_limits {
	const char *file; /* the file that was too large, or NULL */
	uint64_t max_file_size, max_total_size;
	unsigned max_files;
};

/* The upload page of request R (200): who asks, the note, limits, expiry, a plain form
 * that posts to /u/TOKEN; its CSP admits the form. */
void gw_pages_upload(const struct gw_pages *p, const char *lang, const char *token,
                     const struct bd_request *r, struct gw_html *out);
/* The files received (200); REQUESTER has been told. */
void gw_pages_upload_done(const struct gw_pages *p, const char *lang, const char *requester,
                          const struct bd_manifest *m, struct gw_html *out);
/* A refused upload, by WHY; TOKEN (or NULL) for the way back to the form. */
void gw_pages_upload_refused(const struct gw_pages *p, const char *lang, const char *token,
                             enum gw_upload_refusal why, const struct gw_upload_limits *lim,
                             struct gw_html *out);
char *gw_pages_render_upload(const struct gw_pages *p, const char *lang, const char *token,
                             const struct bd_request *r, size_t *len);
char *gw_pages_render_upload_done(const struct gw_pages *p, const char *lang, const char *requester,
                                  const struct bd_manifest *m, size_t *len);
char *gw_pages_render_upload_refused(const struct gw_pages *p, const char *lang, const char *token,
                                     enum gw_upload_refusal why, const struct gw_upload_limits *lim,
                                     size_t *len);

/* ---- verification before a package's files (verify.c) ---- */

enum gw_verify_step {
	GW_VERIFY_ASK_ADDRESS,  /* 200: which e-mail address the message came to */
	GW_VERIFY_ASK_CODE,     /* 200: a code went there if it is a recipient; enter it */
	GW_VERIFY_WRONG_CODE,   /* 403: wrong, expired or tried too often; again or a new one */
	GW_VERIFY_ASK_ACCESS,   /* 200: the code the sender gave */
	GW_VERIFY_WRONG_ACCESS, /* 403: not the sender's code */
	GW_VERIFY_LOCKED,       /* 429: too many wrong codes from here; until a time */
	GW_VERIFY_STALE,        /* 403: the form was too old or came from elsewhere */
	GW_VERIFY_BUSY,         /* 429: too many tries from this address or for this link */
	GW_VERIFY_STEPS
};

/* What a verification page fills in; strings may be NULL where the step has none. */
struct gw_verify_form {
	const char *token;   /* the link's: the form posts to /d/TOKEN */
	const char *form;    /* the form token (verify.c), a hidden field */
	const char *address; /* as typed, shown and kept in the code form */
	unsigned minutes;    /* how long a mailed code is valid */
	int64_t until;       /* GW_VERIFY_LOCKED: when the lock ends */
};

void gw_pages_verify(const struct gw_pages *p, const char *lang, enum gw_verify_step step,
                     const struct gw_verify_form *f, struct gw_html *out);
char *gw_pages_render_verify(const struct gw_pages *p, const char *lang, enum gw_verify_step step,
                             const struct gw_verify_form *f, size_t *len);
/* The path part of [gateway] public_url: "" or "/prefix". */
const char *gw_pages_base_path(const struct gw_pages *p);

/* ---- the sender's management page (manage.c) ---- */

/* What the status page shows beside the manifest. */
struct gw_manage_view {
	const char *token;             /* the /m/ token: the forms post to /m/TOKEN/... */
	const char *form;              /* the form field every POST must carry back */
	const struct bd_event *events; /* bd_events_list, oldest first */
	size_t nevents;
	unsigned max_days;   /* the most days Extend may add now; 0: it cannot */
	int64_t extended_to; /* not 0: a line on top says the expiry moved there */
};

/* The status page (200): files with their downloads, recipients, what happened, and the
 * Extend and Revoke forms; its CSP admits forms to this gateway and no script. */
void gw_pages_manage(const struct gw_pages *p, const char *lang, const struct bd_manifest *m,
                     const struct gw_manage_view *v, struct gw_html *out);
char *gw_pages_render_manage(const struct gw_pages *p, const char *lang,
                             const struct bd_manifest *m, const struct gw_manage_view *v,
                             size_t *len);
/* After Revoke (200): the files are gone, the recipients' link says so. */
void gw_pages_manage_revoked(const struct gw_pages *p, const char *lang, struct gw_html *out);
/* A POST that did not come from the page itself (403), or an extension past the
 * maximum (422, MAX_DATE the latest allowed): nothing changed. */
void gw_pages_manage_refused(const struct gw_pages *p, const char *lang, const char *token,
                             int64_t max_date, struct gw_html *out);

/* The headers every response carries (CSP unless set, nosniff, no-store ...); HSTS if HTTPS. */
void gw_pages_security_headers(struct MHD_Response *resp, int https);

/* The logo (served as /logo): 0 with its bytes and type, -1 when none is configured. */
int gw_pages_logo(const struct gw_pages *p, const uint8_t **data, size_t *len, const char **type);

/* The name a zip of all files is saved under. */
const char *gw_pages_zip_name(const char *lang);

#endif
