/*
 * stream.c - payload encryption: age v1 STREAM inside the bestanden container.
 *
 * Encryption is a pull source that encrypts the plaintext in the reader's own
 * buffer; decryption takes ciphertext in any slicing and releases a chunk's part
 * of the requested range only after that chunk's tag checks out. Both run the
 * AEAD piece by piece, so no chunk is gathered just to be encrypted or opened.
 * Byte layout and the size formula: docs/FORMAT.md, section 4.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "stream.h"
#include "mem.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 22 /* magic (4), version (1), algorithm (1), nonce (16) */
#define SEALED_CHUNK (BD_STREAM_CHUNK + BD_STREAM_TAG_BYTES)

static const uint8_t magic[4] = {'B', 'D', 'S', 'T'};

/* ---- sizes ---------------------------------------------------------------------------------- */

size_t bd_stream_header_size(void)
{
	return HEADER_BYTES;
}

/* Chunks of a payload: at least one (an empty payload is one empty final chunk). */
static uint64_t chunk_count(uint64_t plaintext)
{
	return plaintext == 0 ? 1 : (plaintext + BD_STREAM_CHUNK - 1) / BD_STREAM_CHUNK;
}

/* Plaintext bytes of chunk I of a payload of PLAINTEXT bytes. */
static size_t chunk_plain_len(uint64_t plaintext, uint64_t i)
{
	uint64_t n = chunk_count(plaintext);

	return i + 1 < n ? BD_STREAM_CHUNK : (size_t)(plaintext - (n - 1) * BD_STREAM_CHUNK);
}

uint64_t bd_stream_ciphertext_size(uint64_t plaintext)
{
	return HEADER_BYTES + plaintext + chunk_count(plaintext) * BD_STREAM_TAG_BYTES;
}

int bd_stream_plaintext_size(uint64_t ciphertext, uint64_t *plaintext)
{
	uint64_t body, full, rest;

	if (ciphertext < HEADER_BYTES + BD_STREAM_TAG_BYTES)
		return -1;
	body = ciphertext - HEADER_BYTES;
	full = body / SEALED_CHUNK;
	rest = body % SEALED_CHUNK;
	if (rest == 0) {
		*plaintext = full * BD_STREAM_CHUNK;
	} else {
		/* a short final chunk holds at least one byte, unless it is the only chunk */
		if (rest < BD_STREAM_TAG_BYTES || (rest == BD_STREAM_TAG_BYTES && full > 0))
			return -1;
		*plaintext = full * BD_STREAM_CHUNK + rest - BD_STREAM_TAG_BYTES;
	}
	if (*plaintext > BD_STREAM_MAX_PLAINTEXT)
		return -1;
	return 0;
}

/* First and last chunk index that a plaintext range touches (see stream.h). */
static void chunk_span(uint64_t plaintext, uint64_t poff, uint64_t plen, uint64_t *first,
                       uint64_t *last)
{
	uint64_t n = chunk_count(plaintext);

	if (poff > plaintext)
		poff = plaintext;
	if (plen > plaintext - poff)
		plen = plaintext - poff;
	*first = poff / BD_STREAM_CHUNK;
	if (*first >= n)
		*first = n - 1;
	*last = plen == 0 ? *first : (poff + plen - 1) / BD_STREAM_CHUNK;
}

void bd_stream_cipher_range(uint64_t plaintext, uint64_t poff, uint64_t plen, uint64_t *off,
                            uint64_t *len)
{
	uint64_t first, last;

	chunk_span(plaintext, poff, plen, &first, &last);
	*off = HEADER_BYTES + first * SEALED_CHUNK;
	*len = (last - first) * SEALED_CHUNK + chunk_plain_len(plaintext, last) +
	       BD_STREAM_TAG_BYTES;
}

/* ---- primitives ------------------------------------------------------------------------------ */

void bd_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	crypto_auth_hmacsha256_state st;
	uint8_t prk[crypto_auth_hmacsha256_BYTES], t[crypto_auth_hmacsha256_BYTES];
	size_t tlen = 0, done = 0;
	uint8_t counter = 0;

	static const uint8_t none[1];

	if (outlen > 255 * sizeof(t))
		abort(); /* a caller bug, not a runtime condition */
	/* libsodium declares its pointers non-null even for zero lengths */
	if (salt == NULL)
		salt = none, saltlen = 0;
	if (info == NULL)
		info = none, infolen = 0;
	/* extract: PRK = HMAC(salt, IKM); an empty salt is HMAC's all-zero key, as RFC 5869 says */
	crypto_auth_hmacsha256_init(&st, salt, saltlen);
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);
	/* expand: T(i) = HMAC(PRK, T(i-1) || info || i) */
	while (done < outlen) {
		size_t n = outlen - done < sizeof(t) ? outlen - done : sizeof(t);

		counter++;
		crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
		crypto_auth_hmacsha256_update(&st, t, tlen);
		crypto_auth_hmacsha256_update(&st, info, infolen);
		crypto_auth_hmacsha256_update(&st, &counter, 1);
		crypto_auth_hmacsha256_final(&st, t);
		tlen = sizeof(t);
		memcpy(out + done, t, n);
		done += n;
	}
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

