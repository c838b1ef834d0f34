/*
 * metrics.h - counters for /metrics (Prometheus text format 0.0.4).
 *
 * Process-wide, lock-free where they are hot (atomics), so any thread may
 * count. Requests are counted by route and status when they end (an observer
 * of the HTTP core); the download code counts bytes, active downloads,
 * outcomes and errors.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdint.h>

struct gw_server;

enum gw_metric_error {
	GW_ERR_STORAGE,  /* storage failed or was unreachable */
	GW_ERR_CRYPTO,   /* an object failed authentication */
	GW_ERR_INTERNAL, /* anything else */
	GW_ERR_COUNT
};

enum gw_metric_event {
	GW_EV_PAGE_VIEW,
	GW_EV_DOWNLOAD_COMPLETE,   /* a file or zip sent whole */
	GW_EV_DOWNLOAD_INCOMPLETE, /* stopped by the client or by a failure */
	GW_EV_EXPIRED,
	GW_EV_NOT_FOUND,
	GW_EV_RATE_LIMITED,
	GW_EV_UPLOAD_PAGE_VIEW,   /* an upload-request page shown */
	GW_EV_UPLOAD_ACCEPTED,    /* an upload stored and its requester told */
	GW_EV_UPLOAD_REFUSED,     /* an upload refused, nothing kept */
	GW_EV_REQUESTER_NOTIFIED, /* a mail to a requester accepted by the MTA */
	GW_EV_FILE_DOWNLOADED,    /* every byte of a file reached someone (delivery.h) */
	GW_EV_DOWNLOAD_LIMIT,     /* a file refused: its download limit was reached */
	GW_EV_RECEIPT_SENT,       /* a receipt to a sender accepted by the MTA */
	GW_EV_CODE_SENT,          /* a verification code mailed to a recipient */
	GW_EV_VERIFIED,           /* a recipient verified (code or access code) */
	GW_EV_VERIFY_FAILED,      /* a verification refused (wrong code, stale form ...) */
	GW_EV_LOCKED,             /* a client locked out after too many wrong access codes */
	GW_EV_COUNT
};

/* The counters as they stand, for the admin API's statistics. */
struct gw_metrics_totals {
	uint64_t bytes_out;
	int64_t downloads_active;
	uint64_t events[GW_EV_COUNT];
	uint64_t errors[GW_ERR_COUNT];
};
void gw_metrics_read(struct gw_metrics_totals *out);

/* Adds GET /metrics and the count of every answered request to SRV. */
void gw_metrics_register(struct gw_server *srv);

void gw_metrics_bytes_out(uint64_t n);
void gw_metrics_download_begin(void);
void gw_metrics_download_end(void);
void gw_metrics_error(enum gw_metric_error e);
void gw_metrics_event(enum gw_metric_event e);

#endif
