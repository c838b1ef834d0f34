/*
 * sealed.c - the clear header, the sealed body and the body codec that the
 * manifest and the upload request share (see sealed.h; layouts in
 * docs/FORMAT.md, sections 5 and 10).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "sealed.h"
#include "mem.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t magics[][4] = {
        [BD_SEALED_MANIFEST] = {'B', 'D', 'M', 'F'},
        [BD_SEALED_REQUEST] = {'B', 'D', 'R', 'Q'},
};

/* The newest body version of each kind: the one written, and the highest one read. */
static const unsigned versions[] = {
        [BD_SEALED_MANIFEST] = BD_MANIFEST_VERSION,
        [BD_SEALED_REQUEST] = 1,
};

static const char *const kind_names[] = {
        [BD_SEALED_MANIFEST] = "manifest",
        [BD_SEALED_REQUEST] = "upload request",
};

/* ---- big-endian integers --------------------------------------------------------------------- */

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

/* ---- body codec ------------------------------------------------------------------------------ */

void bd_codec_put(struct bd_codec_writer *w, const void *data, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		uint8_t *p;

		while (cap < w->len + n)
			cap *= 2;
		/* names and addresses: the old buffer is wiped, not just released */
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

void bd_codec_put_be(struct bd_codec_writer *w, uint64_t v, int n)
{
	uint8_t b[8];

	put_be(b, v, n);
	bd_codec_put(w, b, (size_t)n);
}

int bd_codec_put_string(struct bd_codec_writer *w, const char *s, const char *what,
                        struct bd_error *err)
{
	size_t n = s ? strlen(s) : 0;

	if (n > BD_MANIFEST_MAX_STRING)
		return bd_error_set(err, BD_E_LIMIT, "%s is %zu bytes, at most %d allowed", what, n,
		                    BD_MANIFEST_MAX_STRING);
	bd_codec_put_be(w, n, 2);
	bd_codec_put(w, s, n);
	return 0;
}

void bd_codec_writer_wipe(struct bd_codec_writer *w)
{
	if (w->p != NULL)
		sodium_memzero(w->p, w->cap);
	free(w->p);
	memset(w, 0, sizeof(*w));
}

int bd_codec_get_be(struct bd_codec_reader *r, int n, uint64_t *v, struct bd_error *err)
{
	if (r->len - r->pos < (size_t)n)
		return bd_error_set(err, BD_E_INVALID, "%s: truncated", r->what);
	*v = get_be(r->p + r->pos, n);
	r->pos += (size_t)n;
	return 0;
}

int bd_codec_get_string(struct bd_codec_reader *r, int empty_null, char **out, struct bd_error *err)
{
	uint64_t n = 0;

	if (bd_codec_get_be(r, 2, &n, err) < 0)
		return -1;
	if (r->len - r->pos < n)
		return bd_error_set(err, BD_E_INVALID, "%s: truncated", r->what);
	if (n > BD_MANIFEST_MAX_STRING)
		return bd_error_set(err, BD_E_LIMIT, "%s: a string of %llu bytes", r->what,
		                    (unsigned long long)n);
	if (memchr(r->p + r->pos, '\0', n) != NULL)
		return bd_error_set(err, BD_E_INVALID, "%s: a string holds a NUL byte", r->what);
	*out = n == 0 && empty_null ? NULL : bd_strndup((const char *)r->p + r->pos, n);
	r->pos += n;
	return 0;
}

int bd_codec_get_count(struct bd_codec_reader *r, uint64_t max, const char *what, uint64_t *n,
                       struct bd_error *err)
{
	if (bd_codec_get_be(r, 2, n, err) < 0)
		return -1;
	if (*n > max)
		return bd_error_set(err, BD_E_LIMIT, "%s: %llu %s", r->what, (unsigned long long)*n,
		                    what);
	return 0;
}

int bd_codec_get_end(const struct bd_codec_reader *r, struct bd_error *err)
{
	if (r->pos != r->len)
		return bd_error_set(err, BD_E_INVALID, "%s: %zu bytes of trailing data", r->what,
		                    r->len - r->pos);
	return 0;
}

/* ---- header ---------------------------------------------------------------------------------- */

static void header_encode(enum bd_sealed_kind kind, const struct bd_manifest_header *h,
                          const uint8_t nonce[24], uint8_t out[BD_MANIFEST_HEADER_BYTES])
{
	memcpy(out, magics[kind], 4);
	out[4] = (uint8_t)versions[kind];
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
	if (memcmp(buf, magics[BD_SEALED_MANIFEST], 4) == 0)
		h->kind = BD_SEALED_MANIFEST;
	else if (memcmp(buf, magics[BD_SEALED_REQUEST], 4) == 0)
		h->kind = BD_SEALED_REQUEST;
	else
		return bd_error_set(err, BD_E_INVALID, "not a bestanden manifest (bad magic)");
	if (buf[4] < 1 || buf[4] > versions[h->kind])
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

static void body_key(enum bd_sealed_kind kind, const struct bd_package_keys *keys, uint8_t *key)
{
	if (kind == BD_SEALED_REQUEST)
		bd_package_request_key(keys, key);
	else
		bd_package_manifest_key(keys, key);
}

int bd_sealed_seal(enum bd_sealed_kind kind, const struct bd_manifest_header *h,
                   const struct bd_package_keys *keys, const uint8_t gateway_pk[32],
                   const uint8_t *body, size_t bodylen, uint8_t **out, size_t *outlen,
                   struct bd_error *err)
{
	struct bd_manifest_header hh = *h;
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t *key, *buf;

	if (sodium_init() < 0)
		return bd_error_set(err, BD_E_CRYPTO, "libsodium could not be initialised");
	if (memcmp(h->package_id, keys->id, BD_PACKAGE_ID_BYTES) != 0)
		return bd_error_set(err, BD_E_INVALID, "%s: package id differs from the keys' id",
		                    kind_names[kind]);
	if (h->link_key_id < 1 || h->link_key_id > BD_KEY_ID_MAX || h->gateway_key_id < 1 ||
	    h->gateway_key_id > BD_KEY_ID_MAX)
		return bd_error_set(err, BD_E_INVALID, "%s: key ids must be 1..%d",
		                    kind_names[kind], BD_KEY_ID_MAX);
	if (bd_package_seal_server_key(keys, gateway_pk, hh.sealed_server_key) < 0)
		return bd_error_set(err, BD_E_KEY, "gateway public key %u is unusable",
		                    h->gateway_key_id);
	randombytes_buf(nonce, sizeof(nonce));
	*outlen = BD_MANIFEST_HEADER_BYTES + bodylen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	buf = bd_malloc(*outlen);
	header_encode(kind, &hh, nonce, buf);
	key = bd_secret_alloc(BD_CONTENT_KEY_BYTES);
	body_key(kind, keys, key);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + BD_MANIFEST_HEADER_BYTES, NULL, body,
	                                           bodylen, buf, BD_MANIFEST_HEADER_BYTES, NULL,
	                                           nonce, key);
	bd_secret_free(key);
	*out = buf;
	return 0;
}

int bd_sealed_open(enum bd_sealed_kind kind, const uint8_t *buf, size_t len,
                   const uint8_t secret[BD_SECRET_BYTES], const struct bd_keyring *kr,
                   struct bd_manifest_header *h, uint8_t **body_out, size_t *bodylen_out,
                   struct bd_package_keys **keys_out, struct bd_error *err)
{
	struct bd_package_keys *keys = NULL;
	const uint8_t *pk, *sk;
	uint8_t *key = NULL, *body = NULL;
	size_t bodylen = 0;

	if (sodium_init() < 0)
		return bd_error_set(err, BD_E_CRYPTO, "libsodium could not be initialised");
	if (bd_manifest_parse_header(buf, len, h, err) < 0 || h->kind != kind) {
		/* to the gateway a damaged header, or another kind of object, is damage */
		return bd_error_set(err, BD_E_CRYPTO, "%s: not one, or a damaged header",
		                    kind_names[kind]);
	}
	pk = bd_keyring_gateway_public(kr, h->gateway_key_id);
	sk = bd_keyring_gateway_secret(kr, h->gateway_key_id);
	if (pk == NULL || sk == NULL)
		return bd_error_set(err, BD_E_KEY, "%s: gateway key %u is not available",
		                    kind_names[kind], h->gateway_key_id);
	keys = bd_package_keys_alloc();
	memcpy(keys->id, h->package_id, BD_PACKAGE_ID_BYTES);
	memcpy(keys->secret, secret, BD_SECRET_BYTES);
	if (bd_package_open_server_key(h->sealed_server_key, pk, sk, keys, err) < 0)
		goto fail;
	key = bd_secret_alloc(BD_CONTENT_KEY_BYTES);
	body_key(kind, keys, key);
	bodylen = len - BD_MANIFEST_HEADER_BYTES - crypto_aead_xchacha20poly1305_ietf_ABYTES;
	body = bd_malloc(bodylen ? bodylen : 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	            body, NULL, NULL, buf + BD_MANIFEST_HEADER_BYTES,
	            len - BD_MANIFEST_HEADER_BYTES, buf, BD_MANIFEST_HEADER_BYTES, buf + 112,
	            key) != 0) {
		bd_error_set(err, BD_E_CRYPTO,
		             "%s: the body does not authenticate (wrong link secret or damaged)",
		             kind_names[kind]);
		goto fail;
	}
	bd_secret_free(key);
	*body_out = body;
	*bodylen_out = bodylen;
	*keys_out = keys;
	return 0;
fail:
	bd_secret_free(key);
	if (body)
		sodium_memzero(body, bodylen);
	free(body);
	bd_package_keys_free(&keys);
	return -1;
}
