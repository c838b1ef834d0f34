/*
 * strlist.h - a list of words, as list-valued settings hold them.
 *
 * The strings belong to whoever filled the list (the configuration frees
 * its own lists); this module only reads them.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_STRLIST_H
#define BD_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

struct bd_strlist {
	size_t n;
	char **v;
};

/* True when S is one of the words of LIST, ignoring ASCII case. */
bool bd_strlist_contains(const struct bd_strlist *list, const char *s);

#endif
