/*
 * filter.c - libmilter callbacks: collect the message, hand it to the
 * rewrite engine at end of message, write the result back.
 *
 * Per connection: where the mail comes from. Per message: envelope,
 * macros and the spool; freed at end of message AND on abort (one
 * connection can carry several messages). All changes happen at end of
 * message: header changes first, then every replacement body chunk back to
 * back (Postfix ends a body replacement at any other reply). While the
 * rewrite uploads, its progress callback sends smfi_progress. Every message
 * answered at end of message is counted once (metrics.h).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codetag.h"
#include "direction.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "milter.h"
#include "notify.h"
#include "pending.h"
#include "remove.h"
#include "rewrite.h"
#include "spool.h"
#include "uploadreq.h"

#define MAX_COUNTED 64 /* distinct Content-* header names counted per message */
/* The commands that only feed the spool: never refused one by one (a spool failure is
 * reported at end of message), so the MTA need not wait for an answer to each. */
#define NO_REPLY (SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

struct conn {
	struct sockaddr_storage client;
	int have_client;
	int leadspc;  /* the MTA gives and takes header values exactly (SMFIP_HDR_LEADSPC) */
	int no_reply; /* the MTA expects no answer to RCPT, headers, EOH, body (NO_REPLY) */
	char *daemon_name;
	struct msg *msg;
};

struct msg {
	struct bd_runtime *rt;
	char *sender;      /* without the angle brackets; "" for the null sender */
	char *auth_authen; /* {auth_authen}, or NULL */
	char *subject;     /* the first Subject header's raw value, or NULL */
	/* The Subject without the sender's [code:...] tag (codetag.h), or NULL; and its code
	 * (normalised; wiped with the message), which the rewrite hashes into the manifest. */
	char *untagged_subject;
	char code[BD_ACCESS_CODE_MAX + 1];
	int leadspc;
	char **rcpts;
	size_t nrcpts;
	int authenticated;
	char queue_id[64];
	struct bd_spool *spool;
	/* how often each top-level header the rewrite may change occurs */
	struct counted {
		char name[64];
		unsigned n;
	} hdr[MAX_COUNTED];
	size_t nhdr;
	int failed; /* spooling failed: tempfail at eom */
	char fail_reason[256];
	struct timespec start;
	struct timespec eom; /* the end of the message: the MTA waits from here */
};

static atomic_int active;
static atomic_int draining;

void bd_filter_drain(void)
{
	atomic_store(&draining, 1);
}

/* Whether the rewrite may change header NAME: MIME-Version, Content-*, and our own. */
static bool counted(const char *name)
{
	return bd_rewrite_header_may_change(name) || strcasecmp(name, "X-Bestanden") == 0;
}

static struct counted *header_count(struct msg *m, const char *name)
{
	for (size_t i = 0; i < m->nhdr; i++)
		if (strcasecmp(m->hdr[i].name, name) == 0)
			return &m->hdr[i];
	return NULL;
}

int bd_filter_active(void)
{
	return atomic_load(&active);
}

static void msg_free(struct msg **mp)
{
	struct msg *m = *mp;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->sender);
	free(m->auth_authen);
	free(m->subject);
	free(m->untagged_subject);
	sodium_memzero(m->code, sizeof(m->code));
	bd_spool_free(&m->spool);
	bd_runtime_release(m->rt);
	free(m);
	*mp = NULL;
	atomic_fetch_sub(&active, 1);
}

static const char *macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	return v && *v ? v : NULL;
}

static void set_queue_id(SMFICTX *ctx, struct msg *m)
{
	const char *qid = macro(ctx, "i");

	if (qid && m->queue_id[0] == '\0')
		snprintf(m->queue_id, sizeof(m->queue_id), "%s", qid);
}

