/*
 * bestanden-milter - the mail filter in front of Postfix or Sendmail.
 *
 * Start-up: read the configuration and the public side of the keys,
 * refusing unsafe key files. With -t it stops there and reports, like
 * `postfix check`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "keys.h"
#include "log.h"

static void usage(void)
{
	fprintf(stderr, "usage: bestanden-milter [-c CONFIG] [-f] [-t]\n"
			"  -c CONFIG  configuration file (default " BD_CONF_DEFAULT_PATH ")\n"
			"  -f         stay in the foreground, log to stderr\n"
			"  -t         check configuration and keys, then exit\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *conf_path = BD_CONF_DEFAULT_PATH;
	struct bd_keyring *keys;
	struct bd_conf *conf;
	struct bd_error err;
	int c, test_only = 0, foreground = 0;

	while ((c = getopt(argc, argv, "c:ft")) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': test_only = 1; break;
		default: usage();
		}
	}
	bd_log_open("bestanden-milter", foreground || test_only);
	conf = bd_conf_load(conf_path, &err);
	if (conf == NULL) {
		bd_log(LOG_ERR, "event=config-error error=\"%s\"", err.msg);
		return 1;
	}
	keys = bd_keyring_load(conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
	if (keys == NULL) {
		bd_log(LOG_ERR, "event=key-error error=\"%s\"", err.msg);
		bd_conf_free(&conf);
		return 1;
	}
	if (test_only) {
		bd_log(LOG_INFO, "event=check config=%s link_key=%u gateway_key=%u result=ok", conf->path,
		       bd_keyring_current(keys, BD_KEY_LINK), bd_keyring_current(keys, BD_KEY_GATEWAY));
		bd_keyring_free(&keys);
		bd_conf_free(&conf);
		return 0;
	}
	bd_log(LOG_ERR, "event=start-refused reason=\"the filter daemon is not part of this build yet; "
			"only -t works\"");
	bd_keyring_free(&keys);
	bd_conf_free(&conf);
	return 1;
}
