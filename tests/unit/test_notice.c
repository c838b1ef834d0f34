/*
 * test_notice.c - notice templates (the shipped ones and broken ones), sizes
 * and dates in Dutch and English, and putting the notice into text/plain and
 * text/html parts: charsets kept or widened, format=flowed, </body>, 7-bit;
 * the shipped "code" templates of a recipient's verification code.
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
#include <unistd.h>
#include <cmocka.h>

#include "format.h"
#include "notice.h"

#define LINK                                                                                       \
	"https://bestanden.example.org/d/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp"

static char *template_dir(void)
{
	const char *src = getenv("BD_SOURCE_DIR");

	return g_build_filename(src ? src : ".", "conf", "templates", NULL);
}

static void test_sizes(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *nl, *en;
	} cases[] = {
	        {0, "0 bytes", "0 bytes"},           {1, "1 byte", "1 byte"},
	        {999, "999 bytes", "999 bytes"},     {1000, "1,0 kB", "1.0 kB"},
	        {1049, "1,0 kB", "1.0 kB"},          {1050, "1,1 kB", "1.1 kB"},
	        {9949, "9,9 kB", "9.9 kB"},          {9950, "10 kB", "10 kB"},
	        {123456, "123 kB", "123 kB"},        {999499, "999 kB", "999 kB"},
	        {999999, "1,0 MB", "1.0 MB"},        {2400000, "2,4 MB", "2.4 MB"},
	        {2449999, "2,4 MB", "2.4 MB"},       {150000000, "150 MB", "150 MB"},
	        {4294967296ULL, "4,3 GB", "4.3 GB"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bd_format_size("nl", cases[i].bytes, buf, sizeof(buf));
		if (strcmp(buf, cases[i].nl) != 0)
			fail_msg("%llu bytes in nl: '%s', want '%s'",
			         (unsigned long long)cases[i].bytes, buf, cases[i].nl);
		bd_format_size("en", cases[i].bytes, buf, sizeof(buf));
		if (strcmp(buf, cases[i].en) != 0)
			fail_msg("%llu bytes in en: '%s', want '%s'",
			         (unsigned long long)cases[i].bytes, buf, cases[i].en);
	}
}

static void test_dates(void **state)
{
	char buf[64];

	setenv("TZ", "UTC", 1);
	tzset();
	bd_format_date("nl", 1796904000, buf, sizeof(buf)); /* 2026-12-10 12:00 UTC */
	assert_string_equal(buf, "10 december 2026");
	bd_format_date("en", 1796904000, buf, sizeof(buf));
	assert_string_equal(buf, "10 December 2026");
	bd_format_date("nl", 1798763400, buf, sizeof(buf)); /* 2027-01-01 00:30 UTC */
	assert_string_equal(buf, "1 januari 2027");
	setenv("TZ", "Europe/Amsterdam", 1);
	tzset();
	bd_format_date("nl", 1798763400 - 3600, buf, sizeof(buf)); /* 23:30 UTC: 00:30 in NL */
	assert_string_equal(buf, "1 januari 2027");
	unsetenv("TZ");
	tzset();
}

static const struct bd_notice_file files3[] = {
        {"Jaarverslag 2026.pdf", 2400000},
        {"a&b <c>.doc", 1},
        {"\xc3\xa9t\xc3\xa9 \xe2\x82\xac.xlsx", 12345},
};

