/*
 * sweep.c - the gateway's sweeper thread: every [gateway] sweep_interval it
 * deletes expired packages (lib/sweep.c) from the embedded store directly,
 * or from S3 through the configured driver. Orphans (objects with no
 * manifest, left by a failed upload) go once they have been seen for longer
 * than a message may take in the milter.
 */
#include "gateway.h"
#include "log.h"
#include "mem.h"
#include "sweep.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORPHANS_MAX 100000

struct orphan {
	char id[17];
	int64_t first_seen;
	int seen; /* in the current sweep */
};

struct sweeper {
	struct gw_server *srv;
	struct orphan *v;
	size_t n;
	int64_t now;
};

static int orphan_decide(void *ctx, const char *id)
{
	struct sweeper *sw = ctx;
	/* Twice the milter's limit on one message, and a minute: surely not in progress. */
	int64_t age_limit = 2 * (int64_t)sw->srv->conf->milter.timeout + 60;

	for (size_t i = 0; i < sw->n; i++) {
		if (strcmp(sw->v[i].id, id) == 0) {
			sw->v[i].seen = 1;
			return sw->now - sw->v[i].first_seen > age_limit;
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

static void sweep_once(struct sweeper *sw, struct bd_store *store)
{
	struct bd_sweep_options o = {.orphan = orphan_decide, .ctx = sw};
	struct bd_sweep_stats st;
	struct bd_error err;
	int rc;

	sw->now = (int64_t)time(NULL);
	o.now = sw->now;
	rc = bd_sweep_run(store, &o, &st, &err);
	orphans_compact(sw);
	bd_log(rc == 0 ? LOG_INFO : LOG_WARNING,
	       "event=sweep objects=%llu packages=%llu expired=%llu orphans=%llu deleted=%llu "
	       "failures=%llu%s%s%s",
	       (unsigned long long)st.objects, (unsigned long long)st.packages,
	       (unsigned long long)st.expired, (unsigned long long)st.orphans,
	       (unsigned long long)st.deleted, (unsigned long long)st.failures,
	       rc == 0 ? "" : " error=\"", rc == 0 ? "" : err.msg, rc == 0 ? "" : "\"");
}

static void *sweeper_main(void *arg)
{
	struct gw_server *srv = arg;
	struct sweeper sw = {.srv = srv};
	struct bd_store *store = NULL;
	struct bd_error err;

	if (srv->objects != NULL)
		store = bd_objstore_store(srv->objects);
	else
		store = bd_store_open(&srv->conf->storage, &err);
	if (store == NULL) {
		bd_log(LOG_ERR, "event=sweep-disabled error=\"%s\"", err.msg);
		return NULL;
	}
	pthread_mutex_lock(&srv->sweep_lock);
	while (!srv->stopping) {
		struct timespec until;

		pthread_mutex_unlock(&srv->sweep_lock);
		sweep_once(&sw, store);
		pthread_mutex_lock(&srv->sweep_lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)srv->conf->gateway.sweep_interval;
		while (!srv->stopping &&
		       pthread_cond_timedwait(&srv->sweep_cond, &srv->sweep_lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&srv->sweep_lock);
	bd_store_close(&store);
	free(sw.v);
	return NULL;
}

int gw_sweep_start(struct gw_server *srv, struct bd_error *err)
{
	pthread_mutex_init(&srv->sweep_lock, NULL);
	pthread_cond_init(&srv->sweep_cond, NULL);
	srv->stopping = 0;
	if (pthread_create(&srv->sweeper, NULL, sweeper_main, srv) != 0)
		return bd_error_set(err, BD_E_IO, "cannot start the sweeper thread");
	srv->sweeper_running = 1;
	return 0;
}

void gw_sweep_stop(struct gw_server *srv)
{
	if (!srv->sweeper_running)
		return;
	pthread_mutex_lock(&srv->sweep_lock);
	srv->stopping = 1;
	pthread_cond_broadcast(&srv->sweep_cond);
	pthread_mutex_unlock(&srv->sweep_lock);
	pthread_join(srv->sweeper, NULL);
	srv->sweeper_running = 0;
	pthread_cond_destroy(&srv->sweep_cond);
	pthread_mutex_destroy(&srv->sweep_lock);
}
