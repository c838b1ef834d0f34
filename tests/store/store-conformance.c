/*
 * store-conformance.c - one suite that every storage driver must pass.
 *
 * usage: store-conformance -c CONFIG [-q]   (-q: leave out the 100 MiB object)
 * Runs against the driver CONFIG names, on a live backend: sizes 0, 1,
 * 64 KiB +- 1 and 100 MiB (generated and hashed on the fly, never held in
 * memory), ranges, overwrite, missing objects, delete, list with paging and
 * deleting while listing, 20 concurrent puts, a short source, bad names,
 * wrong credentials, a server that is down or never answers, and a sweep.
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "manifest.h"
#include "mem.h"
#include "package.h"
#include "store.h"
#include "sweep.h"

static int passed, failed;
static char run[17]; /* random prefix of this run's objects */

static void check(int ok, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		printf("ok - %s\n", name);
	} else {
		failed++;
		printf("not ok - %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Deterministic bytes (ChaCha20 keystream of SEED), hashed as they are handed out. */
struct gen {
	struct bd_source source;
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint64_t pos, len, limit; /* limit < len: a source that ends early */
	crypto_generichash_state hash;
};

static ssize_t gen_read(void *ctx, uint8_t *buf, size_t n)
{
	struct gen *g = ctx;
	uint64_t end = g->limit < g->len ? g->limit : g->len;
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};

	if (g->pos >= end)
		return 0;
	if (n > end - g->pos)
		n = (size_t)(end - g->pos);
	if (n > 1 << 20)
		n = 1 << 20;
	/* Keystream at any offset: 64-byte blocks, so start at a block boundary. */
	{
		uint64_t block = g->pos / 64, skip = g->pos % 64;
		size_t need = (size_t)skip + n;
		uint8_t *tmp = bd_malloc(need);

		memset(tmp, 0, need);
		crypto_stream_chacha20_xor_ic(tmp, tmp, need, nonce, block, g->key);
		memcpy(buf, tmp + skip, n);
		free(tmp);
	}
	crypto_generichash_update(&g->hash, buf, n);
	g->pos += n;
	return (ssize_t)n;
}

static void gen_init(struct gen *g, unsigned seed, uint64_t len)
{
	memset(g, 0, sizeof(*g));
	g->source.read = gen_read;
	g->source.ctx = g;
	memcpy(g->key, &seed, sizeof(seed));
	g->len = g->limit = len;
	crypto_generichash_init(&g->hash, NULL, 0, 32);
}

/* Hash of bytes [from, from+n) of stream SEED. */
static void gen_hash(unsigned seed, uint64_t from, uint64_t n, uint8_t out[32])
{
	struct gen g;
	uint8_t *buf = bd_malloc(1 << 20);

	gen_init(&g, seed, from + n);
	g.pos = from;
	while (gen_read(&g, buf, 1 << 20) > 0)
		;
	crypto_generichash_final(&g.hash, out, 32);
	free(buf);
}

struct hash_sink {
	struct bd_sink sink;
	crypto_generichash_state hash;
	uint64_t n;
};

static int hash_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct hash_sink *h = ctx;

	crypto_generichash_update(&h->hash, buf, len);
	h->n += len;
	return 0;
}

static void hash_sink_init(struct hash_sink *h)
{
	h->sink.write = hash_write;
	h->sink.ctx = h;
	h->n = 0;
	crypto_generichash_init(&h->hash, NULL, 0, 32);
}

static void obj(char *out, size_t size, const char *suffix)
{
	snprintf(out, size, "%s/%s", run, suffix);
}

