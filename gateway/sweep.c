/*
 * sweep.c - the gateway's sweeper thread: every [gateway] sweep_interval it
 * deletes expired packages (lib/sweep.c) through the store of the runtime in
 * force (the embedded store directly, or S3). Orphans (objects with no
 * manifest, left by a failed upload) go once they have been seen for longer
 * than a message may take in the milter. With [keys] rotate_every set, each
 * sweep also runs the gateway keys' lifecycle (bd_keys_maintain) and reloads
 * the gateway (SIGHUP to itself) when it rotated or removed a key.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "gateway.h"
#include "log.h"
#include "mem.h"
#include "sweep.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ORPHANS_MAX 100000

struct orphan {
	char id[17];
	int64_t first_seen;
	int seen; /* in the current sweep */
};

struct sweeper {
	struct orphan *v;
	size_t n;
	int64_t now;
	int64_t age_limit; /* seconds an orphan must have been seen before it goes */
};

struct gw_sweeper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
};

static int orphan_decide(void *ctx, const char *id)
{
	struct sweeper *sw = ctx;

	for (size_t i = 0; i < sw->n; i++) {
		if (strcmp(sw->v[i].id, id) == 0) {
			sw->v[i].seen = 1;
			return sw->now - sw->v[i].first_seen > sw->age_limit;
		}
	}
	if (sw->n < ORPHANS_MAX) {
		sw->v = bd_realloc(sw->v, (sw->n + 1) * sizeof(*sw->v));
		snprintf(sw->v[sw->n].id, sizeof(sw->v[sw->n].id), "%s", id);
		sw->v[sw->n].first_seen = sw->now;
		sw->v[sw->n].seen = 1;
		sw->n++;
	}
	return 0;
}

/* Forget orphans that are gone (deleted, or their manifest arrived). */
static void orphans_compact(struct sweeper *sw)
{
	size_t k = 0;

	for (size_t i = 0; i < sw->n; i++) {
		if (sw->v[i].seen) {
			sw->v[i].seen = 0;
			sw->v[k++] = sw->v[i];
		}
	}
	sw->n = k;
}

/* The last sweep's report, for the admin API: process-wide like the metrics. */
static struct {
	pthread_mutex_t lock;
	struct gw_sweep_report r;
} last = {.lock = PTHREAD_MUTEX_INITIALIZER};

int gw_sweep_last(struct gw_sweep_report *out)
{
	pthread_mutex_lock(&last.lock);
	*out = last.r;
	pthread_mutex_unlock(&last.lock);
	return out->at != 0;
}

/* Rotate and remove gateway keys on schedule; reload when something changed. */
static void keys_maintain(const struct bd_conf *conf)
{
	struct bd_keys_action done[8];
	struct bd_error err;
	size_t n = 0;
	int rc;

	if (conf->keys.rotate_every == 0)
		return;
	if (access(conf->keys.dir, W_OK) != 0) {
		/* The shipped unit keeps /etc read-only: bestanden-keys.timer does it there. */
		bd_log(LOG_DEBUG, "event=keys-maintain-skipped reason=\"the key directory is not "
		                  "writable here; bestanden keys maintain does it\"");
		return;
	}
	rc = bd_keys_maintain(conf->keys.dir, conf->keys.rotate_every,
	                      conf->policy.retention + conf->keys.grace, time(NULL), done,
	                      sizeof(done) / sizeof(done[0]), &n, &err);
	for (size_t i = 0; i < n; i++) {
		char line[160];

		bd_keys_action_format(&done[i], line, sizeof(line));
		bd_log(LOG_NOTICE, "%s", line);
	}
	if (rc < 0)
		bd_log(LOG_ERR, "event=keys-maintain-failed error=\"%s\"", err.msg);
	if (n > 0)
		kill(getpid(), SIGHUP);
}

/* One sweep with the runtime in force; the seconds until the next one. */
static uint64_t sweep_once(struct sweeper *sw)
{
	struct gw_runtime *rt = gw_runtime_get();
	struct bd_sweep_options o = {.orphan = orphan_decide, .ctx = sw};
	struct bd_sweep_stats st;
	struct bd_error err;
	uint64_t interval = rt->settings.conf->gateway.sweep_interval;
	int rc;

	/* Twice the milter's limit on one message, and a minute: surely not in progress. */
	sw->age_limit = 2 * (int64_t)rt->settings.conf->milter.timeout + 60;
	sw->now = (int64_t)time(NULL);
	o.now = sw->now;
	rc = bd_sweep_run(rt->settings.store, &o, &st, &err);
	keys_maintain(rt->settings.conf);
	gw_runtime_release(rt);
	orphans_compact(sw);
	pthread_mutex_lock(&last.lock);
	last.r = (struct gw_sweep_report){.at = sw->now, .ok = rc == 0, .stats = st};
	pthread_mutex_unlock(&last.lock);
	bd_log(rc == 0 ? LOG_INFO : LOG_WARNING,
	       "event=sweep objects=%llu packages=%llu expired=%llu orphans=%llu deleted=%llu "
	       "failures=%llu%s%s%s",
	       (unsigned long long)st.objects, (unsigned long long)st.packages,
	       (unsigned long long)st.expired, (unsigned long long)st.orphans,
	       (unsigned long long)st.deleted, (unsigned long long)st.failures,
	       rc == 0 ? "" : " error=\"", rc == 0 ? "" : err.msg, rc == 0 ? "" : "\"");
	return interval;
}

static void *sweeper_main(void *arg)
{
	struct gw_sweeper *g = arg;
	struct sweeper sw = {0};

	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		struct timespec until;
		uint64_t interval;

		pthread_mutex_unlock(&g->lock);
		interval = sweep_once(&sw);
		pthread_mutex_lock(&g->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)interval;
		while (!g->stopping && pthread_cond_timedwait(&g->cond, &g->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&g->lock);
	free(sw.v);
	return NULL;
}

struct gw_sweeper *gw_sweep_start(struct bd_error *err)
{
	struct gw_sweeper *g = bd_malloc(sizeof(*g));

	*g = (struct gw_sweeper){.lock = PTHREAD_MUTEX_INITIALIZER,
	                         .cond = PTHREAD_COND_INITIALIZER};
	if (pthread_create(&g->thread, NULL, sweeper_main, g) == 0)
		return g;
	free(g);
	bd_error_set(err, BD_E_IO, "cannot start the sweeper thread");
	return NULL;
}

void gw_sweep_stop(struct gw_sweeper **gp)
{
	struct gw_sweeper *g = *gp;

	*gp = NULL;
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = 1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	free(g);
}
