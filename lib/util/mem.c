/*
 * mem.c - allocation wrappers; abort on exhaustion (see mem.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "mem.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
	fprintf(stderr, "bestanden: out of memory allocating %zu bytes\n", n);
	abort();
}

void *bd_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		out_of_memory(n);
	return p;
}

void *bd_calloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);

	if (p == NULL)
		out_of_memory(count * n);
	return p;
}

void *bd_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		out_of_memory(n);
	return q;
}

char *bd_strdup(const char *s)
{
	return bd_strndup(s, strlen(s));
}

char *bd_strndup(const char *s, size_t n)
{
	char *p = bd_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *bd_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(strlen(fmt));
	return p;
}

void *bd_secret_alloc(size_t n)
{
	void *p;

	if (sodium_init() < 0) {
		fprintf(stderr, "bestanden: libsodium failed to initialise\n");
		abort();
	}
	p = sodium_malloc(n);
	if (p == NULL)
		out_of_memory(n);
	return p;
}

void bd_secret_free(void *p)
{
	sodium_free(p); /* wipes before releasing; NULL is fine */
}
