/*
 * metrics.c - the milter's counters and GET /metrics (metrics.h): messages by
 * the rule that decided them and its action, by what the MTA was told, the
 * failures by kind, and what was replaced. Counts only: no addresses, no
 * subjects, no file names. libmicrohttpd serves them from one thread.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "metrics.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "mem.h"

/* Distinct (rule, action) pairs kept; a reload adds its new ones. */
#define DECISION_SLOTS 512

static const char *const actions[] = {"pass", "replace", "block", "tempfail"};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

struct decision {
	char *rule;
	const char *action; /* one of actions[] */
	uint64_t count;
};

static struct {
	pthread_mutex_t lock; /* for decisions[] */
	struct decision decisions[DECISION_SLOTS];
	size_t ndecisions;
	uint64_t decisions_other; /* once every slot is taken */
	_Atomic uint64_t outcomes[BD_OUTCOME_COUNT];
	_Atomic uint64_t failures[BD_FAILED_COUNT];
	_Atomic uint64_t replaced_files;
	_Atomic uint64_t replaced_bytes;
	struct MHD_Daemon *daemon;
} m = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *known_action(const char *action)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (strcmp(actions[i], action) == 0)
			return actions[i];
	return NULL;
}

/* RULE's row for ACTION, added when new; NULL once every slot is taken. Under the lock. */
static struct decision *decision_row(const char *rule, const char *action)
{
	struct decision *d;

	for (size_t i = 0; i < m.ndecisions; i++) {
		d = &m.decisions[i];
		if (d->action == action && strcmp(d->rule, rule) == 0)
			return d;
	}
	if (m.ndecisions == DECISION_SLOTS)
		return NULL;
	d = &m.decisions[m.ndecisions++];
	d->rule = bd_strdup(rule);
	d->action = action;
	d->count = 0;
	return d;
}

void bd_metrics_add_rules(const struct bd_conf_rules *rules)
{
	pthread_mutex_lock(&m.lock);
	for (size_t i = 0; i < rules->n; i++) {
		unsigned a = (unsigned)rules->v[i].action;

		if (a < NACTIONS)
			decision_row(rules->v[i].name, actions[a]);
	}
	pthread_mutex_unlock(&m.lock);
}

void bd_metrics_decision(const char *rule, const char *action)
{
	const char *a = known_action(action);
	struct decision *d;

	pthread_mutex_lock(&m.lock);
	d = a != NULL ? decision_row(rule, a) : NULL;
	if (d != NULL)
		d->count++;
	else
		m.decisions_other++;
	pthread_mutex_unlock(&m.lock);
}

void bd_metrics_outcome(enum bd_metrics_outcome o)
{
	atomic_fetch_add(&m.outcomes[o], 1);
}

void bd_metrics_failure(enum bd_metrics_failure f)
{
	atomic_fetch_add(&m.failures[f], 1);
}

void bd_metrics_replaced(unsigned files, uint64_t bytes)
{
	atomic_fetch_add(&m.replaced_files, files);
	atomic_fetch_add(&m.replaced_bytes, bytes);
}

