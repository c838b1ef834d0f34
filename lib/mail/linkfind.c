/*
 * linkfind.c - search the decoded text parts of a message for a link (see linkfind.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "linkfind.h"
#include "mimestream.h"

#include <gmime/gmime.h>
#include <string.h>

struct search {
	const char *prefix; /* "PUBLIC_URL/d/" */
	char *found;
	int done;
};

static int token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static void search_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct search *s = data;
	GMimeContentType *ct;
	GMimeDataWrapper *content;
	GMimeStream *mem;
	GByteArray *bytes;
	const char *hit, *end;
	size_t plen = strlen(s->prefix);

	if (s->done || !GMIME_IS_PART(part))
		return;
	ct = g_mime_object_get_content_type(part);
	if (!g_mime_content_type_is_type(ct, "text", "plain") &&
	    !g_mime_content_type_is_type(ct, "text", "html"))
		return;
	content = g_mime_part_get_content(GMIME_PART(part));
	if (content == NULL)
		return;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	g_mime_stream_write(mem, "", 1); /* NUL-terminate for strstr */
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	for (hit = strstr((const char *)bytes->data, s->prefix); hit && !s->done;
	     hit = strstr(hit + 1, s->prefix)) {
		const char *tok = hit + plen;

		for (end = tok; token_char(*end) && end - tok <= BD_TOKEN_MAX_CHARS; end++)
			;
		if (end > tok && end - tok <= BD_TOKEN_MAX_CHARS) {
			memcpy(s->found, tok, (size_t)(end - tok));
			s->found[end - tok] = '\0';
			s->done = 1;
		}
	}
	g_object_unref(mem);
}

int bd_link_find(int fd, const char *public_url, char out[BD_TOKEN_MAX_CHARS + 1],
                 struct bd_error *err)
{
	char prefix[1100];
	struct search s = {prefix, out, 0};
	GMimeStream *stream = bd_mimestream_pread_new(fd);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		return bd_error_set(err, BD_E_INVALID, "not a mail message");
	snprintf(prefix, sizeof(prefix), "%s/d/", public_url);
	g_mime_message_foreach(msg, search_part, &s);
	g_object_unref(msg);
	if (!s.done)
		return bd_error_set(err, BD_E_NOTFOUND, "no link starting with %s in this message",
		                    prefix);
	return 0;
}
