/*
 * policy.c - the [policy] decisions for messages and parts.
 *
 * Fail safe, not clever: whatever might be signed, encrypted, a report, or
 * part of how the message displays (cid: images, calendar invitations,
 * signatures) stays; everything else that is a file goes. The decision
 * table is in bd_policy_decide(); tests/data/messages has one case each.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "policy.h"
#include "direction.h"

#include <string.h>
#include <strings.h>

static bool is_type(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

static bool null_sender(const struct bd_rewrite_envelope *env, GMimeMessage *msg)
{
	const char *s = env->sender;

	if (s == NULL)
		s = g_mime_object_get_header(GMIME_OBJECT(msg), "Return-Path");
	if (s == NULL)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' || strncmp(s, "<>", 2) == 0;
}

/* RFC 3834: anything but "no" (the keyword, before parameters or comments). */
static bool auto_submitted(GMimeMessage *msg)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted");
	size_t n;

	if (v == NULL)
		return false;
	v += strspn(v, " \t\r\n");
	n = strcspn(v, " \t\r\n;(");
	return !(n == 2 && strncasecmp(v, "no", 2) == 0);
}

const char *bd_policy_check_message(const struct bd_conf_policy *policy,
                                    const struct bd_conf_milter *milter,
                                    const struct bd_rewrite_envelope *env, GMimeMessage *msg)
{
	if (policy->outgoing_only && !env->outgoing)
		return "incoming mail (outgoing_only)";
	if (null_sender(env, msg))
		return "null sender: a bounce or notification";
	if (policy->skip_internal_only &&
	    !bd_recipients_any_external(milter, env->recipients, env->nrecipients))
		return "every recipient is internal (skip_internal_only)";
	if (auto_submitted(msg))
		return "Auto-Submitted: an automatic message";
	return NULL;
}

const char *bd_policy_check_part(GMimeObject *obj)
{
	if (is_type(obj, "multipart", "signed"))
		return "signed message (multipart/signed)";
	if (is_type(obj, "multipart", "encrypted"))
		return "encrypted message (multipart/encrypted)";
	if (is_type(obj, "application", "pkcs7-mime") ||
	    is_type(obj, "application", "x-pkcs7-mime")) {
		const char *t = g_mime_object_get_content_type_parameter(obj, "smime-type");

		if (t == NULL || g_ascii_strcasecmp(t, "certs-only") != 0)
			return "S/MIME signed or encrypted (application/pkcs7-mime)";
	}
	if (is_type(obj, "multipart", "report"))
		return "delivery or read report (multipart/report)";
	if (is_type(obj, "message", "delivery-status") ||
	    is_type(obj, "message", "global-delivery-status"))
		return "delivery status notification";
	if (is_type(obj, "message", "disposition-notification") ||
	    is_type(obj, "message", "global-disposition-notification"))
		return "read receipt (message disposition notification)";
	return NULL;
}

bool bd_policy_is_attached_message(GMimeObject *obj)
{
	return is_type(obj, "message", "rfc822") || is_type(obj, "message", "rfc2822") ||
	       is_type(obj, "message", "global") || is_type(obj, "message", "news");
}

const char *bd_policy_filename(GMimeObject *obj)
{
	const char *name = NULL;

	if (GMIME_IS_PART(obj))
		name = g_mime_part_get_filename(GMIME_PART(obj));
	if (name == NULL)
		name = g_mime_object_get_content_disposition_parameter(obj, "filename");
	if (name == NULL)
		name = g_mime_object_get_content_type_parameter(obj, "name");
	return name != NULL && *name != '\0' ? name : NULL;
}

static bool has_extension(const char *name, const char *const *exts, size_t n)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	for (size_t i = 0; dot != NULL && i < n; i++)
		if (g_ascii_strcasecmp(dot + 1, exts[i]) == 0)
			return true;
	return false;
}

static bool is_signature_or_key(GMimeObject *obj)
{
	static const char *const exts[] = {"sig", "asc", "p7s"};
	const char *t;

	if (is_type(obj, "application", "pgp-signature") ||
	    is_type(obj, "application", "pkcs7-signature") ||
	    is_type(obj, "application", "x-pkcs7-signature") ||
	    is_type(obj, "application", "pgp-keys") ||
	    is_type(obj, "application", "x-pkcs7-certificates") ||
	    is_type(obj, "application", "pkcs7-certificates"))
		return true;
	t = g_mime_object_get_content_type_parameter(obj, "smime-type");
	if ((is_type(obj, "application", "pkcs7-mime") ||
	     is_type(obj, "application", "x-pkcs7-mime")) &&
	    t != NULL && g_ascii_strcasecmp(t, "certs-only") == 0)
		return true;
	return has_extension(bd_policy_filename(obj), exts, sizeof(exts) / sizeof(exts[0]));
}

static bool is_tnef(GMimeObject *obj)
{
	const char *name = bd_policy_filename(obj);

	return is_type(obj, "application", "ms-tnef") ||
	       is_type(obj, "application", "vnd.ms-tnef") ||
	       (name != NULL && g_ascii_strcasecmp(name, "winmail.dat") == 0);
}

