/*
 * spool.h - holding one message while the MTA hands it over.
 *
 * The milter receives a message in pieces (headers, then body chunks) and
 * needs it whole and seekable at end of message. Small messages stay in
 * memory (an anonymous memfd); past [milter] spool_memory the content moves
 * to an unlinked 0600 file in [milter] spool_dir, so memory use does not
 * grow with attachment size and nothing is left on disk after a crash.
 * Past the hard maximum size writes fail with BD_E_LIMIT.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_SPOOL_H
#define BD_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct bd_spool;

struct bd_spool *bd_spool_new(const char *dir, uint64_t memory_limit, uint64_t max_size,
                              struct bd_error *err);
int bd_spool_write(struct bd_spool *sp, const void *data, size_t len, struct bd_error *err);
uint64_t bd_spool_size(const struct bd_spool *sp);
/* 1 when the content has moved to a file in the spool directory. */
int bd_spool_on_disk(const struct bd_spool *sp);
/* The content as a readable, seekable descriptor positioned at 0; owned by the spool. */
int bd_spool_fd(struct bd_spool *sp, struct bd_error *err);
void bd_spool_free(struct bd_spool **sp);

#endif
