/*
 * names.c - making a name unique in a list (see names.h).
 *
 * The taken names are folded once per call into a hash set; candidates are
 * folded the same way and looked up.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "names.h"
#include "mem.h"

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The form two names are compared in: valid UTF-8, case folded, NFC. */
static char *fold(const char *name)
{
	char *valid = g_utf8_make_valid(name, -1);
	char *folded = g_utf8_casefold(valid, -1);
	char *key = g_utf8_normalize(folded, -1, G_NORMALIZE_DEFAULT_COMPOSE);

	g_free(valid);
	g_free(folded);
	return key;
}

static bool is_taken(GHashTable *set, const char *name)
{
	char *key = fold(name);
	bool taken = g_hash_table_contains(set, key);

	g_free(key);
	return taken;
}

/* How many bytes of the LEN-byte stem S fit in ROOM: all, or a cut at a character
 * boundary without the spaces the cut left at its end. */
static int stem_fit(const char *s, size_t len, size_t room)
{
	const char *end = s;

	if (len <= room)
		return (int)len;
	while ((size_t)(g_utf8_next_char(end) - s) <= room)
		end = g_utf8_next_char(end);
	while (end > s && end[-1] == ' ')
		end--;
	return (int)(end - s);
}

char *bd_names_unique(const char *name, char *const *taken, size_t n, size_t max)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	const char *ext = strrchr(name, '.');
	size_t stemlen;
	char *candidate;

	for (size_t i = 0; i < n; i++)
		if (taken[i] != NULL)
			g_hash_table_add(set, fold(taken[i]));
	/* no extension, or one too long to keep whole within MAX */
	if (ext == NULL || ext == name || (max > 0 && strlen(ext) + 16 > max))
		ext = name + strlen(name);
	stemlen = (size_t)(ext - name);
	candidate = bd_strdup(name);
	for (unsigned k = 2; is_taken(set, candidate); k++) {
		char suffix[16];
		size_t fixed;
		int len = (int)stemlen;

		snprintf(suffix, sizeof(suffix), " (%u)", k);
		fixed = strlen(suffix) + strlen(ext);
		if (max > 0)
			len = stem_fit(name, stemlen, max > fixed ? max - fixed : 0);
		free(candidate);
		candidate = bd_asprintf("%.*s%s%s", len, name, suffix, ext);
	}
	g_hash_table_destroy(set);
	return candidate;
}