static void test_render(void **state)
{
	char *dir = template_dir();
	struct bd_error err;
	struct bd_notice *nl = bd_notice_load(dir, "nl", &err),
	                 *en = bd_notice_load(dir, "en", &err);
	struct bd_notice_vars v = {"Woonstichting De Test", LINK, 1796904000, 1, files3,
	                           BD_NOTICE_LOADED};
	char *text, *html;

	setenv("TZ", "UTC", 1);
	tzset();
	assert_non_null(nl);
	assert_non_null(en);
	assert_string_equal(bd_notice_language(nl), "nl");

	text = bd_notice_render_text(nl, &v);
	assert_non_null(strstr(text, "\n<" LINK ">\n"));
	assert_non_null(strstr(text, "- Jaarverslag 2026.pdf (2,4 MB)\n"));
	assert_non_null(
	        strstr(text, "Download de bijlage \xe2\x80\x94 beschikbaar tot 10 december 2026:"));
	assert_null(strstr(text, "##"));
	assert_null(strstr(text, "{{"));
	assert_null(strstr(text, "Download de bijlagen"));
	free(text);

	v.nfiles = 3;
	text = bd_notice_render_text(en, &v);
	assert_non_null(strstr(
	        text, "Attachments to this message (3):\n- Jaarverslag 2026.pdf (2.4 MB)\n"
	              "- a&b <c>.doc (1 byte)\n- \xc3\xa9t\xc3\xa9 \xe2\x82\xac.xlsx (12 kB)\n"));
	assert_non_null(strstr(text, "available until 10 December 2026"));
	free(text);

	html = bd_notice_render_html(nl, &v);
	for (const char *p = html; *p; p++)
		if ((unsigned char)*p >= 0x80)
			fail_msg("HTML snippet not ASCII at offset %td", p - html);
	assert_non_null(strstr(html, "href=\"" LINK "\""));
	assert_non_null(strstr(html, "a&amp;b &lt;c&gt;.doc"));
	assert_non_null(strstr(html, "&#233;t&#233; &#8364;.xlsx"));
	assert_non_null(strstr(html, "&#8212; beschikbaar tot 10 december 2026"));
	assert_null(strstr(html, "<c>"));
	free(html);
	unsetenv("TZ");
	tzset();
	bd_notice_free(&nl);
	bd_notice_free(&en);
	g_free(dir);
}

/*
 * [notice] language = auto: Dutch only when every recipient outside is in
 * dutch_domains (".nl" a suffix, "example.org" itself and its subdomains);
 * internal recipients do not count; nl and en stay what they say.
 */
