/*
 * fuzz-conf.c - libFuzzer target for the configuration parser, [rule NAME]
 * sections included.
 *
 * The input is a configuration file for bd_conf_load_string: it must be
 * accepted or refused without a crash. What is accepted must write back:
 * every key and every set rule key formats, and the file written from those
 * values loads again to the same values (a value the parser took that its
 * own writer cannot say would be a second meaning of one file).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file CONF would be written as: every key, then every rule with what it sets. */
static char *write_back(const struct bd_conf *conf)
{
	char *text = NULL, value[4096];
	const char *section = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (size_t i = 0; i < bd_conf_nkeys; i++) {
		if (strcmp(section, bd_conf_keys[i].section) != 0) {
			section = bd_conf_keys[i].section;
			fprintf(f, "[%s]\n", section);
		}
		bd_conf_format_value(conf, &bd_conf_keys[i], value, sizeof(value));
		fprintf(f, "%s = %s\n", bd_conf_keys[i].name, value);
	}
	for (size_t r = 0; r < conf->rules.n; r++) {
		fprintf(f, "[rule %s]\n", conf->rules.v[r].name);
		for (int id = 0; id < BD_RULE_NKEYS; id++) {
			if (!bd_conf_rule_has(&conf->rules.v[r], (enum bd_rule_key_id)id))
				continue;
			bd_conf_rule_format_value(&conf->rules.v[r], (enum bd_rule_key_id)id, value,
			                          sizeof(value));
			fprintf(f, "%s = %s\n", bd_conf_rule_keys[id].name, value);
		}
	}
	fclose(f);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *once, *twice;
	struct bd_conf *conf, *again;
	struct bd_error err;

	memcpy(text, data, size);
	text[size] = '\0';
	conf = bd_conf_load_string("fuzz", text, &err);
	free(text);
	if (conf == NULL)
		return 0;
	once = write_back(conf);
	bd_conf_free(&conf);
	again = bd_conf_load_string("written", once, &err);
	if (again == NULL) {
		fprintf(stderr, "fuzz-conf: the written file does not load: %s\n%s", err.msg, once);
		abort();
	}
	twice = write_back(again);
	bd_conf_free(&again);
	if (strcmp(once, twice) != 0) {
		fprintf(stderr, "fuzz-conf: written twice, read differently:\n%s\n----\n%s", once,
		        twice);
		abort();
	}
	free(once);
	free(twice);
	return 0;
}
