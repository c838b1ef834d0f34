/*
 * keys.c - reading and writing the key directory (see keys.h).
 *
 * Files are small "name: value" texts so an operator can see what a file is
 * without tools; the key itself is base64. Secret files are read straight
 * into sodium_malloc'ed memory and parsed there. Files are written via a
 * temporary file, fsync and rename, so a crash never leaves half a key.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "keys.h"
#include "mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYFILE_MAX 4096
#define TOKEN_BYTES 32

struct key_slot {
	uint8_t *secret; /* sodium_malloc'ed, or NULL */
	uint8_t pub[BD_GATEWAY_KEY_BYTES];
	int has_pub;
};

struct bd_keyring {
	unsigned current[2];
	struct key_slot slots[2][BD_KEY_ID_MAX + 1];
	struct bd_key_opener opener; /* open == NULL: the secrets above */
	void *opener_ctx;
};

const char *bd_key_kind_name(enum bd_key_kind kind)
{
	return kind == BD_KEY_LINK ? "link" : "gateway";
}

/* Open a file for reading; if SECRET, refuse it unless only the owner can read it. */
static int open_checked(const char *path, int secret, struct bd_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return bd_error_set(err, errno == ENOENT ? BD_E_NOTFOUND : BD_E_KEY,
		                    "cannot open %s: %s", path, strerror(errno)),
		       -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bd_error_set(err, BD_E_KEY, "%s is not a regular file", path), -1;
	}
	if (secret && (st.st_mode & 077) != 0) {
		close(fd);
		return bd_error_set(err, BD_E_KEY,
		                    "refusing secret key file %s: it is %s by group or others "
		                    "(mode %04o); fix it with: chmod 600 %s",
		                    path,
		                    (st.st_mode & 044) != 0 ? "readable" : "writable or usable",
		                    (unsigned)(st.st_mode & 07777), path),
		       -1;
	}
	return fd;
}

/* Read all of FD (at most max-1 bytes) into secret memory, NUL-terminated. */
static char *read_all(int fd, const char *path, size_t max, struct bd_error *err)
{
	char *buf = bd_secret_alloc(max);
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, max - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bd_error_set(err, BD_E_KEY, "cannot read %s: %s", path, strerror(errno));
			bd_secret_free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == max - 1) {
			bd_error_set(err, BD_E_KEY, "%s is larger than %zu bytes", path, max - 1);
			bd_secret_free(buf);
			return NULL;
		}
	}
	buf[len] = '\0';
	return buf;
}

char *bd_secret_file_read(const char *path, size_t max, struct bd_error *err)
{
	int fd = open_checked(path, 1, err);
	char *buf;
	size_t len;

	if (fd < 0)
		return NULL;
	buf = read_all(fd, path, max + 2, err);
	close(fd);
	if (buf == NULL)
		return NULL;
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0) {
		bd_secret_free(buf);
		bd_error_set(err, BD_E_KEY, "%s is empty", path);
		return NULL;
	}
	return buf;
}

/* Find "NAME: value" in TEXT; returns a pointer to value and its length. */
static const char *field_value(const char *text, const char *name, size_t *len)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e;

			while (*v == ' ')
				v++;
			e = strchr(v, '\n');
			*len = e ? (size_t)(e - v) : strlen(v);
			return v;
		}
	}
	return NULL;
}

struct keyfile {
	char type[24];
	unsigned id;
	time_t created;
};