/* Put LEN bytes of stream SEED as NAME, read it back whole, compare size and hash. */
static void round_trip(struct bd_store *s, const char *label, const char *name, unsigned seed,
                       uint64_t len)
{
	struct bd_error err;
	struct gen g;
	struct hash_sink h;
	uint8_t want[32], got[32];
	uint64_t size = 0;
	double t0 = now_s(), t1;
	char what[96];
	int rc;

	gen_init(&g, seed, len);
	snprintf(what, sizeof(what), "put %s", label);
	if (bd_store_put(s, name, &g.source, len, &err) < 0) {
		check(0, what, "%s", err.msg);
		return;
	}
	t1 = now_s();
	crypto_generichash_final(&g.hash, want, 32);
	check(1, what, "%s", "");
	snprintf(what, sizeof(what), "head %s", label);
	rc = bd_store_head(s, name, &size, &err);
	check(rc == 0 && size == len, what, "size %llu: %s", (unsigned long long)size,
	      rc == 0 ? "" : err.msg);
	hash_sink_init(&h);
	snprintf(what, sizeof(what), "get %s", label);
	if (bd_store_get(s, name, 0, BD_STORE_TO_END, &h.sink, &err) < 0) {
		check(0, what, "%s", err.msg);
		return;
	}
	crypto_generichash_final(&h.hash, got, 32);
	check(h.n == len && memcmp(want, got, 32) == 0, what, "%llu bytes back, hash %s",
	      (unsigned long long)h.n, memcmp(want, got, 32) == 0 ? "equal" : "differs");
	if (len >= 1 << 20)
		printf("# %s: put %.1f MB/s, get %.1f MB/s\n", label, (double)len / 1e6 / (t1 - t0),
		       (double)len / 1e6 / (now_s() - t1));
}

static void range_check(struct bd_store *s, const char *name, unsigned seed, uint64_t size,
                        uint64_t off, uint64_t len)
{
	struct bd_error err;
	struct hash_sink h;
	uint8_t want[32], got[32];
	uint64_t expect =
	        off >= size ? 0 : (len == BD_STORE_TO_END || off + len > size ? size - off : len);
	char what[128];

	snprintf(what, sizeof(what), "range %llu+%s of %llu bytes", (unsigned long long)off,
	         len == BD_STORE_TO_END ? "end" : "", (unsigned long long)size);
	if (len != BD_STORE_TO_END)
		snprintf(what, sizeof(what), "range %llu+%llu of %llu bytes",
		         (unsigned long long)off, (unsigned long long)len,
		         (unsigned long long)size);
	hash_sink_init(&h);
	if (bd_store_get(s, name, off, len, &h.sink, &err) < 0) {
		check(0, what, "%s", err.msg);
		return;
	}
	crypto_generichash_final(&h.hash, got, 32);
	gen_hash(seed, off, expect, want);
	check(h.n == expect && memcmp(want, got, 32) == 0, what, "%llu bytes (want %llu), hash %s",
	      (unsigned long long)h.n, (unsigned long long)expect,
	      memcmp(want, got, 32) == 0 ? "equal" : "differs");
}

static void test_sizes_and_ranges(struct bd_store *s, int quick)
{
	static const uint64_t sizes[] = {0, 1, 65535, 65536, 65537};
	char name[64], label[64];
	struct bd_error err;
	struct hash_sink h;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(label, sizeof(label), "%llu bytes", (unsigned long long)sizes[i]);
		snprintf(name, sizeof(name), "%s/1%zx", run, i);
		round_trip(s, label, name, 100 + (unsigned)i, sizes[i]);
	}
	/* ranges on the 65537-byte object (seed 104) and the empty one (seed 100) */
	snprintf(name, sizeof(name), "%s/14", run);
	range_check(s, name, 104, 65537, 0, 1);
	range_check(s, name, 104, 65537, 100, 200);
	range_check(s, name, 104, 65537, 65535, 10);
	range_check(s, name, 104, 65537, 65536, BD_STORE_TO_END);
	range_check(s, name, 104, 65537, 1000, BD_STORE_TO_END);
	range_check(s, name, 104, 65537, 7, 0);
	hash_sink_init(&h);
	check(bd_store_get(s, name, 65537, 1, &h.sink, &err) < 0 && err.code == BD_E_INVALID,
	      "range at the end is refused", "code %s: %s", bd_status_name(err.code), err.msg);
	check(bd_store_get(s, name, 1 << 20, BD_STORE_TO_END, &h.sink, &err) < 0 &&
	              err.code == BD_E_INVALID && h.n == 0,
	      "range past the end is refused", "code %s: %s", bd_status_name(err.code), err.msg);
	snprintf(name, sizeof(name), "%s/10", run);
	range_check(s, name, 100, 0, 0, BD_STORE_TO_END);
	range_check(s, name, 100, 0, 0, 10);
	if (!quick) {
		uint64_t big = 100ULL << 20;

		snprintf(name, sizeof(name), "%s/b", run);
		round_trip(s, "100 MiB", name, 7, big);
		range_check(s, name, 7, big, (50ULL << 20) - 3, 1 << 20);
		range_check(s, name, 7, big, big - 5, BD_STORE_TO_END);
		check(bd_store_delete(s, name, &err) == 0, "delete 100 MiB", "%s", err.msg);
	}
}