/* The answer to a command that only feeds the spool. */
static sfsistat fed(const struct conn *c)
{
	return c->no_reply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long need = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS;
	struct bd_runtime *rt;
	struct conn *c;

	if ((f0 & need) != need) {
		bd_log(LOG_ERR,
		       "event=negotiate-failed error=\"the MTA does not allow body and header "
		       "changes (offered actions 0x%lx)\"",
		       f0);
		return SMFIS_REJECT;
	}
	/* removing the upload-request address from the envelope, where the MTA allows it */
	*pf0 = need | (f0 & (SMFIF_SETSYMLIST | SMFIF_DELRCPT));
	/* exact header values (keep the space after the colon); no answer to the commands
	 * that only feed the spool, so the MTA streams them; nothing of HELO, DATA or
	 * unknown commands */
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | NO_REPLY | SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN);
	/* the no-reply flags all or none; and the no-reply and skip flags only on a local
	 * socket: over TCP a command the MTA sends without waiting for an answer sits behind
	 * the one before until the milter's delayed ACK (Nagle), 40 ms a message, four times
	 * the whole message's time without attachments (docs/PERFORMANCE.md) */
	rt = bd_runtime_get();
	if ((*pf1 & NO_REPLY) != NO_REPLY)
		*pf1 &= ~(unsigned long)NO_REPLY;
	if (bd_milter_socket_is_tcp(rt->conf->milter.socket))
		*pf1 &= (unsigned long)SMFIP_HDR_LEADSPC;
	bd_runtime_release(rt);
	/* negotiation comes before connect: the connection starts here */
	c = bd_calloc(1, sizeof(*c));
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->no_reply = (*pf1 & NO_REPLY) != 0;
	smfi_setpriv(ctx, c);
	*pf2 = *pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} j");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen} {auth_type}");
		smfi_setsymlist(ctx, SMFIM_EOH, "i");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	struct conn *c = smfi_getpriv(ctx);
	const char *dn = macro(ctx, "{daemon_name}");

	if (c == NULL)
		c = bd_calloc(1, sizeof(*c));
	free(c->daemon_name);
	if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
		memcpy(&c->client, addr,
		       addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
		                                  : sizeof(struct sockaddr_in6));
		c->have_client = 1;
	}
	c->daemon_name = dn ? bd_strdup(dn) : NULL;
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

/* MAIL FROM's address as the CLI takes it: "<a@b>" becomes "a@b", "<>" "". */
static char *envelope_address(const char *arg)
{
	size_t n;

	if (arg == NULL)
		return bd_strdup("");
	n = strlen(arg);
	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>')
		return bd_asprintf("%.*s", (int)(n - 2), arg + 1);
	return bd_strdup(arg);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	struct bd_error err;
	struct msg *m;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	msg_free(&c->msg);
	if (atomic_load(&draining)) {
		smfi_setreply(ctx, "421", "4.3.2",
		              "Attachment filter is restarting, try again shortly");
		return SMFIS_TEMPFAIL;
	}
	m = bd_calloc(1, sizeof(*m));
	atomic_fetch_add(&active, 1);
	c->msg = m;
	clock_gettime(CLOCK_MONOTONIC, &m->start);
	bd_runtime_follow_keys();
	m->rt = bd_runtime_get();
	m->sender = envelope_address(argv[0]);
	m->leadspc = c->leadspc;
	m->authenticated = macro(ctx, "{auth_authen}") != NULL || macro(ctx, "{auth_type}") != NULL;
	if (macro(ctx, "{auth_authen}") != NULL)
		m->auth_authen = bd_strdup(macro(ctx, "{auth_authen}"));
	set_queue_id(ctx, m);
	m->spool = bd_spool_new(m->rt->conf->milter.spool_dir, m->rt->conf->milter.spool_memory,
	                        m->rt->conf->milter.max_message_size, &err);
	if (m->spool == NULL) {
		bd_log(LOG_ERR, "event=spool-failed error=\"%s\"", err.msg);
		smfi_setreply(ctx, "451", "4.3.0",
		              "Temporary problem with attachment processing, try again later");
		msg_free(&c->msg);
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	m->rcpts = bd_realloc(m->rcpts, (m->nrcpts + 1) * sizeof(char *));
	m->rcpts[m->nrcpts++] = bd_strdup(argv[0]);
	return fed(c);
}

/* Spool failures are remembered and reported once, at end of message. */
static void spool_write(struct msg *m, const void *data, size_t len)
{
	struct bd_error err;

	if (m->failed)
		return;
	if (bd_spool_write(m->spool, data, len, &err) < 0) {
		m->failed = err.code == BD_E_LIMIT ? 2 : 1;
		snprintf(m->fail_reason, sizeof(m->fail_reason), "%s", err.msg);
	}
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;
	const char *p;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (counted(name) && strlen(name) < sizeof(m->hdr[0].name)) {
		struct counted *h = header_count(m, name);

		if (h == NULL && m->nhdr < MAX_COUNTED) {
			h = &m->hdr[m->nhdr++];
			snprintf(h->name, sizeof(h->name), "%s", name);
		}
		if (h != NULL)
			h->n++;
	}
	if (m->subject == NULL && strcasecmp(name, "Subject") == 0)
		m->subject = bd_strdup(value);
	spool_write(m, name, strlen(name));
	spool_write(m, ":", 1);
	/* folded values come with bare LF: store CRLF like the body */
	for (p = value; *p;) {
		size_t n = strcspn(p, "\r\n");

		spool_write(m, p, n);
		p += n;
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p == '\n' || *p == '\r') {
			spool_write(m, "\r\n", 2);
			p++;
		}
	}
	spool_write(m, "\r\n", 2);
	return fed(c);
}

