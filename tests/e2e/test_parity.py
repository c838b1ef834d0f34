# SPDX-License-Identifier: EUPL-1.2
"""The milter through a real Postfix gives what `bestanden rewrite` gives.

Every message of tests/data/messages (those without a .conf or .env of their own)
and a sample of ../shared/corpus is sent through Postfix and the milter, and the
delivered bytes are compared with `bestanden rewrite` of the same bytes. Link
tokens, package ids, generated boundaries, the notice's expiry date and the
headers Postfix and smtp-sink add or drop (Received, Return-Path, ...) and the order
of headers of different names are set aside; everything else must be equal:
the headers the milter writes (with their space after the colon), the headers it
removes, the body. A message the CLI refuses must be refused by the milter with
550 5.6.0.

usage: test_parity.py BUILD_DIR
"""
import email
import email.policy
import glob
import os
import re
import smtplib
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import SRC, Stack  # noqa: E402

BUILD = None
SENDER = "medewerker@bestanden.test"
OUTSIDE = "huurder@example.org"
CORPUS_SAMPLE = 20
# headers that Postfix or smtp-sink add on the way
ADDED = {b"received", b"x-client-addr", b"x-client-proto", b"x-helo-args", b"x-mail-args",
         b"x-rcpt-args", b"return-path", b"x-original-to", b"delivered-to", b"message-id",
         b"date", b"x-mailbox-line",
         # Postfix qualifies bare local addresses, and adds a From if there is none
         b"from", b"to", b"cc", b"sender"}


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def messages():
    out = []
    for eml in sorted(glob.glob(os.path.join(SRC, "tests", "data", "messages", "*.eml"))):
        base = eml[:-4]
        if not os.path.exists(base + ".conf") and not os.path.exists(base + ".env"):
            out.append(eml)
    corpus = sorted(f for f in glob.glob(os.path.join(SRC, "..", "shared", "corpus", "*", "*"))
                    if os.path.isfile(f))
    step = max(1, len(corpus) // CORPUS_SAMPLE)
    return out + corpus[::step][:CORPUS_SAMPLE]


def split(raw):
    """Header lines (unfolded, name lower-cased) and the body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + b"\r\n" + line)
        elif b":" in line and not line.startswith(b"From "):  # Postfix: X-Mailbox-Line
            name, value = line.split(b":", 1)
            lines.append((name.strip().lower(), value))
    return lines, body


def normalise(data):
    data = re.sub(rb"/d/[A-Za-z0-9_-]{20,}", b"/d/TOKEN", data)
    data = re.sub(rb"package=[0-9a-f]{16,}", b"package=ID", data)
    # boundaries gmime made for a new multipart/mixed are random: number them
    bounds = []
    for b in re.findall(rb'boundary="?([^";\r\n]+)"?', data):
        if b not in bounds:
            bounds.append(b)
    for i, b in enumerate(bounds):
        data = data.replace(b, b"BOUNDARY%d" % i)
    # the expiry date in the notice may differ by a second
    data = re.sub(rb"\d{1,2}:\d{2}(:\d{2})?", b"HH:MM", data)
    return data


def parts(raw):
    """Every part below the top: its headers and decoded content, normalised."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = []
    for part in list(msg.walk())[1:]:
        head = sorted((k.lower(), normalise(str(v).encode("utf-8", "replace")))
                      for k, v in part.items())
        body = b"" if part.is_multipart() else (part.get_payload(decode=True) or b"")
        out.append((head, normalise(body).rstrip(b"\r\n")))
    return out


class Parity(unittest.TestCase):
    maxDiff = 1500

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BUILD).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop(keep=os.environ.get("BD_KEEP_TEST_DIR") == "1")

    def cli(self, path):
        r = subprocess.run([self.stack.prog("cli"), "-c", self.stack.conf, "rewrite", "--sender",
                            SENDER, "--recipient", OUTSIDE, path], capture_output=True)
        return r.returncode, r.stdout, r.stderr.decode(errors="replace")

    def milter(self, raw):
        before = set(self.stack.delivered())
        try:
            self.stack.send(raw, SENDER, [OUTSIDE])
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error
        except smtplib.SMTPResponseException as e:
            return e.smtp_code, e.smtp_error
        self.stack.wait_delivered(len(before) + 1, timeout=60)
        new = [f for f in self.stack.delivered() if f not in before]
        self.assertEqual(len(new), 1)
        with open(new[0], "rb") as f:
            return 250, crlf(f.read())  # smtp-sink writes LF

    def compare(self, name, want, got):
        """Headers: the same set, each name's copies in the same order (the milter changes
        a header where it stands, gmime writes a changed one at the end); then every part:
        its headers and its decoded content (links in quoted-printable or base64)."""
        wh, _ = split(want)
        gh, _ = split(got)
        wh = sorted((n, normalise(v)) for n, v in wh if n not in ADDED)
        gh = sorted((n, normalise(v)) for n, v in gh if n not in ADDED)
        self.assertEqual(gh, wh, "%s: headers differ" % name)
        try:
            wp, gp = parts(want), parts(got)
        except RecursionError:  # a nesting bomb, passed on as it came
            wp, gp = [normalise(want.partition(b"\r\n\r\n")[2]).rstrip(b"\r\n")], \
                     [normalise(got.partition(b"\r\n\r\n")[2]).rstrip(b"\r\n")]
        self.assertEqual(len(gp), len(wp), "%s: number of parts" % name)
        for i, (w, g) in enumerate(zip(wp, gp)):
            self.assertEqual(g, w, "%s: part %d differs" % (name, i + 1))

    def test_parity(self):
        tmp = os.path.join(self.stack.dir, "in.eml")
        compared = refused = 0
        for path in messages():
            name = os.path.relpath(path, os.path.join(SRC, ".."))
            with open(path, "rb") as f:
                raw = crlf(f.read())
            if not raw.endswith(b"\r\n"):
                raw += b"\r\n"
            with open(tmp, "wb") as f:
                f.write(raw)
            rc, want, err = self.cli(tmp)
            code, got = self.milter(raw)
            with self.subTest(message=name):
                if "the milter would reject" in err:
                    self.assertEqual(code, 550, "%s: the CLI refuses, the milter said %r" %
                                     (name, got))
                    self.assertIn(b"5.6.0", got)
                    refused += 1
                    continue
                if rc != 0:
                    self.assertNotEqual(code, 250, "%s: the CLI failed (%s), the milter "
                                        "delivered" % (name, err))
                    continue
                self.assertEqual(code, 250, "%s: refused by the milter: %r" % (name, got))
                self.compare(name, want, got)
                compared += 1
        print("parity: %d messages compared, %d refused by both" % (compared, refused))
        self.assertGreater(compared, 40)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
