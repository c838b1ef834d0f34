/*
 * bestanden-gateway - download pages, upload requests and the object store.
 *
 * Start-up: read the configuration, the link keys and gateway secret keys
 * (refusing unsafe key files) and, for the embedded store, the object API
 * token; with -t stop there and report, like `postfix check`. Otherwise bind
 * the port (errors still reach the terminal), detach unless -f, start the
 * HTTP server and the sweeper, write the pid file, and stop cleanly on
 * SIGTERM or SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "gateway.h"
#include "keys.h"
#include "log.h"
#include "preflight.h"
#include "privileges.h"
#include "mem.h"

#define TLS_FILE_MAX (256 * 1024)

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

static int write_pid_file(const char *path, struct bd_error *err)
{
	char line[32];
	int fd, n;

	if (path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return bd_error_set(err, BD_E_IO, "cannot write pid file %s: %s", path,
		                    strerror(errno));
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return bd_error_set(err, BD_E_IO, "cannot write pid file %s: %s", path,
		                    strerror(errno));
	}
	close(fd);
	return 0;
}

/* The certificate is public; the key is read like any secret file (0600, secret memory). */
static int load_tls(struct gw_server *srv, struct bd_error *err)
{
	const struct bd_conf *conf = srv->conf;
	FILE *f;
	size_t n;

	if (conf->gateway.tls_cert[0] == '\0' && conf->gateway.tls_key[0] == '\0')
		return 0;
	if (conf->gateway.tls_cert[0] == '\0' || conf->gateway.tls_key[0] == '\0')
		return bd_error_set(err, BD_E_CONFIG, "[gateway] tls_cert and tls_key go together");
	f = fopen(conf->gateway.tls_cert, "r");
	if (f == NULL)
		return bd_error_set(err, BD_E_CONFIG, "cannot read %s: %s", conf->gateway.tls_cert,
		                    strerror(errno));
	srv->tls_cert = bd_malloc(TLS_FILE_MAX + 1);
	n = fread(srv->tls_cert, 1, TLS_FILE_MAX, f);
	srv->tls_cert[n] = '\0';
	fclose(f);
	srv->tls_key = bd_secret_file_read(conf->gateway.tls_key, TLS_FILE_MAX, err);
	return srv->tls_key == NULL ? -1 : 0;
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

static void cleanup(struct gw_server *srv)
{
	gw_download_fini(srv);
	gw_objects_fini(srv);
	free(srv->tls_cert);
	bd_secret_free(srv->tls_key);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	bd_keyring_free(&srv->keys);
	bd_conf_free(&srv->conf);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *conf_path = BD_CONF_DEFAULT_PATH;
	struct gw_server srv = {.listen_fd = -1, .keys_lock = PTHREAD_RWLOCK_INITIALIZER};
	struct bd_error err;
	sigset_t sigs;
	int c, sig, test_only = 0, foreground = 0;

	while ((c = getopt_long(argc, argv, "c:fth", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': test_only = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	bd_log_open("bestanden-gateway", foreground || test_only);
	srv.conf = bd_conf_load(conf_path, &err);
	if (srv.conf == NULL) {
		bd_log(LOG_ERR, "event=config-error error=\"%s\"", err.msg);
		return 1;
	}
	srv.keys = bd_keyring_load(srv.conf->keys.dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET, &err);
	if (srv.keys == NULL) {
		bd_log(LOG_ERR, "event=key-error error=\"%s\"", err.msg);
		cleanup(&srv);
		return 1;
	}
	if ((srv.conf->storage.driver == BD_STORAGE_GATEWAY && gw_objects_init(&srv, &err) < 0) ||
	    load_tls(&srv, &err) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"%s\"", err.msg);
		cleanup(&srv);
		return 1;
	}
	if (test_only) {
		unsigned problems = bd_preflight_run(srv.conf, BD_PREFLIGHT_GATEWAY,
		                                     bd_log_check_problem, NULL);

		bd_log(problems ? LOG_ERR : LOG_INFO,
		       "event=check config=%s link_key=%u gateway_key=%u result=%s", srv.conf->path,
		       bd_keyring_current(srv.keys, BD_KEY_LINK),
		       bd_keyring_current(srv.keys, BD_KEY_GATEWAY), problems ? "failed" : "ok");
		cleanup(&srv);
		return problems ? 1 : 0;
	}
	if (make_audit_dir(srv.conf, &err) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"[gateway] audit_log: %s\"", err.msg);
		cleanup(&srv);
		return 1;
	}
	if (gw_download_init(&srv, &err) < 0 || gw_listen(&srv, &err) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"%s\"", err.msg);
		cleanup(&srv);
		return 1;
	}
	if (!foreground && daemon(0, 0) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"cannot detach: %s\"", strerror(errno));
		cleanup(&srv);
		return 1;
	}
	if (write_pid_file(srv.conf->gateway.pid_file, &err) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"%s\"", err.msg);
		cleanup(&srv);
		return 1;
	}
	/* The port is bound, the keys are read, the pid file is written: root is no longer
	 * needed. The embedded store's directories (made as root just now) become the user's. */
	if ((srv.conf->storage.driver == BD_STORAGE_GATEWAY &&
	     bd_privileges_give(srv.conf->gateway.data_dir, srv.conf->gateway.user, &err) < 0) ||
	    (srv.conf->gateway.audit_log[0] != '\0' &&
	     bd_privileges_give_file(srv.conf->gateway.audit_log, srv.conf->gateway.user, "adm",
	                             &err) < 0) ||
	    bd_privileges_drop(srv.conf->gateway.user, &err) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"[gateway] user: %s\"", err.msg);
		cleanup(&srv);
		return 1;
	}
	/* Signals are taken by sigwait() below; every thread started from here inherits the mask.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (gw_server_start(&srv, &err) < 0) {
		bd_log(LOG_ERR, "event=start-refused error=\"%s\"", err.msg);
		gw_server_stop(&srv);
		cleanup(&srv);
		return 1;
	}
	bd_log(LOG_INFO, "event=start listen=%s storage=%s pid=%ld", srv.conf->gateway.listen,
	       bd_store_driver_name(srv.conf->storage.driver), (long)getpid());
	if (gw_sweep_start(&srv, &err) < 0)
		bd_log(LOG_ERR, "event=sweep-disabled error=\"%s\"", err.msg);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (gw_keys_reload(&srv, &err) < 0)
				bd_log(LOG_ERR,
				       "event=reload-failed error=\"%s\" action=\"kept the keys "
				       "in force\"",
				       err.msg);
			else
				bd_log(LOG_INFO,
				       "event=reloaded what=keys link_key=%u gateway_key=%u",
				       bd_keyring_current(srv.keys, BD_KEY_LINK),
				       bd_keyring_current(srv.keys, BD_KEY_GATEWAY));
			continue;
		}
		break;
	}
	bd_log(LOG_INFO, "event=stop signal=%s", sig == SIGTERM ? "TERM" : "INT");
	gw_sweep_stop(&srv);
	gw_server_stop(&srv);
	if (srv.conf->gateway.pid_file[0] != '\0')
		unlink(srv.conf->gateway.pid_file);
	cleanup(&srv);
	return 0;
}
