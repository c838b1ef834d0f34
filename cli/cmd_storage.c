/*
 * cmd_storage.c - `bestanden storage init`, `bestanden sweep` and `bestanden stats`.
 *
 * storage init has the configured driver prepare its backend (bd_store_init:
 * for S3 the bucket, when asked, and lifecycle rules that expire objects
 * after retention + 1 day; for the gateway store a check that the object API
 * answers and accepts the token). sweep deletes expired packages now,
 * through whichever driver the configuration names. stats asks the admin API
 * ([admin] url) for storage and traffic numbers, or counts storage alone.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_client.h"
#include "cli.h"
#include "info.h"
#include "store.h"
#include "sweep.h"

#define DAY 86400

static int storage_init(const struct bd_conf *conf, int create)
{
	/* Whole days (S3 counts in days), one more than links live: a backstop, never early. */
	unsigned days = (unsigned)((conf->policy.retention + DAY - 1) / DAY) + 1;
	struct bd_error err;

	if (bd_store_init(&conf->storage, create, days, &err) < 0)
		return bd_cli_fail(&err);
	printf("%s storage is ready (backstop expiry, where the backend has one: %u days)\n",
	       bd_store_driver_name(conf->storage.driver), days);
	return 0;
}

int bd_cmd_storage(int argc, char **argv)
{
	static const struct option opts[] = {{"create-bucket", no_argument, NULL, 'b'},
	                                     {NULL, 0, NULL, 0}};
	static const char usage[] = "storage init [--create-bucket]";
	struct bd_conf *conf;
	int c, create = 0, rc;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'b')
			create = 1;
		else
			return bd_cli_usage(usage);
	}
	if (optind >= argc || strcmp(argv[optind], "init") != 0)
		return bd_cli_usage(usage);
	/* allow the option after "init" too */
	for (int i = optind + 1; i < argc; i++) {
		if (strcmp(argv[i], "--create-bucket") == 0)
			create = 1;
		else
			return bd_cli_usage(usage);
	}
	conf = bd_cli_load_conf();
	if (conf == NULL)
		return 1;
	rc = storage_init(conf, create);
	bd_conf_free(&conf);
	return rc;
}

int bd_cmd_sweep(int argc, char **argv)
{
	struct bd_sweep_options o = {0};
	struct bd_sweep_stats st;
	struct bd_error err;
	struct bd_conf *conf;
	struct bd_store *s;
	int rc;

	if (argc > 1)
		return bd_cli_usage("sweep (takes no arguments)");
	conf = bd_cli_load_conf();
	if (conf == NULL)
		return 1;
	s = bd_store_open(&conf->storage, &err);
	if (s == NULL) {
		bd_conf_free(&conf);
		return bd_cli_fail(&err);
	}
	o.now = (int64_t)time(NULL);
	rc = bd_sweep_run(s, &o, &st, &err);
	printf("swept %s storage: %llu objects, %llu packages, %llu expired and deleted "
	       "(%llu objects), %llu without manifest (left for the gateway), %llu failures\n",
	       bd_store_driver_name(conf->storage.driver), (unsigned long long)st.objects,
	       (unsigned long long)st.packages, (unsigned long long)st.expired,
	       (unsigned long long)st.deleted, (unsigned long long)st.orphans,
	       (unsigned long long)st.failures);
	bd_store_close(&s);
	bd_conf_free(&conf);
	return rc < 0 ? bd_cli_fail(&err) : 0;
}

/* Without the API only what storage itself says; the traffic is the running gateway's to count. */
static int storage_stats(const struct bd_conf *conf)
{
	struct bd_storage_totals t;
	struct bd_error err;
	struct bd_store *s = bd_store_open(&conf->storage, &err);
	int rc = s != NULL ? bd_storage_totals(s, &t, &err) : -1;

	bd_store_close(&s);
	if (rc < 0)
		return bd_cli_fail(&err);
	printf("storage packages  %llu\nstorage objects   %llu\nstorage bytes     %llu\n"
	       "(traffic: only through the admin API; set [admin] url)\n",
	       (unsigned long long)t.packages, (unsigned long long)t.objects,
	       (unsigned long long)t.bytes);
	return 0;
}

int bd_cmd_stats(int argc, char **argv)
{
	struct bd_conf *conf;
	int rc;

	if (argc > 1)
		return bd_cli_usage("stats (takes no arguments)");
	if ((conf = bd_cli_load_conf()) == NULL)
		return 1;
	rc = bd_cli_admin_wanted(conf) ? bd_cli_admin_stats(conf) : storage_stats(conf);
	bd_conf_free(&conf);
	return rc;
}