static void payload_key(const uint8_t *file_key, size_t keylen,
                        const uint8_t nonce[BD_STREAM_NONCE_BYTES], uint8_t *key)
{
	static const uint8_t info[] = {'p', 'a', 'y', 'l', 'o', 'a', 'd'};

	bd_hkdf_sha256(nonce, BD_STREAM_NONCE_BYTES, file_key, keylen, info, sizeof(info), key,
	               crypto_aead_chacha20poly1305_ietf_KEYBYTES);
}

/* age's chunk nonce: 11-byte big-endian counter, then 0x01 for the final chunk, else 0x00. */
static void chunk_nonce(uint64_t counter, int last, uint8_t nonce[12])
{
	memset(nonce, 0, 3);
	for (int i = 0; i < 8; i++)
		nonce[3 + i] = (uint8_t)(counter >> (56 - 8 * i));
	nonce[11] = last ? 1 : 0;
}

/*
 * ChaCha20-Poly1305 (RFC 8439, no associated data) one piece at a time, so a chunk is
 * sealed or opened in whatever slices the caller's buffers come in, without first
 * gathering it in a buffer of our own. Its output is byte for byte that of the
 * one-shot crypto_aead_chacha20poly1305_ietf_* functions, which chunk_open uses for
 * the age vectors; the FORMAT.md vectors come from an independent implementation.
 */
struct chunk_aead {
	crypto_onetimeauth_poly1305_state mac;
	uint8_t nonce[12];
	uint8_t block[64]; /* keystream of the block holding byte POS while POS is mid-block */
	uint64_t pos;      /* bytes of this chunk processed */
};

/* Everything secret of an encryptor or decryptor, in one sodium_malloc'ed block. */
struct stream_secrets {
	uint8_t key[crypto_aead_chacha20poly1305_ietf_KEYBYTES]; /* payload key */
	struct chunk_aead aead;
};

static void aead_start(struct chunk_aead *a, const uint8_t *key, uint64_t counter, int last)
{
	uint8_t otk[64];

	chunk_nonce(counter, last, a->nonce);
	crypto_stream_chacha20_ietf(otk, sizeof(otk), a->nonce, key); /* block 0: Poly1305 key */
	crypto_onetimeauth_poly1305_init(&a->mac, otk);
	sodium_memzero(otk, sizeof(otk));
	a->pos = 0;
}

/* OUT = IN xor keystream from block 1 on, continuing at a->pos; OUT may equal IN. */
static void aead_xor(struct chunk_aead *a, const uint8_t *key, const uint8_t *in, uint8_t *out,
                     size_t n)
{
	while (n > 0) {
		size_t off = (size_t)(a->pos % 64), m;
		uint32_t block = (uint32_t)(1 + a->pos / 64);

		if (off == 0 && n >= 64) {
			m = n - n % 64;
			crypto_stream_chacha20_ietf_xor_ic(out, in, m, a->nonce, block, key);
		} else {
			if (off == 0) {
				memset(a->block, 0, sizeof(a->block));
				crypto_stream_chacha20_ietf_xor_ic(
				        a->block, a->block, sizeof(a->block), a->nonce, block, key);
			}
			m = 64 - off < n ? 64 - off : n;
			for (size_t i = 0; i < m; i++)
				out[i] = in[i] ^ a->block[off + i];
		}
		in += m;
		out += m;
		n -= m;
		a->pos += m;
	}
}

/* Encrypt N bytes in place and authenticate them; in steps small enough that the
 * cipher's output is still in the L1 cache when Poly1305 reads it. */
#define AEAD_STEP 4096

static void aead_seal_piece(struct chunk_aead *a, const uint8_t *key, uint8_t *buf, size_t n)
{
	for (size_t off = 0; off < n; off += AEAD_STEP) {
		size_t m = n - off < AEAD_STEP ? n - off : AEAD_STEP;

		aead_xor(a, key, buf + off, buf + off, m);
		crypto_onetimeauth_poly1305_update(&a->mac, buf + off, m);
	}
}

