/*
 * test_store.c - the storage interface: name rules, dispatch and error
 * prefixes (through a fault-injecting driver), the driver table (a row for
 * every [storage] driver, BD_E_CONFIG for anything else), deleting a package
 * (manifest first), and the in-memory store: put/get/range/head/delete/list,
 * and puts from many threads at once.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "store-memory.h"
#include "remove.h"
#include "store-private.h"

static void test_name_rules(void **state)
{
	static const struct {
		const char *name;
		int valid;
	} cases[] = {
	        {"0123456789abcdef/0", 1},
	        {"0123456789abcdef/1f", 1},
	        {"a", 1},
	        {"a/b/c", 1},
	        {"", 0},
	        {"/a", 0},
	        {"a/", 0},
	        {"a//b", 0},
	        {"A", 0},
	        {"g", 0},
	        {"a b", 0},
	        {"../etc", 0},
	        {"a/./b", 0},
	        {"a\n", 0},
	        {"%2e", 0},
	};
	char longest[BD_STORE_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (bd_store_name_valid(cases[i].name) != cases[i].valid)
			fail_msg("'%s': expected %s", cases[i].name,
			         cases[i].valid ? "valid" : "invalid");
	}
	assert_false(bd_store_name_valid(NULL));
	memset(longest, 'a', BD_STORE_NAME_MAX);
	longest[BD_STORE_NAME_MAX] = '\0';
	assert_true(bd_store_name_valid(longest));
	longest[BD_STORE_NAME_MAX] = 'b';
	longest[BD_STORE_NAME_MAX + 1] = '\0';
	assert_false(bd_store_name_valid(longest));
}

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 31 + seed * 7) ^ (i >> 8));
	return p;
}

static int put_bytes(struct bd_store *s, const char *name, const uint8_t *data, size_t n,
                     struct bd_error *err)
{
	struct bd_mem_source src;

	bd_mem_source_init(&src, data, n);
	return bd_store_put(s, name, &src.source, n, err);
}

static void test_memory_round_trip(void **state)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537};
	struct bd_store *s = bd_store_new_memory();
	struct bd_error err;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *data = pattern(sizes[i], (unsigned)i);
		struct bd_buf_sink sink;
		uint64_t size = 99;

		assert_int_equal(put_bytes(s, "00ff/1", data, sizes[i], &err), 0);
		assert_int_equal(bd_store_head(s, "00ff/1", &size, &err), 0);
		assert_int_equal(size, sizes[i]);
		bd_buf_sink_init(&sink);
		assert_int_equal(bd_store_get(s, "00ff/1", 0, BD_STORE_TO_END, &sink.sink, &err),
		                 0);
		assert_int_equal(sink.len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(sink.data, data, sizes[i]);
		free(sink.data);
		free(data);
	}
	bd_store_close(&s);
	assert_null(s);
}

static void test_memory_ranges(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	uint8_t *data = pattern(1000, 3);
	struct bd_buf_sink sink;
	struct bd_error err;

	assert_int_equal(put_bytes(s, "abc/0", data, 1000, &err), 0);
	bd_buf_sink_init(&sink);
	assert_int_equal(bd_store_get(s, "abc/0", 10, 20, &sink.sink, &err), 0);
	assert_int_equal(sink.len, 20);
	assert_memory_equal(sink.data, data + 10, 20);
	sink.len = 0;
	/* past the end: stops at the end */
	assert_int_equal(bd_store_get(s, "abc/0", 990, 100, &sink.sink, &err), 0);
	assert_int_equal(sink.len, 10);
	assert_memory_equal(sink.data, data + 990, 10);
	sink.len = 0;
	assert_int_equal(bd_store_get(s, "abc/0", 999, BD_STORE_TO_END, &sink.sink, &err), 0);
	assert_int_equal(sink.len, 1);
	sink.len = 0;
	assert_int_equal(bd_store_get(s, "abc/0", 1000, 1, &sink.sink, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	assert_int_equal(bd_store_get(s, "abc/0", 5, 0, &sink.sink, &err), 0);
	assert_int_equal(sink.len, 0);
	free(sink.data);
	free(data);
	bd_store_close(&s);
}

static void test_memory_missing_and_delete(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_buf_sink sink;
	struct bd_error err;
	uint64_t size;

	assert_int_equal(bd_store_head(s, "dead/0", &size, &err), -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "memory store"));
	assert_non_null(strstr(err.msg, "dead/0"));
	bd_buf_sink_init(&sink);
	assert_int_equal(bd_store_get(s, "dead/0", 0, BD_STORE_TO_END, &sink.sink, &err), -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
	assert_int_equal(bd_store_delete(s, "dead/0", &err), 0);
	assert_int_equal(put_bytes(s, "dead/0", (const uint8_t *)"x", 1, &err), 0);
	assert_int_equal(bd_store_delete(s, "dead/0", &err), 0);
	assert_int_equal(bd_store_head(s, "dead/0", &size, &err), -1);
	assert_int_equal(bd_store_put(s, "Dead/0", NULL, 0, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	bd_store_close(&s);
}

static void test_memory_short_source(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_mem_source src;
	struct bd_error err;
	uint64_t size;

	bd_mem_source_init(&src, (const uint8_t *)"abc", 3);
	assert_int_equal(bd_store_put(s, "a/1", &src.source, 10, &err), -1);
	assert_non_null(strstr(err.msg, "3 of 10"));
	/* nothing half-written */
	assert_int_equal(bd_store_head(s, "a/1", &size, &err), -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
	bd_store_close(&s);
}

struct listing {
	char names[16][32];
	uint64_t sizes[16];
	int n, stop_after;
	struct bd_store *store; /* non-NULL: delete each object shown */
};

static int collect(void *ctx, const char *name, uint64_t size)
{
	struct listing *l = ctx;
	struct bd_error err;

	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	l->sizes[l->n++] = size;
	if (l->store != NULL)
		assert_int_equal(bd_store_delete(l->store, name, &err), 0);
	return l->stop_after && l->n >= l->stop_after;
}

static void test_memory_list(void **state)
{
	static const char *names[] = {"bb/1", "aa/2", "aa/0", "aa0/0", "a/0", "aa/1"};
	struct bd_store *s = bd_store_new_memory();
	struct listing l = {0};
	struct bd_error err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(put_bytes(s, names[i], (const uint8_t *)"hello", i, &err), 0);
	assert_int_equal(bd_store_list(s, "aa/", collect, &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.names[0], "aa/0");
	assert_string_equal(l.names[1], "aa/1");
	assert_string_equal(l.names[2], "aa/2");
	assert_int_equal(l.sizes[0], 2);
	memset(&l, 0, sizeof(l));
	assert_int_equal(bd_store_list(s, "", collect, &l, &err), 0);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.names[0], "a/0");
	assert_string_equal(l.names[5], "bb/1");
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(bd_store_list(s, "a", collect, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(bd_store_list(s, "/x", collect, &l, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	/* deleting from the callback */
	memset(&l, 0, sizeof(l));
	l.store = s;
	assert_int_equal(bd_store_list(s, "aa", collect, &l, &err), 0);
	assert_int_equal(l.n, 4);
	memset(&l, 0, sizeof(l));
	assert_int_equal(bd_store_list(s, "", collect, &l, &err), 0);
	assert_int_equal(l.n, 2);
	bd_store_close(&s);
}

struct worker {
	struct bd_store *store;
	int id;
	int rc;
};

static void *put_many(void *arg)
{
	struct worker *w = arg;
	struct bd_error err;

	for (int i = 0; i < 50 && w->rc == 0; i++) {
		char name[32];
		uint8_t *data = pattern(100 + (size_t)i, (unsigned)w->id);

		snprintf(name, sizeof(name), "%04x/%x", w->id, i);
		w->rc = put_bytes(w->store, name, data, 100 + (size_t)i, &err);
		free(data);
	}
	return NULL;
}

static int count(void *ctx, const char *name, uint64_t size)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_memory_threads(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct worker w[8];
	pthread_t t[8];
	struct bd_error err;
	int n = 0;

	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){s, i, 0};
		assert_int_equal(pthread_create(&t[i], NULL, put_many, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	assert_int_equal(bd_store_list(s, "", count, &n, &err), 0);
	assert_int_equal(n, 8 * 50);
	bd_store_close(&s);
}

/* A driver that always fails, to see the error prefix and code pass through. */
static int broken_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                      struct bd_error *err)
{
	return bd_error_set(err, BD_E_STORAGE, "HTTP 503 (after 4 attempts)");
}

static int broken_head(void *impl, const char *name, uint64_t *size, struct bd_error *err)
{
	return bd_error_set(err, BD_E_STORAGE, "connection refused");
}

static void test_dispatch_prefixes_errors(void **state)
{
	static const struct bd_store_ops ops = {
	        .name = "broken", .put = broken_put, .head = broken_head};
	struct bd_store *s = bd_store_new(&ops, NULL);
	struct bd_buf_sink sink;
	struct bd_error err;
	uint64_t size;

	assert_int_equal(put_bytes(s, "1234/0", NULL, 0, &err), -1);
	assert_int_equal(err.code, BD_E_STORAGE);
	assert_string_equal(err.msg, "broken store: put 1234/0: HTTP 503 (after 4 attempts)");
	assert_int_equal(bd_store_head(s, "1234/0", &size, &err), -1);
	assert_string_equal(err.msg, "broken store: head 1234/0: connection refused");
	/* a zero-length get still checks the object */
	bd_buf_sink_init(&sink);
	assert_int_equal(bd_store_get(s, "1234/0", 0, 0, &sink.sink, &err), -1);
	assert_int_equal(err.code, BD_E_STORAGE);
	bd_store_close(&s); /* no close op: fine */
}

static void test_open_unknown_driver(void **state)
{
	struct bd_conf *conf = bd_conf_defaults();
	struct bd_error err;

	conf->storage.driver = (enum bd_storage_driver)99;
	assert_null(bd_store_open(&conf->storage, &err));
	assert_int_equal(err.code, BD_E_CONFIG);
	bd_conf_free(&conf);
}

/* Every choice of [storage] driver has its row, under its own name; one past them has none. */
static void test_driver_table(void **state)
{
	const struct bd_conf_key *key = bd_conf_find("storage", "driver");
	struct bd_conf *conf = bd_conf_defaults();
	struct bd_error err;
	char word[32];
	int v;

	assert_non_null(key);
	for (v = 0; strcmp(bd_conf_enum_name(key, v, word, sizeof(word)), "?") != 0; v++) {
		const struct bd_store_driver *d = bd_store_driver_find((enum bd_storage_driver)v);

		if (d == NULL)
			fail_msg("driver = %s has no row in the driver table", word);
		assert_string_equal(d->name, word);
		assert_string_equal(bd_store_driver_name((enum bd_storage_driver)v), word);
		assert_non_null(d->open);
	}
	assert_true(v >= 2);
	assert_null(bd_store_driver_find((enum bd_storage_driver)v));
	assert_null(bd_store_driver_find((enum bd_storage_driver) - 1));
	assert_string_equal(bd_store_driver_name((enum bd_storage_driver)v), "?");
	conf->storage.driver = (enum bd_storage_driver)v;
	assert_null(bd_store_open(&conf->storage, &err));
	assert_int_equal(err.code, BD_E_CONFIG);
	assert_int_equal(bd_store_init(&conf->storage, 0, 15, &err), -1);
	assert_int_equal(err.code, BD_E_CONFIG);
	bd_conf_free(&conf);
}

/* The keys a driver needs are checked once, by the conf layer's rule, before the driver runs. */
static void test_open_missing_keys(void **state)
{
	struct bd_conf *conf = bd_conf_defaults();
	struct bd_error err;

	conf->storage.driver = BD_STORAGE_S3;
	assert_null(bd_store_open(&conf->storage, &err));
	assert_int_equal(err.code, BD_E_CONFIG);
	assert_non_null(strstr(err.msg, "s3_endpoint"));
	assert_int_equal(bd_store_init(&conf->storage, 1, 15, &err), -1);
	assert_int_equal(err.code, BD_E_CONFIG);
	conf->storage.driver = BD_STORAGE_GATEWAY;
	free(conf->storage.token_file);
	conf->storage.token_file = strdup("");
	assert_null(bd_store_open(&conf->storage, &err));
	assert_int_equal(err.code, BD_E_CONFIG);
	assert_non_null(strstr(err.msg, "token_file"));
	bd_conf_free(&conf);
}

/* A store that records deletes in order and can refuse one name. */
struct recorder {
	struct bd_store *inner;
	char deleted[8][32];
	int n;
	const char *refuse;
};

static int r_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                 struct bd_error *err)
{
	return bd_store_put(((struct recorder *)impl)->inner, name, src, length, err);
}

static int r_del(void *impl, const char *name, struct bd_error *err)
{
	struct recorder *r = impl;

	if (r->refuse != NULL && strcmp(name, r->refuse) == 0)
		return bd_error_set(err, BD_E_STORAGE, "refused");
	snprintf(r->deleted[r->n++], sizeof(r->deleted[0]), "%s", name);
	return bd_store_delete(r->inner, name, err);
}

static int r_list(void *impl, const char *prefix,
                  int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                  struct bd_error *err)
{
	return bd_store_list(((struct recorder *)impl)->inner, prefix, cb, ctx, err);
}

static void test_package_delete(void **state)
{
	static const struct bd_store_ops ops = {
	        .name = "recorder", .put = r_put, .del = r_del, .list = r_list};
	static const char *names[] = {"0123456789abcdef/2", "0123456789abcdef/0",
	                              "0123456789abcdef/1", "0123456789abcdef0/0",
	                              "1123456789abcdef/0"};
	struct recorder r = {.inner = bd_store_new_memory()};
	struct bd_store *s = bd_store_new(&ops, &r);
	struct bd_error err;
	size_t deleted = 99;
	int left = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(put_bytes(s, names[i], (const uint8_t *)"x", 1, &err), 0);
	/* the manifest cannot go: nothing else goes either, so the link keeps what it opens */
	r.refuse = "0123456789abcdef/0";
	assert_int_equal(bd_package_delete(s, "0123456789abcdef", &deleted, &err), -1);
	assert_int_equal(err.code, BD_E_STORAGE);
	assert_int_equal(r.n, 0);
	assert_int_equal(deleted, 0);
	r.refuse = NULL;
	assert_int_equal(bd_package_delete(s, "0123456789abcdef", &deleted, &err), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.deleted[0], "0123456789abcdef/0");
	assert_string_equal(r.deleted[1], "0123456789abcdef/1");
	assert_string_equal(r.deleted[2], "0123456789abcdef/2");
	assert_int_equal(deleted, 2);
	/* other packages, even one whose id starts the same, are untouched */
	assert_int_equal(bd_store_list(r.inner, "", count, &left, &err), 0);
	assert_int_equal(left, 2);
	/* idempotent */
	assert_int_equal(bd_package_delete(s, "0123456789abcdef", &deleted, &err), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(bd_package_delete(s, "0123456789ABCDEF", NULL, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	assert_int_equal(bd_package_delete(s, "0123", NULL, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	bd_store_close(&s);
	bd_store_close(&r.inner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_name_rules),
	        cmocka_unit_test(test_memory_round_trip),
	        cmocka_unit_test(test_memory_ranges),
	        cmocka_unit_test(test_memory_missing_and_delete),
	        cmocka_unit_test(test_memory_short_source),
	        cmocka_unit_test(test_memory_list),
	        cmocka_unit_test(test_memory_threads),
	        cmocka_unit_test(test_dispatch_prefixes_errors),
	        cmocka_unit_test(test_open_unknown_driver),
	        cmocka_unit_test(test_driver_table),
	        cmocka_unit_test(test_open_missing_keys),
	        cmocka_unit_test(test_package_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
