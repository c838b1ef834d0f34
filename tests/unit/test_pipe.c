/*
 * test_pipe.c - the gateway's pipe from a producer thread to a response: every
 * byte arrives once and in order whatever the slicing on either side (plain
 * writes and lent room, rings of odd sizes, a reader that takes a little or a
 * lot), the count of bytes sent, a producer that fails, and a cancel mid-way.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipe.h"

static uint8_t byte_at(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

struct job {
	uint64_t total;   /* bytes to produce */
	uint64_t fail_at; /* fail after this many (UINT64_MAX: never) */
	unsigned seed;
	int refused; /* a write or reserve was refused */
	int freed;
};

/* Pieces of odd sizes, by plain writes and through lent room in turn. */
static int produce(void *ctx, struct bd_lending_sink *out, struct bd_error *err)
{
	struct job *j = ctx;
	uint64_t done = 0;
	uint8_t piece[70000];

	while (done < j->total) {
		size_t n = (size_t)(rand_r(&j->seed) % sizeof(piece)) + 1;
		struct bd_span room[2];
		int r;

		if (n > j->total - done)
			n = (size_t)(j->total - done);
		if (done >= j->fail_at)
			return bd_error_set(err, BD_E_IO, "the store broke");
		if (rand_r(&j->seed) % 2 == 0 && (r = out->reserve(out->sink.ctx, n, room)) != 1) {
			if (r < 0) {
				j->refused = 1;
				return -1;
			}
			assert_int_equal(room[0].len + room[1].len, n);
			for (size_t k = 0; k < room[0].len; k++)
				room[0].data[k] = byte_at(done + k);
			for (size_t k = 0; k < room[1].len; k++)
				room[1].data[k] = byte_at(done + room[0].len + k);
			r = out->commit(out->sink.ctx, n);
		} else {
			for (size_t k = 0; k < n; k++)
				piece[k] = byte_at(done + k);
			r = out->sink.write(out->sink.ctx, piece, n);
		}
		if (r < 0) {
			j->refused = 1;
			return -1;
		}
		done += n;
	}
	return 0;
}

static void job_free(void *ctx)
{
	((struct job *)ctx)->freed = 1;
}

/* Read everything with reads of random size; returns the reader's last answer. */
static ssize_t read_all(struct gw_pipe *p, uint64_t *got, unsigned *seed, uint64_t stop_at)
{
	static char buf[200000];
	ssize_t n;

	for (;;) {
		size_t max = (size_t)(rand_r(seed) % sizeof(buf)) + 1;

		if (rand_r(seed) % 8 == 0)
			max = (size_t)(rand_r(seed) % 10) + 1;
		if (*got >= stop_at)
			return 0;
		n = gw_pipe_read(p, buf, max);
		if (n < 0)
			return n;
		assert_true(n > 0 && (size_t)n <= max);
		for (ssize_t k = 0; k < n; k++)
			if ((uint8_t)buf[k] != byte_at(*got + (uint64_t)k))
				fail_msg("byte %llu differs",
				         (unsigned long long)(*got + (uint64_t)k));
		*got += (uint64_t)n;
		if (rand_r(seed) % 16 == 0)
			usleep(200);
	}
}

static void test_every_byte_once(void **state)
{
	static const size_t caps[] = {7, 4096, 65536 + 3, 256 * 1024};

	(void)state;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct job j = {
		        .total = 3 * 1024 * 1024 + 17, .fail_at = UINT64_MAX, .seed = 5 + c};
		unsigned seed = 11 + (unsigned)c;
		struct bd_error err;
		uint64_t got = 0;
		struct gw_pipe *p = gw_pipe_start(caps[c], produce, &j, job_free, &err);

		assert_non_null(p);
		assert_int_equal(gw_pipe_wait_first(p, &err), 0);
		assert_int_equal(read_all(p, &got, &seed, UINT64_MAX),
		                 MHD_CONTENT_READER_END_OF_STREAM);
		assert_int_equal(got, j.total);
		assert_int_equal(gw_pipe_sent(p), j.total);
		assert_true(gw_pipe_written(p) < j.total);
		assert_int_equal(gw_pipe_result(p, &err), 0);
		gw_pipe_release(&p);
		assert_true(j.freed);
		assert_false(j.refused);
	}
}

static void test_producer_fails(void **state)
{
	struct job j = {.total = 1024 * 1024, .fail_at = 300000, .seed = 3};
	unsigned seed = 4;
	struct bd_error err;
	uint64_t got = 0;
	struct gw_pipe *p;

	(void)state;
	p = gw_pipe_start(256 * 1024, produce, &j, job_free, &err);
	assert_int_equal(gw_pipe_wait_first(p, &err), 0);
	assert_int_equal(read_all(p, &got, &seed, UINT64_MAX), MHD_CONTENT_READER_END_WITH_ERROR);
	assert_true(got >= 300000 && got < j.total);
	assert_int_equal(gw_pipe_result(p, &err), -1);
	assert_int_equal(err.code, BD_E_IO);
	assert_string_equal(err.msg, "the store broke");
	gw_pipe_release(&p);
	/* failing before the first byte: the caller learns it before answering */
	j = (struct job){.total = 1024, .fail_at = 0, .seed = 3};
	p = gw_pipe_start(4096, produce, &j, job_free, &err);
	assert_int_equal(gw_pipe_wait_first(p, &err), -1);
	assert_string_equal(err.msg, "the store broke");
	gw_pipe_release(&p);
}

static void test_cancel_midway(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		struct job j = {.total = 64 * 1024 * 1024, .fail_at = UINT64_MAX, .seed = round};
		unsigned seed = 100 + (unsigned)round;
		struct bd_error err;
		uint64_t got = 0;
		struct gw_pipe *p =
		        gw_pipe_start(round % 2 ? 7000 : 256 * 1024, produce, &j, job_free, &err);

		assert_int_equal(read_all(p, &got, &seed, (uint64_t)round * 50000 + 1), 0);
		gw_pipe_cancel(p);
		/* a producer stopped by the reader has not failed */
		assert_int_equal(gw_pipe_result(p, &err), 0);
		assert_true(j.refused);
		assert_int_equal(gw_pipe_sent(p), got);
		gw_pipe_release(&p);
		assert_true(j.freed);
	}
	/* letting go without a cancel stops the producer too */
	{
		struct job j = {.total = 64 * 1024 * 1024, .fail_at = UINT64_MAX, .seed = 9};
		struct bd_error err;
		struct gw_pipe *p = gw_pipe_start(4096, produce, &j, job_free, &err);

		assert_int_equal(gw_pipe_wait_first(p, &err), 0);
		gw_pipe_release(&p);
		assert_true(j.freed);
		assert_true(j.refused);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_byte_once),
	        cmocka_unit_test(test_producer_fails),
	        cmocka_unit_test(test_cancel_midway),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
