/*
 * test_rules.c - policy rules: reading and checking [rule NAME] sections, every
 * condition of the matcher, sniffing, BSN and IBAN, and the rewrite engine with rules.
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
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "rewrite.h"
#include "rules.h"
#include "sensitive.h"
#include "sniff.h"

/* ---- BSN and IBAN ---- */

static void test_bsn(void **state)
{
	(void)state;
	assert_true(bd_sensitive_bsn_valid("111222333"));
	assert_false(bd_sensitive_bsn_valid("111222334")); /* nine digits, fails the 11-check */
	assert_false(bd_sensitive_bsn_valid("000000000"));
	assert_int_equal(bd_sensitive_scan("BSN: 111222333.", 15, BD_SENSITIVE_BSN),
	                 BD_SENSITIVE_BSN);
	assert_int_equal(bd_sensitive_scan("BSN: 111222334.", 15, BD_SENSITIVE_BSN), 0);
	assert_int_equal(bd_sensitive_scan("bsn 1112.22.333 x", 17, BD_SENSITIVE_BSN),
	                 BD_SENSITIVE_BSN);
	/* nine valid digits inside a longer number are not a BSN */
	assert_int_equal(bd_sensitive_scan("tel 1112223330", 14, BD_SENSITIVE_BSN), 0);
	assert_int_equal(bd_sensitive_scan("x2111222333", 11, BD_SENSITIVE_BSN), 0);
	/* only what was asked for */
	assert_int_equal(bd_sensitive_scan("111222333", 9, BD_SENSITIVE_IBAN), 0);
}

static void test_iban(void **state)
{
	static const char grouped[] = "rekening NL91 ABNA 0417 1643 00 graag";
	static const char bad[] = "rekening NL91 ABNA 0417 1643 01 graag";

	(void)state;
	assert_true(bd_sensitive_iban_valid("NL91ABNA0417164300", 18));
	assert_true(bd_sensitive_iban_valid("GB82WEST12345698765432", 22));
	assert_false(bd_sensitive_iban_valid("NL91ABNA0417164301", 18));
	assert_false(bd_sensitive_iban_valid("NL91ABNA", 8));
	assert_int_equal(bd_sensitive_scan("IBAN NL91ABNA0417164300.", 24, BD_SENSITIVE_IBAN),
	                 BD_SENSITIVE_IBAN);
	assert_int_equal(bd_sensitive_scan(grouped, strlen(grouped), BD_SENSITIVE_IBAN),
	                 BD_SENSITIVE_IBAN);
	assert_int_equal(bd_sensitive_scan(bad, strlen(bad), BD_SENSITIVE_IBAN), 0);
}

/* ---- sniffing ---- */

/* A minimal PE header: MZ, e_lfanew = 0x80, PE\0\0 there. */
static size_t pe_bytes(uint8_t *buf, size_t size)
{
	memset(buf, 0, size);
	buf[0] = 'M';
	buf[1] = 'Z';
	buf[0x3c] = 0x80;
	memcpy(buf + 0x80, "PE\0\0", 4);
	return 0x100;
}

static void test_sniff(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *ext;
	} cases[] = {
	        {"%PDF-1.7\n", 9, "pdf"},
	        {"\x7f"
	         "ELF\x02\x01",
	         6, "elf"},
	        {"\x89PNG\r\n\x1a\n....", 12, "png"},
	        {"\xff\xd8\xff\xe0", 4, "jpg"},
	        {"GIF89a..", 8, "gif"},
	        {"PK\x03\x04....[Content_Types].xml....word/document.xml", 48, "docx"},
	        {"PK\x03\x04....xl/workbook.xml", 24, "xlsx"},
	        {"PK\x03\x04....readme.txt", 18, "zip"},
	};
	uint8_t pe[0x100];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bd_sniffed *s =
		        bd_sniff((const uint8_t *)cases[i].bytes, cases[i].len);

		assert_non_null(s);
		assert_string_equal(s->extension, cases[i].ext);
	}
	assert_string_equal(bd_sniff(pe, pe_bytes(pe, sizeof(pe)))->extension, "exe");
	assert_int_equal(bd_sniff(pe, sizeof(pe))->kind, BD_KIND_EXECUTABLE);
	pe[0x80] = 'X'; /* MZ pointing at something that is not a PE header */
	assert_null(bd_sniff(pe, sizeof(pe)));
	assert_null(bd_sniff((const uint8_t *)"hello", 5));
	assert_int_equal(bd_sniff_extension_kind("exe"), BD_KIND_EXECUTABLE);
	assert_int_equal(bd_sniff_extension_kind("txt"), 0);
}

