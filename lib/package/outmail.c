/*
 * outmail.c - compose and submit the gateway's own messages (see outmail.h).
 *
 * Every body and the subject are base64, so no line length, charset or
 * header syntax depends on what the texts hold; the addresses are checked
 * before they go into a header or an SMTP command.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "outmail.h"
#include "mem.h"

#include <curl/curl.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMTP_TIMEOUT         60L /* seconds for the whole submission */
#define SMTP_CONNECT_TIMEOUT 10L

static int address_ok(const char *a)
{
	return a != NULL && a[0] != '\0' && strpbrk(a, "\r\n<>\" ,") == NULL &&
	       strchr(a, '@') != NULL && strlen(a) < 512;
}

/* A body in base64, 76 characters a line. */
static void put_base64(GString *out, const char *text)
{
	gchar *b64 = g_base64_encode((const guchar *)text, strlen(text));
	size_t n = strlen(b64);

	for (size_t i = 0; i < n; i += 76)
		g_string_append_printf(out, "%.*s\r\n", (int)(n - i < 76 ? n - i : 76), b64 + i);
	g_free(b64);
}

/* Text with LF line ends as CRLF, so the base64 holds what mail readers expect. */
static char *crlf(const char *text)
{
	GString *s = g_string_new(NULL);

	for (const char *p = text; *p; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			g_string_append_c(s, '\r');
		g_string_append_c(s, *p);
	}
	return g_string_free(s, FALSE);
}

char *bd_outmail_compose(const struct bd_outmail *m, time_t date, struct bd_error *err)
{
	GString *out;
	char boundary[40], id[33], when[64], *text;
	const char *domain;
	uint8_t rnd[16];
	gchar *subject;
	struct tm tm;

	if (!address_ok(m->from) || !address_ok(m->to)) {
		bd_error_set(err, BD_E_INVALID, "outgoing mail: an address is not usable");
		return NULL;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, sizeof(id), rnd, sizeof(rnd));
	snprintf(boundary, sizeof(boundary), "=_bestanden_%.16s", id);
	domain = strrchr(m->from, '@') + 1;
	gmtime_r(&date, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	subject = g_base64_encode((const guchar *)m->subject, strlen(m->subject));
	out = g_string_new(NULL);
	g_string_append_printf(out,
	                       "From: <%s>\r\nTo: <%s>\r\nSubject: =?UTF-8?B?%s?=\r\n"
	                       "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
	                       "Auto-Submitted: auto-generated\r\n"
	                       "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
	                       m->from, m->to, subject, when, id, domain, boundary);
	g_free(subject);
	g_string_append_printf(out,
	                       "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                       "Content-Transfer-Encoding: base64\r\n\r\n",
	                       boundary);
	text = crlf(m->text);
	put_base64(out, text);
	g_free(text);
	g_string_append_printf(out,
	                       "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
	                       "Content-Transfer-Encoding: base64\r\n\r\n",
	                       boundary);
	put_base64(out, m->html);
	g_string_append_printf(out, "--%s--\r\n", boundary);
	text = bd_strdup(out->str);
	g_string_free(out, TRUE);
	return text;
}

struct reader {
	const char *p;
	size_t left;
};

static size_t read_message(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct reader *r = ctx;
	size_t n = size * nitems < r->left ? size * nitems : r->left;

	memcpy(buf, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

int bd_outmail_send(const struct bd_conf_smtp *smtp, const struct bd_outmail *m,
                    struct bd_error *err)
{
	char *msg = bd_outmail_compose(m, time(NULL), err), *url, *from;
	struct curl_slist *rcpt = NULL;
	struct reader r;
	CURLcode rc;
	CURL *c;
	long code = 0;

	if (msg == NULL)
		return -1;
	c = curl_easy_init();
	if (c == NULL) {
		free(msg);
		return bd_error_set(err, BD_E_TEMP, "smtp: libcurl could not start");
	}
	url = bd_asprintf(strchr(smtp->host, ':') != NULL ? "smtp://[%s]:%llu" : "smtp://%s:%llu",
	                  smtp->host, (unsigned long long)smtp->port);
	from = bd_asprintf("<%s>", m->from);
	rcpt = curl_slist_append(rcpt, m->to);
	r = (struct reader){msg, strlen(msg)};
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(c, CURLOPT_READDATA, &r);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, SMTP_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_TIMEOUT);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	free(from);
	free(url);
	free(msg);
	if (rc != CURLE_OK)
		return bd_error_set(err, BD_E_TEMP, "smtp %s:%llu: %s (reply %ld)", smtp->host,
		                    (unsigned long long)smtp->port, curl_easy_strerror(rc), code);
	return 0;
}
