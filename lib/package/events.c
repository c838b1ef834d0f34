/*
 * events.c - a package's event objects (see events.h, docs/FORMAT.md 11).
 *
 * An object is "bdev", a format byte, a 24-byte nonce and the body under
 * XChaCha20-Poly1305 with the events key; the associated data is those first
 * five bytes and the object's name, so an event copied to another name or
 * package does not open. Names carry the time in microseconds, kept rising
 * within one process, so a listing in byte order is oldest first.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "events.h"
#include "download.h"
#include "mem.h"
#include "sealed.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAGIC      "bdev"
#define FORMAT     1
#define HEAD_BYTES 5
#define OPEN_BYTES (HEAD_BYTES + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define STAMP_HEX  24 /* 16 hex microseconds, 8 hex random */
#define NAME_BYTES (BD_PACKAGE_ID_HEX + 4 + STAMP_HEX + 1)

static const char *const kind_names[] = {
        [BD_EVENT_RANGE] = "range",
        [BD_EVENT_COMPLETE] = "complete",
        [BD_EVENT_CODE_SENT] = "code-sent",
        [BD_EVENT_VERIFIED] = "verified",
        [BD_EVENT_CODE_FAILED] = "code-failed",
        [BD_EVENT_LOCKED] = "locked",
        [BD_EVENT_RECEIPT_SENT] = "receipt-sent",
        [BD_EVENT_EXTENDED] = "extended",
        [BD_EVENT_MANAGE_VIEWED] = "manage-viewed",
};

const char *bd_event_kind_name(enum bd_event_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]) ||
	    kind_names[kind] == NULL)
		return "?";
	return kind_names[kind];
}

/* "hex(id)/0e/": a name no file can have (file numbers have no leading zero). */
static void events_prefix(const struct bd_package_keys *keys, char out[BD_PACKAGE_ID_HEX + 4])
{
	char hex[BD_PACKAGE_ID_HEX];

	bd_package_id_hex(keys->id, hex);
	snprintf(out, BD_PACKAGE_ID_HEX + 4, "%s/" BD_EVENTS_DIR "/", hex);
}

/* Microseconds now, never equal to or below the last value this process handed out. */
static uint64_t stamp_now(void)
{
	static _Atomic uint64_t last;
	struct timespec ts;
	uint64_t now, prev;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	prev = atomic_load(&last);
	do {
		if (now <= prev)
			now = prev + 1;
	} while (!atomic_compare_exchange_weak(&last, &prev, now));
	return now;
}

void bd_event_client_hash(const struct bd_package_keys *keys, const char *address,
                          uint8_t out[BD_EVENT_CLIENT_BYTES])
{
	uint8_t key[BD_CONTENT_KEY_BYTES];

	bd_package_client_key(keys, key);
	crypto_generichash(out, BD_EVENT_CLIENT_BYTES, (const uint8_t *)address, strlen(address),
	                   key, sizeof(key));
	sodium_memzero(key, sizeof(key));
}

static int encode(const struct bd_event *ev, struct bd_codec_writer *w, struct bd_error *err)
{
	int64_t at = ev->at != 0 ? ev->at : (int64_t)time(NULL);

	bd_codec_put_be(w, (uint64_t)ev->kind, 1);
	bd_codec_put_be(w, (uint64_t)at, 8);
	bd_codec_put_be(w, ev->file, 4);
	bd_codec_put_be(w, ev->offset, 8);
	bd_codec_put_be(w, ev->length, 8);
	bd_codec_put(w, ev->client, sizeof(ev->client));
	return bd_codec_put_string(w, ev->who, "event address", err);
}

static int decode(const uint8_t *body, size_t len, struct bd_event *ev, struct bd_error *err)
{
	struct bd_codec_reader r = {body, len, 0, "event body"};
	uint64_t kind, at, file;
	char *who = NULL;
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	if (bd_codec_get_be(&r, 1, &kind, err) < 0 || bd_codec_get_be(&r, 8, &at, err) < 0 ||
	    bd_codec_get_be(&r, 4, &file, err) < 0 ||
	    bd_codec_get_be(&r, 8, &ev->offset, err) < 0 ||
	    bd_codec_get_be(&r, 8, &ev->length, err) < 0)
		return -1;
	if (r.len - r.pos < sizeof(ev->client))
		return bd_error_set(err, BD_E_INVALID, "event body is truncated");
	memcpy(ev->client, r.p + r.pos, sizeof(ev->client));
	r.pos += sizeof(ev->client);
	if (bd_codec_get_string(&r, 0, &who, err) < 0)
		return -1;
	if (strlen(who) >= sizeof(ev->who))
		bd_error_set(err, BD_E_INVALID, "event address is too long");
	else if (bd_codec_get_end(&r, err) == 0)
		rc = 0;
	if (rc == 0) {
		memcpy(ev->who, who, strlen(who) + 1);
		ev->kind = (enum bd_event_kind)kind;
		ev->at = (int64_t)at;
		ev->file = (unsigned)file;
	}
	sodium_memzero(who, strlen(who));
	free(who);
	return rc;
}

