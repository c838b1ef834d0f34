/*
 * tnef.c - the files inside a winmail.dat, read by libytnef in a child process.
 *
 * libytnef prints to stdout when it meets damage (the CLI's stdout is the
 * rewritten message) and has a history of memory errors on hostile input, so
 * it runs in a forked child with stdout and stderr on /dev/null and an alarm.
 * The child sends each file over a pipe as a record; the parent trusts none
 * of it: every length is checked against the caps, and only a complete report
 * (the end record with status 0) counts. This is the only file that includes
 * ytnef.h.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "tnef.h"
#include "filename.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ytnef.h>

#define NAME_MAX_BYTES 4096 /* a raw name from the child, before sanitising */
#define TYPE_MAX_BYTES 128

/* The records on the pipe: 'F' name type size data ..., then 'E' status. */

const struct bd_tnef_limits bd_tnef_default_limits = {BD_TNEF_MAX_FILES, BD_TNEF_MAX_BYTES,
                                                      BD_TNEF_TIMEOUT};

bool bd_tnef_is_tnef(const char *content_type, const char *filename)
{
	return (content_type != NULL &&
	        (g_ascii_strcasecmp(content_type, "application/ms-tnef") == 0 ||
	         g_ascii_strcasecmp(content_type, "application/vnd.ms-tnef") == 0)) ||
	       (filename != NULL && g_ascii_strcasecmp(filename, "winmail.dat") == 0);
}

const char *bd_tnef_status_text(enum bd_tnef_status s)
{
	switch (s) {
	case BD_TNEF_OK:
		return "winmail.dat (TNEF): goes as one file, and the files inside it one by one";
	case BD_TNEF_NOT_TNEF:
		return "winmail.dat (TNEF), goes as one file: it has no TNEF signature";
	case BD_TNEF_DAMAGED:
		return "winmail.dat (TNEF), goes as one file: its TNEF cannot be read (damaged)";
	case BD_TNEF_EMPTY: return "winmail.dat (TNEF), goes as one file: it holds no files";
	case BD_TNEF_TOO_MANY:
		return "winmail.dat (TNEF), goes as one file: more than 100 files inside the "
		       "winmail.dat files of this message";
	case BD_TNEF_TOO_LARGE:
		return "winmail.dat (TNEF), goes as one file: more than 64 MB in the winmail.dat "
		       "files of this message";
	case BD_TNEF_FAILED: return "winmail.dat (TNEF), goes as one file: the TNEF reader failed";
	}
	return "?";
}

void bd_tnef_free(struct bd_tnef **t)
{
	if (t == NULL || *t == NULL)
		return;
	for (size_t i = 0; i < (*t)->n; i++) {
		free((*t)->files[i].name);
		free((*t)->files[i].content_type);
		free((*t)->files[i].data);
	}
	free((*t)->files);
	free(*t);
	*t = NULL;
}

/* ---- the child: libytnef, records out ---- */

static int put(int fd, const void *buf, size_t len)
{
	return bd_write_all(fd, buf, len);
}

static int put_block(int fd, const void *buf, uint32_t len)
{
	return put(fd, &len, sizeof(len)) < 0 || (len > 0 && put(fd, buf, len) < 0) ? -1 : 0;
}

static variableLength *mapi_prop(Attachment *a, ULONG type, ULONG id)
{
	variableLength *v = MAPIFindProperty(&a->MAPI, PROP_TAG(type, id));

	return v != MAPI_UNDEFINED && v != NULL && v->data != NULL && v->size > 0 ? v : NULL;
}

/* A string property's bytes up to its NUL (libytnef turned UTF-16 into UTF-8, NUL-ended). */
static uint32_t text_len(const variableLength *v, bool utf16)
{
	return v != NULL ? (uint32_t)strnlen((const char *)v->data,
	                                     utf16 ? (size_t)v->size * 3 / 2 : (size_t)v->size)
	                 : 0;
}

