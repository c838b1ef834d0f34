/*
 * test_gateway.c - the gateway's recipient-side parts that loopback HTTP tests
 * cannot reach: client addresses as audited (IPv6, v4-mapped), the failed-lookup
 * buckets over time, language choice, zip entry names, audit lines, and pages
 * rendered straight (escaping; one 404 page whatever the cause) and as answered
 * (status, headers), the verification cookie's codec and the verification pages,
 * all without the HTTP core.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cookie.h"
#include "mem.h"
#include "conf.h"
#include "manifest.h"
#include "pages.h"
#include "ratelimit.h"
#include "zip.h"

static struct sockaddr_storage addr(const char *s)
{
	struct sockaddr_storage ss = {0};

	if (strchr(s, ':') != NULL) {
		ss.ss_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&ss)->sin6_addr),
		                 1);
	} else {
		ss.ss_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr), 1);
	}
	return ss;
}

static void test_client_address(void **state)
{
	static const struct {
		const char *addr;
		enum bd_audit_address mode;
		const char *want;
	} cases[] = {
	        {"192.0.2.77", BD_AUDIT_ADDRESS_TRUNCATED, "192.0.2.0/24"},
	        {"192.0.2.77", BD_AUDIT_ADDRESS_FULL, "192.0.2.77"},
	        {"192.0.2.77", BD_AUDIT_ADDRESS_NONE, ""},
	        {"2001:db8:abcd:12:1:2:3:4", BD_AUDIT_ADDRESS_TRUNCATED, "2001:db8:abcd::/48"},
	        {"2001:db8:abcd:12:1:2:3:4", BD_AUDIT_ADDRESS_FULL, "2001:db8:abcd:12:1:2:3:4"},
	        {"::ffff:198.51.100.7", BD_AUDIT_ADDRESS_TRUNCATED, "198.51.100.0/24"},
	        {"::ffff:198.51.100.7", BD_AUDIT_ADDRESS_FULL, "198.51.100.7"},
	        {"::1", BD_AUDIT_ADDRESS_TRUNCATED, "::/48"},
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss = addr(cases[i].addr);

		gw_audit_client((struct sockaddr *)&ss, cases[i].mode, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	gw_audit_client(NULL, BD_AUDIT_ADDRESS_FULL, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_ratelimit(void **state)
{
	struct gw_ratelimit *rl = gw_ratelimit_new(3);
	struct sockaddr_storage a = addr("203.0.113.5"), b = addr("203.0.113.6"),
	                        mapped = addr("::ffff:203.0.113.5"), v6a = addr("2001:db8:1:2::1"),
	                        v6b = addr("2001:db8:1:2::ffff"), v6c = addr("2001:db8:1:3::1");
	const struct sockaddr *pa = (struct sockaddr *)&a;
	int64_t t = 1000000;

	assert_false(gw_ratelimit_blocked(rl, pa, t));
	for (int i = 0; i < 3; i++)
		gw_ratelimit_failed(rl, pa, t);
	assert_true(gw_ratelimit_blocked(rl, pa, t));
	assert_true(gw_ratelimit_blocked(rl, (struct sockaddr *)&mapped, t)); /* same client */
	assert_false(gw_ratelimit_blocked(rl, (struct sockaddr *)&b, t));
	/* 3 a minute: one lookup back after 20 s, not before */
	assert_true(gw_ratelimit_blocked(rl, pa, t + 19000));
	assert_false(gw_ratelimit_blocked(rl, pa, t + 20000));
	gw_ratelimit_failed(rl, pa, t + 20000);
	assert_true(gw_ratelimit_blocked(rl, pa, t + 20000));
	/* a full minute refills the bucket, and no more than that */
	assert_false(gw_ratelimit_blocked(rl, pa, t + 10 * 60000));
	for (int i = 0; i < 3; i++) {
		assert_false(gw_ratelimit_blocked(rl, pa, t + 10 * 60000));
		gw_ratelimit_failed(rl, pa, t + 10 * 60000);
	}
	assert_true(gw_ratelimit_blocked(rl, pa, t + 10 * 60000));
	/* IPv6: one bucket per /64 */
	for (int i = 0; i < 3; i++)
		gw_ratelimit_failed(rl, (struct sockaddr *)&v6a, t);
	assert_true(gw_ratelimit_blocked(rl, (struct sockaddr *)&v6b, t));
	assert_false(gw_ratelimit_blocked(rl, (struct sockaddr *)&v6c, t));
	/* many clients never fill the table so that a blocked one is forgotten at once */
	for (int i = 0; i < 2000; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i)};

		gw_ratelimit_failed(rl, (struct sockaddr *)&sin, t);
	}
	assert_true(gw_ratelimit_blocked(rl, (struct sockaddr *)&v6b, t));
	gw_ratelimit_free(&rl);
	assert_null(rl);
}

