/*
 * manifest.c - sealing and opening the per-package manifest.
 *
 * A fixed 136-byte clear header, then the body encrypted with
 * XChaCha20-Poly1305 under the package's manifest key with the whole header
 * as associated data. The body is a length-prefixed binary list checked
 * against the caps of manifest.h; decoding accepts only what encoding
 * produces. Layout: docs/FORMAT.md, "Manifest".
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "manifest.h"
#include "mem.h"
#include "stream.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t magic[4] = {'B', 'D', 'M', 'F'};

/* ---- big-endian helpers ---------------------------------------------------------------------- */

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

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

struct writer {
	uint8_t *p;
	size_t len, cap;
};

static void w_bytes(struct writer *w, const void *data, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		uint8_t *p;

		while (cap < w->len + n)
			cap *= 2;
		/* file names: the old buffer is wiped, not just released */
		p = bd_malloc(cap);
		if (w->len > 0)
			memcpy(p, w->p, w->len);
		if (w->p != NULL)
			sodium_memzero(w->p, w->cap);
		free(w->p);
		w->p = p;
		w->cap = cap;
	}
	if (n > 0)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void w_be(struct writer *w, uint64_t v, int n)
{
	uint8_t b[8];

	put_be(b, v, n);
	w_bytes(w, b, (size_t)n);
}

static int w_string(struct writer *w, const char *s, const char *what, struct bd_error *err)
{
	size_t n = s ? strlen(s) : 0;

	if (n > BD_MANIFEST_MAX_STRING)
		return bd_error_set(err, BD_E_LIMIT,
		                    "manifest: %s is %zu bytes, at most %d allowed", what, n,
		                    BD_MANIFEST_MAX_STRING);
	w_be(w, n, 2);
	w_bytes(w, s, n);
	return 0;
}

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
	struct writer w = {0};

	if (m->nfiles > BD_MANIFEST_MAX_FILES)
		return bd_error_set(err, BD_E_LIMIT, "manifest: %zu files, at most %d allowed",
		                    m->nfiles, BD_MANIFEST_MAX_FILES);
	if (check_indexes(m->files, m->nfiles, err) < 0)
		return -1;
	if (w_string(&w, m->sender, "the sender", err) < 0 ||
	    w_string(&w, m->message_id, "the Message-ID", err) < 0)
		goto fail;
	w_be(&w, m->nfiles, 2);
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct bd_manifest_file *f = &m->files[i];

		w_be(&w, f->index, 4);
		w_be(&w, f->size, 8);
		if (w_string(&w, f->name, "a file name", err) < 0 ||
		    w_string(&w, f->content_type, "a content type", err) < 0)
			goto fail;
	}
	*out = w.p ? w.p : bd_malloc(1);
	*outlen = w.len;
	return 0;
fail:
	if (w.p)
		sodium_memzero(w.p, w.cap);
	free(w.p);
	return -1;
}

struct reader {
	const uint8_t *p;
	size_t len, pos;
};

static int r_be(struct reader *r, int n, uint64_t *v)
{
	if (r->len - r->pos < (size_t)n)
		return -1;
	*v = get_be(r->p + r->pos, n);
	r->pos += (size_t)n;
	return 0;
}

/* A u16-length string; EMPTY_NULL turns length 0 into NULL (the optional fields). */
static int r_string(struct reader *r, int empty_null, char **out, struct bd_error *err)
{
	uint64_t n;

	if (r_be(r, 2, &n) < 0 || r->len - r->pos < n)
		return bd_error_set(err, BD_E_INVALID, "manifest body: truncated");
	if (n > BD_MANIFEST_MAX_STRING)
		return bd_error_set(err, BD_E_LIMIT, "manifest body: a string of %llu bytes",
		                    (unsigned long long)n);
	if (memchr(r->p + r->pos, '\0', n) != NULL)
		return bd_error_set(err, BD_E_INVALID, "manifest body: a string holds a NUL byte");
	*out = n == 0 && empty_null ? NULL : bd_strndup((const char *)r->p + r->pos, n);
	r->pos += n;
	return 0;
}

int bd_manifest_body_decode(const uint8_t *buf, size_t len, struct bd_manifest *m,
                            struct bd_error *err)
{
	struct reader r = {buf, len, 0};
	uint64_t n, v;

