#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# test-config-and-keys.sh - check-config, keygen and key refusals as an operator meets them.
# usage: test-config-and-keys.sh BESTANDEN MILTER GATEWAY SOURCE_DIR
set -u
cli=$(realpath "$1") milter=$2 gateway=$3 src=$4
tmp=$(mktemp -d /tmp/bd-cli-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/expect.sh"
mode() { stat -c %a "$1"; }

# The shipped example is valid as it is.
expect 0 "configuration is valid" "$cli" -c "$src/conf/bestanden.conf" check-config

# A misspelt key: non-zero, and file, line and key are named.
sed 's/^retention = /retentoin = /' "$src/conf/bestanden.conf" > "$tmp/bad.conf"
line=$(grep -n '^retentoin' "$tmp/bad.conf" | cut -d: -f1)
expect 1 "$tmp/bad.conf:$line: unknown key 'retentoin' in [policy]; did you mean 'retention'?" \
	"$cli" -c "$tmp/bad.conf" check-config
# A bad value in an otherwise good file.
sed 's/^max_parts = .*/max_parts = many/' "$src/conf/bestanden.conf" > "$tmp/bad2.conf"
expect 1 "[policy] max_parts: 'many' is not a whole number" "$cli" -c "$tmp/bad2.conf" check-config
expect 1 "cannot open configuration" "$cli" -c "$tmp/none.conf" check-config
# -c also after the command, as an operator types it
expect 0 "configuration is valid" "$cli" check-config -c "$src/conf/bestanden.conf"
expect 1 "$tmp/bad.conf:$line: unknown key 'retentoin'" "$cli" check-config -c "$tmp/bad.conf"
expect 0 "usage: bestanden" "$cli" --help
expect 2 "unknown command" "$cli" frobnicate

# Thirty misspelt keys: thirty lines, each naming file:line and the key, none cut off.
{
	echo "[milter]"
	for i in $(seq 1 15); do echo "sokcet$i = inet:1@localhost"; done
	echo "[policy]"
	for i in $(seq 1 14); do echo "retentoin_$i = 1d"; done
	echo "retentoin = 1d"
} > "$tmp/bad30.conf"
out=$("$cli" -c "$tmp/bad30.conf" check-config 2>&1); status=$?
[ "$status" = 1 ] && ok || fail "check-config with 30 misspelt keys exited $status"
n=$(grep -c "^bestanden: $tmp/bad30.conf:[0-9]*: unknown key '" <<<"$out")
[ "$n" = 30 ] && ok || fail "expected 30 error lines, got $n: $out"
for i in $(seq 1 15); do
	grep -qF "$tmp/bad30.conf:$((i + 1)): unknown key 'sokcet$i' in [milter]" <<<"$out" && ok ||
		fail "no line for sokcet$i"
done
for i in $(seq 1 14); do
	grep -qF "$tmp/bad30.conf:$((i + 17)): unknown key 'retentoin_$i' in [policy]" <<<"$out" && ok ||
		fail "no line for retentoin_$i"
done
expect 1 "$tmp/bad30.conf:32: unknown key 'retentoin' in [policy]; did you mean 'retention'?" \
	"$cli" -c "$tmp/bad30.conf" check-config
# The daemons say it in one line, with how many more there are.
out=$("$gateway" -t -c "$tmp/bad30.conf" 2>&1)
[ "$(wc -l <<<"$out")" = 1 ] && grep -qF "more problems (bestanden check-config lists them all)" <<<"$out" &&
	ok || fail "gateway's configuration error is not one line naming the rest: $out"

# --help: every command and both daemons print their usage on standard output, exit 0.
helpcheck() {
	local out status
	out=$("$@" 2>/dev/null); status=$?
	if [ "$status" = 0 ] && grep -q "^usage: " <<<"$out"; then ok; else
		fail "$* exited $status, stdout: $out"; fi
}
helpcheck "$cli" --help
commands=$("$cli" --help | sed -n '/^commands:/,$s/^  \([a-z][a-z-]*\).*/\1/p')
[ "$(wc -w <<<"$commands")" -ge 9 ] && ok || fail "bestanden --help lists too few commands: $commands"
for cmd in $commands; do
	helpcheck "$cli" "$cmd" --help
	out=$("$cli" "$cmd" --help)
	grep -q "^usage: bestanden \[-c CONFIG\] $cmd" <<<"$out" && ok || fail "$cmd --help: $out"
done
helpcheck "$cli" help rewrite
helpcheck "$milter" --help
helpcheck "$gateway" --help
expect 2 "usage: bestanden-gateway" "$gateway" --no-such-option

# From the build tree, with no configuration file and no installed templates,
# `rewrite --explain` works on the source tree's templates.
mkdir "$tmp/fresh"
if [ ! -e /etc/bestanden/bestanden.conf ]; then
	out=$(cd "$tmp/fresh" && "$cli" rewrite --explain "$src/tests/data/messages/01-basic-pdf.eml" 2>&1)
	status=$?
	[ "$status" = 0 ] && grep -qF '"rapport.pdf"' <<<"$out" && grep -qF "built-in defaults" <<<"$out" &&
		ok || fail "rewrite --explain without a configuration file: exit $status: $out"
fi
: > "$tmp/fresh/empty.conf"
out=$(cd "$tmp/fresh" && "$cli" -c empty.conf rewrite --explain "$src/tests/data/messages/01-basic-pdf.eml" 2>&1)
status=$?
[ "$status" = 0 ] && grep -qF '"rapport.pdf"' <<<"$out" && ok ||
	fail "rewrite --explain with an empty configuration file: exit $status: $out"

# keygen writes the files with the right modes.
expect 0 "created keys" "$cli" keygen -d "$tmp/keys"
for f in link-1.key gateway-1.key store.token; do
	[ "$(mode "$tmp/keys/$f")" = 600 ] && ok || fail "$f has mode $(mode "$tmp/keys/$f")"
done
[ "$(mode "$tmp/keys/gateway-1.pub")" = 644 ] && ok || fail "gateway-1.pub mode"
[ "$(mode "$tmp/keys")" = 700 ] && ok || fail "key directory mode"
expect 1 "already holds keys" "$cli" keygen -d "$tmp/keys"
expect 0 "link key 2 is now current" "$cli" keys -d "$tmp/keys" rotate link
expect 0 "current" "$cli" keys -d "$tmp/keys" list
out=$("$cli" keys -d "$tmp/keys" list)
grep -qE '^link +1 +retired' <<<"$out" && ok || fail "link 1 not listed as retired: $out"
grep -qE '^link +2 +current' <<<"$out" && ok || fail "link 2 not current: $out"
grep -qE '^gateway +1 +current' <<<"$out" && ok || fail "gateway 1 not current: $out"
expect 1 "is current" "$cli" keys -d "$tmp/keys" remove link 2

# A configuration for the daemons that points at these keys, and a gateway that
# serves its store (the milter's -t asks the store whether it answers).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|^dir = /etc/bestanden/keys|dir = $tmp/keys|" -e "s|^token_file = .*|token_file = $tmp/keys/store.token|" \
	-e "s|^template_dir = .*|template_dir = $src/conf/templates|" -e "s|^data_dir = .*|data_dir = $tmp/objects|" \
	-e "s|127.0.0.1:8080|127.0.0.1:$port|" -e "s|^pid_file = .*|pid_file =|" \
	-e "s|^audit_log = .*|audit_log = $tmp/audit.log|" -e "s|^spool_dir = .*|spool_dir = $tmp/spool|" \
	"$src/conf/bestanden.conf" > "$tmp/test.conf"
"$gateway" -f -c "$tmp/test.conf" 2>"$tmp/gateway.log" &
gateway_pid=$!
trap 'kill $gateway_pid 2>/dev/null; wait $gateway_pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
expect 0 "result=ok" "$milter" -t -c "$tmp/test.conf"
expect 0 "result=ok" "$gateway" -t -c "$tmp/test.conf"

# chmod 644 on a secret key: every program that loads it refuses, saying how to fix it.
chmod 644 "$tmp/keys/link-2.key"
for prog in "$milter" "$gateway"; do
	expect 1 "chmod 600 $tmp/keys/link-2.key" "$prog" -t -c "$tmp/test.conf"
done
chmod 600 "$tmp/keys/link-2.key"
chmod 644 "$tmp/keys/gateway-1.key"
expect 1 "refusing secret key file $tmp/keys/gateway-1.key" "$gateway" -t -c "$tmp/test.conf"
chmod 600 "$tmp/keys/gateway-1.key"
# No secret ever appears in what the programs print.
secret=$(sed -n 's/^key: //p' "$tmp/keys/link-2.key")
out=$("$milter" -t -c "$tmp/test.conf" 2>&1; "$cli" -c "$tmp/test.conf" keys list 2>&1)
grep -qF -- "$secret" <<<"$out" && fail "a secret key was printed" || ok

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
