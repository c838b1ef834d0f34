#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# test-signatures.sh - a signed message forwarded as an attachment still verifies after the
# round trip: signed here with a throwaway key (PGP/MIME with gpg, S/MIME with openssl), with
# white space after its boundary lines, attached as message/rfc822 to an outgoing mail,
# `bestanden rewrite` against a live gateway, `bestanden fetch` of the link, then
# `gpg --verify` / `openssl smime -verify` on what came back. A byte changed in the fetched
# file must make each check fail, so a check that passes means something.
# usage: test-signatures.sh BESTANDEN GATEWAY SOURCE_DIR
set -u
cli=$1 gateway=$2 src=$3
tmp=$(mktemp -d /tmp/bd-signatures-test.XXXXXX)
. "$(dirname "$0")/gateway.sh"
cleanup() {
	gateway_stop
	gpgconf --homedir "$tmp/gnupg" --kill all >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/expect.sh"
for tool in gpg gpgconf openssl python3 curl; do
	command -v "$tool" >/dev/null || { echo "test-signatures: $tool is missing (scripts/install-deps.sh test)" >&2; exit 1; }
done

crlf() { sed 's/$/\r/'; } # every line of stdin ends in CRLF

# The signed content: a multipart/mixed whose boundary lines have white space after them
# (as some mailers write them), a text and a small file. Signed bytes: all of it, CRLF.
signed_content() {
	printf '%s\n' \
		'Content-Type: multipart/mixed; boundary="inner-b"' \
		'' \
		'--inner-b  ' \
		'Content-Type: text/plain; charset=us-ascii' \
		'Content-Transfer-Encoding: 7bit' \
		'' \
		'Hierbij de offerte voor de dakrenovatie.  ' \
		'Met vriendelijke groet, Carla' \
		'--inner-b	' \
		'Content-Type: application/pdf; name="offerte.pdf"' \
		'Content-Disposition: attachment; filename="offerte.pdf"' \
		'Content-Transfer-Encoding: base64' \
		'' \
		'JVBERi0xLjQKJSVFT0YK' \
		'' \
		'--inner-b-- ' | crlf
}

# OUTER NAME FORWARDED: an outgoing mail with FORWARDED attached as NAME.eml, on stdout.
outer() {
	printf '%s\n' \
		'From: Anna de Vries <anna@woonstichting.example>' \
		'To: Bert Jansen <bert@elders.example>' \
		'Subject: Fwd: Offerte' \
		'Date: Tue, 10 Nov 2026 10:00:00 +0100' \
		'MIME-Version: 1.0' \
		'Content-Type: multipart/mixed; boundary="outer-b"' \
		'' \
		'--outer-b ' \
		'Content-Type: text/plain; charset=us-ascii' \
		'' \
		'Hallo Bert, zie de doorgestuurde offerte.' \
		'' \
		'--outer-b' \
		'Content-Type: message/rfc822' \
		"Content-Disposition: attachment; filename=\"$1.eml\"" \
		'' | crlf
	cat "$2"
	printf '\r\n--outer-b-- \r\n'
}

# --- PGP/MIME: a throwaway key, a detached armoured signature, multipart/signed around it
export GNUPGHOME=$tmp/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key \
	'Carla <carla@elders.example>' ed25519 sign 1d >/dev/null 2>&1 ||
	{ echo "test-signatures: gpg could not make a key" >&2; exit 1; }
signed_content >"$tmp/pgp.content"
gpg --batch --armor --detach-sign --digest-algo SHA256 -o "$tmp/pgp.asc" "$tmp/pgp.content" 2>/dev/null ||
	{ echo "test-signatures: gpg could not sign" >&2; exit 1; }
{
	printf '%s\n' \
		'From: Carla <carla@elders.example>' \
		'To: Anna de Vries <anna@woonstichting.example>' \
		'Subject: Offerte dakrenovatie' \
		'Date: Mon, 09 Nov 2026 09:00:00 +0100' \
		'MIME-Version: 1.0' \
		'Content-Type: multipart/signed; micalg=pgp-sha256;' \
		' protocol="application/pgp-signature"; boundary="sig-b"' \
		'' \
		'--sig-b   ' | crlf
	cat "$tmp/pgp.content"
	printf '\r\n--sig-b \t\r\n'
	printf '%s\n' 'Content-Type: application/pgp-signature; name="signature.asc"' '' | crlf
	crlf <"$tmp/pgp.asc"
	printf '\r\n--sig-b--  \r\n'
} >"$tmp/pgp.eml"

# --- S/MIME: a throwaway self-signed certificate, openssl's own multipart/signed
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
	-subj '/CN=Carla/emailAddress=carla@elders.example' -days 2 >/dev/null 2>&1 ||
	{ echo "test-signatures: openssl could not make a certificate" >&2; exit 1; }
signed_content >"$tmp/smime.content"
openssl smime -sign -binary -crlfeol -in "$tmp/smime.content" -signer "$tmp/cert.pem" \
	-inkey "$tmp/key.pem" -from 'carla@elders.example' -to 'anna@woonstichting.example' \
	-subject 'Offerte dakrenovatie' -out "$tmp/smime.signed" 2>/dev/null ||
	{ echo "test-signatures: openssl could not sign" >&2; exit 1; }
# white space after openssl's boundary lines too: a signature must not depend on it; and
# CRLF throughout, as in mail (openssl ends the lines of the signature's base64 with LF)
python3 - "$tmp/smime.signed" "$tmp/smime.eml" <<'PY'
import re, sys
data = re.sub(rb'(?<!\r)\n', b'\r\n', open(sys.argv[1], 'rb').read())
b = re.search(rb'boundary="([^"]+)"', data).group(1)
data = data.replace(b'\r\n--' + b + b'\r\n', b'\r\n--' + b + b'  \r\n')
open(sys.argv[2], 'wb').write(data)
PY

verify_pgp() { # FILE: gpg --verify its signed part against its signature part
	python3 - "$1" "$tmp/check.content" "$tmp/check.asc" <<'PY' || return 1
import re, sys
data = open(sys.argv[1], 'rb').read()
b = re.search(rb'boundary="([^"]+)"', data).group(1)
delim = re.compile(rb'(?:^|\r\n)--' + re.escape(b) + rb'(--)?[ \t]*\r\n')
cuts = list(delim.finditer(data))
signed = data[cuts[0].end():cuts[1].start()]
sig = data[cuts[1].end():cuts[2].start()].split(b'\r\n\r\n', 1)[1]
open(sys.argv[2], 'wb').write(signed)
open(sys.argv[3], 'wb').write(sig)
PY
	gpg --batch --status-fd 1 --verify "$tmp/check.asc" "$tmp/check.content" 2>/dev/null >"$tmp/check.status"
	grep -q '^\[GNUPG:\] GOODSIG' "$tmp/check.status" && ! grep -q '^\[GNUPG:\] BADSIG' "$tmp/check.status"
}
verify_smime() { # FILE
	openssl smime -verify -in "$1" -CAfile "$tmp/cert.pem" -purpose any -out /dev/null >/dev/null 2>&1
}
tamper() { # FILE OUT: the first "Hierbij" made "hierbij"
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(d.replace(b"Hierbij", b"hierbij", 1))' "$1" "$2"
}
# the signatures hold as made, and a changed byte breaks them
verify_pgp "$tmp/pgp.eml" && ok || fail "pgp: the freshly signed message does not verify"
verify_smime "$tmp/smime.eml" && ok || fail "smime: the freshly signed message does not verify"
tamper "$tmp/pgp.eml" "$tmp/pgp.bad"
tamper "$tmp/smime.eml" "$tmp/smime.bad"
! verify_pgp "$tmp/pgp.bad" && ok || fail "pgp: a changed message verifies"
! verify_smime "$tmp/smime.bad" && ok || fail "smime: a changed message verifies"

# --- the gateway and the round trip
gateway_conf "$cli" "$tmp" "$src"
gateway_start "$gateway" || { echo "gateway did not start: $(tail "$tmp/gateway.log")" >&2; exit 1; }

roundtrip() { # KIND VERIFY: forward KIND.eml, rewrite, fetch; the file must verify
	local kind=$1 check=$2 link
	outer "$kind" "$tmp/$kind.eml" >"$tmp/$kind.mail"
	if ! "$cli" -c "$conf" rewrite "$tmp/$kind.mail" >"$tmp/$kind.out" 2>"$tmp/$kind.err"; then
		fail "$kind: rewrite failed: $(cat "$tmp/$kind.err")"; return
	fi
	link=$(python3 -c 'import email, re, sys
for p in email.message_from_binary_file(open(sys.argv[1], "rb")).walk():
    t = p.get_payload(decode=True) if p.get_content_type() == "text/plain" else None
    f = re.search(rb"<(http://[^>]+/d/[A-Za-z0-9_-]+)>", t or b"")
    if f:
        print(f.group(1).decode()); break' "$tmp/$kind.out")
	[ -n "$link" ] || { fail "$kind: no link in the rewritten mail"; return; }
	mkdir -p "$tmp/$kind.files"
	if ! "$cli" -c "$conf" fetch -o "$tmp/$kind.files" "$link" >"$tmp/$kind.fetch" 2>&1; then
		fail "$kind: fetch failed: $(cat "$tmp/$kind.fetch")"; return
	fi
	cmp -s "$tmp/$kind.files/$kind.eml" "$tmp/$kind.eml" && ok ||
		fail "$kind: the fetched .eml is not the forwarded message byte for byte"
	"$check" "$tmp/$kind.files/$kind.eml" && ok || fail "$kind: BAD signature after the round trip"
	tamper "$tmp/$kind.files/$kind.eml" "$tmp/$kind.bad"
	! "$check" "$tmp/$kind.bad" && ok || fail "$kind: a changed download verifies"
}
roundtrip pgp verify_pgp
roundtrip smime verify_smime

echo "test-signatures: $passed passed, $failed failed"
[ "$failed" = 0 ]
