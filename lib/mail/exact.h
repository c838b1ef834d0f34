/*
 * exact.h - where an attached message's bytes are in the spool.
 *
 * gmime parses a message/rfc822 part into a message and writes it back its
 * own way (boundary lines lose trailing white space, line breaks move), which
 * breaks a signature inside. The file a recipient downloads is the part's
 * content exactly as it arrived instead: found here as a range of the spool,
 * starting after the part's header block and ending where the next boundary
 * line of an enclosing multipart begins (the line break before a boundary
 * line belongs to the boundary, RFC 2046 5.1.1), the same lines gmime's
 * parser ended the part at.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_EXACT_H
#define BD_EXACT_H

#include <gmime/gmime.h>

/*
 * The content of OBJ, a GMimeMessagePart that the parser read from SPOOL, as
 * a new substream of SPOOL. BOUNDARIES are those of the multiparts around
 * OBJ, innermost first, NULL-terminated (just NULL for the top-level part).
 * NULL when the range cannot be told for certain (no header of the part or
 * of the message inside to start from, headers that run into a boundary, a
 * boundary too long to match): the caller then serialises the parsed message.
 */
GMimeStream *bd_exact_message_bytes(GMimeStream *spool, GMimeObject *obj,
                                    const char *const *boundaries);

#endif
