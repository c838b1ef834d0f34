# SPDX-License-Identifier: EUPL-1.2
# gateway.sh - a private gateway for the command-level tests (sourced).
# gateway_conf BESTANDEN DIR SOURCE_DIR: keys in DIR/keys and DIR/bestanden.conf for a gateway
#   on a free loopback port that is also the store (sets conf and port);
# gateway_start GATEWAY: start it and wait for /healthz (sets gwpid; status 1 if it never answers);
# gateway_stop: stop it, if it runs (for the caller's EXIT trap).
gwpid=""
gateway_conf() {
	local cli=$1 dir=$2 src=$3
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$cli" keygen -d "$dir/keys" >/dev/null || { echo "keygen failed" >&2; exit 1; }
	conf=$dir/bestanden.conf
	cat >"$conf" <<CONF
[gateway]
listen = 127.0.0.1:$port
public_url = http://127.0.0.1:$port
organisation = Woonstichting De Test
data_dir = $dir/objects
pid_file =
audit_log =
[storage]
driver = gateway
url = http://127.0.0.1:$port
token_file = $dir/keys/store.token
connect_timeout = 1s
timeout = 10s
retries = 0
[notice]
template_dir = $src/conf/templates
[keys]
dir = $dir/keys
CONF
}
gateway_start() {
	"$1" -c "$conf" -f 2>"$(dirname "$conf")/gateway.log" &
	gwpid=$!
	for _ in $(seq 1 40); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
		sleep 0.25
	done
	curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
}
gateway_stop() {
	if [ -n "$gwpid" ] && kill -0 "$gwpid" 2>/dev/null; then
		kill "$gwpid" 2>/dev/null; wait "$gwpid" 2>/dev/null
	fi
}
