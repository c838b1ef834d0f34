/*
 * cmd_fetch.c - `bestanden fetch` and `bestanden inspect`: open a link (or the
 * link in a delivered message) as the gateway would, list its files, or
 * download and decrypt them to a directory.
 *
 * For administrators answering an access request, and for tests that check
 * a link from a delivered message gives back byte-identical files. Needs the
 * gateway's secret keys, so it normally runs as root on the gateway host.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "admin_client.h"
#include "cli.h"
#include "download.h"
#include "io.h"
#include "keys.h"
#include "linkfind.h"
#include "store.h"

/*
 * The token in ARG: a link (the part after /d/), a bare token, or a file with a
 * delivered message, whose text parts are searched for a link to this gateway.
 */
int bd_cli_token_from_arg(const struct bd_conf *conf, const char *arg,
                          char out[BD_TOKEN_MAX_CHARS + 1])
{
	const char *d = strstr(arg, "/d/");
	const char *t = d ? d + 3 : arg;
	struct bd_error err;
	struct stat st;
	size_t n;

	if (d == NULL && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		int fd = open(arg, O_RDONLY | O_CLOEXEC), r;

		if (fd < 0) {
			fprintf(stderr, "bestanden: cannot open %s: %s\n", arg, strerror(errno));
			return -1;
		}
		g_mime_init();
		r = bd_link_find(fd, conf->gateway.public_url, out, &err);
		close(fd);
		if (r < 0) {
			fprintf(stderr, "bestanden: %s: %s\n", arg, err.msg);
			return -1;
		}
		return 0;
	}
	n = strcspn(t, "/?#> \r\n");
	if (n > BD_TOKEN_MAX_CHARS) {
		fprintf(stderr, "bestanden: '%.80s' is not a link of bestanden (too long)\n", arg);
		return -1;
	}
	memcpy(out, t, n);
	out[n] = '\0';
	return 0;
}

static const char *when(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

struct fd_sink {
	int fd;
};

static int fd_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct fd_sink *s = ctx;

	return bd_write_all(s->fd, buf, len);
}

/* A safe local file name: no directories, no leading dot, no control characters. */
static void local_name(const char *name, unsigned index, char *out, size_t size)
{
	size_t j = 0;

	for (const char *p = name; *p && j + 1 < size; p++) {
		unsigned char ch = (unsigned char)*p;

		out[j++] = (ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f) ? '_' : (char)ch;
	}
	out[j] = '\0';
	if (j == 0 || out[0] == '.')
		snprintf(out, size, "file-%u", index);
}

/* What an opened link needs: its configuration, keys, store and package. */
struct opened_link {
	struct bd_conf *conf;
	struct bd_keyring *kr;
	struct bd_store *store;
	struct bd_download *dl;
};

/* Open ARG's package into L (its configuration loaded unless L has one); returns an exit status.
 * close_link() releases L either way. */
