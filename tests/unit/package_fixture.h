/*
 * package_fixture.h - for unit tests of packages: the fixed package of
 * docs/FORMAT.md section 9 (its keys from hex), and putting a buffer into a
 * store. Include after cmocka.h.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_TEST_PACKAGE_FIXTURE_H
#define BD_TEST_PACKAGE_FIXTURE_H

#include <sodium.h>
#include <string.h>

#include "io.h"
#include "package.h"
#include "store.h"

static inline void hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t binlen;

	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &binlen, NULL), 0);
	assert_int_equal(binlen, len);
}

/* The fixed package of docs/FORMAT.md: id 0123456789abcdef, secret 40..4f, server key 50..6f. */
static inline struct bd_package_keys *fixed_keys(void)
{
	struct bd_package_keys *k = bd_package_keys_alloc();

	for (int i = 0; i < 8; i++)
		k->id[i] = (uint8_t)(0x01 + 0x22 * i);
	for (int i = 0; i < 16; i++)
		k->secret[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 32; i++)
		k->server_key[i] = (uint8_t)(0x50 + i);
	return k;
}

static inline void put_buffer(struct bd_store *s, const char *name, const uint8_t *buf, size_t len)
{
	struct bd_mem_source src;
	struct bd_error err;

	bd_mem_source_init(&src, buf, len);
	if (bd_store_put(s, name, &src.source, len, &err) < 0)
		fail_msg("put %s: %s", name, err.msg);
}

#endif
