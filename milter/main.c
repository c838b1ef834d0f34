/*
 * bestanden-milter - the mail filter in front of Postfix or Sendmail.
 *
 * Process model (like a tiny Postfix master): the supervisor keeps the pid
 * file and the signals; the filter runs in one child that it restarts if it
 * dies. SIGHUP reloads configuration and keys in the child without dropping
 * connections (SIGUSR1 to the child: libmilter keeps SIGHUP for itself).
 * SIGTERM drains (SIGUSR2 to the child): new messages are tempfailed, the
 * ones in progress finish, then the filter and the supervisor exit.
 * -t checks configuration, keys, storage (it must answer and take the
 * credentials) and directories, like `postfix check`; a missing spool
 * directory is created at start. The /metrics port ([milter] metrics_listen)
 * is bound before anything else, as root, so a port in use stops the start;
 * the filter child serves it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "network.h"
#include "pending.h"
#include "pidfile.h"
#include "preflight.h"
#include "privileges.h"

static const char *conf_path = BD_CONF_DEFAULT_PATH;
static int metrics_fd = -1; /* [milter] metrics_listen, bound by main; -1: off */

/* --help: standard output, exit 0; a wrong option: standard error, exit 2. */
static void usage(FILE *out, int status)
{
	fprintf(out, "usage: bestanden-milter [-c CONFIG] [-f] [-t] [-d]\n"
	             "  -c CONFIG  configuration file (default " BD_CONF_DEFAULT_PATH ")\n"
	             "  -f         stay in the foreground, log to stderr\n"
	             "  -t         check configuration, keys and storage settings, then exit\n"
	             "  -d         log debug lines too\n"
	             "  -h         show this help (also --help)\n");
	exit(status);
}

/*
 * In the child: SIGUSR1 reloads; SIGUSR2 (the supervisor's SIGTERM) drains:
 * new messages are tempfailed, messages in progress finish (libmilter's
 * worker pool must still run for that), then libmilter is stopped.
 */
static void *signal_thread(void *arg)
{
	uint64_t timeout = *(uint64_t *)arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		struct bd_runtime *rt;
		struct bd_error err;

		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR2) {
			bd_filter_drain();
			bd_log(LOG_INFO, "event=draining active=%d", bd_filter_active());
			for (uint64_t waited = 0; bd_filter_active() > 0 && waited < timeout * 10;
			     waited++)
				usleep(100000);
			smfi_stop();
			return NULL;
		}
		rt = bd_runtime_load(conf_path, &err);
		if (rt == NULL) {
			bd_log(LOG_ERR,
			       "event=reload-failed config=%s error=\"%s\" action=\"kept the "
			       "running configuration\"",
			       conf_path, err.msg);
			continue;
		}
		bd_runtime_install(rt);
		bd_log(LOG_INFO, "event=reloaded config=%s", conf_path);
	}
	return NULL;
}

/*
 * Packages the filter gave up on and could not delete (pending.h): retried at
 * start and every minute with the runtime in force, given up after [policy]
 * retention (the sweep deletes them at their expiry).
 */
static void *pending_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct bd_runtime *rt = bd_runtime_get();
		struct bd_error err;

		if (bd_pending_retry(rt->conf->milter.spool_dir, rt->store, (int64_t)time(NULL),
		                     rt->conf->policy.retention, NULL, &err) < 0)
			bd_log(LOG_ERR, "event=pending-delete result=failed error=\"%s\"", err.msg);
		bd_runtime_release(rt);
		sleep(60);
	}
	return NULL;
}

/*
 * TCP_NODELAY on libmilter's listening socket, found among our descriptors (libmilter does
 * not hand it out; EXCEPT is the metrics listener): connections accepted from it inherit
 * the option. Without it the milter's answer at the end of a message - a header, the new
 * body, then "continue", written one after the other - waits behind Nagle for the MTA's
 * delayed ACK, 40 ms a rewritten message over TCP (docs/PERFORMANCE.md).
 */
