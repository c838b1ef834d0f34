/*
 * bench_store.c - one timed upload and download through a storage driver.
 *
 * usage: bench_store -c CONFIG -f FILE
 * Reads FILE into memory (outside the timing), puts it through the driver
 * CONFIG names, gets it back into a sink that only counts, deletes it, and
 * prints "put SECONDS get SECONDS BYTES". bench/bench_store.sh runs this
 * interleaved with curl's own PUT/GET of the same file to the same server.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "mem.h"
#include "store.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_write(void *ctx, const uint8_t *buf, size_t len)
{
	*(uint64_t *)ctx += len;
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL, *file = NULL;
	struct bd_mem_source src;
	struct bd_conf *conf;
	struct bd_store *s;
	struct bd_error err;
	struct stat st;
	uint64_t got = 0;
	struct bd_sink sink = {count_write, &got};
	uint8_t *data;
	double t0, t1, t2;
	char name[64];
	FILE *f;
	int c;

	while ((c = getopt(argc, argv, "c:f:")) != -1) {
		if (c == 'c')
			conf_path = optarg;
		else if (c == 'f')
			file = optarg;
	}
	if (conf_path == NULL || file == NULL) {
		fprintf(stderr, "usage: bench_store -c CONFIG -f FILE\n");
		return 2;
	}
	conf = bd_conf_load(conf_path, &err);
	if (conf == NULL || (s = bd_store_open(&conf->storage, &err)) == NULL) {
		fprintf(stderr, "bench_store: %s\n", err.msg);
		return 1;
	}
	f = fopen(file, "rb");
	if (f == NULL || fstat(fileno(f), &st) < 0) {
		perror(file);
		return 1;
	}
	data = bd_malloc((size_t)st.st_size);
	if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		perror(file);
		return 1;
	}
	fclose(f);
	snprintf(name, sizeof(name), "be7c/%lx", (unsigned long)getpid());
	bd_mem_source_init(&src, data, (size_t)st.st_size);
	t0 = now_s();
	if (bd_store_put(s, name, &src.source, (uint64_t)st.st_size, &err) < 0) {
		fprintf(stderr, "bench_store: %s\n", err.msg);
		return 1;
	}
	t1 = now_s();
	if (bd_store_get(s, name, 0, BD_STORE_TO_END, &sink, &err) < 0 ||
	    got != (uint64_t)st.st_size) {
		fprintf(stderr, "bench_store: get: %s\n", err.msg);
		return 1;
	}
	t2 = now_s();
	bd_store_delete(s, name, &err);
	printf("put %.4f get %.4f %lld\n", t1 - t0, t2 - t1, (long long)st.st_size);
	bd_store_close(&s);
	bd_conf_free(&conf);
	free(data);
	return 0;
}
