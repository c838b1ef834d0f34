/*
 * bestanden - the administrator's command.
 *
 * Thin: each subcommand parses its arguments, calls libbestanden and
 * prints the result; errors go to stderr with exit status 1 (2 for usage).
 * Subcommands are a table below; `bestanden help` prints it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "keys.h"
#include "log.h"
#include "notice.h"
#include "preflight.h"

const char *bd_cli_conf_path = BD_CONF_DEFAULT_PATH;

int bd_cli_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("bestanden: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nRun 'bestanden help' for the list of commands.\n", stderr);
	return 2;
}

int bd_cli_fail(const struct bd_error *err)
{
	fprintf(stderr, "bestanden: %s\n", err->msg);
	return 1;
}

static void print_problem(void *ctx, const char *problem)
{
	(void)ctx;
	fprintf(stderr, "bestanden: %s\n", problem);
}

/* check-config -v: what the daemons' -t check, for both, and the notice templates. */
static unsigned check_runtime(const struct bd_conf *conf)
{
	struct bd_keyring *keys;
	struct bd_notice *notice;
	struct bd_error err;
	unsigned problems = 0;

	keys = bd_keyring_load(conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
	if (keys == NULL) {
		print_problem(NULL, err.msg);
		problems++;
	}
	bd_keyring_free(&keys);
	notice = bd_notice_load(conf->notice.template_dir, bd_language_code(conf->notice.language),
	                        &err);
	if (notice == NULL) {
		fprintf(stderr, "bestanden: [notice] template_dir: %s\n", err.msg);
		problems++;
	}
	bd_notice_free(&notice);
	return problems + bd_preflight_run(conf, BD_PREFLIGHT_MILTER | BD_PREFLIGHT_GATEWAY,
	                                   print_problem, NULL);
}

/* Every problem in the file gets its own line, however many there are. */
struct bd_conf *bd_cli_load_conf(void)
{
	struct bd_error err;

	return bd_conf_load_reporting(bd_cli_conf_path, print_problem, NULL, &err);
}

struct bd_conf *bd_cli_load_conf_or_defaults(void)
{
	if (strcmp(bd_cli_conf_path, BD_CONF_DEFAULT_PATH) == 0 &&
	    access(BD_CONF_DEFAULT_PATH, F_OK) < 0 && errno == ENOENT) {
		fprintf(stderr, "bestanden: no %s; using the built-in defaults\n",
		        BD_CONF_DEFAULT_PATH);
		return bd_conf_defaults();
	}
	return bd_cli_load_conf();
}

/* The key directory: -d DIR if given, else [keys] dir from the configuration. */
static char *key_dir(const char *opt)
{
	struct bd_conf *conf;
	char *dir;

	if (opt != NULL)
		return strdup(opt);
	conf = bd_cli_load_conf();
	if (conf == NULL)
		return NULL;
	dir = strdup(conf->keys.dir);
	bd_conf_free(&conf);
	return dir;
}

static int cmd_check_config(int argc, char **argv)
{
	int example = 0, manpage = 0, verbose = 0, c;
	static const struct option opts[] = {{"example", no_argument, NULL, 'E'},
	                                     {"manpage", no_argument, NULL, 'M'},
	                                     {"verbose", no_argument, NULL, 'v'},
	                                     {NULL, 0, NULL, 0}};
	struct bd_conf *conf;

	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (c == 'E')
			example = 1;
		else if (c == 'M')
			manpage = 1;
		else if (c == 'v')
			verbose = 1;
		else
			return bd_cli_usage("check-config [-v] [--example | --manpage]");
	}
	if (example) {
		bd_conf_write_example(stdout);
		return 0;
	}
	if (manpage) {
		bd_conf_write_manpage(stdout);
		return 0;
	}
	conf = bd_cli_load_conf();
	if (conf == NULL)
		return 1;
	if (verbose) {
		const char *section = "";

		for (size_t i = 0; i < bd_conf_nkeys; i++) {
			char value[1024];

			if (strcmp(section, bd_conf_keys[i].section) != 0) {
				section = bd_conf_keys[i].section;
				printf("%s[%s]\n", i ? "\n" : "", section);
			}
			bd_conf_format_value(conf, &bd_conf_keys[i], value, sizeof(value));
			printf("%s = %s\n", bd_conf_keys[i].name, value);
		}
		if (check_runtime(conf) > 0) {
			bd_conf_free(&conf);
			return 1;
		}
	}
	fprintf(stderr, "%s: configuration is valid\n", conf->path);
	bd_conf_free(&conf);
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	const char *dir_opt = NULL;
	struct bd_error err;
	char *dir;
	int c;

	while ((c = getopt(argc, argv, "d:")) != -1) {
		if (c == 'd')
			dir_opt = optarg;
		else
			return bd_cli_usage("keygen [-d DIR]");
	}
	dir = key_dir(dir_opt);
	if (dir == NULL)
		return 1;
	if (bd_keys_generate(dir, &err) < 0) {
		free(dir);
		return bd_cli_fail(&err);
	}
	printf("created keys in %s: link key 1, gateway key pair 1, store token, admin token\n",
	       dir);
	free(dir);
	return 0;
}

