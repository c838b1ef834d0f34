/*
 * fuzz-rewrite.c - libFuzzer target for the rewrite engine (memory store).
 *
 * Any bytes as a spooled message, under one of four policy configurations
 * (chosen by the input's length). Explain and rewrite must not crash, hang
 * or leak, must agree, and a changed message must be written and parse
 * again. Seeds: tests/fuzz/corpus/fuzz-rewrite (small policy-case messages).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_keys.h"
#include "rewrite.h"
#include "store-memory.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONF 4

static struct bd_keyring *keys;
static struct bd_conf *confs[NCONF];

static void init(void)
{
	static const char *const extra[NCONF] = {
	        "",
	        "[policy]\nforwarded_messages = keep\nkeep_inline_images = no\n[notice]\nlanguage "
	        "= en\n",
	        "[policy]\nkeep_signatures = no\nkeep_calendar = no\nmin_attachment_size = 10\n"
	        "[storage]\nparallel_uploads = 1\n",
	        "[policy]\nmax_parts = 20\nmax_depth = 8\nmalformed = tempfail\n",
	};
	struct bd_error err;

	g_mime_init();
	keys = fuzz_keyring(BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC);
	for (int i = 0; i < NCONF; i++) {
		char *text = g_strdup_printf("[notice]\ntemplate_dir = %s/conf/templates\n%s",
		                             BD_SOURCE_DIR, extra[i]);

		confs[i] = bd_conf_load_string("fuzz.conf", text, &err);
		g_free(text);
		if (confs[i] == NULL) {
			fprintf(stderr, "fuzz: %s\n", err.msg);
			abort();
		}
	}
}

static int discard(void *ctx, const uint8_t *buf, size_t len)
{
	GByteArray *out = ctx;

	g_byte_array_append(out, buf, (guint)len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct bd_rewrite_envelope env = {.outgoing = true, .now = 1796904000};
	struct bd_store *store;
	struct bd_rewrite *rw;
	struct bd_rewrite_result *r = NULL, *x = NULL;
	struct bd_error err;
	int fd, rc, rx;

	if (keys == NULL)
		init();
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	store = bd_store_new_memory();
	rw = bd_rewrite_new(confs[size % NCONF], keys, store, &err);
	if (rw == NULL)
		abort();
	rx = bd_rewrite_explain(rw, fd, &env, &x, &err);
	rc = bd_rewrite_message(rw, fd, &env, &r, &err);
	if ((rx == 0) != (rc == 0))
		abort(); /* explain and rewrite disagree on failing */
	if (rc == 0) {
		if (x->nparts != r->nparts || x->nfiles != r->nfiles)
			abort();
		if (r->changed) {
			GByteArray *out = g_byte_array_new();
			struct bd_sink sink = {discard, out};
			GMimeStream *mem;
			GMimeParser *parser;
			GMimeMessage *again;

			if (bd_rewrite_write_message(r, &sink, &err) < 0)
				abort();
			for (guint i = 0; i < out->len; i++)
				if (out->data[i] == '\n' && (i == 0 || out->data[i - 1] != '\r'))
					abort(); /* a bare LF in what goes to the MTA */
			mem = g_mime_stream_mem_new_with_buffer((const char *)out->data, out->len);
			parser = g_mime_parser_new_with_stream(mem);
			again = g_mime_parser_construct_message(parser, NULL);
			if (again == NULL)
				abort();
			g_object_unref(again);
			g_object_unref(parser);
			g_object_unref(mem);
			g_byte_array_unref(out);
		}
	}
	bd_rewrite_result_free(&r);
	bd_rewrite_result_free(&x);
	bd_rewrite_free(&rw);
	bd_store_close(&store);
	close(fd);
	return 0;
}