static void test_language_for(void **state)
{
	static const struct {
		const char *conf; /* [notice] lines */
		const char *rcpts[4];
		enum bd_notice_languages want;
	} cases[] = {
	        {"language = auto", {"a@gemeente.nl", "<b@example.be>"}, BD_NOTICE_NL},
	        {"language = auto", {"a@gemeente.nl", "b@example.com"}, BD_NOTICE_LOADED},
	        {"language = auto", {"a@example.com"}, BD_NOTICE_LOADED},
	        {"language = auto", {"A@Sub.Gemeente.NL."}, BD_NOTICE_NL},
	        {"language = auto", {"a@gemeente.nl", "colleague@ours.org"}, BD_NOTICE_NL},
	        {"language = auto", {"colleague@ours.org", "x@team.ours.org"}, BD_NOTICE_NL},
	        {"language = auto",
	         {"a@gemeente.nl", "intern@ours.org", "b@x.de"},
	         BD_NOTICE_LOADED},
	        {"language = auto", {NULL}, BD_NOTICE_LOADED},
	        /* routed elsewhere: its real domain is unknown */
	        {"language = auto", {"b%example.com@gemeente.nl"}, BD_NOTICE_LOADED},
	        {"language = auto", {"example.com!b@gemeente.nl"}, BD_NOTICE_LOADED},
	        /* a TLD entry matches no domain named like it without the dot */
	        {"language = auto", {"a@nl"}, BD_NOTICE_LOADED},
	        {"language = auto", {"a@gemeentenl"}, BD_NOTICE_LOADED},
	        {"language = auto\ndutch_domains = partner.org", {"a@partner.org"}, BD_NOTICE_NL},
	        {"language = auto\ndutch_domains = partner.org",
	         {"a@eu.partner.org"},
	         BD_NOTICE_NL},
	        {"language = auto\ndutch_domains = partner.org",
	         {"a@notpartner.org"},
	         BD_NOTICE_LOADED},
	        {"language = auto\ndutch_domains = partner.org",
	         {"a@gemeente.nl"},
	         BD_NOTICE_LOADED},
	        {"language = nl", {"a@example.com"}, BD_NOTICE_NL},
	        {"language = nl", {NULL}, BD_NOTICE_NL},
	        {"language = en", {"a@gemeente.nl"}, BD_NOTICE_EN},
	        {"language = en", {"colleague@ours.org"}, BD_NOTICE_EN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct bd_error err;
		struct bd_conf *c;
		size_t n = 0;

		snprintf(text, sizeof(text),
		         "[milter]\ninternal_domains = ours.org\n[notice]\n%s\n", cases[i].conf);
		c = bd_conf_load_string("t.conf", text, &err);
		if (c == NULL)
			fail_msg("case %zu: %s", i, err.msg);
		while (n < 4 && cases[i].rcpts[n] != NULL)
			n++;
		if (bd_notice_language_for(&c->notice, &c->milter, cases[i].rcpts, n) !=
		    cases[i].want)
			fail_msg("case %zu (%s, %s...): expected %d", i, cases[i].conf,
			         cases[i].rcpts[0] ? cases[i].rcpts[0] : "no recipients",
			         (int)cases[i].want);
		bd_conf_free(&c);
	}
}

/* Loaded with "auto", a notice renders both languages, Dutch first, each whole,
 * or the one a message asks for. */
static void test_render_both(void **state)
{
	char *dir = template_dir();
	struct bd_error err;
	struct bd_notice *both = bd_notice_load(dir, "auto", &err);
	struct bd_notice_vars v = {"De Test", LINK, 1796904000, 1, files3, BD_NOTICE_LOADED};
	char *text, *html, *nl, *en;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_non_null(both);
	assert_string_equal(bd_notice_language(both), "nl");

	text = bd_notice_render_text(both, &v);
	nl = strstr(text,
	            "Download de bijlage \xe2\x80\x94 beschikbaar tot 10 december 2026:\n<" LINK
	            ">\n");
	en = strstr(text,
	            "Download the attachment \xe2\x80\x94 available until 10 December 2026:\n<" LINK
	            ">\n");
	assert_non_null(nl);
	assert_non_null(en);
	assert_true(nl < en);
	assert_non_null(strstr(text, "\n----------------------------------------\n"));
	assert_non_null(strstr(text, "(2,4 MB)"));
	assert_non_null(strstr(text, "(2.4 MB)"));
	free(text);

	html = bd_notice_render_html(both, &v);
	nl = strstr(html, "<div lang=\"nl\">");
	en = strstr(html, "<div lang=\"en\">");
	assert_non_null(nl);
	assert_non_null(en);
	assert_true(nl < en);
	assert_true(strstr(html, "beschikbaar tot 10 december 2026") < en);
	assert_true(strstr(html, "available until 10 December 2026") > en);
	free(html);

	v.languages = BD_NOTICE_EN;
	text = bd_notice_render_text(both, &v);
	assert_null(strstr(text, "beschikbaar"));
	assert_non_null(strstr(text, "available until"));
	free(text);
	v.languages = BD_NOTICE_NL;
	html = bd_notice_render_html(both, &v);
	assert_null(strstr(html, "available"));
	assert_null(strstr(html, "<div lang="));
	assert_non_null(strstr(html, "beschikbaar tot"));
	free(html);

	assert_null(bd_notice_load(dir, "de", &err));
	assert_non_null(strstr(err.msg, "expected nl, en or auto"));
	unsetenv("TZ");
	tzset();
	bd_notice_free(&both);
	g_free(dir);
}

/* The HTML notice escapes as the download page does (html.h): quotes too, so a
 * value is safe inside an attribute, and no control character reaches the page. */
static void test_html_escaping(void **state)
{
	static const struct bd_notice_file files[] = {{"it's \"q\"\x01.pdf", 1}};
	char *dir = template_dir();
	struct bd_error err;
	struct bd_notice *en = bd_notice_load(dir, "en", &err);
	struct bd_notice_vars v = {"O'Neil & <Zn>\tB.V.", LINK, 1796904000, 1, files,
	                           BD_NOTICE_LOADED};
	char *html, *text;

	assert_non_null(en);
	html = bd_notice_render_html(en, &v);
	assert_non_null(strstr(html, "it&#39;s &quot;q&quot; .pdf"));
	assert_non_null(strstr(html, "O&#39;Neil &amp; &lt;Zn&gt; B.V."));
	for (const char *p = html; *p; p++)
		if (*p == '\x01' || *p == '\t')
			fail_msg("control character in the HTML notice at offset %td", p - html);
	text = bd_notice_render_text(en, &v);
	assert_non_null(strstr(text, "it's \"q\"\x01.pdf")); /* text stays as it is */
	free(text);
	free(html);
	bd_notice_free(&en);
	g_free(dir);
}

static void test_code_templates(void **state)
{
	char *dir = template_dir();
	struct bd_error err;
	struct bd_notice *n = bd_notice_load_named(dir, "code", "auto", &err);
	struct bd_notice_vars v = {"De <Linde>", LINK, 0, 0, NULL, BD_NOTICE_EN};
	struct bd_notice_code code = {"042917", 10};
	char *text, *html;

	assert_non_null(n);
	text = bd_notice_render_code_text(n, &v, &code);
	assert_non_null(strstr(text, "    042917\n"));
	assert_non_null(strstr(text, "valid for 10 minutes"));
	assert_non_null(strstr(text, "<" LINK ">"));
	assert_null(strstr(text, "{{"));
	free(text);
	v.languages = BD_NOTICE_NL;
	html = bd_notice_render_code_html(n, &v, &code);
	assert_non_null(strstr(html, ">042917<"));
	assert_non_null(strstr(html, "10 minuten geldig"));
	assert_non_null(strstr(html, "De &lt;Linde&gt;"));
	free(html);
	bd_notice_free(&n);
	g_free(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(path);
}

static void test_template_errors(void **state)
{
	static const struct {
		const char *txt, *html, *msg;
	} cases[] = {
	        {"<{{link}}>\n{{nope}}\n", "{{link}}",
	         "notice.nl.txt:2: unknown placeholder {{nope}}"},
	        {"<{{link}}>\n{{name}}\n", "{{link}}", "only inside {{#files}}"},
	        {"{{link}}\n", "{{link}}", "needs the line <{{link}}>"},
	        {"<{{link}}>\n{{#files}}\n", "{{link}}", "never closed"},
	        {"<{{link}}>\n{{/files}}\n", "{{link}}", "does not close"},
	        {"<{{link}}>\n{{#loop}}{{/loop}}\n", "{{link}}", "unknown section"},
	        {"<{{link}}>\n{{link\n", "{{link}}", "without '}}'"},
	        {"<{{link}}>\n", "<p>no link</p>", "notice.nl.html: {{link}} is missing"},
	        {"<{{link}}>\n\xff\n", "{{link}}", "not UTF-8"},
	};
	char tmpl[] = "/tmp/bd-test-notice-XXXXXX";
	struct bd_error err;

	assert_non_null(mkdtemp(tmpl));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bd_notice *n;

		write_file(tmpl, "notice.nl.txt", cases[i].txt);
		write_file(tmpl, "notice.nl.html", cases[i].html);
		n = bd_notice_load(tmpl, "nl", &err);
		if (n != NULL || strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: %s (want '%s')", i, n ? "loaded" : err.msg,
			         cases[i].msg);
	}
	assert_null(bd_notice_load(tmpl, "de", &err));
	assert_null(bd_notice_load("/nonexistent", "nl", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/notice.nl.txt"));
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
		assert_int_equal(system(cmd), 0);
	}
}

/* ---- insertion ---- */

static GMimePart *text_part(const char *subtype, const char *charset, const char *format,
                            GMimeContentEncoding enc, const char *content)
{
	GMimePart *p = g_mime_part_new_with_type("text", subtype);
	GMimeStream *mem = g_mime_stream_mem_new_with_buffer(content, strlen(content));
	GMimeDataWrapper *w =
	        g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);

	if (charset != NULL)
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset", charset);
	if (format != NULL)
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "format", format);
	g_mime_part_set_content(p, w);
	g_mime_part_set_content_encoding(p, enc);
	g_object_unref(w);
	g_object_unref(mem);
	return p;
}

