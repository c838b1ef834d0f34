#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# ceph-rgw.sh - a one-machine Ceph cluster with a RADOS Gateway: a real S3 engine for tests.
#
# usage: ceph-rgw.sh start DIR [RGW_PORT]    (prints the S3 settings, also written to DIR/s3.env)
#        ceph-rgw.sh restart-rgw DIR   (radosgw alone: the objects stay)
#        ceph-rgw.sh stop DIR
# One monitor, one OSD on the in-memory object store, one radosgw (beast) on
# 127.0.0.1:RGW_PORT (default: a free port), all under DIR, as root. About 15 s
# and 150 MB. Any failure exits non-zero with the daemons' logs on stderr.
# CEPH_MEMSTORE_BYTES sets the object store's size (default 2 GiB, held in memory);
# CEPH_LC_DEBUG_INTERVAL the seconds a lifecycle "day" lasts (default 10; -1: real days).
set -eu

die() {
	echo "ceph-rgw: $*" >&2
	exit 1
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Print the tail of every log under DIR, then stop whatever started.
fail() {
	local dir=$1
	shift
	echo "ceph-rgw: $*" >&2
	for f in "$dir"/log/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
	stop "$dir"
	exit 1
}

# Wait up to SECS seconds for COMMAND to succeed (WHAT names it for the reader).
wait_for() { # WHAT SECS COMMAND...
	local secs=$2
	shift 2
	for _ in $(seq 1 $((secs * 4))); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.25
	done
	return 1
}

start() {
	local dir=$1 port=${2:-} mon_port fsid conf
	for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
		command -v "$tool" >/dev/null ||
			die "$tool is not installed (scripts/install-deps.sh test installs ceph-mon ceph-osd radosgw ceph-common)"
	done
	[ "$(id -u)" = 0 ] || die "must run as root (the Ceph daemons want it)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -e "$dir/ceph.conf" ] && die "$dir already holds a cluster; stop it and use a fresh directory"
	[ -n "$port" ] || port=$(free_port)
	mon_port=$(free_port)
	fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
	conf=$dir/ceph.conf
	mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd/osd.0" "$dir/rgw"
	cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
keyring = $dir/keyring
run dir = $dir/run
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
mon data = $dir/mon/\$cluster-\$id
ms bind ipv6 = false
public addr = 127.0.0.1
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
[osd]
osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-2147483648}
osd data = $dir/osd/\$name
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
rgw dns name = localhost
rgw lc debug interval = ${CEPH_LC_DEBUG_INTERVAL:-10}
EOF
	ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
		--cap mgr 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' \
		>/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' \
		--cap mgr 'allow profile osd' >/dev/null
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
	ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" ||
		fail "$dir" "ceph-mon --mkfs failed"
	ceph-mon -c "$conf" -i a || fail "$dir" "ceph-mon did not start"
	wait_for mon 30 ceph -c "$conf" --connect-timeout 5 mon stat || fail "$dir" "the monitor does not answer"
	ceph -c "$conf" auth import -i "$dir/keyring" >/dev/null 2>&1 || fail "$dir" "ceph auth import failed"
	[ "$(ceph -c "$conf" osd create 2>/dev/null)" = 0 ] || fail "$dir" "ceph osd create did not give id 0"
	ceph-osd -c "$conf" -i 0 --mkfs >"$dir/log/osd-mkfs.log" 2>&1 || fail "$dir" "ceph-osd --mkfs failed"
	ceph-osd -c "$conf" -i 0 || fail "$dir" "ceph-osd did not start"
	# shellcheck disable=SC2016
	wait_for osd 60 sh -c 'ceph -c "$1" osd stat 2>/dev/null | grep -q "1 up"' _ "$conf" ||
		fail "$dir" "the OSD did not come up"
	radosgw -c "$conf" -n client.rgw.a || fail "$dir" "radosgw did not start"
	wait_for rgw 90 curl -sf -o /dev/null "http://127.0.0.1:$port/" || fail "$dir" "radosgw does not answer on port $port"
	local access=BESTANDENTESTKEY0001
	local secret
	secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
	radosgw-admin -c "$conf" -n client.admin user create --uid=bestanden --display-name=bestanden \
		--access-key="$access" --secret-key="$secret" >"$dir/log/user-create.out" 2>&1 ||
		fail "$dir" "radosgw-admin user create failed"
	(umask 077 && printf '%s\n' "$secret" >"$dir/s3.secret")
	cat >"$dir/s3.env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$port
S3_PORT=$port
S3_ACCESS_KEY=$access
S3_SECRET_FILE=$dir/s3.secret
S3_REGION=default
EOF
	cat "$dir/s3.env"
}

# Stop the daemon NAME (SIGTERM, then SIGKILL after 10 s).
stop_daemon() { # DIR NAME
	local pid
	[ -f "$1/run/$2.pid" ] || return 0
	pid=$(cat "$1/run/$2.pid")
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 40); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.25
	done
	kill -9 "$pid" 2>/dev/null || true
}

restart_rgw() {
	local dir=$1 port
	[ -f "$dir/s3.env" ] || die "$dir holds no running cluster"
	port=$(sed -n 's/^S3_PORT=//p' "$dir/s3.env")
	stop_daemon "$dir" client.rgw.a
	radosgw -c "$dir/ceph.conf" -n client.rgw.a || fail "$dir" "radosgw did not start again"
	wait_for rgw 90 curl -sf -o /dev/null "http://127.0.0.1:$port/" ||
		fail "$dir" "radosgw does not answer on port $port after its restart"
}

stop() {
	local dir=$1
	[ -d "$dir/run" ] || return 0
	for name in client.rgw.a osd.0 mon.a; do
		stop_daemon "$dir" "$name"
	done
}

case ${1:-} in
start) [ $# -ge 2 ] || die "usage: $0 start DIR [RGW_PORT]"; start "$2" "${3:-}" ;;
restart-rgw) [ $# -ge 2 ] || die "usage: $0 restart-rgw DIR"; restart_rgw "$2" ;;
stop) [ $# -ge 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 start DIR [RGW_PORT] | restart-rgw DIR | stop DIR" ;;
esac