static sfsistat on_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	set_queue_id(ctx, m);
	spool_write(m, "\r\n", 2);
	return fed(c);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	spool_write(m, chunk, len);
	return fed(c);
}

/*
 * Storing runs in a thread of its own, so the end-of-message callback can
 * answer the MTA by [milter] timeout whatever storage does. A job that runs
 * late is abandoned: the MTA gets a tempfail, the job keeps the message (and
 * its spool) until it ends, then deletes whatever it stored. Parsing and
 * deciding are local work and run in the callback: most mail has nothing to
 * store and never needs the thread.
 */
struct job {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	SMFICTX *ctx; /* NULL once abandoned: the MTA's context is gone */
	struct msg *m;
	struct bd_rewrite_envelope env;
	struct bd_rewrite_job *rewrite;
	int done;
	int rc;
	struct bd_rewrite_result *res;
	struct bd_error err;
};

/* The rewrite's progress callback, in the job's thread: only while the MTA still waits. */
static void progress(void *arg)
{
	struct job *j = arg;

	pthread_mutex_lock(&j->lock);
	if (j->ctx != NULL)
		smfi_progress(j->ctx);
	pthread_mutex_unlock(&j->lock);
}

static void job_free(struct job *j)
{
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *job_run(void *arg)
{
	struct job *j = arg;
	int abandoned;

	j->rc = bd_rewrite_finish(&j->rewrite, &j->res, &j->err);
	pthread_mutex_lock(&j->lock);
	j->done = 1;
	abandoned = j->ctx == NULL;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	if (abandoned) {
		/* nobody will deliver what this stored */
		if (j->rc == 0 && j->res->changed)
			bd_package_delete_or_queue(j->m->rt->store,
			                           j->m->rt->conf->milter.spool_dir,
			                           j->res->package_id);
		bd_log(LOG_NOTICE, "queue_id=%s event=late-rewrite-ended action=%s",
		       j->m->queue_id[0] ? j->m->queue_id : "-",
		       j->rc == 0 && j->res->changed ? "package-deleted" : "nothing-stored");
		bd_rewrite_result_free(&j->res);
		msg_free(&j->m);
		job_free(j);
	}
	return NULL;
}

/*
 * Run the rewrite with a deadline. 0: *res is the result (and the job is gone);
 * -1 with ERR: it failed, or it is still running past the deadline, in which case
 * the job now owns the message and *mp is NULL.
 */
static int rewrite_with_deadline(SMFICTX *ctx, struct msg **mp, int fd,
                                 const struct bd_rewrite_envelope *env,
                                 struct bd_rewrite_result **res, struct bd_error *err)
{
	struct job *j = bd_calloc(1, sizeof(*j));
	struct msg *m = *mp;
	unsigned long long timeout = (unsigned long long)m->rt->conf->milter.timeout;
	struct timespec until;
	pthread_t tid;
	int rc;

	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->ctx = ctx;
	j->m = m;
	j->env = *env;
	j->env.progress = progress;
	j->env.progress_ctx = j;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)timeout;
	rc = bd_rewrite_begin(m->rt->rewrite, fd, &j->env, &j->res, &j->rewrite, err);
	if (rc != 0) {
		/* nothing to store (1), or it failed: no thread */
		*res = j->res;
		job_free(j);
		return rc < 0 ? -1 : 0;
	}
	if (pthread_create(&tid, NULL, job_run, j) != 0) {
		rc = bd_rewrite_finish(&j->rewrite, &j->res, err);
		*res = j->res;
		job_free(j);
		return rc;
	}
	pthread_detach(tid);
	pthread_mutex_lock(&j->lock);
	while (!j->done)
		if (pthread_cond_timedwait(&j->cond, &j->lock, &until) == ETIMEDOUT)
			break;
	if (!j->done) {
		/* late: the job keeps the message (do not touch it after unlocking); the MTA
		 * gets its answer now */
		j->ctx = NULL;
		*mp = NULL;
		pthread_mutex_unlock(&j->lock);
		return bd_error_set(err, BD_E_TEMP, "not finished within [milter] timeout (%llu s)",
		                    timeout);
	}
	pthread_mutex_unlock(&j->lock);
	rc = j->rc;
	*res = j->res;
	if (rc < 0 && err)
		*err = j->err;
	job_free(j);
	return rc;
}

/* Body replacement: collect into 64 KiB pieces, send them back to back. */
struct body_sink {
	SMFICTX *ctx;
	unsigned char buf[65536];
	size_t len;
	int failed;
};

static int body_flush(struct body_sink *b)
{
	if (b->len > 0 && smfi_replacebody(b->ctx, b->buf, (int)b->len) == MI_FAILURE)
		b->failed = 1;
	b->len = 0;
	return b->failed ? -1 : 0;
}

