/*
 * error.h - how library functions report failure.
 *
 * Every fallible function in libbestanden returns 0 on success and -1 on
 * failure, and fills a caller-owned struct bd_error with a code the caller
 * can switch on and a message written for the operator who has to fix it.
 * The message never contains secrets (keys, tokens, link secrets).
 * A NULL error pointer is allowed: the failure is then only returned.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_ERROR_H
#define BD_ERROR_H

#include <stdarg.h>

enum bd_status {
	BD_OK = 0,
	BD_E_INVALID,  /* bad argument or malformed input */
	BD_E_CONFIG,   /* configuration file problem */
	BD_E_IO,       /* file system or socket error */
	BD_E_KEY,      /* key missing, unreadable or unsafe */
	BD_E_CRYPTO,   /* authentication failed, tampered data */
	BD_E_EXPIRED,  /* valid but past its expiry */
	BD_E_NOTFOUND, /* object or package does not exist */
	BD_E_STORAGE,  /* storage backend failed (may be temporary) */
	BD_E_TEMP,     /* temporary condition: retry later */
	BD_E_LIMIT,    /* a hard limit was exceeded */
	BD_E_INFECTED, /* a virus scanner found something */
};

#define BD_ERROR_MAX 1024

struct bd_error {
	int code;
	char msg[BD_ERROR_MAX];
};

/* Set code and message; always returns -1 so callers can "return bd_error_set(...)". */
int bd_error_set(struct bd_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int bd_error_vset(struct bd_error *err, int code, const char *fmt, va_list ap);
/* Put "CONTEXT: " in front of the current message (keeps the code). */
int bd_error_prefix(struct bd_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void bd_error_clear(struct bd_error *err);
const char *bd_status_name(int code);

#endif
