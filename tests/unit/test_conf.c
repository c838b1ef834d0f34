/*
 * test_conf.c - the configuration parser: defaults, every type, every error path.
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
#include <cmocka.h>

#include "conf.h"

static void test_defaults_are_valid(void **state)
{
	struct bd_conf *c = bd_conf_defaults();

	assert_string_equal(c->milter.socket, "inet:8891@127.0.0.1");
	assert_int_equal(c->policy.retention, 14 * 86400);
	assert_true(c->policy.outgoing_only);
	assert_int_equal(c->milter.spool_memory, 32 * 1024 * 1024);
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

struct problems {
	unsigned n;
	char lines[40][600];
};

static void collect_problem(void *ctx, const char *problem)
{
	struct problems *p = ctx;

	if (p->n < 40)
		snprintf(p->lines[p->n], sizeof(p->lines[0]), "%s", problem);
	p->n++;
}

/* Thirty misspelt keys: thirty problems, each naming file, line and key; none lost to a buffer. */
static void test_every_problem_reported(void **state)
{
	char text[4096], want[128];
	size_t used = 0;
	struct problems p = {0};
	struct bd_error err;

	used += (size_t)snprintf(text + used, sizeof(text) - used, "[policy]\n");
	for (int i = 0; i < 30; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		                         i % 2 ? "retentoin_%02d = 1d\n" : "unknown_key_%02d = 1\n",
		                         i);
	assert_null(bd_conf_load_string_reporting("t.conf", text, collect_problem, &p, &err));
	assert_int_equal(p.n, 30);
	for (int i = 0; i < 30; i++) {
		snprintf(want, sizeof(want),
		         i % 2 ? "t.conf:%d: unknown key 'retentoin_%02d' in [policy]"
		               : "t.conf:%d: unknown key 'unknown_key_%02d' in [policy]",
		         i + 2, i);
		if (strstr(p.lines[i], want) == NULL)
			fail_msg("problem %d is '%s', expected '%s'", i, p.lines[i], want);
	}
	/* the one-line summary keeps whole lines and says how many more there are */
	assert_int_equal(err.code, BD_E_CONFIG);
	assert_non_null(strstr(err.msg, "t.conf:2: unknown key 'unknown_key_00' in [policy]"));
	assert_non_null(strstr(err.msg, "more problems (bestanden check-config lists them all)"));
	assert_true(strlen(err.msg) < sizeof(err.msg) - 1);
}

/* A file that cannot be opened is a problem too. */
static void test_missing_file_reported(void **state)
{
	struct problems p = {0};
	struct bd_error err;

	assert_null(
	        bd_conf_load_reporting("/nonexistent/bestanden.conf", collect_problem, &p, &err));
	assert_int_equal(p.n, 1);
	assert_non_null(
	        strstr(p.lines[0], "/nonexistent/bestanden.conf: cannot open configuration"));
}

/*
 * The C enums and the table's choices agree: each word parses to its constant
 * and prints back. Reordering either side, or adding a choice or an
 * enumerated key without a line here, fails.
 */
static const struct {
	const char *section, *name, *word;
	int value;
} enum_words[] = {
        {"gateway", "language", "nl", BD_LANG_NL},
        {"gateway", "language", "en", BD_LANG_EN},
        {"gateway", "language", "auto", BD_LANG_AUTO},
        {"gateway", "audit_client_address", "full", BD_AUDIT_ADDRESS_FULL},
        {"gateway", "audit_client_address", "truncated", BD_AUDIT_ADDRESS_TRUNCATED},
        {"gateway", "audit_client_address", "none", BD_AUDIT_ADDRESS_NONE},
        {"storage", "driver", "gateway", BD_STORAGE_GATEWAY},
        {"storage", "driver", "s3", BD_STORAGE_S3},
        {"storage", "s3_addressing", "path", BD_S3_PATH},
        {"storage", "s3_addressing", "virtual", BD_S3_VIRTUAL},
        {"policy", "forwarded_messages", "eml", BD_FORWARDED_EML},
        {"policy", "forwarded_messages", "keep", BD_FORWARDED_KEEP},
        {"policy", "failure_mode", "tempfail", BD_FAILURE_TEMPFAIL},
        {"policy", "failure_mode", "accept", BD_FAILURE_ACCEPT},
        {"policy", "malformed", "unchanged", BD_MALFORMED_UNCHANGED},
        {"policy", "malformed", "tempfail", BD_MALFORMED_TEMPFAIL},
        {"policy", "malformed", "reject", BD_MALFORMED_REJECT},
        {"policy", "undecodable", "raw", BD_UNDECODABLE_RAW},
        {"policy", "undecodable", "tempfail", BD_UNDECODABLE_TEMPFAIL},
        {"policy", "undecodable", "unchanged", BD_UNDECODABLE_UNCHANGED},
        {"notice", "language", "nl", BD_LANG_NL},
        {"notice", "language", "en", BD_LANG_EN},
        {"notice", "language", "auto", BD_LANG_AUTO},
        {"recipients", "verify", "off", BD_CONF_VERIFY_OFF},
        {"recipients", "verify", "code", BD_CONF_VERIFY_CODE},
        {"recipients", "receipts", "off", BD_CONF_RECEIPTS_OFF},
        {"recipients", "receipts", "first", BD_CONF_RECEIPTS_FIRST},
        {"recipients", "receipts", "every", BD_CONF_RECEIPTS_EVERY},
};

