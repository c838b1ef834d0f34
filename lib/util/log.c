/*
 * log.c - syslog or stderr, one line per event (see log.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool to_stderr = true;
static bool debug;
static char ident_buf[64] = "bestanden";
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

void bd_log_open(const char *ident, bool foreground)
{
	snprintf(ident_buf, sizeof(ident_buf), "%s", ident);
	to_stderr = foreground;
	if (!foreground)
		openlog(ident_buf, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void bd_log_set_debug(bool on)
{
	debug = on;
}

static const char *level_name(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT: return "crit";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void bd_log(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (priority == LOG_DEBUG && !debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One event, one line: newlines from error texts become spaces. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (to_stderr) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		pthread_mutex_lock(&stderr_lock);
		fprintf(stderr, "%s %s level=%s %s\n", ts, ident_buf, level_name(priority), line);
		fflush(stderr);
		pthread_mutex_unlock(&stderr_lock);
	} else {
		syslog(priority, "level=%s %s", level_name(priority), line);
	}
}

void bd_log_kv_str(char *buf, size_t size, const char *key, const char *value)
{
	size_t used = strlen(buf);
	bool quote = *value == '\0';

	for (const char *p = value; *p && !quote; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
			quote = true;
	if (used >= size)
		return;
	if (!quote) {
		snprintf(buf + used, size - used, " %s=%s", key, value);
		return;
	}
	used += (size_t)snprintf(buf + used, size - used, " %s=\"", key);
	for (const char *p = value; *p && used + 3 < size; p++) {
		if (*p == '"' || *p == '\\')
			buf[used++] = '\\';
		buf[used++] = (unsigned char)*p < 0x20 ? '?' : *p;
	}
	if (used + 1 < size)
		buf[used++] = '"';
	buf[used < size ? used : size - 1] = '\0';
}

void bd_log_check_problem(void *ctx, const char *problem)
{
	char kv[2100] = "";

	(void)ctx;
	bd_log_kv_str(kv, sizeof(kv), "problem", problem);
	bd_log(LOG_ERR, "event=check%s", kv);
}
