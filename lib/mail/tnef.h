/*
 * tnef.h - the files inside a winmail.dat (TNEF, from Outlook and Exchange).
 *
 * Most mail readers cannot open a winmail.dat, so its files are offered one
 * by one beside it. The TNEF bytes come from an untrusted sender and are read
 * by libytnef in a child process: a crash, a hang or anything the library
 * prints stays there, and a result only counts when the child reports it
 * whole. The decoded winmail.dat is held in memory once while it is read
 * (at most BD_TNEF_MAX_BYTES; [milter] max_message_size may allow more, and a
 * larger one is simply not opened), the files inside it until they are
 * stored (together no larger than the winmail.dat). The rewrite engine
 * applies the caps to all winmail.dats of one message together.
 * Anything unusual (not TNEF, damaged, over a cap) is a status, never a
 * partial list: the caller then sends the winmail.dat alone.
 * Returned lists are malloc'ed; bd_tnef_free() releases them.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_TNEF_H
#define BD_TNEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attachment.h"

#define BD_TNEF_MAX_FILES 100         /* files inside one winmail.dat */
#define BD_TNEF_MAX_BYTES (64u << 20) /* a winmail.dat's decoded size */
#define BD_TNEF_TIMEOUT   20          /* seconds the reader may take */

struct bd_tnef_limits {
	size_t max_files;
	uint64_t max_bytes;
	unsigned timeout; /* seconds */
};

/* BD_TNEF_MAX_FILES, BD_TNEF_MAX_BYTES, BD_TNEF_TIMEOUT. */
extern const struct bd_tnef_limits bd_tnef_default_limits;

enum bd_tnef_status {
	BD_TNEF_OK,
	BD_TNEF_NOT_TNEF,  /* no TNEF signature */
	BD_TNEF_DAMAGED,   /* libytnef could not read it */
	BD_TNEF_EMPTY,     /* readable, but no file inside */
	BD_TNEF_TOO_MANY,  /* more files than max_files */
	BD_TNEF_TOO_LARGE, /* larger than max_bytes */
	BD_TNEF_FAILED     /* the reader crashed, hung or could not start */
};

struct bd_tnef_file {
	char *name;         /* bd_filename_sanitise()d, or NULL: the sender gave none */
	char *content_type; /* lower case type/subtype, guessed when the sender gave none */
	uint8_t *data;
	size_t size;
};

struct bd_tnef {
	struct bd_tnef_file *files;
	size_t n;
};

/* Whether a part is a winmail.dat: its content type or its file name says so. */
bool bd_tnef_is_tnef(const char *content_type, const char *filename);

/* The files in the LEN bytes at DATA (LIMITS NULL: the defaults). BD_TNEF_OK
 * with *OUT set, or another status with *OUT NULL. */
enum bd_tnef_status bd_tnef_extract(const uint8_t *data, size_t len,
                                    const struct bd_tnef_limits *limits, struct bd_tnef **out);

/* The same for a part's decoded content of SIZE bytes (from
 * bd_attachment_measure), read into memory first. */
enum bd_tnef_status bd_tnef_extract_part(const struct bd_attachment_content *c, uint64_t size,
                                         const struct bd_tnef_limits *limits, struct bd_tnef **out);

/* Why the files of a winmail.dat are not offered one by one; static text. */
const char *bd_tnef_status_text(enum bd_tnef_status s);

void bd_tnef_free(struct bd_tnef **t);

#endif
