/*
 * notice.c - which languages a message's notice is written in, and putting the
 * rendered notice into body parts. The templates themselves: package/template.c.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "notice.h"
#include "bodyedit.h"
#include "direction.h"
#include "format.h"
#include "html.h"
#include "mem.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum bd_notice_languages bd_notice_language_for(const struct bd_conf_notice *notice,
                                                const struct bd_conf_milter *milter,
                                                const char *const *recipients, size_t n)
{
	if (notice->language == BD_LANG_NL)
		return BD_NOTICE_NL;
	if (notice->language == BD_LANG_EN)
		return BD_NOTICE_EN;
	/* auto; no recipients known: nothing says who reads it */
	if (n == 0)
		return BD_NOTICE_LOADED;
	if (!bd_recipients_any_external(milter, recipients, n))
		return BD_NOTICE_NL;
	for (size_t i = 0; i < n; i++)
		if (!bd_recipient_is_internal(milter, recipients[i]) &&
		    !bd_recipient_domain_in(&notice->dutch_domains, recipients[i]))
			return BD_NOTICE_LOADED;
	return BD_NOTICE_NL;
}

/* ---- insertion into body parts ---- */

static void set_content(GMimePart *part, const GString *s, GMimeContentEncoding encoding)
{
	GMimeStream *mem = g_mime_stream_mem_new_with_buffer(s->str, s->len);
	GMimeDataWrapper *wrapper =
	        g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, wrapper);
	g_mime_part_set_content_encoding(part, encoding);
	g_object_unref(wrapper);
	g_object_unref(mem);
}

/* Strict conversion; NULL when a character cannot be represented or the input is invalid. */
static GString *convert(const char *from, const char *to, const char *in, size_t len)
{
	iconv_t cd = iconv_open(g_mime_charset_iconv_name(to), g_mime_charset_iconv_name(from));
	GString *out;
	char *inp = (char *)in;
	size_t inleft = len;

	if (cd == (iconv_t)-1)
		return NULL;
	out = g_string_sized_new(len + 64);
	for (int final = 0;; final = 1) {
		for (;;) {
			char buf[4096], *outp = buf;
			size_t outleft = sizeof(buf);
			size_t r = final ? iconv(cd, NULL, NULL, &outp, &outleft)
			                 : iconv(cd, &inp, &inleft, &outp, &outleft);

			g_string_append_len(out, buf, (gssize)(sizeof(buf) - outleft));
			if (r != (size_t)-1)
				break;
			if (errno != E2BIG) {
				iconv_close(cd);
				g_string_free(out, TRUE);
				return NULL;
			}
		}
		if (final)
			break;
	}
	iconv_close(cd);
	/* glibc writes UCS-4 values beyond U+10FFFF as UTF-8 too (gmime maps
	 * iso-10646-ucs-2 to UCS-4): that is not text anyone can read */
	if (g_ascii_strcasecmp(to, "utf-8") == 0 &&
	    !g_utf8_validate(out->str, (gssize)out->len, NULL)) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return out;
}

/*
 * True when CHARSET writes ASCII as ASCII, so that ASCII (and the line ends
 * we add) can be joined to text in it. Asked of iconv rather than a list of
 * names: UTF-16/32, UCS-2/4 (also as ISO-10646-UCS-2), UTF-7, HZ and EBCDIC
 * code pages all fail. A charset iconv does not know is taken as ASCII-based.
 */
static bool ascii_compatible(const char *charset)
{
	static const char probe[] =
	        "\t\r\n !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
	iconv_t cd = iconv_open(g_mime_charset_iconv_name(charset), "utf-8");
	GString *out;
	bool same;

	if (cd == (iconv_t)-1)
		return true;
	iconv_close(cd);
	out = convert("utf-8", charset, probe, sizeof(probe) - 1);
	same = out != NULL && out->len == sizeof(probe) - 1 &&
	       memcmp(out->str, probe, out->len) == 0;
	if (out != NULL)
		g_string_free(out, TRUE);
	return same;
}

/* Every non-ASCII character becomes '?': the last resort when the part's charset is unknown. */
static GString *ascii_fold(const char *s)
{
	GString *out = g_string_new(NULL);

	for (const char *p = s; *p; p = g_utf8_next_char(p))
		g_string_append_c(out, (unsigned char)*p < 0x80 ? *p : '?');
	return out;
}

/*
 * RFC 3676: no trailing spaces (they would join lines), space-stuff lines
 * that start with ' ', '>' or "From ", and wrap long lines at spaces with
 * soft breaks (not with DelSp=yes, where a soft break would eat a space).
 */