static void test_missing_overwrite_delete(struct bd_store *s)
{
	struct bd_mem_source src;
	struct bd_buf_sink sink;
	struct bd_error err;
	char name[64];
	uint64_t size;

	obj(name, sizeof(name), "dead");
	check(bd_store_head(s, name, &size, &err) < 0 && err.code == BD_E_NOTFOUND,
	      "head of a missing object is notfound", "code %s: %s", bd_status_name(err.code),
	      err.msg);
	check(strstr(err.msg, name) != NULL, "the error names the object", "%s", err.msg);
	bd_buf_sink_init(&sink);
	check(bd_store_get(s, name, 0, BD_STORE_TO_END, &sink.sink, &err) < 0 &&
	              err.code == BD_E_NOTFOUND && sink.len == 0,
	      "get of a missing object is notfound", "code %s: %s", bd_status_name(err.code),
	      err.msg);
	check(bd_store_delete(s, name, &err) == 0, "deleting a missing object is fine", "%s",
	      err.msg);

	obj(name, sizeof(name), "a0");
	bd_mem_source_init(&src, (const uint8_t *)"first version", 13);
	check(bd_store_put(s, name, &src.source, 13, &err) == 0, "put", "%s", err.msg);
	bd_mem_source_init(&src, (const uint8_t *)"second", 6);
	check(bd_store_put(s, name, &src.source, 6, &err) == 0, "overwrite", "%s", err.msg);
	check(bd_store_get(s, name, 0, BD_STORE_TO_END, &sink.sink, &err) == 0 && sink.len == 6 &&
	              memcmp(sink.data, "second", 6) == 0,
	      "overwrite replaces the object", "%zu bytes: %s", sink.len, err.msg);
	check(bd_store_delete(s, name, &err) == 0, "delete", "%s", err.msg);
	check(bd_store_head(s, name, &size, &err) < 0 && err.code == BD_E_NOTFOUND,
	      "deleted object is gone", "code %s", bd_status_name(err.code));
	free(sink.data);

	/* a source that ends early: error, and no object */
	{
		struct gen g;

		obj(name, sizeof(name), "5");
		gen_init(&g, 5, 300000);
		g.limit = 1000;
		check(bd_store_put(s, name, &g.source, 300000, &err) < 0, "short source fails",
		      "put succeeded");
		check(strstr(err.msg, "1000 of 300000") != NULL, "short source error says so", "%s",
		      err.msg);
		check(bd_store_head(s, name, &size, &err) < 0 && err.code == BD_E_NOTFOUND,
		      "short source leaves no object", "code %s", bd_status_name(err.code));
	}
	check(bd_store_put(s, "../x", &src.source, 0, &err) < 0 && err.code == BD_E_INVALID,
	      "bad name refused", "code %s", bd_status_name(err.code));
	check(bd_store_head(s, "Ab/0", &size, &err) < 0 && err.code == BD_E_INVALID,
	      "upper case refused", "code %s", bd_status_name(err.code));
}

struct listing {
	size_t n;
	char last[BD_STORE_NAME_MAX + 1];
	int sorted, sizes_ok;
	struct bd_store *del; /* delete what is shown */
	int del_failed;
};

