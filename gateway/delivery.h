/*
 * delivery.h - what reached a recipient, told by the package's events
 * (package/events.h), so every gateway in front of one store agrees.
 *
 * Each response that sent file bytes leaves a RANGE event (the bytes that
 * really went out). A file counts as downloaded when the ranges one person
 * (a verified address, or everyone else together) received since their last
 * complete download cover all of it: then a COMPLETE event, one more
 * bestanden_files_downloaded_total, "retrieved": true on the response's audit
 * line (audit.h) and, when the
 * package asks for them, the sender's receipt. A zip sent whole counts every
 * file. Events are listed only when a response ends, and only when the answer
 * depends on them. Failures are logged, never shown to the recipient: the
 * bytes have gone out already.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_DELIVERY_H
#define GW_DELIVERY_H

#include <stdint.h>
#include <sys/socket.h>

#include "download.h"
#include "gateway.h"

struct gw_delivery;

/* What D's file INDEX (0: every file, as the zip) needs once its response ends; WHO is
 * the verified address of the request or NULL, CLIENT its client (may be NULL). */
struct gw_delivery *gw_delivery_new(const struct bd_download *d, unsigned index, const char *who,
                                    const struct sockaddr *client);
/*
 * The response ended: SENT body bytes from OFF reached the client (for a zip, WHOLE
 * says whether all of it did). Records the events, and counts and sends the receipt
 * through RT's settings when a file became complete. Frees *DV. Returns 1 when with
 * this response the file (every file of the zip) became complete: the audit line says so.
 */
int gw_delivery_end(struct gw_delivery **dv, struct gw_runtime *rt, uint64_t off, uint64_t sent,
                    int whole);
void gw_delivery_free(struct gw_delivery **dv);

/*
 * True (1) when file INDEX of D (0: any file, for the zip; -1: every file, for the
 * landing page) was downloaded as often as the package allows (max_downloads), 0 when
 * not or when there is no limit, -1 with ERR when the events could not be read.
 */
int gw_delivery_limit_reached(struct gw_runtime *rt, const struct bd_download *d, int index,
                              struct bd_error *err);

#endif