static void aead_open_piece(struct chunk_aead *a, const uint8_t *key, const uint8_t *in,
                            uint8_t *out, size_t n)
{
	for (size_t off = 0; off < n; off += AEAD_STEP) {
		size_t m = n - off < AEAD_STEP ? n - off : AEAD_STEP;

		crypto_onetimeauth_poly1305_update(&a->mac, in + off, m);
		aead_xor(a, key, in + off, out + off, m);
	}
}

/* The tag over the a->pos ciphertext bytes fed to a->mac. */
static void aead_tag(struct chunk_aead *a, uint8_t tag[BD_STREAM_TAG_BYTES])
{
	static const uint8_t zero[16];
	uint8_t lengths[16] = {0}; /* le64(associated data length = 0) || le64(ciphertext length) */

	for (int i = 0; i < 8; i++)
		lengths[8 + i] = (uint8_t)(a->pos >> (8 * i));
	crypto_onetimeauth_poly1305_update(&a->mac, zero, (16 - a->pos % 16) % 16);
	crypto_onetimeauth_poly1305_update(&a->mac, lengths, sizeof(lengths));
	crypto_onetimeauth_poly1305_final(&a->mac, tag);
	sodium_memzero(a, sizeof(*a));
}

/* Open a sealed chunk of LEN >= 16 bytes into OUT (LEN - 16 bytes). */
static int chunk_open(const uint8_t *key, uint64_t counter, int last, const uint8_t *in, size_t len,
                      uint8_t *out)
{
	uint8_t nonce[12];

	chunk_nonce(counter, last, nonce);
	return crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, NULL, 0, nonce,
	                                                 key);
}

/* ---- encryption ------------------------------------------------------------------------------ */

/* The container header: magic, version, algorithm, nonce. */
static void header_bytes(const uint8_t nonce[BD_STREAM_NONCE_BYTES], uint8_t out[HEADER_BYTES])
{
	memcpy(out, magic, sizeof(magic));
	out[4] = BD_STREAM_VERSION;
	out[5] = BD_STREAM_ALG_AGE_STREAM;
	memcpy(out + 6, nonce, BD_STREAM_NONCE_BYTES);
}

struct bd_stream_enc {
	struct bd_source source;
	struct bd_source *plain;
	uint64_t plain_size;
	uint64_t nchunks, next; /* chunks in all; the chunk being written */
	size_t chunk_len, chunk_pos;
	int in_chunk;
	struct stream_secrets *s;
	uint8_t pending[HEADER_BYTES]; /* the header, later each chunk's tag, waiting to be read */
	size_t pending_len, pending_pos;
	int failed;
	struct bd_error err;
};

/* After the final chunk's plaintext the source must be at its end. */
static int enc_expect_end(struct bd_stream_enc *enc)
{
	uint8_t probe;
	ssize_t n = enc->plain->read(enc->plain->ctx, &probe, 1);

	if (n < 0)
		return bd_error_set(&enc->err, BD_E_IO, "reading the plaintext failed");
	if (n > 0)
		return bd_error_set(&enc->err, BD_E_INVALID,
		                    "the plaintext is longer than its declared size of %llu bytes",
		                    (unsigned long long)enc->plain_size);
	return 0;
}

/*
 * The plaintext is read straight into the reader's buffer and encrypted there,
 * so a byte is copied only by the plaintext source itself; the 22-byte header
 * and each 16-byte tag go out through PENDING.
 */
