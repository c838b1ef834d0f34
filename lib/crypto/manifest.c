/*
 * manifest.c - sealing and opening the per-package manifest.
 *
 * A fixed 136-byte clear header, then the body encrypted with
 * XChaCha20-Poly1305 under the package's manifest key with the whole header
 * as associated data. The body is a length-prefixed binary list checked
 * against the caps of manifest.h; decoding accepts only what encoding
 * produces. The header, the sealing and the codec are shared with upload
 * requests (sealed.c). Layout: docs/FORMAT.md, "Manifest".
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "manifest.h"
#include "mem.h"
#include "sealed.h"
#include "stream.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the manifest object --------------------------------------------------------------------- */

struct bd_manifest *bd_manifest_new(void)
{
	struct bd_manifest *m = bd_calloc(1, sizeof(struct bd_manifest));

	m->version = BD_MANIFEST_VERSION;
	return m;
}

struct bd_manifest_file *bd_manifest_add_file(struct bd_manifest *m, unsigned index,
                                              const char *name, const char *content_type,
                                              uint64_t size)
{
	struct bd_manifest_file *f;

	m->files = bd_realloc(m->files, (m->nfiles + 1) * sizeof(*m->files));
	f = &m->files[m->nfiles++];
	f->index = index;
	f->name = bd_strdup(name);
	f->content_type = bd_strdup(content_type);
	f->size = size;
	return f;
}

int bd_manifest_has_recipient(const struct bd_manifest *m, const char *address)
{
	for (size_t i = 0; i < m->nrecipients; i++)
		if (strcasecmp(m->recipients[i], address) == 0)
			return 1;
	return 0;
}

int bd_manifest_add_recipient(struct bd_manifest *m, const char *address, struct bd_error *err)
{
	size_t n = strlen(address);

	if (n == 0)
		return bd_error_set(err, BD_E_INVALID, "manifest: an empty recipient address");
	if (n > BD_MANIFEST_MAX_STRING)
		return bd_error_set(
		        err, BD_E_LIMIT,
		        "manifest: a recipient address of %zu bytes, at most %d allowed", n,
		        BD_MANIFEST_MAX_STRING);
	if (bd_manifest_has_recipient(m, address))
		return 0;
	if (m->nrecipients >= BD_MANIFEST_MAX_RECIPIENTS)
		return bd_error_set(err, BD_E_LIMIT, "manifest: more than %d recipients",
		                    BD_MANIFEST_MAX_RECIPIENTS);
	m->recipients = bd_realloc(m->recipients, (m->nrecipients + 1) * sizeof(*m->recipients));
	m->recipients[m->nrecipients++] = bd_strdup(address);
	return 0;
}

void bd_manifest_free(struct bd_manifest **mp)
{
	struct bd_manifest *m = *mp;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i].name);
		free(m->files[i].content_type);
	}
	free(m->files);
	for (size_t i = 0; i < m->nrecipients; i++)
		free(m->recipients[i]);
	free(m->recipients);
	free(m->protection.access_code_hash);
	free(m->sender);
	free(m->message_id);
	free(m);
	*mp = NULL;
}

/* ---- body codec ------------------------------------------------------------------------------ */

static int check_indexes(const struct bd_manifest_file *files, size_t n, struct bd_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (files[i].index < 1)
			return bd_error_set(err, BD_E_INVALID,
			                    "manifest: file index 0 is reserved");
		if (files[i].size > BD_STREAM_MAX_PLAINTEXT)
			return bd_error_set(err, BD_E_LIMIT, "manifest: file %u is too large",
			                    files[i].index);
		for (size_t j = 0; j < i; j++)
			if (files[j].index == files[i].index)
				return bd_error_set(err, BD_E_INVALID,
				                    "manifest: file index %u appears twice",
				                    files[i].index);
	}
	return 0;
}

static unsigned body_version(const struct bd_manifest *m)
{
	return m->version == 0 ? BD_MANIFEST_VERSION : m->version;
}

