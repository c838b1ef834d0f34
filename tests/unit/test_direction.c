/*
 * test_direction.c - outgoing detection, networks, internal recipients; the spool.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "conf.h"
#include "direction.h"
#include "network.h"
#include "spool.h"

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static void test_networks(void **state)
{
	struct bd_error err;
	struct bd_conf *c =
	        bd_conf_load_string("t.conf",
	                            "[milter]\ninternal_networks = 192.0.2.0/24, 198.51.100.7, "
	                            "10.0.0.0/9, 2001:db8::/32, 0.0.0.0/0\n",
	                            &err);
	static const struct {
		const char *a;
		bool in;
	} cases[] = {
	        {"192.0.2.1", true},        {"192.0.2.255", true},  {"192.0.3.1", true /* 0/0 */},
	        {"2001:db8:ffff::1", true}, {"2001:db9::1", false}, {"::ffff:192.0.2.9", true},
	};

	assert_non_null(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss = addr(cases[i].a);

		assert_int_equal(
		        bd_addr_in_networks((struct sockaddr *)&ss, &c->milter.internal_networks),
		        cases[i].in);
	}
	bd_conf_free(&c);
	c = bd_conf_load_string("t.conf",
	                        "[milter]\ninternal_networks = 192.0.2.0/24, 198.51.100.7, "
	                        "10.0.0.0/9, 2001:db8::/32\n",
	                        &err);
	static const struct {
		const char *a;
		bool in;
	} cases2[] = {
	        {"192.0.3.1", false},     {"198.51.100.7", true}, {"198.51.100.8", false},
	        {"10.127.255.255", true}, {"10.128.0.0", false},  {"::1", false},
	};
	for (size_t i = 0; i < sizeof(cases2) / sizeof(cases2[0]); i++) {
		struct sockaddr_storage ss = addr(cases2[i].a);

		assert_int_equal(
		        bd_addr_in_networks((struct sockaddr *)&ss, &c->milter.internal_networks),
		        cases2[i].in);
	}
	bd_conf_free(&c);
}

static void test_outgoing(void **state)
{
	struct bd_conf *c = bd_conf_defaults();
	struct sockaddr_storage ext = addr("203.0.113.5"), loop = addr("127.0.0.1");
	struct bd_origin o = {.client = (struct sockaddr *)&ext};
	const char *why;

	assert_false(bd_is_outgoing(&c->milter, &o, &why));
	assert_string_equal(why, "external-client");
	o.daemon_name = "smtpd";
	assert_false(bd_is_outgoing(&c->milter, &o, &why));
	o.daemon_name = "ORIGINATING";
	assert_true(bd_is_outgoing(&c->milter, &o, &why));
	assert_string_equal(why, "originating-daemon");
	o.daemon_name = NULL;
	o.authenticated = true;
	assert_true(bd_is_outgoing(&c->milter, &o, &why));
	assert_string_equal(why, "authenticated");
	o.authenticated = false;
	o.client = (struct sockaddr *)&loop;
	assert_true(bd_is_outgoing(&c->milter, &o, &why));
	assert_string_equal(why, "internal-network");
	o.client = NULL;
	assert_true(bd_is_outgoing(&c->milter, &o, &why));
	assert_string_equal(why, "local-submission");
	bd_conf_free(&c);
}

static void test_internal_recipients(void **state)
{
	struct bd_error err;
	struct bd_conf *c =
	        bd_conf_load_string("t.conf", "[milter]\ninternal_domains = example.nl\n", &err);

	assert_true(bd_recipient_is_internal(&c->milter, "<jan@example.nl>"));
	assert_true(bd_recipient_is_internal(&c->milter, "jan@EXAMPLE.NL"));
	assert_true(bd_recipient_is_internal(&c->milter, "jan@mail.example.nl"));
	assert_true(bd_recipient_is_internal(&c->milter, "postmaster"));
	assert_false(bd_recipient_is_internal(&c->milter, "<jan@badexample.nl>"));
	assert_false(bd_recipient_is_internal(&c->milter, "<jan@example.nl.evil.org>"));
	assert_false(bd_recipient_is_internal(&c->milter, "<jan@>"));
	bd_conf_free(&c);
}

