/*
 * test_keyproc.c - the key process's request check (every malformed request
 * refused, unknown and wrong keys told apart, a good one opened) and the asking
 * side over a real socketpair: manifests and upload requests open through it
 * with a keyring that holds no secret key, and a key process that hangs up or
 * answers out of step makes every later open a temporary failure.
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
#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keydir.h"
#include "keyproc.h"
#include "manifest.h"
#include "mem.h"
#include "request.h"

struct fixture {
	char *dir;
	struct bd_keyring *secret; /* what the key process holds */
	struct bd_keyring *pub;    /* what the HTTP process holds */
	struct bd_package_keys *keys;
	uint8_t *object; /* a sealed manifest */
	size_t len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bd_manifest *m = bd_manifest_new();

	if (sodium_init() < 0)
		return -1;
	f->dir = keydir_make(NULL, NULL);
	f->secret = bd_keyring_load(f->dir, BD_NEED_GATEWAY_SECRET, NULL);
	f->pub = bd_keyring_load(f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, NULL);
	if (f->secret == NULL || f->pub == NULL)
		return -1;
	f->keys = bd_package_keys_new();
	memcpy(m->package_id, f->keys->id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = 1;
	m->gateway_key_id = 1;
	m->created = 1750000000;
	m->expires = 1750000000 + 86400;
	bd_manifest_add_file(m, 1, "a.pdf", "application/pdf", 10);
	if (bd_manifest_seal(m, f->keys, bd_keyring_gateway_public(f->pub, 1), &f->object, &f->len,
	                     NULL) < 0)
		return -1;
	bd_manifest_free(&m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bd_keyring_free(&f->secret);
	bd_keyring_free(&f->pub);
	bd_package_keys_free(&f->keys);
	free(f->object);
	keydir_remove(f->dir);
	free(f);
	return 0;
}

/* ---- the check ---- */

enum change {
	GOOD,
	SHORT,      /* one byte short */
	LONG,       /* one byte more */
	EMPTY,      /* nothing */
	MAGIC,      /* "BDKQ" */
	OP_ZERO,    /* operation 0 */
	OP_TWO,     /* operation 2 */
	PADDING,    /* a non-zero padding byte */
	HDR_MAGIC,  /* the header's magic */
	HDR_VER,    /* the header's version */
	HDR_KEY0,   /* gateway key id 0 in the header */
	HDR_RSVD,   /* the header's reserved byte */
	ID_DIFFERS, /* the request's key id is not the header's */
	UNKNOWN_ID, /* key 9 in both: not loaded */
	SEALED_BAD, /* a flipped bit in the sealed server key */
};

static const struct {
	enum change change;
	enum bd_keyproc_status want;
} cases[] = {
        {GOOD, BD_KEYPROC_OPENED},        {SHORT, BD_KEYPROC_REFUSED},
        {LONG, BD_KEYPROC_REFUSED},       {EMPTY, BD_KEYPROC_REFUSED},
        {MAGIC, BD_KEYPROC_REFUSED},      {OP_ZERO, BD_KEYPROC_REFUSED},
        {OP_TWO, BD_KEYPROC_REFUSED},     {PADDING, BD_KEYPROC_REFUSED},
        {HDR_MAGIC, BD_KEYPROC_REFUSED},  {HDR_VER, BD_KEYPROC_REFUSED},
        {HDR_KEY0, BD_KEYPROC_REFUSED},   {HDR_RSVD, BD_KEYPROC_REFUSED},
        {ID_DIFFERS, BD_KEYPROC_REFUSED}, {UNKNOWN_ID, BD_KEYPROC_NO_KEY},
        {SEALED_BAD, BD_KEYPROC_NO_OPEN},
};

static void test_answer_checks_each_request(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t req[BD_KEYPROC_REQUEST_BYTES + 1] = {0}, ans[BD_KEYPROC_ANSWER_BYTES];
		uint8_t zero[BD_SERVER_KEY_BYTES] = {0};
		size_t len = BD_KEYPROC_REQUEST_BYTES;
		struct bd_error why;
		enum bd_keyproc_status st;

		bd_keyproc_request_encode(1, 0x01020304, f->object, req);
		switch (cases[i].change) {
		case GOOD: break;
		case SHORT: len--; break;
		case LONG: len++; break;
		case EMPTY: len = 0; break;
		case MAGIC: req[3] = 'Q'; break;
		case OP_ZERO: req[4] = 0; break;
		case OP_TWO: req[4] = 2; break;
		case PADDING: req[7] = 1; break;
		case HDR_MAGIC: req[12] = 'X'; break;
		case HDR_VER: req[12 + 4] = 99; break;
		case HDR_KEY0: req[12 + 6] = 0; break;
		case HDR_RSVD: req[12 + 7] = 1; break;
		case ID_DIFFERS: req[5] = 2; break;
		case UNKNOWN_ID: req[5] = req[12 + 6] = 9; break;
		case SEALED_BAD: req[12 + 40] ^= 1; break;
		}
		st = bd_keyproc_answer(f->secret, req, len, ans, &why);
		assert_int_equal(st, cases[i].want);
		assert_int_equal(ans[4], cases[i].want);
		assert_memory_equal(ans, "BDKP", 4);
		if (st == BD_KEYPROC_REFUSED) {
			assert_int_equal(why.code, BD_E_INVALID);
			assert_true(strlen(why.msg) > 0);
		} else {
			assert_int_equal(why.code, BD_OK);
		}
		if (len == BD_KEYPROC_REQUEST_BYTES)
			assert_memory_equal(ans + 8, "\x01\x02\x03\x04", 4); /* sequence echoed */
		if (st == BD_KEYPROC_OPENED)
			assert_memory_equal(ans + 12, f->keys->server_key, BD_SERVER_KEY_BYTES);
		else
			assert_memory_equal(ans + 12, zero, BD_SERVER_KEY_BYTES);
	}
}