static int send_file(int fd, Attachment *a)
{
	variableLength *name = mapi_prop(a, PT_UNICODE, PR_ATTACH_LONG_FILENAME);
	variableLength *mime = mapi_prop(a, PT_STRING8, PR_ATTACH_MIME_TAG);
	bool utf16 = name != NULL;
	uint64_t size = (uint64_t)a->FileData.size;

	if (name == NULL)
		name = mapi_prop(a, PT_STRING8, PR_ATTACH_LONG_FILENAME);
	if (name == NULL && a->Title.data != NULL && a->Title.size > 0)
		name = &a->Title;
	if (put(fd, "F", 1) < 0 ||
	    put_block(fd, name ? name->data : NULL, text_len(name, utf16)) < 0 ||
	    put_block(fd, mime ? mime->data : NULL, text_len(mime, false)) < 0 ||
	    put(fd, &size, sizeof(size)) < 0 || put(fd, a->FileData.data, (size_t)size) < 0)
		return -1;
	return 0;
}

__attribute__((noreturn)) static void child(const uint8_t *data, size_t len, int fd,
                                            unsigned timeout)
{
	TNEFStruct t;
	int null = open("/dev/null", O_RDWR);
	int32_t status = 0;

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	signal(SIGPIPE, SIG_DFL);
	alarm(timeout);
	TNEFInitialize(&t);
	t.Debug = 0;
	/* libytnef does not write through the pointer; its API only lacks const */
	status = TNEFParseMemory((BYTE *)data, (long)len, &t);
	if (status == 0)
		for (Attachment *a = t.starting_attach.next; a != NULL; a = a->next)
			if (a->FileData.data != NULL && a->FileData.size > 0 &&
			    send_file(fd, a) < 0)
				_exit(1);
	if (put(fd, "E", 1) < 0 || put(fd, &status, sizeof(status)) < 0)
		_exit(1);
	_exit(0);
}

/* ---- the parent: records in, checked ---- */