	if (r_string(&r, 1, &m->sender, err) < 0 || r_string(&r, 1, &m->message_id, err) < 0)
		return -1;
	if (r_be(&r, 2, &n) < 0)
		return bd_error_set(err, BD_E_INVALID, "manifest body: truncated");
	if (n > BD_MANIFEST_MAX_FILES)
		return bd_error_set(err, BD_E_LIMIT, "manifest body: %llu files",
		                    (unsigned long long)n);
	m->files = bd_calloc(n ? n : 1, sizeof(*m->files));
	for (uint64_t i = 0; i < n; i++) {
		struct bd_manifest_file *f = &m->files[i];

		if (r_be(&r, 4, &v) < 0)
			return bd_error_set(err, BD_E_INVALID, "manifest body: truncated");
		f->index = (unsigned)v;
		if (r_be(&r, 8, &f->size) < 0)
			return bd_error_set(err, BD_E_INVALID, "manifest body: truncated");
		m->nfiles++; /* from here on bd_manifest_free releases the entry */
		if (r_string(&r, 0, &f->name, err) < 0 ||
		    r_string(&r, 0, &f->content_type, err) < 0)
			return -1;
	}
	if (r.pos != r.len)
		return bd_error_set(err, BD_E_INVALID, "manifest body: %zu bytes of trailing data",
		                    r.len - r.pos);
	return check_indexes(m->files, m->nfiles, err);
}

/* ---- header ---------------------------------------------------------------------------------- */

static void header_encode(const struct bd_manifest_header *h, const uint8_t nonce[24],
                          uint8_t out[BD_MANIFEST_HEADER_BYTES])
{
	memcpy(out, magic, 4);
	out[4] = (uint8_t)h->version;
	out[5] = (uint8_t)h->link_key_id;
	out[6] = (uint8_t)h->gateway_key_id;
	out[7] = 0;
	memcpy(out + 8, h->package_id, BD_PACKAGE_ID_BYTES);
	put_be(out + 16, (uint64_t)h->created, 8);
	put_be(out + 24, (uint64_t)h->expires, 8);
	memcpy(out + 32, h->sealed_server_key, BD_SEALED_SERVER_KEY_BYTES);
	memcpy(out + 112, nonce, 24);
}

int bd_manifest_parse_header(const uint8_t *buf, size_t len, struct bd_manifest_header *h,
                             struct bd_error *err)
{
	if (len < BD_MANIFEST_HEADER_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return bd_error_set(err, BD_E_INVALID, "manifest: %zu bytes is too short", len);
	if (len > BD_MANIFEST_MAX_BYTES)
		return bd_error_set(err, BD_E_LIMIT, "manifest: %zu bytes is larger than allowed",
		                    len);
	if (memcmp(buf, magic, 4) != 0)
		return bd_error_set(err, BD_E_INVALID, "not a bestanden manifest (bad magic)");
	if (buf[4] != BD_MANIFEST_VERSION)
		return bd_error_set(err, BD_E_INVALID, "manifest: unsupported version %u", buf[4]);
	if (buf[5] == 0 || buf[6] == 0 || buf[7] != 0)
		return bd_error_set(err, BD_E_INVALID, "manifest: malformed key ids");
	h->version = buf[4];
	h->link_key_id = buf[5];
	h->gateway_key_id = buf[6];
	memcpy(h->package_id, buf + 8, BD_PACKAGE_ID_BYTES);
	h->created = (int64_t)get_be(buf + 16, 8);
	h->expires = (int64_t)get_be(buf + 24, 8);
	memcpy(h->sealed_server_key, buf + 32, BD_SEALED_SERVER_KEY_BYTES);
	return 0;
}

/* ---- seal and open --------------------------------------------------------------------------- */

int bd_manifest_seal(const struct bd_manifest *m, const struct bd_package_keys *keys,
                     const uint8_t gateway_pk[32], uint8_t **out, size_t *outlen,
                     struct bd_error *err)
{
	struct bd_manifest_header h = {0};
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t *key, *body, *buf;
	size_t bodylen;

