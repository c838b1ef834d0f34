#!/usr/bin/env bash
# demo.sh - the demo behind `make demo` and `make demo-stop`.
#
# Everything lives in one directory (default /tmp/bestanden-demo): keys, the
# configuration, logs and pid files. Nothing outside it is changed; the
# machine's own Postfix configuration is never touched.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
demo=${BESTANDEN_DEMO_DIR:-/tmp/bestanden-demo}
bin=$top/build

start() {
	mkdir -p "$demo"
	if [ ! -f "$demo/keys/current" ]; then
		"$bin/cli/bestanden" keygen -d "$demo/keys"
	fi
	sed -e "s|^dir = /etc/bestanden/keys|dir = $demo/keys|" \
	    -e "s|^token_file = .*|token_file = $demo/keys/store.token|" \
	    -e "s|^template_dir = .*|template_dir = $top/conf/templates|" \
	    -e "s|^data_dir = .*|data_dir = $demo/objects|" \
	    -e "s|^spool_dir = .*|spool_dir = $demo/spool|" \
	    -e "s|^pid_file = /run/bestanden/\(.*\)|pid_file = $demo/\1|" \
	    -e "s|^audit_log = .*|audit_log = $demo/audit.log|" \
	    "$top/conf/bestanden.conf" > "$demo/bestanden.conf"
	"$bin/cli/bestanden" -c "$demo/bestanden.conf" check-config
	"$bin/cli/bestanden" keys -d "$demo/keys" list
	"$bin/milter/bestanden-milter" -t -c "$demo/bestanden.conf"
	"$bin/gateway/bestanden-gateway" -t -c "$demo/bestanden.conf"
	cat <<TXT

bestanden demo: configuration and keys are ready in $demo.
Built so far: the configuration, keys and the three programs' start-up checks.
Not there yet: the milter's mail handling, the gateway's pages and the store, so this
demo cannot send a mail through Postfix yet. Stop with: make demo-stop
TXT
}

stop() {
	for pid in "$demo"/*.pid; do
		[ -f "$pid" ] || continue
		kill "$(cat "$pid")" 2>/dev/null || true
		rm -f "$pid"
	done
	echo "bestanden demo stopped (files remain in $demo; remove them with rm -rf $demo)"
}

case ${1:-start} in
start) start ;;
stop) stop ;;
*) echo "usage: demo.sh start|stop" >&2; exit 2 ;;
esac