enum bd_rewrite_action bd_policy_decide(const struct bd_conf_policy *policy, GMimeObject *obj,
                                        bool referenced, const char **reason)
{
	GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
	bool attachment = disp != NULL && g_mime_content_disposition_is_attachment(disp);
	bool named = bd_policy_filename(obj) != NULL;

	if (bd_policy_is_attached_message(obj)) {
		if (policy->forwarded_messages == BD_FORWARDED_KEEP) {
			*reason = "attached message (forwarded_messages = keep)";
			return BD_REWRITE_KEEP;
		}
		*reason = "attached message, goes as one .eml file (forwarded_messages = eml)";
		return BD_REWRITE_SEND;
	}
	if (is_type(obj, "message", "*")) {
		*reason = "message fragment or reference (message/partial, external-body)";
		return BD_REWRITE_KEEP;
	}
	if (policy->keep_signatures && is_signature_or_key(obj)) {
		*reason = "signature or key (keep_signatures)";
		return BD_REWRITE_KEEP;
	}
	if (policy->keep_calendar &&
	    (is_type(obj, "text", "calendar") || is_type(obj, "application", "ics"))) {
		*reason = "calendar invitation (keep_calendar)";
		return BD_REWRITE_KEEP;
	}
	if (policy->keep_inline_images && referenced) {
		*reason = "shown in the HTML body through cid: (keep_inline_images)";
		return BD_REWRITE_KEEP;
	}
	if (is_type(obj, "text", "plain") || is_type(obj, "text", "html")) {
		if (!attachment && !named) {
			*reason = "body text: the notice goes in here";
			return BD_REWRITE_BODY;
		}
		*reason = attachment ? "text file (disposition attachment)"
		                     : "text file (has a filename)";
		return BD_REWRITE_SEND;
	}
	if (is_type(obj, "text", "*") && !attachment && !named) {
		*reason = "inline text that is neither plain nor HTML";
		return BD_REWRITE_KEEP;
	}
	if (is_tnef(obj))
		*reason = "winmail.dat (TNEF), goes as one file";
	else if (attachment)
		*reason = "attachment";
	else if (named)
		*reason = "inline part with a filename (counts as an attachment)";
	else
		*reason = "inline part that is not text and not shown through cid:";
	return BD_REWRITE_SEND;
}

enum bd_rewrite_action bd_policy_decide_size(const struct bd_conf_policy *policy, uint64_t size,
                                             const char **reason)
{
	if (size == 0) {
		*reason = "empty (0 bytes): nothing to take out";
		return BD_REWRITE_KEEP;
	}
	if (size < policy->min_attachment_size) {
		*reason = "smaller than min_attachment_size";
		return BD_REWRITE_KEEP;
	}
	return BD_REWRITE_SEND;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The cid: URLs that start before STOP (read on up to LEN); returns where the scan goes on. */
static size_t collect_cids(const char *html, size_t len, size_t stop, GHashTable *set)
{
	size_t i;

	for (i = 0; i < stop && i + 4 <= len; i++) {
		GString *id;
		size_t j;

		if (g_ascii_strncasecmp(html + i, "cid:", 4) != 0)
			continue;
		id = g_string_new(NULL);
		for (j = i + 4; j < len && id->len < 1000; j++) {
			char c = html[j];

			if (c == '"' || c == '\'' || c == '>' || c == '<' || c == ')' || c == ' ' ||
			    c == '\t' || c == '\r' || c == '\n')
				break;
			if (c == '%' && j + 2 < len && hexval(html[j + 1]) >= 0 &&
			    hexval(html[j + 2]) >= 0) {
				c = (char)(hexval(html[j + 1]) * 16 + hexval(html[j + 2]));
				j += 2;
			}
			g_string_append_c(id, g_ascii_tolower(c));
		}
		if (id->len > 0)
			g_hash_table_add(set, g_string_free(id, FALSE));
		else
			g_string_free(id, TRUE);
		i = j > i ? j - 1 : i;
	}
	return i;
}

void bd_policy_collect_cids(const char *html, size_t len, GHashTable *set)
{
	collect_cids(html, len, len, set);
}

/* An id is read up to 1000 characters, each at most "%XX": a URL that starts
 * SCAN_REACH bytes before the end of the window is whole in it. */
#define SCAN_REACH  4096
#define SCAN_WINDOW (64 * 1024 + SCAN_REACH)

struct bd_cid_scan {
	GHashTable *set;
	size_t len;
	char buf[SCAN_WINDOW];
};

struct bd_cid_scan *bd_policy_cid_scan_new(GHashTable *set)
{
	struct bd_cid_scan *s = g_malloc(sizeof(*s));

	s->set = set;
	s->len = 0;
	return s;
}

int bd_policy_cid_scan_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct bd_cid_scan *s = ctx;

	while (len > 0) {
		size_t n = MIN(len, sizeof(s->buf) - s->len), next;

		memcpy(s->buf + s->len, buf, n);
		s->len += n;
		buf += n;
		len -= n;
		if (s->len < sizeof(s->buf))
			continue;
		next = MIN(collect_cids(s->buf, s->len, s->len - SCAN_REACH, s->set), s->len);
		memmove(s->buf, s->buf + next, s->len - next);
		s->len -= next;
	}
	return 0;
}

void bd_policy_cid_scan_end(struct bd_cid_scan **s)
{
	if (*s != NULL) {
		collect_cids((*s)->buf, (*s)->len, (*s)->len, (*s)->set);
		g_free(*s);
		*s = NULL;
	}
}

char *bd_policy_content_id(GMimeObject *obj)
{
	const char *id = g_mime_object_get_content_id(obj);

	if (id == NULL || *id == '\0')
		return NULL;
	return g_ascii_strdown(id, -1);
}