static int body_write(void *ctx, const uint8_t *data, size_t len)
{
	struct body_sink *b = ctx;

	while (len > 0) {
		size_t n = sizeof(b->buf) - b->len < len ? sizeof(b->buf) - b->len : len;

		memcpy(b->buf + b->len, data, n);
		b->len += n;
		data += n;
		len -= n;
		if (b->len == sizeof(b->buf) && body_flush(b) < 0)
			return -1;
	}
	return 0;
}

/* Leave N copies of NAME as one with VALUE (NULL: none). */
static int replace_header(SMFICTX *ctx, const char *name, unsigned n, char *value)
{
	/* extra copies go, from the highest index down */
	for (unsigned i = n; i > 1; i--)
		if (smfi_chgheader(ctx, (char *)name, (int)i, NULL) == MI_FAILURE)
			return -1;
	if (value == NULL)
		return n >= 1 ? (smfi_chgheader(ctx, (char *)name, 1, NULL) == MI_FAILURE ? -1 : 0)
		              : 0;
	if (n >= 1)
		return smfi_chgheader(ctx, (char *)name, 1, value) == MI_FAILURE ? -1 : 0;
	return smfi_addheader(ctx, (char *)name, value) == MI_FAILURE ? -1 : 0;
}

/*
 * Set header NAME to VALUE (NULL: remove it), whatever number of copies it had.
 * We asked for exact header values (SMFIP_HDR_LEADSPC), so the MTA adds no
 * space after the colon of what we set either: the value gets it here.
 */
static int set_header(SMFICTX *ctx, struct msg *m, const char *name, const char *raw)
{
	const struct counted *h = header_count(m, name);
	unsigned n = h != NULL ? h->n : 0;
	char *value = NULL;
	int rc;

	if (raw != NULL)
		value = m->leadspc ? bd_asprintf(" %s", raw) : bd_strdup(raw);
	rc = replace_header(ctx, name, n, value);
	free(value);
	return rc;
}

/* Replace the body with what WRITE(SRC) produces, in 64 KiB pieces. */
static int replace_body(SMFICTX *ctx, int (*write)(void *, struct bd_sink *, struct bd_error *),
                        void *src, struct bd_error *err)
{
	struct body_sink *b = bd_malloc(sizeof(*b));
	struct bd_sink sink = {body_write, b};
	int r;

	b->ctx = ctx;
	b->len = 0;
	b->failed = 0;
	r = write(src, &sink, err);
	if (r == 0 && body_flush(b) < 0)
		r = -1;
	if (b->failed)
		r = bd_error_set(err, BD_E_TEMP,
		                 "the MTA connection failed during body replacement");
	free(b);
	return r;
}

/* Hand the result to the MTA: headers first, then the whole body back to back. */
static int apply(SMFICTX *ctx, struct msg *m, struct bd_rewrite_result *res, struct bd_error *err)
{

	for (size_t i = 0; i < res->nheaders; i++)
		if (set_header(ctx, m, res->headers[i].name, res->headers[i].value) < 0)
			return bd_error_set(err, BD_E_TEMP, "the MTA refused a change of header %s",
			                    res->headers[i].name);
	/* an X-Bestanden header that came with the message is not ours: replace it */
	if (set_header(ctx, m, "X-Bestanden", res->x_bestanden) < 0)
		return bd_error_set(err, BD_E_TEMP, "the MTA refused the X-Bestanden header");
	return replace_body(
	        ctx, (int (*)(void *, struct bd_sink *, struct bd_error *))bd_rewrite_write_body,
	        res, err);
}

/*
 * An upload request (uploadreq.h): the subject without its tag, the request address out
 * of the envelope, and - when the rewrite changed nothing itself - the request's own
 * MIME headers and body.
 */
static int apply_request(SMFICTX *ctx, struct msg *m, struct bd_uploadreq *rq, bool rewritten,
                         struct bd_error *err)
{
	if (rq->subject != NULL) {
		char *value = m->leadspc ? bd_asprintf(" %s", rq->subject) : bd_strdup(rq->subject);
		int rc = smfi_chgheader(ctx, "Subject", 1, value);

		free(value);
		if (rc == MI_FAILURE)
			return bd_error_set(err, BD_E_TEMP, "the MTA refused the new Subject");
	}
	if (rq->drop_rcpt != NULL && smfi_delrcpt(ctx, (char *)rq->drop_rcpt) == MI_FAILURE)
		return bd_error_set(err, BD_E_TEMP, "the MTA refused to remove a recipient");
	if (rewritten)
		return 0;
	for (size_t i = 0; i < rq->nheaders; i++)
		if (set_header(ctx, m, rq->headers[i].name, rq->headers[i].value) < 0)
			return bd_error_set(err, BD_E_TEMP, "the MTA refused a change of header %s",
			                    rq->headers[i].name);
	return replace_body(
	        ctx, (int (*)(void *, struct bd_sink *, struct bd_error *))bd_uploadreq_write_body,
	        rq, err);
}

