/*
 * notify.c - the invitation and the arrival notice (see notify.h).
 *
 * The arrival notice is the download notice of outgoing mail, with a line
 * before it saying who uploaded and what they wrote; the invitation is the
 * "request" template alone. Both languages go in for [notice] language =
 * auto (no recipient's domain tells us better here).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "notify.h"
#include "html.h"
#include "mem.h"
#include "outmail.h"
#include "template.h"

#include <glib.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static enum bd_notice_languages languages(const struct bd_conf *conf)
{
	return conf->notice.language == BD_LANG_NL   ? BD_NOTICE_NL
	       : conf->notice.language == BD_LANG_EN ? BD_NOTICE_EN
	                                             : BD_NOTICE_LOADED;
}

/* "nl", "en", or both joined by " / ": the subject for the languages in use. */
static char *subject(const struct bd_conf *conf, const char *nl, const char *en)
{
	switch (languages(conf)) {
	case BD_NOTICE_NL: return bd_strdup(nl);
	case BD_NOTICE_EN: return bd_strdup(en);
	default: return bd_asprintf("%s / %s", nl, en);
	}
}

/* One mail from [smtp] from to TO. */
static int mail_to(const struct bd_conf *conf, const char *to, const char *subject,
                   const char *text, const char *html, struct bd_error *err)
{
	return bd_outmail_send(&conf->smtp,
	                       &(struct bd_outmail){.from = conf->smtp.from,
	                                            .to = to,
	                                            .subject = subject,
	                                            .text = text,
	                                            .html = html},
	                       err);
}

static char *html_document(const char *intro_html, const char *snippet)
{
	return bd_asprintf("<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"></head>\n"
	                   "<body>\n%s%s</body>\n</html>\n",
	                   intro_html, snippet);
}

/* M's files as the templates list them (malloc'ed; the names stay M's). */
static struct bd_notice_file *notice_files(const struct bd_manifest *m)
{
	struct bd_notice_file *files = bd_calloc(m->nfiles ? m->nfiles : 1, sizeof(*files));

	for (size_t i = 0; i < m->nfiles; i++)
		files[i] = (struct bd_notice_file){m->files[i].name, m->files[i].size};
	return files;
}

/* TEXT and the HTML snippet HTML (both freed here) as one mail to TO. */
static int mail_rendered(const struct bd_conf *conf, const char *to, const char *subject,
                         char *text, char *html, struct bd_error *err)
{
	char *doc = html_document("", html);
	int rc = mail_to(conf, to, subject, text, doc, err);

	free(doc);
	free(text);
	free(html);
	return rc;
}

int bd_notify_upload(const struct bd_conf *conf, const struct bd_request *r,
                     const struct bd_manifest *m, const char *link, const char *uploader,
                     const char *message, struct bd_error *err)
{
	struct bd_notice *n = bd_notice_load(conf->notice.template_dir,
	                                     bd_language_code(conf->notice.language), err);
	struct bd_notice_file *files;
	struct bd_notice_vars v;
	GString *intro, *intro_html;
	char *text, *html, *body, *doc, *subj;
	const char *who = uploader != NULL && uploader[0] != '\0' ? uploader : NULL;
	int rc;

	if (n == NULL)
		return -1;
	files = notice_files(m);
	v = (struct bd_notice_vars){conf->gateway.organisation,
	                            link,
	                            (time_t)m->expires,
	                            m->nfiles,
	                            files,
	                            languages(conf)};
	text = bd_notice_render_text(n, &v);
	html = bd_notice_render_html(n, &v);
	intro = g_string_new(NULL);
	intro_html = g_string_new("<p>");
	/* Both languages in one line each: the requester is one of us. */
	g_string_append_printf(intro,
	                       "Via uw uploadverzoek ontvangen / Received through your "
	                       "upload request%s%s\n",
	                       who ? ": " : "", who ? who : "");
	g_string_append(intro_html, "Via uw uploadverzoek ontvangen / Received through your "
	                            "upload request");
	if (who != NULL) {
		g_string_append(intro_html, ": <strong>");
		bd_html_append_escaped(intro_html, who);
		g_string_append(intro_html, "</strong>");
	}
	g_string_append(intro_html, "</p>\n");
	if (message != NULL && message[0] != '\0') {
		g_string_append_printf(intro, "\n%s\n", message);
		g_string_append(intro_html, "<p style=\"white-space:pre-line\">");
		bd_html_append_escaped(intro_html, message);
		g_string_append(intro_html, "</p>\n");
	}
	g_string_append(intro, "\n");
	body = bd_asprintf("%s%s", intro->str, text);
	doc = html_document(intro_html->str, html);
	subj = subject(conf, "Bestanden ontvangen via uploadverzoek",
	               "Files received through upload request");
	rc = mail_to(conf, r->requester, subj, body, doc, err);
	free(subj);
	free(doc);
	free(body);
	g_string_free(intro, TRUE);
	g_string_free(intro_html, TRUE);
	free(text);
	free(html);
	free(files);
	bd_notice_free(&n);
	return rc;
}

