/*
 * pipe.h - a bounded pipe from a producer thread to an HTTP response.
 *
 * The library pushes decrypted bytes into a sink (bd_download_file);
 * libmicrohttpd pulls response bytes from a callback. A pipe joins the two:
 * the producer runs in its own thread and blocks while the ring is full,
 * so memory stays at CAPACITY whatever the file size. A pipe has two
 * owners - the request and the response - and is freed, its thread joined,
 * when both let go; letting go also tells the producer to stop (its sink
 * writes then fail).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef GW_PIPE_H
#define GW_PIPE_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "io.h"

struct gw_pipe;

/* Runs in the producer thread: push everything into OUT (whose room is the ring's
 * own: bytes decrypted there need no copy); 0 or -1 with ERR. */
typedef int (*gw_pipe_producer)(void *ctx, struct bd_lending_sink *out, struct bd_error *err);

/* Start PRODUCE(CTX) in a new thread; CTX_FREE(CTX) runs when the pipe is freed. */
struct gw_pipe *gw_pipe_start(size_t capacity, gw_pipe_producer produce, void *ctx,
                              void (*ctx_free)(void *ctx), struct bd_error *err);
/* Wait until the first bytes are ready or the producer has ended: -1 (and its error)
 * when it failed before producing anything, so the caller can still answer properly. */
int gw_pipe_wait_first(struct gw_pipe *p, struct bd_error *err);
/* A response of SIZE bytes (MHD_SIZE_UNKNOWN: chunked) that reads from P; it takes
 * its own reference. SENT (may be NULL) is told of every piece handed to
 * libmicrohttpd, from the connection's thread. NULL without memory. */
struct MHD_Response *gw_pipe_response(struct gw_pipe *p, uint64_t size, void (*sent)(uint64_t n));
/* What the response's content reader does: up to MAX bytes into BUF, waiting for them;
 * their count, or MHD_CONTENT_READER_END_OF_STREAM / _END_WITH_ERROR at the end. */
ssize_t gw_pipe_read(struct gw_pipe *p, char *buf, size_t max);
/* Body bytes handed to libmicrohttpd so far. */
uint64_t gw_pipe_sent(struct gw_pipe *p);
/* Of those, the bytes surely written to the socket of a connection that broke: all but
 * the last piece, which libmicrohttpd may still have held (it asks for the next piece
 * only once the one before has gone out). */
uint64_t gw_pipe_written(struct gw_pipe *p);
/* Tell the producer to stop: its next write fails. */
void gw_pipe_cancel(struct gw_pipe *p);
/* Wait for the producer to end: 0 when it succeeded, else -1 and its error. Only
 * after all its bytes were read, or after gw_pipe_cancel(), else this may wait forever. */
int gw_pipe_result(struct gw_pipe *p, struct bd_error *err);
/* Let go of one reference (and stop the producer). */
void gw_pipe_release(struct gw_pipe **p);

#endif