/* What version 2 adds, and what decoding must refuse so that each body has one encoding. */
static int check_v2(const struct bd_manifest *m, struct bd_error *err)
{
	const struct bd_protection *p = &m->protection;

	if (m->nrecipients > BD_MANIFEST_MAX_RECIPIENTS)
		return bd_error_set(err, BD_E_LIMIT, "manifest: %zu recipients, at most %d allowed",
		                    m->nrecipients, BD_MANIFEST_MAX_RECIPIENTS);
	for (size_t i = 0; i < m->nrecipients; i++) {
		if (m->recipients[i] == NULL || m->recipients[i][0] == '\0')
			return bd_error_set(err, BD_E_INVALID,
			                    "manifest: an empty recipient address");
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(m->recipients[j], m->recipients[i]) == 0)
				return bd_error_set(err, BD_E_INVALID,
				                    "manifest: a recipient address appears twice");
	}
	if (p->verify != BD_VERIFY_OFF && p->verify != BD_VERIFY_CODE)
		return bd_error_set(err, BD_E_INVALID, "manifest: unknown verification %d",
		                    (int)p->verify);
	if (p->receipts != BD_RECEIPTS_OFF && p->receipts != BD_RECEIPTS_FIRST &&
	    p->receipts != BD_RECEIPTS_EVERY)
		return bd_error_set(err, BD_E_INVALID, "manifest: unknown receipts %d",
		                    (int)p->receipts);
	if (p->access_code_hash != NULL && (p->access_code_hash[0] == '\0' ||
	                                    strlen(p->access_code_hash) >= BD_ACCESS_CODE_HASH_MAX))
		return bd_error_set(err, BD_E_INVALID,
		                    "manifest: the access code hash is empty or too long");
	return 0;
}

static int encode_v2(struct bd_codec_writer *w, const struct bd_manifest *m, struct bd_error *err)
{
	const struct bd_protection *p = &m->protection;

	if (check_v2(m, err) < 0)
		return -1;
	bd_codec_put_be(w, m->nrecipients, 2);
	for (size_t i = 0; i < m->nrecipients; i++)
		if (bd_codec_put_string(w, m->recipients[i], "manifest: a recipient address", err) <
		    0)
			return -1;
	bd_codec_put_be(w, (uint64_t)p->verify, 1);
	bd_codec_put_be(w, (uint64_t)p->receipts, 1);
	bd_codec_put_be(w, p->max_downloads, 4);
	return bd_codec_put_string(w, p->access_code_hash, "manifest: the access code hash", err);
}

static int decode_v2(struct bd_codec_reader *r, struct bd_manifest *m, struct bd_error *err)
{
	struct bd_protection *p = &m->protection;
	uint64_t n, v;

	if (bd_codec_get_count(r, BD_MANIFEST_MAX_RECIPIENTS, "recipients", &n, err) < 0)
		return -1;
	m->recipients = bd_calloc(n ? n : 1, sizeof(*m->recipients));
	for (uint64_t i = 0; i < n; i++) {
		if (bd_codec_get_string(r, 0, &m->recipients[i], err) < 0)
			return -1;
		m->nrecipients++;
	}
	if (bd_codec_get_be(r, 1, &v, err) < 0)
		return -1;
	p->verify = (enum bd_verify)v;
	if (bd_codec_get_be(r, 1, &v, err) < 0)
		return -1;
	p->receipts = (enum bd_receipts)v;
	if (bd_codec_get_be(r, 4, &v, err) < 0)
		return -1;
	p->max_downloads = (unsigned)v;
	if (bd_codec_get_string(r, 1, &p->access_code_hash, err) < 0)
		return -1;
	return check_v2(m, err);
}

int bd_manifest_body_encode(const struct bd_manifest *m, uint8_t **out, size_t *outlen,
                            struct bd_error *err)
{
	struct bd_codec_writer w = {0};
	unsigned version = body_version(m);

	if (version < 1 || version > BD_MANIFEST_VERSION)
		return bd_error_set(err, BD_E_INVALID, "manifest: unknown version %u", version);
	if (m->nfiles > BD_MANIFEST_MAX_FILES)
		return bd_error_set(err, BD_E_LIMIT, "manifest: %zu files, at most %d allowed",
		                    m->nfiles, BD_MANIFEST_MAX_FILES);
	if (check_indexes(m->files, m->nfiles, err) < 0)
		return -1;
	if (bd_codec_put_string(&w, m->sender, "manifest: the sender", err) < 0 ||
	    bd_codec_put_string(&w, m->message_id, "manifest: the Message-ID", err) < 0)
		goto fail;
	bd_codec_put_be(&w, m->nfiles, 2);
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct bd_manifest_file *f = &m->files[i];