/* How the manifest lists an outside recipient: plain, without <>, domain in lower case. */
static void test_external_form(void **state)
{
	static const struct {
		const char *address, *form; /* NULL: not listed */
	} cases[] = {
	        {"<Piet.Jansen@Example.COM>", "Piet.Jansen@example.com"},
	        {" huurder@example.org ", "huurder@example.org"},
	        {"jan@example.nl", NULL},      /* internal */
	        {"jan@Mail.Example.NL", NULL}, /* internal subdomain */
	        {"postmaster", NULL},          /* local */
	        {"<jan@>", NULL},
	        {"\"a b\"@example.org", NULL}, /* not plain: cannot be matched reliably */
	        {"a%b@example.org", NULL},
	};
	struct bd_error err;
	struct bd_conf *c =
	        bd_conf_load_string("t.conf", "[milter]\ninternal_domains = example.nl\n", &err);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *form = bd_recipient_external_form(&c->milter, cases[i].address);

		if (cases[i].form == NULL && form != NULL)
			fail_msg("%s: listed as %s", cases[i].address, form);
		if (cases[i].form != NULL)
			assert_string_equal(form, cases[i].form);
		free(form);
	}
	bd_conf_free(&c);
}

/* Only a plain local@domain with an internal domain stays inside: anything the
 * MTA might route on (percent hack, bang path, quoting, source route) leaves. */