/* Parse a key file's text; decode the key into KEY (exactly KEYLEN bytes). */
static int parse_keyfile(const char *text, const char *path, struct keyfile *kf, uint8_t *key,
                         size_t keylen, struct bd_error *err)
{
	const char *v;
	size_t len, binlen;
	char num[16];

	v = field_value(text, "type", &len);
	if (v == NULL || len >= sizeof(kf->type))
		return bd_error_set(err, BD_E_KEY, "%s: not a bestanden key file (no 'type:' line)",
		                    path);
	memcpy(kf->type, v, len);
	kf->type[len] = '\0';
	v = field_value(text, "id", &len);
	if (v == NULL || len == 0 || len >= sizeof(num))
		return bd_error_set(err, BD_E_KEY, "%s: no valid 'id:' line", path);
	memcpy(num, v, len);
	num[len] = '\0';
	kf->id = (unsigned)strtoul(num, NULL, 10);
	if (kf->id < 1 || kf->id > BD_KEY_ID_MAX)
		return bd_error_set(err, BD_E_KEY, "%s: key id must be 1..%d", path, BD_KEY_ID_MAX);
	kf->created = 0;
	v = field_value(text, "created", &len);
	if (v != NULL && len < 32) {
		struct tm tm = {0};
		char ts[32];

		memcpy(ts, v, len);
		ts[len] = '\0';
		if (strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL)
			kf->created = timegm(&tm);
	}
	v = field_value(text, "key", &len);
	if (v == NULL ||
	    sodium_base642bin(key, keylen, v, len, NULL, &binlen, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen != keylen)
		return bd_error_set(err, BD_E_KEY, "%s: the 'key:' line is not %zu bytes of base64",
		                    path, keylen);
	return 0;
}

static int read_keyfile(const char *path, int secret, const char *want_type, unsigned want_id,
                        uint8_t *key, size_t keylen, struct keyfile *kf, struct bd_error *err)
{
	int fd = open_checked(path, secret, err), r;
	char *text;

	if (fd < 0)
		return -1;
	text = read_all(fd, path, KEYFILE_MAX, err);
	close(fd);
	if (text == NULL)
		return -1;
	r = parse_keyfile(text, path, kf, key, keylen, err);
	bd_secret_free(text);
	if (r < 0)
		return -1;
	if (strcmp(kf->type, want_type) != 0)
		return bd_error_set(err, BD_E_KEY, "%s: holds a '%s' key, expected '%s'", path,
		                    kf->type, want_type);
	if (kf->id != want_id)
		return bd_error_set(err, BD_E_KEY, "%s: says id %u but its name says %u", path,
		                    kf->id, want_id);
	return 0;
}

static int read_current(const char *dir, unsigned current[2], struct bd_error *err)
{
	char path[4096], buf[256];
	size_t len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/current", dir);
	fd = open_checked(path, 0, err);
	if (fd < 0) {
		if (err && err->code == BD_E_NOTFOUND)
			bd_error_set(err, BD_E_KEY,
			             "no keys in %s (%s missing); create them with: bestanden "
			             "keygen -d %s",
			             dir, path, dir);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return bd_error_set(err, BD_E_KEY, "cannot read %s: %s", path, strerror(errno));
	buf[n] = '\0';
	for (int k = 0; k < 2; k++) {
		const char *v = field_value(buf, bd_key_kind_name(k), &len);

		current[k] = v ? (unsigned)strtoul(v, NULL, 10) : 0;
		if (current[k] < 1 || current[k] > BD_KEY_ID_MAX)
			return bd_error_set(err, BD_E_KEY, "%s: no valid '%s:' line", path,
			                    bd_key_kind_name(k));
	}
	return 0;
}

/* Ids present in DIR for KIND: ids[id] = 1 for NAME-id.key (and 2 for a .pub of gateway keys). */
static int scan_ids(const char *dir, enum bd_key_kind kind, unsigned char ids[BD_KEY_ID_MAX + 1],
                    struct bd_error *err)
{
	const char *prefix = bd_key_kind_name(kind);
	size_t plen = strlen(prefix);
	struct dirent *de;
	DIR *d = opendir(dir);

	memset(ids, 0, BD_KEY_ID_MAX + 1);
	if (d == NULL)
		return bd_error_set(
		        err, BD_E_KEY, "cannot open key directory %s: %s%s", dir, strerror(errno),
		        errno == ENOENT ? " (create keys with: bestanden keygen -d DIR)" : "");
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long id;

		if (strncmp(de->d_name, prefix, plen) != 0 || de->d_name[plen] != '-')
			continue;
		id = strtoul(de->d_name + plen + 1, &end, 10);
		if (id < 1 || id > BD_KEY_ID_MAX || end == de->d_name + plen + 1)
			continue;
		if (strcmp(end, ".key") == 0)
			ids[id] |= 1;
		else if (kind == BD_KEY_GATEWAY && strcmp(end, ".pub") == 0)
			ids[id] |= 2;
	}
	closedir(d);
	return 0;
}

struct bd_keyring *bd_keyring_load(const char *dir, unsigned need, struct bd_error *err)
{
	struct bd_keyring *kr = bd_calloc(1, sizeof(*kr));
	unsigned char ids[BD_KEY_ID_MAX + 1];
	char path[4096];
	struct keyfile kf;

	if (sodium_init() < 0) {
		bd_error_set(err, BD_E_KEY, "libsodium could not be initialised");
		goto fail;
	}
	if (read_current(dir, kr->current, err) < 0)
		goto fail;
	if (need & BD_NEED_LINK) {
		if (scan_ids(dir, BD_KEY_LINK, ids, err) < 0)
			goto fail;
		for (unsigned id = 1; id <= BD_KEY_ID_MAX; id++) {
			struct key_slot *s = &kr->slots[BD_KEY_LINK][id];

			if (!(ids[id] & 1))
				continue;
			snprintf(path, sizeof(path), "%s/link-%u.key", dir, id);
			s->secret = bd_secret_alloc(BD_LINK_KEY_BYTES);
			if (read_keyfile(path, 1, "link", id, s->secret, BD_LINK_KEY_BYTES, &kf,
			                 err) < 0)
				goto fail;
		}
		if (kr->slots[BD_KEY_LINK][kr->current[BD_KEY_LINK]].secret == NULL) {
			bd_error_set(err, BD_E_KEY,
			             "the current link key %s/link-%u.key is missing", dir,
			             kr->current[BD_KEY_LINK]);
			goto fail;
		}
	} else {
		kr->current[BD_KEY_LINK] = 0;
	}
	if (need & (BD_NEED_GATEWAY_PUBLIC | BD_NEED_GATEWAY_SECRET)) {
		if (scan_ids(dir, BD_KEY_GATEWAY, ids, err) < 0)
			goto fail;
		for (unsigned id = 1; id <= BD_KEY_ID_MAX; id++) {
			struct key_slot *s = &kr->slots[BD_KEY_GATEWAY][id];

			if ((need & BD_NEED_GATEWAY_PUBLIC) && (ids[id] & 2)) {
				snprintf(path, sizeof(path), "%s/gateway-%u.pub", dir, id);
				if (read_keyfile(path, 0, "gateway-public", id, s->pub,
				                 sizeof(s->pub), &kf, err) < 0)
					goto fail;
				s->has_pub = 1;
			}
			if ((need & BD_NEED_GATEWAY_SECRET) && (ids[id] & 1)) {
				snprintf(path, sizeof(path), "%s/gateway-%u.key", dir, id);
				s->secret = bd_secret_alloc(BD_GATEWAY_KEY_BYTES);
				if (read_keyfile(path, 1, "gateway", id, s->secret,
				                 BD_GATEWAY_KEY_BYTES, &kf, err) < 0)
					goto fail;
				if (!s->has_pub) {
					crypto_scalarmult_base(s->pub, s->secret);
					s->has_pub = 1;
				}
			}
		}
		unsigned cur = kr->current[BD_KEY_GATEWAY];
		if ((need & BD_NEED_GATEWAY_PUBLIC) && !kr->slots[BD_KEY_GATEWAY][cur].has_pub) {
			bd_error_set(err, BD_E_KEY,
			             "the current gateway public key %s/gateway-%u.pub is missing",
			             dir, cur);
			goto fail;
		}
		if ((need & BD_NEED_GATEWAY_SECRET) &&
		    kr->slots[BD_KEY_GATEWAY][cur].secret == NULL) {
			bd_error_set(err, BD_E_KEY,
			             "the current gateway secret key %s/gateway-%u.key is missing",
			             dir, cur);
			goto fail;
		}
	} else {
		kr->current[BD_KEY_GATEWAY] = 0;
	}
	return kr;
fail:
	bd_keyring_free(&kr);
	return NULL;
}

void bd_keyring_free(struct bd_keyring **krp)
{
	struct bd_keyring *kr = *krp;

	if (kr == NULL)
		return;
	if (kr->opener.close != NULL)
		kr->opener.close(kr->opener_ctx);
	for (int k = 0; k < 2; k++)
		for (unsigned id = 0; id <= BD_KEY_ID_MAX; id++)
			bd_secret_free(kr->slots[k][id].secret);
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
	*krp = NULL;
}

unsigned bd_keyring_current(const struct bd_keyring *kr, enum bd_key_kind kind)
{
	return kr->current[kind];
}

const uint8_t *bd_keyring_link_key(const struct bd_keyring *kr, unsigned id)
{
	return id <= BD_KEY_ID_MAX ? kr->slots[BD_KEY_LINK][id].secret : NULL;
}

const uint8_t *bd_keyring_gateway_public(const struct bd_keyring *kr, unsigned id)
{
	if (id > BD_KEY_ID_MAX || !kr->slots[BD_KEY_GATEWAY][id].has_pub)
		return NULL;
	return kr->slots[BD_KEY_GATEWAY][id].pub;
}

const uint8_t *bd_keyring_gateway_secret(const struct bd_keyring *kr, unsigned id)
{
	return id <= BD_KEY_ID_MAX ? kr->slots[BD_KEY_GATEWAY][id].secret : NULL;
}

void bd_keyring_set_opener(struct bd_keyring *kr, const struct bd_key_opener *op, void *ctx)
{
	if (kr->opener.close != NULL)
		kr->opener.close(kr->opener_ctx);
	kr->opener = *op;
	kr->opener_ctx = ctx;
}

int bd_keyring_open_server_key(const struct bd_keyring *kr, unsigned id, const uint8_t *header,
                               size_t headerlen, const uint8_t sealed[BD_SEALED_SERVER_KEY_BYTES],
                               struct bd_package_keys *keys, struct bd_error *err)
{
	const uint8_t *pk, *sk;

	if (kr->opener.open != NULL)
		return kr->opener.open(kr->opener_ctx, id, header, headerlen, sealed, keys, err);
	pk = bd_keyring_gateway_public(kr, id);
	sk = bd_keyring_gateway_secret(kr, id);
	if (pk == NULL || sk == NULL)
		return bd_error_set(err, BD_E_KEY, "gateway key %u is not available", id);
	return bd_package_open_server_key(sealed, pk, sk, keys, err);
}

/* Write DATA to DIR/NAME atomically with MODE. */
static int write_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode,
                      struct bd_error *err)
{
	char tmp[4096], path[4096];
	struct stat dst;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return bd_error_set(err, BD_E_IO, "cannot create %s: %s", tmp, strerror(errno));
	/* Root rotating keys in a directory the daemons' user owns: the new files are that
	 * user's too, so a reload after rotation can read them. */
	if (geteuid() == 0 && stat(dir, &dst) == 0 && dst.st_uid != 0 &&
	    fchown(fd, dst.st_uid, dst.st_gid) < 0) {
		bd_error_set(err, BD_E_IO, "cannot give %s to the owner of %s: %s", tmp, dir,
		             strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		bd_error_set(err, BD_E_IO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		bd_error_set(err, BD_E_IO, "cannot rename %s to %s: %s", tmp, path,
		             strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	fsync(fd);
	close(fd);
	return 0;
}

/* Write one key file; TEXT is built in secret memory and wiped. */
static int write_keyfile(const char *dir, const char *name, const char *type, unsigned id,
                         const uint8_t *key, size_t keylen, int secret, struct bd_error *err)
{
	const size_t max = 1024;
	char *text = bd_secret_alloc(max), created[32];
	char *b64 =
	        bd_secret_alloc(sodium_base64_ENCODED_LEN(keylen, sodium_base64_VARIANT_ORIGINAL));
	time_t now = time(NULL);
	struct tm tm;
	int n, r;

	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(keylen, sodium_base64_VARIANT_ORIGINAL),
	                  key, keylen, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(
	        text, max,
	        "# bestanden %s key%s\n"
	        "type: %s\nid: %u\ncreated: %s\nkey: %s\n",
	        type,
	        secret ? " - secret: keep this file mode 0600 and out of backups you cannot erase"
	               : " - public",
	        type, id, created, b64);
	r = write_file(dir, name, text, (size_t)n, secret ? 0600 : 0644, err);
	bd_secret_free(b64);
	bd_secret_free(text);
	return r;
}

static int write_current(const char *dir, const unsigned current[2], struct bd_error *err)
{
	char text[128];
	int n = snprintf(text, sizeof(text),
	                 "# current key ids for new packages\nlink: %u\ngateway: %u\n", current[0],
	                 current[1]);

	return write_file(dir, "current", text, (size_t)n, 0644, err);
}

static int make_key(const char *dir, enum bd_key_kind kind, unsigned id, struct bd_error *err)
{
	char name[64];
	int r;

	if (kind == BD_KEY_LINK) {
		uint8_t *k = bd_secret_alloc(BD_LINK_KEY_BYTES);

		randombytes_buf(k, BD_LINK_KEY_BYTES);
		snprintf(name, sizeof(name), "link-%u.key", id);
		r = write_keyfile(dir, name, "link", id, k, BD_LINK_KEY_BYTES, 1, err);
		bd_secret_free(k);
		return r;
	}
	uint8_t pk[crypto_box_PUBLICKEYBYTES];
	uint8_t *sk = bd_secret_alloc(crypto_box_SECRETKEYBYTES);

	crypto_box_keypair(pk, sk);
	snprintf(name, sizeof(name), "gateway-%u.key", id);
	r = write_keyfile(dir, name, "gateway", id, sk, crypto_box_SECRETKEYBYTES, 1, err);
	bd_secret_free(sk);
	if (r == 0) {
		snprintf(name, sizeof(name), "gateway-%u.pub", id);
		r = write_keyfile(dir, name, "gateway-public", id, pk, sizeof(pk), 0, err);
	}
	return r;
}

/* A random bearer token in DIR/NAME (0600), unless one is there already. */
static int write_token(const char *dir, const char *name, struct bd_error *err)
{
	size_t b64len =
	        sodium_base64_ENCODED_LEN(TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char path[4096];
	uint8_t *token;
	char *b64;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) == 0)
		return 0;
	token = bd_secret_alloc(TOKEN_BYTES);
	b64 = bd_secret_alloc(b64len + 1);
	randombytes_buf(token, TOKEN_BYTES);
	sodium_bin2base64(b64, b64len, token, TOKEN_BYTES,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	strcat(b64, "\n");
	r = write_file(dir, name, b64, strlen(b64), 0600, err);
	bd_secret_free(b64);
	bd_secret_free(token);
	return r;
}

int bd_keys_generate(const char *dir, struct bd_error *err)
{
	unsigned current[2] = {1, 1};
	char path[4096];
	struct stat st;

	if (sodium_init() < 0)
		return bd_error_set(err, BD_E_KEY, "libsodium could not be initialised");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return bd_error_set(err, BD_E_IO, "cannot create %s: %s", dir, strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return bd_error_set(err, BD_E_IO, "%s is not a directory", dir);
	snprintf(path, sizeof(path), "%s/current", dir);
	if (access(path, F_OK) == 0)
		return bd_error_set(
		        err, BD_E_KEY,
		        "%s already holds keys; use 'bestanden keys rotate' to add new ones", dir);
	if (make_key(dir, BD_KEY_LINK, 1, err) < 0 || make_key(dir, BD_KEY_GATEWAY, 1, err) < 0)
		return -1;
	if (write_token(dir, "store.token", err) < 0 || write_token(dir, "admin.token", err) < 0)
		return -1;
	if (write_current(dir, current, err) < 0)
		return -1;
	fsync_dir(dir);
	return 0;
}

int bd_keys_rotate(const char *dir, enum bd_key_kind kind, struct bd_error *err)
{
	unsigned char ids[BD_KEY_ID_MAX + 1];
	unsigned current[2], next;

	if (sodium_init() < 0)
		return bd_error_set(err, BD_E_KEY, "libsodium could not be initialised");
	if (read_current(dir, current, err) < 0 || scan_ids(dir, kind, ids, err) < 0)
		return -1;
	/* The next id after the current one that no file uses, wrapping around. */
	next = current[kind];
	for (int tries = 0;; tries++) {
		next = next % BD_KEY_ID_MAX + 1;
		if (!ids[next])
			break;
		if (tries == BD_KEY_ID_MAX)
			return bd_error_set(
			        err, BD_E_KEY,
			        "all %d %s key ids are in use; remove retired keys first "
			        "(bestanden keys remove)",
			        BD_KEY_ID_MAX, bd_key_kind_name(kind));
	}
	if (make_key(dir, kind, next, err) < 0)
		return -1;
	current[kind] = next;
	if (write_current(dir, current, err) < 0)
		return -1;
	fsync_dir(dir);
	return (int)next;
}

int bd_keys_remove(const char *dir, enum bd_key_kind kind, unsigned id, struct bd_error *err)
{
	unsigned current[2];
	char path[4096];
	int removed = 0;

	if (read_current(dir, current, err) < 0)
		return -1;
	if (id == current[kind])
		return bd_error_set(err, BD_E_INVALID,
		                    "%s key %u is current; rotate first, then remove it when its "
		                    "links have expired",
		                    bd_key_kind_name(kind), id);
	snprintf(path, sizeof(path), "%s/%s-%u.key", dir, bd_key_kind_name(kind), id);
	if (unlink(path) == 0)
		removed++;
	else if (errno != ENOENT)
		return bd_error_set(err, BD_E_IO, "cannot remove %s: %s", path, strerror(errno));
	if (kind == BD_KEY_GATEWAY) {
		snprintf(path, sizeof(path), "%s/gateway-%u.pub", dir, id);
		if (unlink(path) == 0)
			removed++;
	}
	if (removed == 0)
		return bd_error_set(err, BD_E_NOTFOUND, "there is no %s key %u in %s",
		                    bd_key_kind_name(kind), id, dir);
	fsync_dir(dir);
	return 0;
}

int bd_keys_list(const char *dir, struct bd_key_info *out, size_t max, struct bd_error *err)
{
	unsigned char ids[BD_KEY_ID_MAX + 1];
	unsigned current[2];
	size_t n = 0;

	if (read_current(dir, current, err) < 0)
		return -1;
	for (int k = 0; k < 2; k++) {
		if (scan_ids(dir, k, ids, err) < 0)
			return -1;
		for (unsigned id = 1; id <= BD_KEY_ID_MAX && n < max; id++) {
			char path[4096];
			struct stat st;

			if (!ids[id])
				continue;
			/* The public half carries no secret; read dates from it where we can. */
			snprintf(path, sizeof(path), "%s/%s-%u.%s", dir, bd_key_kind_name(k), id,
			         (ids[id] & 2) ? "pub" : "key");
			out[n].kind = k;
			out[n].id = id;
			out[n].created = stat(path, &st) == 0 ? st.st_mtime : 0;
			out[n].current = current[k] == id;
			out[n].has_secret = ids[id] & 1;
			n++;
		}
	}
	return (int)n;
}

time_t bd_keys_needed_until(const struct bd_key_info *info, int n, enum bd_key_kind kind,
                            unsigned id, uint64_t keep, time_t now, time_t *retired)
{
	time_t created = -1, until;

	for (int i = 0; i < n; i++)
		if (info[i].kind == kind && info[i].id == id && !info[i].current)
			created = info[i].created;
	if (created < 0)
		return 0;
	*retired = now; /* no successor found: count it as retired just now */
	for (int i = 0; i < n; i++)
		if (info[i].kind == kind && info[i].created >= created && info[i].id != id &&
		    info[i].created < *retired)
			*retired = info[i].created;
	until = *retired + (time_t)keep;
	return until > now ? until : 0;
}

int bd_keys_maintain(const char *dir, uint64_t rotate_every, uint64_t keep, time_t now,
                     struct bd_keys_action *out, size_t max, size_t *done, struct bd_error *err)
{
	struct bd_key_info info[2 * BD_KEY_ID_MAX];
	int n = bd_keys_list(dir, info, sizeof(info) / sizeof(info[0]), err);
	size_t k = 0;

	*done = 0;
	if (n < 0)
		return -1;
	for (int i = 0; i < n && k < max; i++) {
		time_t retired = 0;

		if (info[i].kind != BD_KEY_GATEWAY || info[i].current ||
		    bd_keys_needed_until(info, n, BD_KEY_GATEWAY, info[i].id, keep, now,
		                         &retired) != 0)
			continue;
		if (bd_keys_remove(dir, BD_KEY_GATEWAY, info[i].id, err) < 0)
			return -1;
		out[k++] =
		        (struct bd_keys_action){.removed = 1, .id = info[i].id, .retired = retired};
		*done = k;
	}
	for (int i = 0; i < n && k < max && rotate_every > 0; i++) {
		int id;

		if (info[i].kind != BD_KEY_GATEWAY || !info[i].current ||
		    info[i].created + (time_t)rotate_every > now)
			continue;
		id = bd_keys_rotate(dir, BD_KEY_GATEWAY, err);
		if (id < 0)
			return -1;
		out[k++] = (struct bd_keys_action){.removed = 0, .id = (unsigned)id};
		*done = k;
		break;
	}
	return (int)k;
}

void bd_keys_action_format(const struct bd_keys_action *a, char *buf, size_t size)
{
	char when[32] = "";
	struct tm tm;

	if (!a->removed) {
		snprintf(buf, size, "event=key-rotated kind=gateway id=%u", a->id);
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&a->retired, &tm));
	snprintf(buf, size, "event=key-removed kind=gateway id=%u retired=%s", a->id, when);
}

void bd_keys_stamp_read(const char *dir, struct bd_keys_stamp *out)
{
	char path[4096];
	struct stat st;

	*out = (struct bd_keys_stamp){0};
	snprintf(path, sizeof(path), "%s/current", dir);
	if (stat(path, &st) != 0)
		return;
	*out = (struct bd_keys_stamp){.ino = (unsigned long long)st.st_ino,
	                              .size = (unsigned long long)st.st_size,
	                              .sec = (long long)st.st_mtim.tv_sec,
	                              .nsec = (long long)st.st_mtim.tv_nsec};
}

int bd_keys_stamp_equal(const struct bd_keys_stamp *a, const struct bd_keys_stamp *b)
{
	return a->ino == b->ino && a->size == b->size && a->sec == b->sec && a->nsec == b->nsec;
}
