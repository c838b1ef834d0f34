#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# test-admin-guide.sh - docs/ADMIN.md, followed to the letter: every `sh` block runs, in
# order, as root, on a scratch copy of this machine with its own Postfix.
#
# usage: test-admin-guide.sh SOURCE_DIR BUILD_DIR
#
# A private mount, network and pid namespace: /etc, /var, /usr/local and /tmp are
# overlays whose changes vanish with it, /run is empty, the network is a loopback of
# its own (ports 25, 8080 and 8891 are free there), and every daemon the guide starts
# dies with it. What a Debian machine with Postfix would have and the guide assumes
# (a main.cf) is set up first; Postfix relays to an smtp-sink, where the test mail of
# section 4 must arrive rewritten. The guide's blocks marked "not run" are listed.
# Fails (exit 1) when it cannot run here: not root, no namespaces, a tool missing.
set -eu
src=$(realpath "$1") build=$(realpath "$2")

if [ "${BD_GUIDE_INSIDE:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! unshare --mount --net --pid --fork true 2>/dev/null; then
		echo "FAIL: cannot run: needs root and Linux namespaces (unshare)"; exit 1
	fi
	for c in postfix swaks curl smtp-sink; do
		command -v "$c" >/dev/null || { echo "FAIL: cannot run: $c is not installed (scripts/install-deps.sh test)"; exit 1; }
	done
	exec env BD_GUIDE_INSIDE=1 unshare --mount --net --pid --fork --mount-proc "$0" "$@"
fi

# --- inside: pid 1 of a namespace of our own ---
mount --make-rprivate /
mount -t tmpfs tmpfs /mnt
scratch=/mnt
for d in etc var usr/local tmp; do
	n=${d//\//-}
	mkdir -p "$scratch/$n-up" "$scratch/$n-work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$scratch/$n-up,workdir=$scratch/$n-work" "/$d"
done
mount -t tmpfs -o mode=0755 tmpfs /run
ip link set lo up

# What Debian's postfix package leaves (a main.cf; we relay to a sink instead of the world).
mkdir -p "$scratch/sink"
cat > /etc/postfix/main.cf <<CF
compatibility_level = 3.6
myhostname = mail.example.nl
mydomain = example.nl
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
relayhost = [127.0.0.1]:2525
smtp_dns_support_level = disabled
maillog_file = /var/log/postfix.log
alias_maps =
alias_database =
CF
postconf -F '*/*/chroot = n'
smtp-sink -u root -d "$scratch/sink/%d%H%M%S." -c 127.0.0.1:2525 32 > "$scratch/sink.log" 2>&1 &
sinkpid=$!

python3 "$src/tests/docs/guide-blocks.py" "$src/docs/ADMIN.md" > "$scratch/guide.sh"
cd "$src"
status=0
BUILD=$build bash "$scratch/guide.sh" || status=$?
if [ "$status" != 0 ]; then
	echo "FAIL: docs/ADMIN.md: the command above failed (exit $status)"
	tail -20 /var/log/postfix.log 2>/dev/null
	exit 1
fi

failed=0
fail() { failed=1; echo "FAIL: $*"; }
# Section 4's test message went through Postfix's pickup and the milter to the sink.
for _ in $(seq 1 100); do
	[ -n "$(ls "$scratch/sink")" ] && break
	sleep 0.2
done
msg=$(ls "$scratch/sink" | head -1)
# until smtp-sink has closed the file it writes
for _ in $(seq 1 100); do
	[ -n "$msg" ] && ls -l /proc/$sinkpid/fd 2>/dev/null | grep -qF "$scratch/sink/$msg" || break
	sleep 0.05
done
if [ -z "$msg" ]; then
	fail "the test message of section 4 did not arrive"; tail -20 /var/log/postfix.log
else
	grep -q '^X-Bestanden:' "$scratch/sink/$msg" || fail "the delivered message has no X-Bestanden header"
	grep -q 'filename="\?os-release' "$scratch/sink/$msg" && fail "the delivered message still has the attachment"
	grep -q 'https://bestanden.example.nl/d/' "$scratch/sink/$msg" || fail "the delivered message has no link"
fi
# Section 11 removed everything.
left=$(ls -d /usr/local/bin/bestanden* /usr/local/sbin/bestanden* /usr/local/share/bestanden \
	/usr/local/share/man/*/bestanden* /etc/bestanden /var/lib/bestanden /var/spool/bestanden \
	/var/log/bestanden 2>/dev/null || true)
[ -z "$left" ] || fail "left after '11. Removing bestanden': $left"
! getent passwd bestanden >/dev/null || fail "the user bestanden is still there"
pgrep -f 'bestanden-(milter|gateway)' >/dev/null && fail "a daemon still runs after section 11"
[ "$failed" = 0 ] && echo "docs/ADMIN.md: every block ran"
exit "$failed"
