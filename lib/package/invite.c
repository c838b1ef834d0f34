/*
 * invite.c - an upload request as an administrator orders it (see invite.h).
 *
 * The limits an order leaves out are [requests]'; the link is
 * <[gateway] public_url>/u/<token>, the token wiped once the link is made.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "invite.h"
#include "mem.h"
#include "notify.h"
#include "upload.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FILES 1000

static int address_like(const char *a)
{
	const char *at = a != NULL ? strchr(a, '@') : NULL;

	return at != NULL && at != a && at[1] != '\0' && strpbrk(a, " \t\r\n<>,\"") == NULL;
}

static int check(const struct bd_invite_order *o, struct bd_error *err)
{
	if (!address_like(o->requester))
		return bd_error_set(err, BD_E_INVALID, "requester: an address is needed");
	if (o->recipient != NULL && !address_like(o->recipient))
		return bd_error_set(err, BD_E_INVALID, "to: not an address");
	if (o->send && o->recipient == NULL)
		return bd_error_set(err, BD_E_INVALID, "send: needs the address to send to (to)");
	if (o->max_files > MAX_FILES)
		return bd_error_set(err, BD_E_INVALID, "max_files: at most %d", MAX_FILES);
	return 0;
}

/* R from O and the [requests] defaults DEF. */
static struct bd_request *request_of(const struct bd_conf_requests *def,
                                     const struct bd_invite_order *o)
{
	struct bd_request *r = bd_request_new();
	int several = o->several_uses < 0 ? def->several_uses : o->several_uses;

	r->requester = bd_strdup(o->requester);
	r->recipient = o->recipient ? bd_strdup(o->recipient) : NULL;
	r->note = o->note ? bd_strdup(o->note) : NULL;
	r->max_total_size = o->max_total_size ? o->max_total_size : def->max_total_size;
	r->max_files = o->max_files ? o->max_files : (unsigned)def->max_files;
	r->flags = several ? BD_REQUEST_SEVERAL_USES : 0;
	/* one file may not be larger than all of them together */
	r->max_file_size = o->max_file_size ? o->max_file_size : def->max_file_size;
	if (r->max_file_size > r->max_total_size)
		r->max_file_size = r->max_total_size;
	r->created = (int64_t)time(NULL);
	r->expires = r->created + (int64_t)(o->expires ? o->expires : def->expires);
	return r;
}

int bd_invite_create(const struct bd_conf *conf, struct bd_store *s, const struct bd_keyring *kr,
                     const struct bd_invite_order *o, struct bd_invite *out, struct bd_error *err)
{
	char token[BD_TOKEN_MAX_CHARS + 1];
	struct bd_request *r;
	struct bd_error derr;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (check(o, err) < 0)
		return -1;
	r = request_of(&conf->requests, o);
	if (bd_upload_request_create(s, kr, r, token, err) < 0)
		goto done;
	out->link = bd_asprintf("%s/u/%s", conf->gateway.public_url, token);
	sodium_memzero(token, sizeof(token));
	bd_package_id_hex(r->id, out->id);
	out->expires = r->expires;
	if (o->send && bd_notify_invite(conf, r, out->link, err) < 0) {
		/* an invitation nobody got: the request goes too */
		bd_upload_request_delete(s, r, &derr);
		bd_invite_clear(out);
		goto done;
	}
	rc = 0;
done:
	bd_request_free(&r);
	return rc;
}

void bd_invite_clear(struct bd_invite *out)
{
	if (out->link != NULL)
		sodium_memzero(out->link, strlen(out->link));
	free(out->link);
	out->link = NULL;
}
