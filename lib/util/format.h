/*
 * format.h - sizes and dates for people, in Dutch or English.
 *
 * The notice in the mail and the download page write them the same way, so
 * one module does it for both. LANG is "nl" or anything else for English.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_FORMAT_H
#define BD_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2,4 MB" (nl) or "2.4 MB" (en); decimal units. BUF of at least 32 bytes. */
void bd_format_size(const char *lang, uint64_t bytes, char *buf, size_t size);
/* "10 december 2026" (nl) or "10 December 2026" (en), in local time. */
void bd_format_date(const char *lang, time_t when, char *buf, size_t size);

#endif