/* The Subject without the sender's code tag, when the message had one and nothing else
 * (an upload request) set the Subject already. */
static int apply_untagged(SMFICTX *ctx, struct msg *m, const struct bd_uploadreq *rq,
                          struct bd_error *err)
{
	char *value;
	int rc;

	if (m->untagged_subject == NULL || (rq != NULL && rq->subject != NULL))
		return 0;
	value = m->leadspc ? bd_asprintf(" %s", m->untagged_subject)
	                   : bd_strdup(m->untagged_subject);
	rc = smfi_chgheader(ctx, "Subject", 1, value);
	free(value);
	return rc == MI_FAILURE ? bd_error_set(err, BD_E_TEMP, "the MTA refused the new Subject")
	                        : 0;
}

/*
 * The sender's access code (codetag.h) out of the Subject of an outgoing message, and out
 * of the Subject an upload request RQ sets. -1 when the code cannot be used.
 */
static int take_code(struct msg *m, struct bd_uploadreq *rq, struct bd_error *err)
{
	const char *tag = m->rt->conf->recipients.code_tag;
	char *again = NULL, code[BD_ACCESS_CODE_MAX + 1];

	if (rq == NULL) {
		/* with SMFIP_HDR_LEADSPC the value starts with the space after the colon */
		const char *subject = m->subject;

		if (subject != NULL && m->leadspc && *subject == ' ')
			subject++;
		return bd_codetag_take(tag, subject, &m->untagged_subject, m->code, err) < 0 ? -1
		                                                                             : 0;
	}
	/* the request's Subject came from the message as it was: the tag is still in it */
	if (rq->subject != NULL && bd_codetag_take(tag, rq->subject, &again, code, err) == 1) {
		free(rq->subject);
		rq->subject = again;
	}
	sodium_memzero(code, sizeof(code));
	return 0;
}

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Seconds since MAIL FROM. */
static double elapsed(const struct msg *m)
{
	return since(&m->start);
}

/* " policy_rule=NAME policy_action=ACTION" into BUF when [rule NAME] sections decided RES. */
static void policy_kv(char *buf, size_t size, const struct bd_rewrite_result *res)
{
	if (res == NULL || res->rule_action == NULL)
		return;
	bd_log_kv_str(buf, size, "policy_rule", res->rule);
	bd_log_kv_str(buf, size, "policy_action", res->rule_action);
}

/*
 * The sender's management mail (notify.h), once per message whose package wants
 * receipts: sent after the MTA has the changed message, in a thread of its own so the
 * MTA never waits for [smtp]; a failure is logged and the message goes on regardless.
 * The thread counts as a message in flight, so a drain waits for it.
 */
struct manage_mail {
	struct bd_runtime *rt;
	struct bd_manifest *manifest;
	char *link;
	char queue_id[64];
};

static void manage_mail_free(struct manage_mail *mm)
{
	bd_manifest_free(&mm->manifest);
	if (mm->link != NULL)
		sodium_memzero(mm->link, strlen(mm->link));
	free(mm->link);
	bd_runtime_release(mm->rt);
	free(mm);
	atomic_fetch_sub(&active, 1);
}

static void *manage_mail_run(void *arg)
{
	struct manage_mail *mm = arg;
	char id[BD_PACKAGE_ID_HEX];
	struct bd_error err;

	bd_package_id_hex(mm->manifest->package_id, id);
	if (bd_notify_manage(mm->rt->conf, mm->manifest, mm->link, &err) < 0)
		bd_log(LOG_WARNING,
		       "queue_id=%s event=manage-mail-failed package=%s error=\"%s\" "
		       "action=\"message delivered without it\"",
		       mm->queue_id, id, err.msg);
	else
		bd_log(LOG_INFO, "queue_id=%s event=manage-mail-sent package=%s", mm->queue_id, id);
	manage_mail_free(mm);
	return NULL;
}

/* Take RES's management link and manifest (when it has a link) and send them off. */
static void manage_mail_start(struct msg *m, struct bd_rewrite_result *res)
{
	struct manage_mail *mm;
	pthread_attr_t attr;
	pthread_t tid;

	if (res->manage_link == NULL || res->manifest == NULL)
		return;
	mm = bd_calloc(1, sizeof(*mm));
	mm->rt = (struct bd_runtime *)bd_ref_hold(&m->rt->ref);
	mm->manifest = res->manifest;
	mm->link = res->manage_link;
	res->manifest = NULL;
	res->manage_link = NULL;
	snprintf(mm->queue_id, sizeof(mm->queue_id), "%s", m->queue_id[0] ? m->queue_id : "-");
	atomic_fetch_add(&active, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, manage_mail_run, mm) != 0)
		manage_mail_run(mm); /* no thread to spare: send it here */
	pthread_attr_destroy(&attr);
}

