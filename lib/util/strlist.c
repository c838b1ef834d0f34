/*
 * strlist.c - a list of words (see strlist.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "strlist.h"

#include <strings.h>

bool bd_strlist_contains(const struct bd_strlist *list, const char *s)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcasecmp(list->v[i], s) == 0)
			return true;
	return false;
}
