/*
 * cmd_revoke.c - `bestanden revoke`: delete a package now, before its expiry.
 *
 * For erasure requests and mistakes ("sent to the wrong person"). Takes a link
 * or a delivered message holding one (its token is verified, expired ones too),
 * or a package id as the logs and the X-Bestanden header show it. With [admin] url set the
 * gateway's admin API does it (admin_client.h). The manifest goes first, so the
 * link stops working at once; then every file object. Idempotent.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "admin_client.h"
#include "cli.h"
#include "keys.h"
#include "package.h"
#include "remove.h"
#include "store.h"
#include "token.h"

/* The package id of ARG: 16 hex digits, or a link, token or message file checked with the link
 * keys. */
static int package_of(const struct bd_conf *conf, const char *arg, uint8_t id[BD_PACKAGE_ID_BYTES])
{
	char buf[BD_TOKEN_MAX_CHARS + 1];
	struct bd_keyring *kr;
	struct bd_token t;
	struct bd_error err;
	int r;

	if (strlen(arg) == 2 * BD_PACKAGE_ID_BYTES && bd_package_id_parse(arg, id) == 0)
		return 0;
	if (bd_cli_token_from_arg(conf, arg, buf) < 0)
		return -1;
	kr = bd_keyring_load(conf->keys.dir, BD_NEED_LINK, &err);
	if (kr == NULL)
		return bd_cli_fail(&err), -1;
	r = bd_token_decode(buf, kr, (int64_t)time(NULL), &t, &err);
	bd_keyring_free(&kr);
	if (r < 0 && err.code != BD_E_EXPIRED) {
		fprintf(stderr, "bestanden: not a valid link of this installation "
		                "(give the package id from the logs instead)\n");
		return -1;
	}
	memcpy(id, t.package_id, BD_PACKAGE_ID_BYTES);
	sodium_memzero(&t, sizeof(t));
	return 0;
}

/* With [admin] url: the gateway checks the link or id; a message file gives its link here. */
static int revoke_through_api(const struct bd_conf *conf, const char *arg)
{
	char buf[BD_TOKEN_MAX_CHARS + 1];
	uint8_t id[BD_PACKAGE_ID_BYTES];
	int r;

	if (strlen(arg) == 2 * BD_PACKAGE_ID_BYTES && bd_package_id_parse(arg, id) == 0)
		return bd_cli_admin_revoke(conf, arg);
	if (bd_cli_token_from_arg(conf, arg, buf) < 0)
		return 1;
	r = bd_cli_admin_revoke(conf, buf);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

int bd_cmd_revoke(int argc, char **argv)
{
	uint8_t id[BD_PACKAGE_ID_BYTES];
	char hex[BD_PACKAGE_ID_HEX];
	struct bd_store *store = NULL;
	struct bd_conf *conf;
	struct bd_error err;
	size_t deleted = 0;
	int r = 1;

	if (argc != 2)
		return bd_cli_usage("revoke LINK|MESSAGE|PACKAGE-ID");
	conf = bd_cli_load_conf();
	if (conf == NULL)
		return 1;
	if (bd_cli_admin_wanted(conf)) {
		r = revoke_through_api(conf, argv[1]);
		goto out;
	}
	if (package_of(conf, argv[1], id) < 0)
		goto out;
	bd_package_id_hex(id, hex);
	store = bd_store_open(&conf->storage, &err);
	if (store == NULL) {
		r = bd_cli_fail(&err);
		goto out;
	}
	if (bd_package_delete(store, hex, &deleted, &err) < 0) {
		r = bd_cli_fail(&err);
		goto out;
	}
	printf("package %s revoked: link disabled, %zu file object%s deleted\n", hex, deleted,
	       deleted == 1 ? "" : "s");
	r = 0;
out:
	bd_store_close(&store);
	bd_conf_free(&conf);
	return r;
}