/* " verify=... receipts=... code=yes|no" of a stored package: never the code itself. */
static void protection_kv(char *buf, size_t size, const struct bd_rewrite_result *res)
{
	const struct bd_rewrite_protection *p = &res->protection;
	char verify[16], receipts[16];
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, " verify=%s receipts=%s code=%s recipients=%u",
	         bd_conf_enum_name(bd_conf_find("recipients", "verify"), p->verify, verify,
	                           sizeof(verify)),
	         bd_conf_enum_name(bd_conf_find("recipients", "receipts"), p->receipts, receipts,
	                           sizeof(receipts)),
	         p->code ? "yes" : "no", p->recipients);
}

/* Leave the message as it came, logging why (and the rule, when RES has one). */
static sfsistat pass(struct msg *m, const char *direction, const char *reason,
                     const struct bd_rewrite_result *res)
{
	char why[400] = "";

	bd_log_kv_str(why, sizeof(why), "reason", reason);
	policy_kv(why, sizeof(why), res);
	bd_log(LOG_INFO, "queue_id=%s direction=%s action=unchanged%s bytes=%llu duration=%.3f",
	       m->queue_id[0] ? m->queue_id : "-", direction, why,
	       (unsigned long long)bd_spool_size(m->spool), elapsed(m));
	return SMFIS_CONTINUE;
}

/* The policy decision in RES for /metrics: its rule and action, or what the [policy]
 * switches made of the message when no rule decided. */
static void count_decision(const struct bd_rewrite_result *res)
{
	if (res->rule_action != NULL)
		bd_metrics_decision(res->rule, res->rule_action);
	else
		bd_metrics_decision(BD_METRICS_NO_RULE, res->refused    ? "block"
		                                        : res->tempfail ? "tempfail"
		                                        : res->changed  ? "replace"
		                                                        : "pass");
}

/* The rewrite refused the message for good (550), or a rule holds it back (451): its text, for
 * the sender. */
