/*
 * sniff.c - file types from their first bytes, and the kinds of extensions.
 *
 * libmagic would know more types, but needs its database loaded per thread and
 * answers with whatever version of it is installed; the rules need these few
 * answers, always the same: a table is enough and easy to test.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "sniff.h"

#include <string.h>

enum sniff_id { S_PDF, S_PE, S_ELF, S_ZIP, S_DOCX, S_XLSX, S_PPTX, S_PNG, S_JPEG, S_GIF };

static const struct bd_sniffed table[] = {
        [S_PDF] = {"application/pdf", "pdf", "PDF document", BD_KIND_DOCUMENT},
        [S_PE] = {"application/x-msdownload", "exe", "PE executable", BD_KIND_EXECUTABLE},
        [S_ELF] = {"application/x-executable", "elf", "ELF executable", BD_KIND_EXECUTABLE},
        [S_ZIP] = {"application/zip", "zip", "ZIP archive", BD_KIND_ARCHIVE},
        [S_DOCX] = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "docx", "Word document (OOXML)", BD_KIND_DOCUMENT},
        [S_XLSX] = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx",
                    "Excel workbook (OOXML)", BD_KIND_DOCUMENT},
        [S_PPTX] = {"application/vnd.openxmlformats-officedocument.presentationml.presentation",
                    "pptx", "PowerPoint presentation (OOXML)", BD_KIND_DOCUMENT},
        [S_PNG] = {"image/png", "png", "PNG image", BD_KIND_IMAGE},
        [S_JPEG] = {"image/jpeg", "jpg", "JPEG image", BD_KIND_IMAGE},
        [S_GIF] = {"image/gif", "gif", "GIF image", BD_KIND_IMAGE},
};

static bool starts(const uint8_t *buf, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(buf, magic, n) == 0;
}

static bool contains(const uint8_t *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, s, n) == 0)
			return true;
	return false;
}

/* "MZ", and where the header says the PE header is (if that is in view), "PE\0\0". */
static bool is_pe(const uint8_t *buf, size_t len)
{
	uint32_t at;

	if (!starts(buf, len, "MZ", 2) || len < 0x40)
		return false;
	at = (uint32_t)buf[0x3c] | (uint32_t)buf[0x3d] << 8 | (uint32_t)buf[0x3e] << 16 |
	     (uint32_t)buf[0x3f] << 24;
	if (at < 0x40 || (size_t)at + 4 > len)
		return at >= 0x40; /* beyond what we see: an MZ header that points on counts */
	return memcmp(buf + at, "PE\0\0", 4) == 0;
}

/* The OOXML formats are ZIP files whose first entries name their main folder. */
static const struct bd_sniffed *zip_kind(const uint8_t *buf, size_t len)
{
	if (contains(buf, len, "word/"))
		return &table[S_DOCX];
	if (contains(buf, len, "xl/"))
		return &table[S_XLSX];
	if (contains(buf, len, "ppt/"))
		return &table[S_PPTX];
	return &table[S_ZIP];
}

const struct bd_sniffed *bd_sniff(const uint8_t *buf, size_t len)
{
	if (starts(buf, len, "%PDF-", 5))
		return &table[S_PDF];
	if (is_pe(buf, len))
		return &table[S_PE];
	if (starts(buf, len,
	           "\x7f"
	           "ELF",
	           4))
		return &table[S_ELF];
	if (starts(buf, len, "PK\x03\x04", 4))
		return zip_kind(buf, len);
	if (starts(buf, len, "\x89PNG\r\n\x1a\n", 8))
		return &table[S_PNG];
	if (starts(buf, len, "\xff\xd8\xff", 3))
		return &table[S_JPEG];
	if (starts(buf, len, "GIF87a", 6) || starts(buf, len, "GIF89a", 6))
		return &table[S_GIF];
	return NULL;
}

unsigned bd_sniff_extension_kind(const char *extension)
{
	static const struct {
		const char *ext;
		unsigned kind;
	} kinds[] = {
	        {"exe", BD_KIND_EXECUTABLE}, {"dll", BD_KIND_EXECUTABLE},
	        {"scr", BD_KIND_EXECUTABLE}, {"com", BD_KIND_EXECUTABLE},
	        {"msi", BD_KIND_EXECUTABLE}, {"bat", BD_KIND_EXECUTABLE},
	        {"cmd", BD_KIND_EXECUTABLE}, {"ps1", BD_KIND_EXECUTABLE},
	        {"vbs", BD_KIND_EXECUTABLE}, {"js", BD_KIND_EXECUTABLE},
	        {"jar", BD_KIND_EXECUTABLE}, {"zip", BD_KIND_ARCHIVE},
	        {"7z", BD_KIND_ARCHIVE},     {"rar", BD_KIND_ARCHIVE},
	        {"tar", BD_KIND_ARCHIVE},    {"gz", BD_KIND_ARCHIVE},
	        {"tgz", BD_KIND_ARCHIVE},    {"png", BD_KIND_IMAGE},
	        {"jpg", BD_KIND_IMAGE},      {"jpeg", BD_KIND_IMAGE},
	        {"gif", BD_KIND_IMAGE},      {"tif", BD_KIND_IMAGE},
	        {"tiff", BD_KIND_IMAGE},     {"heic", BD_KIND_IMAGE},
	        {"pdf", BD_KIND_DOCUMENT},   {"doc", BD_KIND_DOCUMENT},
	        {"docx", BD_KIND_DOCUMENT},  {"xls", BD_KIND_DOCUMENT},
	        {"xlsx", BD_KIND_DOCUMENT},  {"ppt", BD_KIND_DOCUMENT},
	        {"pptx", BD_KIND_DOCUMENT},  {"odt", BD_KIND_DOCUMENT},
	        {"ods", BD_KIND_DOCUMENT},   {"odp", BD_KIND_DOCUMENT},
	        {"rtf", BD_KIND_DOCUMENT},
	};

	for (size_t i = 0; extension != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].ext, extension) == 0)
			return kinds[i].kind;
	return 0;
}