/* ---- reading and checking ---- */

struct lines {
	char text[4096];
	size_t used;
};

static void collect(void *ctx, const char *problem)
{
	struct lines *l = ctx;

	l->used += (size_t)snprintf(l->text + l->used, sizeof(l->text) - l->used, "%s\n", problem);
}

static void test_checked_like_the_configuration(void **state)
{
	static const char text[] = "[rule exe]\n"           /* 1 */
	                           "extension = exe\n"      /* 2 */
	                           "action = block\n"       /* 3 */
	                           "\n"                     /* 4 */
	                           "[rule big]\n"           /* 5 */
	                           "min_size = 25M\n"       /* 6 */
	                           "acton = replace\n"      /* 7: typo */
	                           "\n"                     /* 8 */
	                           "[rule odd]\n"           /* 9 */
	                           "colour = red\n"         /* 10: no such condition */
	                           "action = pass\n"        /* 11 */
	                           "\n"                     /* 12 */
	                           "[rule exe-again]\n"     /* 13 */
	                           "extension = exe, com\n" /* 14 */
	                           "direction = outgoing\n" /* 15 */
	                           "action = tempfail\n"    /* 16 */
	                           "\n"                     /* 17 */
	                           "[rule exe-only]\n"      /* 18: shadowed by exe */
	                           "extension = EXE\n"      /* 19 */
	                           "min_attachments = 2\n"  /* 20 */
	                           "action = replace\n"     /* 21 */
	                           "\n"                     /* 22 */
	                           "[rule default]\n"       /* 23 */
	                           "action = replace\n";    /* 24 */
	struct lines l = {"", 0};
	struct bd_error err;
	struct bd_conf *c = bd_conf_load_string_reporting("rules.conf", text, collect, &l, &err);

	(void)state;
	assert_null(c);
	assert_non_null(strstr(l.text, "rules.conf:7: [rule big]: unknown condition or action "
	                               "'acton'; did you mean 'action'?"));
	assert_non_null(strstr(l.text, "rules.conf:10: [rule odd]: unknown condition or action "
	                               "'colour'"));
	assert_non_null(strstr(l.text, "rules.conf:5: [rule big] has no action"));
	assert_non_null(strstr(l.text, "rules.conf:18: warning: [rule exe-only] can never match: "
	                               "[rule exe] (line 1)"));
	/* exe-again is narrower in direction but wider in extensions: not shadowed */
	assert_null(strstr(l.text, "[rule exe-again] can never match: [rule exe] "));
	assert_non_null(strstr(err.msg, "rules.conf:7:"));
}

