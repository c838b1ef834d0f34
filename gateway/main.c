/*
 * bestanden-gateway - download pages, upload requests and the object store.
 *
 * Start-up: read the configuration, the link keys and gateway public keys,
 * start the key process that alone holds the gateway secret keys (keyproc.c;
 * unsafe key files are refused) and, for the embedded store, read the object
 * API token; with -t stop there and report, like `postfix check`. Otherwise
 * register the features with the HTTP core, bind the port (errors still reach
 * the terminal), detach unless -f, write the pid file, start the HTTP server
 * and the sweeper; reload the settings on SIGHUP (runtime.c), replace a key
 * process that died, stop cleanly and remove the pid file on SIGTERM or SIGINT.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "gateway.h"
#include "keyproc.h"
#include "keys.h"
#include "log.h"
#include "manage.h"
#include "preflight.h"
#include "mem.h"
#include "metrics.h"
#include "pidfile.h"
#include "privileges.h"

#define TLS_FILE_MAX (256 * 1024)
/* A key process that dies this often in this many seconds is not worth restarting. */
#define KEYPROC_DEATHS_MAX    5
#define KEYPROC_DEATHS_WINDOW 60

/* --help: standard output, exit 0; a wrong option: standard error, exit 2. */
static void usage(FILE *out, int status)
{
	fprintf(out, "usage: bestanden-gateway [-c CONFIG] [-f] [-t]\n"
	             "  -c CONFIG  configuration file (default " BD_CONF_DEFAULT_PATH ")\n"
	             "  -f         stay in the foreground, log to stderr\n"
	             "  -t         check configuration and keys, then exit\n"
	             "  -h         show this help (also --help)\n");
	exit(status);
}

/* What is set up once and kept until a restart, beside the runtime that reloads. */
struct gateway {
	const char *conf_path;
	struct gw_server *srv;
	struct gw_server *admin_srv; /* [admin] listen: the admin API's own listener, or NULL */
	struct gw_admin *admin;
	struct gw_objects *objects; /* the embedded store, when [storage] driver = gateway */
	struct gw_download *download;
	struct gw_manage *manage; /* the sender's /m/ link */
	struct gw_sweeper *sweeper;
	char *tls_cert, *tls_key; /* PEM text; the key in secret memory */
	char *pid_file;
};

/* The certificate is public; the key is read like any secret file (0600, secret memory). */
static int load_tls(struct gateway *gw, const struct bd_conf_gateway *conf, struct bd_error *err)
{
	FILE *f;
	size_t n;

	if (conf->tls_cert[0] == '\0' && conf->tls_key[0] == '\0')
		return 0;
	if (conf->tls_cert[0] == '\0' || conf->tls_key[0] == '\0')
		return bd_error_set(err, BD_E_CONFIG, "[gateway] tls_cert and tls_key go together");
	f = fopen(conf->tls_cert, "r");
	if (f == NULL)
		return bd_error_set(err, BD_E_CONFIG, "cannot read %s: %s", conf->tls_cert,
		                    strerror(errno));
	gw->tls_cert = bd_malloc(TLS_FILE_MAX + 1);
	n = fread(gw->tls_cert, 1, TLS_FILE_MAX, f);
	gw->tls_cert[n] = '\0';
	fclose(f);
	gw->tls_key = bd_secret_file_read(conf->tls_key, TLS_FILE_MAX, err);
	return gw->tls_key == NULL ? -1 : 0;
}

/* The audit log's directory when missing, owned like logrotate's "create 0640 bestanden adm". */
static int make_audit_dir(const struct bd_conf *conf, struct bd_error *err)
{
	char *dir;
	int r;

	if (conf->gateway.audit_log[0] == '\0')
		return 0;
	dir = bd_strdup(conf->gateway.audit_log);
	r = bd_privileges_make_dir(dirname(dir), 0750, conf->gateway.user, "adm", err);
	free(dir);
	return r < 0 ? -1 : 0;
}

