/*
 * delivery.c - RANGE and COMPLETE events, the download limit and the sender's
 * receipts (see delivery.h).
 *
 * A receipt is sent once across gateways by recording RECEIPT_SENT with a
 * random tag first and sending only when the oldest RECEIPT_SENT of that file
 * carries our tag (receipts = first). What remains: two gateways whose clocks
 * differ by more than the time between their two recordings may each find
 * their own the oldest and both send; and a receipt the mail server refuses
 * after the event was recorded is not sent again (at most once, never twice
 * by design).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "delivery.h"
#include "audit.h" /* gw_audit_client: the address as text */
#include "events.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "notify.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct delivered_file {
	unsigned index;
	uint64_t size;
	char *name;
};

struct gw_delivery {
	struct bd_package_keys *keys;
	char package[BD_PACKAGE_ID_HEX];
	char *sender;                 /* or NULL */
	enum bd_receipts receipts;    /* the manifest's protection (version 1: off) */
	int zip;                      /* the files went as one zip */
	struct delivered_file *files; /* the one file, or every file of the zip */
	size_t nfiles;
	char who[BD_EVENT_WHO_MAX];
	uint8_t client[BD_EVENT_CLIENT_BYTES];
};

struct gw_delivery *gw_delivery_new(const struct bd_download *d, unsigned index, const char *who,
                                    const struct sockaddr *client)
{
	const struct bd_manifest *m = bd_download_manifest(d);
	struct gw_delivery *dv = bd_calloc(1, sizeof(*dv));

	dv->keys = bd_package_keys_alloc();
	memcpy(dv->keys, bd_download_keys(d), sizeof(*dv->keys));
	snprintf(dv->package, sizeof(dv->package), "%s", bd_download_package_id(d));
	dv->sender = m->sender != NULL && m->sender[0] != '\0' ? bd_strdup(m->sender) : NULL;
	dv->receipts = m->protection.receipts;
	dv->zip = index == 0;
	dv->files = bd_calloc(m->nfiles ? m->nfiles : 1, sizeof(*dv->files));
	for (size_t i = 0; i < m->nfiles; i++) {
		if (index != 0 && m->files[i].index != index)
			continue;
		dv->files[dv->nfiles].index = m->files[i].index;
		dv->files[dv->nfiles].size = m->files[i].size;
		dv->files[dv->nfiles].name = bd_strdup(m->files[i].name);
		dv->nfiles++;
	}
	if (who != NULL && strlen(who) < sizeof(dv->who))
		snprintf(dv->who, sizeof(dv->who), "%s", who);
	if (client != NULL) {
		char text[64];

		gw_audit_client(client, BD_AUDIT_ADDRESS_FULL, text, sizeof(text));
		bd_event_client_hash(dv->keys, text, dv->client);
	}
	return dv;
}

void gw_delivery_free(struct gw_delivery **dvp)
{
	struct gw_delivery *dv = *dvp;

	if (dv == NULL)
		return;
	for (size_t i = 0; i < dv->nfiles; i++)
		free(dv->files[i].name);
	free(dv->files);
	free(dv->sender);
	bd_package_keys_free(&dv->keys);
	sodium_memzero(dv, sizeof(*dv)); /* the address of a verified recipient */
	free(dv);
	*dvp = NULL;
}

static int record(struct gw_delivery *dv, struct bd_store *st, enum bd_event_kind kind,
                  const struct delivered_file *f, uint64_t off, uint64_t len)
{
	struct bd_event ev = {.kind = kind, .file = f->index, .offset = off, .length = len};
	struct bd_error err;

	memcpy(ev.who, dv->who, sizeof(ev.who));
	memcpy(ev.client, dv->client, sizeof(ev.client));
	if (bd_events_record(st, dv->keys, &ev, &err) == 0)
		return 0;
	bd_log(LOG_WARNING, "event=event-failed package=%s file=%u kind=%s error=\"%s\"",
	       dv->package, f->index, bd_event_kind_name(kind), err.msg);
	return -1;
}

static int list(struct gw_delivery *dv, struct bd_store *st, struct bd_event **ev, size_t *n)
{
	struct bd_error err;

	if (bd_events_list(st, dv->keys, ev, n, &err) == 0)
		return 0;
	bd_log(LOG_WARNING, "event=events-unreadable package=%s error=\"%s\"", dv->package,
	       err.msg);
	return -1;
}

