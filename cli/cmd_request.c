/*
 * cmd_request.c - `bestanden request create`: ask someone to upload files.
 *
 * Stores an upload request (who asks, for whom, the note, the limits; the
 * defaults from [requests]) and prints its link, or with --send mails the
 * invitation to the --to address through [smtp]. The requester is told of
 * every upload by the gateway.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "notify.h"
#include "store.h"
#include "upload.h"

#define USAGE                                                                                      \
	"request create --requester ADDR [--to ADDR] [--note TEXT] [--expires DURATION]\n"         \
	"       [--max-size SIZE] [--max-file-size SIZE] [--max-files N] [--several-uses] "        \
	"[--send]"

static int address_like(const char *a)
{
	const char *at = a != NULL ? strchr(a, '@') : NULL;

	return at != NULL && at != a && at[1] != '\0' && strpbrk(a, " \t\r\n<>,\"") == NULL;
}

static int create(struct bd_conf *conf, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"requester", required_argument, NULL, 'r'},
	        {"to", required_argument, NULL, 't'},
	        {"note", required_argument, NULL, 'n'},
	        {"expires", required_argument, NULL, 'e'},
	        {"max-size", required_argument, NULL, 's'},
	        {"max-file-size", required_argument, NULL, 'f'},
	        {"max-files", required_argument, NULL, 'm'},
	        {"several-uses", no_argument, NULL, 'S'},
	        {"send", no_argument, NULL, 'M'},
	        {NULL, 0, NULL, 0},
	};
	struct bd_request *r = bd_request_new();
	uint64_t expires = conf->requests.expires, file_size = 0, v;
	char token[BD_TOKEN_MAX_CHARS + 1], *link = NULL, id[BD_PACKAGE_ID_HEX];
	struct bd_keyring *kr = NULL;
	struct bd_store *store = NULL;
	struct bd_error err;
	int c, send = 0, status = 2;

	r->max_total_size = conf->requests.max_total_size;
	r->max_files = (unsigned)conf->requests.max_files;
	r->flags = conf->requests.several_uses ? BD_REQUEST_SEVERAL_USES : 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': free(r->requester), r->requester = bd_strdup(optarg); break;
		case 't': free(r->recipient), r->recipient = bd_strdup(optarg); break;
		case 'n': free(r->note), r->note = bd_strdup(optarg); break;
		case 'e':
			if (bd_conf_parse_duration(optarg, &expires) < 0 || expires == 0)
				goto usage;
			break;
		case 's':
			if (bd_conf_parse_size(optarg, &r->max_total_size) < 0)
				goto usage;
			break;
		case 'f':
			if (bd_conf_parse_size(optarg, &file_size) < 0)
				goto usage;
			break;
		case 'm':
			if (bd_conf_parse_size(optarg, &v) < 0 || v < 1 || v > 1000)
				goto usage;
			r->max_files = (unsigned)v;
			break;
		case 'S': r->flags |= BD_REQUEST_SEVERAL_USES; break;
		case 'M': send = 1; break;
		default: goto usage;
		}
	}
	if (optind != argc || !address_like(r->requester) ||
	    (r->recipient != NULL && !address_like(r->recipient)) || (send && r->recipient == NULL))
		goto usage;
	/* one file may not be larger than all of them together */
	r->max_file_size = file_size ? file_size : conf->requests.max_file_size;
	if (r->max_file_size > r->max_total_size)
		r->max_file_size = r->max_total_size;
	r->created = (int64_t)time(NULL);
	r->expires = r->created + (int64_t)expires;
	status = 1;
	kr = bd_keyring_load(conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
	if (kr == NULL || (store = bd_store_open(&conf->storage, &err)) == NULL ||
	    bd_upload_request_create(store, kr, r, token, &err) < 0) {
		bd_cli_fail(&err);
		goto out;
	}
	link = bd_asprintf("%s/u/%s", conf->gateway.public_url, token);
	sodium_memzero(token, sizeof(token));
	bd_package_id_hex(r->id, id);
	if (send && bd_notify_invite(conf, r, link, &err) < 0) {
		bd_cli_fail(&err);
		/* an invitation nobody got: the request goes too */
		if (bd_upload_request_delete(store, r, &err) < 0)
			bd_cli_fail(&err);
		goto out;
	}
	bd_log(LOG_INFO, "event=request-created request=%s files=%u expires=%lld sent=%s", id,
	       r->max_files, (long long)r->expires, send ? "yes" : "no");
	if (send)
		printf("upload request %s sent to %s\n", id, r->recipient);
	else
		printf("%s\n", link);
	status = 0;
out:
	if (link != NULL)
		sodium_memzero(link, strlen(link));
	free(link);
	bd_store_close(&store);
	bd_keyring_free(&kr);
	bd_request_free(&r);
	return status;
usage:
	bd_request_free(&r);
	return bd_cli_usage(USAGE);
}

int bd_cmd_request(int argc, char **argv)
{
	struct bd_conf *conf;
	int r;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return bd_cli_usage(USAGE);
	conf = bd_cli_load_conf();
	if (conf == NULL)
		return 1;
	r = create(conf, argc - 1, argv + 1);
	bd_conf_free(&conf);
	return r;
}
