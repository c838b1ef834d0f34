/*
 * test_milter_metrics.c - the milter's /metrics without a milter: its port
 * (bd_listen_tcp), the counters from many threads, rules across a reload, and
 * label values escaped as the Prometheus text format wants them.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "metrics.h"
#include "network.h"

static char *label(const char *value)
{
	GString *out = g_string_new(NULL);

	bd_metrics_append_label(out, value);
	return g_string_free(out, FALSE);
}

static void test_label_escaping(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"default", "\"default\""},
	        {"", "\"\""},
	        {"a\"b", "\"a\\\"b\""},
	        {"back\\slash", "\"back\\\\slash\""},
	        {"two\nlines", "\"two\\nlines\""},
	        {"\\\"\n", "\"\\\\\\\"\\n\""},
	        {"tab\tand é", "\"tab\tand é\""}, /* only the three are escaped */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = label(cases[i].in);

		assert_string_equal(got, cases[i].out);
		g_free(got);
	}
}

/* The value of SERIES (the whole "name{labels}") in TEXT; -1 when it is not there. */
static long long value_of(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');

		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
		if (end == NULL)
			break;
		p = end + 1;
	}
	return -1;
}

static long long current(const char *series)
{
	size_t len;
	char *text = bd_metrics_render(&len);
	long long v = value_of(text, series);

	assert_int_equal(strlen(text), len);
	g_free(text);
	return v;
}

static struct bd_conf *rules(const char *text)
{
	struct bd_error err;
	struct bd_conf *conf = bd_conf_load_string("rules.conf", text, &err);

	if (conf == NULL)
		fail_msg("%s", err.msg);
	return conf;
}

#define THREADS    8
#define PER_THREAD 20000

static void *count_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		bd_metrics_decision("busy", "replace");
		bd_metrics_outcome(BD_OUTCOME_REWRITTEN);
		bd_metrics_replaced(2, 10);
	}
	return NULL;
}

/* Every series of this test, so each test starts from what the ones before left. */
static void test_counts_from_many_threads(void **state)
{
	pthread_t t[THREADS];
	long long rewritten = current("bestanden_milter_outcomes_total{outcome=\"rewritten\"}");
	long long files = current("bestanden_milter_attachments_replaced_total");
	long long bytes = current("bestanden_milter_stored_bytes_total");

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, count_many, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"busy\",action=\"replace\"}"),
	        THREADS * PER_THREAD);
	assert_int_equal(current("bestanden_milter_outcomes_total{outcome=\"rewritten\"}"),
	                 rewritten + THREADS * PER_THREAD);
	assert_int_equal(current("bestanden_milter_attachments_replaced_total"),
	                 files + 2 * THREADS * PER_THREAD);
	assert_int_equal(current("bestanden_milter_stored_bytes_total"),
	                 bytes + 10 * THREADS * PER_THREAD);
}

static void test_rules_across_a_reload(void **state)
{
	struct bd_conf *first = rules("[rule exe]\nextension = exe\naction = block\n"
	                              "[rule default]\naction = replace\n");
	struct bd_conf *second = rules("[rule programs]\nextension = exe\naction = block\n"
	                               "[rule default]\naction = pass\n");

	(void)state;
	bd_metrics_add_rules(&first->rules);
	/* every rule shows from the start, at 0 */
	assert_int_equal(current("bestanden_milter_messages_total{rule=\"exe\",action=\"block\"}"),
	                 0);
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"default\",action=\"replace\"}"), 0);
	bd_metrics_decision("exe", "block");
	bd_metrics_decision("exe", "block");
	bd_metrics_decision("default", "replace");
	bd_metrics_add_rules(&second->rules);
	/* the old names keep their counts; the new ones and a changed action appear */
	assert_int_equal(current("bestanden_milter_messages_total{rule=\"exe\",action=\"block\"}"),
	                 2);
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"default\",action=\"replace\"}"), 1);
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"programs\",action=\"block\"}"), 0);
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"default\",action=\"pass\"}"), 0);
	/* a second reload with the same rules adds nothing twice */
	bd_metrics_add_rules(&second->rules);
	bd_metrics_decision(BD_METRICS_NO_RULE, "pass");
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"policy\",action=\"pass\"}"), 1);
	/* a label value that needs escaping is escaped in the text */
	bd_metrics_decision("odd\"name\\", "tempfail");
	assert_int_equal(current("bestanden_milter_messages_total{rule=\"odd\\\"name\\\\\",action="
	                         "\"tempfail\"}"),
	                 1);
	bd_conf_free(&first);
	bd_conf_free(&second);
}

static void test_fixed_series_and_unknown_actions(void **state)
{
	size_t len;
	char *text = bd_metrics_render(&len);

	(void)state;
	/* the fixed series are there from the start */
	for (const char *const *s =
	             (const char *const[]){
	                     "bestanden_milter_outcomes_total{outcome=\"unchanged\"}",
	                     "bestanden_milter_outcomes_total{outcome=\"rejected\"}",
	                     "bestanden_milter_outcomes_total{outcome=\"tempfailed\"}",
	                     "bestanden_milter_failures_total{reason=\"spool\"}",
	                     "bestanden_milter_failures_total{reason=\"storage\"}",
	                     "bestanden_milter_failures_total{reason=\"malformed\"}",
	                     "bestanden_milter_failures_total{reason=\"timeout\"}",
	                     "bestanden_milter_failures_total{reason=\"mta\"}",
	                     "bestanden_milter_failures_total{reason=\"upload_request\"}", NULL};
	     *s != NULL; s++)
		assert_int_equal(value_of(text, *s), 0);
	assert_non_null(strstr(text, "# TYPE bestanden_milter_messages_total counter\n"));
	/* an action that is none of the four is counted apart, not as a series of its own */
	g_free(text);
	bd_metrics_decision("exe", "quarantine");
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"other\",action=\"other\"}"), 1);
	assert_int_equal(
	        current("bestanden_milter_messages_total{rule=\"exe\",action=\"quarantine\"}"), -1);
}

static void test_listen_tcp(void **state)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct bd_error err;
	char addr[64];
	int fd, again;

	(void)state;
	fd = bd_listen_tcp("127.0.0.1:0", &err);
	assert_true(fd >= 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	again = bd_listen_tcp(addr, &err);
	assert_int_equal(again, -1);
	assert_int_equal(err.code, BD_E_IO);
	assert_non_null(strstr(err.msg, "cannot listen on 127.0.0.1:"));
	assert_non_null(strstr(err.msg, "in use"));
	close(fd);
	fd = bd_listen_tcp("[::1]:0", &err);
	if (fd >= 0) /* a host without IPv6 says so with BD_E_IO */
		close(fd);
	else
		assert_int_equal(err.code, BD_E_IO);
	assert_int_equal(bd_listen_tcp("no-such-host.invalid:9466", &err), -1);
	assert_int_equal(err.code, BD_E_CONFIG);
	assert_int_equal(bd_listen_tcp("127.0.0.1", &err), -1);
	assert_int_equal(err.code, BD_E_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_label_escaping),
	        cmocka_unit_test(test_counts_from_many_threads),
	        cmocka_unit_test(test_rules_across_a_reload),
	        cmocka_unit_test(test_fixed_series_and_unknown_actions),
	        cmocka_unit_test(test_listen_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
