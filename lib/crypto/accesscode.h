/*
 * accesscode.h - the code a sender chooses for a package ("[code:4711-x]" in
 * the Subject) and gives the recipient by phone.
 *
 * Only its hash is kept, inside the encrypted manifest (manifest.h,
 * protection.access_code_hash): libsodium's crypto_pwhash_str (Argon2id) at the
 * interactive limits. What the sender wrote and what a recipient types pass
 * through the same normalisation first (bd_access_code_normalise), so the two
 * meet: surrounding white space is dropped and ASCII letters are compared
 * without regard to case; everything else, inner spaces included, counts as
 * written. Codes are at most BD_ACCESS_CODE_MAX bytes and hold no control
 * characters. Nothing here logs or keeps a code; buffers holding one are wiped.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_ACCESSCODE_H
#define BD_ACCESSCODE_H

#include <stddef.h>

#include "error.h"

#define BD_ACCESS_CODE_MAX      64  /* bytes of a normalised code */
#define BD_ACCESS_CODE_HASH_MAX 128 /* crypto_pwhash_STRBYTES, terminator included */

/*
 * The normalised form of CODE into OUT (BD_ACCESS_CODE_MAX + 1 bytes): its
 * length, or -1 when nothing is left, it is too long or holds a control
 * character (BD_E_INVALID; the message never repeats the code).
 */
int bd_access_code_normalise(const char *code, char out[BD_ACCESS_CODE_MAX + 1],
                             struct bd_error *err);
/* The crypto_pwhash_str of CODE's normalised form into OUT. 0, or -1 with ERR. */
int bd_access_code_hash(const char *code, char out[BD_ACCESS_CODE_HASH_MAX], struct bd_error *err);
/* 1 when CODE (as typed) matches HASH, else 0 (also for a malformed code or hash). */
int bd_access_code_check(const char *hash, const char *code);

#endif