static int keys_list(const char *dir)
{
	struct bd_key_info info[2 * BD_KEY_ID_MAX];
	struct bd_error err;
	int n = bd_keys_list(dir, info, sizeof(info) / sizeof(info[0]), &err);

	if (n < 0)
		return bd_cli_fail(&err);
	printf("%-8s %4s  %-8s %-20s %s\n", "KIND", "ID", "STATE", "CREATED", "FILES");
	for (int i = 0; i < n; i++) {
		char when[32] = "-";
		struct tm tm;

		if (info[i].created) {
			gmtime_r(&info[i].created, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		}
		printf("%-8s %4u  %-8s %-20s %s\n", bd_key_kind_name(info[i].kind), info[i].id,
		       info[i].current ? "current" : "retired", when,
		       info[i].kind == BD_KEY_LINK ? "secret"
		       : info[i].has_secret        ? "secret+public"
		                                   : "public only");
	}
	return 0;
}

static int parse_kind(const char *s, enum bd_key_kind *kind)
{
	if (strcmp(s, "link") == 0)
		*kind = BD_KEY_LINK;
	else if (strcmp(s, "gateway") == 0)
		*kind = BD_KEY_GATEWAY;
	else
		return -1;
	return 0;
}

/* When a retired key may go (bd_keys_needed_until); 0 when it may go now. */
static time_t key_needed_until(const char *dir, enum bd_key_kind kind, unsigned id,
                               const struct bd_conf *conf, time_t *retired)
{
	struct bd_key_info info[2 * BD_KEY_ID_MAX];
	struct bd_error err;
	int n = bd_keys_list(dir, info, sizeof(info) / sizeof(info[0]), &err);

	return bd_keys_needed_until(info, n, kind, id, conf->policy.retention + conf->keys.grace,
	                            time(NULL), retired);
}

/*
 * `keys maintain`: rotate the gateway key pair on [keys] rotate_every, remove
 * retired gateway keys past retention + grace; each action printed and logged.
 * BESTANDEN_TEST_NOW (seconds since the epoch) stands in for the clock: for
 * the test suite only, to act as if days had passed.
 */
static int keys_maintain(const char *dir)
{
	struct bd_keys_action done[2 * BD_KEY_ID_MAX];
	const char *fake = getenv("BESTANDEN_TEST_NOW");
	time_t now = fake != NULL ? (time_t)strtoll(fake, NULL, 10) : time(NULL);
	struct bd_error err;
	struct bd_conf *conf = bd_cli_load_conf_or_defaults();
	size_t n = 0;
	int r;

	if (conf == NULL)
		return 1;
	bd_log_open("bestanden", false);
	r = bd_keys_maintain(dir, conf->keys.rotate_every,
	                     conf->policy.retention + conf->keys.grace, now, done,
	                     sizeof(done) / sizeof(done[0]), &n, &err);
	for (size_t i = 0; i < n; i++) {
		char line[160];

		bd_keys_action_format(&done[i], line, sizeof(line));
		bd_log(LOG_NOTICE, "%s", line);
		printf("%s\n", line);
	}
	bd_conf_free(&conf);
	return r < 0 ? bd_cli_fail(&err) : 0;
}

static int keys_remove(const char *dir, int argc, char **argv, const char *usage)
{
	enum bd_key_kind kind;
	struct bd_error err;
	struct bd_conf *conf;
	unsigned long id = 0;
	char *end = NULL;
	int force = 0, nargs = 0, r = 0;
	const char *args[2] = {NULL, NULL};
	time_t until, retired = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)
			force = 1;
		else if (nargs < 2)
			args[nargs++] = argv[i];
		else
			return bd_cli_usage("%s", usage);
	}
	if (nargs == 2)
		id = strtoul(args[1], &end, 10);
	if (nargs != 2 || parse_kind(args[0], &kind) < 0 || *end != '\0' || id == 0 ||
	    id > BD_KEY_ID_MAX)
		return bd_cli_usage("%s", usage);
	conf = bd_cli_load_conf_or_defaults();
	if (conf == NULL)
		return 1;
	until = key_needed_until(dir, kind, (unsigned)id, conf, &retired);
	if (until != 0 && !force) {
		char a[32], b[32];
		struct tm tm;

		strftime(a, sizeof(a), "%Y-%m-%d %H:%M UTC", gmtime_r(&retired, &tm));
		strftime(b, sizeof(b), "%Y-%m-%d %H:%M UTC", gmtime_r(&until, &tm));
		fprintf(stderr,
		        "bestanden: %s key %lu was retired %s; links made with it may work until "
		        "[policy] retention has passed, and [keys] grace keeps it longer: it is "
		        "needed until %s. Remove it then, or now with --force (those links stop "
		        "working)\n",
		        bd_key_kind_name(kind), id, a, b);
		r = 1;
	} else if (bd_keys_remove(dir, kind, (unsigned)id, &err) < 0) {
		r = bd_cli_fail(&err);
	} else {
		printf("removed %s key %lu; what it protected can no longer be opened\n",
		       bd_key_kind_name(kind), id);
	}
	bd_conf_free(&conf);
	return r;
}

