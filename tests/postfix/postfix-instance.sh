#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# postfix-instance.sh - a private Postfix for tests and the demo, on loopback only.
#
# usage: postfix-instance.sh start DIR SMTP_PORT SUBMISSION_PORT SINK_PORT MILTER
#        postfix-instance.sh stop DIR
# Everything (configuration, queue, data, log) lives under DIR; the machine's
# own /etc/postfix is only read (master.cf is copied), never changed.
# SMTP_PORT is a plain smtpd; SUBMISSION_PORT is the same with
# milter_macro_daemon_name=ORIGINATING, as on a real submission service.
# Mail is relayed to 127.0.0.1:SINK_PORT (e.g. smtp-sink -d). MILTER is a
# milter socket in Postfix syntax (inet:127.0.0.1:8891), or "none".
set -eu

die() { echo "postfix-instance: $*" >&2; exit 1; }

start() {
	local dir=$1 smtp=$2 sub=$3 sink=$4 milter=$5
	local etc=$dir/etc
	command -v postfix >/dev/null || die "postfix is not installed (scripts/install-deps.sh test)"
	mkdir -p "$etc" "$dir/queue" "$dir/data"
	chown postfix "$dir/data"
	cp /etc/postfix/master.cf "$etc/master.cf"
	cat > "$etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
myhostname = mta.bestanden.test
mydomain = bestanden.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sink
smtp_host_lookup = native
smtp_dns_support_level = disabled
maillog_file = $dir/maillog
maillog_file_prefixes = /var, /dev/stdout, $dir
alias_maps =
alias_database =
message_size_limit = 209715200
smtpd_client_connection_count_limit = 0
default_process_limit = 100
smtpd_recipient_restrictions = permit_mynetworks, reject
# retry soon: the tests wait for tempfailed mail to be delivered
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
CF
	if [ "$milter" != none ]; then
		cat >> "$etc/main.cf" <<CF
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 60s
milter_content_timeout = 300s
CF
	fi
	# No chroot: a private instance has no chroot tree to run in.
	postconf -c "$etc" -F '*/*/chroot = n'
	# The plain smtp service listens on a loopback port; a submission-like one beside it.
	postconf -c "$etc" -M# smtp/inet
	postconf -c "$etc" -M "127.0.0.1:$smtp/inet = 127.0.0.1:$smtp inet n - n - - smtpd"
	postconf -c "$etc" -M "127.0.0.1:$sub/inet = 127.0.0.1:$sub inet n - n - - smtpd -o milter_macro_daemon_name=ORIGINATING"
	postfix -c "$etc" check || die "postfix check failed for $etc (see $dir/maillog)"
	postfix -c "$etc" start >/dev/null 2>&1 || die "postfix did not start (see $dir/maillog)"
	for _ in $(seq 1 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$smtp") 2>/dev/null; then return 0; fi
		sleep 0.2
	done
	die "postfix is not listening on 127.0.0.1:$smtp (see $dir/maillog)"
}

stop() {
	local dir=$1
	[ -f "$dir/etc/main.cf" ] || return 0
	postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
	# master exits asynchronously; wait for its pid file to go
	for _ in $(seq 1 50); do
		[ -f "$dir/queue/pid/master.pid" ] && kill -0 "$(cat "$dir/queue/pid/master.pid")" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -9 "$(cat "$dir/queue/pid/master.pid")" 2>/dev/null || true
}

case ${1:-} in
start) [ $# -eq 6 ] || die "usage: start DIR SMTP_PORT SUBMISSION_PORT SINK_PORT MILTER"; start "$2" "$3" "$4" "$5" "$6" ;;
stop) [ $# -eq 2 ] || die "usage: stop DIR"; stop "$2" ;;
*) die "usage: start DIR SMTP_PORT SUBMISSION_PORT SINK_PORT MILTER | stop DIR" ;;
esac
