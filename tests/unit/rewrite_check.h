/*
 * rewrite_check.h - run the rewrite engine on one message file and check
 * every promise it makes, independently of how the engine does it: the
 * output parses, what went is gone and decrypts to gmime's decoding of the
 * original part, what stayed is identical, every body has the link, the
 * output is CRLF and 7-bit. Shared by test_rewrite (golden files for
 * tests/data/messages) and test_rewrite_corpus (../shared/corpus).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_TEST_REWRITE_CHECK_H
#define BD_TEST_REWRITE_CHECK_H

#include <glib.h>
#include <stdint.h>

#include "keys.h"
#include "rewrite.h"
#include "store.h"

#define RWC_PUBLIC_URL "https://bestanden.example.org"

struct rwc {
	char *keydir;
	struct bd_keyring *keys;
	struct bd_store *store; /* the memory store, or one the test put in its place */
	char *templates;        /* BD_SOURCE_DIR/conf/templates */
};

struct rwc_stats {
	unsigned messages, changed, unchanged, malformed, errors, files;
	uint64_t bytes;
};

/* Keys in a temporary directory, the memory store, gmime. Aborts on failure. */
void rwc_init(struct rwc *c);
void rwc_free(struct rwc *c);

/* The base configuration for the tests plus EXTRA (INI text, may be NULL). */
struct bd_conf *rwc_conf(const struct rwc *c, const char *extra);

/*
 * Rewrite the message in PATH (line ends made CRLF first, as the MTA hands
 * it over) under configuration EXTRA and envelope ENV (NULL: outgoing,
 * sender unknown, no recipients). The decisions and the output's structure
 * are appended to DUMP (for golden files; may be NULL). Returns the number
 * of problems found; each is printed to stderr with PATH.
 */
int rwc_run(struct rwc *c, const char *path, const char *extra,
            const struct bd_rewrite_envelope *env, GString *dump, struct rwc_stats *stats);

/* The file as bytes with every bare LF made CRLF (g_free). */
char *rwc_read_crlf(const char *path, size_t *len);
/* Every message file below DIR (the corpus's MANIFEST.tsv and README.md left out). */
void rwc_collect_corpus(const char *dir, GPtrArray *out);

#endif
