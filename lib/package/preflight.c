/*
 * preflight.c - start-up checks that need no mail (see preflight.h).
 *
 * The checks judge files as the configured user will meet them after the
 * daemon has dropped root (not running as root: as ourselves), because that
 * is when a reload reads the keys again and when new files are written.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "preflight.h"
#include "template.h"
#include "privileges.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct run {
	bd_conf_report_fn *report;
	void *ctx;
	unsigned problems;
};

static void problem(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct run *r, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->report(r->ctx, line);
	r->problems++;
}

/* Who the daemon is once running: USER when we are root, else whoever runs this. */
static const char *effective_user(const char *user)
{
	return geteuid() == 0 && user != NULL && *user != '\0' ? user : "";
}

static const char *user_name(const char *user)
{
	return *user ? user : "the user running this check";
}

/* --- storage --- */

/* Port of an http(s) URL (default 80 or 443), and whether its host is loopback. */
static unsigned url_port(const char *url, int *loopback)
{
	const char *host = strstr(url, "://"), *end;
	unsigned port = strncmp(url, "https:", 6) == 0 ? 443 : 80;

	host = host ? host + 3 : url;
	end = host + strcspn(host, "/");
	*loopback = strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost", 9) == 0 ||
	            strncmp(host, "[::1]", 5) == 0;
	for (const char *p = end; p > host; p--) {
		if (p[-1] == ']')
			break;
		if (p[-1] == ':') {
			port = (unsigned)strtoul(p, NULL, 10);
			break;
		}
	}
	return port;
}

/* The gateway serves the embedded store itself: [storage] url on this host must be its port
 * (of [gateway] internal_listen when that is set: the object API answers only there). */
static void check_url_reaches_listen(struct run *r, const struct bd_conf *conf)
{
	int internal = conf->gateway.internal_listen[0] != '\0';
	const char *listen = internal ? conf->gateway.internal_listen : conf->gateway.listen;
	const char *colon = strrchr(listen, ':');
	unsigned listen_port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
	int loopback;
	unsigned port = url_port(conf->storage.url, &loopback);

	if (loopback && strncmp(conf->storage.url, "http:", 5) == 0 && port != listen_port)
		problem(r,
		        "[storage] url = %s: the milter would not reach this gateway, whose object "
		        "API listens on port %u ([gateway] %s = %s); give both the same port",
		        conf->storage.url, listen_port, internal ? "internal_listen" : "listen",
		        listen);
}

static void check_storage(struct run *r, const struct bd_conf *conf)
{
	struct bd_conf_storage once = conf->storage; /* a shallow copy: only the retries change */
	struct bd_store *s;
	struct bd_error err;
	uint64_t size;
	int gateway = conf->storage.driver == BD_STORAGE_GATEWAY;

	once.retries = 0;
	s = bd_store_open(&once, &err);
	if (s == NULL) {
		problem(r, "[storage] %s: %s", gateway ? "token_file" : "s3_secret_key_file",
		        err.msg);
		return;
	}
	if (bd_store_head(s, "0/0", &size, &err) == 0 || err.code == BD_E_NOTFOUND) {
		bd_store_close(&s);
		return;
	}
	bd_store_close(&s);
	if (strstr(err.msg, "HTTP 401") || strstr(err.msg, "HTTP 403"))
		problem(r,
		        gateway ? "[storage] token_file = %s: the gateway refused this token; copy "
		                  "the gateway's store.token here (%s)"
		                : "[storage] s3_access_key and s3_secret_key_file (%s): the S3 "
		                  "store "
		                  "refused these credentials (%s)",
		        gateway ? conf->storage.token_file : conf->storage.s3_secret_key_file,
		        err.msg);
	else if (gateway)
		problem(r,
		        "[storage] url = %s: the gateway's object API does not answer there (%s); "
		        "set it to the address of bestanden-gateway ([gateway] listen) and check "
		        "that the gateway runs (`bestanden storage init` tries again)",
		        conf->storage.url, err.msg);
	else
		problem(r, "[storage] s3_endpoint = %s, s3_bucket = %s: %s",
		        conf->storage.s3_endpoint, conf->storage.s3_bucket, err.msg);
}

/* --- keys --- */

static int is_key_file(const char *name, const char *kind, const char *ext)
{
	size_t k = strlen(kind), n = strlen(name), e = strlen(ext);

	return strncmp(name, kind, k) == 0 && name[k] == '-' && n > k + 1 + e &&
	       strcmp(name + n - e, ext) == 0 &&
	       strspn(name + k + 1, "0123456789") == n - k - 1 - e;
}

static void check_readable(struct run *r, const char *setting, const char *path, const char *user,
                           const char *daemon)
{
	if (bd_privileges_user_can(user, path, R_OK))
		return;
	problem(r,
	        "%s: %s is not readable by %s, which %s runs as when it reloads; "
	        "chown %s %s",
	        setting, path, user_name(user), daemon, *user ? user : "$(id -un)", path);
}