int bd_notify_invite(const struct bd_conf *conf, const struct bd_request *r, const char *link,
                     struct bd_error *err)
{
	struct bd_notice *n;
	struct bd_notice_vars v;
	struct bd_notice_request rq = {r->requester, r->note, r->max_total_size, r->max_files};
	char *subj;
	int rc;

	if (r->recipient == NULL)
		return bd_error_set(err, BD_E_INVALID, "the request names no recipient");
	n = bd_notice_load_named(conf->notice.template_dir, "request",
	                         bd_language_code(conf->notice.language), err);
	if (n == NULL)
		return -1;
	v = (struct bd_notice_vars){
	        conf->gateway.organisation, link, (time_t)r->expires, 0, NULL, languages(conf)};
	subj = subject(conf, "Uploadverzoek", "Upload request");
	rc = mail_rendered(conf, r->recipient, subj, bd_notice_render_request_text(n, &v, &rq),
	                   bd_notice_render_request_html(n, &v, &rq), err);
	free(subj);
	bd_notice_free(&n);
	return rc;
}

int bd_notify_infected(const struct bd_conf *conf, const struct bd_request *r, const char *file,
                       const char *uploader, const char *signature, struct bd_error *err)
{
	char *text, *html, *doc, *subj;
	GString *h = g_string_new("<p>");
	int rc;

	/* Both languages: the requester is one of us, and this is rare. */
	text = bd_asprintf("Een upload via uw uploadverzoek is geweigerd: in het bestand \"%s\" is "
	                   "een virus gevonden (%s). Er is niets opgeslagen.%s%s\n\n"
	                   "An upload through your upload request was refused: a virus was found "
	                   "in the file \"%s\" (%s). Nothing was stored.\n",
	                   file, signature, uploader ? "\nAfzender / sender: " : "",
	                   uploader ? uploader : "", file, signature);
	g_string_append(h, "Een upload via uw uploadverzoek is geweigerd: in het bestand ");
	bd_html_append_escaped(h, file);
	g_string_append(h, " is een virus gevonden (");
	bd_html_append_escaped(h, signature);
	g_string_append(h, "). Er is niets opgeslagen.</p>\n<p>An upload through your upload "
	                   "request was refused: a virus was found in the file ");
	bd_html_append_escaped(h, file);
	g_string_append(h, ". Nothing was stored.</p>\n");
	if (uploader != NULL) {
		g_string_append(h, "<p>Afzender / sender: ");
		bd_html_append_escaped(h, uploader);
		g_string_append(h, "</p>\n");
	}
	html = g_string_free(h, FALSE);
	doc = html_document(html, "");
	subj = subject(conf, "Upload geweigerd: virus gevonden", "Upload refused: virus found");
	rc = mail_to(conf, r->requester, subj, text, doc, err);
	free(subj);
	free(doc);
	g_free(html);
	free(text);
	return rc;
}

/* A mail to a package's SENDER from template NAME, rendered with RC, subject in nl/en. */
static int sender_mail(const struct bd_conf *conf, const char *name, const char *sender,
                       const char *subj_nl, const char *subj_en, const struct bd_notice_receipt *rc,
                       struct bd_error *err)
{
	struct bd_notice *n = bd_notice_load_named(conf->notice.template_dir, name,
	                                           bd_language_code(conf->notice.language), err);
	struct bd_notice_vars v = {conf->gateway.organisation, "", 0, 0, NULL, languages(conf)};
	char *subj;
	int rc_mail;

