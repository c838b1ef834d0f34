/*
 * test_pending.c - the queue of packages whose delete failed (pending.h):
 * a failed delete is queued and retried until storage answers, lines past the
 * give-up age and lines that do not parse leave the file, and appends from
 * many threads at once each stay one whole line.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "io.h"
#include "pending.h"
#include "store-memory.h"
#include "store-private.h"

#define ID "0123456789abcdef"

/* A memory store whose deletes fail while `down` is set. */
struct flaky {
	struct bd_store *inner;
	int down;
};

static int f_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                 struct bd_error *err)
{
	return bd_store_put(((struct flaky *)impl)->inner, name, src, length, err);
}

static int f_get(void *impl, const char *name, uint64_t offset, uint64_t length,
                 struct bd_sink *sink, struct bd_error *err)
{
	return bd_store_get(((struct flaky *)impl)->inner, name, offset, length, sink, err);
}

static int f_head(void *impl, const char *name, uint64_t *size, struct bd_error *err)
{
	return bd_store_head(((struct flaky *)impl)->inner, name, size, err);
}

static int f_del(void *impl, const char *name, struct bd_error *err)
{
	struct flaky *f = impl;

	if (f->down)
		return bd_error_set(err, BD_E_STORAGE, "connection refused");
	return bd_store_delete(f->inner, name, err);
}

static int f_list(void *impl, const char *prefix,
                  int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                  struct bd_error *err)
{
	return bd_store_list(((struct flaky *)impl)->inner, prefix, cb, ctx, err);
}

static const struct bd_store_ops flaky_ops = {"flaky", f_put, f_get, f_head, f_del, f_list, NULL};

struct fixture {
	char dir[64];
	char file[96];
	struct flaky flaky;
	struct bd_store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_pending.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/%s", f->dir, BD_PENDING_FILE);
	f->flaky.inner = bd_store_new_memory();
	f->store = bd_store_new(&flaky_ops, &f->flaky);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->file);
	rmdir(f->dir);
	bd_store_close(&f->store);
	bd_store_close(&f->flaky.inner);
	free(f);
	return 0;
}

static void put(struct bd_store *s, const char *name)
{
	struct bd_mem_source src;

	bd_mem_source_init(&src, (const uint8_t *)"x", 1);
	assert_int_equal(bd_store_put(s, name, &src.source, 1, NULL), 0);
}

static int exists(struct bd_store *s, const char *name)
{
	uint64_t size;

	return bd_store_head(s, name, &size, NULL) == 0;
}