static void check_keys(struct run *r, const struct bd_conf *conf, const char *user,
                       const char *daemon, const char *gateway_ext)
{
	const char *dir = conf->keys.dir;
	struct dirent *de;
	DIR *d;

	if (!bd_privileges_user_can(user, dir, R_OK | X_OK)) {
		problem(r, "[keys] dir: %s cannot be read by %s, which %s runs as; chown -R %s %s",
		        dir, user_name(user), daemon, *user ? user : "$(id -un)", dir);
		return;
	}
	d = opendir(dir);
	if (d == NULL) {
		problem(r, "[keys] dir: cannot open %s: %s (bestanden keygen creates it)", dir,
		        strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (strcmp(de->d_name, "current") != 0 &&
		    !is_key_file(de->d_name, "link", ".key") &&
		    !is_key_file(de->d_name, "gateway", gateway_ext))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		check_readable(r, "[keys] dir", path, user, daemon);
	}
	closedir(d);
}

/* --- directories --- */

/*
 * DIR must be writable by USER, or missing with a parent that exists (the
 * daemon creates it at start). GIVEN: the daemon makes it USER's at start.
 */
static void check_dir(struct run *r, const char *setting, const char *dir, const char *user,
                      int given)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		char parent[PATH_MAX], *slash;

		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash != NULL)
			*(slash == parent ? slash + 1 : slash) = '\0';
		if (errno == ENOENT && slash != NULL && stat(parent, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			return;
		problem(r,
		        "%s: %s is missing and cannot be created (%s); create it: install -d -m "
		        "0750%s%s %s",
		        setting, dir, strerror(errno), *user ? " -o " : "", user, dir);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		problem(r, "%s: %s is not a directory", setting, dir);
		return;
	}
	if ((given && *user) || bd_privileges_user_can(user, dir, W_OK | X_OK))
		return;
	problem(r, "%s: %s is not writable by %s; chown %s %s", setting, dir, user_name(user),
	        *user ? user : "$(id -un)", dir);
}

static void check_audit_log(struct run *r, const struct bd_conf *conf, const char *user)
{
	const char *path = conf->gateway.audit_log;
	char dir[PATH_MAX], *slash;

	if (path[0] == '\0')
		return;
	if (access(path, F_OK) == 0) {
		/* the gateway opens it as root at start, but as USER after logrotate */
		if (!bd_privileges_user_can(user, path, W_OK))
			problem(r, "[gateway] audit_log: %s is not writable by %s; chown %s %s",
			        path, user_name(user), *user ? user : "$(id -un)", path);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	check_dir(r, "[gateway] audit_log", dir, user, 1);
}

/* Templates NAME load in LANG. */
static void check_templates_in(struct run *r, const struct bd_conf *conf, const char *name,
                               const char *lang)
{
	struct bd_error err;
	struct bd_notice *n = bd_notice_load_named(conf->notice.template_dir, name, lang, &err);

	if (n == NULL)
		problem(r, "[notice] template_dir: %s", err.msg);
	bd_notice_free(&n);
}

/* Templates NAME load in [notice] language (the milter's request notice, the gateway's mails). */
static void check_templates(struct run *r, const struct bd_conf *conf, const char *name)
{
	check_templates_in(r, conf, name, bd_language_code(conf->notice.language));
}

/* Upload requests at the gateway: their spool, and clamd's socket when scanning is on. */
static void check_uploads(struct run *r, const struct bd_conf *conf, const char *user)
{
	struct stat st;

	check_dir(r, "[requests] spool_dir", conf->requests.spool_dir, user, 1);
	check_templates(r, conf, "notice");
	if (conf->scan.clamd[0] != '\0' &&
	    (stat(conf->scan.clamd, &st) < 0 || !S_ISSOCK(st.st_mode)))
		problem(r, "[scan] clamd: %s is not a socket (is clamd running?)",
		        conf->scan.clamd);
}

unsigned bd_preflight_run(const struct bd_conf *conf, unsigned roles, bd_conf_report_fn *report,
                          void *ctx)
{
	struct run r = {report, ctx, 0};
	int gateway_store = conf->storage.driver == BD_STORAGE_GATEWAY;

	if (roles & BD_PREFLIGHT_MILTER) {
		const char *user = effective_user(conf->milter.user);

		check_keys(&r, conf, user, "bestanden-milter", ".pub");
		if (gateway_store && conf->storage.token_file[0] != '\0')
			check_readable(&r, "[storage] token_file", conf->storage.token_file, user,
			               "bestanden-milter");
		if (!gateway_store && conf->storage.s3_secret_key_file[0] != '\0')
			check_readable(&r, "[storage] s3_secret_key_file",
			               conf->storage.s3_secret_key_file, user, "bestanden-milter");
		check_dir(&r, "[milter] spool_dir", conf->milter.spool_dir, user, 1);
		check_templates(&r, conf, "request");
	}
	if (roles & BD_PREFLIGHT_GATEWAY) {
		const char *user = effective_user(conf->gateway.user);

		check_keys(&r, conf, user, "bestanden-gateway", ".key");
		if (gateway_store)
			check_dir(&r, "[gateway] data_dir", conf->gateway.data_dir, user, 1);
		check_audit_log(&r, conf, user);
		/* a recipient's code goes out in the language of the page that asked for it */
		check_templates_in(&r, conf, "code", "auto");
		check_templates(&r, conf, "receipt"); /* to senders, in [notice] language */
		check_templates(&r, conf, "locked");
		check_uploads(&r, conf, user);
	}
	/* The gateway alone does not call its own object API; everyone else does. */
	if (roles == BD_PREFLIGHT_GATEWAY && gateway_store)
		check_url_reaches_listen(&r, conf);
	else
		check_storage(&r, conf);
	return r.problems;
}
