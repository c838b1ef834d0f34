#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# bench_store.sh - upload and download MB/s of each storage driver against curl's own PUT/GET.
#
# usage: bench/bench_store.sh [BUILD_DIR] [MIB] [REPEATS]   (defaults: build 100 5; run as root)
# Starts a bestanden-gateway and a one-machine Ceph RGW (tests/s3/ceph-rgw.sh) on loopback
# in a temporary directory, then for each backend repeats, interleaved: bench_store (the
# driver: put from memory, get into a counting sink) and curl (PUT of the same file, GET to
# /dev/null) against the same server. Prints medians and the driver/curl ratios. The S3
# driver is measured twice: as configured by default (multipart from 64 MiB, 16 MiB parts)
# and with multipart off (one PUT, like curl). Everything is stopped at the end.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
mib=${2:-100}
repeats=${3:-5}
case $build in /*) ;; *) build=$PWD/$build ;; esac
cli=$build/cli/bestanden
gateway=$build/gateway/bestanden-gateway
bench=$build/bench/bench_store
[ -x "$bench" ] || cmake --build "$build" --target bench_store >/dev/null
for f in "$cli" "$gateway" "$bench"; do [ -x "$f" ] || { echo "bench_store: $f is missing; build first" >&2; exit 1; }; done

dir=$(mktemp -d /tmp/bd-bench-store-XXXXXX)
gwpid=""
cleanup() {
	[ -n "$gwpid" ] && kill "$gwpid" 2>/dev/null && wait "$gwpid" 2>/dev/null
	"$here/tests/s3/ceph-rgw.sh" stop "$dir/ceph" || true
	rm -rf "$dir"
}
trap cleanup EXIT

head -c $((mib * 1024 * 1024)) /dev/urandom >"$dir/data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$cli" keygen -d "$dir/keys" >/dev/null
cat >"$dir/gateway.conf" <<CONF
[gateway]
listen = 127.0.0.1:$port
data_dir = $dir/objects
pid_file =
audit_log =
[storage]
url = http://127.0.0.1:$port
token_file = $dir/keys/store.token
[keys]
dir = $dir/keys
CONF
"$gateway" -c "$dir/gateway.conf" -f 2>"$dir/gateway.log" &
gwpid=$!
printf 'Authorization: Bearer %s\n' "$(cat "$dir/keys/store.token")" >"$dir/auth.header"
chmod 600 "$dir/auth.header"

"$here/tests/s3/ceph-rgw.sh" start "$dir/ceph" >/dev/null
# shellcheck disable=SC1091
. "$dir/ceph/s3.env"
s3conf() { # FILE THRESHOLD
	cat >"$1" <<CONF
[storage]
driver = s3
s3_endpoint = $S3_ENDPOINT
s3_region = $S3_REGION
s3_bucket = bestanden-bench
s3_access_key = $S3_ACCESS_KEY
s3_secret_key_file = $S3_SECRET_FILE
s3_multipart_threshold = $2
[keys]
dir = $dir/keys
CONF
}
s3conf "$dir/s3.conf" 64M
s3conf "$dir/s3-single.conf" 5G
"$cli" -c "$dir/s3.conf" storage init --create-bucket >/dev/null
s3auth=(--aws-sigv4 "aws:amz:$S3_REGION:s3" -u "$S3_ACCESS_KEY:$(cat "$S3_SECRET_FILE")"
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 0.2; done

# curl_times URL ARGS...: "put SECONDS get SECONDS" for one PUT and one GET of the file.
curl_times() {
	local url=$1 put get
	shift
	put=$(curl -sS -f -o /dev/null -w '%{time_total}' -T "$dir/data" "$@" "$url")
	get=$(curl -sS -f -o /dev/null -w '%{time_total}' "$@" "$url")
	curl -sS -f -o /dev/null -X DELETE "$@" "$url"
	echo "put $put get $get"
}

results=$dir/results
: >"$results"
# One measurement of BACKEND by WHO (driver or curl).
measure() {
	local out
	case $1/$2 in
	gateway/driver) out=$("$bench" -c "$dir/gateway.conf" -f "$dir/data") ;;
	gateway/curl) out=$(curl_times "http://127.0.0.1:$port/v1/objects/be7c/c" -H @"$dir/auth.header") ;;
	s3/driver) out=$("$bench" -c "$dir/s3.conf" -f "$dir/data") ;;
	s3-single/driver) out=$("$bench" -c "$dir/s3-single.conf" -f "$dir/data") ;;
	s3/curl) out=$(curl_times "$S3_ENDPOINT/bestanden-bench/be7c/c" "${s3auth[@]}") ;;
	esac
	echo "$1 $2 $out"
}
for i in $(seq 1 "$repeats"); do
	# Driver and curl back to back, which goes first alternating by round, and a pause
	# between backends so one server's background work does not land on the other.
	for b in gateway s3 s3-single; do
		sleep 1
		if [ $((i % 2)) = 1 ]; then order="driver curl"; else order="curl driver"; fi
		for who in $order; do
			[ "$b/$who" = s3-single/curl ] && continue # the same request as s3/curl
			line=$(measure "$b" "$who") || { echo "bench_store: $b/$who failed" >&2; exit 1; }
			echo "$line" >>"$results"
		done
	done
	echo "bench_store: round $i of $repeats done" >&2
done
sed -n 's/^s3 curl /s3-single curl /p' "$results" >"$results.single"
cat "$results.single" >>"$results"

python3 - "$results" "$mib" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
mb = int(sys.argv[2]) * 1024 * 1024 / 1e6
med = {}
for backend, who in {(r[0], r[1]) for r in rows}:
    sel = [r for r in rows if r[0] == backend and r[1] == who]
    med[backend, who] = (mb / statistics.median(float(r[3]) for r in sel),
                         mb / statistics.median(float(r[5]) for r in sel))
labels = {"gateway": "gateway (embedded store)", "s3": "s3, multipart (default config)",
          "s3-single": "s3, single PUT (multipart off)"}
print(f"{sys.argv[2]} MiB object, median of {len(rows) // 6} rounds, MB/s")
print("| backend | driver up | curl up | ratio up | driver down | curl down | ratio down |")
print("|---|---|---|---|---|---|---|")
for b in ("gateway", "s3", "s3-single"):
    d, c = med[b, "driver"], med[b, "curl"]
    print(f"| {labels[b]} | {d[0]:.0f} | {c[0]:.0f} | {d[0] / c[0]:.2f} | {d[1]:.0f} | {c[1]:.0f} | {d[1] / c[1]:.2f} |")
PY
