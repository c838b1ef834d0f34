/*
 * keyproc.c - the gateway's key process: the only process that holds the
 * gateway's X25519 secret keys (lib/crypto/keyproc.h has the protocol).
 *
 * Each runtime (runtime.c) starts one: fork, then exec of this same program
 * with --key-process, so it shares nothing with the HTTP process but the
 * socketpair on its descriptor 3 - no memory, no listening socket, no token.
 * It loads the key directory, drops to [gateway] user like the gateway, makes
 * itself undumpable, says hello and answers requests until the socket hangs
 * up. A reload starts a new one with the new keys and the old one ends with
 * the last request of the old runtime, so a removed key leaves memory then.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "gateway.h"
#include "keyproc.h"
#include "log.h"
#include "privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define KEYPROC_FD         3
#define KEYPROC_TIMEOUT_MS 5000

static int foreground;

void gw_keyproc_foreground(int on)
{
	foreground = on;
}

/* ---- in the key process ---------------------------------------------------------------------- */

static void serve(const struct bd_keyring *kr)
{
	uint8_t req[BD_KEYPROC_REQUEST_BYTES + 1], ans[BD_KEYPROC_ANSWER_BYTES];

	for (;;) {
		ssize_t n = recv(KEYPROC_FD, req, sizeof(req), MSG_TRUNC);
		struct bd_error why;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the gateway hung up, or went away */
		if (bd_keyproc_answer(kr, req, (size_t)n, ans, &why) == BD_KEYPROC_REFUSED)
			bd_log(LOG_WARNING,
			       "event=key-request-refused bytes=%zd reason=\"%s\" "
			       "action=\"answered "
			       "with a refusal\"",
			       n, why.msg);
		n = send(KEYPROC_FD, ans, sizeof(ans), MSG_NOSIGNAL);
		sodium_memzero(ans, sizeof(ans));
		if (n != (ssize_t)sizeof(ans))
			break;
	}
}

int gw_keyproc_main(int argc, char **argv)
{
	struct bd_keyring *kr = NULL;
	struct bd_error err;
	socklen_t len = sizeof(int);
	sigset_t none;
	int type = 0;

	bd_log_open("bestanden-gateway", argc > 4 && strcmp(argv[4], "-f") == 0);
	if (argc < 4 || getsockopt(KEYPROC_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		bd_log(LOG_ERR,
		       "event=key-process-refused error=\"bestanden-gateway starts its key "
		       "process itself\"");
		return 2;
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the gateway ends it by hanging up: not a Ctrl-C meant for the gateway, nor a hang-up */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* exec of /proc/self/exe names it "exe": ps -C and top show the gateway's name instead */
	prctl(PR_SET_NAME, "bestanden-gateway", 0, 0, 0);
	/* Nobody of the same user reads this memory through ptrace or /proc, nor a core file. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	kr = bd_keyring_load(argv[2], BD_NEED_GATEWAY_SECRET, &err);
	if (kr == NULL || bd_privileges_drop(argv[3], &err) < 0) {
		bd_keyproc_hello(KEYPROC_FD, &err);
		bd_keyring_free(&kr);
		return 1;
	}
	if (bd_keyproc_hello(KEYPROC_FD, NULL) == 0) {
		bd_log(LOG_INFO, "event=key-process-ready pid=%ld gateway_key=%u", (long)getpid(),
		       bd_keyring_current(kr, BD_KEY_GATEWAY));
		serve(kr);
	}
	bd_keyring_free(&kr);
	return 0;
}

/* ---- in the gateway -------------------------------------------------------------------------- */

struct bd_keyproc *gw_keyproc_start(struct bd_keyring *kr, const char *dir, const char *user,
                                    struct bd_error *err)
{
	char *argv[] = {"bestanden-gateway", "--key-process",          (char *)dir,
	                (char *)user,        foreground ? "-f" : NULL, NULL};
	struct bd_keyproc *kp;
	sigset_t none;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return bd_error_set(err, BD_E_IO, "cannot make the key process's socket: %s",
		                    strerror(errno)),
		       NULL;
	sigemptyset(&none);
	pid = fork();
	if (pid == 0) {
		/* Other threads may hold locks: only async-signal-safe calls until exec. */
		int null = foreground ? -1 : open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (sv[1] == KEYPROC_FD)
			fcntl(KEYPROC_FD, F_SETFD, 0);
		else if (dup2(sv[1], KEYPROC_FD) < 0)
			_exit(127);
		close_range(KEYPROC_FD + 1, ~0U, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* this very program, even when a newer one was installed meanwhile */
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return bd_error_set(err, BD_E_IO, "cannot start the key process: %s",
		                    strerror(errno)),
		       NULL;
	}
	kp = bd_keyproc_connect(kr, sv[0], pid, KEYPROC_TIMEOUT_MS, err);
	if (kp == NULL)
		bd_error_prefix(err, "key process");
	return kp;
}