void bd_metrics_append_label(GString *out, const char *value)
{
	g_string_append_c(out, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

static void header(GString *out, const char *name, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

static void sample(GString *out, const char *name, const char *label, const char *value, uint64_t n)
{
	g_string_append(out, name);
	if (label != NULL) {
		g_string_append_printf(out, "{%s=", label);
		bd_metrics_append_label(out, value);
		g_string_append_c(out, '}');
	}
	g_string_append_printf(out, " %llu\n", (unsigned long long)n);
}

char *bd_metrics_render(size_t *len)
{
	static const char *const outcomes[BD_OUTCOME_COUNT] = {"rewritten", "unchanged", "rejected",
	                                                       "tempfailed"};
	static const char *const failures[BD_FAILED_COUNT] = {
	        "spool", "storage", "malformed", "timeout", "mta", "upload_request"};
	GString *out = g_string_sized_new(4096);

	header(out, "bestanden_milter_messages_total",
	       "Messages by the policy decision: the [rule NAME] that decided and its action "
	       "(rule=\"" BD_METRICS_NO_RULE "\": no rule decided, the [policy] switches did).");
	pthread_mutex_lock(&m.lock);
	for (size_t i = 0; i < m.ndecisions; i++) {
		const struct decision *d = &m.decisions[i];

		g_string_append(out, "bestanden_milter_messages_total{rule=");
		bd_metrics_append_label(out, d->rule);
		g_string_append_printf(out, ",action=\"%s\"} %llu\n", d->action,
		                       (unsigned long long)d->count);
	}
	if (m.decisions_other > 0)
		g_string_append_printf(
		        out,
		        "bestanden_milter_messages_total{rule=\"other\",action=\"other\"} %llu\n",
		        (unsigned long long)m.decisions_other);
	pthread_mutex_unlock(&m.lock);
	header(out, "bestanden_milter_outcomes_total",
	       "Messages by what the MTA was told at end of message.");
	for (int o = 0; o < BD_OUTCOME_COUNT; o++)
		sample(out, "bestanden_milter_outcomes_total", "outcome", outcomes[o],
		       atomic_load(&m.outcomes[o]));
	header(out, "bestanden_milter_failures_total",
	       "Messages not handled as their policy said, by reason.");
	for (int f = 0; f < BD_FAILED_COUNT; f++)
		sample(out, "bestanden_milter_failures_total", "reason", failures[f],
		       atomic_load(&m.failures[f]));
	header(out, "bestanden_milter_attachments_replaced_total",
	       "Attachments taken out of messages and replaced by a download link.");
	sample(out, "bestanden_milter_attachments_replaced_total", NULL, NULL,
	       atomic_load(&m.replaced_files));
	header(out, "bestanden_milter_stored_bytes_total",
	       "Bytes of those attachments (decoded, before encryption) put in storage.");
	sample(out, "bestanden_milter_stored_bytes_total", NULL, NULL,
	       atomic_load(&m.replaced_bytes));
	*len = out->len;
	return g_string_free(out, FALSE);
}

/* Queue RESP (NULL: out of memory) as the answer with STATUS and content type TYPE. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, struct MHD_Response *resp,
                              const char *type)
{
	enum MHD_Result r;

	if (resp == NULL)
		return MHD_NO;
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *text)
{
	return answer(
	        c, status,
	        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT),
	        "text/plain; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **state)
{
	static int started;
	struct MHD_Response *resp;
	size_t len;
	char *text;

	(void)cls;
	(void)version;
	(void)data;
	if (*state == NULL) { /* the headers are in; the body, if any, comes next */
		*state = &started;
		return MHD_YES;
	}
	if (*size > 0) { /* nothing here takes a body */
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return refuse(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return refuse(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	text = bd_metrics_render(&len);
	resp = MHD_create_response_from_buffer_with_free_callback(len, text, g_free);
	if (resp == NULL)
		g_free(text);
	return answer(c, MHD_HTTP_OK, resp, "text/plain; version=0.0.4; charset=utf-8");
}

/* libmicrohttpd's complaints (a client that went away ...): one line each. No URL here is a
 * secret, unlike the gateway's. */
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char msg[512], kv[600] = "";

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	bd_log_kv_str(kv, sizeof(kv), "error", msg);
	bd_log(LOG_WARNING, "event=metrics-http-error%s", kv);
}

int bd_metrics_start(int fd, struct bd_error *err)
{
	/* the logger first: options before it would log through libmicrohttpd's own */
	m.daemon = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	        on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
	        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 16u,
	        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (size_t)(64 * 1024), MHD_OPTION_END);
	if (m.daemon == NULL)
		return bd_error_set(err, BD_E_IO, "cannot start the /metrics HTTP server");
	return 0;
}

void bd_metrics_stop(void)
{
	if (m.daemon != NULL)
		MHD_stop_daemon(m.daemon);
	m.daemon = NULL;
}
