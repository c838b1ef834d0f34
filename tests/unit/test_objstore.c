/*
 * test_objstore.c - the embedded store on disk: atomic writes, listing order
 * and paging, name clashes, deletes that tidy directories, leftovers cleared.
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "objstore.h"

struct fixture {
	char dir[64];
	struct bd_objstore *os;
	struct bd_store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bd_error err;

	strcpy(f->dir, "/tmp/bd-test-objstore-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->os = bd_objstore_open(f->dir, &err);
	if (f->os == NULL)
		return -1;
	f->store = bd_objstore_store(f->os);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	bd_store_close(&f->store);
	bd_objstore_close(&f->os);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int put(struct fixture *f, const char *name, const char *text, struct bd_error *err)
{
	struct bd_mem_source src;

	bd_mem_source_init(&src, (const uint8_t *)text, strlen(text));
	return bd_store_put(f->store, name, &src.source, strlen(text), err);
}

static int exists(struct fixture *f, const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return stat(path, &st) == 0;
}

static void test_write_commit_abort(void **state)
{
	struct fixture *f = *state;
	struct bd_objstore_writer *w;
	struct bd_error err;
	uint64_t size;
	int fd;

	w = bd_objstore_writer_new(f->os, "ab/1", &err);
	assert_non_null(w);
	assert_int_equal(bd_objstore_write(w, "hello ", 6, &err), 0);
	/* not visible before commit */
	assert_int_equal(bd_objstore_open_object(f->os, "ab/1", &size, &err), -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
	assert_int_equal(bd_objstore_write(w, "world", 5, &err), 0);
	assert_int_equal(bd_objstore_commit(&w, &err), 0);
	assert_null(w);
	fd = bd_objstore_open_object(f->os, "ab/1", &size, &err);
	assert_true(fd >= 0);
	assert_int_equal(size, 11);
	close(fd);

	w = bd_objstore_writer_new(f->os, "ab/2", &err);
	assert_int_equal(bd_objstore_write(w, "half", 4, &err), 0);
	bd_objstore_abort(&w);
	assert_null(w);
	assert_false(exists(f, "ab/2"));
	/* nothing left in .tmp */
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/.tmp')\"", f->dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_large_writes_are_whole(void **state)
{
	struct fixture *f = *state;
	struct bd_objstore_writer *w = NULL;
	struct bd_buf_sink sink;
	struct bd_error err;
	size_t n = 3 * 1024 * 1024 + 17;
	uint8_t *data = malloc(n);

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7);
	w = bd_objstore_writer_new(f->os, "cc/1", &err);
	/* small pieces, then one larger than the write buffer */
	for (size_t off = 0; off < 1000 * 100; off += 100)
		assert_int_equal(bd_objstore_write(w, data + off, 100, &err), 0);
	assert_int_equal(bd_objstore_write(w, data + 100000, n - 100000, &err), 0);
	assert_int_equal(bd_objstore_commit(&w, &err), 0);
	bd_buf_sink_init(&sink);
	assert_int_equal(bd_store_get(f->store, "cc/1", 0, BD_STORE_TO_END, &sink.sink, &err), 0);
	assert_int_equal(sink.len, n);
	assert_memory_equal(sink.data, data, n);
	free(sink.data);
	free(data);
}

struct names {
	char v[32][32];
	int n;
};

static int collect(void *ctx, const char *name, uint64_t size)
{
	struct names *l = ctx;

	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", name);
	return 0;
}

static void test_list_order_and_paging(void **state)
{
	static const char *names[] = {"a0", "a/1", "a/0", "b", "a/f/0", "a/10", "0"};
	static const char *sorted[] = {"0", "a/0", "a/1", "a/10", "a/f/0", "a0", "b"};
	struct fixture *f = *state;
	struct bd_error err;
	struct names l = {0};

	for (size_t i = 0; i < 7; i++)
		assert_int_equal(put(f, names[i], "x", &err), 0);
	assert_int_equal(bd_objstore_list(f->os, "", "", 100, collect, &l, &err), 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(l.v[i], sorted[i]);
	memset(&l, 0, sizeof(l));
	assert_int_equal(bd_objstore_list(f->os, "a/", "", 100, collect, &l, &err), 4);
	assert_string_equal(l.v[3], "a/f/0");
	memset(&l, 0, sizeof(l));
	/* a page of 2 after "a/1" */
	assert_int_equal(bd_objstore_list(f->os, "", "a/1", 2, collect, &l, &err), 2);
	assert_string_equal(l.v[0], "a/10");
	assert_string_equal(l.v[1], "a/f/0");
	memset(&l, 0, sizeof(l));
	assert_int_equal(bd_objstore_list(f->os, "a", "a/f/0", 10, collect, &l, &err), 1);
	assert_string_equal(l.v[0], "a0");
	/* the bd_store face pages internally */
	memset(&l, 0, sizeof(l));
	assert_int_equal(bd_store_list(f->store, "", collect, &l, &err), 0);
	assert_int_equal(l.n, 7);
}

static void test_clashes_and_tidy_deletes(void **state)
{
	struct fixture *f = *state;
	struct bd_error err;
	uint64_t size;

	assert_int_equal(put(f, "dd/0", "x", &err), 0);
	/* "dd" is a prefix now, and "dd/0" a file */
	assert_int_equal(put(f, "dd", "x", &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	assert_int_equal(put(f, "dd/0/1", "x", &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	/* deleting a prefix is deleting nothing */
	assert_int_equal(bd_store_delete(f->store, "dd", &err), 0);
	assert_int_equal(bd_store_head(f->store, "dd/0", &size, &err), 0);
	assert_int_equal(put(f, "dd/1", "yy", &err), 0);
	assert_int_equal(bd_store_delete(f->store, "dd/0", &err), 0);
	assert_true(exists(f, "dd"));
	assert_int_equal(bd_store_delete(f->store, "dd/1", &err), 0);
	assert_false(exists(f, "dd")); /* the empty directory went too */
	assert_int_equal(bd_store_delete(f->store, "dd/1", &err), 0);
	assert_int_equal(put(f, "dd/2", "z", &err), 0); /* and comes back when needed */
}

static void test_reopen_clears_leftovers(void **state)
{
	struct fixture *f = *state;
	struct bd_objstore_writer *w;
	struct bd_objstore *again;
	struct bd_error err;
	char cmd[160];

	w = bd_objstore_writer_new(f->os, "ee/1", &err);
	assert_int_equal(bd_objstore_write(w, "crash", 5, &err), 0);
	/* as if the gateway died here: reopen finds the temporary file and removes it */
	again = bd_objstore_open(f->dir, &err);
	assert_non_null(again);
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/.tmp')\"", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_false(exists(f, "ee/1"));
	bd_objstore_close(&again);
	bd_objstore_abort(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_write_commit_abort, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_large_writes_are_whole, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_list_order_and_paging, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_clashes_and_tidy_deletes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reopen_clears_leftovers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