/* An upload request's header is the other kind the key process opens. */
static void test_answer_opens_upload_requests(void **state)
{
	struct fixture *f = *state;
	struct bd_request *r = bd_request_new();
	uint8_t req[BD_KEYPROC_REQUEST_BYTES], ans[BD_KEYPROC_ANSWER_BYTES], *obj;
	size_t len;

	memcpy(r->id, f->keys->id, BD_PACKAGE_ID_BYTES);
	r->link_key_id = r->gateway_key_id = 1;
	r->created = 1750000000;
	r->expires = 1750000000 + 86400;
	r->requester = bd_strdup("jan@example.nl");
	r->max_file_size = r->max_total_size = 1000;
	r->max_files = 1;
	assert_int_equal(
	        bd_request_seal(r, f->keys, bd_keyring_gateway_public(f->pub, 1), &obj, &len, NULL),
	        0);
	bd_keyproc_request_encode(1, 7, obj, req);
	assert_int_equal(bd_keyproc_answer(f->secret, req, sizeof(req), ans, NULL),
	                 BD_KEYPROC_OPENED);
	assert_memory_equal(ans + 12, f->keys->server_key, BD_SERVER_KEY_BYTES);
	free(obj);
	bd_request_free(&r);
}

/* ---- the asking side, against a key process played by a thread ---- */

struct server {
	int fd;
	const struct bd_keyring *kr;
	int answers;              /* how many to answer; it hangs up at the next request */
	int out_of_step;          /* answer with a wrong sequence number */
	const char *refuse_start; /* say this instead of hello */
};

static void *serve(void *arg)
{
	struct server *s = arg;
	uint8_t req[BD_KEYPROC_REQUEST_BYTES + 1], ans[BD_KEYPROC_ANSWER_BYTES];

	if (s->refuse_start != NULL) {
		struct bd_error err;

		bd_error_set(&err, BD_E_KEY, "%s", s->refuse_start);
		bd_keyproc_hello(s->fd, &err);
		close(s->fd);
		return NULL;
	}
	bd_keyproc_hello(s->fd, NULL);
	for (int i = 0;; i++) {
		ssize_t n = recv(s->fd, req, sizeof(req), MSG_TRUNC);

		if (n <= 0 || i == s->answers)
			break; /* hangs up at the request after the last it answers */
		bd_keyproc_answer(s->kr, req, (size_t)n, ans, NULL);
		if (s->out_of_step)
			ans[11] ^= 1;
		if (send(s->fd, ans, sizeof(ans), MSG_NOSIGNAL) != sizeof(ans))
			break;
	}
	close(s->fd);
	return NULL;
}

