/*
 * uploadreq.c - outgoing mail that asks for an upload (see uploadreq.h).
 *
 * The message is parsed once more (the rewrite engine parses its own copy
 * afterwards), the notice goes into the text parts a reader sees - every
 * part of a multipart/alternative, the first part of any other multipart -
 * and the result is written to a new spool. Signed or encrypted bodies are
 * never changed: such a mail stays as it is and no request is kept.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "uploadreq.h"
#include "log.h"
#include "mem.h"
#include "mimestream.h"
#include "notice.h"
#include "pending.h"
#include "spool.h"
#include "upload.h"

#include <gmime/gmime.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SPOOL_SLACK (1024 * 1024) /* the notice makes the message a little larger */

/* ADDR without angle brackets, into BUF. */
static const char *bare(const char *addr, char *buf, size_t size)
{
	size_t n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>')
		snprintf(buf, size, "%.*s", (int)(n - 2), addr + 1);
	else
		snprintf(buf, size, "%s", addr);
	return buf;
}

static bool is_request_address(const struct bd_conf_requests *conf, const char *rcpt)
{
	char buf[512];

	return conf->address[0] != '\0' &&
	       strcasecmp(bare(rcpt, buf, sizeof(buf)), conf->address) == 0;
}

/* Where the first subject tag starts in SUBJECT, and its length; NULL when none. */
static const char *find_tag(const struct bd_conf_requests *conf, const char *subject, size_t *len)
{
	for (size_t i = 0; subject != NULL && i < conf->subject_tags.n; i++) {
		const char *at = strcasestr(subject, conf->subject_tags.v[i]);

		if (at != NULL) {
			*len = strlen(conf->subject_tags.v[i]);
			return at;
		}
	}
	return NULL;
}

bool bd_uploadreq_wanted(const struct bd_conf_requests *conf, const char *subject,
                         const char *const *recipients, size_t n)
{
	char *decoded;
	size_t len;
	bool found;

	for (size_t i = 0; i < n; i++)
		if (is_request_address(conf, recipients[i]))
			return true;
	if (subject == NULL)
		return false;
	decoded = g_mime_utils_header_decode_text(NULL, subject);
	found = find_tag(conf, decoded, &len) != NULL;
	g_free(decoded);
	return found;
}

/* SUBJECT without its tag and the spaces the tag leaves. */
static char *untagged(const struct bd_conf_requests *conf, const char *subject)
{
	size_t len;
	const char *at = find_tag(conf, subject, &len);
	GString *s;

	if (at == NULL)
		return NULL;
	s = g_string_new_len(subject, at - subject);
	while (s->len > 0 && s->str[s->len - 1] == ' ')
		g_string_truncate(s, s->len - 1);
	at += len;
	while (*at == ' ')
		at++;
	if (s->len > 0 && *at != '\0')
		g_string_append_c(s, ' ');
	g_string_append(s, at);
	return g_string_free(s, FALSE);
}

struct insertion {
	const char *text, *html;
	unsigned done;
	struct bd_error *err;
	int failed;
};

static bool is_attachment(GMimeObject *obj)
{
	const char *d = g_mime_object_get_disposition(obj);

	return d != NULL && strcasecmp(d, "attachment") == 0;
}

static void insert(GMimeObject *obj, struct insertion *in)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	if (in->failed || GMIME_IS_MULTIPART_SIGNED(obj) || GMIME_IS_MULTIPART_ENCRYPTED(obj))
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
			for (int i = 0; i < n; i++)
				insert(g_mime_multipart_get_part(mp, i), in);
		} else if (n > 0) {
			insert(g_mime_multipart_get_part(mp, 0), in);
		}
		return;
	}
	if (!GMIME_IS_PART(obj) || is_attachment(obj))
		return;
	if (g_mime_content_type_is_type(ct, "text", "plain")) {
		if (bd_notice_add_to_text(GMIME_PART(obj), in->text, in->err) < 0)
			in->failed = 1;
		else
			in->done++;
	} else if (g_mime_content_type_is_type(ct, "text", "html")) {
		if (bd_notice_add_to_html(GMIME_PART(obj), in->html, in->err) < 0)
			in->failed = 1;
		else
			in->done++;
	}
}

static char *one_line(const char *v)
{
	GString *s = g_string_new(NULL);

	for (const char *p = v; p != NULL && *p; p++)
		if (*p != '\r' && *p != '\n')
			g_string_append_c(s, *p == '\t' ? ' ' : *p);
	g_strstrip(s->str);
	return g_string_free(s, FALSE);
}

