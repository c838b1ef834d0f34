/*
 * objstore.c - objects as files: temp file + fsync + rename, directory walks
 * in byte order for listings, empty directories removed after deletes.
 *
 * Concurrency: a rename into a directory that a delete is removing at the
 * same moment fails with ENOENT; the commit then recreates it and retries.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "objstore.h"
#include "store-private.h"
#include "io.h"
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

#define TMP_DIR      ".tmp"
#define WRITE_BUFFER (256 * 1024)

struct bd_objstore {
	char *dir;
};

struct bd_objstore_writer {
	struct bd_objstore *os;
	char *name;
	char *tmp;
	int fd;
	uint8_t *buf;
	size_t used;
};

static int sys_error(struct bd_error *err, const char *what, const char *path)
{
	return bd_error_set(err, errno == ENOSPC || errno == EDQUOT ? BD_E_LIMIT : BD_E_IO,
	                    "%s %s: %s", what, path, strerror(errno));
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static void clear_tmp(const char *tmpdir)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

struct bd_objstore *bd_objstore_open(const char *dir, struct bd_error *err)
{
	struct bd_objstore *os;
	char *tmp;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		sys_error(err, "cannot create object directory", dir);
		return NULL;
	}
	tmp = bd_asprintf("%s/%s", dir, TMP_DIR);
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
		sys_error(err, "cannot create", tmp);
		free(tmp);
		return NULL;
	}
	if (access(tmp, W_OK | X_OK) < 0) {
		sys_error(err, "cannot write to", tmp);
		free(tmp);
		return NULL;
	}
	clear_tmp(tmp);
	free(tmp);
	os = bd_calloc(1, sizeof(*os));
	os->dir = bd_strdup(dir);
	return os;
}

void bd_objstore_close(struct bd_objstore **os)
{
	if (os == NULL || *os == NULL)
		return;
	free((*os)->dir);
	free(*os);
	*os = NULL;
}

static int check_name(const char *name, struct bd_error *err)
{
	if (bd_store_name_valid(name))
		return 0;
	return bd_error_set(err, BD_E_INVALID, "'%.64s' is not a valid object name", name);
}

struct bd_objstore_writer *bd_objstore_writer_new(struct bd_objstore *os, const char *name,
                                                  struct bd_error *err)
{
	struct bd_objstore_writer *w;
	uint8_t rnd[12];
	char hex[25];

	if (check_name(name, err) < 0)
		return NULL;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	w = bd_calloc(1, sizeof(*w));
	w->os = os;
	w->name = bd_strdup(name);
	w->tmp = bd_asprintf("%s/%s/%s", os->dir, TMP_DIR, hex);
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		sys_error(err, "cannot create", w->tmp);
		free(w->name);
		free(w->tmp);
		free(w);
		return NULL;
	}
	w->buf = bd_malloc(WRITE_BUFFER);
	return w;
}

static int flush(struct bd_objstore_writer *w, struct bd_error *err)
{
	if (w->used > 0 && bd_write_all(w->fd, w->buf, w->used) < 0)
		return sys_error(err, "cannot write", w->tmp);
	w->used = 0;
	return 0;
}

int bd_objstore_write(struct bd_objstore_writer *w, const void *buf, size_t len,
                      struct bd_error *err)
{
	const uint8_t *p = buf;

	if (w->used + len > WRITE_BUFFER) {
		if (flush(w, err) < 0)
			return -1;
		if (len >= WRITE_BUFFER) {
			if (bd_write_all(w->fd, p, len) < 0)
				return sys_error(err, "cannot write", w->tmp);
			return 0;
		}
	}
	memcpy(w->buf + w->used, p, len);
	w->used += len;
	return 0;
}

static void writer_free(struct bd_objstore_writer **wp)
{
	struct bd_objstore_writer *w = *wp;

	if (w->fd >= 0)
		close(w->fd);
	free(w->buf);
	free(w->name);
	free(w->tmp);
	free(w);
	*wp = NULL;
}

void bd_objstore_abort(struct bd_objstore_writer **wp)
{
	if (wp == NULL || *wp == NULL)
		return;
	unlink((*wp)->tmp);
	writer_free(wp);
}

/* mkdir -p for the directories of NAME under DIR. */
static int make_parents(const char *dir, const char *name, struct bd_error *err)
{
	char path[4096];
	size_t base = strlen(dir);

	if (base + 1 + strlen(name) >= sizeof(path))
		return bd_error_set(err, BD_E_INVALID, "object path too long");
	memcpy(path, dir, base);
	path[base] = '/';
	for (const char *p = name; *p; p++) {
		if (*p == '/') {
			size_t n = base + 1 + (size_t)(p - name);

			memcpy(path + base + 1, name, (size_t)(p - name));
			path[n] = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				return errno == ENOTDIR
				               ? bd_error_set(
				                         err, BD_E_INVALID,
				                         "'%s' clashes with an existing object",
				                         name)
				               : sys_error(err, "cannot create", path);
		}
	}
	return 0;
}

