/*
 * io.c - the memory source, the buffer sink and the write loop of io.h.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "io.h"
#include "mem.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static ssize_t mem_read(void *ctx, uint8_t *buf, size_t len)
{
	struct bd_mem_source *s = ctx;
	size_t n = s->len - s->pos < len ? s->len - s->pos : len;

	if (n > 0)
		memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

void bd_mem_source_init(struct bd_mem_source *s, const uint8_t *data, size_t len)
{
	s->source.read = mem_read;
	s->source.ctx = s;
	s->data = data;
	s->len = len;
	s->pos = 0;
}

static int buf_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct bd_buf_sink *s = ctx;

	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;

		while (cap < s->len + len)
			cap *= 2;
		s->data = bd_realloc(s->data, cap);
		s->cap = cap;
	}
	if (len > 0)
		memcpy(s->data + s->len, buf, len);
	s->len += len;
	return 0;
}

void bd_buf_sink_init(struct bd_buf_sink *s)
{
	s->sink.write = buf_write;
	s->sink.ctx = s;
	s->data = NULL;
	s->len = s->cap = 0;
}

static int fixed_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct bd_fixed_sink *s = ctx;
	size_t n = len < s->cap - s->len ? len : s->cap - s->len;

	memcpy(s->data + s->len, buf, n);
	s->len += n;
	return n == len ? 0 : -1;
}

void bd_fixed_sink_init(struct bd_fixed_sink *s, uint8_t *data, size_t cap)
{
	s->sink.write = fixed_write;
	s->sink.ctx = s;
	s->data = data;
	s->len = 0;
	s->cap = cap;
}

/* Write all of BUF at offset OFF, or at the descriptor's position when OFF is -1. */
static int write_all_at(int fd, const void *buf, size_t len, int64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int bd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	return write_all_at(fd, buf, len, (int64_t)off);
}

int bd_write_all(int fd, const void *buf, size_t len)
{
	return write_all_at(fd, buf, len, -1);
}
