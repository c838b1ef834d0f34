# SPDX-License-Identifier: EUPL-1.2
"""End to end with a real Postfix: the sender's access code in the Subject.

A mail whose Subject carries "[code:4711-x]" arrives without the tag, the rest of
the Subject as it was sent; its manifest (read with the CLI and the link) is of
format version 2 and carries the code's hash, [recipients]' protection and the
message's outside recipients, and the milter's log line says code=yes without the
code. The tag goes also when nothing is replaced, and from an encoded Subject; a
code too long to use refuses the message.

usage: test_access_code.py BUILD_DIR
"""
import email.header
import os
import smtplib
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtools as mt  # noqa: E402
from stack import Stack  # noqa: E402

BUILD = None
SENDER = "medewerker@bestanden.test"
OUTSIDE = ["huurder@example.org", "Buur@Example.COM"]
INSIDE = "collega@bestanden.test"


def split(raw):
    """Header lines and body, LF line ends."""
    text = raw.replace(b"\r\n", b"\n")
    end = text.index(b"\n\n")
    return text[:end].split(b"\n"), text[end + 2:]


def subject_lines(raw):
    """The Subject header as delivered: its first line and any continuation lines."""
    head, _ = split(raw)
    out, inside = [], False
    for line in head:
        if line.lower().startswith(b"subject:"):
            out.append(line)
            inside = True
        elif inside and line[:1] in (b" ", b"\t"):
            out.append(line)
        else:
            inside = False
    return out


class AccessCodeEndToEnd(unittest.TestCase):
    maxDiff = 2000

    @classmethod
    def setUpClass(cls):
        protection = {"verify": "code", "receipts": "first", "max_downloads": "3"}
        cls.stack = Stack(BUILD, conf_extra={("recipients", k): v
                                             for k, v in protection.items()}).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop(keep=os.environ.get("BD_KEEP_TEST_DIR") == "1")

    def deliver(self, raw, rcpts):
        return self.stack.deliver_one(raw, SENDER, rcpts)

    def inspect(self, link):
        r = subprocess.run([self.stack.prog("cli"), "-c", self.stack.conf, "inspect", link],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_1_code_removed_and_in_the_manifest(self):
        data = b"%PDF-1.4\n" + os.urandom(30000)
        raw = mt.message(SENDER, OUTSIDE + [INSIDE], "Uw jaaropgave [code:4711-x] 2025",
                         "Beste huurder,\n\nZie bijlage.\n",
                         [("jaaropgave.pdf", "application", "pdf", data)])
        out = self.deliver(raw, OUTSIDE + [INSIDE])
        self.assertEqual(subject_lines(out), [b"Subject: Uw jaaropgave 2025"])
        self.assertNotIn(b"4711", out)
        msg = mt.parse(out)
        self.assertEqual(mt.attachments(msg), [])
        links = mt.links(msg)
        self.assertEqual(len(links), 1)
        link = links.pop()
        got = mt.fetch(self.stack.prog("cli"), self.stack.conf, link)
        self.assertEqual(list(got.values()), [data])
        lines = self.inspect(link)
        self.assertIn("format   version 2", lines)
        self.assertIn("verify   code", lines)
        self.assertIn("receipts first", lines)
        self.assertIn("limit    3 downloads per file", lines)
        self.assertIn("code     yes (only its hash is stored)", lines)
        # the outside recipients, domain in lower case; not the colleague
        self.assertEqual([l[9:] for l in lines if l.startswith("to       ")],
                         ["huurder@example.org", "Buur@example.com"])
        # stored objects hold neither an address nor the code in the clear
        objects = os.path.join(self.stack.dir, "objects")
        paths = [os.path.join(root, f) for root, _dirs, files in os.walk(objects) for f in files]
        self.assertTrue(paths)
        for path in paths:
            with open(path, "rb") as f:
                blob = f.read()
            for secret in (b"huurder@", b"Buur@", b"4711-x"):
                self.assertNotIn(secret, blob, path)
        log = self.stack.log("milter")
        line = [l for l in log.splitlines() if "action=rewritten" in l][-1]
        for kv in ("verify=code", "receipts=first", "code=yes", "recipients=2"):
            self.assertIn(kv, line)
        self.assertNotIn("4711", log)

    def test_2_nothing_to_replace_tag_still_removed(self):
        raw = mt.message(SENDER, OUTSIDE[:1], "[CODE:geheim] Afspraak  morgen", "Tot morgen.\n")
        out = self.deliver(raw, OUTSIDE[:1])
        self.assertEqual(subject_lines(out), [b"Subject: Afspraak  morgen"])
        self.assertNotIn(b"geheim", out)
        # the rest of the message as it was sent
        sent_head, sent_body = split(raw)
        got_head, got_body = split(out)
        self.assertEqual(got_body[:len(sent_body)], sent_body)
        for line in sent_head:
            if not line.lower().startswith(b"subject:"):
                self.assertIn(line, got_head)
        self.assertNotIn("geheim", self.stack.log("milter"))

    def test_3_encoded_subject(self):
        raw = mt.message(SENDER, OUTSIDE[:1], "Jaaropgave één [code:77-a]", "Zie bijlage.\n",
                         [("a.pdf", "application", "pdf", b"%PDF-1.4\n" + os.urandom(2000))])
        self.assertIn(b"=?utf-8?", raw)
        out = self.deliver(raw, OUTSIDE[:1])
        subject = mt.parse(out)["Subject"]
        self.assertEqual(str(subject), "Jaaropgave één")
        lines = self.inspect(mt.links(mt.parse(out)).pop())
        self.assertIn("code     yes (only its hash is stored)", lines)

    def test_4_unusable_code_refused(self):
        raw = mt.message(SENDER, OUTSIDE[:1], "Stukken [code:%s]" % ("x" * 70), "Hallo\n",
                         [("a.pdf", "application", "pdf", b"%PDF-1.4\n" + os.urandom(2000))])
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            self.stack.send(raw, SENDER, OUTSIDE[:1])
        self.assertEqual(cm.exception.smtp_code, 550)
        self.assertIn("access code", cm.exception.smtp_error.decode())

    def test_5_empty_code_is_no_tag(self):
        raw = mt.message(SENDER, OUTSIDE[:1], "Over [code:] codes", "Hallo\n")
        out = self.deliver(raw, OUTSIDE[:1])
        self.assertEqual(subject_lines(out), [b"Subject: Over [code:] codes"])


if __name__ == "__main__":
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
