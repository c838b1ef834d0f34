/*
 * store_drivers.c - the storage driver table: one row per enum
 * bd_storage_driver with its name, open and optional init.
 *
 * Choosing a driver is an index into the table; before a driver sees its
 * settings, the conf layer's rule (bd_conf_storage_missing) says whether the
 * keys it needs are set, so no driver repeats that check.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "store-private.h"
#include "http.h"

static const struct bd_store_driver drivers[] = {
        [BD_STORAGE_GATEWAY] = {"gateway", bd_store_gateway_open, bd_store_gateway_init},
        [BD_STORAGE_S3] = {"s3", bd_store_s3_open, bd_store_s3_init},
};

const struct bd_store_driver *bd_store_driver_find(enum bd_storage_driver driver)
{
	if ((unsigned)driver >= sizeof(drivers) / sizeof(drivers[0]) ||
	    drivers[driver].open == NULL)
		return NULL;
	return &drivers[driver];
}

const char *bd_store_driver_name(enum bd_storage_driver driver)
{
	const struct bd_store_driver *d = bd_store_driver_find(driver);

	return d ? d->name : "?";
}

/* The row for SETTINGS, once the keys its driver needs are known to be set. */
static const struct bd_store_driver *driver_for(const struct bd_conf_storage *settings,
                                                struct bd_error *err)
{
	const struct bd_store_driver *d = bd_store_driver_find(settings->driver);
	const char *missing;

	if (d == NULL) {
		bd_error_set(err, BD_E_CONFIG, "[storage] driver %d is not a known driver",
		             (int)settings->driver);
		return NULL;
	}
	if (bd_conf_storage_missing(settings, &missing, 1) > 0) {
		bd_error_set(err, BD_E_CONFIG, "%s store: [storage] %s must be set", d->name,
		             missing);
		return NULL;
	}
	return d;
}

struct bd_store *bd_store_open(const struct bd_conf_storage *settings, struct bd_error *err)
{
	const struct bd_store_driver *d = driver_for(settings, err);

	return d ? d->open(settings, err) : NULL;
}

int bd_store_init(const struct bd_conf_storage *settings, int create, unsigned expire_days,
                  struct bd_error *err)
{
	const struct bd_store_driver *d = driver_for(settings, err);

	if (d == NULL)
		return -1;
	return d->init ? d->init(settings, create, expire_days, err) : 0;
}

struct bd_http *bd_store_http_new(const struct bd_conf_storage *settings)
{
	const struct bd_http_options o = {
	        .timeout = (unsigned)settings->timeout,
	        .connect_timeout = (unsigned)settings->connect_timeout,
	        .retries = (unsigned)settings->retries,
	};

	return bd_http_new(&o);
}
