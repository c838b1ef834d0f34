/*
 * download.c - token → manifest → decrypted file ranges (see download.h).
 *
 * The token is checked before storage is touched, so forged and expired
 * links cost no storage request. The manifest is read whole, with a hard
 * cap; files are streamed: only one chunk is in memory at a time. A file's
 * object must be exactly C(P) bytes long (docs/FORMAT.md 4.4): one with bytes
 * appended or cut off is refused before any of it is read.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "download.h"
#include "mem.h"
#include "package.h"
#include "stream.h"
#include "token.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct bd_download {
	struct bd_manifest *manifest;
	struct bd_package_keys *keys;
	struct bd_store *store;
	char id_hex[BD_PACKAGE_ID_HEX];
};

/* A buffer sink that refuses more than MAX bytes. */
struct capped_sink {
	struct bd_buf_sink buf;
	size_t max;
};

static int capped_write(void *ctx, const uint8_t *data, size_t len)
{
	struct capped_sink *s = ctx;

	if (s->buf.len + len > s->max)
		return -1;
	return s->buf.sink.write(&s->buf, data, len);
}

int bd_download_fetch_small(struct bd_store *store, const char *name, uint64_t off, size_t max,
                            struct bd_buf_sink *out, struct bd_error *err)
{
	struct capped_sink cs;
	struct bd_sink sink = {capped_write, &cs};

	bd_buf_sink_init(&cs.buf);
	cs.max = max;
	if (bd_store_get(store, name, off, max, &sink, err) < 0) {
		free(cs.buf.data);
		return -1;
	}
	*out = cs.buf;
	return 0;
}

int bd_download_open(const char *token, const struct bd_keyring *kr, struct bd_store *store,
                     int64_t now, struct bd_download **out, struct bd_error *err)
{
	return bd_download_open_as(token, BD_TOKEN_DOWNLOAD, kr, store, now, out, err);
}

int bd_download_open_as(const char *token, enum bd_token_type type, const struct bd_keyring *kr,
                        struct bd_store *store, int64_t now, struct bd_download **out,
                        struct bd_error *err)
{
	struct bd_manifest *m = NULL;
	struct bd_package_keys *keys = NULL;
	struct bd_buf_sink buf;
	struct bd_token t;
	char name[64];
	int r, link_expired = 0;

	*out = NULL;
	if (bd_token_decode(token, kr, now, &t, err) < 0) {
		struct bd_error again;

		/* A genuine link past its own date still opens a package whose expiry was
		 * extended (bd_download_extend): the manifest's date is the one in force. */
		if (err == NULL || err->code != BD_E_EXPIRED ||
		    bd_token_decode(token, kr, 0, &t, &again) < 0)
			return -1;
		link_expired = 1;
	}
	if (t.type != type) {
		sodium_memzero(&t, sizeof(t));
		return bd_error_set(err, BD_E_INVALID,
		                    type == BD_TOKEN_DOWNLOAD ? "not a download link"
		                                              : "not a management link");
	}
	bd_package_object_name(t.package_id, 0, name, sizeof(name));
	if (bd_download_fetch_small(store, name, 0, BD_MANIFEST_MAX_BYTES, &buf, err) < 0) {
		sodium_memzero(&t, sizeof(t));
		if (link_expired && err->code == BD_E_NOTFOUND) /* swept: say expired, as before */
			return bd_error_set(err, BD_E_EXPIRED, "package has expired");
		return -1;
	}
	r = bd_manifest_open(buf.data, buf.len, t.secret, kr, &m, &keys, err);
	free(buf.data);
	if (r < 0) {
		sodium_memzero(&t, sizeof(t));
		return -1;
	}
	if (memcmp(m->package_id, t.package_id, BD_PACKAGE_ID_BYTES) != 0) {
		sodium_memzero(&t, sizeof(t));
		bd_manifest_free(&m);
		bd_package_keys_free(&keys);
		return bd_error_set(err, BD_E_CRYPTO, "manifest %s belongs to another package",
		                    name);
	}
	sodium_memzero(&t, sizeof(t));
	if (m->expires <= now) {
		bd_manifest_free(&m);
		bd_package_keys_free(&keys);
		return bd_error_set(err, BD_E_EXPIRED, "package has expired");
	}
	*out = bd_calloc(1, sizeof(**out));
	(*out)->manifest = m;
	(*out)->keys = keys;
	(*out)->store = store;
	bd_package_id_hex(m->package_id, (*out)->id_hex);
	return 0;
}

const struct bd_manifest *bd_download_manifest(const struct bd_download *d)
{
	return d->manifest;
}

const char *bd_download_package_id(const struct bd_download *d)
{
	return d->id_hex;
}

const struct bd_package_keys *bd_download_keys(const struct bd_download *d)
{
	return d->keys;
}

const struct bd_manifest_file *bd_download_find(const struct bd_download *d, unsigned index)
{
	for (size_t i = 0; i < d->manifest->nfiles; i++)
		if (d->manifest->files[i].index == index)
			return &d->manifest->files[i];
	return NULL;
}

