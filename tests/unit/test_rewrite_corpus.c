/*
 * test_rewrite_corpus.c - the rewrite engine over every message of the
 * shared corpus (BD_SHARED_DIR/corpus, read at run time), with the memory
 * store and every check of rewrite_check.c. A missing corpus is a failure,
 * not a skip: this test is what says real-world mail comes through intact.
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
#include <time.h>
#include <cmocka.h>

#include "rewrite_check.h"

static int by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_corpus(void **state)
{
	const char *shared = getenv("BD_SHARED_DIR");
	char *dir = g_build_filename(shared ? shared : "../shared", "corpus", NULL);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	struct rwc_stats stats = {0};
	struct timespec t0, t1;
	struct rwc c;
	int problems = 0;

	rwc_collect_corpus(dir, files);
	if (files->len == 0)
		fail_msg("no corpus messages in %s (BD_SHARED_DIR=%s): the corpus is required", dir,
		         shared ? shared : "(unset)");
	g_ptr_array_sort(files, by_name);
	rwc_init(&c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (guint i = 0; i < files->len; i++)
		problems += rwc_run(&c, files->pdata[i], NULL, NULL, NULL, &stats);
	/* the same corpus with the other switches of the policy */
	for (guint i = 0; i < files->len; i++)
		problems += rwc_run(
		        &c, files->pdata[i],
		        "[policy]\nforwarded_messages = keep\nkeep_inline_images = no\n"
		        "keep_signatures = no\nkeep_calendar = no\n[notice]\nlanguage = en\n"
		        "[storage]\nparallel_uploads = 1\n",
		        NULL, NULL, &stats);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("corpus: %u message runs (%u files), %u changed, %u unchanged (%u malformed), "
	       "%u errors; %u parts sent away (%llu bytes) in %.2f s\n",
	       stats.messages, files->len, stats.changed, stats.unchanged, stats.malformed,
	       stats.errors, stats.files, (unsigned long long)stats.bytes,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rwc_free(&c);
	g_ptr_array_free(files, TRUE);
	g_free(dir);
	if (problems > 0 || stats.errors > 0)
		fail_msg("%d problems, %u errors (see above)", problems, stats.errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
