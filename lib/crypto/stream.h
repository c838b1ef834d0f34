/*
 * stream.h - payload encryption: the age v1 STREAM construction in a small
 * container (docs/FORMAT.md is the normative description).
 *
 * ChaCha20-Poly1305 over 64 KiB chunks; the payload key comes from the
 * file key and a random 16-byte nonce by HKDF-SHA-256. Every chunk can be
 * opened on its own, so any byte range decrypts without reading the rest.
 * The ciphertext size follows from the plaintext size alone, so an upload
 * can declare its length before the first byte is encrypted.
 * Keys are the caller's; objects here copy what they need into secret memory.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_STREAM_H
#define BD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "io.h"

#define BD_STREAM_KEY_BYTES      32
#define BD_STREAM_CHUNK          65536u
#define BD_STREAM_TAG_BYTES      16u
#define BD_STREAM_NONCE_BYTES    16u
#define BD_STREAM_VERSION        1 /* container version byte */
#define BD_STREAM_ALG_AGE_STREAM 1 /* algorithm byte: age v1 STREAM, 64 KiB chunks */
#define BD_STREAM_MAX_PLAINTEXT  (UINT64_C(1) << 60) /* refused above this */

/* Bytes of the container header (magic, algorithm id, nonce) before the first chunk. */
size_t bd_stream_header_size(void);
/* Exact ciphertext size (container header included) for PLAINTEXT bytes. */
uint64_t bd_stream_ciphertext_size(uint64_t plaintext);
/* Ciphertext byte range [*off, *off + *len) that holds plaintext [poff, poff + plen),
 * whole chunks, for a payload of PLAINTEXT bytes in all. Offsets count from the start
 * of the object (header included). The range is never empty: PLEN 0 names the chunk
 * holding POFF (so an empty payload's single chunk is still authenticated); a range
 * reaching past PLAINTEXT is clipped to it. */
void bd_stream_cipher_range(uint64_t plaintext, uint64_t poff, uint64_t plen, uint64_t *off,
                            uint64_t *len);
/* Inverse of bd_stream_ciphertext_size: 0 and *plaintext set, or -1 when no
 * plaintext size gives CIPHERTEXT bytes (a truncated or extended object). */
int bd_stream_plaintext_size(uint64_t ciphertext, uint64_t *plaintext);

/*
 * Encryption as a pull source: reading from the returned source yields the
 * container header and the sealed chunks of everything PLAIN yields, exactly
 * bd_stream_ciphertext_size(PLAIN_SIZE) bytes. PLAIN must yield exactly
 * PLAIN_SIZE bytes, else the read fails. Free with bd_stream_enc_free().
 */
struct bd_stream_enc;
struct bd_stream_enc *bd_stream_enc_new(const uint8_t key[BD_STREAM_KEY_BYTES],
                                        struct bd_source *plain, uint64_t plain_size);
struct bd_source *bd_stream_enc_source(struct bd_stream_enc *enc);
/* Why a read of the source returned -1 (code BD_OK while nothing failed). */
const struct bd_error *bd_stream_enc_error(const struct bd_stream_enc *enc);
void bd_stream_enc_free(struct bd_stream_enc **enc);
/* As bd_stream_enc_new with a given nonce instead of a random one: for test vectors only;
 * a nonce must never be used twice with one key. */
struct bd_stream_enc *bd_stream_enc_new_nonce(const uint8_t key[BD_STREAM_KEY_BYTES],
                                              const uint8_t nonce[BD_STREAM_NONCE_BYTES],
                                              struct bd_source *plain, uint64_t plain_size);

/*
 * Encryption as a push sink, for plaintext of a length known only at its end (an
 * upload through a web form): feed it in any slicing; the container header and each
 * sealed chunk go to OUT as soon as the byte after the chunk (or the end) is known,
 * so at most one chunk is held. The output is byte for byte that of bd_stream_enc
 * for the same key, nonce and plaintext. After a failure every call fails.
 */
struct bd_stream_push;
struct bd_stream_push *bd_stream_push_new(const uint8_t key[BD_STREAM_KEY_BYTES],
                                          struct bd_sink *out);
int bd_stream_push_update(struct bd_stream_push *p, const uint8_t *data, size_t len,
                          struct bd_error *err);
/* Seal the last chunk; *PLAIN_SIZE (may be NULL) gets the plaintext bytes in all. */
int bd_stream_push_final(struct bd_stream_push *p, uint64_t *plain_size, struct bd_error *err);
void bd_stream_push_free(struct bd_stream_push **p);
/* With a given nonce: test vectors only. */
struct bd_stream_push *bd_stream_push_new_nonce(const uint8_t key[BD_STREAM_KEY_BYTES],
                                                const uint8_t nonce[BD_STREAM_NONCE_BYTES],
                                                struct bd_sink *out);

/*
 * Decryption of a byte range: feed the ciphertext that bd_stream_cipher_range()
 * named (in order, in any slicing) and the plaintext of [poff, poff+plen) goes
 * to OUT. Authentication failure of any chunk stops it with BD_E_CRYPTO before
 * that chunk's plaintext is released. The container header (the first
 * bd_stream_header_size() bytes of the object) must be given to _new.
 */
struct bd_stream_dec;
struct bd_stream_dec *bd_stream_dec_new(const uint8_t key[BD_STREAM_KEY_BYTES],
                                        const uint8_t *header, size_t header_len,
                                        uint64_t plain_size, uint64_t poff, uint64_t plen,
                                        struct bd_sink *out, struct bd_error *err);
/* Decrypt each chunk that lies wholly within the range straight into room that OUT
 * lends (OUT->sink must be the OUT given to _new), and commit it only once its tag
 * checks out; room of a chunk that fails is wiped. Chunks cut by the range, and any
 * when OUT cannot lend, still go through a buffer of the decryptor's own. */
void bd_stream_dec_lend(struct bd_stream_dec *dec, struct bd_lending_sink *out);
int bd_stream_dec_update(struct bd_stream_dec *dec, const uint8_t *cipher, size_t len,
                         struct bd_error *err);
/* After the last byte: fails if the range was not complete. */
int bd_stream_dec_final(struct bd_stream_dec *dec, struct bd_error *err);
void bd_stream_dec_free(struct bd_stream_dec **dec);

/* Whole-buffer conveniences (tests, manifests, small objects). *out is malloc'ed. */
int bd_stream_encrypt_buffer(const uint8_t key[BD_STREAM_KEY_BYTES], const uint8_t *in, size_t len,
                             uint8_t **out, size_t *outlen, struct bd_error *err);
int bd_stream_decrypt_buffer(const uint8_t key[BD_STREAM_KEY_BYTES], const uint8_t *in, size_t len,
                             uint8_t **out, size_t *outlen, struct bd_error *err);

/*
 * Raw age STREAM (no container header): payload key from FILE_KEY and NONCE
 * by HKDF-SHA-256 (salt = nonce, info = "payload"), then decrypt the chunk
 * sequence. Used to check against the age test vectors. Releases plaintext
 * chunk by chunk into OUT, so a later failure still leaves earlier output.
 */
int bd_stream_age_decrypt(const uint8_t file_key[16], const uint8_t nonce[16],
                          const uint8_t *payload, size_t len, struct bd_sink *out,
                          struct bd_error *err);

/* HKDF-SHA-256 (RFC 5869) built from libsodium's HMAC-SHA-256. OUTLEN <= 255*32. */
void bd_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);

#endif
