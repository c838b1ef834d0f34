/*
 * verify.h - the gate before a package's files: a recipient proves who they
 * are before the landing page, a file or the zip shows anything of it.
 *
 * With the manifest's protection.verify = code the page asks for the e-mail
 * address; one of the message's recipients gets a 6-digit code by mail (an
 * unknown address gets the same page and no mail). With an access code (the
 * sender's "[code:...]") the page asks for that instead, and too many wrong
 * ones lock the link for that client ([recipients] lockout). A right answer
 * sets a signed, package-bound cookie (cookie.h) and sends the browser back
 * to the page. GETs never change anything: no mail, no event. Codes, tries,
 * locks and verifications are package events (events.h) in storage, so every
 * gateway sharing the store and the key directory agrees.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_VERIFY_H
#define GW_VERIFY_H

#include <stddef.h>
#include <sys/socket.h>

#include "download.h"
#include "server.h"

struct gw_verify;

/* HTTPS: the gateway itself speaks TLS (the cookie is Secure then, and whenever
 * [gateway] public_url is https). */
struct gw_verify *gw_verify_new(int https);
void gw_verify_free(struct gw_verify **v);
/* Verification posts one client may make a minute ([gateway] failed_lookups_per_minute). */
void gw_verify_set_rate(struct gw_verify *v, unsigned per_minute);

/* What the gate needs of a request under /d/<token>. */
struct gw_verify_request {
	struct gw_request *r;
	const char *token; /* the link's, for the form, the cookie's path and the mail */
	const char *lang;
	const struct sockaddr *client;
	const char *body; /* a POST's form (application/x-www-form-urlencoded), else NULL */
	int landing;      /* the landing page was asked for, not a file or the zip */
};

/*
 * 1 when the request may see the files of package D: it asks for nothing, or the
 * browser holds a valid cookie for it. 0 when the gate has answered the request
 * itself (*ANSWER is what the handler returns): the form, a code mailed, a refusal,
 * or after a right answer a redirect to the page with the cookie. A POST to a
 * package that asks for nothing returns 1: the caller refuses the method.
 */
int bd_verify_gate(struct gw_verify *v, const struct gw_verify_request *q,
                   const struct bd_download *d, enum MHD_Result *answer);

/* The verified address of R for package D (one of its manifest's recipients, owned by
 * D), or NULL: not verified, or verified by the access code. */
const char *bd_verify_who(struct gw_request *r, const struct bd_download *d);

#endif
