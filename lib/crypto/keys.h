/*
 * keys.h - the key directory: link MAC keys, gateway key pairs, store token.
 *
 * bestanden keygen creates, in one directory (mode 0700):
 *   link-N.key      32-byte key that signs link tokens (secret, 0600)
 *   gateway-N.key   X25519 secret key that opens sealed server keys (secret, 0600)
 *   gateway-N.pub   its public key; all the milter needs (0644)
 *   store.token     bearer token of the gateway's object API (secret, 0600)
 *   admin.token     bearer token of the gateway's admin API (secret, 0600)
 *   current         which link and gateway key ids new packages use
 * Ids are 1..255. Rotation adds a new id and makes it current; old ids stay
 * usable for verifying and opening until their files are removed, which is
 * what destroys old packages for good (crypto-shredding).
 * Every loader refuses a secret file that group or others can read.
 * A keyring owns its secrets (sodium_malloc'ed, wiped by bd_keyring_free).
 * Sealed server keys are opened through the keyring's opener: by default the
 * keyring itself with the gateway secret keys it loaded; the gateway's HTTP
 * process loads none and asks its key process instead (keyproc.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_KEYS_H
#define BD_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "package.h"

#define BD_LINK_KEY_BYTES    32
#define BD_GATEWAY_KEY_BYTES 32 /* crypto_box_SECRETKEYBYTES == PUBLICKEYBYTES */
#define BD_KEY_ID_MAX        255

enum bd_key_kind {
	BD_KEY_LINK,
	BD_KEY_GATEWAY,
};

/* What a program needs from the key directory. */
enum {
	BD_NEED_LINK = 1 << 0,           /* link keys (milter signs, gateway verifies) */
	BD_NEED_GATEWAY_PUBLIC = 1 << 1, /* milter: seal server keys */
	BD_NEED_GATEWAY_SECRET = 1 << 2, /* gateway and CLI fetch: open them */
};

struct bd_keyring;

struct bd_keyring *bd_keyring_load(const char *dir, unsigned need, struct bd_error *err);
void bd_keyring_free(struct bd_keyring **kr);

/* Current ids for new packages (0 when that kind was not loaded). */
unsigned bd_keyring_current(const struct bd_keyring *kr, enum bd_key_kind kind);
/* Key material by id; NULL when the id is unknown or was not loaded. */
const uint8_t *bd_keyring_link_key(const struct bd_keyring *kr, unsigned id);
const uint8_t *bd_keyring_gateway_public(const struct bd_keyring *kr, unsigned id);
const uint8_t *bd_keyring_gateway_secret(const struct bd_keyring *kr, unsigned id);

/*
 * Who opens sealed server keys for a keyring. OPEN gets the gateway key ID, the
 * sealed object's clear header as stored (HEADERLEN bytes, docs/FORMAT.md) and
 * the sealed server key it holds, and fills KEYS->server_key; errors as
 * bd_keyring_open_server_key. CLOSE (may be NULL) releases CTX with the keyring.
 */
struct bd_key_opener {
	int (*open)(void *ctx, unsigned id, const uint8_t *header, size_t headerlen,
	            const uint8_t sealed[BD_SEALED_SERVER_KEY_BYTES], struct bd_package_keys *keys,
	            struct bd_error *err);
	void (*close)(void *ctx);
};
/* From now on KR opens through OP with CTX (the keyring owns CTX: OP->close at free). */
void bd_keyring_set_opener(struct bd_keyring *kr, const struct bd_key_opener *op, void *ctx);
/*
 * Open SEALED (found in HEADER, the clear header of a manifest or an upload
 * request) with gateway key ID into KEYS->server_key. BD_E_KEY: the key is not
 * there (removed, or never loaded); BD_E_CRYPTO: it does not open; BD_E_TEMP: the
 * key process does not answer.
 */
int bd_keyring_open_server_key(const struct bd_keyring *kr, unsigned id, const uint8_t *header,
                               size_t headerlen, const uint8_t sealed[BD_SEALED_SERVER_KEY_BYTES],
                               struct bd_package_keys *keys, struct bd_error *err);

/* A listing entry, for `bestanden keys list`. */
struct bd_key_info {
	enum bd_key_kind kind;
	unsigned id;
	time_t created;
	int current;
	int has_secret; /* gateway: the .key file is present */
};
/* Fills up to MAX entries, sorted by kind then id; returns the count or -1. */
int bd_keys_list(const char *dir, struct bd_key_info *out, size_t max, struct bd_error *err);

/*
 * When retired key ID of KIND may be removed, from a listing of N entries: a
 * key is retired when the next key of its kind is made (*RETIRED; NOW when no
 * successor is listed), and is needed for KEEP seconds after that ([policy]
 * retention + [keys] grace). Returns that time, or 0 when it may go at NOW,
 * or is not listed, or is current (bd_keys_remove refuses that itself).
 */
time_t bd_keys_needed_until(const struct bd_key_info *info, int n, enum bd_key_kind kind,
                            unsigned id, uint64_t keep, time_t now, time_t *retired);

/* What bd_keys_maintain did: a gateway key made current, or one removed. */
struct bd_keys_action {
	int removed; /* 0: ID became current; 1: ID was removed */
	unsigned id;
	time_t retired; /* removed: when it stopped being current */
};

/*
 * The gateway key pairs' lifecycle at NOW: first removes every retired gateway
 * key no longer needed (bd_keys_needed_until with KEEP), then rotates when
 * ROTATE_EVERY (seconds, 0 = never) has passed since the current one was made.
 * Fills up to MAX actions; returns their count, or -1 with ERR (the actions
 * done before the error are in OUT, their count in *DONE).
 */
int bd_keys_maintain(const char *dir, uint64_t rotate_every, uint64_t keep, time_t now,
                     struct bd_keys_action *out, size_t max, size_t *done, struct bd_error *err);

/* One action as a key=value log line ("event=key-rotated kind=gateway id=2"). */
void bd_keys_action_format(const struct bd_keys_action *a, char *buf, size_t size);

/*
 * Which `current` file the key directory has (inode, size, modification
 * time): a daemon compares stamps to notice a rotation without a SIGHUP.
 * All zero when it cannot be read.
 */
struct bd_keys_stamp {
	unsigned long long ino, size;
	long long sec, nsec;
};
void bd_keys_stamp_read(const char *dir, struct bd_keys_stamp *out);
int bd_keys_stamp_equal(const struct bd_keys_stamp *a, const struct bd_keys_stamp *b);

/* First-time setup: creates DIR and every file above. Refuses if keys exist. */
int bd_keys_generate(const char *dir, struct bd_error *err);
/* New current id for KIND; returns the id or -1. */
int bd_keys_rotate(const char *dir, enum bd_key_kind kind, struct bd_error *err);
/* Remove a key that is not current (destroys what it protected). */
int bd_keys_remove(const char *dir, enum bd_key_kind kind, unsigned id, struct bd_error *err);

/*
 * Read a small secret file (token, S3 secret) into sodium_malloc'ed memory,
 * refusing group/world-readable files; trailing newline removed, NUL-terminated.
 * Free with bd_secret_free().
 */
char *bd_secret_file_read(const char *path, size_t max, struct bd_error *err);

const char *bd_key_kind_name(enum bd_key_kind kind);

#endif
