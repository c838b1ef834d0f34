/*
 * test_uploadreq.c - an outgoing mail that asks for an upload: which mails are
 * requests (tags in any case, also RFC 2047-encoded; the request address), and
 * what becomes of one over the in-memory store: the tag gone from the subject,
 * the notice with the /u/ link in the text, the address to drop, the request
 * stored and openable by its link; a signed mail is left alone.
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
#include <gmime/gmime.h>
#include <sodium.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "mem.h"
#include "store-memory.h"
#include "upload.h"
#include "uploadreq.h"

static struct bd_conf *conf_for_tests(void)
{
	struct bd_conf *c = bd_conf_defaults();
	const char *src = getenv("BD_SOURCE_DIR");

	free(c->notice.template_dir);
	c->notice.template_dir = bd_asprintf("%s/conf/templates", src ? src : ".");
	free(c->requests.address);
	c->requests.address = bd_strdup("upload@bestanden.invalid");
	free(c->milter.spool_dir);
	c->milter.spool_dir = bd_strdup("/tmp");
	return c;
}

static void test_wanted(void **state)
{
	struct bd_conf *c = conf_for_tests();
	const char *plain[] = {"<huurder@example.org>"};
	const char *marked[] = {"<huurder@example.org>", "<UPLOAD@bestanden.invalid>"};

	assert_true(bd_uploadreq_wanted(&c->requests, " [UploadVerzoek] Stukken", plain, 1));
	assert_true(bd_uploadreq_wanted(&c->requests, "Fwd: [upload request]", plain, 1));
	/* "[upload request] Documents", RFC 2047-encoded */
	assert_true(bd_uploadreq_wanted(
	        &c->requests, "=?UTF-8?B?W3VwbG9hZCByZXF1ZXN0XSBEb2N1bWVudHM=?=", plain, 1));
	assert_false(bd_uploadreq_wanted(&c->requests, "uploadverzoek zonder haken", plain, 1));
	assert_false(bd_uploadreq_wanted(&c->requests, NULL, plain, 1));
	assert_true(bd_uploadreq_wanted(&c->requests, "Stukken", marked, 2));
	bd_conf_free(&c);
}

static int message_fd(const char *text)
{
	int fd = memfd_create("msg", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The message in FD, quoted-printable soft line breaks joined (the text part is QP now). */
static char *read_all(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096], *soft;
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(s, buf, n);
	while ((soft = strstr(s->str, "=\r\n")) != NULL)
		g_string_erase(s, soft - s->str, 3);
	return g_string_free(s, FALSE);
}

static void test_prepare(void **state)
{
	static const char mail[] = "From: Jan <jan@bestanden.test>\r\n"
	                           "To: huurder@example.org\r\n"
	                           "Subject: [uploadverzoek] Inkomensverklaring\r\n"
	                           "MIME-Version: 1.0\r\n"
	                           "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	                           "Wil je ons de inkomensverklaring sturen?\r\n";
	static const char signed_mail[] =
	        "From: jan@bestanden.test\r\nSubject: [uploadverzoek] x\r\nMIME-Version: 1.0\r\n"
	        "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; "
	        "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhoi\r\n--b\r\n"
	        "Content-Type: application/pgp-signature\r\n\r\nsig\r\n--b--\r\n";
	struct bd_conf *c = conf_for_tests();
	char dir[] = "/tmp/bd-test-uploadreq-XXXXXX", keys[96], *out, *link, token[64];
	const char *rcpts[] = {"<huurder@example.org>", "<upload@bestanden.invalid>"};
	struct bd_uploadreq_envelope env = {"jan@bestanden.test", "medewerker@bestanden.test",
	                                    rcpts, 2};
	struct bd_store *store = bd_store_new_memory();
	struct bd_uploadreq *rq = NULL;
	struct bd_request *r = NULL;
	struct bd_keyring *kr;
	struct bd_error err;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	assert_int_equal(bd_keys_generate(keys, &err), 0);
	kr = bd_keyring_load(keys, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC | BD_NEED_GATEWAY_SECRET,
	                     &err);
	assert_non_null(kr);

	fd = message_fd(mail);
	assert_int_equal(bd_uploadreq_prepare(c, kr, store, fd, &env, &rq, &err), 0);
	assert_non_null(rq);
	assert_string_equal(rq->subject, "Inkomensverklaring");
	assert_string_equal(rq->drop_rcpt, "<upload@bestanden.invalid>");
	out = read_all(rq->fd);
	assert_non_null(strstr(out, "Subject: Inkomensverklaring\r\n"));
	assert_null(strstr(out, "uploadverzoek]"));
	assert_non_null(strstr(out, "Wil je ons de inkomensverklaring sturen?"));
	/* the requester is the authenticated sender */
	assert_non_null(strstr(out, "medewerker@bestanden.test"));
	link = strstr(out, "/u/");
	assert_non_null(link);
	snprintf(token, sizeof(token), "%.56s", link + 3);
	assert_int_equal(bd_upload_request_open(token, kr, store, time(NULL), &r, &err), 0);
	assert_string_equal(r->requester, "medewerker@bestanden.test");
	assert_string_equal(r->recipient, "huurder@example.org");
	bd_request_free(&r);
	free(out);
	/* the message was not sent after all: the request goes */
	bd_uploadreq_cancel(rq, store, NULL);
	assert_int_equal(bd_upload_request_open(token, kr, store, time(NULL), &r, &err), -1);
	bd_uploadreq_free(&rq);
	close(fd);

	/* signed: nothing changes, nothing is kept */
	fd = message_fd(signed_mail);
	assert_int_equal(bd_uploadreq_prepare(c, kr, store, fd, &env, &rq, &err), 0);
	assert_null(rq);
	close(fd);

	bd_keyring_free(&kr);
	bd_store_close(&store);
	bd_conf_free(&c);
	snprintf(keys, sizeof(keys), "rm -rf %s", dir);
	assert_int_equal(system(keys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_wanted),
	        cmocka_unit_test(test_prepare),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