	if (sodium_init() < 0)
		return bd_error_set(err, BD_E_CRYPTO, "libsodium could not be initialised");
	if (memcmp(m->package_id, keys->id, BD_PACKAGE_ID_BYTES) != 0)
		return bd_error_set(err, BD_E_INVALID,
		                    "manifest: package id differs from the keys' id");
	if (m->link_key_id < 1 || m->link_key_id > BD_KEY_ID_MAX || m->gateway_key_id < 1 ||
	    m->gateway_key_id > BD_KEY_ID_MAX)
		return bd_error_set(err, BD_E_INVALID, "manifest: key ids must be 1..%d",
		                    BD_KEY_ID_MAX);
	if (bd_manifest_body_encode(m, &body, &bodylen, err) < 0)
		return -1;
	h.version = BD_MANIFEST_VERSION;
	memcpy(h.package_id, m->package_id, BD_PACKAGE_ID_BYTES);
	h.link_key_id = m->link_key_id;
	h.gateway_key_id = m->gateway_key_id;
	h.created = m->created;
	h.expires = m->expires;
	if (bd_package_seal_server_key(keys, gateway_pk, h.sealed_server_key) < 0) {
		sodium_memzero(body, bodylen);
		free(body);
		return bd_error_set(err, BD_E_KEY, "gateway public key %u is unusable",
		                    m->gateway_key_id);
	}
	randombytes_buf(nonce, sizeof(nonce));
	*outlen = BD_MANIFEST_HEADER_BYTES + bodylen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	buf = bd_malloc(*outlen);
	header_encode(&h, nonce, buf);
	key = bd_secret_alloc(BD_CONTENT_KEY_BYTES);
	bd_package_manifest_key(keys, key);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + BD_MANIFEST_HEADER_BYTES, NULL, body,
	                                           bodylen, buf, BD_MANIFEST_HEADER_BYTES, NULL,
	                                           nonce, key);
	bd_secret_free(key);
	sodium_memzero(body, bodylen);
	free(body);
	*out = buf;
	return 0;
}

int bd_manifest_open(const uint8_t *buf, size_t len, const uint8_t secret[BD_SECRET_BYTES],
                     const struct bd_keyring *kr, struct bd_manifest **m_out,
                     struct bd_package_keys **keys_out, struct bd_error *err)
{
	struct bd_manifest_header h;
	struct bd_package_keys *keys = NULL;
	struct bd_manifest *m = NULL;
	const uint8_t *pk, *sk;
	uint8_t *key = NULL, *body = NULL;
	size_t bodylen;

	if (sodium_init() < 0)
		return bd_error_set(err, BD_E_CRYPTO, "libsodium could not be initialised");
	if (bd_manifest_parse_header(buf, len, &h, err) < 0) {
		/* to the gateway a damaged header is a damaged manifest */
		if (err)
			err->code = BD_E_CRYPTO;
		return -1;
	}
	pk = bd_keyring_gateway_public(kr, h.gateway_key_id);
	sk = bd_keyring_gateway_secret(kr, h.gateway_key_id);
	if (pk == NULL || sk == NULL)
		return bd_error_set(err, BD_E_KEY, "manifest: gateway key %u is not available",
		                    h.gateway_key_id);
	keys = bd_package_keys_alloc();
	memcpy(keys->id, h.package_id, BD_PACKAGE_ID_BYTES);
	memcpy(keys->secret, secret, BD_SECRET_BYTES);
	if (bd_package_open_server_key(h.sealed_server_key, pk, sk, keys, err) < 0)
		goto fail;
	key = bd_secret_alloc(BD_CONTENT_KEY_BYTES);
	bd_package_manifest_key(keys, key);
	bodylen = len - BD_MANIFEST_HEADER_BYTES - crypto_aead_xchacha20poly1305_ietf_ABYTES;
	body = bd_malloc(bodylen ? bodylen : 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	            body, NULL, NULL, buf + BD_MANIFEST_HEADER_BYTES,
	            len - BD_MANIFEST_HEADER_BYTES, buf, BD_MANIFEST_HEADER_BYTES, buf + 112,
	            key) != 0) {
		bd_error_set(
		        err, BD_E_CRYPTO,
		        "manifest: the body does not authenticate (wrong link secret or damaged)");
		goto fail;
	}
	m = bd_manifest_new();
	if (bd_manifest_body_decode(body, bodylen, m, err) < 0)
		goto fail;
	memcpy(m->package_id, h.package_id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = h.link_key_id;
	m->gateway_key_id = h.gateway_key_id;
	m->created = h.created;
	m->expires = h.expires;
	bd_secret_free(key);
	sodium_memzero(body, bodylen);
	free(body);
	*m_out = m;
	*keys_out = keys;
	return 0;
fail:
	bd_secret_free(key);
	if (body)
		sodium_memzero(body, bodylen);
	free(body);
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
	return -1;
}