static void test_rule_errors(void **state)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
	        {"[rule a]\nsender = jan@\naction = pass\n[rule d]\naction = pass\n",
	         "t.conf:2: [rule a] sender: 'jan@'"},
	        {"[rule a]\nretention = 3d\naction = pass\n[rule d]\naction = pass\n",
	         "t.conf:1: [rule a] retention goes only with action = replace"},
	        {"[rule a]\nreject_code = 4.7.1\naction = block\n[rule d]\naction = pass\n",
	         "t.conf:2: [rule a] reject_code: '4.7.1': expected a permanent policy status"},
	        {"[rule a]\nmin_size = 2M\nmax_size = 1M\naction = pass\n[rule d]\naction = pass\n",
	         "t.conf:1: [rule a] min_size is larger than max_size"},
	        {"[rule a]\nextension = exe\naction = pass\n",
	         "t.conf:1: [rule a] is the last rule but has conditions"},
	        {"[rule a]\naction = pass\n[rule a]\naction = pass\n",
	         "t.conf:3: [rule a] again (first on line 1)"},
	        {"[rule a]\ntype = movie\naction = pass\n[rule d]\naction = pass\n",
	         "t.conf:2: [rule a] type: 'movie': expected a MIME type"},
	        {"[rule a]\nsensitive = bsn, passport\naction = pass\n[rule d]\naction = pass\n",
	         "t.conf:2: [rule a] sensitive: 'passport': expected bsn or iban"},
	        {"[rule a]\naction = drop\n", "t.conf:2: [rule a] action: 'drop' is not one of"},
	        /* protection goes with replace only */
	        {"[rule a]\nverify = code\naction = pass\n[rule d]\naction = pass\n",
	         "t.conf:1: [rule a] verify goes only with action = replace"},
	        {"[rule a]\nreceipts = first\naction = block\n[rule d]\naction = pass\n",
	         "t.conf:1: [rule a] receipts goes only with action = replace"},
	        {"[rule a]\nmax_downloads = 3\naction = tempfail\n[rule d]\naction = pass\n",
	         "t.conf:1: [rule a] max_downloads goes only with action = replace"},
	        {"[rule a]\nverify = sms\naction = replace\n",
	         "t.conf:2: [rule a] verify: 'sms' is not one of"},
	        /* and [recipients] */
	        {"[recipients]\nreceipts = always\n", "t.conf:2: [recipients] receipts"},
	        {"[recipients]\nmax_downloads = 2000000\n", "t.conf:2: [recipients] max_downloads"},
	        {"[recipients]\ncode_tag = co:de\n", "t.conf:2: [recipients] code_tag"},
	        {"[recipients]\ncode_ttl = 10s\n", "t.conf:2: [recipients] code_ttl"},
	        {"[recipients]\ncode_tries = 0\n", "t.conf:2: [recipients] code_tries"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lines l = {"", 0};
		struct bd_error err;
		struct bd_conf *c =
		        bd_conf_load_string_reporting("t.conf", cases[i].text, collect, &l, &err);

		if (c != NULL || strstr(l.text, cases[i].expect) == NULL)
			fail_msg("case %zu: expected '%s', got:\n%s", i, cases[i].expect, l.text);
	}
}

static const char rules_text[] = "[milter]\n"
                                 "internal_domains = example.org\n"
                                 "[requests]\n"
                                 "subject_tags = [upload], [aanvraag]\n"
                                 "[rule r]\n"
                                 "type = Executable, image/*\n"
                                 "extension = PDF, exe\n"
                                 "sensitive = iban\n"
                                 "min_size = 25M\n"
                                 "action = replace\n"
                                 "retention = 30d\n"
                                 "[rule default]\n"
                                 "action = pass\n";

static void test_typed_at_load(void **state)
{
	struct bd_error err;
	struct bd_conf *c = bd_conf_load_string("t.conf", rules_text, &err);
	const struct bd_conf_rule *r;
	char buf[64];

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->rules.n, 2);
	r = &c->rules.v[0];
	assert_string_equal(r->name, "r");
	assert_int_equal(r->line, 5);
	assert_int_equal(r->kinds, BD_KIND_EXECUTABLE);
	assert_int_equal(r->types.n, 1);
	assert_string_equal(r->types.v[0], "image/*");
	assert_string_equal(r->extensions.v[0], "pdf");
	assert_int_equal(r->sensitive, BD_SENSITIVE_IBAN);
	assert_int_equal(r->min_size, 25ULL << 20);
	assert_int_equal(r->action, BD_RULE_REPLACE);
	assert_int_equal(r->retention, 30 * 86400);
	assert_true(bd_conf_rule_has(r, BD_RULE_KEY_MIN_SIZE));
	assert_false(bd_conf_rule_has(r, BD_RULE_KEY_MAX_SIZE));
	bd_conf_rule_format_value(r, BD_RULE_KEY_MIN_SIZE, buf, sizeof(buf));
	assert_string_equal(buf, "25M");
	assert_int_equal(c->rules.v[1].set & BD_RULE_CONDITIONS, 0);
	assert_int_equal(c->rules.warnings.n, 0);
	bd_conf_free(&c);
}

