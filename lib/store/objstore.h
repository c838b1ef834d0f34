/*
 * objstore.h - the embedded object store: objects as files under one directory.
 *
 * Object "ab12/0" is the file DIR/ab12/0. A write goes to DIR/.tmp/, is
 * fsync'ed and renamed into place, and the directory is fsync'ed, so a crash
 * never leaves a half-written object visible; leftovers in .tmp are removed
 * at open. bestanden-gateway serves this over HTTP (gateway/objects.c) and
 * sweeps it; bd_objstore_store() wraps it as a struct bd_store.
 * All functions are safe to call from several threads at once.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_OBJSTORE_H
#define BD_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

struct bd_objstore;
struct bd_objstore_writer;

/* Create DIR if needed (mode 0700) and clear old temporary files. */
struct bd_objstore *bd_objstore_open(const char *dir, struct bd_error *err);
void bd_objstore_close(struct bd_objstore **os);

/* Streaming write of NAME: new, write*, then commit (object appears) or abort. */
struct bd_objstore_writer *bd_objstore_writer_new(struct bd_objstore *os, const char *name,
                                                  struct bd_error *err);
int bd_objstore_write(struct bd_objstore_writer *w, const void *buf, size_t len,
                      struct bd_error *err);
/* Both free W. A name that clashes with an existing prefix (or vice versa) is BD_E_INVALID. */
int bd_objstore_commit(struct bd_objstore_writer **w, struct bd_error *err);
void bd_objstore_abort(struct bd_objstore_writer **w);

/* Open NAME for reading: returns a file descriptor (caller closes) and its size. */
int bd_objstore_open_object(struct bd_objstore *os, const char *name, uint64_t *size,
                            struct bd_error *err);
/* Remove NAME and the directories it leaves empty; absent is not an error. */
int bd_objstore_delete(struct bd_objstore *os, const char *name, struct bd_error *err);
/*
 * Objects whose names start with PREFIX and sort after AFTER ("" for from the
 * start), in byte order, at most LIMIT of them; CB returns non-zero to stop.
 * Returns the number of objects passed to CB, or -1.
 */
int bd_objstore_list(struct bd_objstore *os, const char *prefix, const char *after, size_t limit,
                     int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                     struct bd_error *err);

/* OS as a struct bd_store ("local" in messages); OS must outlive it. */
struct bd_store *bd_objstore_store(struct bd_objstore *os);

#endif