int bd_events_record(struct bd_store *st, const struct bd_package_keys *keys,
                     const struct bd_event *ev, struct bd_error *err)
{
	struct bd_codec_writer w = {0};
	struct bd_mem_source src;
	uint8_t key[BD_CONTENT_KEY_BYTES], *obj, *ad;
	char name[NAME_BYTES];
	size_t adlen, objlen;
	int rc;

	if (strlen(ev->who) >= sizeof(ev->who))
		return bd_error_set(err, BD_E_INVALID, "event address is too long");
	if (encode(ev, &w, err) < 0) {
		bd_codec_writer_wipe(&w);
		return -1;
	}
	events_prefix(keys, name);
	snprintf(name + strlen(name), sizeof(name) - strlen(name), "%016llx%08x",
	         (unsigned long long)stamp_now(), (unsigned)randombytes_random());
	objlen = OPEN_BYTES + w.len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	obj = bd_malloc(objlen);
	memcpy(obj, MAGIC, 4);
	obj[4] = FORMAT;
	randombytes_buf(obj + HEAD_BYTES, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	adlen = HEAD_BYTES + strlen(name);
	ad = bd_malloc(adlen);
	memcpy(ad, obj, HEAD_BYTES);
	memcpy(ad + HEAD_BYTES, name, strlen(name));
	bd_package_events_key(keys, key);
	crypto_aead_xchacha20poly1305_ietf_encrypt(obj + OPEN_BYTES, NULL, w.p, w.len, ad, adlen,
	                                           NULL, obj + HEAD_BYTES, key);
	sodium_memzero(key, sizeof(key));
	bd_codec_writer_wipe(&w);
	free(ad);
	bd_mem_source_init(&src, obj, objlen);
	rc = bd_store_put(st, name, &src.source, objlen, err);
	free(obj);
	return rc;
}

/* ---- listing ---- */

struct names {
	char (*v)[NAME_BYTES];
	size_t n;
	size_t prefix_len;
	struct bd_error *err;
	int failed;
};

static int collect(void *ctx, const char *name, uint64_t size)
{
	struct names *l = ctx;
	const char *stamp = name + l->prefix_len;

	if (strlen(stamp) != STAMP_HEX || strspn(stamp, "0123456789abcdef") != STAMP_HEX) {
		bd_error_set(l->err, BD_E_CRYPTO, "object %.80s is no event", name);
		l->failed = 1;
		return 1;
	}
	if (size > BD_EVENT_OBJECT_MAX || l->n >= BD_EVENTS_MAX) {
		bd_error_set(l->err, BD_E_LIMIT,
		             "%s: more events or larger ones than %d of %d bytes", name,
		             BD_EVENTS_MAX, BD_EVENT_OBJECT_MAX);
		l->failed = 1;
		return 1;
	}
	if ((l->n & (l->n - 1)) == 0) /* 0, 1, 2, 4, ...: double */
		l->v = bd_realloc(l->v, (l->n ? 2 * l->n : 1) * sizeof(*l->v));
	memcpy(l->v[l->n++], name, l->prefix_len + STAMP_HEX + 1);
	return 0;
}

static int open_event(struct bd_store *st, const uint8_t key[BD_CONTENT_KEY_BYTES],
                      const char *name, struct bd_event *ev, struct bd_error *err)
{
	struct bd_buf_sink buf;
	uint8_t *body = NULL, *ad;
	unsigned long long bodylen = 0;
	size_t adlen = HEAD_BYTES + strlen(name);
	int rc = -1;

	if (bd_download_fetch_small(st, name, 0, BD_EVENT_OBJECT_MAX, &buf, err) < 0)
		return -1;
	if (buf.len < OPEN_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
	    memcmp(buf.data, MAGIC, 4) != 0 || buf.data[4] != FORMAT) {
		free(buf.data);
		return bd_error_set(err, BD_E_CRYPTO, "event %s is damaged", name);
	}
	ad = bd_malloc(adlen);
	memcpy(ad, buf.data, HEAD_BYTES);
	memcpy(ad + HEAD_BYTES, name, strlen(name));
	body = bd_malloc(buf.len - OPEN_BYTES);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(body, &bodylen, NULL, buf.data + OPEN_BYTES,
	                                               buf.len - OPEN_BYTES, ad, adlen,
	                                               buf.data + HEAD_BYTES, key) != 0)
		bd_error_set(err, BD_E_CRYPTO, "event %s does not open: tampered or not ours",
		             name);
	else if (decode(body, (size_t)bodylen, ev, err) < 0)
		bd_error_prefix(err, "event %s", name);
	else
		rc = 0;
	sodium_memzero(body, buf.len - OPEN_BYTES);
	free(body);
	free(ad);
	free(buf.data);
	return rc;
}