static ssize_t enc_read(void *ctx, uint8_t *out, size_t len)
{
	struct bd_stream_enc *enc = ctx;
	size_t done = 0;

	if (enc->failed)
		return -1;
	while (done < len) {
		if (enc->pending_pos < enc->pending_len) {
			size_t n = enc->pending_len - enc->pending_pos;

			if (n > len - done)
				n = len - done;
			memcpy(out + done, enc->pending + enc->pending_pos, n);
			enc->pending_pos += n;
			done += n;
			continue;
		}
		if (enc->next == enc->nchunks)
			break;
		if (!enc->in_chunk) {
			enc->chunk_len = chunk_plain_len(enc->plain_size, enc->next);
			enc->chunk_pos = 0;
			aead_start(&enc->s->aead, enc->s->key, enc->next,
			           enc->next + 1 == enc->nchunks);
			enc->in_chunk = 1;
		}
		if (enc->chunk_pos < enc->chunk_len) {
			size_t want = enc->chunk_len - enc->chunk_pos;
			ssize_t n;

			if (want > len - done)
				want = len - done;
			n = enc->plain->read(enc->plain->ctx, out + done, want);
			if (n < 0 || (size_t)n > want) {
				bd_error_set(&enc->err, BD_E_IO, "reading the plaintext failed");
				goto fail;
			}
			if (n == 0) {
				bd_error_set(&enc->err, BD_E_INVALID,
				             "the plaintext ended before its declared size of %llu "
				             "bytes",
				             (unsigned long long)enc->plain_size);
				goto fail;
			}
			aead_seal_piece(&enc->s->aead, enc->s->key, out + done, (size_t)n);
			enc->chunk_pos += (size_t)n;
			done += (size_t)n;
			continue;
		}
		if (enc->next + 1 == enc->nchunks && enc_expect_end(enc) < 0)
			goto fail;
		aead_tag(&enc->s->aead, enc->pending);
		enc->pending_len = BD_STREAM_TAG_BYTES;
		enc->pending_pos = 0;
		enc->in_chunk = 0;
		enc->next++;
	}
	return (ssize_t)done;
fail:
	sodium_memzero(out, len); /* nothing half-done leaves, plaintext least of all */
	enc->failed = 1;
	return -1;
}

struct bd_stream_enc *bd_stream_enc_new_nonce(const uint8_t key[BD_STREAM_KEY_BYTES],
                                              const uint8_t nonce[BD_STREAM_NONCE_BYTES],
                                              struct bd_source *plain, uint64_t plain_size)
{
	struct bd_stream_enc *enc = bd_calloc(1, sizeof(*enc));

	enc->source.read = enc_read;
	enc->source.ctx = enc;
	enc->plain = plain;
	enc->plain_size = plain_size;
	enc->nchunks = chunk_count(plain_size);
	enc->s = bd_secret_alloc(sizeof(*enc->s));
	payload_key(key, BD_STREAM_KEY_BYTES, nonce, enc->s->key);
	header_bytes(nonce, enc->pending);
	enc->pending_len = HEADER_BYTES;
	if (plain_size > BD_STREAM_MAX_PLAINTEXT) {
		bd_error_set(&enc->err, BD_E_LIMIT, "a payload may hold at most %llu bytes",
		             (unsigned long long)BD_STREAM_MAX_PLAINTEXT);
		enc->failed = 1;
	}
	return enc;
}

struct bd_stream_enc *bd_stream_enc_new(const uint8_t key[BD_STREAM_KEY_BYTES],
                                        struct bd_source *plain, uint64_t plain_size)
{
	uint8_t nonce[BD_STREAM_NONCE_BYTES];

	if (sodium_init() < 0)
		abort();
	randombytes_buf(nonce, sizeof(nonce));
	return bd_stream_enc_new_nonce(key, nonce, plain, plain_size);
}

struct bd_source *bd_stream_enc_source(struct bd_stream_enc *enc)
{
	return &enc->source;
}

const struct bd_error *bd_stream_enc_error(const struct bd_stream_enc *enc)
{
	return &enc->err;
}

void bd_stream_enc_free(struct bd_stream_enc **encp)
{
	struct bd_stream_enc *enc = *encp;

	if (enc == NULL)
		return;
	bd_secret_free(enc->s);
	free(enc);
	*encp = NULL;
}

/* ---- encryption of a stream of unknown length -------------------------------------------------
 */

/*
 * A chunk is sealed only when the byte after it arrives (then it is not the last) or
 * at the end (then it is): so one chunk is held, whatever the length.
 */
struct bd_stream_push {
	struct stream_secrets *s;
	struct bd_sink *out;
	uint8_t *chunk; /* SEALED_CHUNK bytes: plaintext, then sealed in place */
	size_t fill;
	uint64_t counter, total;
	uint8_t header[HEADER_BYTES];
	int header_sent, failed;
};

static int push_write(struct bd_stream_push *p, const uint8_t *buf, size_t len,
                      struct bd_error *err)
{
	if (p->out->write(p->out->ctx, buf, len) < 0) {
		p->failed = 1;
		return bd_error_set(err, BD_E_IO, "the encrypted stream could not be written");
	}
	return 0;
}

