/*
 * upload.c - upload requests and uploads (see upload.h).
 *
 * A request is one sealed object; an upload is a package written file by
 * file: the push encryptor writes each file's ciphertext to an unlinked spool
 * file, which is stored whole when the file ends (store puts need the
 * length, and the length of a form upload is known only at its end). The
 * plaintext never touches the disk. The manifest is stored last, so an upload
 * that fails half-way has no manifest and bd_upload_abort removes the rest.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "upload.h"
#include "download.h"
#include "mem.h"
#include "remove.h"
#include "scan.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_BYTES 255 /* a display name, cut at a character boundary */
#define TYPE_MAX_BYTES 127

/* ---- requests -------------------------------------------------------------------------------- */

/* The current keys: link key id, gateway key id and its public key. */
static int current_keys(const struct bd_keyring *kr, unsigned *link, unsigned *gateway,
                        const uint8_t **pk, struct bd_error *err)
{
	*link = bd_keyring_current(kr, BD_KEY_LINK);
	*gateway = bd_keyring_current(kr, BD_KEY_GATEWAY);
	*pk = *gateway ? bd_keyring_gateway_public(kr, *gateway) : NULL;
	if (*link == 0 || *pk == NULL)
		return bd_error_set(err, BD_E_KEY, "no current link key or gateway public key");
	return 0;
}

/* Put a small buffer as object N of package ID. */
static int put_buffer(struct bd_store *s, const uint8_t id[BD_PACKAGE_ID_BYTES], unsigned n,
                      const uint8_t *buf, size_t len, struct bd_error *err)
{
	struct bd_mem_source src;
	char name[64];

	bd_package_object_name(id, n, name, sizeof(name));
	bd_mem_source_init(&src, buf, len);
	return bd_store_put(s, name, &src.source, len, err);
}

static int encode_token(enum bd_token_type type, unsigned link_key, int64_t expires,
                        const struct bd_package_keys *keys, const struct bd_keyring *kr,
                        char token[BD_TOKEN_MAX_CHARS + 1], struct bd_error *err)
{
	struct bd_token t = {.type = type, .key_id = link_key, .expires = expires};
	int rc;

	memcpy(t.package_id, keys->id, BD_PACKAGE_ID_BYTES);
	memcpy(t.secret, keys->secret, BD_SECRET_BYTES);
	rc = bd_token_encode(&t, kr, token, err);
	sodium_memzero(&t, sizeof(t));
	return rc;
}

int bd_upload_request_create(struct bd_store *s, const struct bd_keyring *kr, struct bd_request *r,
                             char token[BD_TOKEN_MAX_CHARS + 1], struct bd_error *err)
{
	struct bd_package_keys *keys;
	const uint8_t *pk;
	uint8_t *buf;
	size_t len;
	int rc;

	if (current_keys(kr, &r->link_key_id, &r->gateway_key_id, &pk, err) < 0)
		return -1;
	keys = bd_package_keys_new();
	memcpy(r->id, keys->id, BD_PACKAGE_ID_BYTES);
	rc = bd_request_seal(r, keys, pk, &buf, &len, err);
	if (rc == 0) {
		rc = put_buffer(s, keys->id, 0, buf, len, err);
		free(buf);
	}
	if (rc == 0)
		rc = encode_token(BD_TOKEN_UPLOAD, r->link_key_id, r->expires, keys, kr, token,
		                  err);
	bd_package_keys_free(&keys);
	return rc;
}

int bd_upload_request_open(const char *token, const struct bd_keyring *kr, struct bd_store *s,
                           int64_t now, struct bd_request **out, struct bd_error *err)
{
	struct bd_buf_sink buf;
	struct bd_token t;
	struct bd_request *r = NULL;
	char name[64];
	int rc;

	*out = NULL;
	if (bd_token_decode(token, kr, now, &t, err) < 0)
		return -1;
	if (t.type != BD_TOKEN_UPLOAD) {
		sodium_memzero(&t, sizeof(t));
		return bd_error_set(err, BD_E_INVALID, "not an upload-request link");
	}
	bd_package_object_name(t.package_id, 0, name, sizeof(name));
	rc = bd_download_fetch_small(s, name, 0, BD_MANIFEST_MAX_BYTES, &buf, err);
	if (rc == 0) {
		rc = bd_request_open(buf.data, buf.len, t.secret, kr, &r, NULL, err);
		free(buf.data);
	}
	if (rc == 0 && memcmp(r->id, t.package_id, BD_PACKAGE_ID_BYTES) != 0) {
		rc = bd_error_set(err, BD_E_CRYPTO, "request %s belongs to another link", name);
		bd_request_free(&r);
	}
	sodium_memzero(&t, sizeof(t));
	if (rc == 0 && r->expires <= now) {
		bd_request_free(&r);
		return bd_error_set(err, BD_E_EXPIRED, "upload request has expired");
	}
	*out = r;
	return rc;
}