/* Our RECEIPT_SENT (tagged TAG) is the oldest of file F: this gateway sends. */
static int ours_first(const struct bd_event *ev, size_t n, const struct delivered_file *f,
                      uint64_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == BD_EVENT_RECEIPT_SENT && ev[i].file == f->index)
			return ev[i].offset == tag;
	return 0;
}

static void receipt(struct gw_delivery *dv, struct gw_runtime *rt, const struct delivered_file *f)
{
	struct bd_store *st = rt->settings.store;
	struct bd_event *ev = NULL;
	struct bd_error err;
	uint64_t tag;
	size_t n = 0;
	int skip = 0;

	if (dv->receipts == BD_RECEIPTS_OFF || dv->sender == NULL)
		return;
	if (dv->receipts == BD_RECEIPTS_FIRST) { /* one receipt per file */
		if (list(dv, st, &ev, &n) < 0)
			return;
		skip = bd_events_count(ev, n, BD_EVENT_RECEIPT_SENT, f->index, NULL) > 0;
		free(ev);
		if (skip)
			return;
	}
	randombytes_buf(&tag, sizeof(tag));
	if (record(dv, st, BD_EVENT_RECEIPT_SENT, f, tag, 0) < 0)
		return;
	if (dv->receipts == BD_RECEIPTS_FIRST) {
		if (list(dv, st, &ev, &n) < 0)
			return;
		skip = !ours_first(ev, n, f, tag);
		free(ev);
		if (skip)
			return;
	}
	if (bd_notify_receipt(
	            rt->settings.conf, dv->sender,
	            &(struct bd_notice_receipt){f->name, time(NULL), dv->who[0] ? dv->who : NULL},
	            &err) < 0) {
		bd_log(LOG_WARNING, "event=receipt-failed package=%s file=%u error=\"%s\"",
		       dv->package, f->index, err.msg);
		return;
	}
	gw_metrics_event(GW_EV_RECEIPT_SENT);
	bd_log(LOG_INFO, "event=receipt-sent package=%s file=%u", dv->package, f->index);
}

/* Every byte of F has reached this person. */
static int completed(struct gw_delivery *dv, struct gw_runtime *rt, const struct delivered_file *f)
{
	if (record(dv, rt->settings.store, BD_EVENT_COMPLETE, f, 0, f->size) < 0)
		return 0;
	gw_metrics_event(GW_EV_FILE_DOWNLOADED);
	receipt(dv, rt, f);
	return 1;
}

int gw_delivery_end(struct gw_delivery **dvp, struct gw_runtime *rt, uint64_t off, uint64_t sent,
                    int whole)
{
	struct gw_delivery *dv = *dvp;
	struct bd_store *st = rt->settings.store;
	size_t done_files = 0;
	int all;

	if (dv->zip) {
		/* The zip's bytes are not the files' bytes: only a whole one counts. */
		for (size_t i = 0; whole && i < dv->nfiles; i++)
			done_files += (size_t)completed(dv, rt, &dv->files[i]);
	} else if (dv->nfiles == 1 && (sent > 0 || dv->files[0].size == 0)) {
		const struct delivered_file *f = &dv->files[0];
		int done = off == 0 && sent >= f->size;

		if (record(dv, st, BD_EVENT_RANGE, f, off, sent) == 0 && !done) {
			struct bd_event *ev = NULL;
			size_t n = 0;

			/* Another part may have come before, through this gateway or another. */
			if (list(dv, st, &ev, &n) == 0)
				done = bd_events_covered(ev, n, f->index, dv->who, f->size);
			free(ev);
		}
		if (done)
			done_files += (size_t)completed(dv, rt, f);
	}
	all = done_files > 0 && done_files == dv->nfiles;
	gw_delivery_free(dvp);
	return all;
}

int gw_delivery_limit_reached(struct gw_runtime *rt, const struct bd_download *d, int index,
                              struct bd_error *err)
{
	const struct bd_manifest *m = bd_download_manifest(d);
	unsigned max = m->protection.max_downloads;
	struct bd_event *ev = NULL;
	size_t n = 0, reached = 0, considered = 0;

	if (max == 0)
		return 0;
	if (bd_events_list(rt->settings.store, bd_download_keys(d), &ev, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < m->nfiles; i++) {
		if (index > 0 && m->files[i].index != (unsigned)index)
			continue;
		considered++;
		if (bd_events_count(ev, n, BD_EVENT_COMPLETE, m->files[i].index, NULL) >= max)
			reached++;
	}
	free(ev);
	/* the landing page: only when nothing is left; a file or the zip: when one is done */
	return index < 0 ? considered > 0 && reached == considered : reached > 0;
}
