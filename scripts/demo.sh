#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# demo.sh - `make demo` and `make demo-stop`; the work is done by demo.py.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it starts a private Postfix instance)" >&2
	exit 1
fi
exec python3 "$top/scripts/demo.py" "${1:-start}"
