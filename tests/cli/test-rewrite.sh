#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# test-rewrite.sh - `bestanden rewrite` as an operator uses it, against a live gateway:
# --explain, unchanged messages passed through byte for byte, a tempfail when storage is
# down, and a full round trip (rewrite, then `bestanden fetch` the link, files identical),
# also for a winmail.dat whose inner files must show on the page and download identical.
# usage: test-rewrite.sh BESTANDEN GATEWAY SOURCE_DIR SHARED_DIR
set -u
cli=$1 gateway=$2 src=$3 shared=$4
msgs=$src/tests/data/messages
tmp=$(mktemp -d /tmp/bd-rewrite-test.XXXXXX)
. "$(dirname "$0")/gateway.sh"
cleanup() {
	gateway_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0 passed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

gateway_conf "$cli" "$tmp" "$src"

# --explain: one line for the message, one per part; nothing stored, no keys needed.
out=$("$cli" -c "$conf" rewrite --explain "$msgs/02-cid-inline-image.eml" 2>&1)
[ "$(wc -l <<<"$out")" = 8 ] && ok || fail "explain: expected 8 lines: $out"
grep -qE '^message: 1 file to send$' <<<"$out" && ok || fail "explain: message line: $out"
grep -qE '^1\.1\.2 +keep +image/png .*"logo\.png" .*cid:' <<<"$out" && ok || fail "explain: cid image: $out"
grep -qE '^1\.2 +send +application/pdf +398 bytes +"rapport\.pdf" +attachment$' <<<"$out" && ok ||
	fail "explain: pdf line: $out"
# -c after the command works too, and a corpus message explains without error.
"$cli" rewrite -c "$conf" --explain "$shared/corpus/zbateson/m0017.txt" >"$tmp/explain" 2>&1 &&
	grep -q '^1.2 .*send .*greenball.png' "$tmp/explain" && ok || fail "explain corpus: $(cat "$tmp/explain")"
out=$("$cli" -c "$conf" rewrite --explain "$msgs/04-signed.eml" 2>&1)
grep -q '^message: unchanged: signed message' <<<"$out" && ok || fail "explain signed: $out"
"$cli" -c "$conf" rewrite --explain "$tmp/none.eml" >/dev/null 2>&1; [ $? = 1 ] && ok || fail "missing input"
"$cli" -c "$conf" rewrite >/dev/null 2>&1; [ $? = 2 ] && ok || fail "usage error"

# Unchanged: the output is the input, byte for byte, and storage is never asked.
"$cli" -c "$conf" rewrite "$msgs/04-signed.eml" >"$tmp/out" 2>"$tmp/err" &&
	cmp -s "$tmp/out" "$msgs/04-signed.eml" && ok || fail "signed message not passed through: $(cat "$tmp/err")"
# Storage down: exit 1, nothing on standard output, the reason on standard error.
"$cli" -c "$conf" rewrite "$msgs/01-basic-pdf.eml" >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] && [ ! -s "$tmp/out" ] && grep -q "tempfail" "$tmp/err" && ok ||
	fail "storage down: $(cat "$tmp/err")"

# A live gateway: rewrite, then fetch the link and compare the files with the originals.
gateway_start "$gateway" || fail "gateway did not start: $(tail "$tmp/gateway.log")"

link_of() { # REWRITTEN: the link in its first text part that has one
	python3 - "$1" <<'PY'
import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
for part in m.walk():
    if part.get_content_type() == 'text/plain' and not part.get_filename():
        found = re.search(r'<(http://[^>]+/d/[A-Za-z0-9_-]+)>', part.get_content())
        if found:
            print(found.group(1)); break
PY
}
roundtrip() { # MESSAGE: rewrite, fetch, compare every attachment with python's decoding
	local msg=$1 name
	name=$(basename "$msg" .eml)
	if ! "$cli" -c "$conf" rewrite "$msg" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		fail "$name: rewrite failed: $(cat "$tmp/$name.err")"; return
	fi
	grep -q "file.* sent, package [0-9a-f]\{16\}" "$tmp/$name.err" && ok || fail "$name: summary: $(cat "$tmp/$name.err")"
	python3 - "$tmp/$name.out" <<'PY' && ok || fail "$name: output not CRLF/7-bit/X-Bestanden"
import sys
data = open(sys.argv[1], 'rb').read()
assert b'\n' not in data.replace(b'\r\n', b''), 'bare LF'
assert all(b < 0x80 for b in data), '8-bit byte'
head = data.split(b'\r\n\r\n', 1)[0]
assert b'\r\nX-Bestanden: files=' in head, 'no X-Bestanden'
assert b'/d/' not in head, 'token in a header'
PY
	link=$(link_of "$tmp/$name.out")
	[ -n "$link" ] && ok || { fail "$name: no link in the text part"; return; }
	rm -rf "$tmp/$name.files"; mkdir -p "$tmp/$name.files"
	if ! "$cli" -c "$conf" fetch -o "$tmp/$name.files" "$link" >"$tmp/$name.fetch" 2>&1; then
		fail "$name: fetch failed: $(cat "$tmp/$name.fetch")"; return
	fi
	python3 - "$msg" "$tmp/$name.files" <<'PY' && ok || fail "$name: fetched files differ from the attachments"
import email, email.policy, os, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
want, text = {}, set()
for part in m.walk():
    name = part.get_filename()
    if name and not part.is_multipart():
        want[os.path.basename(name)] = part.get_payload(decode=True)
        if part.get_content_maintype() == 'text':
            text.add(os.path.basename(name))
got = {n: open(os.path.join(sys.argv[2], n), 'rb').read() for n in os.listdir(sys.argv[2])}
# python hands out unencoded text with LF; in the message (and so in the file) it is CRLF
got = {n: d.replace(b'\r\n', b'\n') if n in text else d for n, d in got.items()}
assert got == want, (sorted(got), sorted(want))
PY
}
roundtrip "$msgs/01-basic-pdf.eml"
roundtrip "$msgs/36-text-attachment.eml"
roundtrip "$msgs/12-apple-inline.eml"

