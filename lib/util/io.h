/*
 * io.h - pull sources and push sinks: how bytes move between modules.
 *
 * A source yields bytes on request (the encryptor pulls plaintext, the
 * storage driver pulls ciphertext to upload); a sink takes bytes as they
 * come (a download writes to the HTTP response). Neither owns the other.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_IO_H
#define BD_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bd_source {
	/* Up to LEN bytes into BUF: returns the count, 0 at the end, -1 on error. */
	ssize_t (*read)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
};

struct bd_sink {
	/* All LEN bytes of BUF: returns 0, or -1 to stop the transfer. */
	int (*write)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
};

/*
 * A sink that can also lend its own memory, so that a writer which must check bytes
 * before they may count (the decryptor) produces them in place instead of copying
 * them in. reserve() waits until LEN bytes of room are free and gives them as up to
 * two pieces (a ring wraps): 0, -1 to stop the transfer, or 1 when it cannot lend
 * that much (then write as usual). Nothing written there counts until commit(N)
 * makes the first N bytes of the room count, as a write of them would; a new
 * reserve() forgets room not committed. Plain writes to SINK go only where no
 * room is held.
 */
struct bd_span {
	uint8_t *data;
	size_t len;
};
struct bd_lending_sink {
	struct bd_sink sink;
	int (*reserve)(void *ctx, size_t len, struct bd_span room[2]);
	int (*commit)(void *ctx, size_t len);
};

/* Write all LEN bytes to FD, retrying short writes and EINTR; 0, or -1 with errno. */
int bd_write_all(int fd, const void *buf, size_t len);
/* The same at offset OFF, leaving the descriptor's position alone. */
int bd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/* A source over a memory buffer (not copied; must outlive the source). */
struct bd_mem_source {
	struct bd_source source;
	const uint8_t *data;
	size_t len, pos;
};
void bd_mem_source_init(struct bd_mem_source *s, const uint8_t *data, size_t len);

/* A sink that appends to a growing malloc'ed buffer (data/len; free(data) after). */
struct bd_buf_sink {
	struct bd_sink sink;
	uint8_t *data;
	size_t len, cap;
};
void bd_buf_sink_init(struct bd_buf_sink *s);

/*
 * A sink into a buffer of CAP bytes the caller owns: it takes what fits, and a
 * write that does not fit whole fails after copying what fits, so a reader that
 * wants only the first bytes stops there and one that measured first learns that
 * more came than it measured.
 */
struct bd_fixed_sink {
	struct bd_sink sink;
	uint8_t *data;
	size_t len, cap;
};
void bd_fixed_sink_init(struct bd_fixed_sink *s, uint8_t *data, size_t cap);

#endif