int bd_objstore_commit(struct bd_objstore_writer **wp, struct bd_error *err)
{
	struct bd_objstore_writer *w = *wp;
	char *path, *parent;
	int rv = -1;

	if (flush(w, err) < 0)
		goto fail;
	if (fsync(w->fd) < 0) {
		sys_error(err, "cannot fsync", w->tmp);
		goto fail;
	}
	path = bd_asprintf("%s/%s", w->os->dir, w->name);
	for (int tries = 0;; tries++) {
		if (tries == 5) {
			bd_error_set(err, BD_E_IO, "cannot store %s: its directory keeps vanishing",
			             w->name);
			break;
		}
		if (make_parents(w->os->dir, w->name, err) < 0)
			break;
		if (rename(w->tmp, path) == 0) {
			rv = 0;
			break;
		}
		if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR) {
			bd_error_set(err, BD_E_INVALID,
			             "'%s' clashes with an existing object prefix", w->name);
			break;
		}
		if (errno != ENOENT) {
			sys_error(err, "cannot rename into", path);
			break;
		}
		/* a concurrent delete removed the directory: make it again */
	}
	if (rv == 0) {
		parent = bd_strdup(path);
		*strrchr(parent, '/') = '\0';
		if (fsync_dir(parent) < 0)
			rv = sys_error(err, "cannot fsync", parent);
		free(parent);
	}
	free(path);
	if (rv == 0) {
		writer_free(wp);
		return 0;
	}
fail:
	bd_objstore_abort(wp);
	return -1;
}

int bd_objstore_open_object(struct bd_objstore *os, const char *name, uint64_t *size,
                            struct bd_error *err)
{
	char *path;
	struct stat st;
	int fd;

	if (check_name(name, err) < 0)
		return -1;
	path = bd_asprintf("%s/%s", os->dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			bd_error_set(err, BD_E_NOTFOUND, "no such object");
		else
			sys_error(err, "cannot open", path);
		free(path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		bd_error_set(err, BD_E_NOTFOUND, "no such object");
		close(fd);
		free(path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	free(path);
	return fd;
}

int bd_objstore_delete(struct bd_objstore *os, const char *name, struct bd_error *err)
{
	char *path;
	struct stat st;

	if (check_name(name, err) < 0)
		return -1;
	path = bd_asprintf("%s/%s", os->dir, name);
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		free(path);
		return 0; /* a prefix, not an object: nothing by that name */
	}
	if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR) {
		sys_error(err, "cannot remove", path);
		free(path);
		return -1;
	}
	/* Remove the directories this leaves empty; a busy one stops the climb. */
	for (char *slash = strrchr(path, '/');
	     slash != NULL && (size_t)(slash - path) > strlen(os->dir);
	     slash = strrchr(path, '/')) {
		*slash = '\0';
		if (rmdir(path) < 0)
			break;
	}
	free(path);
	return 0;
}

/* Only names an object path can have: hex digits. Hides .tmp and anything foreign. */
static int hex_entry(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

struct walk {
	const char *prefix, *after;
	size_t limit, count;
	int stop;
	int (*cb)(void *ctx, const char *name, uint64_t size);
	void *ctx;
};

static int starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/*
 * Visit directory PATH, holding names REL/... Because '/' sorts before every
 * hex digit, visiting entries sorted by name yields full names in byte order.
 */
static int walk_dir(struct walk *wk, const char *path, const char *rel, struct bd_error *err)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, by_name), rv = 0;