# winmail.dat: its files show on the page with their names and download byte for byte
# as tests/data/tnef/make_tnef.py put them in; the winmail.dat itself is there too.
python3 "$src/tests/data/tnef/make_tnef.py" "$tmp/tnef" || fail "make_tnef.py"
out=$("$cli" -c "$conf" rewrite --explain "$tmp/tnef/message.eml" 2>&1)
grep -qE '^message: 4 files to send$' <<<"$out" && ok || fail "tnef explain: $out"
grep -qE '^1\.2/2 +send +application/msword +.*"café\.doc" +inside winmail\.dat' <<<"$out" && ok ||
	fail "tnef explain: inner file: $out"
"$cli" -c "$conf" rewrite "$tmp/tnef/message.eml" >"$tmp/tnef.out" 2>"$tmp/tnef.err" || fail "tnef rewrite: $(cat "$tmp/tnef.err")"
link=$(link_of "$tmp/tnef.out")
curl -sf -o "$tmp/tnef.html" "$link" && ok || fail "tnef: landing page"
python3 - "$tmp/tnef" "$tmp/tnef.html" <<'PY' && ok || fail "tnef: the page lacks an inner file's name"
import html, sys
page = html.unescape(open(sys.argv[2], encoding='utf-8').read())
names = ['winmail.dat'] + [l.split('\t')[1] for l in open(sys.argv[1] + '/expected.tsv', encoding='utf-8').read().splitlines()]
missing = [n for n in names if n not in page]
assert not missing, missing
PY
for i in 1 2 3 4; do curl -sf -o "$tmp/tnef.$i" "$link/$i" || fail "tnef: file $i"; done
cmp -s "$tmp/tnef.1" "$tmp/tnef/winmail.dat" && ok || fail "tnef: winmail.dat differs"
for i in 1 2 3; do
	cmp -s "$tmp/tnef.$((i + 1))" "$tmp/tnef/files/$i" && ok || fail "tnef: inner file $i differs"
done
mkdir -p "$tmp/tnef.fetched"
"$cli" -c "$conf" fetch -o "$tmp/tnef.fetched" "$link" >"$tmp/tnef.fetch" 2>&1 && ok || fail "tnef fetch: $(cat "$tmp/tnef.fetch")"
python3 - "$tmp/tnef" "$tmp/tnef.fetched" <<'PY' && ok || fail "tnef: fetched files differ from what make_tnef.py put in"
import os, sys
d, got = sys.argv[1], sys.argv[2]
want = {'winmail.dat': open(d + '/winmail.dat', 'rb').read()}
for line in open(d + '/expected.tsv', encoding='utf-8').read().splitlines():
    i, name, _ = line.split('\t')
    want[name] = open(f'{d}/files/{i}', 'rb').read()
have = {n: open(os.path.join(got, n), 'rb').read() for n in os.listdir(got)}
assert have == want, (sorted(have), sorted(want))
PY

# Standard input, with LF line ends: the output is CRLF all the same.
tr -d '\r' <"$msgs/01-basic-pdf.eml" | "$cli" -c "$conf" rewrite - >"$tmp/stdin.out" 2>"$tmp/stdin.err" &&
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(b"\n" in d.replace(b"\r\n", b"") or b"X-Bestanden" not in d)' \
		"$tmp/stdin.out" && ok || fail "stdin: $(cat "$tmp/stdin.err")"

# No secrets in what the operator sees: the token is in the message, never on stderr.
! grep -q "/d/" "$tmp"/*.err && ok || fail "a link on standard error"

echo "test-rewrite: $passed passed, $failed failed"
[ "$failed" = 0 ]
