/*
 * format.c - sizes and dates the way people read them (see format.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "format.h"

#include <stdio.h>
#include <string.h>

void bd_format_size(const char *lang, uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
	char sep = strcmp(lang, "nl") == 0 ? ',' : '.';
	uint64_t unit = 1000;

	if (bytes < 1000) {
		snprintf(buf, size, "%llu %s", (unsigned long long)bytes,
		         bytes == 1 ? "byte" : "bytes");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++, unit *= 1000) {
		/* tenths of a unit, rounded half up */
		uint64_t tenths = bytes / (unit / 10) + (bytes % (unit / 10) >= unit / 20 ? 1 : 0);

		if (tenths < 100) {
			snprintf(buf, size, "%llu%c%llu %s", (unsigned long long)(tenths / 10), sep,
			         (unsigned long long)(tenths % 10), units[i]);
			return;
		}
		uint64_t whole = bytes / unit + (bytes % unit >= unit / 2 ? 1 : 0);

		if (whole < 1000 || i + 1 == sizeof(units) / sizeof(units[0])) {
			snprintf(buf, size, "%llu %s", (unsigned long long)whole, units[i]);
			return;
		}
	}
}

void bd_format_date(const char *lang, time_t when, char *buf, size_t size)
{
	static const char *const nl[] = {"januari",   "februari", "maart",    "april",
	                                 "mei",       "juni",     "juli",     "augustus",
	                                 "september", "oktober",  "november", "december"};
	static const char *const en[] = {"January",   "February", "March",    "April",
	                                 "May",       "June",     "July",     "August",
	                                 "September", "October",  "November", "December"};
	struct tm tm;

	localtime_r(&when, &tm);
	snprintf(buf, size, "%d %s %d", tm.tm_mday, (strcmp(lang, "nl") == 0 ? nl : en)[tm.tm_mon],
	         tm.tm_year + 1900);
}

/* HTML-escape VALUE into OUT (non-ASCII is handled for the whole snippet later). */
