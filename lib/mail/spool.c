/*
 * spool.c - memfd first, then an O_TMPFILE file (see spool.h).
 *
 * O_TMPFILE gives a file that never had a name: no window in which another
 * process could open it, and nothing to clean up after a crash.
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

struct bd_spool {
	char *dir;
	uint64_t memory_limit, max_size, size;
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

int bd_spool_write(struct bd_spool *sp, const void *data, size_t len, struct bd_error *err)
{
	if (sp->size + len > sp->max_size)
		return bd_error_set(err, BD_E_LIMIT,
		                    "message is larger than the maximum of %llu bytes",
		                    (unsigned long long)sp->max_size);
	if (!sp->on_disk && sp->size + len > sp->memory_limit && move_to_disk(sp, err) < 0)
		return -1;
	if (lseek(sp->fd, 0, SEEK_END) < 0 || bd_write_all(sp->fd, data, len) < 0)
		return bd_error_set(err, BD_E_TEMP, "cannot write to the spool%s%s: %s",
		                    sp->on_disk ? " in " : "", sp->on_disk ? sp->dir : "",
		                    strerror(errno));
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
	free(sp->dir);
	free(sp);
	*spp = NULL;
}