static int open_link(const char *arg, struct opened_link *l)
{
	char token[BD_TOKEN_MAX_CHARS + 1];
	struct bd_error err;

	if (l->conf == NULL && (l->conf = bd_cli_load_conf()) == NULL)
		return 1;
	l->kr = bd_keyring_load(l->conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET, &err);
	if (l->kr == NULL)
		return bd_cli_fail(&err);
	l->store = bd_store_open(&l->conf->storage, &err);
	if (l->store == NULL)
		return bd_cli_fail(&err);
	if (bd_cli_token_from_arg(l->conf, arg, token) < 0)
		return 1;
	if (bd_download_open(token, l->kr, l->store, (int64_t)time(NULL), &l->dl, &err) < 0) {
		if (err.code == BD_E_EXPIRED)
			fprintf(stderr, "bestanden: this link has expired\n");
		else if (err.code == BD_E_STORAGE || err.code == BD_E_TEMP)
			fprintf(stderr, "bestanden: storage problem: %s\n", err.msg);
		else
			fprintf(stderr, "bestanden: link not valid: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static void close_link(struct opened_link *l)
{
	bd_download_close(&l->dl);
	bd_store_close(&l->store);
	bd_keyring_free(&l->kr);
	bd_conf_free(&l->conf);
}

/* What the manifest asks of the recipients (format version 2), and who they are. */
static void print_protection(const struct bd_manifest *m)
{
	const struct bd_protection *p = &m->protection;
	char verify[16], receipts[16];

	printf("format   version %u\nverify   %s\nreceipts %s\n", m->version,
	       bd_conf_enum_name(bd_conf_find("recipients", "verify"), (int)p->verify, verify,
	                         sizeof(verify)),
	       bd_conf_enum_name(bd_conf_find("recipients", "receipts"), (int)p->receipts, receipts,
	                         sizeof(receipts)));
	if (p->max_downloads > 0)
		printf("limit    %u downloads per file\n", p->max_downloads);
	else
		printf("limit    none\n");
	printf("code     %s\n",
	       p->access_code_hash != NULL ? "yes (only its hash is stored)" : "no");
	for (size_t i = 0; i < m->nrecipients; i++)
		printf("to       %s\n", m->recipients[i]);
}

int bd_cmd_inspect(int argc, char **argv)
{
	struct opened_link l = {0};
	const struct bd_manifest *m;
	char t1[32], t2[32];
	int r;

	if (argc != 2)
		return bd_cli_usage("inspect LINK");
	if ((l.conf = bd_cli_load_conf()) == NULL)
		return 1;
	if (bd_cli_admin_wanted(l.conf)) {
		char token[BD_TOKEN_MAX_CHARS + 1];

		r = bd_cli_token_from_arg(l.conf, argv[1], token) < 0
		            ? 1
		            : bd_cli_admin_inspect(l.conf, token);
		sodium_memzero(token, sizeof(token));
		close_link(&l);
		return r;
	}
	r = open_link(argv[1], &l);
	if (r == 0) {
		m = bd_download_manifest(l.dl);
		printf("package  %s\ncreated  %s\nexpires  %s\nsender   %s\nmessage  %s\nkeys     "
		       "link %u, gateway %u\n",
		       bd_download_package_id(l.dl), when(m->created, t1, sizeof(t1)),
		       when(m->expires, t2, sizeof(t2)), m->sender ? m->sender : "-",
		       m->message_id ? m->message_id : "-", m->link_key_id, m->gateway_key_id);
		for (size_t i = 0; i < m->nfiles; i++)
			printf("file %-3u %12" PRIu64 "  %-30s %s\n", m->files[i].index,
			       m->files[i].size, m->files[i].content_type, m->files[i].name);
		print_protection(m);
	}
	close_link(&l);
	return r;
}

int bd_cmd_fetch(int argc, char **argv)
{
	struct opened_link l = {0};
	const struct bd_manifest *m;
	const char *dir = ".";
	int c, r, force = 0;

	while ((c = getopt(argc, argv, "o:f")) != -1) {
		if (c == 'o')
			dir = optarg;
		else if (c == 'f')
			force = 1;
		else
			return bd_cli_usage("fetch [-o DIR] [-f] LINK");
	}
	if (optind + 1 != argc)
		return bd_cli_usage("fetch [-o DIR] [-f] LINK");
	r = open_link(argv[optind], &l);
	if (r != 0)
		goto out;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "bestanden: cannot create %s: %s\n", dir, strerror(errno));
		r = 1;
		goto out;
	}
	m = bd_download_manifest(l.dl);
	for (size_t i = 0; i < m->nfiles && r == 0; i++) {
		char name[512], path[4096];
		struct fd_sink fs;
		struct bd_sink sink = {fd_write, &fs};
		struct bd_error err;

		local_name(m->files[i].name, m->files[i].index, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		fs.fd = open(path,
		             O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		                     (force ? O_TRUNC : O_EXCL),
		             0600);
		if (fs.fd < 0) {
			fprintf(stderr, "bestanden: cannot create %s: %s%s\n", path,
			        strerror(errno), errno == EEXIST ? " (use -f to overwrite)" : "");
			r = 1;
			break;
		}
		if (bd_download_file(l.dl, m->files[i].index, 0, BD_STORE_TO_END, &sink, &err) <
		    0) {
			close(fs.fd);
			unlink(path);
			r = bd_cli_fail(&err);
			break;
		}
		if (close(fs.fd) < 0) {
			fprintf(stderr, "bestanden: cannot write %s: %s\n", path, strerror(errno));
			r = 1;
			break;
		}
		printf("%s\t%" PRIu64 "\n", path, m->files[i].size);
	}
out:
	close_link(&l);
	return r;
}
