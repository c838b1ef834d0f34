/*
 * test_conf.c - the configuration parser: defaults, every type, every error path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"

static void test_defaults_are_valid(void **state)
{
	struct bd_conf *c = bd_conf_defaults();

	assert_string_equal(c->milter.socket, "inet:8891@127.0.0.1");
	assert_int_equal(c->policy.retention, 14 * 86400);
	assert_true(c->policy.outgoing_only);
	assert_int_equal(c->milter.spool_memory, 1024 * 1024);
	assert_int_equal(c->milter.internal_networks.n, 2);
	assert_string_equal(c->milter.internal_networks.v[1], "::1/128");
	assert_int_equal(c->milter.internal_domains.n, 0);
	assert_int_equal(c->storage.driver, BD_STORAGE_GATEWAY);
	bd_conf_free(&c);
	assert_null(c);
}

/* Every key's default passes its own bounds and checks, and keys are unique. */
static void test_table_is_consistent(void **state)
{
	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		const struct bd_conf_key *k = &bd_conf_keys[i];

		assert_ptr_equal(bd_conf_find(k->section, k->name), k);
		assert_non_null(k->doc);
		assert_true(strlen(k->doc) > 10);
		if (k->type == BD_CT_ENUM)
			assert_non_null(k->choices);
		if (k->type == BD_CT_UINT || k->type == BD_CT_SIZE || k->type == BD_CT_DURATION)
			assert_true(k->min <= k->max);
	}
}

static void test_values_of_every_type(void **state)
{
	struct bd_error err;
	struct bd_conf *c =
	        bd_conf_load_string("t.conf",
	                            "# comment\n"
	                            "[milter]\n"
	                            "socket = unix:/run/bestanden/milter.sock\n"
	                            "spool_memory = 512K\n"
	                            "max_message_size = 2G\n"
	                            "internal_networks = 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32\n"
	                            "internal_domains = example.org,example.nl\n"
	                            "timeout = 5m\n"
	                            "[policy]\n"
	                            "outgoing_only = off\n"
	                            "retention = 30d\n"
	                            "failure_mode = accept\n"
	                            "; another comment\n"
	                            "[gateway]\n"
	                            "listen = [::1]:8443\n"
	                            "public_url = https://files.example.org\n"
	                            "organisation = Woonstichting Voorbeeld\n",
	                            &err);

	assert_non_null(c);
	assert_string_equal(c->milter.socket, "unix:/run/bestanden/milter.sock");
	assert_int_equal(c->milter.spool_memory, 512 * 1024);
	assert_int_equal(c->milter.max_message_size, 2ULL << 30);
	assert_int_equal(c->milter.internal_networks.n, 3);
	assert_string_equal(c->milter.internal_networks.v[1], "192.168.1.7");
	assert_true(bd_strlist_contains(&c->milter.internal_domains, "EXAMPLE.nl"));
	assert_false(bd_strlist_contains(&c->milter.internal_domains, "example.com"));
	assert_int_equal(c->milter.timeout, 300);
	assert_false(c->policy.outgoing_only);
	assert_int_equal(c->policy.retention, 30 * 86400);
	assert_int_equal(c->policy.failure_mode, BD_FAILURE_ACCEPT);
	assert_string_equal(c->gateway.organisation, "Woonstichting Voorbeeld");
	assert_string_equal(c->path, "t.conf");
	bd_conf_free(&c);
}

struct bad_case {
	const char *text;
	const char *expect; /* substring of the error */
};