int bd_upload_request_delete(struct bd_store *s, const struct bd_request *r, struct bd_error *err)
{
	char id[BD_PACKAGE_ID_HEX];

	bd_package_id_hex(r->id, id);
	return bd_package_delete(s, id, NULL, err);
}

/* ---- uploads --------------------------------------------------------------------------------- */

struct bd_upload {
	struct bd_store *store;
	const struct bd_keyring *kr;
	struct bd_package_keys *keys;
	struct bd_manifest *m;
	char id_hex[BD_PACKAGE_ID_HEX];
	char *spool_dir;
	int64_t retention, request_expires;
	uint64_t max_file, max_total, total, file_size;
	unsigned max_files;
	int fd; /* the spool file, reused for every file */
	struct bd_sink sink;
	struct bd_stream_push *push; /* the file arriving, or NULL */
	char *clamd;                 /* NULL: no scanning */
	unsigned scan_timeout;
	struct bd_scan *scan; /* the arriving file's, with clamd */
	char *name, *type;
	int done; /* committed or aborted */
};

static int spool_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct bd_upload *u = ctx;

	return bd_write_all(u->fd, buf, len);
}

static ssize_t spool_read(void *ctx, uint8_t *buf, size_t len)
{
	struct bd_upload *u = ctx;
	ssize_t n;

	do
		n = read(u->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* An unlinked 0600 file in the spool directory: nothing is left behind by a crash. */
static int spool_open(struct bd_upload *u, struct bd_error *err)
{
	char *path;

	if (u->fd >= 0) {
		if (ftruncate(u->fd, 0) < 0 || lseek(u->fd, 0, SEEK_SET) < 0)
			return bd_error_set(err, BD_E_IO, "spool file: %s", strerror(errno));
		return 0;
	}
	u->fd = open(u->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (u->fd >= 0)
		return 0;
	path = bd_asprintf("%s/upload-XXXXXX", u->spool_dir);
	u->fd = mkostemp(path, O_CLOEXEC);
	if (u->fd >= 0)
		unlink(path);
	free(path);
	if (u->fd < 0)
		return bd_error_set(err, BD_E_IO, "cannot make a spool file in %s: %s",
		                    u->spool_dir, strerror(errno));
	return 0;
}

struct bd_upload *bd_upload_begin(const struct bd_request *req, struct bd_store *s,
                                  const struct bd_keyring *kr,
                                  const struct bd_upload_settings *settings, int64_t now)
{
	struct bd_upload *u = bd_calloc(1, sizeof(*u));

	u->store = s;
	u->kr = kr;
	u->keys = bd_package_keys_new();
	bd_package_id_hex(u->keys->id, u->id_hex);
	u->m = bd_manifest_new();
	memcpy(u->m->package_id, u->keys->id, BD_PACKAGE_ID_BYTES);
	u->m->created = now;
	u->spool_dir = bd_strdup(settings->spool_dir);
	u->retention = settings->retention;
	u->request_expires = req->expires;
	u->max_file = req->max_file_size;
	u->max_total = req->max_total_size;
	u->max_files = req->max_files;
	u->fd = -1;
	u->sink = (struct bd_sink){spool_write, u};
	u->clamd = settings->clamd != NULL && settings->clamd[0] != '\0'
	                   ? bd_strdup(settings->clamd)
	                   : NULL;
	u->scan_timeout = settings->scan_timeout;
	return u;
}

/* What a browser sent as text to keep: valid UTF-8 without control characters, at most
 * MAX bytes; of a file name (BASENAME) only its last path part. */
static char *display_name(const char *raw, size_t max, int basename, const char *fallback)
{
	const char *base = raw != NULL ? raw : "";
	char *valid, *out;
	GString *s;

	for (const char *p = base; basename && *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	valid = g_utf8_make_valid(base, -1);
	s = g_string_new(NULL);
	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		const char *next = g_utf8_next_char(p);

		if (s->len + (size_t)(next - p) > max)
			break;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
			g_string_append_c(s, '_');
		else
			g_string_append_len(s, p, next - p);
	}
	g_free(valid);
	out = bd_strdup(s->len > 0 ? s->str : fallback);
	g_string_free(s, TRUE);
	return out;
}

int bd_upload_file_begin(struct bd_upload *u, const char *name, const char *content_type,
                         struct bd_error *err)
{
	uint8_t *key;

	if (u->done || u->push != NULL)
		return bd_error_set(err, BD_E_INVALID, "upload: a file is still open");
	if ((int64_t)time(NULL) >= u->request_expires)
		return bd_error_set(err, BD_E_EXPIRED, "upload request has expired");
	if (u->m->nfiles >= u->max_files)
		return bd_error_set(err, BD_E_LIMIT, "upload: more than %u files", u->max_files);
	if (spool_open(u, err) < 0)
		return -1;
	bd_scan_free(&u->scan);
	if (u->clamd != NULL && (u->scan = bd_scan_begin(u->clamd, u->scan_timeout, err)) == NULL)
		return -1;
	free(u->name);
	free(u->type);
	u->name = display_name(name, NAME_MAX_BYTES, 1, "upload");
	u->type = display_name(content_type, TYPE_MAX_BYTES, 0, "application/octet-stream");
	key = bd_secret_alloc(BD_CONTENT_KEY_BYTES);
	bd_package_file_key(u->keys, (unsigned)u->m->nfiles + 1, key);
	u->push = bd_stream_push_new(key, &u->sink);
	bd_secret_free(key);
	u->file_size = 0;
	return 0;
}

int bd_upload_file_write(struct bd_upload *u, const uint8_t *data, size_t len, struct bd_error *err)
{
	if (u->push == NULL)
		return bd_error_set(err, BD_E_INVALID, "upload: no file is open");
	if (len > u->max_file - u->file_size)
		return bd_error_set(err, BD_E_LIMIT, "upload: file %s is larger than %llu bytes",
		                    u->name, (unsigned long long)u->max_file);
	if (len > u->max_total - u->total)
		return bd_error_set(err, BD_E_LIMIT, "upload: the files are larger than %llu bytes",
		                    (unsigned long long)u->max_total);
	u->file_size += len;
	u->total += len;
	if (u->scan != NULL && bd_scan_write(u->scan, data, len, err) < 0)
		return -1;
	return bd_stream_push_update(u->push, data, len, err);
}

int bd_upload_file_end(struct bd_upload *u, struct bd_error *err)
{
	struct bd_source src = {spool_read, u};
	unsigned index = (unsigned)u->m->nfiles + 1;
	uint64_t plain;
	char name[64];
	int rc;

	if (u->push == NULL)
		return bd_error_set(err, BD_E_INVALID, "upload: no file is open");
	rc = bd_stream_push_final(u->push, &plain, err);
	bd_stream_push_free(&u->push);
	if (rc == 0 && u->scan != NULL)
		rc = bd_scan_end(u->scan, err); /* only a clean file is stored */
	bd_scan_free(&u->scan);
	if (rc < 0)
		return -1;
	if (lseek(u->fd, 0, SEEK_SET) < 0)
		return bd_error_set(err, BD_E_IO, "spool file: %s", strerror(errno));
	bd_package_object_name(u->keys->id, index, name, sizeof(name));
	if (bd_store_put(u->store, name, &src, bd_stream_ciphertext_size(plain), err) < 0)
		return -1;
	bd_manifest_add_file(u->m, index, u->name, u->type, plain);
	return 0;
}

int bd_upload_commit(struct bd_upload *u, const char *uploader, char token[BD_TOKEN_MAX_CHARS + 1],
                     struct bd_error *err)
{
	const uint8_t *pk;
	uint8_t *buf;
	size_t len;
	int rc;

	if (u->done || u->push != NULL)
		return bd_error_set(err, BD_E_INVALID, "upload: not ready to commit");
	if (u->m->nfiles == 0)
		return bd_error_set(err, BD_E_INVALID, "upload: no file came");
	if ((int64_t)time(NULL) >= u->request_expires)
		return bd_error_set(err, BD_E_EXPIRED, "upload request has expired");
	if (current_keys(u->kr, &u->m->link_key_id, &u->m->gateway_key_id, &pk, err) < 0)
		return -1;
	u->m->expires = u->m->created + u->retention;
	free(u->m->sender);
	u->m->sender = uploader != NULL && uploader[0] != '\0'
	                       ? display_name(uploader, NAME_MAX_BYTES, 0, "")
	                       : NULL;
	if (bd_manifest_seal(u->m, u->keys, pk, &buf, &len, err) < 0)
		return -1;
	rc = put_buffer(u->store, u->keys->id, 0, buf, len, err);
	free(buf);
	if (rc == 0)
		rc = encode_token(BD_TOKEN_DOWNLOAD, u->m->link_key_id, u->m->expires, u->keys,
		                  u->kr, token, err);
	if (rc == 0)
		u->done = 1;
	return rc;
}

const struct bd_manifest *bd_upload_manifest(const struct bd_upload *u)
{
	return u->m;
}

const char *bd_upload_package_id(const struct bd_upload *u)
{
	return u->id_hex;
}

int bd_upload_abort(struct bd_upload *u, struct bd_error *err)
{
	bd_stream_push_free(&u->push);
	u->done = 1;
	return bd_package_delete(u->store, u->id_hex, NULL, err);
}

void bd_upload_free(struct bd_upload **up)
{
	struct bd_upload *u = *up;

	if (u == NULL)
		return;
	if (!u->done)
		bd_upload_abort(u, NULL);
	bd_stream_push_free(&u->push);
	bd_scan_free(&u->scan);
	free(u->clamd);
	if (u->fd >= 0)
		close(u->fd);
	bd_package_keys_free(&u->keys);
	bd_manifest_free(&u->m);
	free(u->spool_dir);
	free(u->name);
	free(u->type);
	free(u);
	*up = NULL;
}