static int on_list(void *ctx, const char *name, uint64_t size)
{
	struct listing *l = ctx;
	struct bd_error err;

	if (l->n > 0 && strcmp(l->last, name) >= 0)
		l->sorted = 0;
	snprintf(l->last, sizeof(l->last), "%s", name);
	/* objects "e/<i hex>" hold i % 7 bytes */
	{
		const char *slash = strrchr(name, '/');
		unsigned long i = strtoul(slash + 1, NULL, 16);

		if (size != i % 7)
			l->sizes_ok = 0;
	}
	l->n++;
	if (l->del != NULL && bd_store_delete(l->del, name, &err) < 0)
		l->del_failed = 1;
	return 0;
}

struct putter {
	struct bd_store *s;
	unsigned from, to, step;
	int failures;
	char err[BD_ERROR_MAX];
	uint64_t size; /* 0: "list" objects of i % 7 bytes; else SIZE bytes of stream i */
	const char *dir;
};

static void *put_range(void *arg)
{
	struct putter *p = arg;

	for (unsigned i = p->from; i < p->to; i += p->step) {
		struct bd_error err;
		struct gen g;
		char name[96];

		snprintf(name, sizeof(name), "%s/%s/%x", run, p->dir, i);
		gen_init(&g, 1000 + i, p->size ? p->size : i % 7);
		if (bd_store_put(p->s, name, &g.source, g.len, &err) < 0) {
			p->failures++;
			snprintf(p->err, sizeof(p->err), "%s", err.msg);
		}
	}
	return NULL;
}

/* N puts spread over T threads; returns the failures. */
static int put_parallel(struct bd_store *s, const char *dir, unsigned n, unsigned t, uint64_t size,
                        char *first_err, size_t errsize)
{
	pthread_t th[32];
	struct putter p[32];
	int fails = 0;

	for (unsigned i = 0; i < t; i++) {
		p[i] = (struct putter){
		        .s = s, .from = i, .to = n, .step = t, .size = size, .dir = dir};
		pthread_create(&th[i], NULL, put_range, &p[i]);
	}
	first_err[0] = '\0';
	for (unsigned i = 0; i < t; i++) {
		pthread_join(th[i], NULL);
		fails += p[i].failures;
		if (p[i].failures && !first_err[0])
			snprintf(first_err, errsize, "%s", p[i].err);
	}
	return fails;
}

static void test_list(struct bd_store *s)
{
	const unsigned n = 1100; /* more than one page of 1000 */
	struct listing l = {.sorted = 1, .sizes_ok = 1};
	struct bd_error err;
	char prefix[64], first_err[BD_ERROR_MAX];
	int fails = put_parallel(s, "e", n, 8, 0, first_err, sizeof(first_err)), rc;

	check(fails == 0, "put 1100 small objects", "%d failed: %s", fails, first_err);
	snprintf(prefix, sizeof(prefix), "%s/e/", run);
	rc = bd_store_list(s, prefix, on_list, &l, &err);
	check(rc == 0, "list", "%s", err.msg);
	check(l.n == n, "list finds every object (paged)", "%zu of %u", l.n, n);
	check(l.sorted, "list is in byte order", "out of order after %s", l.last);
	check(l.sizes_ok, "list gives sizes", "a size was wrong");
	memset(&l, 0, sizeof(l));
	l.sorted = l.sizes_ok = 1;
	snprintf(prefix, sizeof(prefix), "%s/e/4", run);
	rc = bd_store_list(s, prefix, on_list, &l, &err);
	/* under 1100: "4", "40".."4f", "400".."44b" */
	check(rc == 0 && l.n == 1 + 16 + 0x4c, "list by a narrower prefix", "%zu objects: %s", l.n,
	      rc == 0 ? "" : err.msg);
	memset(&l, 0, sizeof(l));
	l.sorted = l.sizes_ok = 1;
	l.del = s;
	snprintf(prefix, sizeof(prefix), "%s/e", run);
	rc = bd_store_list(s, prefix, on_list, &l, &err);
	check(rc == 0 && l.n == n && !l.del_failed, "delete every object while listing",
	      "%zu seen, delete failed %d: %s", l.n, l.del_failed, rc == 0 ? "" : err.msg);
	memset(&l, 0, sizeof(l));
	rc = bd_store_list(s, prefix, on_list, &l, &err);
	check(rc == 0 && l.n == 0, "nothing left after deleting", "%zu left", l.n);
	check(bd_store_list(s, "/bad", on_list, &l, &err) < 0 && err.code == BD_E_INVALID,
	      "bad prefix refused", "code %s", bd_status_name(err.code));
}

