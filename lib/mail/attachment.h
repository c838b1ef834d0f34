/*
 * attachment.h - the decoded content of MIME parts, and storing it encrypted.
 *
 * A part's content is what a recipient downloads: a leaf part decoded from
 * its transfer encoding, an attached message (message/rfc822) as one .eml
 * file with CRLF line ends. Both are produced as a stream, never held whole
 * in memory. bd_attachment_run() encrypts and stores the parts of one package
 * with a few threads; it is the only place that reads a message from more
 * than one thread (see mimestream.h for why that is safe).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_ATTACHMENT_H
#define BD_ATTACHMENT_H

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "io.h"
#include "package.h"
#include "envelope.h"
#include "store.h"

/* What the file of one part is made of. */
struct bd_attachment_content {
	GMimeObject *obj; /* a GMimePart, or a GMimeMessagePart (sent as .eml) */
	bool raw;         /* a leaf's bytes as they came: the transfer encoding is not undone */
	/* An attached message's exact bytes in the spool (borrowed; its bounds are
	 * the range), with OBJ's transfer encoding still on: read with it undone
	 * (unless RAW) and bare LFs made CRLF; NULL: serialise OBJ's message. */
	GMimeStream *bytes;
	/* Non-NULL: the file is these LEN bytes (borrowed), a file from inside a
	 * winmail.dat (tnef.h); OBJ is then the winmail.dat's part. */
	const uint8_t *data;
	size_t len;
};

struct bd_attachment_item {
	struct bd_attachment_content content;
	unsigned index; /* object number, 1-based */
	uint64_t size;  /* bytes of the file, from bd_attachment_measure() */
	bool stored;    /* set by bd_attachment_run() */
	bool tried;     /* its upload began: it may have landed even if it failed */
};

/* Push the content of C (decoded, unless C->raw) into SINK. */
int bd_attachment_copy(const struct bd_attachment_content *c, struct bd_sink *sink,
                       struct bd_error *err);
/* The same, reading the content PIECE bytes at a time (bd_attachment_copy: 64 KiB): the
 * upload's encryptor asks for what its chunk still lacks, down to a single byte. */
int bd_attachment_copy_pieces(const struct bd_attachment_content *c, size_t piece,
                              struct bd_sink *sink, struct bd_error *err);
/* Its size in bytes (the same bytes bd_attachment_copy and the upload produce). */
int bd_attachment_measure(const struct bd_attachment_content *c, uint64_t *size,
                          struct bd_error *err);
/* Whether a leaf's undecoded content is empty or only white space. */
bool bd_attachment_raw_blank(GMimeObject *obj);

/*
 * Encrypt and store ITEMS[0..N) under package KEYS with up to THREADS
 * threads; ENV's progress callback runs in the calling thread meanwhile.
 * On failure the first error is returned; items[i].stored tells the caller
 * what storage confirmed, items[i].tried what it may hold all the same (an
 * upload whose answer was lost or came too late). The caller must not touch the message's gmime
 * objects until this returns.
 */
int bd_attachment_run(struct bd_store *store, const struct bd_package_keys *keys,
                      struct bd_attachment_item *items, size_t n, unsigned threads,
                      const struct bd_rewrite_envelope *env, struct bd_error *err);

#endif
