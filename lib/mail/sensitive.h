/*
 * sensitive.h - citizen service numbers (BSN) and bank account numbers (IBAN) in text.
 *
 * A BSN is nine digits passing the 11-check (NTA 7516 asks that mail carrying
 * one is sent securely by default), written together or in groups split by
 * single dots, spaces or hyphens (1234.56.782); an IBAN is a country code, two
 * check digits and up to 30 letters and digits, together or in groups of four,
 * whose mod-97 check is 1. Digits that run on into more digits are neither.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_SENSITIVE_H
#define BD_SENSITIVE_H

#include <stdbool.h>
#include <stddef.h>

/* Nine digits D (ASCII) that pass the 11-check and are not all zeros. */
bool bd_sensitive_bsn_valid(const char *d);
/* The letters and digits of an IBAN (no spaces, upper case), checked by mod 97. */
bool bd_sensitive_iban_valid(const char *s, size_t len);
/* What LEN bytes of TEXT carry, among WANT: enum bd_rule_sensitive bits. */
unsigned bd_sensitive_scan(const char *text, size_t len, unsigned want);

#endif
