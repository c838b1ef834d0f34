/*
 * attachment.h - the decoded content of MIME parts, and storing it encrypted.
 *
 * A part's content is what a recipient downloads: a leaf part decoded from
 * its transfer encoding, an attached message (message/rfc822) as one .eml
 * file with CRLF line ends. Both are produced as a stream, never held whole
 * in memory. bd_attachment_run() encrypts and stores the parts of one package
 * with a few threads; it is the only place that reads a message from more
 * than one thread (see mimestream.h for why that is safe).
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

struct bd_attachment_item {
	GMimeObject *obj; /* a GMimePart, or a GMimeMessagePart (sent as .eml) */
	unsigned index;   /* object number, 1-based */
	uint64_t size;    /* decoded bytes, from bd_attachment_measure() */
	bool stored;      /* set by bd_attachment_run() */
};

/* Push the decoded content of OBJ into SINK. */
int bd_attachment_copy(GMimeObject *obj, struct bd_sink *sink, struct bd_error *err);
/* Its size in bytes (the same bytes bd_attachment_copy and the upload produce). */
int bd_attachment_measure(GMimeObject *obj, uint64_t *size, struct bd_error *err);

/*
 * Encrypt and store ITEMS[0..N) under package KEYS with up to THREADS
 * threads; ENV's progress callback runs in the calling thread meanwhile.
 * On failure the first error is returned; items[i].stored tells the caller
 * what to delete. The caller must not touch the message's gmime objects
 * until this returns.
 */
int bd_attachment_run(struct bd_store *store, const struct bd_package_keys *keys,
                      struct bd_attachment_item *items, size_t n, unsigned threads,
                      const struct bd_rewrite_envelope *env, struct bd_error *err);

#endif