static void test_concurrent(struct bd_store *s)
{
	const unsigned n = 20;
	const uint64_t size = 1 << 20;
	char first_err[BD_ERROR_MAX], prefix[64];
	struct bd_error err;
	struct listing l = {.sorted = 1};
	double t0 = now_s();
	int fails = put_parallel(s, "c", n, n, size, first_err, sizeof(first_err)), bad = 0;

	check(fails == 0, "20 concurrent puts of 1 MiB", "%d failed: %s", fails, first_err);
	printf("# 20 concurrent puts: %.2f s\n", now_s() - t0);
	for (unsigned i = 0; i < n; i++) {
		struct hash_sink h;
		uint8_t want[32], got[32];
		char name[64];

		snprintf(name, sizeof(name), "%s/c/%x", run, i);
		hash_sink_init(&h);
		if (bd_store_get(s, name, 0, BD_STORE_TO_END, &h.sink, &err) < 0) {
			bad++;
			continue;
		}
		crypto_generichash_final(&h.hash, got, 32);
		gen_hash(1000 + i, 0, size, want);
		bad += memcmp(want, got, 32) != 0 || h.n != size;
	}
	check(bad == 0, "every concurrent put reads back intact", "%d bad", bad);
	snprintf(prefix, sizeof(prefix), "%s/c/", run);
	l.del = s;
	bad = bd_store_list(s, prefix, on_list, &l, &err);
	check(bad == 0 && l.n == n, "clean up", "%zu: %s", l.n, bad == 0 ? "" : err.msg);
}

/* A manifest whose clear header says EXPIRES; the sweeper reads no more than that. */
static void put_package(struct bd_store *s, const char *id_hex, int64_t expires, int with_manifest,
                        unsigned files)
{
	struct bd_package_keys *keys = bd_package_keys_new();
	struct bd_manifest *m = bd_manifest_new();
	uint8_t pk[32], sk[32], *sealed = NULL;
	struct bd_mem_source src;
	struct bd_error err;
	size_t len = 0;
	char name[64];

	bd_package_id_parse(id_hex, keys->id);
	memcpy(m->package_id, keys->id, sizeof(m->package_id));
	m->link_key_id = m->gateway_key_id = 1;
	m->created = expires - 86400;
	m->expires = expires;
	crypto_box_keypair(pk, sk);
	for (unsigned i = 1; i <= files; i++)
		bd_manifest_add_file(m, i, "file.pdf", "application/pdf", 3);
	if (with_manifest && bd_manifest_seal(m, keys, pk, &sealed, &len, &err) < 0) {
		check(0, "seal a manifest", "%s", err.msg);
		goto out;
	}
	for (unsigned i = 1; i <= files; i++) {
		bd_package_object_name(keys->id, i, name, sizeof(name));
		bd_mem_source_init(&src, (const uint8_t *)"abc", 3);
		if (bd_store_put(s, name, &src.source, 3, &err) < 0)
			check(0, "put a package file", "%s", err.msg);
	}
	if (with_manifest) {
		bd_package_object_name(keys->id, 0, name, sizeof(name));
		bd_mem_source_init(&src, sealed, len);
		if (bd_store_put(s, name, &src.source, len, &err) < 0)
			check(0, "put a manifest", "%s", err.msg);
	}
out:
	free(sealed);
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
}

static int count_cb(void *ctx, const char *name, uint64_t size)
{
	(*(size_t *)ctx)++;
	return 0;
}

static size_t count(struct bd_store *s, const char *prefix)
{
	struct bd_error err;
	size_t n = 0;

	if (bd_store_list(s, prefix, count_cb, &n, &err) < 0)
		return (size_t)-1;
	return n;
}