static int get(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A length-prefixed block of at most MAX bytes, NUL-terminated (NULL when empty). */
static int get_block(int fd, uint32_t max, char **out)
{
	uint32_t len;

	*out = NULL;
	if (get(fd, &len, sizeof(len)) < 0 || len > max)
		return -1;
	if (len == 0)
		return 0;
	*out = bd_malloc(len + 1);
	(*out)[len] = '\0';
	return get(fd, *out, len);
}

/* A name as UTF-8, sanitised: UTF-8 as it is, anything else read as Windows-1252
 * (Outlook's 8-bit names). */
static char *utf8_name(const char *raw)
{
	char *s = NULL, *clean;

	if (raw == NULL)
		return NULL;
	if (!g_utf8_validate(raw, -1, NULL))
		s = g_convert(raw, -1, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
	clean = bd_filename_sanitise(s != NULL ? s : raw);
	g_free(s);
	return clean;
}

/* A sender's type if it is a plain type/subtype, else one from the name. */
static char *content_type(const char *mime, const char *name)
{
	if (mime != NULL && strlen(mime) < TYPE_MAX_BYTES) {
		const char *slash = strchr(mime, '/');
		size_t ok = strspn(mime, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                         "0123456789!#$&^_.+-/");

		if (slash != NULL && slash != mime && slash[1] != '\0' && ok == strlen(mime) &&
		    strchr(slash + 1, '/') == NULL)
			return g_ascii_strdown(mime, -1);
	}
	return bd_strdup(bd_filename_content_type(name));
}

static enum bd_tnef_status read_file(int fd, const struct bd_tnef_limits *lim, uint64_t *total,
                                     struct bd_tnef *t)
{
	struct bd_tnef_file *f;
	char *name = NULL, *mime = NULL;
	uint64_t size;
	enum bd_tnef_status s = BD_TNEF_OK;

	if (t->n >= lim->max_files)
		return BD_TNEF_TOO_MANY;
	if (get_block(fd, NAME_MAX_BYTES, &name) < 0 || get_block(fd, TYPE_MAX_BYTES, &mime) < 0 ||
	    get(fd, &size, sizeof(size)) < 0)
		s = BD_TNEF_FAILED;
	else if (size > lim->max_bytes - *total)
		s = BD_TNEF_TOO_LARGE;
	if (s != BD_TNEF_OK) {
		free(name);
		free(mime);
		return s;
	}
	t->files = bd_realloc(t->files, (t->n + 1) * sizeof(*t->files));
	f = &t->files[t->n++];
	f->name = utf8_name(name);
	f->content_type = content_type(mime, f->name);
	f->size = (size_t)size;
	f->data = bd_malloc(size > 0 ? (size_t)size : 1);
	*total += size;
	free(name);
	free(mime);
	return get(fd, f->data, (size_t)size) < 0 ? BD_TNEF_FAILED : BD_TNEF_OK;
}

static enum bd_tnef_status read_report(int fd, const struct bd_tnef_limits *lim, struct bd_tnef *t)
{
	uint64_t total = 0;

	for (;;) {
		uint8_t tag;
		int32_t status;
		enum bd_tnef_status s;

		if (get(fd, &tag, 1) < 0)
			return BD_TNEF_FAILED;
		if (tag == 'E') {
			if (get(fd, &status, sizeof(status)) < 0)
				return BD_TNEF_FAILED;
			if (status != 0)
				return BD_TNEF_DAMAGED;
			return t->n > 0 ? BD_TNEF_OK : BD_TNEF_EMPTY;
		}
		if (tag != 'F')
			return BD_TNEF_FAILED;
		s = read_file(fd, lim, &total, t);
		if (s != BD_TNEF_OK)
			return s;
	}
}

enum bd_tnef_status bd_tnef_extract(const uint8_t *data, size_t len,
                                    const struct bd_tnef_limits *limits, struct bd_tnef **out)
{
	const struct bd_tnef_limits *lim = limits != NULL ? limits : &bd_tnef_default_limits;
	static const uint8_t signature[4] = {0x78, 0x9f, 0x3e, 0x22}; /* 0x223E9F78 */
	struct bd_tnef *t;
	enum bd_tnef_status s;
	int fds[2], wstatus;
	pid_t pid;

	*out = NULL;
	if (len < sizeof(signature) || memcmp(data, signature, sizeof(signature)) != 0)
		return BD_TNEF_NOT_TNEF;
	if (len > lim->max_bytes)
		return BD_TNEF_TOO_LARGE;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return BD_TNEF_FAILED;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child(data, len, fds[1], lim->timeout);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return BD_TNEF_FAILED;
	}
	t = bd_calloc(1, sizeof(*t));
	s = read_report(fds[0], lim, t);
	close(fds[0]);
	if (s != BD_TNEF_OK)
		kill(pid, SIGKILL); /* it may still be writing what we no longer read */
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (s != BD_TNEF_OK) {
		bd_tnef_free(&t);
		return s;
	}
	*out = t;
	return BD_TNEF_OK;
}

enum bd_tnef_status bd_tnef_extract_part(const struct bd_attachment_content *c, uint64_t size,
                                         const struct bd_tnef_limits *limits, struct bd_tnef **out)
{
	const struct bd_tnef_limits *lim = limits != NULL ? limits : &bd_tnef_default_limits;
	struct bd_fixed_sink f;
	enum bd_tnef_status s;

	*out = NULL;
	if (size > lim->max_bytes)
		return BD_TNEF_TOO_LARGE;
	bd_fixed_sink_init(&f, bd_malloc(size > 0 ? (size_t)size : 1), (size_t)size);
	if (bd_attachment_copy(c, &f.sink, NULL) < 0 || f.len != f.cap)
		s = BD_TNEF_FAILED;
	else
		s = bd_tnef_extract(f.data, f.len, lim, out);
	free(f.data);
	return s;
}