static int cmd_keys(int argc, char **argv)
{
	const char *dir_opt = NULL, *what;
	struct bd_error err;
	enum bd_key_kind kind;
	char *dir;
	int c, r = 0;
	static const char usage[] = "keys [-d DIR] list | rotate [link|gateway|all] | remove "
	                            "[--force] link|gateway ID | maintain";

	while ((c = getopt(argc, argv, "+d:")) != -1) {
		if (c == 'd')
			dir_opt = optarg;
		else
			return bd_cli_usage("%s", usage);
	}
	if (optind >= argc)
		return bd_cli_usage("%s", usage);
	what = argv[optind];
	if (strcmp(what, "list") != 0 && strcmp(what, "rotate") != 0 &&
	    strcmp(what, "remove") != 0 && strcmp(what, "maintain") != 0)
		return bd_cli_usage("unknown keys command '%s'; expected %s", what, usage);
	dir = key_dir(dir_opt);
	if (dir == NULL)
		return 1;
	if (strcmp(what, "list") == 0) {
		r = keys_list(dir);
	} else if (strcmp(what, "maintain") == 0) {
		r = keys_maintain(dir);
	} else if (strcmp(what, "rotate") == 0) {
		const char *which = optind + 1 < argc ? argv[optind + 1] : "all";
		int all = strcmp(which, "all") == 0;

		if (!all && parse_kind(which, &kind) < 0) {
			r = bd_cli_usage(usage);
		} else {
			for (int k = 0; k < 2 && r == 0; k++) {
				int id;

				if (!all && (int)kind != k)
					continue;
				id = bd_keys_rotate(dir, k, &err);
				if (id < 0)
					r = bd_cli_fail(&err);
				else
					printf("%s key %d is now current\n", bd_key_kind_name(k),
					       id);
			}
		}
	} else {
		r = keys_remove(dir, argc - optind - 1, argv + optind + 1, usage);
	}
	free(dir);
	return r;
}

static int cmd_help(int argc, char **argv);

/*
 * "-c FILE" (or --config) may also follow the command, as in
 * `bestanden check-config -c FILE`: take it out of the command's arguments.
 * Returns the new argument count; stops at "--".
 */