/* The top-level MIME headers of the changed message, as the milter sets them. */
static void collect_headers(struct bd_uploadreq *rq, GMimeMessage *msg)
{
	static const char *const names[] = {"MIME-Version", "Content-Type",
	                                    "Content-Transfer-Encoding"};
	GMimeObject *top = g_mime_message_get_mime_part(msg);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		GMimeObject *owner = i == 0 ? GMIME_OBJECT(msg) : top;
		GMimeHeader *h = owner ? g_mime_header_list_get_header(
		                                 g_mime_object_get_header_list(owner), names[i])
		                       : NULL;
		const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;

		rq->headers[rq->nheaders].name = bd_strdup(names[i]);
		rq->headers[rq->nheaders].value =
		        h ? one_line(raw ? raw : g_mime_header_get_value(h)) : NULL;
		rq->nheaders++;
	}
}

static int write_message(GMimeObject *obj, bool body_only, struct bd_sink *out,
                         struct bd_error *err)
{
	GMimeFormatOptions *fmt = g_mime_format_options_new();
	GMimeStream *sink = bd_mimestream_sink_new(out), *filtered = g_mime_stream_filter_new(sink);
	GMimeFilter *crlf = g_mime_filter_unix2dos_new(FALSE);
	ssize_t n;
	int rc = 0;

	g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), crlf);
	g_object_unref(crlf);
	n = body_only ? g_mime_object_write_content_to_stream(obj, fmt, filtered)
	              : g_mime_object_write_to_stream(obj, fmt, filtered);
	if (n < 0 || g_mime_stream_flush(filtered) < 0)
		rc = bd_error_set(err, BD_E_IO, "writing the upload-request message failed");
	g_object_unref(filtered);
	g_object_unref(sink);
	g_mime_format_options_free(fmt);
	return rc;
}

static int spool_sink_write(void *ctx, const uint8_t *buf, size_t len)
{
	return bd_spool_write(ctx, buf, len, NULL);
}

/* The request itself: stored, and its link. */
static char *store_request(const struct bd_conf *conf, const struct bd_keyring *kr,
                           struct bd_store *store, const char *requester, const char *recipient,
                           struct bd_uploadreq *rq, struct bd_error *err)
{
	struct bd_request *r = bd_request_new();
	char token[BD_TOKEN_MAX_CHARS + 1], *link = NULL;

	r->requester = bd_strdup(requester);
	r->recipient = recipient ? bd_strdup(recipient) : NULL;
	r->created = (int64_t)time(NULL);
	r->expires = r->created + (int64_t)conf->requests.expires;
	r->max_total_size = conf->requests.max_total_size;
	r->max_file_size = conf->requests.max_file_size < r->max_total_size
	                           ? conf->requests.max_file_size
	                           : r->max_total_size;
	r->max_files = (unsigned)conf->requests.max_files;
	r->flags = conf->requests.several_uses ? BD_REQUEST_SEVERAL_USES : 0;
	if (bd_upload_request_create(store, kr, r, token, err) == 0) {
		link = bd_asprintf("%s/u/%s", conf->gateway.public_url, token);
		bd_package_id_hex(r->id, rq->request_id);
	}
	sodium_memzero(token, sizeof(token));
	bd_request_free(&r);
	return link;
}

int bd_uploadreq_prepare(const struct bd_conf *conf, const struct bd_keyring *kr,
                         struct bd_store *store, int fd, const struct bd_uploadreq_envelope *env,
                         struct bd_uploadreq **out, struct bd_error *err)
{
	const char **others = bd_calloc(env->nrecipients + 1, sizeof(*others));
	struct bd_uploadreq *rq = bd_calloc(1, sizeof(*rq));
	const char *requester = env->auth_authen != NULL && strchr(env->auth_authen, '@')
	                                ? env->auth_authen
	                                : env->sender;
	struct bd_notice *n = NULL;
	struct insertion in = {.err = err};
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GMimeStream *stream;
	char *link = NULL, *text = NULL, *html = NULL, buf[512];
	size_t nothers = 0;
	int dupfd = dup(fd), rc = -1;

