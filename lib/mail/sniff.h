/*
 * sniff.h - what a file is, from its first bytes, for the common types.
 *
 * A small table of signatures (PDF, PE and ELF executables, ZIP and the Office
 * Open XML formats inside it, PNG, JPEG, GIF), not a general file(1): the rules
 * ask only whether a file is what its name says, so that a PE executable named
 * .pdf still counts as an executable. Also the kind an extension stands for.
 * Everything returned is static.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_SNIFF_H
#define BD_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* How many first bytes bd_sniff wants to see (it works with fewer). */
#define BD_SNIFF_BYTES 4096

struct bd_sniffed {
	const char *type;      /* MIME type, "application/pdf" */
	const char *extension; /* its usual extension, "pdf" */
	const char *what;      /* for people: "PE executable" */
	unsigned kind;         /* enum bd_rule_kind bit */
};

/* The type of the LEN bytes at BUF (the start of a file), or NULL when none of the table's. */
const struct bd_sniffed *bd_sniff(const uint8_t *buf, size_t len);

/* The kind (enum bd_rule_kind bit) a file named with EXTENSION (lower case, no dot) is, or 0. */
unsigned bd_sniff_extension_kind(const char *extension);

#endif