static void test_sweep(struct bd_store *s)
{
	int64_t now = (int64_t)time(NULL);
	char expired[17], live[17], orphan[17], name[64];
	struct bd_sweep_options o = {.now = now};
	struct bd_sweep_stats st;
	struct bd_mem_source src;
	struct bd_error err;
	uint8_t id[8];

	/* package ids are the first 16 hex digits of a name: derive them from the run */
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(expired, sizeof(expired), id, sizeof(id));
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(live, sizeof(live), id, sizeof(id));
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(orphan, sizeof(orphan), id, sizeof(id));
	put_package(s, expired, now - 10, 1, 3);
	put_package(s, live, now + 3600, 1, 2);
	put_package(s, orphan, now - 10, 0, 2);
	snprintf(name, sizeof(name), "%s/foreign", run);
	bd_mem_source_init(&src, (const uint8_t *)"x", 1);
	bd_store_put(s, "ffff/0", &src.source, 1, &err); /* not a package name: left alone */
	check(bd_sweep_run(s, &o, &st, &err) == 0, "sweep runs", "%s", err.msg);
	snprintf(name, sizeof(name), "%s/", expired);
	check(count(s, name) == 0, "sweep deleted the expired package", "%zu objects left",
	      count(s, name));
	snprintf(name, sizeof(name), "%s/", live);
	check(count(s, name) == 3, "sweep kept the live package", "%zu objects", count(s, name));
	snprintf(name, sizeof(name), "%s/", orphan);
	check(count(s, name) == 2, "sweep kept the orphan (no decision)", "%zu objects",
	      count(s, name));
	check(st.expired >= 1 && st.deleted >= 4 && st.orphans >= 1, "sweep counts",
	      "expired %llu deleted %llu orphans %llu", (unsigned long long)st.expired,
	      (unsigned long long)st.deleted, (unsigned long long)st.orphans);
	check(count(s, "ffff/") == 1, "sweep left a foreign object alone", "gone");
	/* clean up */
	o.now = now + 7200;
	bd_sweep_run(s, &o, &st, &err);
	snprintf(name, sizeof(name), "%s/", live);
	check(count(s, name) == 0, "sweep after expiry deletes the rest", "%zu left",
	      count(s, name));
	snprintf(name, sizeof(name), "%s/1", orphan);
	bd_store_delete(s, name, &err);
	snprintf(name, sizeof(name), "%s/2", orphan);
	bd_store_delete(s, name, &err);
	bd_store_delete(s, "ffff/0", &err);
}

/* Swap in a wrong secret: a 0600 file holding a plausible but wrong value. */
static void test_wrong_credentials(struct bd_conf *conf)
{
	static const char wrong[] = "wrongwrongwrongwrongwrongwrongwrongwrong";
	char path[] = "/tmp/bd-conformance-XXXXXX";
	int fd = mkstemp(path), is_s3 = conf->storage.driver == BD_STORAGE_S3;
	char **field = is_s3 ? &conf->storage.s3_secret_key_file : &conf->storage.token_file;
	char *saved = *field;
	struct bd_store *s;
	struct bd_error err;
	uint64_t size;
	double t0;

	if (fd < 0 || write(fd, wrong, sizeof(wrong) - 1) < 0) {
		check(0, "wrong credentials", "cannot write %s", path);
		return;
	}
	close(fd);
	*field = path;
	s = bd_store_open(&conf->storage, &err);
	*field = saved;
	if (s == NULL) {
		check(0, "open with wrong credentials", "%s", err.msg);
		unlink(path);
		return;
	}
	t0 = now_s();
	check(bd_store_head(s, "abc/0", &size, &err) < 0 &&
	              (strstr(err.msg, "HTTP 401") || strstr(err.msg, "HTTP 403")),
	      is_s3 ? "wrong S3 secret is refused" : "wrong token is refused", "%s", err.msg);
	printf("# error: %s\n", err.msg);
	check(strstr(err.msg, "access denied") != NULL, "the error says access was denied", "%s",
	      err.msg);
	check(strstr(err.msg, wrong) == NULL, "the error does not show the secret", "%s", err.msg);
	check(now_s() - t0 < 2, "an auth failure is not retried", "%.1f s", now_s() - t0);
	bd_store_close(&s);
	unlink(path);
}

