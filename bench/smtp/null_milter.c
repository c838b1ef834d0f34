/*
 * null_milter.c - a milter that asks for every header and the whole body and
 * accepts: what the milter protocol itself costs, as a baseline for
 * bench/smtp/run.py. With -n it also negotiates the no-reply flags, so the
 * MTA does not wait for an answer to each header and body chunk.
 *
 * usage: bench_null_milter [-n] SOCKET      (SOCKET in libmilter syntax)
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NO_REPLY                                                                                   \
	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA |           \
	 SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static int no_reply;

static sfsistat answer(void)
{
	return no_reply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	/* the same actions bestanden asks for, so the MTA prepares the same way */
	*pf0 = f0 & (SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS);
	*pf1 = 0;
	if (no_reply && (f1 & NO_REPLY) == NO_REPLY)
		*pf1 = NO_REPLY;
	else
		no_reply = 0; /* the MTA cannot do without replies: answer everything */
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return answer();
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return answer();
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return answer();
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return answer();
}

static sfsistat on_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return answer();
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return answer();
}

static sfsistat on_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static struct smfiDesc desc = {
        .xxfi_name = "null",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS,
        .xxfi_connect = on_connect,
        .xxfi_envfrom = on_envfrom,
        .xxfi_envrcpt = on_envrcpt,
        .xxfi_header = on_header,
        .xxfi_eoh = on_eoh,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_negotiate = on_negotiate,
};

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "n")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: %s [-n] SOCKET\n", argv[0]);
			return 2;
		}
		no_reply = 1;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: %s [-n] SOCKET\n", argv[0]);
		return 2;
	}
	if (smfi_setconn(argv[optind]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
		fprintf(stderr, "%s: cannot set up the milter on %s\n", argv[0], argv[optind]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