static void cleanup(struct gateway *gw)
{
	gw_sweep_stop(&gw->sweeper);
	gw_server_free(&gw->srv); /* stops it first: no request is left */
	gw_server_free(&gw->admin_srv);
	gw_admin_close(&gw->admin);
	gw_runtime_install(NULL);
	gw_download_free(&gw->download);
	gw_manage_free(&gw->manage);
	gw_objects_close(&gw->objects);
	free(gw->tls_cert);
	bd_secret_free(gw->tls_key);
	free(gw->pid_file);
}

static void *context_hold(void *cls)
{
	return gw_runtime_get();
}

static void context_drop(void *ctx)
{
	gw_runtime_release(ctx);
}

/* SIGHUP: everything anew, or nothing; requests in flight finish with what they had. */
/* The failed-lookup limit of the links and of the object API's token, at start and reload. */
static void set_rates(struct gateway *gw, const struct bd_conf_gateway *conf)
{
	gw_download_set_rate(gw->download, (unsigned)conf->failed_lookups_per_minute);
	gw_objects_set_rate(gw->objects, (unsigned)conf->failed_lookups_per_minute);
	gw_manage_set_rate(gw->manage, (unsigned)conf->failed_lookups_per_minute);
}

static int reload(struct gateway *gw)
{
	struct gw_runtime *old = gw_runtime_get(), *rt;
	struct bd_error err;

	rt = gw_runtime_load(gw->conf_path, old, gw_objects_store(gw->objects), 0, &err);
	gw_runtime_release(old);
	if (rt == NULL) {
		bd_log(LOG_ERR,
		       "event=reload-failed config=%s error=\"%s\" action=\"kept the running "
		       "configuration\"",
		       gw->conf_path, err.msg);
		return -1;
	}
	set_rates(gw, &rt->settings.conf->gateway);
	bd_log(LOG_INFO, "event=reloaded config=%s link_key=%u gateway_key=%u", gw->conf_path,
	       bd_keyring_current(rt->settings.keys, BD_KEY_LINK),
	       bd_keyring_current(rt->settings.keys, BD_KEY_GATEWAY));
	gw_runtime_install(rt);
	return 0;
}

/* How the key process ended, without reaping it (its keyring's release does). */
static void describe_exit(pid_t pid, char *buf, size_t size)
{
	siginfo_t si = {0};

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != pid)
		snprintf(buf, size, "hung up");
	else if (si.si_code == CLD_EXITED)
		snprintf(buf, size, "exited with status %d", si.si_status);
	else
		snprintf(buf, size, "killed by signal %d", si.si_status);
}

/*
 * Once a second, and at each signal: is the key process of the runtime in force
 * alive? Until it is replaced, openings fail with BD_E_TEMP (503). A dead one is
 * replaced by a reload (a new runtime, a new key process); when that fails, or it
 * keeps dying, the gateway stops with an error so that its service manager starts
 * it afresh. -1: stop.
 */
static int watch_keyproc(struct gateway *gw)
{
	static time_t deaths[KEYPROC_DEATHS_MAX];
	static size_t ndeaths;
	struct gw_runtime *rt = gw_runtime_get();
	int alive = rt->keyproc == NULL || bd_keyproc_alive(rt->keyproc);
	pid_t pid = rt->keyproc != NULL ? bd_keyproc_pid(rt->keyproc) : 0;
	time_t now = time(NULL);
	char how[64];

	gw_runtime_release(rt);
	if (alive)
		return 0;
	describe_exit(pid, how, sizeof(how));
	bd_log(LOG_ERR,
	       "event=key-process-died pid=%ld how=\"%s\" action=\"downloads answer 503; "
	       "starting a new one\"",
	       (long)pid, how);
	if (ndeaths == KEYPROC_DEATHS_MAX && now - deaths[0] < KEYPROC_DEATHS_WINDOW) {
		bd_log(LOG_ERR, "event=key-process-failing deaths=%d seconds=%d action=stop",
		       KEYPROC_DEATHS_MAX, KEYPROC_DEATHS_WINDOW);
		return -1;
	}
	if (ndeaths == KEYPROC_DEATHS_MAX)
		memmove(deaths, deaths + 1, --ndeaths * sizeof(deaths[0]));
	deaths[ndeaths++] = now;
	if (reload(gw) < 0) {
		bd_log(LOG_ERR, "event=key-process-failing action=stop");
		return -1;
	}
	return 0;
}