static int push_seal(struct bd_stream_push *p, int last, struct bd_error *err)
{
	uint8_t tag[BD_STREAM_TAG_BYTES];

	if (!p->header_sent) {
		if (push_write(p, p->header, HEADER_BYTES, err) < 0)
			return -1;
		p->header_sent = 1;
	}
	aead_start(&p->s->aead, p->s->key, p->counter++, last);
	aead_seal_piece(&p->s->aead, p->s->key, p->chunk, p->fill);
	aead_tag(&p->s->aead, tag);
	memcpy(p->chunk + p->fill, tag, sizeof(tag));
	if (push_write(p, p->chunk, p->fill + BD_STREAM_TAG_BYTES, err) < 0)
		return -1;
	p->fill = 0;
	return 0;
}

struct bd_stream_push *bd_stream_push_new_nonce(const uint8_t key[BD_STREAM_KEY_BYTES],
                                                const uint8_t nonce[BD_STREAM_NONCE_BYTES],
                                                struct bd_sink *out)
{
	struct bd_stream_push *p = bd_calloc(1, sizeof(*p));

	p->s = bd_secret_alloc(sizeof(*p->s));
	payload_key(key, BD_STREAM_KEY_BYTES, nonce, p->s->key);
	p->chunk = bd_malloc(SEALED_CHUNK);
	p->out = out;
	header_bytes(nonce, p->header);
	return p;
}

struct bd_stream_push *bd_stream_push_new(const uint8_t key[BD_STREAM_KEY_BYTES],
                                          struct bd_sink *out)
{
	uint8_t nonce[BD_STREAM_NONCE_BYTES];

	if (sodium_init() < 0)
		abort();
	randombytes_buf(nonce, sizeof(nonce));
	return bd_stream_push_new_nonce(key, nonce, out);
}

int bd_stream_push_update(struct bd_stream_push *p, const uint8_t *data, size_t len,
                          struct bd_error *err)
{
	if (p->failed)
		return bd_error_set(err, BD_E_INVALID, "the encrypted stream has failed already");
	if (len > BD_STREAM_MAX_PLAINTEXT - p->total) {
		p->failed = 1;
		return bd_error_set(err, BD_E_LIMIT, "a payload may hold at most %llu bytes",
		                    (unsigned long long)BD_STREAM_MAX_PLAINTEXT);
	}
	p->total += len;
	while (len > 0) {
		size_t m;

		/* a full chunk with more to come is not the last */
		if (p->fill == BD_STREAM_CHUNK && push_seal(p, 0, err) < 0)
			return -1;
		m = BD_STREAM_CHUNK - p->fill < len ? BD_STREAM_CHUNK - p->fill : len;
		memcpy(p->chunk + p->fill, data, m);
		p->fill += m;
		data += m;
		len -= m;
	}
	return 0;
}

int bd_stream_push_final(struct bd_stream_push *p, uint64_t *plain_size, struct bd_error *err)
{
	if (p->failed)
		return bd_error_set(err, BD_E_INVALID, "the encrypted stream has failed already");
	if (push_seal(p, 1, err) < 0)
		return -1;
	p->failed = 1; /* nothing may follow the last chunk */
	if (plain_size != NULL)
		*plain_size = p->total;
	return 0;
}

void bd_stream_push_free(struct bd_stream_push **pp)
{
	struct bd_stream_push *p = *pp;

	if (p == NULL)
		return;
	bd_secret_free(p->s);
	sodium_memzero(p->chunk, SEALED_CHUNK);
	free(p->chunk);
	free(p);
	*pp = NULL;
}

/* ---- decryption ------------------------------------------------------------------------------ */

struct bd_stream_dec {
	struct stream_secrets *s;
	uint64_t plain_size, nchunks, poff, pend;
	uint64_t next, last; /* the chunk arriving; the last chunk of the range */
	size_t chunk_len, chunk_pos;
	int in_chunk;
	uint8_t tag[BD_STREAM_TAG_BYTES];
	size_t tag_fill;
	struct bd_sink *out;
	struct bd_lending_sink *lend; /* or NULL */
	struct bd_span room[2];       /* lent room for the arriving chunk ... */
	int in_room;                  /* ... when this is set; else it goes to PBUF */
	uint8_t *pbuf; /* the plaintext of the arriving chunk, held until its tag checks out */
	int failed;
};

static int check_header(const uint8_t *header, size_t len, struct bd_error *err)
{
	if (len != HEADER_BYTES)
		return bd_error_set(err, BD_E_INVALID, "a payload header is %d bytes, not %zu",
		                    HEADER_BYTES, len);
	if (memcmp(header, magic, sizeof(magic)) != 0)
		return bd_error_set(err, BD_E_INVALID, "not a bestanden payload (bad magic)");
	if (header[4] != BD_STREAM_VERSION || header[5] != BD_STREAM_ALG_AGE_STREAM)
		return bd_error_set(err, BD_E_INVALID,
		                    "unsupported payload format (version %u, algorithm %u)",
		                    header[4], header[5]);
	return 0;
}