/* The file's content ("" when there is none). */
static char *slurp(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n = 0;

	if (fp != NULL) {
		n = fread(buf, 1, size - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	return buf;
}

static void test_failed_delete_is_retried(void **state)
{
	struct fixture *f = *state;
	struct bd_pending_counts c;
	struct stat st;
	char buf[256];

	put(f->store, ID "/0");
	put(f->store, ID "/1");
	f->flaky.down = 1;
	assert_int_equal(bd_package_delete_or_queue(f->store, f->dir, ID), 1);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(strncmp(slurp(f->file, buf, sizeof(buf)), ID " ", 17), 0);

	/* still down: kept */
	assert_int_equal(bd_pending_retry(f->dir, f->store, time(NULL), 3600, &c, NULL), 0);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.deleted, 0);
	assert_true(exists(f->store, ID "/0"));
	assert_int_equal(strncmp(slurp(f->file, buf, sizeof(buf)), ID " ", 17), 0);

	/* back: deleted, and the file goes */
	f->flaky.down = 0;
	assert_int_equal(bd_pending_retry(f->dir, f->store, time(NULL), 3600, &c, NULL), 0);
	assert_int_equal(c.deleted, 1);
	assert_int_equal(c.failed, 0);
	assert_false(exists(f->store, ID "/0"));
	assert_false(exists(f->store, ID "/1"));
	assert_int_equal(stat(f->file, &st), -1);

	/* no file: nothing to do */
	assert_int_equal(bd_pending_retry(f->dir, f->store, time(NULL), 3600, &c, NULL), 0);
	assert_int_equal(c.deleted + c.failed + c.expired + c.dropped, 0);
}

static void test_delete_that_works_queues_nothing(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	put(f->store, ID "/0");
	assert_int_equal(bd_package_delete_or_queue(f->store, f->dir, ID), 0);
	assert_false(exists(f->store, ID "/0"));
	assert_int_equal(stat(f->file, &st), -1);
	/* without a directory a failure is only logged */
	put(f->store, ID "/0");
	f->flaky.down = 1;
	assert_int_equal(bd_package_delete_or_queue(f->store, NULL, ID), -1);
	assert_int_equal(bd_pending_add(f->dir, "../etc/passwd", 1, NULL), -1);
	assert_int_equal(stat(f->file, &st), -1);
}

static void test_unreadable_and_old_lines_leave(void **state)
{
	struct fixture *f = *state;
	struct bd_pending_counts c;
	struct stat st;
	FILE *fp = fopen(f->file, "w");
	char buf[512];

	assert_non_null(fp);
	fputs("garbage\n"
	      "\n"
	      "0123456789ABCDEF 1000\n"
	      "0123456789abcdef\n"
	      "0123456789abcdef -5\n"
	      "0123456789abcdef 12x\n"
	      "0123456789abcdef 99999999999999999999999\n"
	      "fedcba9876543210 1000\n" /* older than the give-up age */
	      "0123456789abcdef 1950",  /* no newline at the end */
	      fp);
	fclose(fp);
	put(f->store, ID "/0");
	put(f->store, "fedcba9876543210/0");
	f->flaky.down = 1;
	assert_int_equal(bd_pending_retry(f->dir, f->store, 2000, 100, &c, NULL), 0);
	assert_int_equal(c.dropped, 6);
	assert_int_equal(c.expired, 1);
	assert_int_equal(c.failed, 1);
	assert_string_equal(slurp(f->file, buf, sizeof(buf)), ID " 1950\n");
	assert_true(exists(f->store, "fedcba9876543210/0")); /* the sweep's now */

	f->flaky.down = 0;
	assert_int_equal(bd_pending_retry(f->dir, f->store, 2000, 100, &c, NULL), 0);
	assert_int_equal(c.deleted, 1);
	assert_false(exists(f->store, ID "/0"));
	assert_int_equal(stat(f->file, &st), -1);
}

#define THREADS 8
#define EACH    100

struct adder {
	const char *dir;
	int n;
};

static void *add_many(void *arg)
{
	struct adder *a = arg;

	for (int i = 0; i < EACH; i++) {
		char id[17];

		snprintf(id, sizeof(id), "%08x%08x", (unsigned)a->n, (unsigned)i);
		if (bd_pending_add(a->dir, id, 1234567890, NULL) < 0)
			return (void *)1;
	}
	return NULL;
}

static void test_appends_from_threads(void **state)
{
	struct fixture *f = *state;
	struct bd_pending_counts c;
	struct adder a[THREADS];
	pthread_t t[THREADS];
	char line[64];
	int seen[THREADS][EACH] = {{0}};
	int lines = 0;
	FILE *fp;

	for (int i = 0; i < THREADS; i++) {
		a[i] = (struct adder){f->dir, i};
		pthread_create(&t[i], NULL, add_many, &a[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		void *rv;

		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	fp = fopen(f->file, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		unsigned n, i;

		assert_int_equal(strlen(line), 28);
		assert_int_equal(sscanf(line, "%8x%8x 1234567890\n", &n, &i), 2);
		assert_true(n < THREADS && i < EACH);
		seen[n][i]++;
		lines++;
	}
	fclose(fp);
	assert_int_equal(lines, THREADS * EACH);
	for (int n = 0; n < THREADS; n++)
		for (int i = 0; i < EACH; i++)
			assert_int_equal(seen[n][i], 1);
	/* none of them is stored: deleting what is not there works */
	assert_int_equal(bd_pending_retry(f->dir, f->store, 1234567890, 60, &c, NULL), 0);
	assert_int_equal(c.deleted, THREADS * EACH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_failed_delete_is_retried, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_delete_that_works_queues_nothing, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_unreadable_and_old_lines_leave, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_appends_from_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
