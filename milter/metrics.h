/*
 * metrics.h - the milter's counters, and GET /metrics to read them in the
 * Prometheus text format (0.0.4) when [milter] metrics_listen is set.
 *
 * Process-wide and thread-safe: libmilter's worker threads count, the HTTP
 * thread reads. Counts live as long as the filter process: a reload keeps
 * them, and a rule that a reload removes keeps its count until restart.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_MILTER_METRICS_H
#define BD_MILTER_METRICS_H

#include <glib.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"

/* The rule label of a message that no [rule NAME] section decided. */
#define BD_METRICS_NO_RULE "policy"

/* What the MTA was told at end of message: each message counts once. */
enum bd_metrics_outcome {
	BD_OUTCOME_REWRITTEN,  /* delivered with its attachments replaced (or as an upload request)
	                        */
	BD_OUTCOME_UNCHANGED,  /* delivered as it came (also after an error, failure_mode = accept)
	                        */
	BD_OUTCOME_REJECTED,   /* refused for good (5xx) */
	BD_OUTCOME_TEMPFAILED, /* held back (4xx) */
	BD_OUTCOME_COUNT
};

/* Why a message could not be handled as its policy said. */
enum bd_metrics_failure {
	BD_FAILED_SPOOL,     /* the message could not be spooled */
	BD_FAILED_STORAGE,   /* storing its attachments failed */
	BD_FAILED_MALFORMED, /* its MIME could not be read ([policy] malformed = tempfail) */
	BD_FAILED_TIMEOUT,   /* not finished within [milter] timeout */
	BD_FAILED_MTA,       /* the MTA refused a change */
	BD_FAILED_REQUEST,   /* an upload request could not be prepared or applied */
	BD_FAILED_COUNT
};

/* Show every rule of RULES with a count (0 until it decides a message); names seen before stay. */
void bd_metrics_add_rules(const struct bd_conf_rules *rules);
/* A policy decision: RULE (BD_METRICS_NO_RULE when none) decided ACTION ("pass", "replace",
 * "block", "tempfail"). */
void bd_metrics_decision(const char *rule, const char *action);
void bd_metrics_outcome(enum bd_metrics_outcome o);
void bd_metrics_failure(enum bd_metrics_failure f);
/* Attachments replaced by a link, and their decoded bytes. */
void bd_metrics_replaced(unsigned files, uint64_t bytes);

/* VALUE as a label value between double quotes: backslash, '"' and newline escaped. */
void bd_metrics_append_label(GString *out, const char *value);
/* Every counter in the text format; free with g_free. */
char *bd_metrics_render(size_t *len);

/* Serve GET /metrics on FD, a listening socket (bd_listen_tcp), from a thread of its own. */
int bd_metrics_start(int fd, struct bd_error *err);
void bd_metrics_stop(void);

#endif