struct dec_sink {
	struct bd_stream_dec *dec;
	struct bd_error err;
	int failed;
};

static int dec_write(void *ctx, const uint8_t *data, size_t len)
{
	struct dec_sink *s = ctx;

	if (bd_stream_dec_update(s->dec, data, len, &s->err) < 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

/* bd_download_file, decrypting into room that LEND (may be NULL) lends of OUT. */
static int download_file(struct bd_download *d, unsigned index, uint64_t off, uint64_t len,
                         struct bd_sink *out, struct bd_lending_sink *lend, struct bd_error *err)
{
	const struct bd_manifest_file *f = bd_download_find(d, index);
	uint8_t key[BD_CONTENT_KEY_BYTES];
	struct bd_buf_sink header;
	struct dec_sink ds = {0};
	struct bd_sink sink = {dec_write, &ds};
	uint64_t coff, clen, stored;
	char name[64];
	int r;

	if (f == NULL)
		return bd_error_set(err, BD_E_NOTFOUND, "package %s has no file %u", d->id_hex,
		                    index);
	if (off > f->size || (off == f->size && f->size > 0))
		return bd_error_set(err, BD_E_INVALID, "range starts beyond the end of the file");
	if (len == BD_STORE_TO_END || len > f->size - off)
		len = f->size - off;
	bd_package_object_name(d->manifest->package_id, index, name, sizeof(name));
	if (bd_store_head(d->store, name, &stored, err) < 0)
		return -1;
	if (stored != bd_stream_ciphertext_size(f->size))
		return bd_error_set(err, BD_E_CRYPTO,
		                    "object %s has %llu bytes, not the %llu of its file", name,
		                    (unsigned long long)stored,
		                    (unsigned long long)bd_stream_ciphertext_size(f->size));
	if (bd_download_fetch_small(d->store, name, 0, bd_stream_header_size(), &header, err) < 0)
		return -1;
	bd_package_file_key(d->keys, index, key);
	ds.dec = bd_stream_dec_new(key, header.data, header.len, f->size, off, len, out, err);
	sodium_memzero(key, sizeof(key));
	free(header.data);
	if (ds.dec == NULL)
		return -1;
	if (lend != NULL)
		bd_stream_dec_lend(ds.dec, lend);
	bd_stream_cipher_range(f->size, off, len, &coff, &clen);
	r = bd_store_get(d->store, name, coff, clen, &sink, err);
	if (ds.failed) {
		/* the decryptor's reason is the real one, not "transfer stopped" */
		if (err)
			*err = ds.err;
		r = -1;
	}
	if (r == 0)
		r = bd_stream_dec_final(ds.dec, err);
	bd_stream_dec_free(&ds.dec);
	return r;
}

int bd_download_file(struct bd_download *d, unsigned index, uint64_t off, uint64_t len,
                     struct bd_sink *out, struct bd_error *err)
{
	return download_file(d, index, off, len, out, NULL, err);
}

int bd_download_file_lent(struct bd_download *d, unsigned index, uint64_t off, uint64_t len,
                          struct bd_lending_sink *out, struct bd_error *err)
{
	return download_file(d, index, off, len, &out->sink, out, err);
}

int bd_download_extend(struct bd_download *d, const struct bd_keyring *kr, int64_t expires,
                       struct bd_error *err)
{
	const uint8_t *pk = bd_keyring_gateway_public(kr, d->manifest->gateway_key_id);
	struct bd_mem_source src;
	int64_t before = d->manifest->expires;
	uint8_t *sealed;
	size_t len;
	char name[64];
	int r;

	if (pk == NULL)
		return bd_error_set(err, BD_E_KEY, "gateway public key %u is not in the keyring",
		                    d->manifest->gateway_key_id);
	d->manifest->expires = expires;
	r = bd_manifest_seal(d->manifest, d->keys, pk, &sealed, &len, err);
	if (r == 0) {
		bd_mem_source_init(&src, sealed, len);
		bd_package_object_name(d->manifest->package_id, 0, name, sizeof(name));
		r = bd_store_put(d->store, name, &src.source, len, err);
		free(sealed);
	}
	if (r < 0)
		d->manifest->expires = before;
	return r;
}

int64_t bd_download_extend_limit(const struct bd_download *d, uint64_t max_retention)
{
	return d->manifest->created + (int64_t)max_retention;
}

int bd_download_extend_within(struct bd_download *d, const struct bd_keyring *kr, int64_t expires,
                              int64_t now, uint64_t max_retention, struct bd_error *err)
{
	if (expires <= now || expires > bd_download_extend_limit(d, max_retention))
		return bd_error_set(err, BD_E_INVALID,
		                    "the expiry must lie in the future and within the maximum "
		                    "retention from the package's creation");
	return bd_download_extend(d, kr, expires, err);
}

void bd_download_close(struct bd_download **dp)
{
	struct bd_download *d = *dp;

	if (d == NULL)
		return;
	bd_manifest_free(&d->manifest);
	bd_package_keys_free(&d->keys);
	free(d);
	*dp = NULL;
}