static sfsistat refuse(SMFICTX *ctx, struct msg *m, const char *direction,
                       const struct bd_rewrite_result *res)
{
	char why[400] = "";

	bd_log_kv_str(why, sizeof(why), "reason", res->reason);
	policy_kv(why, sizeof(why), res);
	bd_log(LOG_NOTICE, "queue_id=%s direction=%s action=%s%s bytes=%llu duration=%.3f",
	       m->queue_id[0] ? m->queue_id : "-", direction, res->refused ? "reject" : "tempfail",
	       why, (unsigned long long)bd_spool_size(m->spool), elapsed(m));
	smfi_setreply(ctx, res->refused ? "550" : "451", (char *)res->refusal_status,
	              (char *)res->refusal_text);
	return res->refused ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static sfsistat fail(SMFICTX *ctx, struct msg *m, const char *direction, const struct bd_error *err,
                     enum bd_metrics_failure kind)
{
	int accept = m->rt->conf->policy.failure_mode == BD_FAILURE_ACCEPT;

	bd_metrics_failure(kind);
	bd_log(LOG_ERR, "queue_id=%s direction=%s action=%s bytes=%llu duration=%.3f error=\"%s\"",
	       m->queue_id[0] ? m->queue_id : "-", direction,
	       accept ? "unchanged-after-error" : "tempfail",
	       (unsigned long long)bd_spool_size(m->spool), elapsed(m), err->msg);
	if (accept)
		return SMFIS_CONTINUE;
	smfi_setreply(
	        ctx, "451", "4.3.0",
	        "Attachments could not be stored for a download link; please try again later");
	return SMFIS_TEMPFAIL;
}

/* An upload request (uploadreq.h) when the subject or a recipient says so: *FD becomes the
 * message with the request notice in, which the rewrite then takes as usual. */
static int prepare_request(struct msg *m, int *fd, struct bd_uploadreq **rq, struct bd_error *err)
{
	const struct bd_conf *conf = m->rt->conf;
	struct bd_uploadreq_envelope env = {m->sender, m->auth_authen,
	                                    (const char *const *)m->rcpts, m->nrcpts};

	if (!bd_uploadreq_wanted(&conf->requests, m->subject, env.recipients, env.nrecipients))
		return 0;
	if (bd_uploadreq_prepare(conf, m->rt->keys, m->rt->store, *fd, &env, rq, err) < 0)
		return -1;
	if (*rq != NULL)
		*fd = (*rq)->fd;
	return 0;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;
	struct bd_rewrite_result *res = NULL;
	struct bd_uploadreq *rq = NULL;
	struct bd_rewrite_envelope env;
	struct bd_origin origin;
	char qid[64];
	bool accept, rewritten = false;
	struct bd_error err;
	const char *why, *direction = "-";
	sfsistat r;
	bool outgoing;
	int fd;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	clock_gettime(CLOCK_MONOTONIC, &m->eom);
	set_queue_id(ctx, m);
	if (m->failed == 2) {
		bd_log(LOG_NOTICE, "queue_id=%s action=reject reason=too-large error=\"%s\"",
		       m->queue_id[0] ? m->queue_id : "-", m->fail_reason);
		bd_metrics_decision(BD_METRICS_NO_RULE, "block");
		smfi_setreply(ctx, "552", "5.3.4", "Message too large for attachment processing");
		r = SMFIS_REJECT;
		goto done;
	}
	if (m->failed) {
		bd_error_set(&err, BD_E_TEMP, "spooling failed: %s", m->fail_reason);
		r = fail(ctx, m, "-", &err, BD_FAILED_SPOOL);
		goto done;
	}
	origin.authenticated = m->authenticated;
	origin.daemon_name = c->daemon_name;
	origin.client = c->have_client ? (struct sockaddr *)&c->client : NULL;
	outgoing = bd_is_outgoing(&m->rt->conf->milter, &origin, &why);
	direction = outgoing ? "outgoing" : "inbound";
	if (!outgoing && m->rt->conf->policy.outgoing_only) {
		bd_metrics_decision(BD_METRICS_NO_RULE, "pass");
		r = pass(m, "inbound", why, NULL);
		goto done;
	}
	if (outgoing && take_code(m, NULL, &err) < 0) {
		bd_log(LOG_NOTICE,
		       "queue_id=%s direction=%s action=reject reason=bad-code "
		       "error=\"%s\"",
		       m->queue_id[0] ? m->queue_id : "-", direction, err.msg);
		bd_metrics_decision(BD_METRICS_NO_RULE, "block");
		smfi_setreply(
		        ctx, "550", "5.7.1",
		        "The access code in the Subject cannot be used: at most 64 characters, "
		        "no control characters");
		r = SMFIS_REJECT;
		goto done;
	}
	if (m->rt->conf->policy.skip_internal_only &&
	    !bd_recipients_any_external(&m->rt->conf->milter, (const char *const *)m->rcpts,
	                                m->nrcpts)) {
		bd_metrics_decision(BD_METRICS_NO_RULE, "pass");
		r = pass(m, "internal", "all-recipients-internal", NULL);
		goto done;
	}
	fd = bd_spool_fd(m->spool, &err);
	if (fd < 0) {
		r = fail(ctx, m, direction, &err, BD_FAILED_SPOOL);
		goto done;
	}
	if (outgoing && prepare_request(m, &fd, &rq, &err) < 0) {
		r = fail(ctx, m, direction, &err, BD_FAILED_REQUEST);
		goto done;
	}
	if (rq != NULL)
		take_code(m, rq, &err);
	memset(&env, 0, sizeof(env));
	env.sender = m->sender;
	env.recipients = (const char *const *)m->rcpts;
	env.nrecipients = m->nrcpts;
	env.outgoing = outgoing;
	env.upload_request = rq != NULL;
	env.access_code = m->code[0] != '\0' ? m->code : NULL;
	snprintf(qid, sizeof(qid), "%s", m->queue_id[0] ? m->queue_id : "-");
	accept = m->rt->conf->policy.failure_mode == BD_FAILURE_ACCEPT;
	if (rewrite_with_deadline(ctx, &c->msg, fd, &env, &res, &err) < 0) {
		if (c->msg == NULL) { /* abandoned: the job owns the message now */
			bd_log(LOG_ERR, "queue_id=%s direction=%s action=%s error=\"%s\"", qid,
			       direction, accept ? "unchanged-after-error" : "tempfail", err.msg);
			bd_metrics_failure(BD_FAILED_TIMEOUT);
			bd_metrics_outcome(accept ? BD_OUTCOME_UNCHANGED : BD_OUTCOME_TEMPFAILED);
			if (accept)
				return SMFIS_CONTINUE;
			smfi_setreply(
			        ctx, "451", "4.3.0",
			        "Attachment processing took too long; please try again later");
			return SMFIS_TEMPFAIL;
		}
		r = fail(ctx, m, direction, &err,
		         err.code == BD_E_INVALID ? BD_FAILED_MALFORMED : BD_FAILED_STORAGE);
		bd_rewrite_result_free(&res);
		goto done;
	}
	count_decision(res);
	if (res->refused || res->tempfail) {
		r = refuse(ctx, m, direction, res);
	} else if (rq != NULL && (!res->changed || apply(ctx, m, res, &err) == 0) &&
	           apply_request(ctx, m, rq, res->changed, &err) == 0) {
		bd_log(LOG_INFO,
		       "queue_id=%s direction=%s action=upload-request request=%s "
		       "attachments=%u package=%s duration=%.3f",
		       m->queue_id[0] ? m->queue_id : "-", direction, rq->request_id, res->nfiles,
		       res->changed ? res->package_id : "-", elapsed(m));
		rewritten = true;
		r = SMFIS_CONTINUE;
	} else if (rq != NULL) {
		bd_log(LOG_ERR, "queue_id=%s direction=%s action=tempfail error=\"%s\"",
		       m->queue_id[0] ? m->queue_id : "-", direction, err.msg);
		bd_metrics_failure(BD_FAILED_REQUEST);
		if (res->changed)
			bd_package_delete_or_queue(m->rt->store, m->rt->conf->milter.spool_dir,
			                           res->package_id);
		smfi_setreply(ctx, "451", "4.3.0", "Upload request failed; please try again later");
		r = SMFIS_TEMPFAIL;
	} else if (!res->changed) {
		r = pass(m,
		         !res->malformed ? direction
		         : outgoing      ? "outgoing-malformed"
		                         : "inbound-malformed",
		         res->reason, res);
	} else if (apply(ctx, m, res, &err) < 0) {
		/* the MTA may have seen part of the change: it must not deliver this message,
		 * and nobody will get the link to what was stored */
		bd_log(LOG_ERR, "queue_id=%s direction=%s action=tempfail package=%s error=\"%s\"",
		       m->queue_id[0] ? m->queue_id : "-", direction, res->package_id, err.msg);
		bd_metrics_failure(BD_FAILED_MTA);
		bd_package_delete_or_queue(m->rt->store, m->rt->conf->milter.spool_dir,
		                           res->package_id);
		smfi_setreply(ctx, "451", "4.3.0",
		              "Attachment processing failed; please try again later");
		r = SMFIS_TEMPFAIL;
	} else {
		char rule[200] = "", protection[120] = "";

		policy_kv(rule, sizeof(rule), res);
		protection_kv(protection, sizeof(protection), res);
		bd_log(LOG_INFO,
		       "queue_id=%s direction=%s rule=%s%s action=rewritten attachments=%u "
		       "bytes=%llu stored=%llu package=%s%s duration=%.3f processing=%.3f "
		       "storing=%.3f",
		       m->queue_id[0] ? m->queue_id : "-", direction, why, rule, res->nfiles,
		       (unsigned long long)bd_spool_size(m->spool), (unsigned long long)res->bytes,
		       res->package_id, protection, elapsed(m), since(&m->eom), res->store_seconds);
		rewritten = true;
		r = SMFIS_CONTINUE;
	}
done:
	/* the tag goes also when nothing else changes: the recipients never see the code */
	if (r == SMFIS_CONTINUE && apply_untagged(ctx, m, rq, &err) < 0) {
		bd_log(LOG_ERR, "queue_id=%s direction=%s action=tempfail error=\"%s\"",
		       m->queue_id[0] ? m->queue_id : "-", direction, err.msg);
		if (res != NULL && res->changed)
			bd_package_delete_or_queue(m->rt->store, m->rt->conf->milter.spool_dir,
			                           res->package_id);
		smfi_setreply(ctx, "451", "4.3.0",
		              "Attachment processing failed; please try again later");
		r = SMFIS_TEMPFAIL;
		rewritten = false;
	}
	if (rewritten && res->changed) {
		bd_metrics_replaced(res->nfiles, res->bytes);
		manage_mail_start(m, res); /* the message goes on: its sender may follow it */
	}
	bd_rewrite_result_free(&res);
	bd_metrics_outcome(r == SMFIS_REJECT     ? BD_OUTCOME_REJECTED
	                   : r == SMFIS_TEMPFAIL ? BD_OUTCOME_TEMPFAILED
	                   : rewritten           ? BD_OUTCOME_REWRITTEN
	                                         : BD_OUTCOME_UNCHANGED);
	if (rq != NULL && r != SMFIS_CONTINUE)
		bd_uploadreq_cancel(rq, m->rt->store,
		                    m->rt->conf->milter.spool_dir); /* nobody gets its link */
	bd_uploadreq_free(&rq);
	msg_free(&c->msg);
	return r;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c)
		msg_free(&c->msg);
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c) {
		msg_free(&c->msg);
		free(c->daemon_name);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc bd_filter_desc = {
        .xxfi_name = "bestanden",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags =
                SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS | SMFIF_SETSYMLIST | SMFIF_DELRCPT,
        .xxfi_connect = on_connect,
        .xxfi_envfrom = on_envfrom,
        .xxfi_envrcpt = on_envrcpt,
        .xxfi_header = on_header,
        .xxfi_eoh = on_eoh,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_abort = on_abort,
        .xxfi_close = on_close,
        .xxfi_negotiate = on_negotiate,
};
