/*
 * notify.h - the mails that bestanden sends itself: the invitation to upload
 * (`bestanden request create --send`), the notice to the requester that files
 * have arrived, the receipt to a sender that a file was downloaded, a
 * recipient's verification code (template "code", in the language of the
 * page that asked for it), and the sender's management link ("manage") once
 * per message that wants receipts, and ("locked") the warning to a sender that
 * someone used up the tries of the package's access code.
 *
 * They are rendered from the notice templates of [notice] template_dir
 * ("request" for the invitation, "notice" for the arrival, as in outgoing
 * mail, "receipt" for the receipt) in [notice] language ("code" in the page's),
 * and sent through [smtp] (outmail.h). An error means the MTA did not take the
 * mail: the caller must not act as if it had.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_NOTIFY_H
#define BD_NOTIFY_H

#include "conf.h"
#include "error.h"
#include "manifest.h"
#include "request.h"
#include "template.h"

/* Tell R's requester that the files of M arrived, downloadable at LINK; UPLOADER and
 * MESSAGE are what the uploader wrote (either may be NULL). */
int bd_notify_upload(const struct bd_conf *conf, const struct bd_request *r,
                     const struct bd_manifest *m, const char *link, const char *uploader,
                     const char *message, struct bd_error *err);
/* Tell R's requester that an upload was refused because clamd found SIGNATURE in FILE. */
int bd_notify_infected(const struct bd_conf *conf, const struct bd_request *r, const char *file,
                       const char *uploader, const char *signature, struct bd_error *err);
/* Invite R's recipient to upload through LINK, from the requester's name. */
int bd_notify_invite(const struct bd_conf *conf, const struct bd_request *r, const char *link,
                     struct bd_error *err);
/* Mail a recipient's verification CODE, valid MINUTES, to TO in LANG ("nl" or "en");
 * LINK is the page it is for. */
int bd_notify_code(const struct bd_conf *conf, const char *lang, const char *to, const char *link,
                   const char *code, unsigned minutes, struct bd_error *err);
/* Tell SENDER that RC->file was downloaded completely, when and by whom. */
int bd_notify_receipt(const struct bd_conf *conf, const char *sender,
                      const struct bd_notice_receipt *rc, struct bd_error *err);
/* Tell SENDER that a visitor used up the tries of the package's access code and is locked
 * out until UNTIL (the sender may want to call the recipient: someone else may have the link). */
int bd_notify_locked(const struct bd_conf *conf, const char *sender, time_t until,
                     struct bd_error *err);
/* Tell M's sender where to see and manage the package: LINK (its /m/ link), with M's
 * files, recipients and expiry. */
int bd_notify_manage(const struct bd_conf *conf, const struct bd_manifest *m, const char *link,
                     struct bd_error *err);

#endif
