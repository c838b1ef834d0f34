/*
 * notice.h - the text that replaces the attachments: templates and insertion.
 *
 * Templates live in [notice] template_dir as notice.LANG.txt and
 * notice.LANG.html (LANG nl or en). bd_notice_load() reads and checks them
 * once (both languages for "auto"); rendering fills in the organisation, the
 * files with their sizes, the link and the expiry date, written the way the
 * language writes it. With both loaded, bd_notice_language_for() decides per
 * message whether Dutch alone will do or both go in, Dutch first.
 * Insertion puts the rendered notice into a text/plain or text/html body
 * part in 7-bit form (quoted-printable or base64), keeping its charset
 * when the notice fits in it. A struct bd_notice is read-only after loading
 * and may be shared between threads; bd_notice_free() releases it.
 *
 * Template syntax (deliberately tiny):
 *   {{organisation}} {{link}} {{expiry}} {{count}}  values
 *   {{#files}} ... {{name}} ... {{size}} ... {{/files}}  once per file
 *   {{#one}} ... {{/one}}  {{#many}} ... {{/many}}  when there is one file / several
 *   a line that starts with "##" is a comment and produces nothing.
 * The text template must have the line "<{{link}}>" (the URL alone on its
 * line, as mail clients recognise it); both must use {{link}}. In HTML every
 * value is escaped and everything non-ASCII becomes a character reference.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_NOTICE_H
#define BD_NOTICE_H

#include <gmime/gmime.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
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

/* Read DIR/notice.LANG.txt and DIR/notice.LANG.html (LANG "auto": nl and en);
 * errors name file and line. */
struct bd_notice *bd_notice_load(const char *dir, const char *lang, struct bd_error *err);
void bd_notice_free(struct bd_notice **n);
/* The first language loaded: "nl" or "en" (for "auto", "nl"). */
const char *bd_notice_language(const struct bd_notice *n);

/*
 * The languages for a message to the N RECIPIENTS under NOTICE's language
 * setting: nl and en as set; auto gives Dutch when every recipient outside
 * (direction.h, MILTER's internal_domains) is in dutch_domains, else both
 * (also when no recipient is known).
 */
enum bd_notice_languages bd_notice_language_for(const struct bd_conf_notice *notice,
                                                const struct bd_conf_milter *milter,
                                                const char *const *recipients, size_t n);

/* Rendered notice: text as UTF-8 with LF line ends, HTML as an ASCII-only snippet. */
char *bd_notice_render_text(const struct bd_notice *n, const struct bd_notice_vars *v);
char *bd_notice_render_html(const struct bd_notice *n, const struct bd_notice_vars *v);

/*
 * Append NOTICE (as rendered) to the text/plain PART: in the part's charset
 * if it can hold it, else the whole part becomes UTF-8; format=flowed is
 * respected; the result is quoted-printable (base64 if it was base64).
 */
int bd_notice_add_to_text(GMimePart *part, const char *notice, struct bd_error *err);
/* Insert SNIPPET before </body> of the text/html PART, or append it. */
int bd_notice_add_to_html(GMimePart *part, const char *snippet, struct bd_error *err);
/* A new text/plain; charset=utf-8 quoted-printable part holding NOTICE. */
GMimePart *bd_notice_new_text_part(const char *notice);

#endif