/* A port where something listens but never answers: the kernel accepts, nobody reads. */
static int silent_listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int closed_port(void)
{
	int port = 0, fd = silent_listener(&port);

	close(fd); /* nothing listens there now */
	return port;
}

static void try_unreachable(struct bd_conf *conf, int port, const char *label, double limit)
{
	int is_s3 = conf->storage.driver == BD_STORAGE_S3;
	char **field = is_s3 ? &conf->storage.s3_endpoint : &conf->storage.url;
	char *saved = *field, url[64], what[96];
	uint64_t saved_timeout = conf->storage.timeout, saved_retries = conf->storage.retries;
	struct bd_mem_source src;
	struct bd_store *s;
	struct bd_error err;
	double t0, took;
	int rc;

	/* virtual-host addressing needs a name: curl resolves bucket.localhost to loopback */
	snprintf(url, sizeof(url), "http://%s:%d",
	         conf->storage.s3_addressing == BD_S3_VIRTUAL && is_s3 ? "localhost" : "127.0.0.1",
	         port);
	*field = url;
	conf->storage.timeout = 2;
	conf->storage.retries = 1;
	s = bd_store_open(&conf->storage, &err);
	*field = saved;
	conf->storage.timeout = saved_timeout;
	conf->storage.retries = saved_retries;
	if (s == NULL) {
		check(0, label, "open: %s", err.msg);
		return;
	}
	t0 = now_s();
	bd_mem_source_init(&src, (const uint8_t *)"hello", 5);
	rc = bd_store_put(s, "abc/1", &src.source, 5, &err);
	took = now_s() - t0;
	snprintf(what, sizeof(what), "%s: put fails", label);
	check(rc < 0 && err.code == BD_E_STORAGE, what, "rc %d: %s", rc, err.msg);
	printf("# error after %.1f s: %s\n", took, err.msg);
	snprintf(what, sizeof(what), "%s: within the timeout", label);
	check(took < limit, what, "took %.1f s (limit %.0f s)", took, limit);
	snprintf(what, sizeof(what), "%s: the error names backend and object", label);
	check(strstr(err.msg, is_s3 ? "s3 store" : "gateway store") && strstr(err.msg, "abc/1"),
	      what, "%s", err.msg);
	bd_store_close(&s);
}

static void test_server_down(struct bd_conf *conf)
{
	int port = 0, fd;

	try_unreachable(conf, closed_port(), "server down", 3);
	fd = silent_listener(&port);
	/* 2 attempts x 2 s without progress, plus backoff and slack */
	try_unreachable(conf, port, "server never answers", 8);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL;
	struct bd_conf *conf;
	struct bd_store *s;
	struct bd_error err;
	uint8_t rnd[8];
	int c, quick = 0;

	while ((c = getopt(argc, argv, "c:q")) != -1) {
		if (c == 'c')
			conf_path = optarg;
		else if (c == 'q')
			quick = 1;
		else
			conf_path = NULL, argc = 0;
	}
	if (conf_path == NULL) {
		fprintf(stderr, "usage: store-conformance -c CONFIG [-q]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	conf = bd_conf_load(conf_path, &err);
	if (conf == NULL) {
		fprintf(stderr, "store-conformance: %s\n", err.msg);
		return 1;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(run, sizeof(run), rnd, sizeof(rnd));
	printf("# driver %s, objects under %s/\n", bd_store_driver_name(conf->storage.driver), run);
	s = bd_store_open(&conf->storage, &err);
	if (s == NULL) {
		fprintf(stderr, "store-conformance: %s\n", err.msg);
		bd_conf_free(&conf);
		return 1;
	}
	test_sizes_and_ranges(s, quick);
	test_missing_overwrite_delete(s);
	test_list(s);
	test_concurrent(s);
	test_sweep(s);
	test_wrong_credentials(conf);
	test_server_down(conf);
	{
		char prefix[32];
		struct listing l = {.sorted = 1, .del = s};

		snprintf(prefix, sizeof(prefix), "%s/", run);
		bd_store_list(s, prefix, on_list, &l, &err); /* leave nothing behind */
	}
	bd_store_close(&s);
	bd_conf_free(&conf);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
