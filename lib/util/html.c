/*
 * html.c - escaping text for HTML (see html.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "html.h"

void bd_html_append_escaped(GString *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		case '\'': g_string_append(out, "&#39;"); break;
		default:
			/* no control character has a place in a page */
			g_string_append_c(out, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
		}
	}
}
