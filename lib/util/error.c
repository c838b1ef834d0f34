/*
 * error.c - filling struct bd_error. Messages are truncated, never overflowed.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "error.h"

#include <stdio.h>
#include <string.h>

int bd_error_vset(struct bd_error *err, int code, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int bd_error_set(struct bd_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bd_error_vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int bd_error_prefix(struct bd_error *err, const char *fmt, ...)
{
	char prefix[256], old[BD_ERROR_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -1;
}

void bd_error_clear(struct bd_error *err)
{
	if (err == NULL)
		return;
	err->code = BD_OK;
	err->msg[0] = '\0';
}

const char *bd_status_name(int code)
{
	switch (code) {
	case BD_OK: return "ok";
	case BD_E_INVALID: return "invalid";
	case BD_E_CONFIG: return "config";
	case BD_E_IO: return "io";
	case BD_E_KEY: return "key";
	case BD_E_CRYPTO: return "crypto";
	case BD_E_EXPIRED: return "expired";
	case BD_E_NOTFOUND: return "notfound";
	case BD_E_STORAGE: return "storage";
	case BD_E_TEMP: return "temporary";
	case BD_E_LIMIT: return "limit";
	}
	return "unknown";
}
