/*
 * filename.c - sanitising attachment names, and names for nameless parts.
 *
 * Works on code points (glib's UTF-8 functions), never on bytes, so a cut
 * or a replacement can never leave half a character behind. See filename.h
 * for what a sanitised name guarantees.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "filename.h"
#include "mem.h"
#include "names.h"

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a code point becomes in a name. */
enum shown {
	SHOWN_KEEP,   /* itself */
	SHOWN_DROP,   /* nothing: invisible, it can only hide or fake something */
	SHOWN_BLANK,  /* white space or a blank look-alike: runs become one ' ' */
	SHOWN_UNSAFE, /* a control or a character Windows refuses: '_' */
};

/*
 * By Unicode general category where one fits: format characters (Cf: bidi
 * controls, zero-width characters, soft hyphen, tags) go, every separator (Zs,
 * Zl, Zp) is a blank. The rest are letters or symbols by category that show
 * nothing, and marks that only select a glyph.
 */
static enum shown shown_as(gunichar c)
{
	switch (g_unichar_type(c)) {
	case G_UNICODE_FORMAT: return SHOWN_DROP;
	case G_UNICODE_SPACE_SEPARATOR:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR: return SHOWN_BLANK;
	default: break;
	}
	if (c == '\t' || c == '\n' || c == '\r')
		return SHOWN_BLANK;
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    (c < 0x80 && strchr("<>:\"|?*", (int)c) != NULL))
		return SHOWN_UNSAFE;
	/* fillers and blanks that are letters or symbols by category */
	if (c == 0x115f || c == 0x1160 || c == 0x3164 || c == 0xffa0 || c == 0x2800)
		return SHOWN_BLANK;
	/* invisible marks (combining grapheme joiner, variation selectors), the
	 * unassigned code points Unicode reserves as ignorable (among format
	 * characters, tags and variation selectors), noncharacters */
	if (c == 0x034f || (c >= 0x180b && c <= 0x180f) || (c >= 0xfe00 && c <= 0xfe0f) ||
	    c == 0x2065 || (c >= 0xfff0 && c <= 0xfff8) || (c >= 0xe0000 && c <= 0xe0fff) ||
	    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
		return SHOWN_DROP;
	return SHOWN_KEEP;
}

/* Valid UTF-8 copy of RAW: each byte of an invalid sequence becomes '_'. */
static GString *valid_utf8(const char *raw)
{
	GString *s = g_string_new(NULL);
	const char *p = raw;

	while (*p) {
		gunichar c = g_utf8_get_char_validated(p, -1);

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_c(s, '_');
			p++;
			continue;
		}
		g_string_append_unichar(s, c);
		p = g_utf8_next_char(p);
	}
	return s;
}

/* The last non-empty component of a path written with '/' or '\'. */
static const char *last_component(const char *s, size_t *len)
{
	const char *end = s + strlen(s), *start;

	while (end > s && (end[-1] == '/' || end[-1] == '\\'))
		end--;
	start = end;
	while (start > s && start[-1] != '/' && start[-1] != '\\')
		start--;
	*len = (size_t)(end - start);
	return start;
}

static bool is_device_name(const char *s)
{
	static const char *const devices[] = {"con", "prn", "aux", "nul"};
	size_t stem = strcspn(s, ".");

	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		if (stem == 3 && strncasecmp(s, devices[i], 3) == 0)
			return true;
	return stem == 4 && (strncasecmp(s, "com", 3) == 0 || strncasecmp(s, "lpt", 3) == 0) &&
	       s[3] >= '1' && s[3] <= '9';
}

/* Remove leading whitespace and dots, trailing whitespace and dots. */
static void trim(GString *s)
{
	size_t start = 0;

	while (start < s->len && (s->str[start] == ' ' || s->str[start] == '.'))
		start++;
	g_string_erase(s, 0, (gssize)start);
	while (s->len > 0 && (s->str[s->len - 1] == ' ' || s->str[s->len - 1] == '.'))
		g_string_truncate(s, s->len - 1);
}

/* Cut S to at most MAX bytes at a character boundary. */
static void cut_utf8(GString *s, size_t max)
{
	const char *p = s->str;

	if (s->len <= max)
		return;
	while ((size_t)(g_utf8_next_char(p) - s->str) <= max)
		p = g_utf8_next_char(p);
	g_string_truncate(s, (size_t)(p - s->str));
}

/* Keep the extension (if it is short) and shorten the stem. */
static void limit_length(GString *s)
{
	const char *dot = strrchr(s->str, '.');
	size_t extlen = dot ? strlen(dot) : 0;
	GString *stem;

	if (s->len <= BD_FILENAME_MAX)
		return;
	if (dot == NULL || dot == s->str || extlen > 20) {
		cut_utf8(s, BD_FILENAME_MAX);
		trim(s);
		return;
	}
	stem = g_string_new_len(s->str, dot - s->str);
	cut_utf8(stem, BD_FILENAME_MAX - extlen);
	trim(stem);
	g_string_append(stem, dot);
	g_string_assign(s, stem->str);
	g_string_free(stem, TRUE);
}

