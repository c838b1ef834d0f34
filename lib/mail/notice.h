/*
 * notice.h - the text that replaces the attachments, put into the message.
 *
 * The templates are loaded and rendered by template.h (the package layer, so
 * the gateway's own mail uses them too). With both languages loaded,
 * bd_notice_language_for() decides per message whether Dutch alone will do
 * or both go in, Dutch first. Insertion puts the rendered notice into a
 * text/plain or text/html body part in 7-bit form (quoted-printable or
 * base64), keeping its charset when the notice fits in it.
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
#include "template.h"

/*
 * The languages for a message to the N RECIPIENTS under NOTICE's language
 * setting: nl and en as set; auto gives Dutch when every recipient outside
 * (direction.h, MILTER's internal_domains) is in dutch_domains, else both
 * (also when no recipient is known).
 */
enum bd_notice_languages bd_notice_language_for(const struct bd_conf_notice *notice,
                                                const struct bd_conf_milter *milter,
                                                const char *const *recipients, size_t n);

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