static int start_refused(struct gateway *gw, const char *what, const struct bd_error *err)
{
	bd_log(LOG_ERR, "event=start-refused error=\"%s%s\"", what, err->msg);
	cleanup(gw);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct gateway gw = {.conf_path = BD_CONF_DEFAULT_PATH};
	struct gw_server_settings ss;
	const struct bd_conf *conf;
	struct gw_runtime *rt;
	struct bd_conf *first;
	struct bd_error err;
	sigset_t sigs;
	int c, sig = 0, test_only = 0, foreground = 0, status = 0;

	/* keyproc.c: the process that holds the secret keys, started by the gateway itself */
	if (argc > 1 && strcmp(argv[1], "--key-process") == 0)
		return gw_keyproc_main(argc, argv);
	while ((c = getopt_long(argc, argv, "c:fth", opts, NULL)) != -1) {
		switch (c) {
		case 'c': gw.conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': test_only = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	bd_log_open("bestanden-gateway", foreground || test_only);
	gw_keyproc_foreground(foreground || test_only);
	/* The embedded store comes first: the runtime reads packages through it. */
	first = bd_conf_load(gw.conf_path, &err);
	if (first == NULL) {
		bd_log(LOG_ERR, "event=config-error error=\"%s\"", err.msg);
		return 1;
	}
	if (first->storage.driver == BD_STORAGE_GATEWAY &&
	    (gw.objects = gw_objects_open(first->gateway.data_dir, first->storage.token_file,
	                                  &err)) == NULL) {
		bd_conf_free(&first);
		return start_refused(&gw, "", &err);
	}
	if (first->admin.listen[0] != '\0' &&
	    (gw.admin = gw_admin_open(first->admin.token_file, &err)) == NULL) {
		bd_conf_free(&first);
		return start_refused(&gw, "", &err);
	}
	/* The audit log's directory before the runtime opens the log in it. */
	if (!test_only && make_audit_dir(first, &err) < 0) {
		bd_conf_free(&first);
		return start_refused(&gw, "[gateway] audit_log: ", &err);
	}
	bd_conf_free(&first);
	rt = gw_runtime_load(gw.conf_path, NULL, gw_objects_store(gw.objects), test_only, &err);
	if (rt == NULL) {
		bd_log(LOG_ERR, "event=%s error=\"%s\"",
		       err.code == BD_E_KEY ? "key-error" : "start-refused", err.msg);
		cleanup(&gw);
		return 1;
	}
	gw_runtime_install(rt); /* rt stays valid: main holds the settings bound at start */
	rt = gw_runtime_get();
	conf = rt->settings.conf;
	if (load_tls(&gw, &conf->gateway, &err) < 0) {
		gw_runtime_release(rt);
		return start_refused(&gw, "", &err);
	}
	if (test_only) {
		unsigned problems =
		        bd_preflight_run(conf, BD_PREFLIGHT_GATEWAY, bd_log_check_problem, NULL);

		bd_log(problems ? LOG_ERR : LOG_INFO,
		       "event=check config=%s link_key=%u gateway_key=%u result=%s", conf->path,
		       bd_keyring_current(rt->settings.keys, BD_KEY_LINK),
		       bd_keyring_current(rt->settings.keys, BD_KEY_GATEWAY),
		       problems ? "failed" : "ok");
		gw_runtime_release(rt);
		cleanup(&gw);
		return problems ? 1 : 0;
	}
	ss = (struct gw_server_settings){
	        .listen = conf->gateway.listen,
	        .internal_listen = conf->gateway.internal_listen,
	        .max_connections = (unsigned)conf->gateway.max_connections,
	        .connection_timeout = (unsigned)conf->gateway.connection_timeout,
	        .max_per_client = (unsigned)conf->gateway.max_connections_per_client,
	        .header_timeout = (unsigned)conf->gateway.header_timeout,
	        .tls_cert = gw.tls_cert,
	        .tls_key = gw.tls_key,
	};
	gw.pid_file = bd_strdup(conf->gateway.pid_file);
	/* The core knows only what is registered here. */
	gw.srv = gw_server_new(&ss);
	gw_server_set_context(gw.srv, context_hold, context_drop, NULL);
	gw_objects_register(gw.srv, gw.objects);
	gw.download = gw_download_register(gw.srv, gw.tls_cert != NULL);
	gw.manage = gw_manage_register(gw.srv);
	set_rates(&gw, &conf->gateway);
	gw_upload_register(gw.srv, gw.download);
	gw_metrics_register(gw.srv);
	if (gw.admin != NULL) {
		/* The admin API answers on its own listener only, never on the recipients'. */
		ss.listen = conf->admin.listen;
		ss.internal_listen = NULL; /* the internal routes stay with the first instance */
		gw.admin_srv = gw_server_new(&ss);
		gw_server_set_context(gw.admin_srv, context_hold, context_drop, NULL);
		gw_admin_register(gw.admin_srv, gw.admin);
	}
	if (gw_server_listen(gw.srv, &err) < 0 ||
	    (gw.admin_srv != NULL && gw_server_listen(gw.admin_srv, &err) < 0)) {
		gw_runtime_release(rt);
		return start_refused(&gw, "", &err);
	}
	if (!foreground && daemon(0, 0) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"cannot detach: %s\"", strerror(errno));
		gw_runtime_release(rt);
		cleanup(&gw);
		return 1;
	}
	/* The key process started above is the parent's, which daemon() just ended: a child of
	 * this process replaces it, so that it is watched, reaped and ended with the gateway. */
	if (!foreground && gw_runtime_restart_keyproc(rt, &err) < 0) {
		gw_runtime_release(rt);
		return start_refused(&gw, "", &err);
	}
	if (bd_pidfile_write(gw.pid_file, conf->gateway.user, &err) < 0) {
		gw_runtime_release(rt);
		return start_refused(&gw, "", &err);
	}
	/* The port is bound, the keys are read, the pid file is written: root is no longer
	 * needed. The embedded store's directories (made as root just now) become the user's. */
	if ((gw.objects != NULL &&
	     bd_privileges_give(conf->gateway.data_dir, conf->gateway.user, &err) < 0) ||
	    (conf->gateway.audit_log[0] != '\0' &&
	     bd_privileges_give_file(conf->gateway.audit_log, conf->gateway.user, "adm", &err) <
	             0) ||
	    bd_privileges_drop(conf->gateway.user, &err) < 0) {
		gw_runtime_release(rt);
		bd_pidfile_remove(gw.pid_file, NULL);
		return start_refused(&gw, "[gateway] user: ", &err);
	}
	/* Signals are taken by sigwait() below; every thread started from here inherits the mask.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (gw_server_start(gw.srv, &err) < 0 ||
	    (gw.admin_srv != NULL && gw_server_start(gw.admin_srv, &err) < 0)) {
		gw_runtime_release(rt);
		bd_pidfile_remove(gw.pid_file, NULL);
		return start_refused(&gw, "", &err);
	}
	bd_log(LOG_INFO, "event=start listen=%s admin=%s storage=%s pid=%ld", conf->gateway.listen,
	       gw.admin_srv != NULL ? conf->admin.listen : "off",
	       bd_store_driver_name(conf->storage.driver), (long)getpid());
	gw_runtime_release(rt);
	gw.sweeper = gw_sweep_start(&err);
	if (gw.sweeper == NULL)
		bd_log(LOG_ERR, "event=sweep-disabled error=\"%s\"", err.msg);
	for (;;) {
		struct timespec tick = {.tv_sec = 1};

		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGHUP)
			reload(&gw);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (watch_keyproc(&gw) < 0) {
			status = 1;
			break;
		}
	}
	bd_log(LOG_INFO, "event=stop %s",
	       status != 0      ? "reason=key-process"
	       : sig == SIGTERM ? "signal=TERM"
	                        : "signal=INT");
	gw_sweep_stop(&gw.sweeper);
	gw_server_stop(gw.srv);
	if (gw.admin_srv != NULL)
		gw_server_stop(gw.admin_srv);
	if (bd_pidfile_remove(gw.pid_file, &err) < 0)
		bd_log(LOG_WARNING, "event=pid-file-left error=\"%s\"", err.msg);
	cleanup(&gw);
	return status;
}
