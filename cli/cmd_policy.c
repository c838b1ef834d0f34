/*
 * cmd_policy.c - `bestanden policy`: the rules as the program reads them.
 *
 * `policy list` prints every [rule NAME] section in order with its conditions
 * and action, typed values written back in the file's syntax (and the warnings
 * of check-config on standard error). `policy test` is `rewrite --explain`:
 * nothing is stored, and each part's line is followed by its rule and why.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "rules.h"

static const char usage[] =
        "policy list | policy test [--sender ADDR] [--recipient ADDR]... [--incoming] "
        "MSG.eml|-";

/* The kinds and MIME type globs of a `type` condition. */
static void print_types(const struct bd_conf_rule *r)
{
	const char *sep = "";

	for (size_t k = 0; bd_conf_rule_kind_names[k] != NULL; k++)
		if (r->kinds & (1u << k)) {
			printf("%s%s", sep, bd_conf_rule_kind_names[k]);
			sep = ", ";
		}
	for (size_t i = 0; i < r->types.n; i++) {
		printf("%s%s", sep, r->types.v[i]);
		sep = ", ";
	}
}

/* The protection a replace rule R leaves to [recipients], with the values in force. */
static void print_recipients_defaults(const struct bd_conf *conf, const struct bd_conf_rule *r)
{
	static const enum bd_rule_key_id ids[] = {BD_RULE_KEY_VERIFY, BD_RULE_KEY_RECEIPTS,
	                                          BD_RULE_KEY_MAX_DOWNLOADS};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const char *name = bd_conf_rule_keys[ids[i]].name;
		char value[64];

		if (bd_conf_rule_has(r, ids[i]))
			continue;
		bd_conf_format_value(conf, bd_conf_find("recipients", name), value, sizeof(value));
		printf("   then   %s = [recipients] %s (%s)\n", name, name, value);
	}
}

static void print_rule(const struct bd_conf *conf, size_t n, const struct bd_conf_rule *r)
{
	bool any = false;

	printf("%zu. [rule %s]  (%s:%u)\n", n, r->name, conf->path, r->line);
	for (unsigned id = 0; id < BD_RULE_NKEYS; id++) {
		char value[1024];

		if (id == BD_RULE_KEY_ACTION && !any)
			printf("   when   (no conditions: every message and attachment)\n");
		if (!bd_conf_rule_has(r, (enum bd_rule_key_id)id))
			continue;
		printf("   %-6s %s = ", id < BD_RULE_KEY_ACTION ? (any ? "and" : "when") : "then",
		       bd_conf_rule_keys[id].name);
		if (id == BD_RULE_KEY_TYPE) {
			print_types(r);
			putchar('\n');
		} else {
			bd_conf_rule_format_value(r, (enum bd_rule_key_id)id, value, sizeof(value));
			printf("%s\n", value);
		}
		any = any || id < BD_RULE_KEY_ACTION;
	}
	if (r->action == BD_RULE_REPLACE && !bd_conf_rule_has(r, BD_RULE_KEY_RETENTION))
		printf("   then   retention = [policy] retention (%llu days)\n",
		       (unsigned long long)(conf->policy.retention / 86400));
	if (r->action == BD_RULE_REPLACE)
		print_recipients_defaults(conf, r);
	if (r->action == BD_RULE_BLOCK || r->action == BD_RULE_TEMPFAIL)
		printf("   answer %s %s %s\n", r->action == BD_RULE_BLOCK ? "550" : "451",
		       bd_rules_answer_code(r), bd_rules_answer_text(r));
}

static int list(void)
{
	struct bd_conf *conf = bd_cli_load_conf();

	if (conf == NULL)
		return 1;
	if (conf->rules.n == 0)
		printf("no [rule NAME] sections in %s: the [policy] keys decide alone\n",
		       conf->path);
	for (size_t i = 0; i < conf->rules.n; i++)
		print_rule(conf, i + 1, &conf->rules.v[i]);
	bd_conf_free(&conf);
	return fflush(stdout) == 0 ? 0 : 1;
}

int bd_cmd_policy(int argc, char **argv)
{
	char *args[argc + 1];

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return list();
	if (argc < 3 || strcmp(argv[1], "test") != 0)
		return bd_cli_usage("%s", usage);
	/* rewrite --explain, with the rest of the arguments */
	args[0] = "rewrite";
	args[1] = "--explain";
	for (int i = 2; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;
	optind = 0; /* getopt starts afresh, so MSG may come before the options */
	return bd_cmd_rewrite(argc, args);
}
