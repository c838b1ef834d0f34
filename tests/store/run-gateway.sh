#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# run-gateway.sh - the storage conformance suite against a live bestanden-gateway.
#
# usage: run-gateway.sh STORE_CONFORMANCE BESTANDEN BESTANDEN_GATEWAY
# Starts the gateway in a temporary directory on a free loopback port, runs the
# suite, `bestanden storage init` and `bestanden sweep`, then stops the gateway
# with SIGTERM and checks it stopped cleanly. Always stops it, pass or fail.
set -eu

conformance=$1 cli=$2 gateway=$3
dir=$(mktemp -d /tmp/bd-store-gw-XXXXXX)
gwpid=""
cleanup() {
	if [ -n "$gwpid" ] && kill -0 "$gwpid" 2>/dev/null; then
		kill "$gwpid" 2>/dev/null || true
		wait "$gwpid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "run-gateway: FAIL: $*" >&2
	[ -f "$dir/gateway.log" ] && { echo "---- gateway log (last 40 lines)" >&2; tail -n 40 "$dir/gateway.log" >&2; }
	exit 1
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$cli" keygen -d "$dir/keys" >/dev/null
cat >"$dir/bestanden.conf" <<CONF
[gateway]
listen = 127.0.0.1:$port
public_url = http://127.0.0.1:$port
data_dir = $dir/objects
pid_file = $dir/gateway.pid
audit_log =
[storage]
driver = gateway
url = http://127.0.0.1:$port
token_file = $dir/keys/store.token
timeout = 20s
[keys]
dir = $dir/keys
CONF

"$gateway" -c "$dir/bestanden.conf" -f 2>"$dir/gateway.log" &
gwpid=$!
for _ in $(seq 1 40); do
	curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
	kill -0 "$gwpid" 2>/dev/null || fail "the gateway exited at start-up"
	sleep 0.25
done
curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" || fail "the gateway does not answer /healthz"
[ "$(cat "$dir/gateway.pid")" = "$gwpid" ] || fail "pid file does not hold the gateway's pid"

"$conformance" -c "$dir/bestanden.conf" || fail "conformance suite"

# The HTTP API itself, as documented in docs/STORAGE.md.
base="http://127.0.0.1:$port/v1/objects"
printf 'Authorization: Bearer %s\n' "$(cat "$dir/keys/store.token")" >"$dir/auth.header"
auth=(-H @"$dir/auth.header")
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
head -c 3000000 /dev/urandom >"$dir/body"
[ "$(code -X PUT -H 'Authorization: Bearer wrong' -T "$dir/body" "$base/abc/1")" = 401 ] ||
	fail "a PUT with a wrong token is not 401"
[ "$(code "${auth[@]}" -I "$base/abc/1")" = 404 ] || fail "a refused PUT stored something"
[ "$(code "${auth[@]}" -X PUT -T "$dir/body" "$base/ABC/1")" = 400 ] || fail "a bad name is not 400"
[ "$(code "${auth[@]}" -X PUT -T "$dir/body" "$base/abc/1")" = 201 ] || fail "PUT is not 201"
[ "$(code "${auth[@]}" -X PUT -T "$dir/body" "$base/abc")" = 409 ] || fail "a name clashing with a prefix is not 409"
[ "$(code "${auth[@]}" -H 'Range: bytes=3000000-' "$base/abc/1")" = 416 ] || fail "a range past the end is not 416"
range=$(curl -s -D - -o /dev/null "${auth[@]}" -H 'Range: bytes=-10' "$base/abc/1" | tr -d '\r')
echo "$range" | grep -q '^HTTP/1.1 206' || fail "a suffix range is not 206"
echo "$range" | grep -qi '^content-range: bytes 2999990-2999999/3000000$' || fail "wrong Content-Range: $range"
[ "$(curl -s "${auth[@]}" "$base?prefix=abc/")" = "abc/1 3000000" ] || fail "the listing is wrong"
[ "$(code "${auth[@]}" "$base?limit=0")" = 400 ] || fail "limit=0 is not 400"
[ "$(code "${auth[@]}" -X DELETE "$base/abc/1")" = 204 ] || fail "DELETE is not 204"
[ "$(code "${auth[@]}" -X DELETE "$base/abc/1")" = 204 ] || fail "DELETE of nothing is not 204"

# A crash half-way through an upload leaves no object, and the restart clears the leftovers.
curl -s -o /dev/null "${auth[@]}" --limit-rate 200k -X PUT -T "$dir/body" "$base/abc/2" &
upload=$!
for _ in $(seq 1 100); do
	[ -n "$(ls -A "$dir/objects/.tmp")" ] && break
	sleep 0.05
done
[ -n "$(ls -A "$dir/objects/.tmp")" ] || fail "no temporary file while an upload is under way"
kill -9 "$gwpid"
wait "$gwpid" 2>/dev/null || true
wait "$upload" 2>/dev/null || true
[ ! -e "$dir/objects/abc/2" ] || fail "a half-written object is visible after a crash"
"$gateway" -c "$dir/bestanden.conf" -f 2>>"$dir/gateway.log" &
gwpid=$!
for _ in $(seq 1 40); do
	curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
	sleep 0.25
done
[ "$(code "${auth[@]}" -I "$base/abc/2")" = 404 ] || fail "the interrupted upload is visible after restart"
[ -z "$(ls -A "$dir/objects/.tmp")" ] || fail "the restart did not clear objects/.tmp"
"$cli" -c "$dir/bestanden.conf" storage init || fail "bestanden storage init"
"$cli" -c "$dir/bestanden.conf" sweep || fail "bestanden sweep"

# Nothing half-written may be left, and the token never appears in the log.
[ -z "$(ls -A "$dir/objects/.tmp")" ] || fail "temporary files left in objects/.tmp: $(ls "$dir/objects/.tmp")"
if grep -qF "$(cat "$dir/keys/store.token")" "$dir/gateway.log"; then
	fail "the store token appears in the gateway log"
fi

kill -TERM "$gwpid"
rc=0
wait "$gwpid" || rc=$?
gwpid=""
[ "$rc" = 0 ] || fail "the gateway exited with status $rc on SIGTERM"
[ ! -e "$dir/gateway.pid" ] || fail "the pid file is still there after stopping"
grep -q "event=stop" "$dir/gateway.log" || fail "no event=stop in the log"
echo "run-gateway: gateway store passed the conformance suite and stopped cleanly"
