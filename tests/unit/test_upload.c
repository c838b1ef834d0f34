/*
 * test_upload.c - upload requests and uploads over the in-memory store: a
 * request made and opened from its link; an upload streamed in odd slices
 * and downloaded byte for byte through its download link; every limit
 * refused the moment it is crossed, leaving no object; expired and forged
 * request links; the outgoing mail's composition.
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
#include <glib.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "download.h"
#include "keys.h"
#include "mem.h"
#include "outmail.h"
#include "store-memory.h"
#include "upload.h"

struct fx {
	char dir[64];
	struct bd_keyring *kr;
	struct bd_store *store;
	struct bd_request *req;
	char token[BD_TOKEN_MAX_CHARS + 1];
	struct bd_upload_settings settings;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct bd_error err;
	char keys[96];

	strcpy(f->dir, "/tmp/bd-test-up-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(keys, sizeof(keys), "%s/keys", f->dir);
	if (bd_keys_generate(keys, &err) < 0)
		return -1;
	f->kr = bd_keyring_load(
	        keys, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC | BD_NEED_GATEWAY_SECRET, &err);
	f->store = bd_store_new_memory();
	f->req = bd_request_new();
	f->req->requester = bd_strdup("jan@example.nl");
	f->req->note = bd_strdup("Graag de inkomensverklaring");
	f->req->created = time(NULL);
	f->req->expires = f->req->created + 3600;
	f->req->max_file_size = 200000;
	f->req->max_total_size = 300000;
	f->req->max_files = 2;
	f->settings.spool_dir = f->dir;
	f->settings.retention = 14 * 86400;
	if (f->kr == NULL || bd_upload_request_create(f->store, f->kr, f->req, f->token, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	bd_request_free(&f->req);
	bd_store_close(&f->store);
	bd_keyring_free(&f->kr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int count_cb(void *ctx, const char *name, uint64_t size)
{
	(*(size_t *)ctx)++;
	return 0;
}

static size_t objects(struct fx *f)
{
	struct bd_error err;
	size_t n = 0;

	assert_int_equal(bd_store_list(f->store, "", count_cb, &n, &err), 0);
	return n;
}

static void test_request_roundtrip(void **state)
{
	struct fx *f = *state;
	struct bd_request *r = NULL;
	struct bd_error err;
	char forged[BD_TOKEN_MAX_CHARS + 1];

	assert_int_equal(objects(f), 1); /* the request object, nothing else */
	assert_int_equal(bd_upload_request_open(f->token, f->kr, f->store, time(NULL), &r, &err),
	                 0);
	assert_string_equal(r->requester, "jan@example.nl");
	assert_string_equal(r->note, "Graag de inkomensverklaring");
	assert_null(r->recipient);
	assert_int_equal(r->max_files, 2);
	bd_request_free(&r);
	/* past its expiry: 410, and nothing opened */
	assert_int_equal(
	        bd_upload_request_open(f->token, f->kr, f->store, f->req->expires, &r, &err), -1);
	assert_int_equal(err.code, BD_E_EXPIRED);
	assert_null(r);
	/* a flipped character is not genuine */
	strcpy(forged, f->token);
	forged[20] = forged[20] == 'A' ? 'B' : 'A';
	assert_int_equal(bd_upload_request_open(forged, f->kr, f->store, time(NULL), &r, &err), -1);
	assert_int_equal(err.code, BD_E_INVALID);
	/* an upload link is no download link */
	{
		struct bd_download *d = NULL;

		assert_int_equal(bd_download_open(f->token, f->kr, f->store, time(NULL), &d, &err),
		                 -1);
	}
	/* deleted (used once): 404 */
	assert_int_equal(bd_upload_request_delete(f->store, f->req, &err), 0);
	assert_int_equal(bd_upload_request_open(f->token, f->kr, f->store, time(NULL), &r, &err),
	                 -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = bd_malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
	return p;
}

static void feed(struct bd_upload *u, const uint8_t *data, size_t len, size_t step)
{
	struct bd_error err;

	for (size_t off = 0; off < len; off += step)
		assert_int_equal(bd_upload_file_write(u, data + off,
		                                      len - off < step ? len - off : step, &err),
		                 0);
}

static void test_upload_and_download(void **state)
{
	struct fx *f = *state;
	static const size_t sizes[2] = {150001, 0};
	struct bd_upload *u = bd_upload_begin(f->req, f->store, f->kr, &f->settings, time(NULL));
	char dl[BD_TOKEN_MAX_CHARS + 1];
	struct bd_download *d = NULL;
	const struct bd_manifest *m;
	struct bd_error err;
	uint8_t *data[2];

	for (int i = 0; i < 2; i++) {
		data[i] = pattern(sizes[i], (unsigned)i);
		assert_int_equal(bd_upload_file_begin(
		                         u,
		                         i == 0 ? "C:\\Users\\piet\\loon strook.pdf" : "leeg.txt",
		                         i == 0 ? "application/pdf" : "text/plain", &err),
		                 0);
		feed(u, data[i], sizes[i], 4093);
		assert_int_equal(bd_upload_file_end(u, &err), 0);
	}
	assert_int_equal(bd_upload_commit(u, "Piet Huurder <piet@example.org>", dl, &err), 0);
	bd_upload_free(&u); /* committed: stays */

	assert_int_equal(bd_download_open(dl, f->kr, f->store, time(NULL), &d, &err), 0);
	m = bd_download_manifest(d);
	assert_int_equal(m->nfiles, 2);
	assert_string_equal(m->files[0].name, "loon strook.pdf");
	assert_string_equal(m->files[0].content_type, "application/pdf");
	assert_string_equal(m->sender, "Piet Huurder <piet@example.org>");
	assert_true(m->expires >= time(NULL) + 14 * 86400 - 5);
	for (int i = 0; i < 2; i++) {
		struct bd_buf_sink out;

		bd_buf_sink_init(&out);
		assert_int_equal(m->files[i].size, sizes[i]);
		assert_int_equal(
		        bd_download_file(d, m->files[i].index, 0, BD_STORE_TO_END, &out.sink, &err),
		        0);
		assert_int_equal(out.len, sizes[i]);
		if (sizes[i] > 0)
			assert_memory_equal(out.data, data[i], sizes[i]);
		free(out.data);
		free(data[i]);
	}
	bd_download_close(&d);
	assert_int_equal(objects(f), 1 + 3); /* request; manifest and two files */
}

