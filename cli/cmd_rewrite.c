/*
 * cmd_rewrite.c - `bestanden rewrite`: the milter's pipeline on one message file.
 *
 * Writes the message as the milter would pass it on (the original bytes when
 * nothing changes) to standard output and a one-line summary to standard
 * error. --explain stores nothing and changes nothing: it prints one line per
 * MIME part with its decision and the reason to standard output.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "keys.h"
#include "format.h"
#include "notice.h"
#include "rewrite.h"
#include "store.h"

static const char usage[] =
        "rewrite [-c CONF] [--explain] [--sender ADDR] [--recipient ADDR]... [--incoming] "
        "IN.eml|-";

/* A seekable descriptor of the input: the file itself, or standard input copied to a memfd. */
static int open_input(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fprintf(stderr, "bestanden: %s: %s\n", path, strerror(errno));
		return fd;
	}
	fd = memfd_create("bestanden-rewrite", MFD_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bestanden: memfd_create: %s\n", strerror(errno));
		return -1;
	}
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(fd, buf, (size_t)n) != n) {
			fprintf(stderr, "bestanden: reading standard input: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int stdout_write(void *ctx, const uint8_t *buf, size_t len)
{
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

static int copy_original(int fd)
{
	char buf[65536];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
		off += n;
	}
	return n < 0 ? -1 : 0;
}

static void explain(const struct bd_rewrite_result *r)
{
	printf("message: %s\n", r->reason);
	if (r->rule_action != NULL)
		printf("rule: %s (action %s)\n", r->rule, r->rule_action);
	if (r->refused || r->tempfail)
		printf("answer: %s %s %s\n", r->refused ? "550" : "451", r->refusal_status,
		       r->refusal_text);
	for (size_t i = 0; i < r->nparts; i++) {
		const struct bd_rewrite_part *p = &r->parts[i];
		char size[32] = "-";

		if (p->action == BD_REWRITE_SEND || p->size > 0)
			bd_format_size("en", p->size, size, sizeof(size));
		printf("%-10s %-9s %-28s %9s  %s%s%s%s\n", p->path,
		       bd_rewrite_action_name(p->action), p->content_type, size,
		       p->filename ? "\"" : "", p->filename ? p->filename : "",
		       p->filename ? "\"  " : "", p->reason);
		if (p->rule != NULL)
			printf("%-10s rule %s: %s\n", "", p->rule, p->rule_why);
	}
	/* only when the package asks anything of its recipients */
	if (r->nfiles > 0 && !r->refused && !r->tempfail &&
	    (r->protection.verify != BD_CONF_VERIFY_OFF ||
	     r->protection.receipts != BD_CONF_RECEIPTS_OFF || r->protection.max_downloads > 0)) {
		char verify[16], receipts[16];

		printf("protection: verify=%s receipts=%s max_downloads=%llu recipients=%u\n",
		       bd_conf_enum_name(bd_conf_find("recipients", "verify"), r->protection.verify,
		                         verify, sizeof(verify)),
		       bd_conf_enum_name(bd_conf_find("recipients", "receipts"),
		                         r->protection.receipts, receipts, sizeof(receipts)),
		       (unsigned long long)r->protection.max_downloads, r->protection.recipients);
	}
}

int bd_cmd_rewrite(int argc, char **argv)
{
	static const struct option opts[] = {{"explain", no_argument, NULL, 'x'},
	                                     {"sender", required_argument, NULL, 's'},
	                                     {"recipient", required_argument, NULL, 'r'},
	                                     {"incoming", no_argument, NULL, 'i'},
	                                     {NULL, 0, NULL, 0}};
	struct bd_rewrite_envelope env = {.outgoing = true};
	const char **recipients = NULL;
	struct bd_conf *conf = NULL;
	struct bd_keyring *keys = NULL;
	struct bd_store *store = NULL;
	struct bd_rewrite *rw = NULL;
	struct bd_rewrite_result *res = NULL;
	struct bd_error err;
	int c, fd = -1, status = 1, do_explain = 0;

	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': bd_cli_conf_path = optarg; break;
		case 'x': do_explain = 1; break;
		case 's': env.sender = optarg; break;
		case 'r':
			recipients =
			        realloc(recipients, (env.nrecipients + 1) * sizeof(*recipients));
			if (recipients == NULL)
				abort();
			recipients[env.nrecipients++] = optarg;
			break;
		case 'i': env.outgoing = false; break;
		default: free(recipients); return bd_cli_usage("%s", usage);
		}
	}
	env.recipients = recipients;
	if (optind + 1 != argc) {
		free(recipients);
		return bd_cli_usage("%s", usage);
	}
	g_mime_init();
	conf = do_explain ? bd_cli_load_conf_or_defaults() : bd_cli_load_conf();
	if (conf == NULL)
		goto out;
	if (!do_explain) {
		/* the milter's keys: link keys to sign, gateway public keys to seal */
		keys = bd_keyring_load(conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
		if (keys == NULL || (store = bd_store_open(&conf->storage, &err)) == NULL) {
			bd_cli_fail(&err);
			goto out;
		}
	}
	rw = bd_rewrite_new(conf, keys, store, &err);
	if (rw == NULL) {
		bd_cli_fail(&err);
		goto out;
	}
	fd = open_input(argv[optind]);
	if (fd < 0)
		goto out;
	if (do_explain) {
		if (bd_rewrite_explain(rw, fd, &env, &res, &err) < 0) {
			bd_cli_fail(&err);
			goto out;
		}
		explain(res);
		status = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	if (bd_rewrite_message(rw, fd, &env, &res, &err) < 0) {
		fprintf(stderr, "bestanden: %s (the milter would tempfail this message)\n",
		        err.msg);
		goto out;
	}
	if (res->refused || res->tempfail) {
		fprintf(stderr, "bestanden: %s (the milter would %s this message: %s %s %s)\n",
		        res->reason, res->refused ? "reject" : "tempfail",
		        res->refused ? "550" : "451", res->refusal_status, res->refusal_text);
		goto out;
	}
	if (res->changed) {
		struct bd_sink sink = {stdout_write, NULL};

		if (bd_rewrite_write_message(res, &sink, &err) < 0) {
			bd_cli_fail(&err);
			goto out;
		}
	} else if (copy_original(fd) < 0) {
		fprintf(stderr, "bestanden: copying the message: %s\n", strerror(errno));
		goto out;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "bestanden: writing standard output: %s\n", strerror(errno));
		goto out;
	}
	fprintf(stderr, "bestanden: %s\n", res->reason);
	status = 0;
out:
	bd_rewrite_result_free(&res);
	bd_rewrite_free(&rw);
	if (fd >= 0)
		close(fd);
	bd_store_close(&store);
	bd_keyring_free(&keys);
	bd_conf_free(&conf);
	free(recipients);
	return status;
}
