/*
 * notice.c - which languages a message's notice is written in, and putting the
 * rendered notice into body parts. The templates themselves: package/template.c.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "notice.h"
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

static GString *decode_content(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *bytes;
	GString *s;

	if (content == NULL)
		return g_string_new(NULL);
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = g_string_new_len((const char *)bytes->data, (gssize)bytes->len);
	g_object_unref(mem);
	return s;
}

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

static void crlf_to_lf(GString *s)
{
	size_t w = 0;

	for (size_t r = 0; r < s->len; r++)
		if (!(s->str[r] == '\r' && r + 1 < s->len && s->str[r + 1] == '\n'))
			s->str[w++] = s->str[r];
	g_string_truncate(s, w);
}

static void lf_to_crlf(GString *s)
{
	GString *out = g_string_sized_new(s->len + s->len / 32);

	for (size_t i = 0; i < s->len; i++) {
		if (s->str[i] == '\n' && (i == 0 || s->str[i - 1] != '\r'))
			g_string_append_c(out, '\r');
		g_string_append_c(out, s->str[i]);
	}
	g_string_assign(s, "");
	g_string_append_len(s, out->str, (gssize)out->len);
	g_string_free(out, TRUE);
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

/* Make TEXT ASCII-compatible (UTF-8) if its charset is not; updates *CHARSET. */
static int widen_to_utf8(GMimePart *part, GString **text, const char **charset,
                         struct bd_error *err)
{
	GString *utf8;

	if (ascii_compatible(*charset))
		return 0;
	utf8 = convert(*charset, "utf-8", (*text)->str, (*text)->len);
	if (utf8 == NULL)
		return bd_error_set(err, BD_E_INVALID, "body part is not valid %s", *charset);
	g_string_free(*text, TRUE);
	*text = utf8;
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	*charset = "utf-8";
	return 0;
}

int bd_notice_add_to_text(GMimePart *part, const char *notice, struct bd_error *err)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	GMimeContentEncoding encoding = body_encoding(part);
	const char *charset = param_or(obj, "charset", "us-ascii");
	bool flowed = g_ascii_strcasecmp(param_or(obj, "format", ""), "flowed") == 0;
	bool delsp = g_ascii_strcasecmp(param_or(obj, "delsp", ""), "yes") == 0;
	GString *text = decode_content(part), *add;
	char *prepared = flowed ? flow_notice(notice, delsp) : bd_strdup(notice);

	if (widen_to_utf8(part, &text, &charset, err) < 0) {
		g_string_free(text, TRUE);
		free(prepared);
		return -1;
	}
	add = convert("utf-8", charset, prepared, strlen(prepared));
	if (add == NULL) {
		/* the notice does not fit the charset: the whole part becomes UTF-8 */
		GString *utf8 = convert(charset, "utf-8", text->str, text->len);

		if (utf8 != NULL) {
			g_string_free(text, TRUE);
			text = utf8;
			g_mime_object_set_content_type_parameter(obj, "charset", "utf-8");
			add = g_string_new(prepared);
		} else {
			/* the text is not what its charset says: leave it, simplify the notice */
			add = ascii_fold(prepared);
		}
	}
	free(prepared);
	crlf_to_lf(text);
	if (text->len > 0 && text->str[text->len - 1] != '\n')
		g_string_append_c(text, '\n');
	if (text->len > 0)
		g_string_append_c(text, '\n');
	g_string_append_len(text, add->str, (gssize)add->len);
	g_string_free(add, TRUE);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64)
		lf_to_crlf(text);
	set_content(part, text, encoding);
	g_string_free(text, TRUE);
	return 0;
}

/* Where ELEMENT's raw content ends (the offset of its closing tag), or LEN. */
static size_t skip_raw_text(const GString *s, size_t from, const char *element)
{
	size_t el = strlen(element);

	for (size_t i = from; i + 2 + el <= s->len; i++)
		if (s->str[i] == '<' && s->str[i + 1] == '/' &&
		    g_ascii_strncasecmp(s->str + i + 2, element, el) == 0)
			return i;
	return s->len;
}

static bool tag_at(const GString *s, size_t i, const char *tag)
{
	size_t tl = strlen(tag);

	return i + tl <= s->len && g_ascii_strncasecmp(s->str + i, tag, tl) == 0 &&
	       (i + tl == s->len || !g_ascii_isalnum(s->str[i + tl]));
}

/*
 * Where the snippet goes: before the last </body> (or, without one, the last
 * </html>) that a browser would see, not one inside a comment, <script> or
 * <style>, where the notice would be invisible; before a comment or such an
 * element that never ends (it would swallow an appended notice); else -1.
 */
static gssize find_insertion_point(const GString *s)
{
	gssize body = -1, html = -1;

	for (size_t i = 0; i < s->len; i++) {
		size_t end;

		if (s->str[i] != '<')
			continue;
		if (strncmp(s->str + i, "<!--", 4) == 0) {
			/* from i + 2: "<!-->" and "<!--->" are complete (empty) comments */
			const char *close =
			        g_strstr_len(s->str + i + 2, (gssize)(s->len - i - 2), "-->");

			if (close == NULL)
				return body >= 0 ? body : html >= 0 ? html : (gssize)i;
			i = (size_t)(close - s->str) + 2;
		} else if (tag_at(s, i, "<script") || tag_at(s, i, "<style")) {
			end = skip_raw_text(s, i + 1, tag_at(s, i, "<script") ? "script" : "style");
			if (end == s->len)
				return body >= 0 ? body : html >= 0 ? html : (gssize)i;
			i = end;
		} else if (tag_at(s, i, "</body")) {
			body = (gssize)i;
		} else if (tag_at(s, i, "</html")) {
			html = (gssize)i;
		}
	}
	return body >= 0 ? body : html;
}

int bd_notice_add_to_html(GMimePart *part, const char *snippet, struct bd_error *err)
{
	GMimeContentEncoding encoding = body_encoding(part);
	const char *charset = param_or(GMIME_OBJECT(part), "charset", "us-ascii");
	GString *html = decode_content(part);
	gssize at;

	if (widen_to_utf8(part, &html, &charset, err) < 0) {
		g_string_free(html, TRUE);
		return -1;
	}
	at = find_insertion_point(html);
	if (at < 0) {
		if (html->len > 0 && html->str[html->len - 1] != '\n')
			g_string_append_c(html, '\n');
		g_string_append(html, snippet);
	} else {
		g_string_insert(html, at, snippet);
	}
	if (encoding == GMIME_CONTENT_ENCODING_BASE64)
		lf_to_crlf(html);
	else
		crlf_to_lf(html);
	set_content(part, html, encoding);
	g_string_free(html, TRUE);
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