static void nodelay_listener(int except)
{
	/* it was opened a moment ago, at start-up: among the lowest descriptors */
	long max = sysconf(_SC_OPEN_MAX);
	int limit = max > 0 && max < 1024 ? (int)max : 1024;

	for (int fd = 0; fd < limit; fd++) {
		struct sockaddr_storage a;
		socklen_t alen = sizeof(a);
		int listening = 0, one = 1;
		socklen_t len = sizeof(listening);

		if (fd == except ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening ||
		    getsockname(fd, (struct sockaddr *)&a, &alen) < 0 ||
		    (a.ss_family != AF_INET && a.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
			bd_log(LOG_WARNING, "event=nodelay-failed error=\"%s\"", strerror(errno));
	}
}

/* The filter process: socket, privileges, libmilter loop, drain. */
static int run_filter(void)
{
	struct bd_runtime *rt;
	struct bd_error err;
	pthread_t tid;
	sigset_t set;
	char *socket;
	static uint64_t timeout; /* read by the signal thread */

	rt = bd_runtime_load(conf_path, &err);
	if (rt == NULL) {
		bd_log(LOG_ERR, "event=start-failed error=\"%s\"", err.msg);
		return 1;
	}
	socket = strdup(rt->conf->milter.socket);
	timeout = rt->conf->milter.timeout;
	if (smfi_setconn(socket) == MI_FAILURE || smfi_register(bd_filter_desc) == MI_FAILURE ||
	    smfi_opensocket(true) == MI_FAILURE) {
		bd_log(LOG_ERR,
		       "event=start-failed socket=%s error=\"cannot open the milter socket "
		       "(in use, or no permission?)\"",
		       socket);
		return 1;
	}
	if (bd_milter_socket_is_tcp(socket))
		nodelay_listener(metrics_fd);
	else if (strncmp(socket, "unix:", 5) == 0 || strncmp(socket, "local:", 6) == 0)
		chmod(strchr(socket, ':') + 1, 0660);
	if (bd_privileges_give(rt->conf->milter.spool_dir, rt->conf->milter.user, &err) < 0 ||
	    bd_privileges_drop(rt->conf->milter.user, &err) < 0) {
		bd_log(LOG_ERR, "event=start-failed error=\"[milter] user: %s\"", err.msg);
		return 1;
	}
	bd_runtime_install(rt);
	g_mime_init();
	/* Every thread blocks these: libmilter's signal thread takes HUP, TERM and INT
	 * with sigwait, ours USR1 and USR2. A thread that left TERM unblocked would die of it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_create(&tid, NULL, signal_thread, &timeout);
	pthread_detach(tid);
	pthread_create(&tid, NULL, pending_thread, NULL);
	pthread_detach(tid);
	if (metrics_fd >= 0 && bd_metrics_start(metrics_fd, &err) < 0) {
		bd_log(LOG_ERR, "event=start-failed error=\"[milter] metrics_listen: %s\"",
		       err.msg);
		return 1;
	}
	bd_log(LOG_INFO, "event=started socket=%s", socket);
	smfi_main();
	bd_metrics_stop();
	bd_log(LOG_INFO, "event=stopped active=%d", bd_filter_active());
	free(socket);
	return 0;
}

/* The supervisor: start the filter child, pass signals on, restart it if it dies. */
static int supervise(const char *pid_file)
{
	struct bd_error err;
	sigset_t set;
	pid_t child = -1;
	int fast_failures = 0, stopping = 0, status = 0;
	time_t started = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		int sig;

		if (child < 0 && !stopping) {
			started = time(NULL);
			child = fork();
			if (child == 0) {
				sigprocmask(SIG_UNBLOCK, &set, NULL);
				_exit(run_filter());
			}
			if (child < 0) {
				bd_log(LOG_ERR, "event=fork-failed error=\"%s\"", strerror(errno));
				return 1;
			}
		}
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP && child > 0) {
			kill(child, SIGUSR1);
		} else if ((sig == SIGTERM || sig == SIGINT) && child > 0) {
			stopping = 1;
			kill(child, SIGUSR2); /* drain, then stop */
		} else if (sig == SIGCHLD) {
			pid_t p;

			while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
				if (p != child)
					continue;
				child = -1;
				if (stopping)
					break;
				if (time(NULL) - started < 5)
					fast_failures++;
				else
					fast_failures = 0;
				bd_log(LOG_ERR, "event=filter-died status=%d action=%s",
				       WIFEXITED(status) ? WEXITSTATUS(status)
				                         : 128 + WTERMSIG(status),
				       fast_failures >= 5 ? "giving-up" : "restarting");
				if (fast_failures >= 5)
					stopping = 1;
				else
					sleep(1);
			}
			if (child < 0 && stopping)
				break;
		}
	}
	if (bd_pidfile_remove(pid_file, &err) < 0)
		bd_log(LOG_WARNING, "event=pid-file-left error=\"%s\"", err.msg);
	return fast_failures >= 5 ? 1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct bd_runtime *rt;
	struct bd_error err;
	int c, test_only = 0, foreground = 0, debug = 0, r;
	char *pid_file, *user;

	while ((c = getopt_long(argc, argv, "c:ftdh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': test_only = 1; break;
		case 'd': debug = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	bd_log_open("bestanden-milter", foreground || test_only);
	bd_log_set_debug(debug);
	rt = bd_runtime_load(conf_path, &err);
	if (rt == NULL) {
		bd_log(LOG_ERR, "event=start-failed error=\"%s\"", err.msg);
		return 1;
	}
	if (test_only) {
		unsigned problems =
		        bd_preflight_run(rt->conf, BD_PREFLIGHT_MILTER, bd_log_check_problem, NULL);

		bd_log(problems ? LOG_ERR : LOG_INFO,
		       "event=check config=%s link_key=%u gateway_key=%u storage=%s result=%s",
		       rt->conf->path, bd_keyring_current(rt->keys, BD_KEY_LINK),
		       bd_keyring_current(rt->keys, BD_KEY_GATEWAY),
		       bd_store_driver_name(rt->conf->storage.driver), problems ? "failed" : "ok");
		bd_runtime_release(rt);
		return problems ? 1 : 0;
	}
	if (bd_privileges_make_dir(rt->conf->milter.spool_dir, 0750, rt->conf->milter.user, NULL,
	                           &err) < 0) {
		bd_log(LOG_ERR, "event=start-failed error=\"[milter] spool_dir: %s\"", err.msg);
		bd_runtime_release(rt);
		return 1;
	}
	if (rt->conf->milter.metrics_listen[0] != '\0' &&
	    (metrics_fd = bd_listen_tcp(rt->conf->milter.metrics_listen, &err)) < 0) {
		bd_log(LOG_ERR, "event=start-failed error=\"[milter] metrics_listen: %s\"",
		       err.msg);
		bd_runtime_release(rt);
		return 1;
	}
	pid_file = strdup(rt->conf->milter.pid_file);
	user = strdup(rt->conf->milter.user);
	bd_runtime_release(rt);
	if (!foreground && daemonize() < 0) {
		bd_log(LOG_ERR, "event=start-failed error=\"cannot become a daemon: %s\"",
		       strerror(errno));
		return 1;
	}
	if (bd_pidfile_write(pid_file, user, &err) < 0) {
		bd_log(LOG_ERR, "event=start-failed error=\"%s\"", err.msg);
		return 1;
	}
	r = supervise(pid_file);
	free(pid_file);
	free(user);
	return r;
}
