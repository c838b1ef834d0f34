/*
 * conf-private.h - what conf.c and conf_rules.c share, and nothing outside lib/conf.
 *
 * conf.c reads the file; conf_rules.c checks the [rule NAME] sections once they
 * are read and frees them. Problems go to a PROBLEM callback, one line each,
 * like every other problem of the file.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_CONF_PRIVATE_H
#define BD_CONF_PRIVATE_H

#include "conf.h"

/* Give KEY of BASE (struct bd_conf, or struct bd_conf_rule for a rule key) the value V. */
int bd_conf_set_value(void *base, const struct bd_conf_key *key, const char *v,
                      struct bd_error *err);
void bd_conf_strlist_clear(struct bd_strlist *list);

/* A new rule NAME (heading on LINE) with every field at its default and nothing set. */
void bd_conf_rule_init(struct bd_conf_rule *rule, const char *name, unsigned line);
/*
 * Check the rules of CONF (read from FILE) as a whole, and parse what their keys
 * say into the typed fields. Errors go to PROBLEM; rules that can never match and
 * the like go to conf->rules.warnings.
 */
void bd_conf_rules_check(struct bd_conf *conf, const char *file,
                         void (*problem)(void *ctx, const char *line), void *ctx);
void bd_conf_rules_free(struct bd_conf_rules *rules);

#endif