char *bd_filename_sanitise(const char *raw)
{
	GString *valid, *out;
	const char *comp;
	char *nfc, *result = NULL;
	size_t complen;
	bool space = false;

	if (raw == NULL)
		return NULL;
	valid = valid_utf8(raw);
	comp = last_component(valid->str, &complen);
	nfc = g_utf8_normalize(comp, (gssize)complen, G_NORMALIZE_NFC);
	g_string_free(valid, TRUE);
	if (nfc == NULL)
		return NULL;

	out = g_string_new(NULL);
	for (const char *p = nfc; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		enum shown how = shown_as(c);

		if (how == SHOWN_DROP)
			continue;
		if (how == SHOWN_BLANK) {
			space = true;
			continue;
		}
		if (space && out->len > 0)
			g_string_append_c(out, ' ');
		space = false;
		if (how == SHOWN_UNSAFE)
			g_string_append_c(out, '_');
		else
			g_string_append_unichar(out, c);
	}
	g_free(nfc);
	trim(out);
	if (out->len > 0 && is_device_name(out->str))
		g_string_prepend_c(out, '_');
	limit_length(out);
	if (out->len > 0)
		result = bd_strdup(out->str);
	g_string_free(out, TRUE);
	return result;
}

/* The first row for an extension is its type when guessing from a name. */
static const struct {
	const char *type, *ext;
} kinds[] = {
        {"application/pdf", "pdf"},
        {"application/zip", "zip"},
        {"application/x-zip-compressed", "zip"},
        {"application/gzip", "gz"},
        {"application/x-gzip", "gz"},
        {"application/x-tar", "tar"},
        {"application/x-7z-compressed", "7z"},
        {"application/x-rar-compressed", "rar"},
        {"application/vnd.rar", "rar"},
        {"application/msword", "doc"},
        {"application/vnd.ms-excel", "xls"},
        {"application/vnd.ms-powerpoint", "ppt"},
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
        {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"},
        {"application/vnd.oasis.opendocument.text", "odt"},
        {"application/vnd.oasis.opendocument.spreadsheet", "ods"},
        {"application/vnd.oasis.opendocument.presentation", "odp"},
        {"application/rtf", "rtf"},
        {"application/postscript", "ps"},
        {"application/json", "json"},
        {"application/xml", "xml"},
        {"application/ms-tnef", "dat"},
        {"application/vnd.ms-tnef", "dat"},
        {"application/pgp-signature", "asc"},
        {"application/pgp-keys", "asc"},
        {"application/pkcs7-signature", "p7s"},
        {"application/x-pkcs7-signature", "p7s"},
        {"application/pkcs7-mime", "p7m"},
        {"image/jpeg", "jpg"},
        {"image/png", "png"},
        {"image/gif", "gif"},
        {"image/bmp", "bmp"},
        {"image/tiff", "tif"},
        {"image/webp", "webp"},
        {"image/svg+xml", "svg"},
        {"image/heic", "heic"},
        {"audio/mpeg", "mp3"},
        {"audio/basic", "au"},
        {"audio/wav", "wav"},
        {"audio/x-wav", "wav"},
        {"video/mp4", "mp4"},
        {"video/mpeg", "mpg"},
        {"video/quicktime", "mov"},
        {"text/plain", "txt"},
        {"text/html", "html"},
        {"text/csv", "csv"},
        {"text/calendar", "ics"},
        {"text/vcard", "vcf"},
        {"text/x-vcard", "vcf"},
        {"text/xml", "xml"},
        {"text/enriched", "txt"},
        {"text/richtext", "rtx"},
        {"message/rfc822", "eml"},
        {"message/global", "eml"},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *bd_filename_extension(const char *content_type)
{
	if (content_type == NULL)
		return "bin";
	for (size_t i = 0; i < NKINDS; i++)
		if (strcasecmp(content_type, kinds[i].type) == 0)
			return kinds[i].ext;
	if (strncasecmp(content_type, "text/", 5) == 0)
		return "txt";
	return "bin";
}

const char *bd_filename_content_type(const char *name)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;

	if (dot != NULL && dot != name)
		for (size_t i = 0; i < NKINDS; i++)
			if (strcasecmp(dot + 1, kinds[i].ext) == 0)
				return kinds[i].type;
	return "application/octet-stream";
}

char *bd_filename_generate(const char *lang, unsigned n, const char *content_type)
{
	return bd_asprintf("%s-%u.%s",
	                   lang != NULL && strcmp(lang, "nl") == 0 ? "bijlage" : "attachment", n,
	                   bd_filename_extension(content_type));
}

char *bd_filename_unique(const char *name, char *const *taken, size_t n)
{
	return bd_names_unique(name, taken, n, BD_FILENAME_MAX);
}
