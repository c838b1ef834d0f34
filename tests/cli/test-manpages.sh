#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# test-manpages.sh - every man page renders without a warning, and bestanden.conf(5)
# names every key of the configuration table.
# usage: test-manpages.sh BESTANDEN SOURCE_DIR GENERATED_CONF5
set -u
cli=$1 src=$2 conf5=$3
failed=0 passed=0
for page in "$src"/docs/man/*.[18] "$conf5"; do
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
	text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null)
	if [ -n "$out" ] || [ -z "$text" ]; then
		echo "FAIL: $page: ${out:-man -l printed nothing}"; failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
# every key in the example (generated from the same table) is in the rendered page, and
# every key a [rule NAME] section takes (listed, commented, at the example's end)
rendered=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$conf5" 2>/dev/null)
for key in $("$cli" check-config --example |
	sed -n -e 's/^\([a-z_0-9]*\) =.*/\1/p' -e 's/^#   \([a-z_0-9]*\) (.*/\1/p'); do
	if grep -qE "^ +$key \(" <<<"$rendered"; then
		passed=$((passed + 1))
	else
		echo "FAIL: bestanden.conf(5) does not describe '$key'"; failed=$((failed + 1))
	fi
done
echo "manpages: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 60 ]
