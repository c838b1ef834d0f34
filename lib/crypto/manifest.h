/*
 * manifest.h - the one object per package that lists its files.
 *
 * Object "<id>/0". A clear header (magic, version, package id, key ids,
 * sealed server key, created, expires) that storage tools may read without
 * keys (the sweeper needs the expiry), authenticated as associated data of
 * an encrypted body that holds everything personal: file names, content
 * types, sizes, object indexes, sender and Message-ID, and from version 2 on
 * the message's external recipients and the package's protection (who must
 * prove what before downloading, receipts, a download limit, the hash of a
 * sender's access code). Storage never sees a file name or an address.
 * Layouts are in docs/FORMAT.md. Parsing enforces hard caps on every length
 * and count. Version 1 manifests still open; sealing always writes the
 * current version.
 * A struct bd_manifest and its strings are malloc'ed: bd_manifest_free().
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_MANIFEST_H
#define BD_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "accesscode.h"
#include "error.h"
#include "keys.h"
#include "package.h"

#define BD_MANIFEST_MAX_FILES      1000
#define BD_MANIFEST_MAX_STRING     1024 /* bytes of any one name, type or address */
#define BD_MANIFEST_MAX_RECIPIENTS 1000
#define BD_MANIFEST_VERSION        2   /* written by bd_manifest_seal; 1 still opens */
#define BD_MANIFEST_HEADER_BYTES   136 /* the clear header, also the AEAD's associated data */
/* Largest possible sealed manifest (every cap reached): a download can refuse more. */
#define BD_MANIFEST_MAX_BYTES                                                                      \
	(BD_MANIFEST_HEADER_BYTES + 16 + 2 * (2 + BD_MANIFEST_MAX_STRING) + 2 +                    \
	 BD_MANIFEST_MAX_FILES * (4 + 8 + 2 * (2 + BD_MANIFEST_MAX_STRING)) + 2 +                  \
	 BD_MANIFEST_MAX_RECIPIENTS * (2 + BD_MANIFEST_MAX_STRING) + 1 + 1 + 4 + 2 +               \
	 BD_ACCESS_CODE_HASH_MAX - 1)

struct bd_manifest_file {
	unsigned index;     /* object number, 1-based */
	char *name;         /* sanitised display name, UTF-8 */
	char *content_type; /* e.g. application/pdf */
	uint64_t size;      /* plaintext bytes */
};

/* What a recipient must do before the files are served (version 2; a version 1
 * manifest reads as all zero: no verification, no receipts, no limit). */
enum bd_verify { BD_VERIFY_OFF = 0, BD_VERIFY_CODE = 1 };
enum bd_receipts { BD_RECEIPTS_OFF = 0, BD_RECEIPTS_FIRST = 1, BD_RECEIPTS_EVERY = 2 };

struct bd_protection {
	enum bd_verify verify;
	enum bd_receipts receipts;
	unsigned max_downloads; /* per file; 0 = no limit */
	char *access_code_hash; /* crypto_pwhash_str() output (accesscode.h), or NULL */
};

struct bd_manifest {
	unsigned version; /* as read; BD_MANIFEST_VERSION for new ones */
	uint8_t package_id[BD_PACKAGE_ID_BYTES];
	unsigned link_key_id;
	unsigned gateway_key_id;
	int64_t created;  /* unix seconds */
	int64_t expires;  /* unix seconds */
	char *sender;     /* envelope sender or NULL */
	char *message_id; /* Message-ID or NULL */
	size_t nfiles;
	struct bd_manifest_file *files;
	char **recipients; /* the message's external recipient addresses, unique */
	size_t nrecipients;
	struct bd_protection protection;
};

/* What a sealed object with this header is: a package's manifest, or an upload
 * request (request.h), which shares the header and differs in magic and body. */
enum bd_sealed_kind { BD_SEALED_MANIFEST, BD_SEALED_REQUEST };

/* The clear header, readable without keys. */
struct bd_manifest_header {
	enum bd_sealed_kind kind;
	unsigned version;
	uint8_t package_id[BD_PACKAGE_ID_BYTES];
	unsigned link_key_id;
	unsigned gateway_key_id;
	int64_t created;
	int64_t expires;
	uint8_t sealed_server_key[BD_SEALED_SERVER_KEY_BYTES];
};

struct bd_manifest *bd_manifest_new(void);
/* Append a file; strings are copied. Returns the new entry. */
struct bd_manifest_file *bd_manifest_add_file(struct bd_manifest *m, unsigned index,
                                              const char *name, const char *content_type,
                                              uint64_t size);
/*
 * Append a recipient address (copied). An address already listed is not added
 * again (0); an empty one is BD_E_INVALID, one longer than BD_MANIFEST_MAX_STRING
 * or one past BD_MANIFEST_MAX_RECIPIENTS is BD_E_LIMIT.
 */
int bd_manifest_add_recipient(struct bd_manifest *m, const char *address, struct bd_error *err);
/* True when ADDRESS (compared without regard to case) is one of M's recipients. */
int bd_manifest_has_recipient(const struct bd_manifest *m, const char *address);
void bd_manifest_free(struct bd_manifest **m);

/* Serialise and encrypt M (its package_id must equal KEYS->id). *out is malloc'ed. */
int bd_manifest_seal(const struct bd_manifest *m, const struct bd_package_keys *keys,
                     const uint8_t gateway_pk[32], uint8_t **out, size_t *outlen,
                     struct bd_error *err);
/* Read the clear header only: of a manifest or of an upload request (H->kind says which;
 * the sweeper needs only the expiry of either). */
int bd_manifest_parse_header(const uint8_t *buf, size_t len, struct bd_manifest_header *h,
                             struct bd_error *err);
/*
 * Open a sealed manifest with the link SECRET and the gateway's secret key of
 * the header's key id from KR. On success *m_out and *keys_out (the package's
 * keys, to derive file keys) belong to the caller. Any modification of any
 * byte fails with BD_E_CRYPTO; unknown key id with BD_E_KEY.
 */
int bd_manifest_open(const uint8_t *buf, size_t len, const uint8_t secret[BD_SECRET_BYTES],
                     const struct bd_keyring *kr, struct bd_manifest **m_out,
                     struct bd_package_keys **keys_out, struct bd_error *err);

/*
 * The body codec alone, without encryption: for tests and fuzzing. Both use the
 * body layout of M->version (1 or 2; 0 means BD_MANIFEST_VERSION). Decoding
 * fills sender, message_id, files and, for version 2, recipients and protection
 * of a fresh M (free it whatever happens) and accepts exactly the encodings
 * that bd_manifest_body_encode produces.
 */
int bd_manifest_body_encode(const struct bd_manifest *m, uint8_t **out, size_t *outlen,
                            struct bd_error *err);
int bd_manifest_body_decode(const uint8_t *buf, size_t len, struct bd_manifest *m,
                            struct bd_error *err);

#endif