static void test_enum_constants_match_choices(void **state)
{
	size_t nwords = sizeof(enum_words) / sizeof(enum_words[0]), checked = 0;

	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		const struct bd_conf_key *k = &bd_conf_keys[i];
		size_t nchoices = 1, listed = 0;

		if (k->type != BD_CT_ENUM)
			continue;
		for (const char *p = k->choices; *p; p++)
			nchoices += *p == '|';
		for (size_t w = 0; w < nwords; w++)
			if (strcmp(enum_words[w].section, k->section) == 0 &&
			    strcmp(enum_words[w].name, k->name) == 0)
				listed++;
		if (listed != nchoices)
			fail_msg("[%s] %s has %zu choices (%s) but %zu enum constants listed here",
			         k->section, k->name, nchoices, k->choices, listed);
	}
	for (size_t w = 0; w < nwords; w++) {
		const struct bd_conf_key *k =
		        bd_conf_find(enum_words[w].section, enum_words[w].name);
		char text[512], back[64];
		struct bd_error err;
		struct bd_conf *c;

		assert_non_null(k);
		assert_int_equal(k->type, BD_CT_ENUM);
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n%s", k->section, k->name,
		         enum_words[w].word,
		         enum_words[w].value == BD_STORAGE_S3 && strcmp(k->name, "driver") == 0
		                 ? "s3_endpoint = http://127.0.0.1:7480\ns3_bucket = files\n"
		                   "s3_access_key = AK\ns3_secret_key_file = /etc/s3.key\n"
		                 : "");
		c = bd_conf_load_string("t.conf", text, &err);
		if (c == NULL)
			fail_msg("[%s] %s = %s: %s", k->section, k->name, enum_words[w].word,
			         err.msg);
		assert_int_equal(*(const int *)((const char *)c + k->offset), enum_words[w].value);
		bd_conf_format_value(c, k, back, sizeof(back));
		assert_string_equal(back, enum_words[w].word);
		assert_string_equal(bd_conf_enum_name(k, enum_words[w].value, back, sizeof(back)),
		                    enum_words[w].word);
		bd_conf_free(&c);
		checked++;
	}
	assert_int_equal(checked, nwords);
	assert_string_equal(bd_language_code(BD_LANG_NL), "nl");
	assert_string_equal(bd_language_code(BD_LANG_EN), "en");
	assert_string_equal(bd_language_code(BD_LANG_AUTO), "auto");
}

/* [notice] dutch_domains: .nl and .be unless set; a TLD entry keeps its dot. */
static void test_dutch_domains(void **state)
{
	struct bd_conf *c = bd_conf_defaults();
	struct bd_error err;

	(void)state;
	assert_int_equal(c->notice.dutch_domains.n, 2);
	assert_string_equal(c->notice.dutch_domains.v[0], ".nl");
	assert_string_equal(c->notice.dutch_domains.v[1], ".be");
	bd_conf_free(&c);
	c = bd_conf_load_string(
	        "t.conf", "[notice]\nlanguage = auto\ndutch_domains = .nl, example.org\n", &err);
	assert_non_null(c);
	assert_int_equal(c->notice.language, BD_LANG_AUTO);
	assert_int_equal(c->notice.dutch_domains.n, 2);
	assert_string_equal(c->notice.dutch_domains.v[1], "example.org");
	bd_conf_free(&c);
	c = bd_conf_load_string("t.conf", "[notice]\ndutch_domains = .nl, bad domain\n", &err);
	assert_null(c);
	assert_non_null(strstr(err.msg, "dutch_domains"));
}

/* A program run from the build tree, with the templates not installed, uses the source tree's. */
static void test_template_dir_in_build_tree(void **state)
{
	struct bd_conf *c = bd_conf_defaults();
	const char *src = getenv("BD_SOURCE_DIR");
	char want[4096];
	struct stat st;

	assert_non_null(src);
	if (stat(c->notice.template_dir, &st) != 0)
		fail_msg("default template_dir %s does not exist", c->notice.template_dir);
	snprintf(want, sizeof(want), "%s/conf/templates", src);
	if (stat(bd_conf_find("notice", "template_dir")->def, &st) != 0)
		assert_string_equal(c->notice.template_dir, want);
	bd_conf_free(&c);
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
	        cmocka_unit_test(test_every_problem_reported),
	        cmocka_unit_test(test_missing_file_reported),
	        cmocka_unit_test(test_enum_constants_match_choices),
	        cmocka_unit_test(test_dutch_domains),
	        cmocka_unit_test(test_template_dir_in_build_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
