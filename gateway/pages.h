/*
 * pages.h - the HTML a recipient sees: the landing page of a link and the
 * pages for expired, unknown, unavailable and refused links, in Dutch or
 * English. Rendering is separate from answering, so tests can read the HTML.
 * Rendered pages are g_malloc'ed strings (g_free); a struct gw_pages holds
 * what is read once at start-up (logo, the inline style's CSP hash).
 */
#ifndef GW_PAGES_H
#define GW_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "gateway.h"
#include "manifest.h"

enum gw_page {
	GW_PAGE_EXPIRED,     /* 410: a genuine link past its date */
	GW_PAGE_NOT_FOUND,   /* 404: forged, tampered, unknown, revoked - all alike */
	GW_PAGE_UNAVAILABLE, /* 503: storage failed */
	GW_PAGE_ERROR,       /* 500: anything else */
	GW_PAGE_TOO_MANY,    /* 429: too many failed lookups from this address */
};

struct gw_pages;

struct gw_pages *gw_pages_new(const struct bd_conf *conf, struct bd_error *err);
void gw_pages_free(struct gw_pages **p);

/* "nl" or "en": ?lang= first, then Accept-Language (q-values), then DEF
 * ("nl", "en", or "auto": then "en"). */
const char *gw_pages_language(const char *lang_arg, const char *accept_language, const char *def);

/* The landing page of a package; TOKEN goes into the download links only. */
char *gw_pages_render_landing(const struct gw_pages *p, const char *lang, const char *token,
                              const struct bd_manifest *m, size_t *len);
/* EXPIRES is shown on the expired page when it is not 0. */
char *gw_pages_render_error(const struct gw_pages *p, const char *lang, enum gw_page which,
                            int64_t expires, size_t *len);

/* Render and queue; the status follows from WHICH. */
enum MHD_Result gw_pages_respond_landing(struct gw_request *r, const char *lang, const char *token,
                                         const struct bd_manifest *m);
enum MHD_Result gw_pages_respond_error(struct gw_request *r, const char *lang, enum gw_page which,
                                       int64_t expires);

/* The name a zip of all files is saved under. */
const char *gw_pages_zip_name(const char *lang);

#endif