int bd_events_list(struct bd_store *st, const struct bd_package_keys *keys, struct bd_event **out,
                   size_t *n, struct bd_error *err)
{
	char prefix[BD_PACKAGE_ID_HEX + 4];
	struct names l = {.err = err};
	uint8_t key[BD_CONTENT_KEY_BYTES];
	struct bd_event *ev = NULL;
	size_t got = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	events_prefix(keys, prefix);
	l.prefix_len = strlen(prefix);
	if (bd_store_list(st, prefix, collect, &l, err) < 0 || l.failed) {
		free(l.v);
		return -1;
	}
	if (l.n > 0)
		ev = bd_malloc(l.n * sizeof(*ev));
	bd_package_events_key(keys, key);
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct bd_error e;

		rc = open_event(st, key, l.v[i], &ev[got], &e);
		if (rc == 0)
			got++;
		else if (e.code == BD_E_NOTFOUND) /* deleted since the listing: the package goes */
			rc = 0;
		else if (err != NULL)
			*err = e;
	}
	sodium_memzero(key, sizeof(key));
	free(l.v);
	if (rc < 0) {
		sodium_memzero(ev, got * sizeof(*ev));
		free(ev);
		return -1;
	}
	if (got == 0) {
		free(ev);
		ev = NULL;
	}
	*out = ev;
	*n = got;
	return 0;
}

/* ---- reading a list ---- */

static int matches(const struct bd_event *e, enum bd_event_kind kind, unsigned file,
                   const char *who)
{
	return e->kind == kind && (file == 0 || e->file == file) &&
	       (who == NULL || strcmp(e->who, who) == 0);
}

size_t bd_events_count(const struct bd_event *ev, size_t n, enum bd_event_kind kind, unsigned file,
                       const char *who)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += matches(&ev[i], kind, file, who);
	return count;
}

static int by_offset(const void *a, const void *b)
{
	const struct bd_event *x = *(const struct bd_event *const *)a;
	const struct bd_event *y = *(const struct bd_event *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int bd_events_covered(const struct bd_event *ev, size_t n, unsigned file, const char *who,
                      uint64_t size)
{
	const struct bd_event **ranges;
	size_t since = 0, k = 0;
	uint64_t reached = 0;
	int any = 0;

	for (size_t i = 0; i < n; i++)
		if (matches(&ev[i], BD_EVENT_COMPLETE, file, who))
			since = i + 1;
	ranges = bd_malloc((n - since + 1) * sizeof(*ranges));
	for (size_t i = since; i < n; i++)
		if (matches(&ev[i], BD_EVENT_RANGE, file, who))
			ranges[k++] = &ev[i];
	qsort(ranges, k, sizeof(*ranges), by_offset);
	for (size_t i = 0; i < k && reached < size; i++) {
		any = 1;
		if (ranges[i]->offset > reached || ranges[i]->offset >= size)
			break; /* a gap */
		if (ranges[i]->length > size - ranges[i]->offset)
			reached = size;
		else if (ranges[i]->offset + ranges[i]->length > reached)
			reached = ranges[i]->offset + ranges[i]->length;
	}
	free(ranges);
	return size == 0 ? k > 0 : any && reached >= size;
}