static void test_routing_recipients(void **state)
{
	static const struct {
		const char *address;
		bool internal;
	} cases[] = {
	        {"b@ourdomain", true},
	        {"<b@ourdomain>", true},
	        {"first.last+tag@ourdomain", true},
	        {"b@sub.ourdomain.", true},
	        {"o'brien@ourdomain", true},
	        {"postmaster", true},
	        {"b%example.org@ourdomain", false},
	        {"<b%example.org@ourdomain>", false},
	        {"example.org!b@ourdomain", false},
	        {"\"b@example.org\"@ourdomain", false},
	        {"<\"b@example.org\"@ourdomain>", false},
	        {"\"b\"@ourdomain", false},
	        {"b\\@x@ourdomain", false},
	        {"<@relay:b@ourdomain>", false},
	        {"@relay,@other:b@ourdomain", false},
	        {"b@example.org@ourdomain", false},
	        {"b%example.org", false},
	        {"example.org!b", false},
	        {"b@[192.0.2.1]", false},
	        {"b@ourdomain:25", false},
	        {"b (comment)@ourdomain", false},
	        {"", false},
	        {"<>", false},
	        {"@ourdomain", false},
	};
	struct bd_error err;
	struct bd_conf *c =
	        bd_conf_load_string("t.conf", "[milter]\ninternal_domains = ourdomain\n", &err);

	assert_non_null(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (bd_recipient_is_internal(&c->milter, cases[i].address) != cases[i].internal)
			fail_msg("'%s': want %s", cases[i].address,
			         cases[i].internal ? "internal" : "external");
	bd_conf_free(&c);
}

/* The one test that the milter and the policy both ask. */
static void test_any_external(void **state)
{
	static const char *const inside[] = {"<a@ourdomain>", "<b@mail.ourdomain>"};
	static const char *const mixed[] = {"<a@ourdomain>", "<b%x.org@ourdomain>"};
	struct bd_error err;
	struct bd_conf *c =
	        bd_conf_load_string("t.conf", "[milter]\ninternal_domains = ourdomain\n", &err);

	assert_non_null(c);
	assert_false(bd_recipients_any_external(&c->milter, inside, 2));
	assert_true(bd_recipients_any_external(&c->milter, mixed, 2));
	assert_true(bd_recipients_any_external(&c->milter, mixed + 1, 1));
	assert_true(bd_recipients_any_external(&c->milter, NULL, 0)); /* nothing known */
	bd_conf_free(&c);
}

static void test_spool(void **state)
{
	char dir[] = "/tmp/bd-spool-XXXXXX", buf[64];
	struct bd_error err;
	struct bd_spool *sp;
	int fd;

	assert_non_null(mkdtemp(dir));
	sp = bd_spool_new(dir, 10, 30, &err);
	assert_non_null(sp);
	assert_int_equal(bd_spool_write(sp, "0123456789", 10, &err), 0);
	assert_false(bd_spool_on_disk(sp));
	assert_int_equal(bd_spool_write(sp, "abcdefghij", 10, &err), 0);
	assert_true(bd_spool_on_disk(sp));
	assert_int_equal(bd_spool_write(sp, "0123456789X", 11, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	assert_int_equal(bd_spool_size(sp), 20);
	fd = bd_spool_fd(sp, &err);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 20);
	assert_memory_equal(buf, "0123456789abcdefghij", 20);
	bd_spool_free(&sp);
	assert_null(sp);
	assert_int_equal(rmdir(dir), 0); /* empty: nothing was left behind */

	/* an unusable spool directory is a temporary failure with a clear message */
	sp = bd_spool_new("/nonexistent-spool", 4, 100, &err);
	assert_non_null(sp);
	assert_int_equal(bd_spool_write(sp, "0123456789", 10, &err), -1);
	assert_int_equal(err.code, BD_E_TEMP);
	assert_non_null(strstr(err.msg, "/nonexistent-spool"));
	bd_spool_free(&sp);
}

/* Pieces of every size, small ones gathered and large ones straight through, read back whole:
 * in memory, and across the move to disk with pieces still gathered. */
static void test_spool_pieces(void **state)
{
	static const size_t sizes[] = {1,     2,     13, 4096, 8191,   8192,  32767, 32768,
	                               65535, 65536, 3,  5000, 200000, 70000, 7};
	char dir[] = "/tmp/bd-spool-XXXXXX";
	(void)state;

	assert_non_null(mkdtemp(dir));
	for (int limit = 0; limit < 3; limit++) {
		/* all in memory; to disk part-way; to disk at the first piece */
		uint64_t memory = limit == 0 ? 1 << 24 : limit == 1 ? 10000 : 1;
		struct bd_error err;
		struct bd_spool *sp = bd_spool_new(dir, memory, 1 << 24, &err);
		uint8_t *want = malloc(1 << 22), *got = malloc(1 << 22);
		size_t total = 0, n = 0;
		ssize_t r;
		int fd;

		assert_non_null(sp);
		for (int round = 0; round < 6; round++)
			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				size_t len = sizes[(i + (size_t)round) %
				                   (sizeof(sizes) / sizeof(sizes[0]))];

				for (size_t k = 0; k < len; k++)
					want[total + k] =
					        (uint8_t)((total + k) * 131 + (total + k) / 251);
				assert_int_equal(bd_spool_write(sp, want + total, len, &err), 0);
				total += len;
				assert_int_equal(bd_spool_size(sp), total);
			}
		assert_int_equal(bd_spool_on_disk(sp), limit != 0);
		fd = bd_spool_fd(sp, &err);
		assert_true(fd >= 0);
		while ((r = read(fd, got + n, (1 << 22) - n)) > 0)
			n += (size_t)r;
		assert_int_equal(n, total);
		assert_memory_equal(got, want, total);
		/* asked twice: from the start again, nothing added */
		fd = bd_spool_fd(sp, &err);
		assert_int_equal(read(fd, got, 5), 5);
		assert_memory_equal(got, want, 5);
		bd_spool_free(&sp);
		free(want);
		free(got);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* Gathered pieces that cannot reach the descriptor: the write took them, asking for the
 * content fails as a temporary failure (the milter tempfails), and nothing is read back.
 * RLIMIT_FSIZE makes the memfd refuse the bytes past 100. */
static void test_spool_flush_fails(void **state)
{
	struct rlimit saved, small;
	struct bd_error err;
	struct bd_spool *sp = bd_spool_new("/tmp", 1 << 20, 1 << 20, &err);
	char piece[50];
	(void)state;

	assert_non_null(sp);
	memset(piece, 'x', sizeof(piece));
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = saved;
	small.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(bd_spool_write(sp, piece, sizeof(piece), &err), 0);
	assert_int_equal(bd_spool_fd(sp, &err), -1);
	assert_int_equal(err.code, BD_E_TEMP);
	assert_non_null(strstr(err.msg, "cannot write to the spool"));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_DFL);
	bd_spool_free(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_networks),
	        cmocka_unit_test(test_outgoing),
	        cmocka_unit_test(test_internal_recipients),
	        cmocka_unit_test(test_external_form),
	        cmocka_unit_test(test_routing_recipients),
	        cmocka_unit_test(test_any_external),
	        cmocka_unit_test(test_spool),
	        cmocka_unit_test(test_spool_pieces),
	        cmocka_unit_test(test_spool_flush_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
