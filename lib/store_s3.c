/*
 * store_s3.c - the "s3" storage driver (work in progress).
 */
#include "store.h"

struct bd_store *bd_store_s3_open(const struct bd_conf *conf, struct bd_error *err)
{
	bd_error_set(err, BD_E_CONFIG, "storage driver 's3' is not part of this build yet");
	return NULL;
}

int bd_store_s3_init(const struct bd_conf *conf, int create_bucket, unsigned expire_days,
		     struct bd_error *err)
{
	return bd_error_set(err, BD_E_CONFIG, "storage driver 's3' is not part of this build yet");
}