		bd_codec_put_be(&w, f->index, 4);
		bd_codec_put_be(&w, f->size, 8);
		if (bd_codec_put_string(&w, f->name, "manifest: a file name", err) < 0 ||
		    bd_codec_put_string(&w, f->content_type, "manifest: a content type", err) < 0)
			goto fail;
	}
	if (version >= 2 && encode_v2(&w, m, err) < 0)
		goto fail;
	*out = w.p ? w.p : bd_malloc(1);
	*outlen = w.len;
	return 0;
fail:
	bd_codec_writer_wipe(&w);
	return -1;
}

int bd_manifest_body_decode(const uint8_t *buf, size_t len, struct bd_manifest *m,
                            struct bd_error *err)
{
	struct bd_codec_reader r = {buf, len, 0, "manifest body"};
	unsigned version = body_version(m);
	uint64_t n, v;

	if (version < 1 || version > BD_MANIFEST_VERSION)
		return bd_error_set(err, BD_E_INVALID, "manifest body: unknown version %u",
		                    version);
	m->version = version;
	if (bd_codec_get_string(&r, 1, &m->sender, err) < 0 ||
	    bd_codec_get_string(&r, 1, &m->message_id, err) < 0)
		return -1;
	if (bd_codec_get_count(&r, BD_MANIFEST_MAX_FILES, "files", &n, err) < 0)
		return -1;
	m->files = bd_calloc(n ? n : 1, sizeof(*m->files));
	for (uint64_t i = 0; i < n; i++) {
		struct bd_manifest_file *f = &m->files[i];

		if (bd_codec_get_be(&r, 4, &v, err) < 0)
			return -1;
		f->index = (unsigned)v;
		if (bd_codec_get_be(&r, 8, &f->size, err) < 0)
			return -1;
		m->nfiles++; /* from here on bd_manifest_free releases the entry */
		if (bd_codec_get_string(&r, 0, &f->name, err) < 0 ||
		    bd_codec_get_string(&r, 0, &f->content_type, err) < 0)
			return -1;
	}
	if (version >= 2 && decode_v2(&r, m, err) < 0)
		return -1;
	if (bd_codec_get_end(&r, err) < 0)
		return -1;
	return check_indexes(m->files, m->nfiles, err);
}

/* ---- seal and open --------------------------------------------------------------------------- */

int bd_manifest_seal(const struct bd_manifest *m, const struct bd_package_keys *keys,
                     const uint8_t gateway_pk[32], uint8_t **out, size_t *outlen,
                     struct bd_error *err)
{
	struct bd_manifest_header h = {
	        .link_key_id = m->link_key_id,
	        .gateway_key_id = m->gateway_key_id,
	        .created = m->created,
	        .expires = m->expires,
	};
	struct bd_manifest current = *m;
	uint8_t *body;
	size_t bodylen;
	int rc;

	memcpy(h.package_id, m->package_id, BD_PACKAGE_ID_BYTES);
	current.version =
	        BD_MANIFEST_VERSION; /* an opened version 1 manifest is written anew as 2 */
	if (bd_manifest_body_encode(&current, &body, &bodylen, err) < 0)
		return -1;
	rc = bd_sealed_seal(BD_SEALED_MANIFEST, &h, keys, gateway_pk, body, bodylen, out, outlen,
	                    err);
	sodium_memzero(body, bodylen);
	free(body);
	return rc;
}

int bd_manifest_open(const uint8_t *buf, size_t len, const uint8_t secret[BD_SECRET_BYTES],
                     const struct bd_keyring *kr, struct bd_manifest **m_out,
                     struct bd_package_keys **keys_out, struct bd_error *err)
{
	struct bd_manifest_header h;
	struct bd_package_keys *keys = NULL;
	struct bd_manifest *m;
	uint8_t *body;
	size_t bodylen;
	int rc;

	if (bd_sealed_open(BD_SEALED_MANIFEST, buf, len, secret, kr, &h, &body, &bodylen, &keys,
	                   err) < 0)
		return -1;
	m = bd_manifest_new();
	m->version = h.version;
	rc = bd_manifest_body_decode(body, bodylen, m, err);
	sodium_memzero(body, bodylen);
	free(body);
	if (rc < 0) {
		bd_manifest_free(&m);
		bd_package_keys_free(&keys);
		return -1;
	}
	memcpy(m->package_id, h.package_id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = h.link_key_id;
	m->gateway_key_id = h.gateway_key_id;
	m->created = h.created;
	m->expires = h.expires;
	*m_out = m;
	*keys_out = keys;
	return 0;
}
