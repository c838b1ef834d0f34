/*
 * store-memory.h - an in-memory struct bd_store, for tests of code that uses
 * a store (the rewrite, downloads, sweeps, fuzz targets).
 *
 * Thread-safe; everything lives until bd_store_close(). Not a driver of the
 * table: no configuration selects it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_STORE_MEMORY_H
#define BD_STORE_MEMORY_H

#include "store.h"

struct bd_store *bd_store_new_memory(void);

#endif