struct bd_stream_dec *bd_stream_dec_new(const uint8_t key[BD_STREAM_KEY_BYTES],
                                        const uint8_t *header, size_t header_len,
                                        uint64_t plain_size, uint64_t poff, uint64_t plen,
                                        struct bd_sink *out, struct bd_error *err)
{
	struct bd_stream_dec *dec;
	uint64_t first;

	if (sodium_init() < 0) {
		bd_error_set(err, BD_E_CRYPTO, "libsodium could not be initialised");
		return NULL;
	}
	if (check_header(header, header_len, err) < 0)
		return NULL;
	if (plain_size > BD_STREAM_MAX_PLAINTEXT) {
		bd_error_set(err, BD_E_LIMIT, "a payload may hold at most %llu bytes",
		             (unsigned long long)BD_STREAM_MAX_PLAINTEXT);
		return NULL;
	}
	if (poff > plain_size || plen > plain_size - poff) {
		bd_error_set(err, BD_E_INVALID,
		             "range %llu+%llu lies outside a payload of %llu bytes",
		             (unsigned long long)poff, (unsigned long long)plen,
		             (unsigned long long)plain_size);
		return NULL;
	}
	dec = bd_calloc(1, sizeof(*dec));
	dec->s = bd_secret_alloc(sizeof(*dec->s));
	payload_key(key, BD_STREAM_KEY_BYTES, header + 6, dec->s->key);
	dec->plain_size = plain_size;
	dec->nchunks = chunk_count(plain_size);
	dec->poff = poff;
	dec->pend = poff + plen;
	chunk_span(plain_size, poff, plen, &first, &dec->last);
	dec->next = first;
	dec->out = out;
	return dec;
}

void bd_stream_dec_lend(struct bd_stream_dec *dec, struct bd_lending_sink *out)
{
	dec->lend = out;
}

/* Whether the arriving chunk's plaintext lies wholly within the range. */
static int chunk_within(const struct bd_stream_dec *dec)
{
	uint64_t start = dec->next * BD_STREAM_CHUNK;

	return dec->chunk_len > 0 && dec->poff <= start && start + dec->chunk_len <= dec->pend;
}

/* Where the arriving chunk's plaintext goes: lent room, or our own buffer. */
static int chunk_place(struct bd_stream_dec *dec, struct bd_error *err)
{
	dec->in_room = 0;
	if (dec->lend != NULL && chunk_within(dec)) {
		int r = dec->lend->reserve(dec->lend->sink.ctx, dec->chunk_len, dec->room);

		if (r < 0)
			return bd_error_set(err, BD_E_IO, "the plaintext output refused the data");
		dec->in_room = r == 0;
	}
	if (!dec->in_room && dec->pbuf == NULL)
		dec->pbuf = bd_malloc(BD_STREAM_CHUNK);
	return 0;
}

/* Open the next N ciphertext bytes of the chunk into its place. */
static void chunk_open_piece(struct bd_stream_dec *dec, const uint8_t *cipher, size_t n)
{
	size_t pos = dec->chunk_pos;

	if (!dec->in_room) {
		aead_open_piece(&dec->s->aead, dec->s->key, cipher, dec->pbuf + pos, n);
		return;
	}
	while (n > 0) {
		const struct bd_span *r = &dec->room[pos < dec->room[0].len ? 0 : 1];
		size_t at = r == dec->room ? pos : pos - dec->room[0].len;
		size_t m = r->len - at < n ? r->len - at : n;

		aead_open_piece(&dec->s->aead, dec->s->key, cipher, r->data + at, m);
		cipher += m;
		pos += m;
		n -= m;
	}
}

/* Wipe the plaintext of a chunk that will never be released. */
static void chunk_wipe(struct bd_stream_dec *dec)
{
	if (dec->in_room) {
		sodium_memzero(dec->room[0].data, dec->room[0].len);
		if (dec->room[1].len > 0)
			sodium_memzero(dec->room[1].data, dec->room[1].len);
		dec->in_room = 0;
	}
	if (dec->pbuf != NULL)
		sodium_memzero(dec->pbuf, BD_STREAM_CHUNK);
}