static void test_language(void **state)
{
	static const struct {
		const char *arg, *accept, *def, *want;
	} cases[] = {
	        {NULL, NULL, "nl", "nl"},
	        {NULL, NULL, "en", "en"},
	        {NULL, "en", "nl", "en"},
	        {NULL, "en-GB,en;q=0.9", "nl", "en"},
	        {NULL, "nl-BE", "en", "nl"},
	        {NULL, "fr, de;q=0.8", "nl", "nl"},
	        {NULL, "fr, en;q=0.1", "nl", "en"},
	        {NULL, "nl;q=0.4, en-US;q=0.8", "nl", "en"},
	        {NULL, "en;q=0, nl;q=0.2", "en", "nl"},
	        {NULL, "EN-us", "nl", "en"},
	        {NULL, "english, nl", "en", "nl"}, /* "english" is no language tag we know */
	        {NULL, "*", "en", "en"},
	        {"en", "nl", "nl", "en"},
	        {"nl", "en", "en", "nl"},
	        {"de", "en", "nl", "en"}, /* an unknown ?lang= is ignored */
	        /* [gateway] language = auto: Dutch only when the browser asks for it */
	        {NULL, NULL, "auto", "en"},
	        {NULL, "fr, de;q=0.8", "auto", "en"},
	        {NULL, "nl-NL,nl;q=0.9,en;q=0.8", "auto", "nl"},
	        {NULL, "de, nl;q=0.5", "auto", "nl"},
	        {NULL, "nl;q=0.4, en-US;q=0.8", "auto", "en"},
	        {"nl", "en", "auto", "nl"},
	        {"en", "nl", "auto", "en"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(gw_pages_language(cases[i].arg, cases[i].accept, cases[i].def),
		                    cases[i].want);
}

static void test_zip_names(void **state)
{
	static const char *const in[] = {"a.pdf",   "A.pdf", "a.pdf", "x/y.txt", "",
	                                 ".hidden", "noext", "noext", "x\\y.txt"};
	static const char *const want[] = {"a.pdf",   "A (2).pdf", "a (3).pdf",
	                                   "x_y.txt", "file",      ".hidden",
	                                   "noext",   "noext (2)", "x_y (2).txt"};
	struct bd_manifest *m = bd_manifest_new();
	char **names;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		bd_manifest_add_file(m, (unsigned)i + 1, in[i], "application/octet-stream", 1);
	names = gw_zip_entry_names(m);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_string_equal(names[i], want[i]);
	assert_null(names[sizeof(in) / sizeof(in[0])]);
	gw_zip_entry_names_free(&names);
	assert_null(names);
	bd_manifest_free(&m);
}

static void test_audit_lines(void **state)
{
	char path[] = "/tmp/bd-test-audit-XXXXXX", line[1024];
	struct sockaddr_storage a = addr("2001:db8:abcd:12::1");
	struct gw_audit_event ev = {.event = "download",
	                            .package = "0123456789abcdef",
	                            .file = 2,
	                            .bytes = 1234,
	                            .range = "0-1233/5000",
	                            .outcome = "complete",
	                            .status = 206,
	                            .client = (struct sockaddr *)&a};
	struct gw_audit *au;
	struct bd_error err;
	FILE *f;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	au = gw_audit_open(path, BD_AUDIT_ADDRESS_TRUNCATED, &err);
	assert_non_null(au);
	gw_audit_write(au, &ev);
	ev = (struct gw_audit_event){.event = "not-found", .file = -1, .bytes = -1};
	gw_audit_write(au, &ev);
	gw_audit_close(&au);
	f = fopen(path, "r");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line,
	                       "\"event\":\"download\",\"package\":\"0123456789abcdef\",\"file\":2,"
	                       "\"range\":\"0-1233/5000\",\"bytes\":1234,\"status\":206,"
	                       "\"outcome\":\"complete\",\"client\":\"2001:db8:abcd::/48\"}\n"));
	assert_memory_equal(line, "{\"time\":\"", 9);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\"event\":\"not-found\"}\n"));
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	/* a directory that is not there: refused at start, with the key named */
	assert_null(gw_audit_open("/nonexistent/dir/audit.log", BD_AUDIT_ADDRESS_NONE, &err));
	assert_non_null(strstr(err.msg, "[gateway] audit_log"));
}

