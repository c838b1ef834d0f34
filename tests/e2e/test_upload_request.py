#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_upload_request - an upload request the mail way, end to end with real Postfix.

A staff member's mail with the subject tag goes through Postfix and the milter:
the delivered mail carries the /u/ link and no tag. An outsider uploads two
files through that link with curl; the gateway tells the requester by mail
through Postfix ([smtp]), captured by smtp-sink; the link in that mail downloads
files byte-identical to those uploaded. A mail marked by the request address
instead: the address is gone from the envelope and the link is there.

usage: test_upload_request.py BUILD_DIR
"""
import os
import re
import subprocess
import sys
import time
import unittest
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

BUILD = None
STAFF = "medewerker@bestanden.test"
TENANT = "huurder@example.org"
UPLOAD_LINK = re.compile(r"http://127\.0\.0\.1:\d+/u/[A-Za-z0-9_-]{56}")
DOWNLOAD_LINK = re.compile(r"http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_-]{56}")


def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}"] + list(args),
                       capture_output=True, check=True)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


class UploadRequestByMail(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(BUILD)
        cls.stack.conf_extra = {
            ("smtp", "host"): "127.0.0.1",
            ("smtp", "port"): str(cls.stack.ports["smtp"]),
            ("smtp", "from"): "bestanden@bestanden.test",
            ("requests", "address"): "upload@bestanden.invalid",
        }
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def new_mail(self, before):
        """The one message delivered since BEFORE (a set of paths): smtp-sink names files by
        the second, so the newest need not sort last."""
        deadline = time.time() + 60
        while time.time() < deadline:
            new = sorted(set(self.stack.delivered()) - before)
            if new:
                time.sleep(0.2)
                self.assertEqual(len(new), 1, new)
                return self.stack.parse(new[0])
            time.sleep(0.1)
        raise AssertionError("nothing delivered; postfix log:\n" + self.stack.maillog()[-3000:])

    def staff_mail(self, subject, rcpts):
        msg = EmailMessage()
        msg["From"] = STAFF
        msg["To"] = ", ".join(rcpts)
        msg["Subject"] = subject
        msg["Message-ID"] = "<%s@bestanden.test>" % os.urandom(6).hex()
        msg.set_content("Beste huurder,\n\nWil je ons de inkomensverklaring sturen via bijgaand "
                        "uploadverzoek?\n\nGroet,\nMedewerker\n")
        before = set(self.stack.delivered())
        self.stack.send(msg.as_bytes(), STAFF, rcpts, outgoing=True)
        return self.new_mail(before)

    def test_tag_upload_and_download(self):
        delivered, raw = self.staff_mail("[UploadVerzoek] Inkomensverklaring 2024", [TENANT])
        self.assertEqual(delivered["Subject"], "Inkomensverklaring 2024")
        self.assertNotIn(b"[uploadverzoek]", raw.lower())
        text = delivered.get_body(("plain",)).get_content()
        self.assertIn("Wil je ons de inkomensverklaring sturen", text)
        link = UPLOAD_LINK.search(text).group(0)
        self.assertIn(STAFF, text)  # who asks
        html = delivered.get_body(("html",))
        self.assertIsNone(html)  # a text-only mail stays text-only

        code, page = curl(link)
        self.assertEqual(code, 200)
        self.assertIn(STAFF.encode(), page)

        files = {"inkomensverklaring.pdf": os.urandom(700_000), "toelichting.txt": b"Zie pdf.\n"}
        paths = []
        for name, data in files.items():
            path = os.path.join(self.stack.dir, name)
            with open(path, "wb") as f:
                f.write(data)
            paths.append((path, name))
        before = set(self.stack.delivered())
        args = ["-F", "name=Piet Huurder"]
        for path, name in paths:
            args += ["-F", "file=@%s;filename=%s" % (path, name)]
        code, body = curl(*args, link)
        self.assertEqual(code, 200, body[:2000])
        self.assertIn(b"inkomensverklaring.pdf", body)

        notice, _ = self.new_mail(before)
        self.assertEqual(notice["To"].addresses[0].addr_spec, STAFF)
        ntext = notice.get_body(("plain",)).get_content()
        self.assertIn("Piet Huurder", ntext)
        dl = DOWNLOAD_LINK.search(ntext).group(0)
        for i, (name, data) in enumerate(files.items(), start=1):
            code, got = curl("%s/%d" % (dl, i))
            self.assertEqual(code, 200)
            self.assertEqual(got, data, name)
        # the request was for one upload
        code, _ = curl(link)
        self.assertEqual(code, 404)

    def test_request_address(self):
        before_log = self.stack.maillog()
        delivered, raw = self.staff_mail("Stukken voor de aanvraag",
                                         [TENANT, "upload@bestanden.invalid"])
        self.assertEqual(delivered["Subject"], "Stukken voor de aanvraag")
        text = delivered.get_body(("plain",)).get_content()
        self.assertIsNotNone(UPLOAD_LINK.search(text))
        time.sleep(0.5)
        log = self.stack.maillog()[len(before_log):]
        self.assertNotIn("upload@bestanden.invalid", log)  # never relayed anywhere


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
