/*
 * store_gateway.c - the "gateway" storage driver (work in progress).
 */
#include "store.h"

struct bd_store *bd_store_gateway_open(const struct bd_conf *conf, struct bd_error *err)
{
	bd_error_set(err, BD_E_CONFIG, "storage driver 'gateway' is not part of this build yet");
	return NULL;
}
