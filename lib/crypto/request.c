/*
 * request.c - sealing and opening upload requests (see request.h).
 *
 * The body: requester, recipient and note as u16-length strings, then
 * u64 max_file_size, u64 max_total_size, u16 max_files, u8 flags. Every
 * rule of docs/FORMAT.md section 10 is checked both ways, so each request
 * has one encoding. Header, sealing and codec: sealed.c.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "request.h"
#include "manifest.h"
#include "mem.h"
#include "sealed.h"
#include "stream.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct bd_request *bd_request_new(void)
{
	return bd_calloc(1, sizeof(struct bd_request));
}

void bd_request_free(struct bd_request **rp)
{
	struct bd_request *r = *rp;

	if (r == NULL)
		return;
	free(r->requester);
	free(r->recipient);
	free(r->note);
	free(r);
	*rp = NULL;
}

static int check_limits(const struct bd_request *r, struct bd_error *err)
{
	if (r->requester == NULL || r->requester[0] == '\0')
		return bd_error_set(err, BD_E_INVALID, "upload request: no requester");
	if (r->max_file_size < 1 || r->max_file_size > BD_STREAM_MAX_PLAINTEXT ||
	    r->max_total_size < 1 || r->max_total_size > BD_STREAM_MAX_PLAINTEXT)
		return bd_error_set(err, BD_E_LIMIT, "upload request: size limits out of range");
	if (r->max_files < 1 || r->max_files > BD_MANIFEST_MAX_FILES)
		return bd_error_set(err, BD_E_LIMIT, "upload request: max files must be 1..%d",
		                    BD_MANIFEST_MAX_FILES);
	if ((r->flags & ~(unsigned)BD_REQUEST_SEVERAL_USES) != 0)
		return bd_error_set(err, BD_E_INVALID, "upload request: unknown flags 0x%02x",
		                    r->flags);
	return 0;
}

int bd_request_body_encode(const struct bd_request *r, uint8_t **out, size_t *outlen,
                           struct bd_error *err)
{
	struct bd_codec_writer w = {0};

	if (check_limits(r, err) < 0)
		return -1;
	if (bd_codec_put_string(&w, r->requester, "upload request: the requester", err) < 0 ||
	    bd_codec_put_string(&w, r->recipient, "upload request: the recipient", err) < 0 ||
	    bd_codec_put_string(&w, r->note, "upload request: the note", err) < 0) {
		bd_codec_writer_wipe(&w);
		return -1;
	}
	bd_codec_put_be(&w, r->max_file_size, 8);
	bd_codec_put_be(&w, r->max_total_size, 8);
	bd_codec_put_be(&w, r->max_files, 2);
	bd_codec_put_be(&w, r->flags, 1);
	*out = w.p;
	*outlen = w.len;
	return 0;
}

int bd_request_body_decode(const uint8_t *buf, size_t len, struct bd_request *r,
                           struct bd_error *err)
{
	struct bd_codec_reader rd = {buf, len, 0, "upload request body"};
	uint64_t files, flags;

	if (bd_codec_get_string(&rd, 0, &r->requester, err) < 0 ||
	    bd_codec_get_string(&rd, 1, &r->recipient, err) < 0 ||
	    bd_codec_get_string(&rd, 1, &r->note, err) < 0 ||
	    bd_codec_get_be(&rd, 8, &r->max_file_size, err) < 0 ||
	    bd_codec_get_be(&rd, 8, &r->max_total_size, err) < 0 ||
	    bd_codec_get_be(&rd, 2, &files, err) < 0 || bd_codec_get_be(&rd, 1, &flags, err) < 0 ||
	    bd_codec_get_end(&rd, err) < 0)
		return -1;
	r->max_files = (unsigned)files;
	r->flags = (unsigned)flags;
	return check_limits(r, err);
}

int bd_request_seal(const struct bd_request *r, const struct bd_package_keys *keys,
                    const uint8_t gateway_pk[32], uint8_t **out, size_t *outlen,
                    struct bd_error *err)
{
	struct bd_manifest_header h = {
	        .link_key_id = r->link_key_id,
	        .gateway_key_id = r->gateway_key_id,
	        .created = r->created,
	        .expires = r->expires,
	};
	uint8_t *body;
	size_t bodylen;
	int rc;

	memcpy(h.package_id, r->id, BD_PACKAGE_ID_BYTES);
	if (bd_request_body_encode(r, &body, &bodylen, err) < 0)
		return -1;
	rc = bd_sealed_seal(BD_SEALED_REQUEST, &h, keys, gateway_pk, body, bodylen, out, outlen,
	                    err);
	sodium_memzero(body, bodylen);
	free(body);
	return rc;
}

int bd_request_open(const uint8_t *buf, size_t len, const uint8_t secret[BD_SECRET_BYTES],
                    const struct bd_keyring *kr, struct bd_request **r_out,
                    struct bd_package_keys **keys_out, struct bd_error *err)
{
	struct bd_manifest_header h;
	struct bd_package_keys *keys = NULL;
	struct bd_request *r;
	uint8_t *body;
	size_t bodylen;
	int rc;

	if (bd_sealed_open(BD_SEALED_REQUEST, buf, len, secret, kr, &h, &body, &bodylen, &keys,
	                   err) < 0)
		return -1;
	r = bd_request_new();
	rc = bd_request_body_decode(body, bodylen, r, err);
	sodium_memzero(body, bodylen);
	free(body);
	if (rc < 0) {
		bd_request_free(&r);
		bd_package_keys_free(&keys);
		return -1;
	}
	memcpy(r->id, h.package_id, BD_PACKAGE_ID_BYTES);
	r->link_key_id = h.link_key_id;
	r->gateway_key_id = h.gateway_key_id;
	r->created = h.created;
	r->expires = h.expires;
	*r_out = r;
	if (keys_out != NULL)
		*keys_out = keys;
	else
		bd_package_keys_free(&keys);
	return 0;
}
