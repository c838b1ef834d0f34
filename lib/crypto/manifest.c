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

/* ---- the manifest object --------------------------------------------------------------------- */

struct bd_manifest *bd_manifest_new(void)
{
	return bd_calloc(1, sizeof(struct bd_manifest));
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

int bd_manifest_body_encode(const struct bd_manifest *m, uint8_t **out, size_t *outlen,
                            struct bd_error *err)
{
	struct bd_codec_writer w = {0};

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
	uint64_t n, v;

	if (bd_codec_get_string(&r, 1, &m->sender, err) < 0 ||
	    bd_codec_get_string(&r, 1, &m->message_id, err) < 0)
		return -1;
	if (bd_codec_get_be(&r, 2, &n, err) < 0)
		return -1;
	if (n > BD_MANIFEST_MAX_FILES)
		return bd_error_set(err, BD_E_LIMIT, "manifest body: %llu files",
		                    (unsigned long long)n);
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
	uint8_t *body;
	size_t bodylen;
	int rc;

	memcpy(h.package_id, m->package_id, BD_PACKAGE_ID_BYTES);
	if (bd_manifest_body_encode(m, &body, &bodylen, err) < 0)
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