	if (n == NULL)
		return -1;
	subj = subject(conf, subj_nl, subj_en);
	rc_mail = mail_rendered(conf, sender, subj, bd_notice_render_receipt(n, &v, rc, 0),
	                        bd_notice_render_receipt(n, &v, rc, 1), err);
	free(subj);
	bd_notice_free(&n);
	return rc_mail;
}

int bd_notify_receipt(const struct bd_conf *conf, const char *sender,
                      const struct bd_notice_receipt *rc, struct bd_error *err)
{
	char *nl = bd_asprintf("Gedownload: %s", rc->file),
	     *en = bd_asprintf("Downloaded: %s", rc->file);
	int r = sender_mail(conf, "receipt", sender, nl, en, rc, err);

	free(nl);
	free(en);
	return r;
}

int bd_notify_locked(const struct bd_conf *conf, const char *sender, time_t until,
                     struct bd_error *err)
{
	return sender_mail(conf, "locked", sender, "Toegangscode: pogingen geblokkeerd",
	                   "Access code: attempts locked",
	                   &(struct bd_notice_receipt){"", until, NULL}, err);
}

int bd_notify_code(const struct bd_conf *conf, const char *lang, const char *to, const char *link,
                   const char *code, unsigned minutes, struct bd_error *err)
{
	int en = strcmp(lang, "en") == 0;
	struct bd_notice *n =
	        bd_notice_load_named(conf->notice.template_dir, "code", en ? "en" : "nl", err);
	struct bd_notice_vars v = {conf->gateway.organisation,      link, 0, 0, NULL,
	                           en ? BD_NOTICE_EN : BD_NOTICE_NL};
	struct bd_notice_code c = {code, minutes};
	char *text, *html, *doc;
	int rc;

	if (n == NULL)
		return -1;
	text = bd_notice_render_code_text(n, &v, &c);
	html = bd_notice_render_code_html(n, &v, &c);
	doc = html_document("", html);
	rc = mail_to(conf, to, en ? "Your code" : "Uw code", text, doc, err);
	sodium_memzero(text, strlen(text)); /* the code */
	sodium_memzero(html, strlen(html));
	sodium_memzero(doc, strlen(doc));
	free(doc);
	free(text);
	free(html);
	bd_notice_free(&n);
	return rc;
}

int bd_notify_manage(const struct bd_conf *conf, const struct bd_manifest *m, const char *link,
                     struct bd_error *err)
{
	struct bd_notice *n;
	struct bd_notice_file *files;
	struct bd_notice_vars v;
	GString *to;
	char *text, *html, *doc, *subj;
	int rc;

	if (m->sender == NULL || m->sender[0] == '\0')
		return bd_error_set(err, BD_E_INVALID, "the package names no sender");
	n = bd_notice_load_named(conf->notice.template_dir, "manage",
	                         bd_language_code(conf->notice.language), err);
	if (n == NULL)
		return -1;
	files = notice_files(m);
	to = g_string_new(NULL);
	for (size_t i = 0; i < m->nrecipients; i++)
		g_string_append_printf(to, "%s%s", i ? ", " : "", m->recipients[i]);
	v = (struct bd_notice_vars){conf->gateway.organisation,
	                            link,
	                            (time_t)m->expires,
	                            m->nfiles,
	                            files,
	                            languages(conf)};
	text = bd_notice_render_manage(n, &v, to->str, 0);
	html = bd_notice_render_manage(n, &v, to->str, 1);
	doc = html_document("", html);
	subj = subject(conf, "Uw verzonden bestanden: wie downloadde wat",
	               "The files you sent: who downloaded what");
	rc = mail_to(conf, m->sender, subj, text, doc, err);
	free(subj);
	/* all hold the link, which manages the package */
	sodium_memzero(text, strlen(text));
	sodium_memzero(html, strlen(html));
	sodium_memzero(doc, strlen(doc));
	free(doc);
	free(text);
	free(html);
	g_string_free(to, TRUE);
	free(files);
	bd_notice_free(&n);
	return rc;
}