/* Each limit is refused when crossed, and the upload leaves nothing behind. */
static void test_limits(void **state)
{
	struct fx *f = *state;
	uint8_t *big = pattern(300001, 7);
	struct bd_upload *u;
	struct bd_error err;
	char dl[BD_TOKEN_MAX_CHARS + 1];

	/* one file too large: refused at the byte that crosses the limit */
	u = bd_upload_begin(f->req, f->store, f->kr, &f->settings, time(NULL));
	assert_int_equal(bd_upload_file_begin(u, "a.bin", "application/octet-stream", &err), 0);
	assert_int_equal(bd_upload_file_write(u, big, 200000, &err), 0);
	assert_int_equal(bd_upload_file_write(u, big, 1, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	bd_upload_free(&u); /* aborted */
	assert_int_equal(objects(f), 1);

	/* together too large: the second file crosses the total after the first was stored */
	u = bd_upload_begin(f->req, f->store, f->kr, &f->settings, time(NULL));
	assert_int_equal(bd_upload_file_begin(u, "a.bin", NULL, &err), 0);
	feed(u, big, 200000, 65536);
	assert_int_equal(bd_upload_file_end(u, &err), 0);
	assert_int_equal(objects(f), 2);
	assert_int_equal(bd_upload_file_begin(u, "b.bin", NULL, &err), 0);
	assert_int_equal(bd_upload_file_write(u, big, 100000, &err), 0);
	assert_int_equal(bd_upload_file_write(u, big, 1, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	assert_int_equal(bd_upload_abort(u, &err), 0);
	bd_upload_free(&u);
	assert_int_equal(objects(f), 1);

	/* one file too many */
	u = bd_upload_begin(f->req, f->store, f->kr, &f->settings, time(NULL));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(bd_upload_file_begin(u, "x", NULL, &err), 0);
		assert_int_equal(bd_upload_file_end(u, &err), 0);
	}
	assert_int_equal(bd_upload_file_begin(u, "x", NULL, &err), -1);
	assert_int_equal(err.code, BD_E_LIMIT);
	bd_upload_free(&u);
	assert_int_equal(objects(f), 1);

	/* nothing at all is no upload */
	u = bd_upload_begin(f->req, f->store, f->kr, &f->settings, time(NULL));
	assert_int_equal(bd_upload_commit(u, NULL, dl, &err), -1);
	bd_upload_free(&u);

	/* past the request's expiry nothing starts */
	f->req->expires = time(NULL) - 1;
	u = bd_upload_begin(f->req, f->store, f->kr, &f->settings, time(NULL));
	assert_int_equal(bd_upload_file_begin(u, "x", NULL, &err), -1);
	assert_int_equal(err.code, BD_E_EXPIRED);
	bd_upload_free(&u);
	assert_int_equal(objects(f), 1);
	free(big);
}

static void test_outmail_compose(void **state)
{
	struct bd_outmail m = {.from = "bestanden@example.nl",
	                       .to = "jan@example.nl",
	                       .subject = "Bestanden ontvangen – 2 stuks",
	                       .text = "Regel één\nRegel twee\n",
	                       .html = "<p>Hallo</p>"};
	struct bd_error err;
	char *msg = bd_outmail_compose(&m, 1767225600, &err), *b64;

	assert_non_null(msg);
	assert_non_null(strstr(msg, "From: <bestanden@example.nl>\r\n"));
	assert_non_null(strstr(msg, "To: <jan@example.nl>\r\n"));
	assert_non_null(strstr(msg, "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"));
	assert_non_null(strstr(msg, "Content-Type: multipart/alternative; boundary="));
	b64 = g_base64_encode((const guchar *)m.subject, strlen(m.subject));
	assert_non_null(strstr(msg, b64));
	g_free(b64);
	b64 = g_base64_encode((const guchar *)"Regel \xc3\xa9\xc3\xa9n\r\nRegel twee\r\n", 25);
	assert_non_null(strstr(msg, b64));
	g_free(b64);
	for (const char *p = msg; *p; p++)
		assert_true((unsigned char)*p < 0x80 && (*p != '\n' || p[-1] == '\r'));
	free(msg);
	/* an address that would break the header is refused */
	m.to = "jan@example.nl>\r\nBcc: <x@example.org";
	assert_null(bd_outmail_compose(&m, 0, &err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_request_roundtrip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_upload_and_download, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	        cmocka_unit_test(test_outmail_compose),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
