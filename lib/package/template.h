/*
 * template.h - notice templates: load, check and render.
 *
 * Templates live in [notice] template_dir as NAME.LANG.txt and NAME.LANG.html
 * (LANG nl or en; NAME "notice" for the download notice, "request" for the
 * upload-request notice, "receipt" for the sender's download receipt). bd_notice_load() reads and
 * checks them once (both languages for "auto"); rendering fills in the organisation, the files with
 * their sizes, the link and the expiry date, written the way the language
 * writes it. A struct bd_notice is read-only after loading and may be shared
 * between threads; bd_notice_free() releases it.
 *
 * Template syntax (deliberately tiny):
 *   {{organisation}} {{link}} {{expiry}} {{count}}  values
 *   {{requester}} {{note}} {{max_size}} {{max_files}}  values of an upload request
 *   {{code}} {{minutes}}  a verification code and how long it is valid ("code")
 *   {{file}} {{when}} {{who}}  values of a receipt: the file, when it was downloaded, by whom
 *   {{recipients}}  the sender's management mail: to whom the message went
 *   {{#who}} ... {{/who}}  {{#anyone}} ... {{/anyone}}  a verified recipient / anyone else
 *   {{#files}} ... {{name}} ... {{size}} ... {{/files}}  once per file
 *   {{#one}} ... {{/one}}  {{#many}} ... {{/many}}  when there is one file / several
 *   {{#note}} ... {{/note}}  when there is a note
 *   a line that starts with "##" is a comment and produces nothing.
 * The text template of a notice or request must have the line "<{{link}}>"
 * (the URL alone on its line, as mail clients recognise it); both must use
 * {{link}}. In HTML every
 * value is escaped and everything non-ASCII becomes a character reference.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_TEMPLATE_H
#define BD_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"

struct bd_notice;

struct bd_notice_file {
	const char *name; /* sanitised, UTF-8 */
	uint64_t size;    /* bytes */
};

/* The languages one message's notice is written in. */
enum bd_notice_languages {
	BD_NOTICE_LOADED, /* every language loaded: for "auto" Dutch, then English */
	BD_NOTICE_NL,
	BD_NOTICE_EN,
};

struct bd_notice_vars {
	const char *organisation;
	const char *link;
	time_t expires;
	size_t nfiles;
	const struct bd_notice_file *files;
	enum bd_notice_languages languages; /* one not loaded: the first loaded */
};

/* What the "request" templates say of an upload request. */
struct bd_notice_request {
	const char *requester;
	const char *note; /* or NULL */
	uint64_t max_size;
	size_t max_files;
};

/* What the "code" templates say: a recipient's verification code. */
struct bd_notice_code {
	const char *code;
	unsigned minutes;
};

/* What the "receipt" templates say of one complete download. */
struct bd_notice_receipt {
	const char *file; /* its name */
	time_t when;
	const char *who; /* the verified address, or NULL: "someone with the link" */
};

/* Read DIR/notice.LANG.txt and DIR/notice.LANG.html (LANG "auto": nl and en);
 * errors name file and line. */
struct bd_notice *bd_notice_load(const char *dir, const char *lang, struct bd_error *err);
/* The same for the templates called NAME ("notice", "request"). */
struct bd_notice *bd_notice_load_named(const char *dir, const char *name, const char *lang,
                                       struct bd_error *err);
void bd_notice_free(struct bd_notice **n);
/* The first language loaded: "nl" or "en" (for "auto", "nl"). */
const char *bd_notice_language(const struct bd_notice *n);

/* Rendered notice: text as UTF-8 with LF line ends, HTML as an ASCII-only snippet. */
char *bd_notice_render_text(const struct bd_notice *n, const struct bd_notice_vars *v);
char *bd_notice_render_html(const struct bd_notice *n, const struct bd_notice_vars *v);
/* The same with an upload request's values (RQ may be NULL: they render empty). */
char *bd_notice_render_request_text(const struct bd_notice *n, const struct bd_notice_vars *v,
                                    const struct bd_notice_request *rq);
char *bd_notice_render_request_html(const struct bd_notice *n, const struct bd_notice_vars *v,
                                    const struct bd_notice_request *rq);
/* The same with a verification code's values. */
char *bd_notice_render_code_text(const struct bd_notice *n, const struct bd_notice_vars *v,
                                 const struct bd_notice_code *code);
char *bd_notice_render_code_html(const struct bd_notice *n, const struct bd_notice_vars *v,
                                 const struct bd_notice_code *code);

/* The sender's management mail ("manage"): V's files, expiry and link, and RECIPIENTS
 * ("a@example.nl, b@example.nl") for {{recipients}}; text (HTML 0) or HTML snippet. */
char *bd_notice_render_manage(const struct bd_notice *n, const struct bd_notice_vars *v,
                              const char *recipients, int html);
/* A receipt, text (HTML 0) or HTML snippet (HTML 1). */
char *bd_notice_render_receipt(const struct bd_notice *n, const struct bd_notice_vars *v,
                               const struct bd_notice_receipt *rc, int html);

#endif
