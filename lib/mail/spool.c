/*
 * spool.c - memfd first, then an O_TMPFILE file (see spool.h).
 *
 * O_TMPFILE gives a file that never had a name: no window in which another
 * process could open it, and nothing to clean up after a crash.
 *
 * The MTA hands a message over in many small pieces (each header comes as
 * name, separator, value and line end); they gather in a buffer and reach the
 * descriptor in one pwrite when it is full, before a large piece (a body
 * chunk, written as it is) and before the content is read. A message without
 * attachments costs one write instead of an lseek and a write per piece.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "spool.h"
#include "io.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_BUFFER 32768
/* pieces from this size on (body chunks) are not copied into the buffer */
#define SPOOL_DIRECT 8192

struct bd_spool {
	char *dir;
	uint64_t memory_limit, max_size;
	uint64_t size;   /* all accepted bytes, */
	size_t buffered; /* of which the last BUFFERED are in buf, not yet in fd */
	uint8_t *buf;
	int fd;
	int on_disk;
};

struct bd_spool *bd_spool_new(const char *dir, uint64_t memory_limit, uint64_t max_size,
                              struct bd_error *err)
{
	struct bd_spool *sp;
	int fd = memfd_create("bestanden-spool", MFD_CLOEXEC);

	if (fd < 0) {
		bd_error_set(err, BD_E_IO, "cannot create an in-memory spool: %s", strerror(errno));
		return NULL;
	}
	sp = bd_calloc(1, sizeof(*sp));
	sp->dir = bd_strdup(dir);
	sp->memory_limit = memory_limit;
	sp->max_size = max_size;
	sp->fd = fd;
	return sp;
}

/* Move the memfd's content to an unlinked file in the spool directory. */
static int move_to_disk(struct bd_spool *sp, struct bd_error *err)
{
	char buf[65536];
	int fd = open(sp->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return bd_error_set(err, BD_E_TEMP, "cannot create a spool file in %s: %s", sp->dir,
		                    strerror(errno));
	/* what is in the memfd; the buffer follows it when flushed */
	if (lseek(sp->fd, 0, SEEK_SET) < 0)
		goto io_fail;
	while ((n = read(sp->fd, buf, sizeof(buf))) > 0)
		if (bd_write_all(fd, buf, (size_t)n) < 0)
			goto io_fail;
	if (n < 0)
		goto io_fail;
	close(sp->fd);
	sp->fd = fd;
	sp->on_disk = 1;
	return 0;
io_fail:
	bd_error_set(err, BD_E_TEMP, "cannot write the spool file in %s: %s", sp->dir,
	             strerror(errno));
	close(fd);
	return -1;
}

static int write_failed(const struct bd_spool *sp, struct bd_error *err)
{
	return bd_error_set(err, BD_E_TEMP, "cannot write to the spool%s%s: %s",
	                    sp->on_disk ? " in " : "", sp->on_disk ? sp->dir : "", strerror(errno));
}

/* The buffer to the descriptor, after what is there. */
static int flush(struct bd_spool *sp, struct bd_error *err)
{
	if (sp->buffered == 0)
		return 0;
	if (bd_pwrite_all(sp->fd, sp->buf, sp->buffered, sp->size - sp->buffered) < 0)
		return write_failed(sp, err);
	sp->buffered = 0;
	return 0;
}

int bd_spool_write(struct bd_spool *sp, const void *data, size_t len, struct bd_error *err)
{
	if (sp->size + len > sp->max_size)
		return bd_error_set(err, BD_E_LIMIT,
		                    "message is larger than the maximum of %llu bytes",
		                    (unsigned long long)sp->max_size);
	if (!sp->on_disk && sp->size + len > sp->memory_limit && move_to_disk(sp, err) < 0)
		return -1;
	if ((len >= SPOOL_DIRECT || sp->buffered + len > SPOOL_BUFFER) && flush(sp, err) < 0)
		return -1;
	if (len >= SPOOL_DIRECT) {
		/* a large piece (a body chunk) goes straight through */
		if (bd_pwrite_all(sp->fd, data, len, sp->size) < 0)
			return write_failed(sp, err);
	} else {
		if (sp->buf == NULL)
			sp->buf = bd_malloc(SPOOL_BUFFER);
		memcpy(sp->buf + sp->buffered, data, len);
		sp->buffered += len;
	}
	sp->size += len;
	return 0;
}

uint64_t bd_spool_size(const struct bd_spool *sp)
{
	return sp->size;
}

int bd_spool_on_disk(const struct bd_spool *sp)
{
	return sp->on_disk;
}

int bd_spool_fd(struct bd_spool *sp, struct bd_error *err)
{
	if (flush(sp, err) < 0)
		return -1;
	if (lseek(sp->fd, 0, SEEK_SET) < 0)
		return bd_error_set(err, BD_E_IO, "cannot rewind the spool: %s", strerror(errno));
	return sp->fd;
}

void bd_spool_free(struct bd_spool **spp)
{
	struct bd_spool *sp = *spp;

	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->buf);
	free(sp->dir);
	free(sp);
	*spp = NULL;
}
