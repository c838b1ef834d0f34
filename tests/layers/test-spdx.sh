#!/bin/sh
# SPDX-License-Identifier: EUPL-1.2
# Every source file says its licence in its header: an SPDX line naming EUPL-1.2 in the
# header comment (C, headers, scripts, CMake and make files; test messages and vectors are data).
# usage: test-spdx.sh SOURCE_DIR
set -eu
cd "$1"
if [ -d .git ] || [ -f .git ]; then
	files=$(git ls-files)
else
	files=$(find . -type f ! -path './build*' ! -path '*/node_modules/*' | sed 's|^\./||')
fi
missing=0 checked=0
for f in $files; do
	case "$f" in
	tests/data/* | tests/fuzz/corpus/* | tests/vectors/* | debian/*) continue ;;
	*.c | *.h | *.def | *.py | *.sh | *.js | */CMakeLists.txt | CMakeLists.txt | Makefile | .ci/run) ;;
	*) continue ;;
	esac
	checked=$((checked + 1))
	if ! head -n 60 "$f" | grep -q 'SPDX-License-Identifier: EUPL-1.2'; then
		echo "no SPDX-License-Identifier: EUPL-1.2 in the header of $f"
		missing=$((missing + 1))
	fi
done
[ "$checked" -gt 100 ] || { echo "FAIL: only $checked source files found"; exit 1; }
[ "$missing" -eq 0 ] || { echo "FAIL: $missing of $checked files"; exit 1; }
echo "ok: $checked source files carry the EUPL-1.2 SPDX line"
