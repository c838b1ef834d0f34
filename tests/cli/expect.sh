# SPDX-License-Identifier: EUPL-1.2
# expect.sh - the counters and the expect helper of the command-level tests (sourced).
failed=0 passed=0

ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
# expect STATUS PATTERN CMD...: exit status and a fixed string on stdout+stderr
expect() {
	local want=$1 pattern=$2; shift 2
	local out status
	out=$("$@" 2>&1); status=$?
	if [ "$status" != "$want" ]; then fail "$* exited $status, expected $want: $out"; return; fi
	if [ -n "$pattern" ] && ! grep -qF -- "$pattern" <<<"$out"; then
		fail "$*: output lacks '$pattern': $out"; return
	fi
	ok
}