/* ---- every condition ---- */

/* The rule NAME of CONF_TEXT's rules (each followed by a default) matches M and P. */
static bool matches(const char *rule, const struct bd_rules_message *m,
                    const struct bd_rules_part *p)
{
	char text[1024], why[256];
	struct bd_error err;
	struct bd_conf *c;
	const struct bd_conf_rule *r;
	bool hit;

	snprintf(text, sizeof(text),
	         "[milter]\ninternal_domains = example.org\n[requests]\nsubject_tags = "
	         "[upload]\n[rule r]\n%s\naction = block\n[rule default]\naction = pass\n",
	         rule);
	c = bd_conf_load_string("t.conf", text, &err);
	if (c == NULL)
		fail_msg("%s", err.msg);
	r = bd_rules_match(c, m, p, why, sizeof(why));
	hit = r != NULL && strcmp(r->name, "r") == 0;
	if (hit)
		assert_true(why[0] != '\0');
	bd_conf_free(&c);
	return hit;
}

static void test_conditions(void **state)
{
	static const char *const out_rcpt[] = {"a@partner.nl", "b@example.org"};
	static const char *const in_rcpt[] = {"a@example.org", "b@sub.example.org"};
	static const char *const tax[] = {"<x@belastingdienst.nl>", "y@belastingdienst.nl"};
	uint8_t pe[0x100];
	struct bd_rules_message m = {.outgoing = true,
	                             .sender = "<jan@finance.example.org>",
	                             .recipients = out_rcpt,
	                             .nrecipients = 2,
	                             .nattachments = 3,
	                             .total = 30 << 20};
	struct bd_rules_part p = {"pdf", "application/pdf", NULL, 10 << 20};
	struct bd_rules_part renamed = {"pdf", "application/pdf", bd_sniff(pe, pe_bytes(pe, 256)),
	                                1000};

	(void)state;
	/* direction */
	assert_true(matches("direction = outgoing", &m, &p));
	assert_false(matches("direction = inbound", &m, &p));
	/* sender: address, glob, domain */
	assert_true(matches("sender = jan@finance.example.org", &m, &p));
	assert_true(matches("sender = *@finance.example.org", &m, &p));
	assert_true(matches("sender = *.example.org", &m, &p));
	assert_true(matches("sender = FINANCE.example.org", &m, &p));
	assert_false(matches("sender = example.org", &m, &p));
	assert_false(matches("sender = piet@finance.example.org", &m, &p));
	/* recipient: every one must match */
	assert_false(matches("recipient = partner.nl", &m, &p));
	assert_true(matches("recipient = partner.nl, example.org", &m, &p));
	/* external recipients, as direction.c decides */
	assert_true(matches("external_recipients = some", &m, &p));
	assert_false(matches("external_recipients = all", &m, &p));
	assert_false(matches("external_recipients = none", &m, &p));
	m.recipients = in_rcpt;
	assert_false(matches("external_recipients = some", &m, &p));
	assert_true(matches("external_recipients = none", &m, &p));
	m.recipients = tax;
	assert_true(matches("external_recipients = all", &m, &p));
	assert_true(matches("recipient = *@belastingdienst.nl", &m, &p));
	/* attachment count */
	assert_true(matches("min_attachments = 3", &m, &p));
	assert_false(matches("min_attachments = 4", &m, &p));
	assert_true(matches("max_attachments = 3", &m, &p));
	assert_false(matches("max_attachments = 2", &m, &p));
	/* size of one and of all */
	assert_true(matches("min_size = 10M", &m, &p));
	assert_false(matches("min_size = 11M", &m, &p));
	assert_true(matches("max_size = 10M", &m, &p));
	assert_false(matches("max_size = 9M", &m, &p));
	assert_true(matches("min_total_size = 25M", &m, &p));
	assert_false(matches("max_total_size = 25M", &m, &p));
	/* content type: declared, sniffed, kind */
	assert_true(matches("type = application/pdf", &m, &p));
	assert_true(matches("type = application/*", &m, &p));
	assert_false(matches("type = image/*", &m, &p));
	assert_false(matches("type = executable", &m, &p));
	assert_true(matches("type = document", &m, &p));
	assert_true(matches("type = executable", &m, &renamed));
	assert_true(matches("type = application/x-msdownload", &m, &renamed));
	/* extension: declared and sniffed (a PE named .pdf is an exe) */
	assert_true(matches("extension = pdf", &m, &p));
	assert_false(matches("extension = exe", &m, &p));
	assert_true(matches("extension = exe", &m, &renamed));
	/* upload-request tag */
	assert_true(matches("upload_request = no", &m, &p));
	assert_false(matches("upload_request = yes", &m, &p));
	m.upload_request = true;
	assert_true(matches("upload_request = yes", &m, &p));
	/* sensitive content */
	assert_false(matches("sensitive = bsn, iban", &m, &p));
	m.sensitive = BD_SENSITIVE_BSN;
	assert_true(matches("sensitive = bsn", &m, &p));
	assert_false(matches("sensitive = iban", &m, &p));
	/* attachment conditions do not hold for a message without attachments */
	assert_false(matches("extension = pdf", &m, NULL));
	assert_true(matches("max_attachments = 3", &m, NULL));
	/* all conditions must hold */
	assert_false(matches("extension = exe\ndirection = outgoing", &m, &p));
	assert_true(matches("extension = exe\ndirection = outgoing", &m, &renamed));
}