static char *flow_notice(const char *notice, bool delsp)
{
	GString *out = g_string_new(NULL);
	const char *p = notice;

	while (*p) {
		size_t len = strcspn(p, "\n");
		GString *line = g_string_new_len(p, (gssize)len);

		while (line->len > 0 && line->str[line->len - 1] == ' ')
			g_string_truncate(line, line->len - 1);
		while (!delsp && line->len > 78) {
			size_t cut = 78;

			while (cut > 0 && line->str[cut - 1] != ' ')
				cut--;
			if (cut == 0)
				break; /* one long word, e.g. the URL: leave it whole */
			if (line->str[0] == ' ' || line->str[0] == '>' ||
			    strncmp(line->str, "From ", 5) == 0)
				g_string_append_c(out, ' ');
			g_string_append_len(out, line->str, (gssize)cut);
			g_string_append_c(out, '\n');
			g_string_erase(line, 0, (gssize)cut);
		}
		if (line->str[0] == ' ' || line->str[0] == '>' ||
		    strncmp(line->str, "From ", 5) == 0)
			g_string_append_c(out, ' ');
		g_string_append_len(out, line->str, (gssize)line->len);
		g_string_append_c(out, '\n');
		g_string_free(line, TRUE);
		p += len;
		if (*p == '\n')
			p++;
	}
	return g_string_free(out, FALSE);
}

static const char *param_or(GMimeObject *obj, const char *name, const char *def)
{
	const char *v = g_mime_object_get_content_type_parameter(obj, name);

	return v != NULL && *v != '\0' ? v : def;
}

/* The encoding a modified body part gets: base64 stays base64, everything else becomes QP. */
static GMimeContentEncoding body_encoding(GMimePart *part)
{
	return g_mime_part_get_content_encoding(part) == GMIME_CONTENT_ENCODING_BASE64
	               ? GMIME_CONTENT_ENCODING_BASE64
	               : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

/*
 * The body text is never held whole (bodyedit.h): what it takes is learnt in
 * a pass over it, and the part gets a stream that puts the notice in when the
 * message is written.
 */
int bd_notice_add_to_text(GMimePart *part, const char *notice, struct bd_error *err)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	GMimeContentEncoding encoding = body_encoding(part);
	const char *charset = param_or(obj, "charset", "us-ascii");
	bool flowed = g_ascii_strcasecmp(param_or(obj, "format", ""), "flowed") == 0;
	bool delsp = g_ascii_strcasecmp(param_or(obj, "delsp", ""), "yes") == 0;
	char *prepared, *from = NULL;
	GString *add;

	if (!ascii_compatible(charset)) {
		/* the notice cannot be joined to it as it is: the text becomes UTF-8 */
		if (bd_bodyedit_scan(part, charset, NULL) < 0)
			return bd_error_set(err, BD_E_INVALID, "body part is not valid %s",
			                    charset);
		from = g_strdup(charset);
		g_mime_object_set_content_type_parameter(obj, "charset", "utf-8");
		charset = "utf-8";
	}
	prepared = flowed ? flow_notice(notice, delsp) : bd_strdup(notice);
	add = convert("utf-8", charset, prepared, strlen(prepared));
	if (add == NULL) {
		/* the notice does not fit the charset: the whole part becomes UTF-8,
		 * unless the text is not what its charset says: then it stays, and
		 * the notice is simplified */
		if (from == NULL && bd_bodyedit_scan(part, charset, NULL) == 0) {
			from = g_strdup(charset);
			g_mime_object_set_content_type_parameter(obj, "charset", "utf-8");
		}
		add = from != NULL ? g_string_new(prepared) : ascii_fold(prepared);
	}
	free(prepared);
	bd_bodyedit_apply(part,
	                  &(struct bd_bodyedit){
	                          .from = from,
	                          .body_lf = true,
	                          .whole = encoding == GMIME_CONTENT_ENCODING_BASE64
	                                           ? BD_BODYEDIT_CRLF
	                                           : BD_BODYEDIT_KEEP,
	                          .at = -1,
	                          .blank_line = true,
	                          .add = add->str,
	                          .add_len = add->len,
	                  },
	                  encoding);
	g_free(from);
	g_string_free(add, TRUE);
	return 0;
}

int bd_notice_add_to_html(GMimePart *part, const char *snippet, struct bd_error *err)
{
	GMimeContentEncoding encoding = body_encoding(part);
	const char *charset = param_or(GMIME_OBJECT(part), "charset", "us-ascii");
	char *from = ascii_compatible(charset) ? NULL : g_strdup(charset);
	int64_t at;

	if (bd_bodyedit_scan(part, from, &at) < 0) {
		g_free(from);
		return bd_error_set(err, BD_E_INVALID, "body part is not valid %s", charset);
	}
	if (from != NULL)
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	bd_bodyedit_apply(part,
	                  &(struct bd_bodyedit){
	                          .from = from,
	                          .whole = encoding == GMIME_CONTENT_ENCODING_BASE64
	                                           ? BD_BODYEDIT_CRLF
	                                           : BD_BODYEDIT_LF,
	                          .at = at,
	                          .add = snippet,
	                          .add_len = strlen(snippet),
	                  },
	                  encoding);
	g_free(from);
	return 0;
}

GMimePart *bd_notice_new_text_part(const char *notice)
{
	GMimePart *part = g_mime_part_new_with_type("text", "plain");
	GString *text = g_string_new(notice);

	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	set_content(part, text, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_string_free(text, TRUE);
	return part;
}
