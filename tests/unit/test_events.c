/*
 * test_events.c - a package's event objects over the in-memory store: the
 * key vectors of docs/FORMAT.md 11, record and list (oldest first), names
 * that tell nothing but package and time, tampered and moved events refused,
 * the caps on a listing, when ranges make a whole file, and that deleting or
 * sweeping a package takes its events with it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "events.h"
#include "manifest.h"
#include "package.h"
#include "package_fixture.h"
#include "remove.h"
#include "store-memory.h"
#include "store.h"
#include "sweep.h"

static void get_buffer(struct bd_store *s, const char *name, struct bd_buf_sink *out)
{
	struct bd_error err;

	bd_buf_sink_init(out);
	if (bd_store_get(s, name, 0, BD_STORE_TO_END, &out->sink, &err) < 0)
		fail_msg("get %s: %s", name, err.msg);
}

struct names {
	char v[16][128];
	size_t n;
};

static int add_name(void *ctx, const char *name, uint64_t size)
{
	struct names *l = ctx;

	if (l->n < 16)
		snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", name);
	return 0;
}

static void list_names(struct bd_store *s, const char *prefix, struct names *l)
{
	struct bd_error err;

	memset(l, 0, sizeof(*l));
	assert_int_equal(bd_store_list(s, prefix, add_name, l, &err), 0);
}

static void record(struct bd_store *s, const struct bd_package_keys *k, enum bd_event_kind kind,
                   unsigned file, uint64_t off, uint64_t len, const char *who)
{
	struct bd_event ev = {.kind = kind, .file = file, .offset = off, .length = len};
	struct bd_error err;

	snprintf(ev.who, sizeof(ev.who), "%s", who);
	if (bd_events_record(s, k, &ev, &err) < 0)
		fail_msg("record: %s", err.msg);
}

static void test_key_vectors(void **state)
{
	struct bd_package_keys *k = fixed_keys();
	uint8_t got[32], want[32], manifest[32];

	bd_package_events_key(k, got);
	hex_decode("bf7e6c7f60206d473f81ac1e9a4e6aee7124cf8ac5bbb56a8daafd9b389417c3", want, 32);
	assert_memory_equal(got, want, 32);
	bd_package_client_key(k, got);
	hex_decode("891748b3d7d21cbcef8fa9ffe1ef6eed00fe82fc2caebd32a0842f762d0d1054", want, 32);
	assert_memory_equal(got, want, 32);
	bd_package_manifest_key(k, manifest);
	assert_memory_not_equal(got, manifest, 32);
	bd_package_keys_free(&k);
}

static void test_record_and_list(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_package_keys *k = fixed_keys();
	struct bd_event *ev = NULL, one = {.kind = BD_EVENT_VERIFIED, .at = 1700000000};
	struct bd_error err;
	size_t n = 9;

	assert_int_equal(bd_events_list(s, k, &ev, &n, &err), 0);
	assert_null(ev);
	assert_int_equal(n, 0);

	record(s, k, BD_EVENT_RANGE, 1, 0, 10, "");
	snprintf(one.who, sizeof(one.who), "anna@example.nl");
	bd_event_client_hash(k, "192.0.2.7", one.client);
	assert_int_equal(bd_events_record(s, k, &one, &err), 0);
	record(s, k, BD_EVENT_COMPLETE, 3, 0, 0, "anna@example.nl");

	assert_int_equal(bd_events_list(s, k, &ev, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ev[0].kind, BD_EVENT_RANGE);
	assert_int_equal(ev[0].file, 1);
	assert_int_equal(ev[0].length, 10);
	assert_string_equal(ev[0].who, "");
	assert_true(ev[0].at >= time(NULL) - 5 && ev[0].at <= time(NULL)); /* 0 means now */
	assert_int_equal(ev[1].kind, BD_EVENT_VERIFIED);
	assert_int_equal(ev[1].at, 1700000000);
	assert_string_equal(ev[1].who, "anna@example.nl");
	assert_memory_equal(ev[1].client, one.client, sizeof(one.client));
	assert_int_equal(ev[2].kind, BD_EVENT_COMPLETE);
	assert_int_equal(ev[2].file, 3);
	assert_string_equal(bd_event_kind_name(ev[2].kind), "complete");
	assert_string_equal(bd_event_kind_name((enum bd_event_kind)0), "?");
	free(ev);
	bd_package_keys_free(&k);
	bd_store_close(&s);
}

