/*
 * mimestream.h - two gmime streams of our own: a spool file that several
 * threads may read, and an output stream that feeds a struct bd_sink; and a
 * base64 decoding filter (bd_base64_decode_step, base64.h) in place of gmime's.
 *
 * gmime's own file stream seeks the shared descriptor before every read, so
 * two threads reading two parts of one spooled message would read each
 * other's bytes. This stream reads with pread(2) at its own position: the
 * parser's substreams of it (one per MIME part) can then be read from
 * different threads at once, as long as each stream object stays in one
 * thread at a time. Read-only; the content is the file as it was at creation.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_MIMESTREAM_H
#define BD_MIMESTREAM_H

#include <gmime/gmime.h>

#include "io.h"

/* A stream over all of FD (which it takes over and closes); NULL if FD is not a
 * regular, readable file. */
GMimeStream *bd_mimestream_pread_new(int fd);

/* A write-only stream that passes every write to SINK (borrowed). Writes fail
 * once the sink has refused one. */
GMimeStream *bd_mimestream_sink_new(struct bd_sink *sink);

/* A filter that decodes base64 as gmime's basic filter does, several times faster. */
GMimeFilter *bd_mimestream_base64_decoder_new(void);

#endif