static void test_pages(void **state)
{
	struct bd_conf *conf = bd_conf_defaults();
	struct bd_manifest *m = bd_manifest_new();
	struct gw_pages *p;
	struct bd_error err;
	char *html, *a, *b;
	size_t len, alen, blen;

	free(conf->gateway.organisation);
	conf->gateway.organisation = strdup("De <Linde> & Co");
	free(conf->gateway.public_url);
	conf->gateway.public_url = strdup("https://example.nl/bestanden");
	p = gw_pages_new(&conf->gateway, &err);
	assert_non_null(p);
	m->expires = 1796900000; /* December 2026 */
	bd_manifest_add_file(m, 1, "<script>alert(1)</script>.pdf", "application/pdf", 2400000);
	bd_manifest_add_file(m, 2, "r\xc3\xa9sum\xc3\xa9\x01.txt", "text/plain; charset=utf-8",
	                     999);
	html = gw_pages_render_landing(p, "nl", "TOKEN", m, &len);
	assert_int_equal(strlen(html), len);
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;.pdf"));
	assert_non_null(strstr(html, "De &lt;Linde&gt; &amp; Co"));
	assert_non_null(strstr(html, "r\xc3\xa9sum\xc3\xa9 .txt")); /* control character blanked */
	assert_non_null(strstr(html, "2,4 MB \xc2\xb7 PDF-document"));
	assert_non_null(strstr(html, "999 bytes \xc2\xb7 Tekstbestand"));
	assert_non_null(
	        strstr(html, "href=\"/bestanden/d/TOKEN/1\"")); /* under public_url's path */
	assert_non_null(strstr(html, "href=\"/bestanden/d/TOKEN/all\""));
	assert_non_null(strstr(html, "Beschikbaar tot "));
	assert_non_null(strstr(html, " december 2026"));
	g_free(html);
	html = gw_pages_render_landing(p, "en", "TOKEN", m, &len);
	assert_non_null(strstr(html, "2.4 MB \xc2\xb7 PDF document"));
	assert_non_null(strstr(html, " December 2026"));
	g_free(html);
	/* one 404 page, whatever is known about the link */
	a = gw_pages_render_error(p, "nl", GW_PAGE_NOT_FOUND, 0, &alen);
	b = gw_pages_render_error(p, "nl", GW_PAGE_NOT_FOUND, 1796900000, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	g_free(a);
	g_free(b);
	a = gw_pages_render_error(p, "en", GW_PAGE_EXPIRED, 1796900000, &alen);
	assert_non_null(strstr(a, "This link has expired"));
	assert_non_null(strstr(a, " December 2026"));
	g_free(a);
	for (int which = GW_PAGE_EXPIRED; which <= GW_PAGE_TOO_MANY; which++) {
		a = gw_pages_render_error(p, "nl", (enum gw_page)which, 0, &alen);
		assert_non_null(strstr(a, "<h1>"));
		assert_non_null(strstr(a, "href=\"?lang=en\""));
		g_free(a);
	}
	gw_pages_free(&p);
	assert_null(p);
	/* a logo that is no image type is refused at start */
	free(conf->gateway.logo);
	conf->gateway.logo = strdup("/etc/passwd");
	assert_null(gw_pages_new(&conf->gateway, &err));
	assert_non_null(strstr(err.msg, "[gateway] logo"));
	bd_manifest_free(&m);
	bd_conf_free(&conf);
}

/* Pages as the handler answers them: status, CSP and Retry-After come with the page. */
static void test_page_answers(void **state)
{
	static const struct {
		enum gw_page which;
		unsigned status;
		int retry_after;
	} cases[] = {
	        {GW_PAGE_EXPIRED, 410, 0},      {GW_PAGE_NOT_FOUND, 404, 0},
	        {GW_PAGE_UNAVAILABLE, 503, 60}, {GW_PAGE_ERROR, 500, 0},
	        {GW_PAGE_TOO_MANY, 429, 60},
	};
	struct bd_conf *conf = bd_conf_defaults();
	struct bd_manifest *m = bd_manifest_new();
	struct MHD_Response *resp;
	struct gw_html page;
	struct gw_pages *p;
	struct bd_error err;

	p = gw_pages_new(&conf->gateway, &err);
	assert_non_null(p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gw_pages_error(p, "en", cases[i].which, 0, &page);
		assert_int_equal(page.status, cases[i].status);
		assert_int_equal(page.retry_after, cases[i].retry_after);
		assert_string_equal(page.lang, "en");
		assert_non_null(strstr(page.csp, "style-src 'sha256-"));
		assert_int_equal(strlen(page.body), page.len);
		g_free(page.body);
	}
	m->expires = 1796900000;
	bd_manifest_add_file(m, 1, "a.pdf", "application/pdf", 10);
	gw_pages_landing(p, "nl", "TOKEN", m, &page);
	assert_int_equal(page.status, 200);
	assert_non_null(strstr(page.body, "/d/TOKEN/1"));
	g_free(page.body);
	/* no logo configured: /logo has nothing to serve */
	{
		const uint8_t *data;
		const char *type;
		size_t len;

		assert_int_equal(gw_pages_logo(p, &data, &len, &type), -1);
	}
	/* every response: a closed CSP unless a page set its own; HSTS only over HTTPS */
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	gw_pages_security_headers(resp, 0);
	assert_non_null(
	        strstr(MHD_get_response_header(resp, "Content-Security-Policy"), "sandbox"));
	assert_string_equal(MHD_get_response_header(resp, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(MHD_get_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL),
	                    "no-store");
	assert_null(MHD_get_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY));
	MHD_destroy_response(resp);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'self'");
	gw_pages_security_headers(resp, 1);
	assert_string_equal(MHD_get_response_header(resp, "Content-Security-Policy"),
	                    "default-src 'self'");
	assert_non_null(MHD_get_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY));
	MHD_destroy_response(resp);
	gw_pages_free(&p);
	bd_manifest_free(&m);
	bd_conf_free(&conf);
}

