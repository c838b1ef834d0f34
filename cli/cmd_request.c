/*
 * cmd_request.c - `bestanden request create`: ask someone to upload files.
 *
 * Stores an upload request (who asks, for whom, the note, the limits; the
 * defaults from [requests]) and prints its link, or with --send mails the
 * invitation to the --to address through [smtp]. The requester is told of
 * every upload by the gateway. With [admin] url set the gateway's admin API
 * makes it (admin_client.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_client.h"
#include "cli.h"
#include "keys.h"
#include "log.h"
#include "invite.h"
#include "store.h"

#define USAGE                                                                                      \
	"request create --requester ADDR [--to ADDR] [--note TEXT] [--expires DURATION]\n"         \
	"       [--max-size SIZE] [--max-file-size SIZE] [--max-files N] [--several-uses] "        \
	"[--send]"

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
	struct bd_invite_order o = {.several_uses = -1};
	struct bd_invite inv = {0};
	struct bd_keyring *kr = NULL;
	struct bd_store *store = NULL;
	struct bd_error err;
	uint64_t v;
	int c, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': o.requester = optarg; break;
		case 't': o.recipient = optarg; break;
		case 'n': o.note = optarg; break;
		case 'e':
			if (bd_conf_parse_duration(optarg, &o.expires) < 0 || o.expires == 0)
				return bd_cli_usage(USAGE);
			break;
		case 's':
			if (bd_conf_parse_size(optarg, &o.max_total_size) < 0 ||
			    o.max_total_size == 0)
				return bd_cli_usage(USAGE);
			break;
		case 'f':
			if (bd_conf_parse_size(optarg, &o.max_file_size) < 0)
				return bd_cli_usage(USAGE);
			break;
		case 'm':
			if (bd_conf_parse_size(optarg, &v) < 0 || v < 1 || v > 1000)
				return bd_cli_usage(USAGE);
			o.max_files = (unsigned)v;
			break;
		case 'S': o.several_uses = 1; break;
		case 'M': o.send = 1; break;
		default: return bd_cli_usage(USAGE);
		}
	}
	if (optind != argc || o.requester == NULL)
		return bd_cli_usage(USAGE);
	if (bd_cli_admin_wanted(conf))
		return bd_cli_admin_request(conf, &o);
	kr = bd_keyring_load(conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
	if (kr == NULL || (store = bd_store_open(&conf->storage, &err)) == NULL ||
	    bd_invite_create(conf, store, kr, &o, &inv, &err) < 0) {
		status = err.code == BD_E_INVALID ? bd_cli_usage("%s\n%s", err.msg, USAGE)
		                                  : bd_cli_fail(&err);
		goto out;
	}
	bd_log(LOG_INFO, "event=request-created request=%s expires=%lld sent=%s", inv.id,
	       (long long)inv.expires, o.send ? "yes" : "no");
	if (o.send)
		printf("upload request %s sent to %s\n", inv.id, o.recipient);
	else
		printf("%s\n", inv.link);
	status = 0;
out:
	bd_invite_clear(&inv);
	bd_store_close(&store);
	bd_keyring_free(&kr);
	return status;
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
