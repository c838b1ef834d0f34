#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# run-s3.sh - the storage conformance suite and `storage init` against a real Ceph RGW.
#
# usage: run-s3.sh STORE_CONFORMANCE BESTANDEN CEPH_RGW_SH
# Starts a one-machine Ceph cluster once (tests/s3/ceph-rgw.sh) in a temporary
# directory, then: `bestanden storage init --create-bucket` (twice: it must be
# repeatable) and a GET of ?lifecycle= to see the rules; the full suite with
# path-style addressing; the suite without the 100 MiB object with virtual-host
# addressing (bucket.localhost, which curl resolves to loopback); `bestanden
# sweep`. Ceph not starting is a failure, never a skip. Ceph is always stopped.
set -eu

conformance=$1 cli=$2 ceph=$3
dir=$(mktemp -d /tmp/bd-store-s3-XXXXXX)
cleanup() {
	"$ceph" stop "$dir/ceph" || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "run-s3: FAIL: $*" >&2
	exit 1
}

"$ceph" start "$dir/ceph" >/dev/null || fail "Ceph RGW did not start (see above)"
# shellcheck disable=SC1091
. "$dir/ceph/s3.env"

write_conf() { # FILE ENDPOINT ADDRESSING
	cat >"$1" <<CONF
[storage]
driver = s3
s3_endpoint = $2
s3_region = $S3_REGION
s3_bucket = bestanden-test
s3_access_key = $S3_ACCESS_KEY
s3_secret_key_file = $S3_SECRET_FILE
s3_addressing = $3
s3_multipart_threshold = 16M
s3_part_size = 8M
timeout = 20s
[policy]
retention = 14d
[keys]
dir = $dir/keys
CONF
}
write_conf "$dir/path.conf" "$S3_ENDPOINT" path
write_conf "$dir/virtual.conf" "http://localhost:$S3_PORT" virtual

"$cli" -c "$dir/path.conf" storage init --create-bucket || fail "bestanden storage init --create-bucket"
"$cli" -c "$dir/path.conf" storage init --create-bucket || fail "storage init is not repeatable"
lifecycle=$(curl -sS --fail-with-body --aws-sigv4 "aws:amz:$S3_REGION:s3" \
	-u "$S3_ACCESS_KEY:$(cat "$S3_SECRET_FILE")" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	"$S3_ENDPOINT/bestanden-test?lifecycle=") || fail "GET ?lifecycle= failed: $lifecycle"
echo "run-s3: lifecycle: $lifecycle"
echo "$lifecycle" | grep -q "<Expiration><Days>15</Days></Expiration>" ||
	fail "the lifecycle has no expiry after retention + 1 day (15 days)"
echo "$lifecycle" | grep -q "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>" ||
	fail "the lifecycle does not abort incomplete multipart uploads after 1 day"

"$conformance" -c "$dir/path.conf" || fail "conformance suite, path-style"
"$conformance" -q -c "$dir/virtual.conf" || fail "conformance suite, virtual-host style"
"$cli" -c "$dir/path.conf" sweep || fail "bestanden sweep"
echo "run-s3: Ceph RGW passed storage init and the conformance suite (path and virtual-host)"