/* The upload pages: every refusal has its words and status in both languages, values are
 * escaped, the form's CSP admits the form and its script, the others do not. */
static void test_upload_pages(void **state)
{
	static const unsigned status[GW_UPLOAD_REFUSALS] = {
	        [GW_UPLOAD_FILE_TOO_LARGE] = 413, [GW_UPLOAD_TOO_LARGE] = 413,
	        [GW_UPLOAD_TOO_MANY] = 413,       [GW_UPLOAD_EXPIRED] = 410,
	        [GW_UPLOAD_EMPTY] = 400,          [GW_UPLOAD_UNAVAILABLE] = 503,
	        [GW_UPLOAD_INFECTED] = 422,
	};
	static const char *const langs[] = {"nl", "en"};
	struct bd_conf *conf = bd_conf_defaults();
	struct gw_upload_limits lim = {"<b>x</b>.pdf", 1000, 5000, 3};
	struct bd_request *r = bd_request_new();
	struct bd_manifest *m = bd_manifest_new();
	struct gw_html page;
	struct gw_pages *p;
	struct bd_error err;

	p = gw_pages_new(&conf->gateway, &err);
	assert_non_null(p);
	for (size_t l = 0; l < 2; l++) {
		for (int why = 0; why < GW_UPLOAD_REFUSALS; why++) {
			gw_pages_upload_refused(p, langs[l], "TOKEN", (enum gw_upload_refusal)why,
			                        &lim, &page);
			assert_int_equal(page.status, status[why]);
			assert_null(strstr(page.body, "<b>x"));
			assert_non_null(strstr(page.csp, "form-action 'none'"));
			if (why == GW_UPLOAD_FILE_TOO_LARGE || why == GW_UPLOAD_INFECTED)
				assert_non_null(strstr(page.body, "&lt;b&gt;x&lt;/b&gt;.pdf"));
			/* the way back to the form, except for an expired request */
			assert_true((strstr(page.body, "/u/TOKEN") != NULL) ==
			            (why != GW_UPLOAD_EXPIRED));
			g_free(page.body);
		}
	}
	r->requester = bd_strdup("jan\"@example.nl");
	r->note = bd_strdup("<script>alert(1)</script>");
	r->expires = 1796900000;
	r->max_file_size = 1000;
	r->max_total_size = 5000;
	r->max_files = 3;
	gw_pages_upload(p, "en", "TOKEN", r, &page);
	assert_int_equal(page.status, 200);
	assert_non_null(strstr(page.csp, "form-action 'self'"));
	assert_non_null(strstr(page.csp, "script-src 'sha256-"));
	assert_non_null(strstr(page.body, "action=\"/u/TOKEN?lang=en\""));
	assert_non_null(strstr(page.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(page.body, "jan&quot;@example.nl"));
	assert_non_null(strstr(page.body, "data-max-files=\"3\""));
	g_free(page.body);
	bd_manifest_add_file(m, 1, "<i>a</i>.pdf", "application/pdf", 10);
	gw_pages_upload_done(p, "nl", "jan@example.nl", m, &page);
	assert_int_equal(page.status, 200);
	assert_non_null(strstr(page.body, "&lt;i&gt;a&lt;/i&gt;.pdf"));
	g_free(page.body);
	gw_pages_free(&p);
	bd_manifest_free(&m);
	bd_request_free(&r);
	bd_conf_free(&conf);
}

static void test_cookie(void **state)
{
	uint8_t link[32], key[GW_COOKIE_KEY], other_key[GW_COOKIE_KEY], who[GW_COOKIE_WHO],
	        got[GW_COOKIE_WHO], zero[GW_COOKIE_WHO] = {0};
	const uint8_t id[BD_PACKAGE_ID_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
	const uint8_t id_b[BD_PACKAGE_ID_BYTES] = {1, 2, 3, 4, 5, 6, 7, 9};
	char value[GW_COOKIE_CHARS + 1], bad[GW_COOKIE_CHARS + 1], found[128];
	const int64_t now = 1796900000;
	uint8_t h1[GW_COOKIE_WHO], h2[GW_COOKIE_WHO];
	const char *p;

	memset(link, 7, sizeof(link));
	gw_cookie_key(link, key);
	/* the test vector of docs/FORMAT.md, section 12 */
	gw_cookie_who(key, id, "Jan@Example.NL", who);
	gw_cookie_encode(key, id, 1796903600, who, value);
	assert_string_equal(value,
	                    "AQECAwQFBgcIAAAAAGsakrBrDKLm-nG4vJidlsL0dVegqi9xqv3VbTdXAVljemaxU9s9V_"
	                    "ebor8KwQ1L0GX8r0s");
	link[0] ^= 1;
	gw_cookie_key(link, other_key);
	gw_cookie_who(key, id, "Jan@Example.NL", who);

	/* the domain in any case is one address; the local part as written is another */
	gw_cookie_who(key, id, "Jan@example.nl", h1);
	assert_memory_equal(h1, who, GW_COOKIE_WHO);
	gw_cookie_who(key, id, "jan@Example.NL", h2);
	assert_memory_not_equal(h2, who, GW_COOKIE_WHO);
	gw_cookie_who(key, id_b, "Jan@Example.NL", h2); /* and per package */
	assert_memory_not_equal(h2, who, GW_COOKIE_WHO);

	gw_cookie_encode(key, id, now + GW_COOKIE_LIFETIME, who, value);
	assert_int_equal(strlen(value), GW_COOKIE_CHARS);
	assert_int_equal(gw_cookie_decode(key, id, value, now, got), 0);
	assert_memory_equal(got, who, GW_COOKIE_WHO);
	assert_int_equal(gw_cookie_decode(key, id, value, now + GW_COOKIE_LIFETIME - 1, got), 0);
	/* expired, another package, another key, dated too far ahead */
	assert_int_equal(gw_cookie_decode(key, id, value, now + GW_COOKIE_LIFETIME, got), -1);
	assert_int_equal(gw_cookie_decode(key, id_b, value, now, got), -1);
	assert_int_equal(gw_cookie_decode(other_key, id, value, now, got), -1);
	gw_cookie_encode(key, id, now + 2 * GW_COOKIE_LIFETIME, who, bad);
	assert_int_equal(gw_cookie_decode(key, id, bad, now, got), -1);
	/* every single character changed is refused */
	for (size_t i = 0; i < GW_COOKIE_CHARS; i++) {
		memcpy(bad, value, sizeof(bad));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(gw_cookie_decode(key, id, bad, now, got), -1);
	}
	/* truncated, lengthened, not base64url */
	memcpy(bad, value, sizeof(bad));
	bad[GW_COOKIE_CHARS - 1] = '\0';
	assert_int_equal(gw_cookie_decode(key, id, bad, now, got), -1);
	assert_int_equal(gw_cookie_decode(key, id, "", now, got), -1);
	memcpy(bad, value, sizeof(bad));
	bad[3] = '+';
	assert_int_equal(gw_cookie_decode(key, id, bad, now, got), -1);
	/* no address: all zero */
	gw_cookie_encode(key, id, now + 60, NULL, value);
	assert_int_equal(gw_cookie_decode(key, id, value, now, got), 0);
	assert_memory_equal(got, zero, GW_COOKIE_WHO);

	/* finding it among others, each of several */
	p = gw_cookie_next("a=1; bd_verified=one;bd_verifiedx=2; bd_verified=two", GW_COOKIE_NAME,
	                   found, sizeof(found));
	assert_non_null(p);
	assert_string_equal(found, "one");
	p = gw_cookie_next(p, GW_COOKIE_NAME, found, sizeof(found));
	assert_non_null(p);
	assert_string_equal(found, "two");
	assert_null(gw_cookie_next(p, GW_COOKIE_NAME, found, sizeof(found)));
	assert_null(gw_cookie_next("x_bd_verified=1", GW_COOKIE_NAME, found, sizeof(found)));
	assert_null(gw_cookie_next("bd_verified=toolong", GW_COOKIE_NAME, found, 4));
}

static void test_verify_pages(void **state)
{
	struct bd_conf *conf = bd_conf_defaults();
	struct gw_pages *p;
	struct bd_error err;
	struct gw_html page;
	struct gw_verify_form f = {.token = "TOKEN",
	                           .form = "FORMTOKEN",
	                           .address = "<b>@example.nl",
	                           .minutes = 10,
	                           .until = 1796900000};

	free(conf->gateway.public_url);
	conf->gateway.public_url = strdup("https://example.nl/bestanden");
	p = gw_pages_new(&conf->gateway, &err);
	assert_non_null(p);
	gw_pages_verify(p, "en", GW_VERIFY_ASK_ADDRESS, &f, &page);
	assert_int_equal(page.status, 200);
	assert_non_null(strstr(page.body, "action=\"/bestanden/d/TOKEN?lang=en\""));
	assert_non_null(strstr(page.body, "name=\"form\" value=\"FORMTOKEN\""));
	assert_non_null(strstr(page.body, "type=\"email\""));
	assert_null(strstr(page.body, "<script"));
	assert_non_null(strstr(page.csp, "form-action 'self'"));
	assert_null(strstr(page.csp, "script-src"));
	g_free(page.body);
	gw_pages_verify(p, "nl", GW_VERIFY_ASK_CODE, &f, &page);
	assert_int_equal(page.status, 200);
	assert_non_null(strstr(page.body, "&lt;b&gt;@example.nl"));
	assert_null(strstr(page.body, "<b>@"));
	assert_non_null(strstr(page.body, "10 minuten"));
	assert_non_null(strstr(page.body, "autocomplete=\"one-time-code\""));
	g_free(page.body);
	gw_pages_verify(p, "nl", GW_VERIFY_WRONG_CODE, &f, &page);
	assert_int_equal(page.status, 403);
	g_free(page.body);
	gw_pages_verify(p, "en", GW_VERIFY_LOCKED, &f, &page);
	assert_int_equal(page.status, 429);
	assert_non_null(strstr(page.body, "December 2026"));
	g_free(page.body);
	gw_pages_verify(p, "en", GW_VERIFY_BUSY, &f, &page);
	assert_int_equal(page.status, 429);
	assert_int_equal(page.retry_after, 60);
	g_free(page.body);
	for (int s = 0; s < GW_VERIFY_STEPS; s++) {
		gw_pages_verify(p, s % 2 ? "en" : "nl", s, &f, &page);
		assert_non_null(strstr(page.body, "</html>"));
		g_free(page.body);
	}
	gw_pages_free(&p);
	bd_conf_free(&conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_client_address), cmocka_unit_test(test_ratelimit),
	        cmocka_unit_test(test_language),       cmocka_unit_test(test_zip_names),
	        cmocka_unit_test(test_audit_lines),    cmocka_unit_test(test_pages),
	        cmocka_unit_test(test_page_answers),   cmocka_unit_test(test_upload_pages),
	        cmocka_unit_test(test_cookie),         cmocka_unit_test(test_verify_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
