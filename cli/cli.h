/*
 * cli.h - what the subcommand files of bestanden(1) share.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_CLI_H
#define BD_CLI_H

#include <stdarg.h>

#include "conf.h"
#include "error.h"

extern const char *bd_cli_conf_path;

/* Print a usage problem to stderr; returns exit status 2. */
int bd_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print ERR to stderr; returns exit status 1. */
int bd_cli_fail(const struct bd_error *err);
/* Load the configuration named by -c (or the default); prints errors. */
struct bd_conf *bd_cli_load_conf(void);
/*
 * The same, except that with no -c and no file at the default path it uses
 * the built-in defaults (saying so): for commands that need no keys, such as
 * `rewrite --explain` on a fresh build.
 */
struct bd_conf *bd_cli_load_conf_or_defaults(void);

/* The token in a link, a bare token, or a message file holding a link (cmd_fetch.c). */
int bd_cli_token_from_arg(const struct bd_conf *conf, const char *arg, char out[57]);

/* Subcommands in their own files. */
int bd_cmd_fetch(int argc, char **argv);
int bd_cmd_inspect(int argc, char **argv);
int bd_cmd_revoke(int argc, char **argv);
int bd_cmd_request(int argc, char **argv);
int bd_cmd_rewrite(int argc, char **argv);
int bd_cmd_policy(int argc, char **argv);
int bd_cmd_storage(int argc, char **argv);
int bd_cmd_sweep(int argc, char **argv);
int bd_cmd_stats(int argc, char **argv);

#endif