static const struct bad_case bad_cases[] = {
        {"[milter]\nsokcet = inet:1@h\n",
         "t.conf:2: unknown key 'sokcet' in [milter]; did you mean 'socket'?"},
        {"[milter]\nfrobnicate = 1\n", "t.conf:2: unknown key 'frobnicate' in [milter]"},
        {"[miltr]\nsocket = inet:1@h\n", "t.conf:2: unknown section [miltr]"},
        {"socket = x\n", "t.conf:1: key 'socket' stands before any [section]"},
        {"[milter]\n\nsocket = inet:1@h\nsocket = inet:2@h\n",
         "t.conf:4: [milter] socket is set again (first set on line 3)"},
        {"[milter]\nsocket = tcp:25\n",
         "t.conf:2: [milter] socket: 'tcp:25': expected inet:PORT@HOST"},
        {"[milter]\nsocket = inet:99999@localhost\n", "port must be 1..65535"},
        {"[milter]\nsocket = unix:relative\n", "needs an absolute path"},
        {"[milter]\nspool_memory = lots\n", "[milter] spool_memory: 'lots' is not a size"},
        {"[milter]\nspool_memory = 1T\n", "is not a size"},
        {"[milter]\nspool_memory = 65M\n", "'65M' is out of range (0..67108864 bytes)"},
        {"[milter]\nmax_message_size = 99999999999999999999999\n", "is not a size"},
        {"[milter]\ntimeout = 1s\n", "out of range (10..3600 seconds)"},
        {"[milter]\ntimeout = -5\n", "is not a duration"},
        {"[milter]\ninternal_networks = 10.0.0.0/33\n", "prefix length must be 0..32"},
        {"[milter]\ninternal_networks = 10.0.0.0/8, intranet\n", "'intranet': not an IP address"},
        {"[milter]\ninternal_domains = exa mple.org\n", "a domain may contain only"},
        {"[milter]\nspool_dir = var/spool\n", "'var/spool' is not an absolute path"},
        {"[milter]\nspool_dir =\n", "[milter] spool_dir: a path is required"},
        {"[policy]\noutgoing_only = maybe\n", "'maybe' is not yes or no"},
        {"[policy]\nfailure_mode = bounce\n", "'bounce' is not one of tempfail|accept"},
        {"[policy]\nmax_parts = 12abc\n", "'12abc' is not a whole number"},
        {"[policy]\nmax_parts = 0\n", "out of range (1..100000)"},
        {"[gateway]\npublic_url = ftp://x\n", "expected a URL starting with http:// or https://"},
        {"[gateway]\npublic_url = https://x.org/\n", "leave out the trailing '/'"},
        {"[gateway]\nlisten = 8080\n", "expected ADDRESS:PORT"},
        {"[gateway]\ntls_cert = /etc/ssl/c.pem\n", "tls_cert and tls_key go together"},
        {"[storage]\ndriver = s3\n", "driver = s3 needs s3_endpoint to be set"},
        {"[storage]\ns3_bucket = Bad_Bucket\n", "a bucket name has only lower-case"},
        {"[smtp]\nfrom = nobody\n", "expected an address like name@example.org"},
        {"[milter]\nthis line has no equals sign\n", "t.conf:2: syntax error"},
};

static void test_bad_input(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct bd_error err;
		struct bd_conf *c = bd_conf_load_string("t.conf", bad_cases[i].text, &err);

		if (c != NULL || strstr(err.msg, bad_cases[i].expect) == NULL)
			fail_msg("case %zu (%s): got '%s', expected '%s'", i, bad_cases[i].text,
			         c ? "(accepted)" : err.msg, bad_cases[i].expect);
		assert_int_equal(err.code, BD_E_CONFIG);
	}
}

static void test_all_errors_reported(void **state)
{
	struct bd_error err;
	struct bd_conf *c = bd_conf_load_string(
	        "t.conf", "[milter]\nsokcet = x\ntimeout = never\n[policy]\nretention = 0d\n",
	        &err);

	assert_null(c);
	assert_non_null(strstr(err.msg, "t.conf:2:"));
	assert_non_null(strstr(err.msg, "t.conf:3:"));
	assert_non_null(strstr(err.msg, "t.conf:5:"));
}

static void test_long_line(void **state)
{
	struct bd_error err;
	size_t n = 6000;
	char *text = malloc(n + 64);
	struct bd_conf *c;

	strcpy(text, "[gateway]\norganisation = ");
	memset(text + strlen(text), 'x', n);
	text[n + 20] = '\0';
	strcat(text, "\n[milter]\nsokcet = 1\n");
	c = bd_conf_load_string("t.conf", text, &err);
	free(text);
	assert_null(c);
	assert_non_null(strstr(err.msg, "t.conf:2: line longer than"));
	/* the rest of the file is still read, with correct line numbers */
	assert_non_null(strstr(err.msg, "t.conf:4: unknown key 'sokcet'"));
}