/* ---- the rewrite engine with rules ---- */

static const char *const conf_rules = "[rule exe]\n"
                                      "extension = exe\n"
                                      "action = block\n"
                                      "reject_code = 5.7.3\n"
                                      "reject_text = No programs, please\n"
                                      "[rule bsn]\n"
                                      "sensitive = bsn\n"
                                      "action = replace\n"
                                      "retention = 30d\n"
                                      "[rule tag]\n"
                                      "upload_request = yes\n"
                                      "action = tempfail\n"
                                      "[rule default]\n"
                                      "action = pass\n";

/* A message with BODY and one attachment NAME of LEN bytes DATA (base64 of them in B64). */
static struct bd_rewrite_result *explain(const struct bd_conf *c, const char *subject,
                                         const char *body, const char *name, const char *b64)
{
	struct bd_error err;
	struct bd_rewrite *rw;
	struct bd_rewrite_result *res = NULL;
	struct bd_rewrite_envelope env = {.outgoing = true, .sender = "a@example.org"};
	char msg[4096];
	int fd = memfd_create("t", MFD_CLOEXEC);

	snprintf(msg, sizeof(msg),
	         "From: a@example.org\r\nTo: b@example.com\r\nSubject: %s\r\nMIME-Version: "
	         "1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: "
	         "text/plain\r\n\r\n%s\r\n--b\r\nContent-Type: application/pdf; "
	         "name=%s\r\nContent-Disposition: attachment; filename=%s\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
	         subject, body, name, name, b64);
	assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	rw = bd_rewrite_new(c, NULL, NULL, &err);
	assert_non_null(rw);
	assert_int_equal(bd_rewrite_explain(rw, fd, &env, &res, &err), 0);
	close(fd);
	bd_rewrite_free(&rw);
	return res;
}

