/*
 * codetag.h - the sender's access code in the Subject: "[code:4711-x]".
 *
 * A sender protects a message's package with a code of their own by putting
 * "[TAG:code]" into the Subject ([recipients] code_tag, matched without regard
 * to case); the milter removes it, so the recipients never see it, and the
 * rewrite stores only its hash (accesscode.h). The code is what stands between
 * the ':' and the first ']'; a tag with nothing there is no tag and stays.
 * Every tag with a code goes; the first one's code counts. The rest of the
 * Subject stays byte for byte as it came, when the tag is written as plain
 * text; a tag inside RFC 2047 encoded words is found in the decoded text, and
 * then the new Subject is encoded anew as UTF-8.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_CODETAG_H
#define BD_CODETAG_H

#include "accesscode.h"
#include "error.h"

/*
 * Look for TAG's tags in SUBJECT, a Subject header value as the MTA gives it.
 * 0: none. 1: *NEW_SUBJECT (malloc'ed) is SUBJECT without them and the white
 * space each leaves, CODE the first one's code, normalised. -1: that code
 * cannot be used (longer than BD_ACCESS_CODE_MAX, a control character); ERR
 * says so without repeating it. CODE is wiped unless 1 is returned.
 */
int bd_codetag_take(const char *tag, const char *subject, char **new_subject,
                    char code[BD_ACCESS_CODE_MAX + 1], struct bd_error *err);

#endif