static int take_config_option(int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc) {
			bd_cli_conf_path = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--config=", 9) == 0) {
			bd_cli_conf_path = argv[i] + 9;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args; /* what follows the name */
	const char *summary;
} commands[] = {
        {"check-config", cmd_check_config, "[-v] [--example | --manpage]",
         "check the configuration file (-v: every value; --example, --manpage: the "
         "generated documents)"},
        {"keygen", cmd_keygen, "[-d DIR]",
         "create link key, gateway key pair, store and admin tokens"},
        {"keys", cmd_keys,
         "[-d DIR] list | rotate [link|gateway|all] | remove [--force] link|gateway ID | "
         "maintain",
         "list, rotate or remove keys (maintain: rotate and remove gateway keys on the "
         "schedule of [keys] rotate_every)"},
        {"fetch", bd_cmd_fetch, "[-o DIR] [-f] LINK",
         "download and decrypt a link's files into DIR (-f: overwrite)"},
        {"inspect", bd_cmd_inspect, "LINK", "show a link's package: files, sizes, expiry"},
        {"rewrite", bd_cmd_rewrite,
         "[--explain] [--sender ADDR] [--recipient ADDR]... [--incoming] IN.eml|-",
         "run the milter's rewrite on a message file (--explain: decisions only)"},
        {"policy", bd_cmd_policy,
         "list | test [--sender ADDR] [--recipient ADDR]... [--incoming] MSG.eml|-",
         "the [rule NAME] sections as understood (list), or which rule each part of a "
         "message meets and why (test)"},
        {"storage", bd_cmd_storage, "init [--create-bucket]",
         "prepare the storage backend (S3: bucket and lifecycle rules)"},
        {"sweep", bd_cmd_sweep, "", "delete expired packages from storage now"},
        {"stats", bd_cmd_stats, "", "storage and traffic statistics (traffic through [admin] url)"},
        {"revoke", bd_cmd_revoke, "LINK|MESSAGE|PACKAGE-ID",
         "delete a package now: the link stops working"},
        {"request", bd_cmd_request,
         "create --requester ADDR [--to ADDR] [--note TEXT] [--expires DURATION] "
         "[--max-size SIZE] [--max-file-size SIZE] [--max-files N] [--several-uses] [--send]",
         "ask someone to upload files: print the link, or mail it (--send)"},
        {"help", cmd_help, "[COMMAND]", "this list, or one command's usage"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* `bestanden COMMAND --help`: the command's usage on standard output. */
static int command_usage(const struct command *cmd)
{
	printf("usage: bestanden [-c CONFIG] %s%s%s\n\n  %s\n", cmd->name, *cmd->args ? " " : "",
	       cmd->args, cmd->summary);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		const struct command *cmd = find_command(argv[1]);

		return cmd ? command_usage(cmd) : bd_cli_usage("unknown command '%s'", argv[1]);
	}
	printf("usage: bestanden [-c CONFIG] COMMAND [ARGS]\n"
	       "       bestanden COMMAND --help\n\n"
	       "  -c CONFIG   configuration file (default %s)\n\ncommands:\n",
	       BD_CONF_DEFAULT_PATH);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char head[160];

		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].args);
		if (strlen(head) <= 24)
			printf("  %-24s %s\n", head, commands[i].summary);
		else
			printf("  %s\n  %-24s %s\n", head, "", commands[i].summary);
	}
	return 0;
}

/* True when ARGV asks for help (before any "--"). */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	const struct command *cmd;
	char **sub_argv;
	int c, sub_argc;

	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': bd_cli_conf_path = optarg; break;
		case 'h': return cmd_help(0, NULL);
		case 'V': printf("bestanden %s\n", BD_VERSION); return 0;
		default: return bd_cli_usage("unknown option");
		}
	}
	if (optind >= argc)
		return cmd_help(0, NULL), 2;
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		return bd_cli_usage("unknown command '%s'", argv[optind]);
	sub_argc = take_config_option(argc - optind, argv + optind);
	sub_argv = argv + optind;
	if (wants_help(sub_argc, sub_argv))
		return command_usage(cmd);
	optind = 1; /* restart getopt for the subcommand */
	return cmd->run(sub_argc, sub_argv);
}