static void test_engine(void **state)
{
	uint8_t pe[0x100];
	gchar *pe64 = g_base64_encode(pe, pe_bytes(pe, sizeof(pe)));
	gchar *pdf64 = g_base64_encode((const guchar *)"%PDF-1.4 a small document", 25);
	struct bd_rewrite_result *r;
	struct bd_error err;
	/* the results' rule texts point into the configuration: it outlives them */
	struct bd_conf *c = bd_conf_load_string("t.conf", conf_rules, &err);

	(void)state;
	assert_non_null(c);
	g_mime_init();
	/* a PE executable named .pdf is refused by the exe rule, with its code and text */
	r = explain(c, "report", "see attached", "report.pdf", pe64);
	assert_true(r->refused);
	assert_string_equal(r->refusal_status, "5.7.3");
	assert_string_equal(r->refusal_text, "No programs, please");
	assert_string_equal(r->rule, "exe");
	assert_non_null(strstr(r->parts[2].rule_why, "PE executable"));
	bd_rewrite_result_free(&r);
	/* a valid BSN in the text: replaced */
	r = explain(c, "client", "BSN 111222333 is the client", "a.pdf", pdf64);
	assert_false(r->refused);
	assert_string_equal(r->rule, "bsn");
	assert_string_equal(r->rule_action, "replace");
	assert_int_equal(r->nfiles, 1);
	bd_rewrite_result_free(&r);
	/* nine digits failing the 11-check: the default, pass */
	r = explain(c, "client", "Number 111222334 is not one", "a.pdf", pdf64);
	assert_string_equal(r->rule, "default");
	assert_int_equal(r->nfiles, 0);
	assert_int_equal(r->parts[2].action, BD_REWRITE_KEEP);
	bd_rewrite_result_free(&r);
	/* the upload-request tag, any case: tempfail */
	r = explain(c, "Re: [UPLOADVERZOEK] stukken", "hi", "a.pdf", pdf64);
	assert_true(r->tempfail);
	assert_false(r->refused);
	assert_string_equal(r->refusal_status, "4.7.1");
	assert_non_null(strstr(r->refusal_text, "held back"));
	bd_rewrite_result_free(&r);
	g_free(pe64);
	g_free(pdf64);
	bd_conf_free(&c);
}

/* Replace rules' protection: each rule's own, else [recipients]; the strictest of them all. */
static void test_protection(void **state)
{
	static const char text[] = "[recipients]\nreceipts = first\nmax_downloads = 5\n"
	                           "[rule pdf]\nextension = pdf\naction = replace\nverify = code\n"
	                           "max_downloads = 3\n"
	                           "[rule rest]\naction = replace\nreceipts = every\n"
	                           "max_downloads = 0\n";
	static const char msg[] =
	        "From: a@example.org\r\nTo: b@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
	        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: "
	        "text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n"
	        "Content-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF-1.4\r\n"
	        "--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; "
	        "filename=b.csv\r\n\r\na,b\r\n--b--\r\n";
	struct bd_rewrite_envelope env = {.outgoing = true, .sender = "a@example.org"};
	struct bd_error err;
	struct bd_conf *c = bd_conf_load_string("t.conf", text, &err);
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL;
	int fd = memfd_create("t", MFD_CLOEXEC);

	(void)state;
	assert_non_null(c);
	g_mime_init();
	assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	rw = bd_rewrite_new(c, NULL, NULL, &err);
	assert_non_null(rw);
	assert_int_equal(bd_rewrite_explain(rw, fd, &env, &r, &err), 0);
	assert_int_equal(r->nfiles, 2);
	assert_int_equal(r->protection.verify, BD_CONF_VERIFY_CODE);      /* pdf's */
	assert_int_equal(r->protection.receipts, BD_CONF_RECEIPTS_EVERY); /* rest's */
	assert_int_equal(r->protection.max_downloads, 3); /* pdf's 3, rest: no limit */
	assert_false(r->protection.code);
	assert_int_equal(r->protection.recipients, 0); /* none in the envelope */
	bd_rewrite_result_free(&r);
	bd_rewrite_free(&rw);
	close(fd);
	bd_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_bsn),
	        cmocka_unit_test(test_iban),
	        cmocka_unit_test(test_sniff),
	        cmocka_unit_test(test_checked_like_the_configuration),
	        cmocka_unit_test(test_rule_errors),
	        cmocka_unit_test(test_typed_at_load),
	        cmocka_unit_test(test_conditions),
	        cmocka_unit_test(test_engine),
	        cmocka_unit_test(test_protection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
