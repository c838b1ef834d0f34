/*
 * metrics.c - GET /metrics: what an operator graphs and alerts on, in the
 * Prometheus text format. Requests by route and status, body bytes sent,
 * downloads in progress and how they ended, failed lookups, errors by kind.
 * Nothing per package or per client: counts only.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "metrics.h"
#include "server.h"
#include "mem.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define REQUEST_SLOTS 128

struct request_count {
	const char *route; /* the route table's static name, or "none" */
	unsigned status;
	uint64_t count;
};

static struct {
	pthread_mutex_t lock; /* for requests[] */
	struct request_count requests[REQUEST_SLOTS];
	size_t nrequests;
	uint64_t requests_other; /* once every slot is taken (cannot happen with our routes) */
	_Atomic uint64_t bytes_out;
	_Atomic int64_t active;
	_Atomic uint64_t errors[GW_ERR_COUNT];
	_Atomic uint64_t events[GW_EV_COUNT];
} m = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void count_request(const struct gw_request *r, void *cls)
{
	const char *route = r->route != NULL ? r->route->name : "none";
	size_t i;

	if (r->status == 0)
		return; /* nothing was answered: the client went away first */
	pthread_mutex_lock(&m.lock);
	for (i = 0; i < m.nrequests; i++)
		if (m.requests[i].status == r->status && strcmp(m.requests[i].route, route) == 0)
			break;
	if (i == m.nrequests && i < REQUEST_SLOTS) {
		m.requests[i].route = route;
		m.requests[i].status = r->status;
		m.nrequests++;
	}
	if (i < REQUEST_SLOTS)
		m.requests[i].count++;
	else
		m.requests_other++;
	pthread_mutex_unlock(&m.lock);
}

void gw_metrics_bytes_out(uint64_t n)
{
	atomic_fetch_add(&m.bytes_out, n);
}

void gw_metrics_download_begin(void)
{
	atomic_fetch_add(&m.active, 1);
}

void gw_metrics_download_end(void)
{
	atomic_fetch_sub(&m.active, 1);
}

void gw_metrics_error(enum gw_metric_error e)
{
	atomic_fetch_add(&m.errors[e], 1);
}

void gw_metrics_event(enum gw_metric_event e)
{
	atomic_fetch_add(&m.events[e], 1);
}

void gw_metrics_read(struct gw_metrics_totals *out)
{
	out->bytes_out = atomic_load(&m.bytes_out);
	out->downloads_active = atomic_load(&m.active);
	for (int e = 0; e < GW_EV_COUNT; e++)
		out->events[e] = atomic_load(&m.events[e]);
	for (int e = 0; e < GW_ERR_COUNT; e++)
		out->errors[e] = atomic_load(&m.errors[e]);
}

static void header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * The event counters, in the order /metrics shows them: a row with HELP starts a
 * metric, the rows after it without one add its other label values.
 */
struct counter {
	const char *name, *labels, *help;
	enum gw_metric_event event;
};

static const struct counter counters[] = {
        {"bestanden_downloads_total", "{outcome=\"complete\"}",
         "Downloads that ended, by outcome (complete: every requested byte was sent).",
         GW_EV_DOWNLOAD_COMPLETE},
        {"bestanden_downloads_total", "{outcome=\"incomplete\"}", NULL, GW_EV_DOWNLOAD_INCOMPLETE},
        {"bestanden_page_views_total", "", "Landing pages shown (link scanners included).",
         GW_EV_PAGE_VIEW},
        {"bestanden_link_refusals_total", "{reason=\"expired\"}",
         "Links refused, by reason (expired: 410; not_found: 404; rate_limited: 429; "
         "download_limit: 410).",
         GW_EV_EXPIRED},
        {"bestanden_link_refusals_total", "{reason=\"not_found\"}", NULL, GW_EV_NOT_FOUND},
        {"bestanden_link_refusals_total", "{reason=\"rate_limited\"}", NULL, GW_EV_RATE_LIMITED},
        {"bestanden_link_refusals_total", "{reason=\"download_limit\"}", NULL,
         GW_EV_DOWNLOAD_LIMIT},
        {"bestanden_files_downloaded_total", "",
         "Files whose every byte reached a recipient, in one response or in several ranges.",
         GW_EV_FILE_DOWNLOADED},
        {"bestanden_receipts_total", "", "Download receipts to senders that the MTA accepted.",
         GW_EV_RECEIPT_SENT},
        {"bestanden_upload_page_views_total", "",
         "Upload-request pages shown (link scanners included).", GW_EV_UPLOAD_PAGE_VIEW},
        {"bestanden_uploads_total", "{outcome=\"accepted\"}",
         "Uploads through upload requests that ended, by outcome (refused: nothing kept).",
         GW_EV_UPLOAD_ACCEPTED},
        {"bestanden_uploads_total", "{outcome=\"refused\"}", NULL, GW_EV_UPLOAD_REFUSED},
        {"bestanden_requester_notices_total", "",
         "Mails to requesters about their uploads that the MTA accepted.",
         GW_EV_REQUESTER_NOTIFIED},
        {"bestanden_verifications_total", "{outcome=\"code_sent\"}",
         "Recipients' verifications, by outcome (code_sent: a code mailed; verified: a right "
         "answer; failed: refused; locked: a client locked out).",
         GW_EV_CODE_SENT},
        {"bestanden_verifications_total", "{outcome=\"verified\"}", NULL, GW_EV_VERIFIED},
        {"bestanden_verifications_total", "{outcome=\"failed\"}", NULL, GW_EV_VERIFY_FAILED},
        {"bestanden_verifications_total", "{outcome=\"locked\"}", NULL, GW_EV_LOCKED},
};

