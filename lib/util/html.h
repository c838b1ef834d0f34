/*
 * html.h - text into HTML.
 *
 * The notice in the mail and the gateway's pages put names, links and dates
 * that came from elsewhere into HTML; both escape them here, the same way.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_HTML_H
#define BD_HTML_H

#include <glib.h>

/* Append S to OUT safe for HTML text and for quoted attribute values: & < > " '
 * become character references, control characters (C0 and DEL) a space. */
void bd_html_append_escaped(GString *out, const char *s);

#endif
