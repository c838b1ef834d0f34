/*
 * bodyedit.h - the content of a body text part with something put in, as a stream.
 *
 * A text/plain or text/html part that gets the notice is never held whole:
 * bd_bodyedit_scan() reads its decoded content once (from the spool, through
 * pread) to learn whether it converts to UTF-8 and where an HTML snippet goes;
 * bd_bodyedit_apply() then gives the part a content stream that decodes,
 * converts, puts the addition in and sets the line ends in bounded chunks
 * each time gmime writes the part. Memory is bounded by the chunk size, the
 * addition and a few bytes of look-ahead, not by the size of the text.
 * The part's original content must stay readable as long as the part lives.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_BODYEDIT_H
#define BD_BODYEDIT_H

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bd_bodyedit_newlines {
	BD_BODYEDIT_KEEP,
	BD_BODYEDIT_LF,   /* CRLF becomes LF */
	BD_BODYEDIT_CRLF, /* a LF without CR before it gets one */
};

struct bd_bodyedit {
	const char *from; /* convert the body from this charset to UTF-8; NULL: as it is */
	bool body_lf;     /* CRLF becomes LF in the body (not in ADD) */
	enum bd_bodyedit_newlines whole; /* then over everything, ADD included */
	int64_t at;                      /* where ADD goes in the converted body; -1: at its end */
	bool blank_line;                 /* at the end: after a blank line, not just a line end */
	const char *add;                 /* copied */
	size_t add_len;
};

/*
 * Read PART's decoded content once. Returns 0 when it converts strictly from
 * FROM to valid UTF-8 (FROM NULL: no conversion, always 0), -1 when it does
 * not or cannot be read. With HTML_AT: where an HTML snippet goes in the
 * converted text (before the last </body> or </html> a browser would see),
 * -1 when it is to be appended.
 */
int bd_bodyedit_scan(GMimePart *part, const char *from, int64_t *html_at);

/* PART's content becomes E applied to it; ENCODING its transfer encoding. */
void bd_bodyedit_apply(GMimePart *part, const struct bd_bodyedit *e, GMimeContentEncoding encoding);

#endif