/* The tag of chunk dec->next is complete: check it, then release the chunk's part of the range. */
static int dec_chunk_done(struct bd_stream_dec *dec, struct bd_error *err)
{
	uint64_t start = dec->next * BD_STREAM_CHUNK, end = start + dec->chunk_len;
	uint64_t a = dec->poff > start ? dec->poff : start;
	uint64_t b = dec->pend < end ? dec->pend : end;
	uint8_t tag[BD_STREAM_TAG_BYTES];
	int bad;

	aead_tag(&dec->s->aead, tag);
	bad = crypto_verify_16(tag, dec->tag);
	sodium_memzero(tag, sizeof(tag));
	if (bad)
		return bd_error_set(
		        err, BD_E_CRYPTO,
		        "payload chunk %llu failed authentication (wrong key or damaged data)",
		        (unsigned long long)dec->next);
	dec->next++;
	dec->in_chunk = 0;
	if (dec->in_room) {
		dec->in_room = 0;
		if (dec->lend->commit(dec->lend->sink.ctx, dec->chunk_len) < 0)
			return bd_error_set(err, BD_E_IO, "the plaintext output refused the data");
		return 0;
	}
	if (a < b && dec->out->write(dec->out->ctx, dec->pbuf + (a - start), (size_t)(b - a)) < 0)
		return bd_error_set(err, BD_E_IO, "the plaintext output refused the data");
	return 0;
}

int bd_stream_dec_update(struct bd_stream_dec *dec, const uint8_t *cipher, size_t len,
                         struct bd_error *err)
{
	if (dec->failed)
		return bd_error_set(err, BD_E_INVALID, "decryption already failed");
	while (len > 0) {
		size_t n;

		if (dec->next > dec->last) {
			dec->failed = 1;
			return bd_error_set(err, BD_E_CRYPTO,
			                    "more ciphertext than the requested range holds");
		}
		if (!dec->in_chunk) {
			dec->chunk_len = chunk_plain_len(dec->plain_size, dec->next);
			dec->chunk_pos = 0;
			dec->tag_fill = 0;
			aead_start(&dec->s->aead, dec->s->key, dec->next,
			           dec->next + 1 == dec->nchunks);
			dec->in_chunk = 1;
			if (chunk_place(dec, err) < 0) {
				dec->failed = 1;
				return -1;
			}
		}
		if (dec->chunk_pos < dec->chunk_len) {
			n = dec->chunk_len - dec->chunk_pos < len ? dec->chunk_len - dec->chunk_pos
			                                          : len;
			chunk_open_piece(dec, cipher, n);
			dec->chunk_pos += n;
		} else {
			n = BD_STREAM_TAG_BYTES - dec->tag_fill < len
			            ? BD_STREAM_TAG_BYTES - dec->tag_fill
			            : len;
			memcpy(dec->tag + dec->tag_fill, cipher, n);
			dec->tag_fill += n;
			if (dec->tag_fill == BD_STREAM_TAG_BYTES && dec_chunk_done(dec, err) < 0) {
				dec->failed = 1;
				chunk_wipe(dec);
				return -1;
			}
		}
		cipher += n;
		len -= n;
	}
	return 0;
}

int bd_stream_dec_final(struct bd_stream_dec *dec, struct bd_error *err)
{
	if (dec->failed)
		return bd_error_set(err, BD_E_INVALID, "decryption already failed");
	if (dec->next <= dec->last) {
		dec->failed = 1;
		return bd_error_set(err, BD_E_CRYPTO,
		                    "the ciphertext ended before the requested range was complete");
	}
	return 0;
}

void bd_stream_dec_free(struct bd_stream_dec **decp)
{
	struct bd_stream_dec *dec = *decp;

	if (dec == NULL)
		return;
	bd_secret_free(dec->s);
	chunk_wipe(dec); /* a chunk cut off mid-way was never checked */
	free(dec->pbuf);
	free(dec);
	*decp = NULL;
}

/* ---- whole buffers --------------------------------------------------------------------------- */

int bd_stream_encrypt_buffer(const uint8_t key[BD_STREAM_KEY_BYTES], const uint8_t *in, size_t len,
                             uint8_t **out, size_t *outlen, struct bd_error *err)
{
	struct bd_mem_source src;
	struct bd_stream_enc *enc;
	uint64_t size = bd_stream_ciphertext_size(len);
	size_t done = 0;
	uint8_t *buf;

	if (len > BD_STREAM_MAX_PLAINTEXT || size > SIZE_MAX)
		return bd_error_set(err, BD_E_LIMIT, "a payload may hold at most %llu bytes",
		                    (unsigned long long)BD_STREAM_MAX_PLAINTEXT);
	bd_mem_source_init(&src, in, len);
	enc = bd_stream_enc_new(key, &src.source, len);
	buf = bd_malloc((size_t)size);
	while (done < size) {
		ssize_t n = enc_read(enc, buf + done, (size_t)size - done);

		if (n <= 0) {
			bd_error_set(err, enc->err.code ? enc->err.code : BD_E_INVALID, "%s",
			             enc->err.code ? enc->err.msg : "the encryptor stopped early");
			bd_stream_enc_free(&enc);
			free(buf);
			return -1;
		}
		done += (size_t)n;
	}
	bd_stream_enc_free(&enc);
	*out = buf;
	*outlen = done;
	return 0;
}