static void test_missing_file(void **state)
{
	struct bd_error err;

	assert_null(bd_conf_load("/nonexistent/bestanden.conf", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/bestanden.conf: cannot open configuration"));
	assert_non_null(strstr(err.msg, "-c FILE"));
}

static void test_example_round_trip(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bd_error err;
	struct bd_conf *c, *d;

	bd_conf_write_example(f);
	fclose(f);
	c = bd_conf_load_string("example", buf, &err);
	if (c == NULL)
		fail_msg("generated example does not load: %s", err.msg);
	d = bd_conf_defaults();
	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		char a[1024], b[1024];

		assert_non_null(strstr(buf, bd_conf_keys[i].name));
		bd_conf_format_value(c, &bd_conf_keys[i], a, sizeof(a));
		bd_conf_format_value(d, &bd_conf_keys[i], b, sizeof(b));
		assert_string_equal(a, b);
	}
	bd_conf_free(&c);
	bd_conf_free(&d);
	free(buf);
}

/* conf/bestanden.conf in the source tree is exactly what the table generates. */
static void test_shipped_example_in_sync(void **state)
{
	const char *src = getenv("BD_SOURCE_DIR");
	char path[4096], *gen = NULL, *shipped;
	size_t glen = 0;
	long slen;
	FILE *f;

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/conf/bestanden.conf", src);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	slen = ftell(f);
	rewind(f);
	shipped = malloc((size_t)slen + 1);
	assert_int_equal(fread(shipped, 1, (size_t)slen, f), (size_t)slen);
	shipped[slen] = '\0';
	fclose(f);
	f = open_memstream(&gen, &glen);
	bd_conf_write_example(f);
	fclose(f);
	if (strcmp(gen, shipped) != 0)
		fail_msg("conf/bestanden.conf is out of date: regenerate it with "
		         "'make conf/bestanden.conf'");
	free(gen);
	free(shipped);
}

static void test_manpage_lists_every_key(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	bd_conf_write_manpage(f);
	fclose(f);
	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		char want[128], name[64];
		size_t j = 0;

		/* roff escapes '-' as '\-' */
		for (const char *p = bd_conf_keys[i].name; *p && j < sizeof(name) - 2; p++) {
			if (*p == '-')
				name[j++] = '\\';
			name[j++] = *p;
		}
		name[j] = '\0';
		snprintf(want, sizeof(want), ".TP\n\\fB%s\\fR", name);
		assert_non_null(strstr(buf, want));
	}
	free(buf);
}

static void test_sizes_and_durations(void **state)
{
	uint64_t v;

	assert_int_equal(bd_conf_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(bd_conf_parse_size("3k", &v), 0);
	assert_int_equal(v, 3072);
	assert_int_equal(bd_conf_parse_size("5G", &v), 0);
	assert_int_equal(v, 5ULL << 30);
	assert_int_equal(bd_conf_parse_size("", &v), -1);
	assert_int_equal(bd_conf_parse_size("M", &v), -1);
	assert_int_equal(bd_conf_parse_size("1MB", &v), -1);
	assert_int_equal(bd_conf_parse_size("18446744073709551615G", &v), -1);
	assert_int_equal(bd_conf_parse_duration("2h", &v), 0);
	assert_int_equal(v, 7200);
	assert_int_equal(bd_conf_parse_duration("14d", &v), 0);
	assert_int_equal(v, 14 * 86400);
	assert_int_equal(bd_conf_parse_duration("1w", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults_are_valid),
	        cmocka_unit_test(test_table_is_consistent),
	        cmocka_unit_test(test_values_of_every_type),
	        cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_all_errors_reported),
	        cmocka_unit_test(test_long_line),
	        cmocka_unit_test(test_missing_file),
	        cmocka_unit_test(test_example_round_trip),
	        cmocka_unit_test(test_shipped_example_in_sync),
	        cmocka_unit_test(test_manpage_lists_every_key),
	        cmocka_unit_test(test_sizes_and_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
