/*
 * names.h - one name per file in a list of files.
 *
 * Two names collide when they are equal after Unicode case folding and NFC
 * normalisation: "Ä.pdf" and "ä.pdf" are one file on Windows and macOS, so a
 * zip or a download folder must not get both. Callers pass names in the exact
 * form they will write them (a zip entry name, a Content-Disposition name):
 * what is compared is what is written. Returned strings are malloc'ed.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_NAMES_H
#define BD_NAMES_H

#include <stddef.h>

/*
 * NAME if it collides with none of the N names in TAKEN (NULL entries are
 * skipped), else the first free "stem (2).ext", "stem (3).ext", ... (the
 * extension is what follows the last dot, unless that dot starts the name).
 * MAX > 0: a generated name has at most MAX bytes (the stem is shortened at a
 * character boundary); NAME itself is never shortened.
 */
char *bd_names_unique(const char *name, char *const *taken, size_t n, size_t max);

#endif
