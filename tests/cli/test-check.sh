#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# test-check.sh - what -t and check-config -v find before the first mail, the directories
# the daemons create at start, and when `keys remove` lets a key go.
# usage: test-check.sh BESTANDEN MILTER GATEWAY SOURCE_DIR
set -u
cli=$1 milter=$2 gateway=$3 src=$4
tmp=$(mktemp -d /tmp/bd-check-test.XXXXXX)
chmod 755 "$tmp"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/expect.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# conf NAME SED-EXPRESSION...: a copy of the base configuration with changes
conf() { local name=$1; shift; sed "$@" "$tmp/base.conf" > "$tmp/$name.conf"; echo "$tmp/$name.conf"; }

port=$(free_port) milter_port=$(free_port) bad=$(free_port)
"$cli" keygen -d "$tmp/keys" >/dev/null
sed -e "s|^dir = /etc/bestanden/keys|dir = $tmp/keys|" -e "s|^token_file = .*|token_file = $tmp/keys/store.token|" \
	-e "s|^template_dir = .*|template_dir = $src/conf/templates|" -e "s|^data_dir = .*|data_dir = $tmp/objects|" \
	-e "s|127.0.0.1:8080|127.0.0.1:$port|" -e "s|^pid_file = .*|pid_file =|" \
	-e "s|^socket = .*|socket = inet:$milter_port@127.0.0.1|" \
	-e "s|^audit_log = .*|audit_log = $tmp/log/audit.log|" -e "s|^spool_dir = .*|spool_dir = $tmp/spool|" \
	"$src/conf/bestanden.conf" > "$tmp/base.conf"

# Before the gateway runs, the milter's -t says its store does not answer.
expect 1 "[storage] url = http://127.0.0.1:$port" "$milter" -t -c "$tmp/base.conf"

"$gateway" -f -c "$tmp/base.conf" 2>"$tmp/gateway.log" &
pids+=($!)
wait_port "$port" || fail "the gateway did not start: $(cat "$tmp/gateway.log")"

# The gateway made the audit log's directory and the log as logrotate would.
[ "$(stat -c %a "$tmp/log")" = 750 ] && ok || fail "audit log directory mode $(stat -c %a "$tmp/log")"
[ "$(stat -c %a "$tmp/log/audit.log")" = 640 ] && ok || fail "audit log mode $(stat -c %a "$tmp/log/audit.log")"

expect 0 "result=ok" "$milter" -t -c "$tmp/base.conf"
expect 0 "result=ok" "$gateway" -t -c "$tmp/base.conf"
expect 0 "configuration is valid" "$cli" -c "$tmp/base.conf" check-config -v

# [storage] url at a port where nothing listens: every check names the setting.
wrong=$(conf wrong-port -e "s|^url = .*|url = http://127.0.0.1:$bad|")
expect 1 "[storage] url = http://127.0.0.1:$bad" "$milter" -t -c "$wrong"
expect 1 "result=failed" "$milter" -t -c "$wrong"
expect 1 "[storage] url = http://127.0.0.1:$bad" "$cli" -c "$wrong" check-config -v
# The gateway itself serves the store: the url must be its own port.
expect 1 "[storage] url = http://127.0.0.1:$bad" "$gateway" -t -c "$wrong"
# The gateway moved, the url did not.
moved=$(conf moved -e "s|^listen = .*|listen = 127.0.0.1:$bad|")
expect 1 "listens on port $bad ([gateway] listen" "$gateway" -t -c "$moved"

# A token the gateway does not know.
install -m 0600 /dev/null "$tmp/other.token" && echo "not-the-gateways-token" > "$tmp/other.token"
token=$(conf token -e "s|^token_file = .*|token_file = $tmp/other.token|")
expect 1 "[storage] token_file = $tmp/other.token: the gateway refused this token" "$milter" -t -c "$token"

# Templates that are not there.
notemplates=$(conf notemplates -e "s|^template_dir = .*|template_dir = $tmp/none|")
expect 1 "[notice] template_dir" "$cli" -c "$notemplates" check-config -v

# A spool directory that cannot be created; one that can is fine.
nospool=$(conf nospool -e "s|^spool_dir = .*|spool_dir = $tmp/no/such/spool|")
expect 1 "[milter] spool_dir: $tmp/no/such/spool is missing" "$milter" -t -c "$nospool"

# Key files the daemon's user cannot read (as root: the user it switches to).
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	asnobody=$(conf nobody -e "s|^user =.*|user = nobody|")
	expect 1 "[keys] dir: $tmp/keys cannot be read by nobody" "$milter" -t -c "$asnobody"
	expect 1 "chown -R nobody $tmp/keys" "$gateway" -t -c "$asnobody"
	cp -a "$tmp/keys" "$tmp/keys-nobody" && chown -R nobody "$tmp/keys-nobody"
	chown root "$tmp/keys-nobody/link-1.key"
	nobodykeys=$(conf nobodykeys -e "s|^user =.*|user = nobody|" -e "s|^dir = $tmp/keys|dir = $tmp/keys-nobody|" \
		-e "s|^token_file = .*|token_file = $tmp/keys-nobody/store.token|")
	expect 1 "[keys] dir: $tmp/keys-nobody/link-1.key is not readable by nobody" "$milter" -t -c "$nobodykeys"
	chown nobody "$tmp/keys-nobody/link-1.key"
	expect 0 "result=ok" "$milter" -t -c "$nobodykeys"
else
	echo "not run: key files as the daemon's user (needs root and user nobody)"
fi

# The milter creates its missing spool directory at start.
"$milter" -f -c "$tmp/base.conf" 2>"$tmp/milter.log" &
pids+=($!)
wait_port "$milter_port" || fail "the milter did not start: $(cat "$tmp/milter.log")"
[ -d "$tmp/spool" ] && [ "$(stat -c %a "$tmp/spool")" = 750 ] && ok ||
	fail "the milter did not create its spool directory 0750"

# keys remove: not before retention (14d) + grace (7d) have passed since it was retired.
"$cli" keys -d "$tmp/keys" rotate gateway >/dev/null
expect 1 "gateway key 1 was retired" "$cli" -c "$tmp/base.conf" keys remove gateway 1
until=$(date -u -d "@$(( $(stat -c %Y "$tmp/keys/gateway-2.pub") + 21 * 86400 ))" '+%Y-%m-%d %H:%M UTC')
expect 1 "needed until $until" "$cli" -c "$tmp/base.conf" keys remove gateway 1
[ -e "$tmp/keys/gateway-1.key" ] && ok || fail "a refused remove removed the key"
# retired 15 days ago: still needed for 6 more days
touch -d '15 days ago' "$tmp/keys/gateway-1.pub" "$tmp/keys/gateway-2.pub"
until=$(date -u -d "@$(( $(stat -c %Y "$tmp/keys/gateway-2.pub") + 21 * 86400 ))" '+%Y-%m-%d %H:%M UTC')
expect 1 "needed until $until" "$cli" -c "$tmp/base.conf" keys remove gateway 1
# a shorter grace lets it go
short=$(conf short-grace -e "s|^grace = .*|grace = 0s|")
expect 0 "removed gateway key 1" "$cli" -c "$short" keys remove gateway 1
# --force removes a key that is still needed
"$cli" keys -d "$tmp/keys" rotate link >/dev/null
expect 1 "or now with --force" "$cli" -c "$tmp/base.conf" keys remove link 1
expect 0 "removed link key 1" "$cli" -c "$tmp/base.conf" keys remove --force link 1
expect 1 "is current" "$cli" -c "$tmp/base.conf" keys remove --force link 2

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
