/*
 * sweep.c - delete expired packages (see sweep.h).
 *
 * A listing comes in byte order, so a package's objects arrive together and
 * its manifest "<id>/0" first; one package is counted at a time and judged
 * when the next begins, then deleted through bd_package_delete(). A package's
 * events ("<id>/0e/...") sort after its manifest and count among its objects.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "sweep.h"
#include "events.h"
#include "manifest.h"
#include "remove.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_READ 1024

struct sweep {
	struct bd_store *store;
	const struct bd_sweep_options *opts;
	struct bd_sweep_stats *st;
	struct bd_error *err;
	int failed;
	/* the package being collected */
	char id[BD_PACKAGE_ID_HEX];
	int has_manifest;
	int has_marker; /* withdrawn by its sender (remove.h) */
	uint64_t manifest_size;
	size_t n; /* its objects seen */
};

static void fail(struct sweep *w, const struct bd_error *e)
{
	w->st->failures++;
	if (!w->failed && w->err != NULL && e != NULL)
		*w->err = *e;
	w->failed = 1;
}

static void delete_package(struct sweep *w)
{
	struct bd_error e;
	size_t deleted = 0;
	int rc = bd_package_delete(w->store, w->id, &deleted, &e);

	w->st->deleted += deleted + (w->has_manifest && (rc == 0 || deleted > 0) ? 1 : 0);
	if (rc < 0)
		fail(w, &e); /* the rest is an orphan now: a later sweep removes it */
}

static int expired(struct sweep *w, int *yes)
{
	struct bd_manifest_header h;
	struct bd_buf_sink sink;
	struct bd_error e;
	char name[BD_PACKAGE_ID_HEX + 2];
	int rv = -1;

	if (w->manifest_size > BD_MANIFEST_MAX_BYTES) {
		bd_error_set(&e, BD_E_LIMIT,
		             "sweep: manifest %s/0 is %llu bytes, too large to be one", w->id,
		             (unsigned long long)w->manifest_size);
		fail(w, &e);
		return -1;
	}
	snprintf(name, sizeof(name), "%s/0", w->id);
	bd_buf_sink_init(&sink);
	/* The clear header and the start of the body are all the parser needs. */
	if (bd_store_get(w->store, name, 0, HEADER_READ, &sink.sink, &e) < 0) {
		if (e.code != BD_E_NOTFOUND) /* deleted meanwhile: nothing to do */
			fail(w, &e);
	} else if (bd_manifest_parse_header(sink.data, sink.len, &h, &e) < 0) {
		bd_error_prefix(&e, "sweep: %s", name);
		fail(w, &e);
	} else {
		*yes = h.expires <= w->opts->now;
		rv = 0;
	}
	free(sink.data);
	return rv;
}

static void judge(struct sweep *w)
{
	int yes = 0;

	if (w->n == 0)
		return;
	if (w->has_manifest) {
		w->st->packages++;
		if (expired(w, &yes) == 0 && yes) {
			w->st->expired++;
			delete_package(w);
		}
	} else if (w->has_marker) {
		/* a withdrawn package's marker: kept until the package would have expired */
		struct bd_error e;
		int64_t until = 0;
		int rc = bd_package_withdrawn(w->store, w->id, &until, &e);

		if (rc < 0)
			fail(w, &e);
		else if (rc == 0 || until <= w->opts->now)
			delete_package(w);
	} else {
		w->st->orphans++;
		if (w->opts->orphan != NULL && w->opts->orphan(w->opts->ctx, w->id))
			delete_package(w);
	}
	w->n = 0;
	w->has_manifest = 0;
	w->has_marker = 0;
}

/* "<16 hex>/<hex>" with no leading zero in the index (but "0" itself), or an event
 * "<16 hex>/0e/<stamp>" (events.h): it goes with its package, or as an orphan.
 * *IS_MANIFEST is 1 for the manifest, 2 for a withdrawal marker (remove.h), else 0. */
static int package_object(const char *name, char id[BD_PACKAGE_ID_HEX], int *is_manifest)
{
	const char *idx = name + BD_PACKAGE_ID_HEX;
	char marker[16];

	if (strlen(name) < BD_PACKAGE_ID_HEX + 1 || name[BD_PACKAGE_ID_HEX - 1] != '/')
		return 0;
	for (int i = 0; i < BD_PACKAGE_ID_HEX - 1; i++)
		if (name[i] == '/')
			return 0;
	if (strncmp(idx, BD_EVENTS_DIR "/", sizeof(BD_EVENTS_DIR)) == 0)
		idx += sizeof(BD_EVENTS_DIR);
	if (strchr(idx, '/') != NULL || *idx == '\0')
		return 0;
	memcpy(id, name, BD_PACKAGE_ID_HEX - 1);
	id[BD_PACKAGE_ID_HEX - 1] = '\0';
	snprintf(marker, sizeof(marker), "%x", BD_PACKAGE_WITHDRAWN_INDEX);
	*is_manifest = strcmp(idx, "0") == 0 ? 1 : strcmp(idx, marker) == 0 ? 2 : 0;
	return 1;
}

static int on_object(void *ctx, const char *name, uint64_t size)
{
	struct sweep *w = ctx;
	char id[BD_PACKAGE_ID_HEX];
	int is_manifest;

	w->st->objects++;
	if (!package_object(name, id, &is_manifest))
		return 0; /* not ours to judge */
	if (strcmp(id, w->id) != 0) {
		judge(w);
		memcpy(w->id, id, sizeof(w->id));
	}
	if (is_manifest == 1) {
		w->has_manifest = 1;
		w->manifest_size = size;
	}
	if (is_manifest == 2)
		w->has_marker = 1;
	w->n++;
	return 0;
}

int bd_sweep_run(struct bd_store *s, const struct bd_sweep_options *opts,
                 struct bd_sweep_stats *stats, struct bd_error *err)
{
	struct sweep w = {.store = s, .opts = opts, .st = stats, .err = err};
	struct bd_error e;
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = bd_store_list(s, "", on_object, &w, &e);
	if (rc == 0)
		judge(&w);
	if (rc < 0) {
		if (err != NULL)
			*err = e;
		return -1;
	}
	return w.failed ? -1 : 0;
}