int bd_stream_decrypt_buffer(const uint8_t key[BD_STREAM_KEY_BYTES], const uint8_t *in, size_t len,
                             uint8_t **out, size_t *outlen, struct bd_error *err)
{
	struct bd_buf_sink sink;
	struct bd_stream_dec *dec;
	uint64_t plain;

	if (len < HEADER_BYTES)
		return bd_error_set(err, BD_E_INVALID, "too short for a payload (%zu bytes)", len);
	if (check_header(in, HEADER_BYTES, err) < 0)
		return -1;
	if (bd_stream_plaintext_size(len, &plain) < 0)
		return bd_error_set(
		        err, BD_E_CRYPTO,
		        "%zu bytes is not a possible payload size (truncated or extended)", len);
	bd_buf_sink_init(&sink);
	dec = bd_stream_dec_new(key, in, HEADER_BYTES, plain, 0, plain, &sink.sink, err);
	if (dec == NULL)
		return -1;
	if (bd_stream_dec_update(dec, in + HEADER_BYTES, len - HEADER_BYTES, err) < 0 ||
	    bd_stream_dec_final(dec, err) < 0) {
		bd_stream_dec_free(&dec);
		if (sink.data != NULL)
			sodium_memzero(sink.data, sink.cap);
		free(sink.data);
		return -1;
	}
	bd_stream_dec_free(&dec);
	*out = sink.data != NULL ? sink.data : bd_malloc(1);
	*outlen = sink.len;
	return 0;
}

/* ---- raw age payloads (test vectors) --------------------------------------------------------- */

int bd_stream_age_decrypt(const uint8_t file_key[16], const uint8_t nonce[16],
                          const uint8_t *payload, size_t len, struct bd_sink *out,
                          struct bd_error *err)
{
	uint8_t *key = bd_secret_alloc(crypto_aead_chacha20poly1305_ietf_KEYBYTES);
	uint8_t *plain = bd_malloc(BD_STREAM_CHUNK);
	uint64_t counter = 0;
	size_t pos = 0;
	int r = -1;

	payload_key(file_key, 16, nonce, key);
	/* Without a declared size the final chunk is found as age finds it: a short chunk
	 * must be final; a full one is tried as non-final first, then as final. */
	for (;;) {
		size_t rest = len - pos, clen = rest < SEALED_CHUNK ? rest : SEALED_CHUNK;
		int last = rest < SEALED_CHUNK;

		if (rest == 0) {
			bd_error_set(err, BD_E_CRYPTO, "the payload has no final chunk");
			break;
		}
		if (clen < BD_STREAM_TAG_BYTES) {
			bd_error_set(err, BD_E_CRYPTO, "payload chunk %llu is truncated",
			             (unsigned long long)counter);
			break;
		}
		if (clen == BD_STREAM_TAG_BYTES && counter > 0) {
			bd_error_set(err, BD_E_CRYPTO, "empty final chunk after other chunks");
			break;
		}
		if (chunk_open(key, counter, last, payload + pos, clen, plain) != 0) {
			if (last || chunk_open(key, counter, 1, payload + pos, clen, plain) != 0) {
				bd_error_set(err, BD_E_CRYPTO,
				             "payload chunk %llu failed authentication",
				             (unsigned long long)counter);
				break;
			}
			last = 1;
		}
		if (out->write(out->ctx, plain, clen - BD_STREAM_TAG_BYTES) < 0) {
			bd_error_set(err, BD_E_IO, "the plaintext output refused the data");
			break;
		}
		pos += clen;
		if (last) {
			if (pos == len)
				r = 0;
			else
				bd_error_set(err, BD_E_CRYPTO,
				             "data after the final payload chunk");
			break;
		}
		counter++;
	}
	bd_secret_free(key);
	sodium_memzero(plain, BD_STREAM_CHUNK);
	free(plain);
	return r;
}
