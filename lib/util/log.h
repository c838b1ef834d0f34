/*
 * log.h - event logging for the daemons.
 *
 * One line per event in key=value form, to syslog (mail facility) or to
 * stderr when a daemon runs in the foreground. Values with spaces or quotes
 * are quoted by bd_log_kv_str(). Never pass secrets (tokens, keys, link
 * secrets) to these functions: log package ids instead.
 * Library modules do not log; they return errors to the daemon, which logs.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_LOG_H
#define BD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* IDENT is the program name; FOREGROUND sends lines to stderr instead of syslog. */
void bd_log_open(const char *ident, bool foreground);
void bd_log_set_debug(bool on);
/* PRIORITY is a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
void bd_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append ` KEY=VALUE` to BUF (of SIZE), quoting VALUE if it needs it. */
void bd_log_kv_str(char *buf, size_t size, const char *key, const char *value);
/* A bd_conf_report_fn for `-t`: one line `event=check problem="PROBLEM"` (LOG_ERR). */
void bd_log_check_problem(void *ctx, const char *problem);

#endif
