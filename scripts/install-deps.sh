#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# install-deps.sh - install the Debian 12 packages bestanden needs; idempotent.
#
# usage: scripts/install-deps.sh GROUP...   (groups: build test reliability demo)
# Installs only what is missing, so it is quick when everything is there.
# Needs root (or sudo) only when something has to be installed.
set -eu

build_pkgs="cmake make gcc clang pkg-config libmilter-dev libgmime-3.0-dev libsodium-dev
  libcurl4-openssl-dev libmicrohttpd-dev libinih-dev libcmocka-dev libarchive-dev zlib1g-dev libxml2-dev libjansson-dev
  libytnef0-dev"
test_pkgs="curl python3 postfix swaks ceph-mon ceph-osd radosgw ceph-common chromium nodejs npm man-db groff-base openssl gnupg clamav-daemon"
demo_pkgs="curl python3 postfix swaks"
# make reliability: the test packages and nginx, the load balancer in front of two gateways
reliability_pkgs="nginx"

want=""
for group in "${@:-build}"; do
	case $group in
	build) want="$want $build_pkgs" ;;
	test) want="$want $build_pkgs $test_pkgs" ;;
	reliability) want="$want $build_pkgs $test_pkgs $reliability_pkgs" ;;
	demo) want="$want $build_pkgs $demo_pkgs" ;;
	*) echo "install-deps: unknown group '$group' (build, test, reliability, demo)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	# A nodejs from elsewhere (e.g. NodeSource) brings npm itself and conflicts with Debian's.
	[ "$p" = npm ] && command -v npm >/dev/null && continue
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: run as root to install:$missing" >&2; exit 1; }
	sudo=sudo
fi
# Postfix is installed for the tests' and demo's private instances only: "No configuration"
# leaves the machine's own mail system unconfigured and not started.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done" >&2
