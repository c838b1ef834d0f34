/*
 * mkpackage.c - test tool: store files as one package, the way the rewrite
 * engine does, through the configured storage driver, and print its link.
 *
 *   bd-mkpackage -c CONFIG [-e SECONDS] [-r ADDRESS]... [-v code] [-A CODE]
 *                [-s SENDER] [-R first|every] [-m MAX] [-n NAME] [-t TYPE] FILE ...
 *
 * -n and -t name and type the FILE that follows (default: its base name,
 * application/octet-stream). -e is the link's lifetime from now (default
 * 3600; 0 or less makes a link that has already expired). -r adds a recipient
 * address to the manifest, -v code asks recipients to verify with a mailed
 * code, -A sets the sender's access code (its hash goes into the manifest).
 * -s is the sender, -R asks for receipts to it, -m limits downloads per file.
 * Prints the link, then the package id, then the sender's management link,
 * one per line.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accesscode.h"
#include "conf.h"
#include "keys.h"
#include "manifest.h"
#include "mem.h"
#include "package.h"
#include "store.h"
#include "stream.h"
#include "token.h"

#define FILES_MAX 1000

struct fd_source {
	struct bd_source source;
	int fd;
};

static ssize_t fd_read(void *ctx, uint8_t *buf, size_t len)
{
	struct fd_source *s = ctx;
	ssize_t n;

	do
		n = read(s->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static int die(const char *what, const struct bd_error *err)
{
	fprintf(stderr, "bd-mkpackage: %s: %s\n", what, err ? err->msg : strerror(errno));
	return 1;
}

static int put_file(struct bd_store *store, const struct bd_package_keys *keys, unsigned index,
                    const char *path, uint64_t *size_out)
{
	struct fd_source src = {{fd_read, NULL}, -1};
	uint8_t key[BD_CONTENT_KEY_BYTES];
	struct bd_stream_enc *enc;
	struct bd_error err;
	struct stat st;
	char name[64];
	int rc;

	src.source.ctx = &src;
	src.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (src.fd < 0 || fstat(src.fd, &st) < 0)
		return die(path, NULL);
	bd_package_file_key(keys, index, key);
	enc = bd_stream_enc_new(key, &src.source, (uint64_t)st.st_size);
	bd_package_object_name(keys->id, index, name, sizeof(name));
	rc = bd_store_put(store, name, bd_stream_enc_source(enc),
	                  bd_stream_ciphertext_size((uint64_t)st.st_size), &err);
	bd_stream_enc_free(&enc);
	close(src.fd);
	memset(key, 0, sizeof(key));
	if (rc < 0)
		return die(path, &err);
	*size_out = (uint64_t)st.st_size;
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL, *name = NULL, *type = NULL, *access = NULL, *sender = NULL;
	enum bd_receipts receipts = BD_RECEIPTS_OFF;
	unsigned max_downloads = 0;
	const char *recipients[16];
	size_t nrecipients = 0;
	int verify = 0;
	long lifetime = 3600;
	struct bd_conf *conf;
	struct bd_keyring *kr;
	struct bd_store *store;
	struct bd_package_keys *keys;
	struct bd_manifest *m;
	struct bd_token t = {0};
	struct bd_error err;
	struct bd_mem_source msrc;
	char token[BD_TOKEN_MAX_CHARS + 1], object[64], id[BD_PACKAGE_ID_HEX];
	uint8_t *sealed;
	size_t sealed_len;
	unsigned index = 0;
	int64_t now = (int64_t)time(NULL);
	int c;

	/* by hand, not getopt: -n and -t belong to the FILE after them */
	for (c = 1; c + 1 < argc && argv[c][0] == '-'; c += 2) {
		if (strcmp(argv[c], "-c") == 0)
			conf_path = argv[c + 1];
		else if (strcmp(argv[c], "-e") == 0)
			lifetime = strtol(argv[c + 1], NULL, 10);
		else if (strcmp(argv[c], "-r") == 0 && nrecipients < 16)
			recipients[nrecipients++] = argv[c + 1];
		else if (strcmp(argv[c], "-v") == 0)
			verify = strcmp(argv[c + 1], "code") == 0;
		else if (strcmp(argv[c], "-A") == 0)
			access = argv[c + 1];
		else if (strcmp(argv[c], "-s") == 0)
			sender = argv[c + 1];
		else if (strcmp(argv[c], "-R") == 0)
			receipts = strcmp(argv[c + 1], "every") == 0   ? BD_RECEIPTS_EVERY
			           : strcmp(argv[c + 1], "first") == 0 ? BD_RECEIPTS_FIRST
			                                               : BD_RECEIPTS_OFF;
		else if (strcmp(argv[c], "-m") == 0)
			max_downloads = (unsigned)strtoul(argv[c + 1], NULL, 10);
		else
			break;
	}
	if (conf_path == NULL || c >= argc) {
		fprintf(stderr, "usage: bd-mkpackage -c CONFIG [-e SECONDS] [-r ADDRESS]... "
		                "[-v code] [-A CODE] [-s SENDER] [-R first|every] [-m MAX] "
		                "[-n NAME] [-t TYPE] FILE ...\n");
		return 2;
	}
	conf = bd_conf_load(conf_path, &err);
	if (conf == NULL)
		return die("configuration", &err);
	kr = bd_keyring_load(conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
	if (kr == NULL)
		return die("keys", &err);
	store = bd_store_open(&conf->storage, &err);
	if (store == NULL)
		return die("storage", &err);
	keys = bd_package_keys_new();
	m = bd_manifest_new();
	memcpy(m->package_id, keys->id, sizeof(keys->id));
	m->link_key_id = bd_keyring_current(kr, BD_KEY_LINK);
	m->gateway_key_id = bd_keyring_current(kr, BD_KEY_GATEWAY);
	m->created = now;
	m->expires = now + lifetime;
	for (size_t i = 0; i < nrecipients; i++)
		if (bd_manifest_add_recipient(m, recipients[i], &err) < 0)
			return die("recipient", &err);
	m->protection.verify = verify ? BD_VERIFY_CODE : BD_VERIFY_OFF;
	m->protection.receipts = receipts;
	m->protection.max_downloads = max_downloads;
	if (sender != NULL)
		m->sender = bd_strdup(sender);
	if (access != NULL) {
		char hash[BD_ACCESS_CODE_HASH_MAX];

		if (bd_access_code_hash(access, hash, &err) < 0)
			return die("access code", &err);
		m->protection.access_code_hash = bd_strdup(hash);
	}
	for (int i = c; i < argc; i++) {
		uint64_t size;

		if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "-t") == 0) && i + 1 < argc) {
			*(argv[i][1] == 'n' ? &name : &type) = argv[i + 1];
			i++;
			continue;
		}
		if (++index > FILES_MAX)
			return die("too many files", NULL);
		if (put_file(store, keys, index, argv[i], &size) != 0)
			return 1;
		if (name == NULL) {
			name = strrchr(argv[i], '/');
			name = name != NULL ? name + 1 : argv[i];
		}
		bd_manifest_add_file(m, index, name, type ? type : "application/octet-stream",
		                     size);
		name = type = NULL;
	}
	if (bd_manifest_seal(m, keys, bd_keyring_gateway_public(kr, m->gateway_key_id), &sealed,
	                     &sealed_len, &err) < 0)
		return die("manifest", &err);
	bd_package_object_name(keys->id, 0, object, sizeof(object));
	bd_mem_source_init(&msrc, sealed, sealed_len);
	if (bd_store_put(store, object, &msrc.source, sealed_len, &err) < 0)
		return die("manifest upload", &err);
	free(sealed);
	t.type = BD_TOKEN_DOWNLOAD;
	t.key_id = m->link_key_id;
	t.expires = m->expires;
	memcpy(t.package_id, keys->id, sizeof(t.package_id));
	memcpy(t.secret, keys->secret, sizeof(t.secret));
	if (bd_token_encode(&t, kr, token, &err) < 0)
		return die("token", &err);
	bd_package_id_hex(keys->id, id);
	printf("%s/d/%s\n%s\n", conf->gateway.public_url, token, id);
	t.type = BD_TOKEN_MANAGE;
	if (bd_token_encode(&t, kr, token, &err) < 0)
		return die("token", &err);
	printf("%s/m/%s\n", conf->gateway.public_url, token);
	memset(&t, 0, sizeof(t));
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
	bd_store_close(&store);
	bd_keyring_free(&kr);
	bd_conf_free(&conf);
	return 0;
}
