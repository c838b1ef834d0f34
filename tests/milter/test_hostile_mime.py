#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""bestanden-milter against messages built to exhaust it, over the milter protocol.

With the shipped policy (max_parts = 10000, max_depth = 100, malformed = reject):
- 10 000 attachments in one multipart (10 001 parts): over max_parts, so malformed; it carries
  files, so it is rejected (5.6.0) with a log line naming the cap; never passed on.
- 5 000 parts, one of them an attachment: within the caps, so the attachment is replaced by a
  link and the other parts stay.
- 200 multiparts nested, an attachment at the bottom: deeper than max_depth, rejected the same way.
- 200 multiparts nested, only text: malformed but no file in it, passed on unchanged (logged).
The filter process stays up and its peak resident memory (VmHWM) stays under a bound.

usage: test_hostile_mime.py BUILD_DIR
"""
import os
import re
import sys
import time
import unittest

for d in ("milter", "e2e"):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), d))
from stack import Stack  # noqa: E402
import milterclient  # noqa: E402

BUILD = None
PEAK_MB = 300  # the filter's peak resident memory, over every case (ASan: five times that)


def head(boundary):
    return ("From: medewerker@bestanden.test\r\nTo: klant@example.org\r\nSubject: stukken\r\n"
            "Message-ID: <%s@bestanden.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n" % (boundary, boundary))


def attachment(i):
    return ("Content-Type: application/octet-stream\r\n"
            "Content-Disposition: attachment; filename=\"bijlage-%05d.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nYmVzdGFuZGVuIHRlc3QgJTA1ZA==\r\n" % i)


def text(i):
    return "Content-Type: text/plain; charset=utf-8\r\n\r\nregel %d\r\n" % i


def flat(parts):
    b = "flat-boundary"
    return (head(b) + "".join("--%s\r\n%s" % (b, p) for p in parts) + "--%s--\r\n" % b).encode()


def nested(depth, leaf):
    """DEPTH multiparts, each inside the one before, LEAF in the innermost."""
    body = leaf
    for level in range(depth - 1, 0, -1):
        b = "nest-%03d" % level
        body = ("Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n%s--%s--\r\n"
                % (b, b, body, b))
    return (head("nest-top") + "--nest-top\r\n" + body + "--nest-top--\r\n").encode()


class HostileMime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BUILD, with_postfix=False).start()
        cls.port = cls.stack.ports["milter"]
        cls.figures = {}
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            cls.peak_kb = PEAK_MB * 1024 * (5 if "BD_SANITIZE:BOOL=ON" in f.read() else 1)

    @classmethod
    def tearDownClass(cls):
        for k, v in sorted(cls.figures.items()):
            print("figure %s = %s" % (k, v))
        cls.stack.stop()

    def filter_pid(self):
        sup = self.stack.procs["milter"].pid
        with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
            return int(f.read().split()[0])

    def memory_kb(self, field):
        with open("/proc/%d/status" % self.filter_pid()) as f:
            return int(re.search(r"^%s:\s+(\d+)" % field, f.read(), re.M).group(1))

    def run_message(self, name, raw):
        pid = self.filter_pid()
        start = time.time()
        res, _ = milterclient.send_message(
            "127.0.0.1", self.port, raw, "<medewerker@bestanden.test>", ["<klant@example.org>"],
            mail_macros={"{auth_authen}": "jan", "{auth_type}": "PLAIN"})
        self.figures[name] = "%s, %d bytes, %.1f s, filter VmHWM %d KB" % (
            res.verdict, len(raw), time.time() - start, self.memory_kb("VmHWM"))
        self.assertEqual(self.filter_pid(), pid, "%s: the filter process was restarted" % name)
        self.assertLess(self.memory_kb("VmHWM"), self.peak_kb, name)
        return res

    def assertRefused(self, res, cap):
        self.assertEqual(res.verdict, "reject", res.reply)
        self.assertRegex(res.reply or "", r"^5\d\d 5\.6\.0 ")
        self.assertIsNone(res.body, "a refused message got a body")
        deadline = time.time() + 10
        while cap not in self.stack.log("milter") and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn(cap, self.stack.log("milter"))

    def test_a_ten_thousand_attachments_are_refused(self):
        res = self.run_message("parts_10000", flat([attachment(i) for i in range(10_000)]))
        self.assertRefused(res, "more MIME parts than max_parts")

    def test_b_five_thousand_parts_within_the_caps(self):
        parts = [text(i) for i in range(4_999)] + [attachment(1)]
        res = self.run_message("parts_5000", flat(parts))
        self.assertEqual(res.verdict, "continue", res.reply)
        self.assertIsNotNone(res.body, "the attachment was not replaced")
        self.assertNotIn(b"YmVzdGFuZGVuIHRlc3QgJTA1ZA==", res.body)
        self.assertNotIn(b"Content-Disposition: attachment", res.body)
        self.assertIn(b"/d/", res.body)
        for i in range(4_999):
            self.assertIn(b"\r\nregel %d\r\n" % i, res.body)
        # every inline text part gets the notice: the body grows, boundedly (max_parts)
        self.figures["parts_5000_body"] = "%d bytes in, %d out, %d notices" % (
            len(flat(parts)), len(res.body), res.body.count(b"Bijlage bij dit bericht"))

    def test_c_two_hundred_deep_with_a_file_is_refused(self):
        res = self.run_message("depth_200_file", nested(200, attachment(1)))
        self.assertRefused(res, "nested deeper than max_depth")

    def test_d_two_hundred_deep_text_only_passes_unchanged(self):
        res = self.run_message("depth_200_text", nested(200, text(1)))
        self.assertEqual(res.verdict, "continue", res.reply)
        self.assertIsNone(res.body, "a message without files was changed")


if __name__ == "__main__":
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