static char *render(size_t *len)
{
	static const char *const errors[GW_ERR_COUNT] = {"storage", "crypto", "internal"};
	GString *out = g_string_sized_new(4096);

	header(out, "bestanden_http_requests_total", "counter",
	       "HTTP requests answered, by route and status.");
	pthread_mutex_lock(&m.lock);
	for (size_t i = 0; i < m.nrequests; i++)
		g_string_append_printf(
		        out, "bestanden_http_requests_total{route=\"%s\",code=\"%u\"} %llu\n",
		        m.requests[i].route, m.requests[i].status,
		        (unsigned long long)m.requests[i].count);
	if (m.requests_other > 0)
		g_string_append_printf(
		        out, "bestanden_http_requests_total{route=\"other\",code=\"other\"} %llu\n",
		        (unsigned long long)m.requests_other);
	pthread_mutex_unlock(&m.lock);
	header(out, "bestanden_http_response_bytes_total", "counter",
	       "Body bytes sent to recipients (pages, files, zips).");
	g_string_append_printf(out, "bestanden_http_response_bytes_total %llu\n",
	                       (unsigned long long)atomic_load(&m.bytes_out));
	header(out, "bestanden_downloads_active", "gauge", "Files and zips being sent right now.");
	g_string_append_printf(out, "bestanden_downloads_active %lld\n",
	                       (long long)atomic_load(&m.active));
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		const struct counter *c = &counters[i];

		if (c->help != NULL)
			header(out, c->name, "counter", c->help);
		g_string_append_printf(out, "%s%s %llu\n", c->name, c->labels,
		                       (unsigned long long)atomic_load(&m.events[c->event]));
	}
	header(out, "bestanden_errors_total", "counter",
	       "Failures serving recipients, by kind (storage: 503s and broken transfers).");
	for (int e = 0; e < GW_ERR_COUNT; e++)
		g_string_append_printf(out, "bestanden_errors_total{kind=\"%s\"} %llu\n", errors[e],
		                       (unsigned long long)atomic_load(&m.errors[e]));
	*len = out->len;
	return g_string_free(out, FALSE);
}

static void free_text(void *cls)
{
	g_free(cls);
}

static enum MHD_Result metrics_handle(struct gw_request *r, const char *data, size_t *size)
{
	struct MHD_Response *resp;
	size_t len;
	char *text;

	if (r->calls == 1 || *size > 0) {
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return gw_respond_not_allowed(r, "GET, HEAD");
	text = render(&len);
	r->bytes = len;
	resp = MHD_create_response_from_buffer_with_free_callback(len, text, free_text);
	if (resp == NULL) {
		g_free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain; version=0.0.4; charset=utf-8");
	return gw_respond(r, MHD_HTTP_OK, resp);
}

void gw_metrics_register(struct gw_server *srv)
{
	static const struct gw_route route = {.path = "/metrics",
	                                      .handler = metrics_handle,
	                                      .name = "metrics",
	                                      .on = GW_ON_INTERNAL};

	gw_server_add_route(srv, &route);
	gw_server_add_observer(srv, count_request, NULL);
}