	*out = NULL;
	rq->fd = -1;
	for (size_t i = 0; i < env->nrecipients; i++) {
		if (is_request_address(&conf->requests, env->recipients[i]))
			rq->drop_rcpt = env->recipients[i];
		else
			others[nothers++] = env->recipients[i];
	}
	stream = dupfd >= 0 ? bd_mimestream_pread_new(dupfd) : NULL;
	if (stream == NULL) {
		bd_error_set(err, BD_E_IO, "cannot read the message");
		goto out;
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL || g_mime_message_get_mime_part(msg) == NULL) {
		rc = 0; /* not a message we can put anything into: the rewrite decides */
		goto out;
	}
	rq->subject = untagged(&conf->requests, g_mime_message_get_subject(msg));
	if ((rq->subject == NULL && rq->drop_rcpt == NULL) || requester == NULL ||
	    requester[0] == '\0') {
		rc = 0;
		goto out;
	}
	link = store_request(conf, kr, store, requester,
	                     nothers > 0 ? bare(others[0], buf, sizeof(buf)) : NULL, rq, err);
	if (link == NULL)
		goto out;
	n = bd_notice_load_named(conf->notice.template_dir, "request",
	                         bd_language_code(conf->notice.language), err);
	if (n == NULL)
		goto out;
	{
		struct bd_notice_vars v = {
		        conf->gateway.organisation,
		        link,
		        (time_t)(time(NULL) + (time_t)conf->requests.expires),
		        0,
		        NULL,
		        bd_notice_language_for(&conf->notice, &conf->milter, others, nothers)};
		struct bd_notice_request r = {requester, NULL, conf->requests.max_total_size,
		                              (size_t)conf->requests.max_files};

		text = bd_notice_render_request_text(n, &v, &r);
		html = bd_notice_render_request_html(n, &v, &r);
	}
	in.text = text;
	in.html = html;
	insert(g_mime_message_get_mime_part(msg), &in);
	if (in.failed)
		goto out;
	if (in.done == 0) {
		/* signed, encrypted or no text: left alone, and no request kept */
		bd_log(LOG_NOTICE, "event=request-not-inserted request=%s reason=no-text-part",
		       rq->request_id);
		rc = 0;
		goto out;
	}
	if (rq->subject != NULL) {
		GMimeHeader *h;

		g_mime_message_set_subject(msg, rq->subject, "utf-8");
		h = g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(msg)),
		                                  "Subject");
		free(rq->subject); /* from here on: the value as it goes into the header */
		rq->subject = h != NULL && g_mime_header_get_raw_value(h) != NULL
		                      ? one_line(g_mime_header_get_raw_value(h))
		                      : bd_strdup("");
	}
	collect_headers(rq, msg);
	rq->spool = bd_spool_new(conf->milter.spool_dir, conf->milter.spool_memory,
	                         conf->milter.max_message_size + SPOOL_SLACK, err);
	if (rq->spool == NULL)
		goto out;
	{
		struct bd_sink sink = {spool_sink_write, rq->spool};

		if (write_message(GMIME_OBJECT(msg), false, &sink, err) < 0)
			goto out;
	}
	rq->fd = bd_spool_fd(rq->spool, err);
	if (rq->fd < 0)
		goto out;
	rq->message = msg;
	msg = NULL;
	*out = rq;
	rq = NULL;
	rc = 0;
out:
	if (rq != NULL) {
		if (rq->request_id[0] != '\0')
			bd_uploadreq_cancel(rq, store, conf->milter.spool_dir);
		bd_uploadreq_free(&rq);
	}
	if (msg != NULL)
		g_object_unref(msg);
	if (parser != NULL)
		g_object_unref(parser);
	if (stream != NULL)
		g_object_unref(stream);
	bd_notice_free(&n);
	if (link != NULL)
		sodium_memzero(link, strlen(link));
	free(link);
	free(text);
	free(html);
	free(others);
	return rc;
}

int bd_uploadreq_write_body(struct bd_uploadreq *rq, struct bd_sink *out, struct bd_error *err)
{
	return write_message(GMIME_OBJECT(rq->message), true, out, err);
}

void bd_uploadreq_cancel(struct bd_uploadreq *rq, struct bd_store *store, const char *pending_dir)
{
	if (rq->request_id[0] != '\0')
		bd_package_delete_or_queue(store, pending_dir, rq->request_id);
}

void bd_uploadreq_free(struct bd_uploadreq **rqp)
{
	struct bd_uploadreq *rq = *rqp;

	if (rq == NULL)
		return;
	for (size_t i = 0; i < rq->nheaders; i++) {
		free(rq->headers[i].name);
		free(rq->headers[i].value);
	}
	if (rq->message != NULL)
		g_object_unref(rq->message);
	bd_spool_free(&rq->spool);
	free(rq->subject);
	free(rq);
	*rqp = NULL;
}