	if (n < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0; /* removed under us */
		return sys_error(err, "cannot read", path);
	}
	for (int i = 0; i < n; i++) {
		char full[BD_STORE_NAME_MAX + 2], dirname[BD_STORE_NAME_MAX + 3], sub[4096];
		struct stat st;

		if (rv < 0 || wk->stop || !hex_entry(ents[i]->d_name)) {
			free(ents[i]);
			continue;
		}
		snprintf(full, sizeof(full), "%s%s%s", rel, *rel ? "/" : "", ents[i]->d_name);
		snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
		snprintf(dirname, sizeof(dirname), "%s/", full);
		free(ents[i]);
		if (strlen(full) > BD_STORE_NAME_MAX)
			continue;
		/*
		 * Before any stat: skip what can hold no wanted name, file or directory -
		 * outside the prefix, or wholly before AFTER ('/' sorts first, so FULL/...
		 * is before AFTER whenever FULL is, unless AFTER lies inside FULL/).
		 */
		if (!starts_with(full, wk->prefix) && !starts_with(wk->prefix, dirname))
			continue;
		if (strcmp(full, wk->after) < 0 && !starts_with(wk->after, dirname))
			continue;
		if (lstat(sub, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (!starts_with(wk->prefix, dirname) && !starts_with(dirname, wk->prefix))
				continue;
			rv = walk_dir(wk, sub, full, err);
		} else if (S_ISREG(st.st_mode)) {
			if (!starts_with(full, wk->prefix) || strcmp(full, wk->after) <= 0)
				continue;
			wk->count++;
			if (wk->cb(wk->ctx, full, (uint64_t)st.st_size) != 0 ||
			    wk->count >= wk->limit)
				wk->stop = 1;
		}
	}
	free(ents);
	return rv;
}

int bd_objstore_list(struct bd_objstore *os, const char *prefix, const char *after, size_t limit,
                     int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                     struct bd_error *err)
{
	struct walk wk = {.prefix = prefix,
	                  .after = after ? after : "",
	                  .limit = limit,
	                  .cb = cb,
	                  .ctx = ctx};

	if (limit == 0)
		return 0;
	if (walk_dir(&wk, os->dir, "", err) < 0)
		return -1;
	return (int)wk.count;
}

/* The bd_store face, for the sweeper and for tests. */
static int local_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                     struct bd_error *err)
{
	struct bd_objstore_writer *w = bd_objstore_writer_new(impl, name, err);
	uint8_t buf[64 * 1024];
	uint64_t got = 0;

	if (w == NULL)
		return -1;
	while (got < length) {
		size_t want = length - got < sizeof(buf) ? (size_t)(length - got) : sizeof(buf);
		ssize_t r = src->read(src->ctx, buf, want);

		if (r <= 0) {
			bd_objstore_abort(&w);
			if (r < 0)
				return bd_error_set(err, BD_E_IO,
				                    "reading the upload source failed");
			return bd_error_set(err, BD_E_INVALID,
			                    "the source ended after %llu of %llu bytes",
			                    (unsigned long long)got, (unsigned long long)length);
		}
		if (bd_objstore_write(w, buf, (size_t)r, err) < 0) {
			bd_objstore_abort(&w);
			return -1;
		}
		got += (uint64_t)r;
	}
	return bd_objstore_commit(&w, err);
}

static int local_get(void *impl, const char *name, uint64_t offset, uint64_t length,
                     struct bd_sink *sink, struct bd_error *err)
{
	uint8_t buf[64 * 1024];
	uint64_t size, left;
	int fd = bd_objstore_open_object(impl, name, &size, err);

	if (fd < 0)
		return -1;
	if (offset > size || (offset == size && offset > 0)) {
		close(fd);
		return bd_error_set(err, BD_E_INVALID, "offset %llu is past the end (%llu bytes)",
		                    (unsigned long long)offset, (unsigned long long)size);
	}
	left = size - offset < length ? size - offset : length;
	while (left > 0) {
		ssize_t r = pread(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf),
		                  (off_t)offset);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return bd_error_set(err, BD_E_IO, "cannot read object: %s",
			                    r < 0 ? strerror(errno) : "unexpected end");
		}
		if (sink->write(sink->ctx, buf, (size_t)r) < 0) {
			close(fd);
			return bd_error_set(err, BD_E_IO, "the receiver stopped the transfer");
		}
		offset += (uint64_t)r;
		left -= (uint64_t)r;
	}
	close(fd);
	return 0;
}

static int local_head(void *impl, const char *name, uint64_t *size, struct bd_error *err)
{
	int fd = bd_objstore_open_object(impl, name, size, err);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int local_del(void *impl, const char *name, struct bd_error *err)
{
	return bd_objstore_delete(impl, name, err);
}

struct page {
	char last[BD_STORE_NAME_MAX + 1];
	int (*cb)(void *ctx, const char *name, uint64_t size);
	void *ctx;
	int stopped;
};

static int page_entry(void *ctx, const char *name, uint64_t size)
{
	struct page *p = ctx;

	snprintf(p->last, sizeof(p->last), "%s", name);
	if (p->cb(p->ctx, name, size) != 0)
		p->stopped = 1;
	return p->stopped;
}

static int local_list(void *impl, const char *prefix,
                      int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                      struct bd_error *err)
{
	struct page p = {.cb = cb, .ctx = ctx};

	/* In pages, continuing after the last name, so CB may delete what it sees. */
	for (;;) {
		int n = bd_objstore_list(impl, prefix, p.last, 1000, page_entry, &p, err);

		if (n < 0)
			return -1;
		if (p.stopped || n < 1000)
			return 0;
	}
}

/* OS belongs to the caller: no close. */
static const struct bd_store_ops local_ops = {"local",   local_put,  local_get, local_head,
                                              local_del, local_list, NULL};

struct bd_store *bd_objstore_store(struct bd_objstore *os)
{
	return bd_store_new(&local_ops, os);
}
