/*
 * sensitive.c - finding a BSN or an IBAN in text by its check digits.
 *
 * One pass over the text; every candidate is checked, so a number that only
 * looks like one (nine digits failing the 11-check) is not reported.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "sensitive.h"
#include "conf.h"

#include <stdint.h>

#define IBAN_MIN 15
#define IBAN_MAX 34

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z');
}

bool bd_sensitive_bsn_valid(const char *d)
{
	int sum = 0;
	bool zero = true;

	for (int i = 0; i < 9; i++) {
		if (!is_digit(d[i]))
			return false;
		sum += (i < 8 ? 9 - i : -1) * (d[i] - '0');
		zero = zero && d[i] == '0';
	}
	return !zero && sum % 11 == 0;
}

bool bd_sensitive_iban_valid(const char *s, size_t len)
{
	unsigned rem = 0;

	if (len < IBAN_MIN || len > IBAN_MAX || !is_upper(s[0]) || !is_upper(s[1]) ||
	    !is_digit(s[2]) || !is_digit(s[3]))
		return false;
	for (size_t k = 0; k < len; k++) {
		char c = s[(k + 4) % len]; /* the first four characters go to the end */

		if (is_digit(c))
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else if (is_upper(c))
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return false;
	}
	return rem == 1;
}

/* Nine digits from TEXT[i], single separators between them allowed, not running on. */
static bool bsn_at(const char *text, size_t len, size_t i)
{
	char d[10];
	size_t n = 0;

	while (i < len) {
		if (is_digit(text[i])) {
			if (n == 9)
				return false;
			d[n++] = text[i++];
		} else if ((text[i] == '.' || text[i] == ' ' || text[i] == '-') && i + 1 < len &&
		           is_digit(text[i + 1]) && n > 0 && n < 9) {
			i++;
		} else {
			break;
		}
	}
	if (n != 9 || (i < len && is_alnum(text[i])))
		return false;
	d[9] = '\0';
	return bd_sensitive_bsn_valid(d);
}

/* An IBAN from TEXT[i]: together or in groups split by single spaces; any group end may be its
 * end (the country decides the length, and we do not keep the countries' table). */
static bool iban_at(const char *text, size_t len, size_t i)
{
	char s[IBAN_MAX];
	size_t n = 0;

	if (i + 4 > len || !is_upper(text[i]) || !is_upper(text[i + 1]) || !is_digit(text[i + 2]) ||
	    !is_digit(text[i + 3]))
		return false;
	while (i < len && n < IBAN_MAX) {
		char c = text[i];

		if (is_digit(c) || is_upper(c)) {
			s[n++] = c;
			i++;
			if (n >= IBAN_MIN && (i >= len || !is_alnum(text[i])) &&
			    bd_sensitive_iban_valid(s, n))
				return true;
		} else if (c == ' ' && i + 1 < len && is_alnum(text[i + 1])) {
			i++;
		} else {
			break;
		}
	}
	return false;
}

unsigned bd_sensitive_scan(const char *text, size_t len, unsigned want)
{
	unsigned found = 0;

	for (size_t i = 0; i < len && found != want; i++) {
		if (i > 0 && is_alnum(text[i - 1]))
			continue;
		if ((want & BD_SENSITIVE_BSN) && is_digit(text[i]) && bsn_at(text, len, i))
			found |= BD_SENSITIVE_BSN;
		if ((want & BD_SENSITIVE_IBAN) && is_upper(text[i]) && iban_at(text, len, i))
			found |= BD_SENSITIVE_IBAN;
	}
	return found;
}
