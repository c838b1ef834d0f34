/*
 * mem.h - allocation that never returns NULL.
 *
 * Like Postfix's mymalloc(): running out of memory is not a condition the
 * mail path can handle sensibly, so these abort with a message instead of
 * returning NULL. Memory for secrets comes from bd_secret_alloc() (guarded
 * sodium_malloc pages, locked, wiped on free).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_MEM_H
#define BD_MEM_H

#include <stddef.h>

void *bd_malloc(size_t n);
void *bd_calloc(size_t count, size_t n);
void *bd_realloc(void *p, size_t n);
char *bd_strdup(const char *s);
char *bd_strndup(const char *s, size_t n);
char *bd_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Secret memory: sodium_malloc'ed, wiped and released by bd_secret_free. */
void *bd_secret_alloc(size_t n);
void bd_secret_free(void *p);

#endif