static struct bd_keyproc *start(struct fixture *f, struct server *s, pthread_t *t,
                                struct bd_keyring **kr, struct bd_error *err)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	s->fd = sv[1];
	s->kr = f->secret;
	assert_int_equal(pthread_create(t, NULL, serve, s), 0);
	*kr = bd_keyring_load(f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, NULL);
	assert_non_null(*kr);
	return bd_keyproc_connect(*kr, sv[0], 0, 2000, err);
}

/* The fixture's manifest opened with KR: its status, *ERR filled; what opens is checked. */
static int open_manifest(struct fixture *f, struct bd_keyring *kr, struct bd_error *err)
{
	struct bd_package_keys *keys = NULL;
	struct bd_manifest *m = NULL;
	int rc = bd_manifest_open(f->object, f->len, f->keys->secret, kr, &m, &keys, err);

	if (rc == 0) {
		assert_memory_equal(keys->server_key, f->keys->server_key, BD_SERVER_KEY_BYTES);
		assert_string_equal(m->files[0].name, "a.pdf");
	}
	bd_manifest_free(&m);
	bd_package_keys_free(&keys);
	return rc;
}

static void test_client_opens_through_the_key_process(void **state)
{
	struct fixture *f = *state;
	struct server s = {.answers = 3};
	struct bd_keyring *kr;
	struct bd_error err;
	pthread_t t;
	struct bd_keyproc *kp = start(f, &s, &t, &kr, &err);

	assert_non_null(kp);
	assert_null(bd_keyring_gateway_secret(kr, 1)); /* none in this process */
	assert_true(bd_keyproc_alive(kp));
	assert_int_equal(open_manifest(f, kr, &err), 0);
	/* a damaged sealed server key: the object does not open, the process lives on */
	f->object[40] ^= 1;
	assert_int_equal(open_manifest(f, kr, &err), -1);
	assert_int_equal(err.code, BD_E_CRYPTO);
	f->object[40] ^= 1;
	/* an unknown key (removed: shredded) is BD_E_KEY, as without a key process */
	f->object[6] = 9;
	assert_int_equal(open_manifest(f, kr, &err), -1);
	assert_int_equal(err.code, BD_E_KEY);
	assert_non_null(strstr(err.msg, "gateway key 9 is not available"));
	f->object[6] = 1;
	assert_true(bd_keyproc_alive(kp));
	/* it has answered three: it hangs up, and every open from here is a temporary failure */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(open_manifest(f, kr, &err), -1);
		assert_int_equal(err.code, BD_E_TEMP);
	}
	pthread_join(t, NULL);
	assert_false(bd_keyproc_alive(kp));
	bd_keyring_free(&kr);
}

static void test_client_out_of_step_is_dead(void **state)
{
	struct fixture *f = *state;
	struct server s = {.answers = 5, .out_of_step = 1};
	struct bd_keyring *kr;
	struct bd_error err;
	pthread_t t;
	struct bd_keyproc *kp = start(f, &s, &t, &kr, &err);

	assert_non_null(kp);
	assert_int_equal(open_manifest(f, kr, &err), -1);
	assert_int_equal(err.code, BD_E_TEMP);
	assert_false(bd_keyproc_alive(kp));
	bd_keyring_free(&kr); /* hangs up: the thread ends */
	pthread_join(t, NULL);
}

static void test_client_reports_why_it_did_not_start(void **state)
{
	struct fixture *f = *state;
	struct server s = {.refuse_start = "refusing secret key file /x/gateway-1.key"};
	struct bd_keyring *kr;
	struct bd_error err;
	pthread_t t;

	assert_null(start(f, &s, &t, &kr, &err));
	assert_int_equal(err.code, BD_E_KEY);
	assert_string_equal(err.msg, "refusing secret key file /x/gateway-1.key");
	pthread_join(t, NULL);
	bd_keyring_free(&kr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_answer_checks_each_request),
	        cmocka_unit_test(test_answer_opens_upload_requests),
	        cmocka_unit_test(test_client_opens_through_the_key_process),
	        cmocka_unit_test(test_client_out_of_step_is_dead),
	        cmocka_unit_test(test_client_reports_why_it_did_not_start),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
