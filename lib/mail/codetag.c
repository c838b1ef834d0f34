/*
 * codetag.c - taking the sender's "[TAG:code]" out of a Subject (codetag.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "codetag.h"
#include "mem.h"

#include <gmime/gmime.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first tag with a code in S: where it starts, its length, and where its code is. */
static const char *find_tag(const char *tag, const char *s, size_t *len, const char **code,
                            size_t *codelen)
{
	size_t tl = strlen(tag);

	for (const char *p = strchr(s, '['); p != NULL; p = strchr(p + 1, '[')) {
		const char *c, *close;

		if (strncasecmp(p + 1, tag, tl) != 0 || p[1 + tl] != ':')
			continue;
		c = p + 2 + tl;
		close = strchr(c, ']');
		if (close == NULL)
			return NULL;
		for (const char *q = c; q < close; q++)
			if (!blank(*q)) {
				*len = (size_t)(close + 1 - p);
				*code = c;
				*codelen = (size_t)(close - c);
				return p;
			}
		p = close; /* "[code:]": no tag */
	}
	return NULL;
}

/* S without LEN bytes at AT and the white space around them, joined by one space. */
static char *cut(const char *s, const char *at, size_t len)
{
	const char *left = at, *right = at + len;
	char *out;
	size_t n;

	while (left > s && blank(left[-1]))
		left--;
	while (blank(*right))
		right++;
	n = (size_t)(left - s);
	out = bd_malloc(n + 1 + strlen(right) + 1);
	memcpy(out, s, n);
	if (n > 0 && *right != '\0')
		out[n++] = ' ';
	strcpy(out + n, right);
	return out;
}

/* Every tag out of S into *OUT; the first code into CODE. 0 none, 1 found, -1 unusable. */
static int take(const char *tag, const char *s, char **out, char code[BD_ACCESS_CODE_MAX + 1],
                struct bd_error *err)
{
	char *cur = bd_strdup(s);
	const char *at, *c;
	size_t len, clen;
	int found = 0;

	while ((at = find_tag(tag, cur, &len, &c, &clen)) != NULL) {
		char *next;

		if (!found) {
			char *raw = bd_strndup(c, clen);
			int rc = bd_access_code_normalise(raw, code, err);

			sodium_memzero(raw, clen);
			free(raw);
			if (rc < 0) {
				free(cur);
				return -1;
			}
			found = 1;
		}
		next = cut(cur, at, len);
		free(cur);
		cur = next;
	}
	if (!found) {
		free(cur);
		return 0;
	}
	*out = cur;
	return 1;
}

int bd_codetag_take(const char *tag, const char *subject, char **new_subject,
                    char code[BD_ACCESS_CODE_MAX + 1], struct bd_error *err)
{
	char *decoded, *plain = NULL, *encoded;
	int rc;

	*new_subject = NULL;
	sodium_memzero(code, BD_ACCESS_CODE_MAX + 1);
	if (tag == NULL || *tag == '\0' || subject == NULL)
		return 0;
	rc = take(tag, subject, new_subject, code, err);
	if (rc != 0 || strstr(subject, "=?") == NULL)
		goto out;
	/* the tag may be inside encoded words: look in the decoded text */
	decoded = g_mime_utils_header_decode_text(NULL, subject);
	rc = take(tag, decoded, &plain, code, err);
	g_free(decoded);
	if (rc != 1)
		goto out;
	encoded = g_mime_utils_header_encode_text(NULL, plain, "utf-8");
	free(plain);
	/* one line: the MTA folds it if it must */
	*new_subject = bd_malloc(strlen(encoded) + 1);
	{
		char *w = *new_subject;

		for (const char *p = encoded; *p; p++)
			if (*p != '\r' && *p != '\n')
				*w++ = *p;
		*w = '\0';
	}
	g_free(encoded);
	/* encoding may begin with the space that folding left: not part of the value */
	if ((*new_subject)[0] == ' ' || (*new_subject)[0] == '\t')
		memmove(*new_subject, *new_subject + 1, strlen(*new_subject));
out:
	if (rc != 1)
		sodium_memzero(code, BD_ACCESS_CODE_MAX + 1);
	return rc;
}