/* Storage learns the package and the time from a name, and nothing from a body. */
static void test_names_and_bodies_tell_nothing(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_package_keys *k = fixed_keys();
	uint8_t client[16], again[16];
	struct bd_buf_sink body;
	struct names l;

	record(s, k, BD_EVENT_CODE_SENT, 2, 0, 0, "someone.private@example.nl");
	list_names(s, "", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(strlen(l.v[0]), strlen("0123456789abcdef/0e/") + 24);
	assert_memory_equal(l.v[0], "0123456789abcdef/0e/", 20);
	assert_int_equal(strspn(l.v[0] + 20, "0123456789abcdef"), 24);
	get_buffer(s, l.v[0], &body);
	assert_null(memmem(body.data, body.len, "someone", 7));
	assert_null(memmem(body.data, body.len, "example", 7));
	free(body.data);

	bd_event_client_hash(k, "192.0.2.7", client);
	bd_event_client_hash(k, "192.0.2.7", again);
	assert_memory_equal(client, again, 16);
	bd_event_client_hash(k, "192.0.2.8", again);
	assert_memory_not_equal(client, again, 16);
	k->secret[0] ^= 1; /* another package: another hash for the same client */
	bd_event_client_hash(k, "192.0.2.7", again);
	assert_memory_not_equal(client, again, 16);
	bd_package_keys_free(&k);
	bd_store_close(&s);
}

static void test_tampered_and_moved_refused(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_package_keys *k = fixed_keys(), *other = bd_package_keys_new();
	struct bd_event *ev;
	struct bd_buf_sink body;
	struct bd_error err;
	struct names l;
	char moved[128];
	size_t n;

	record(s, k, BD_EVENT_RANGE, 1, 0, 100, "");
	list_names(s, "", &l);
	get_buffer(s, l.v[0], &body);

	/* every byte counts */
	for (size_t i = 0; i < body.len; i += 7) {
		body.data[i] ^= 0x20;
		put_buffer(s, l.v[0], body.data, body.len);
		assert_int_equal(bd_events_list(s, k, &ev, &n, &err), -1);
		assert_int_equal(err.code, BD_E_CRYPTO);
		assert_null(ev);
		assert_int_equal(n, 0);
		body.data[i] ^= 0x20;
	}
	put_buffer(s, l.v[0], body.data, body.len);
	assert_int_equal(bd_events_list(s, k, &ev, &n, &err), 0);
	assert_int_equal(n, 1);
	free(ev);

	/* the same bytes under another time of the same package */
	snprintf(moved, sizeof(moved), "%.20s%024d", l.v[0], 1);
	put_buffer(s, moved, body.data, body.len);
	assert_int_equal(bd_events_list(s, k, &ev, &n, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	assert_int_equal(bd_store_delete(s, moved, &err), 0);

	/* under another package's id: that package does not open it */
	bd_package_id_hex(other->id, moved);
	snprintf(moved + 16, sizeof(moved) - 16, "%s", l.v[0] + 16);
	put_buffer(s, moved, body.data, body.len);
	assert_int_equal(bd_events_list(s, other, &ev, &n, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);

	/* a name under the prefix that no event has */
	put_buffer(s, "0123456789abcdef/0e/00", body.data, body.len);
	assert_int_equal(bd_events_list(s, k, &ev, &n, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	free(body.data);
	bd_package_keys_free(&other);
	bd_package_keys_free(&k);
	bd_store_close(&s);
}

/* A store that holds too many events, or too large ones, gets BD_E_LIMIT, not our memory. */
static void test_caps(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_package_keys *k = fixed_keys();
	static uint8_t big[BD_EVENT_OBJECT_MAX + 1];
	struct bd_event *ev;
	struct bd_error err;
	char name[64];
	size_t n;

	put_buffer(s, "0123456789abcdef/0e/000000000000000000000001", big, sizeof(big));
	assert_int_equal(bd_events_list(s, k, &ev, &n, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	assert_int_equal(bd_store_delete(s, "0123456789abcdef/0e/000000000000000000000001", &err),
	                 0);

	for (unsigned i = 0; i <= BD_EVENTS_MAX; i++) {
		snprintf(name, sizeof(name), "0123456789abcdef/0e/%024x", i);
		put_buffer(s, name, big, 10);
	}
	assert_int_equal(bd_events_list(s, k, &ev, &n, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	assert_null(ev);
	bd_package_keys_free(&k);
	bd_store_close(&s);
}

/* When do ranges make a whole file? One table, read top to bottom as a history. */
static void test_covered(void **state)
{
	static const struct {
		enum bd_event_kind kind;
		unsigned file;
		uint64_t off, len;
		const char *who;
		int covered; /* file 1 of 100 bytes for "" after this event */
	} steps[] = {
	        {BD_EVENT_RANGE, 1, 0, 10, "", 0},        /* 10 bytes are no download */
	        {BD_EVENT_RANGE, 2, 10, 90, "", 0},       /* another file */
	        {BD_EVENT_RANGE, 1, 10, 90, "a@x.nl", 0}, /* another person */
	        {BD_EVENT_RANGE, 1, 60, 40, "", 0},       /* a gap at 10..60 */
	        {BD_EVENT_RANGE, 1, 5, 56, "", 1},        /* overlapping: now whole */
	        {BD_EVENT_COMPLETE, 1, 0, 0, "", 0},      /* counted: start again */
	        {BD_EVENT_RANGE, 1, 0, 50, "", 0},
	        {BD_EVENT_RANGE, 1, 50, 1000, "", 1}, /* past the end counts to the end */
	        {BD_EVENT_COMPLETE, 1, 0, 0, "", 0},
	        {BD_EVENT_RANGE, 1, 200, 10, "", 0}, /* beyond the file */
	        {BD_EVENT_RANGE, 1, 0, 100, "", 1},
	};
	struct bd_event ev[sizeof(steps) / sizeof(steps[0])];

	memset(ev, 0, sizeof(ev));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ev[i].kind = steps[i].kind;
		ev[i].file = steps[i].file;
		ev[i].offset = steps[i].off;
		ev[i].length = steps[i].len;
		snprintf(ev[i].who, sizeof(ev[i].who), "%s", steps[i].who);
		if (bd_events_covered(ev, i + 1, 1, "", 100) != steps[i].covered)
			fail_msg("step %zu: covered should be %d", i, steps[i].covered);
	}
	assert_false(
	        bd_events_covered(ev, 3, 1, "a@x.nl", 100)); /* 10..100: the start is missing */
	assert_true(bd_events_covered(ev, 3, 2, "", 100) == 0);
	assert_false(bd_events_covered(ev, 0, 1, "", 0));
	assert_true(bd_events_covered(ev, 1, 1, "", 0)); /* an empty file: any response */
	assert_int_equal(bd_events_count(ev, 11, BD_EVENT_COMPLETE, 1, NULL), 2);
	assert_int_equal(bd_events_count(ev, 11, BD_EVENT_COMPLETE, 2, NULL), 0);
	assert_int_equal(bd_events_count(ev, 11, BD_EVENT_RANGE, 0, NULL), 9);
	assert_int_equal(bd_events_count(ev, 11, BD_EVENT_RANGE, 1, "a@x.nl"), 1);
}

/* The events go with the package: after the manifest, by bd_package_delete. */
static void test_deleted_with_package(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_package_keys *k = fixed_keys();
	struct bd_error err;
	struct names l;
	size_t deleted;

	put_buffer(s, "0123456789abcdef/0", (const uint8_t *)"m", 1);
	put_buffer(s, "0123456789abcdef/1", (const uint8_t *)"f", 1);
	put_buffer(s, "0123456789abcdef/e", (const uint8_t *)"f", 1); /* file 14 */
	put_buffer(s, "0123456789abcdf0/0", (const uint8_t *)"m", 1); /* the next package */
	record(s, k, BD_EVENT_RANGE, 1, 0, 1, "");
	record(s, k, BD_EVENT_COMPLETE, 1, 0, 0, "");
	list_names(s, "0123456789abcdef/", &l);
	assert_int_equal(l.n, 5);
	assert_int_equal(bd_package_delete(s, "0123456789abcdef", &deleted, &err), 0);
	assert_int_equal(deleted, 4);
	list_names(s, "", &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "0123456789abcdf0/0");
	bd_package_keys_free(&k);
	bd_store_close(&s);
}

/* A sealed manifest for K that expires at EXPIRES, so the sweep can judge it. */
static void put_manifest(struct bd_store *s, const struct bd_package_keys *k, int64_t expires)
{
	struct bd_manifest *m = bd_manifest_new();
	uint8_t pk[32], sk[32], *sealed = NULL;
	struct bd_error err;
	size_t len = 0;
	char name[64];

	memcpy(m->package_id, k->id, sizeof(m->package_id));
	m->link_key_id = m->gateway_key_id = 1;
	m->created = expires - 86400;
	m->expires = expires;
	crypto_box_keypair(pk, sk);
	assert_non_null(bd_manifest_add_file(m, 1, "a.pdf", "application/pdf", 1));
	assert_int_equal(bd_manifest_seal(m, k, pk, &sealed, &len, &err), 0);
	bd_package_object_name(k->id, 0, name, sizeof(name));
	put_buffer(s, name, sealed, len);
	bd_package_object_name(k->id, 1, name, sizeof(name));
	put_buffer(s, name, (const uint8_t *)"f", 1);
	free(sealed);
	bd_manifest_free(&m);
}

static int orphans_go(void *ctx, const char *id)
{
	return 1;
}

/* The sweep counts events among their package's objects: they go when it expires, they
 * keep a live one whole, and events left without a package are an orphan. */
static void test_swept_with_package(void **state)
{
	struct bd_store *s = bd_store_new_memory();
	struct bd_package_keys *gone = bd_package_keys_new(), *live = bd_package_keys_new(),
	                       *orphan = bd_package_keys_new();
	int64_t now = (int64_t)time(NULL);
	struct bd_sweep_options o = {.now = now};
	struct bd_sweep_stats st;
	struct bd_error err;
	struct names l;

	put_manifest(s, gone, now - 10);
	put_manifest(s, live, now + 3600);
	record(s, gone, BD_EVENT_RANGE, 1, 0, 1, "");
	record(s, live, BD_EVENT_RANGE, 1, 0, 1, "");
	record(s, live, BD_EVENT_COMPLETE, 1, 0, 0, "");
	record(s, orphan, BD_EVENT_RANGE, 1, 0, 1, "");
	assert_int_equal(bd_sweep_run(s, &o, &st, &err), 0);
	assert_int_equal(st.objects, 8);
	assert_int_equal(st.packages, 2);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.orphans, 1); /* seen, kept: the options decide nothing */
	assert_int_equal(st.deleted, 3);
	list_names(s, "", &l);
	assert_int_equal(l.n, 5);
	o.orphan = orphans_go;
	assert_int_equal(bd_sweep_run(s, &o, &st, &err), 0);
	assert_int_equal(st.deleted, 1);
	list_names(s, "", &l);
	assert_int_equal(l.n, 4); /* the live package: manifest, file, two events */
	bd_package_keys_free(&gone);
	bd_package_keys_free(&live);
	bd_package_keys_free(&orphan);
	bd_store_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_key_vectors),
	        cmocka_unit_test(test_record_and_list),
	        cmocka_unit_test(test_names_and_bodies_tell_nothing),
	        cmocka_unit_test(test_tampered_and_moved_refused),
	        cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_covered),
	        cmocka_unit_test(test_deleted_with_package),
	        cmocka_unit_test(test_swept_with_package),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
