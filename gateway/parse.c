/*
 * parse.c - the request's target, Range and Accept-Language (parse.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The token at the start of REST, up to a '/' or the end, into TOKEN: its length, or -1. */
static int take_token(const char *rest, char token[BD_TOKEN_MAX_CHARS + 1])
{
	size_t n = strcspn(rest, "/");

	if (n != BD_TOKEN_MAX_CHARS)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)rest[i]) && rest[i] != '-' && rest[i] != '_')
			return -1;
	memcpy(token, rest, n);
	token[n] = '\0';
	return (int)n;
}

int gw_parse_download_target(const char *rest, char token[BD_TOKEN_MAX_CHARS + 1],
                             enum gw_target_kind *kind, unsigned *index)
{
	int n = take_token(rest, token);
	const char *after = rest + n;

	if (n < 0)
		return -1;
	if (after[0] == '\0' || strcmp(after, "/") == 0) {
		*kind = T_PAGE;
		return 0;
	}
	after++;
	if (strcmp(after, "all") == 0) {
		*kind = T_ALL;
		return 0;
	}
	if (after[0] < '1' || after[0] > '9' || strlen(after) > 7)
		return -1;
	for (const char *p = after; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	*kind = T_FILE;
	*index = (unsigned)strtoul(after, NULL, 10);
	return *index <= GW_INDEX_MAX ? 0 : -1;
}

int gw_parse_upload_target(const char *rest, char token[BD_TOKEN_MAX_CHARS + 1])
{
	int n = take_token(rest, token);

	if (n < 0 || (rest[n] != '\0' && strcmp(rest + n, "/") != 0))
		return -1;
	return 0;
}

/* The number at *S into *V, moving *S past it: 1; 0 when no digit is there; -1 if too large. */
static int range_number(const char **s, unsigned long long *v)
{
	char *end;

	if (!isdigit((unsigned char)**s))
		return 0;
	errno = 0;
	*v = strtoull(*s, &end, 10);
	if (errno != 0)
		return -1;
	*s = end;
	return 1;
}

int gw_parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
	unsigned long long a = 0, b = 0;
	int has_a, has_b;

	if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	h += 6;
	while (*h == ' ')
		h++;
	has_a = range_number(&h, &a);
	if (has_a < 0 || *h++ != '-')
		return 0;
	has_b = range_number(&h, &b);
	if (has_b < 0)
		return 0;
	while (*h == ' ')
		h++;
	if (*h != '\0' || (!has_a && !has_b) || (has_a && has_b && b < a))
		return 0;
	if (!has_a) { /* the last B bytes */
		if (b == 0 || size == 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (a >= size)
		return -1;
	*first = a;
	*last = has_b && b < size - 1 ? b : size - 1;
	return 1;
}

static int lang_known(const char *s, size_t n)
{
	return n == 2 && (strncasecmp(s, "nl", 2) == 0 || strncasecmp(s, "en", 2) == 0);
}

const char *gw_pages_language(const char *arg, const char *accept, const char *def)
{
	const char *best = NULL;
	double best_q = 0;

	if (arg != NULL && (strcmp(arg, "nl") == 0 || strcmp(arg, "en") == 0))
		return strcmp(arg, "en") == 0 ? "en" : "nl";
	/* "en-GB,en;q=0.9,nl;q=0.8": the primary subtag with the highest q; ties go to the first.
	 */
	for (const char *p = accept; p != NULL && *p;) {
		size_t n, tag;
		double q = 1.0;
		const char *semi;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ",");
		tag = strcspn(p, "-;, ");
		if (tag > n)
			tag = n;
		semi = memchr(p, ';', n);
		if (semi != NULL) {
			/* within this entry only: a search to the end of the header would make
			 * a long one of many ";" entries cost quadratic time */
			const char *qs = memmem(semi, (size_t)(p + n - semi), "q=", 2);

			if (qs != NULL)
				q = strtod(qs + 2, NULL);
		}
		if (lang_known(p, tag) && q > best_q) {
			best_q = q;
			best = strncasecmp(p, "en", 2) == 0 ? "en" : "nl";
		}
		p += n;
	}
	if (best != NULL)
		return best;
	/* auto: Dutch only for a browser that asks for it */
	return strcmp(def, "nl") == 0 ? "nl" : "en";
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int gw_parse_form_field(const char *body, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);

	for (const char *p = body; p != NULL && *p;
	     p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		size_t n = 0;

		if (strncmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		for (const char *s = p + nl + 1; *s && *s != '&'; s++) {
			int c = (unsigned char)*s;

			if (c == '+') {
				c = ' ';
			} else if (c == '%') {
				if (!isxdigit((unsigned char)s[1]) ||
				    !isxdigit((unsigned char)s[2]))
					return -1;
				c = hex_value(s[1]) * 16 + hex_value(s[2]);
				s += 2;
			}
			if (c < 0x20 || c == 0x7f || n + 1 >= size)
				return -1;
			out[n++] = (char)c;
		}
		out[n] = '\0';
		return 0;
	}
	return -1;
}