static char *decoded(GMimePart *p)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *b;
	char *s;

	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(p), mem);
	b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = g_strndup((const char *)b->data, b->len);
	g_object_unref(mem);
	return s;
}

/* The part as written, to check it is 7-bit. */
static char *written(GMimePart *p)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *b;
	char *s;

	g_mime_object_write_to_stream(GMIME_OBJECT(p), NULL, mem);
	b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = g_strndup((const char *)b->data, b->len);
	g_object_unref(mem);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c >= 0x80)
			fail_msg("written part is not 7-bit");
	return s;
}

static const char *charset_of(GMimePart *p)
{
	return g_mime_object_get_content_type_parameter(GMIME_OBJECT(p), "charset");
}

static void test_text_charsets(void **state)
{
	struct bd_error err;
	GMimePart *p;
	char *s, *w;

	/* the notice fits Latin-1: the charset stays, the part becomes quoted-printable */
	p = text_part("plain", "iso-8859-1", NULL, GMIME_CONTENT_ENCODING_8BIT, "caf\xe9\r\n");
	assert_int_equal(
	        bd_notice_add_to_text(p, "Bijlage: \xc3\xa9\xc3\xa9n.pdf\n<" LINK ">\n", &err), 0);
	assert_string_equal(charset_of(p), "iso-8859-1");
	assert_int_equal(g_mime_part_get_content_encoding(p),
	                 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	s = decoded(p);
	assert_string_equal(s, "caf\xe9\n\nBijlage: \xe9\xe9n.pdf\n<" LINK ">\n");
	g_free(s);
	w = written(p);
	g_free(w);
	g_object_unref(p);

	/* it does not (the euro sign): the whole part becomes UTF-8 */
	p = text_part("plain", "iso-8859-1", NULL, GMIME_CONTENT_ENCODING_8BIT, "caf\xe9");
	assert_int_equal(bd_notice_add_to_text(p, "\xe2\x82\xac 5\n", &err), 0);
	assert_string_equal(charset_of(p), "utf-8");
	s = decoded(p);
	assert_string_equal(s, "caf\xc3\xa9\n\n\xe2\x82\xac 5\n");
	g_free(s);
	g_object_unref(p);

	/* no charset means us-ascii; non-ASCII notice: UTF-8 */
	p = text_part("plain", NULL, NULL, GMIME_CONTENT_ENCODING_7BIT, "hello\n");
	assert_int_equal(bd_notice_add_to_text(p, "\xe2\x80\x94\n", &err), 0);
	assert_string_equal(charset_of(p), "utf-8");
	g_object_unref(p);

	/* text that is not what its charset says: kept as it is, the notice simplified */
	p = text_part("plain", "us-ascii", NULL, GMIME_CONTENT_ENCODING_8BIT, "bad \xff byte\n");
	assert_int_equal(bd_notice_add_to_text(p, "n\xc3\xa9 <x>\n", &err), 0);
	assert_string_equal(charset_of(p), "us-ascii");
	s = decoded(p);
	assert_string_equal(s, "bad \xff byte\n\nn? <x>\n");
	g_free(s);
	g_object_unref(p);

	/* base64 stays base64 (with CRLF inside, as text in base64 should be) */
	p = text_part("plain", "utf-8", NULL, GMIME_CONTENT_ENCODING_BASE64, "a\r\nb\r\n");
	assert_int_equal(bd_notice_add_to_text(p, "n\n", &err), 0);
	assert_int_equal(g_mime_part_get_content_encoding(p), GMIME_CONTENT_ENCODING_BASE64);
	s = decoded(p);
	assert_string_equal(s, "a\r\nb\r\n\r\nn\r\n");
	g_free(s);
	g_object_unref(p);
}

static void test_flowed(void **state)
{
	struct bd_error err;
	GMimePart *p = text_part("plain", "utf-8", "flowed", GMIME_CONTENT_ENCODING_7BIT,
	                         "A soft \nbreak.\n");
	char *s;

	assert_int_equal(
	        bd_notice_add_to_text(
	                p,
	                "trailing   \n>quoted\nFrom here\n one space\n"
	                "a long line of many words that goes on and on well past the seventy-"
	                "eight characters a flowed line should have\n<" LINK ">\n",
	                &err),
	        0);
	s = decoded(p);
	assert_non_null(
	        strstr(s, "A soft \nbreak.\n\ntrailing\n >quoted\n From here\n  one space\n"));
	assert_non_null(strstr(s, "a long line of many words that goes on and on well past the "
	                          "seventy-eight \ncharacters a flowed line should have\n"));
	assert_non_null(strstr(s, "\n<" LINK ">\n")); /* one word: never broken */
	g_free(s);
	g_object_unref(p);
}

/* The sender's receipt: both languages, a verified address or "someone with the link",
 * every value escaped in HTML, and no link needed. */
static void test_receipt(void **state)
{
	char *dir = template_dir();
	struct bd_error err;
	struct bd_notice *n = bd_notice_load_named(dir, "receipt", "auto", &err);
	struct bd_notice_vars v = {"Woonstichting De Test", "", 0, 0, NULL, BD_NOTICE_LOADED};
	struct bd_notice_receipt rc = {"a&b <c>.pdf", 1796904000, NULL};
	char *text, *html;

	setenv("TZ", "UTC", 1);
	tzset();
	assert_non_null(n);
	text = bd_notice_render_receipt(n, &v, &rc, 0);
	assert_non_null(strstr(text, "Uw bestand \"a&b <c>.pdf\" is volledig gedownload."));
	assert_non_null(strstr(text, "Your file \"a&b <c>.pdf\" has been downloaded completely."));
	assert_non_null(strstr(text, "10 december 2026 12:00 (UTC)"));
	assert_non_null(strstr(text, "10 December 2026 12:00 (UTC)"));
	assert_non_null(strstr(text, "iemand met de link"));
	assert_non_null(strstr(text, "someone with the link"));
	assert_null(strstr(text, "bevestigd"));
	assert_null(strstr(text, "{{"));
	free(text);
	rc.who = "anna@example.nl";
	text = bd_notice_render_receipt(n, &v, &rc, 0);
	assert_non_null(strstr(text, "anna@example.nl (adres bevestigd)"));
	assert_non_null(strstr(text, "anna@example.nl (address verified)"));
	assert_null(strstr(text, "someone with the link"));
	free(text);
	html = bd_notice_render_receipt(n, &v, &rc, 1);
	assert_non_null(strstr(html, "a&amp;b &lt;c&gt;.pdf"));
	assert_non_null(strstr(html, "<div lang=\"en\">"));
	free(html);
	bd_notice_free(&n);
	free(dir);
}

static void test_html(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"<html><body><p>x</p></body></html>",
	         "<html><body><p>x</p><div>N</div></body></html>"},
	        {"<HTML><BODY>x</BODY ></HTML>", "<HTML><BODY>x<div>N</div></BODY ></HTML>"},
	        {"<p>a</body> fake</body>end", "<p>a</body> fake<div>N</div></body>end"},
	        {"<html>x</html>", "<html>x<div>N</div></html>"},
	        {"<p>fragment</p>", "<p>fragment</p>\n<div>N</div>"},
	        {"<p>line</p>\r\n", "<p>line</p>\n<div>N</div>"},
	        {"", "<div>N</div>"},
	};
	struct bd_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GMimePart *p = text_part("html", "us-ascii", NULL, GMIME_CONTENT_ENCODING_7BIT,
		                         cases[i].in);
		char *s;

		assert_int_equal(bd_notice_add_to_html(p, "<div>N</div>", &err), 0);
		s = decoded(p);
		if (strcmp(s, cases[i].out) != 0)
			fail_msg("case %zu: '%s', want '%s'", i, s, cases[i].out);
		assert_int_equal(g_mime_part_get_content_encoding(p),
		                 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
		g_free(s);
		g_object_unref(p);
	}
}

static void test_new_part(void **state)
{
	GMimePart *p = bd_notice_new_text_part("\xc3\xa9\n<" LINK ">\n");
	char *s = decoded(p), *w = written(p);

	assert_string_equal(charset_of(p), "utf-8");
	assert_int_equal(g_mime_part_get_content_encoding(p),
	                 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	assert_string_equal(s, "\xc3\xa9\n<" LINK ">\n");
	assert_non_null(strstr(w, "=C3=A9"));
	g_free(s);
	g_free(w);
	g_object_unref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sizes),           cmocka_unit_test(test_dates),
	        cmocka_unit_test(test_render),          cmocka_unit_test(test_html_escaping),
	        cmocka_unit_test(test_template_errors), cmocka_unit_test(test_text_charsets),
	        cmocka_unit_test(test_flowed),          cmocka_unit_test(test_html),
	        cmocka_unit_test(test_new_part),        cmocka_unit_test(test_language_for),
	        cmocka_unit_test(test_render_both),     cmocka_unit_test(test_receipt),
	        cmocka_unit_test(test_code_templates),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
