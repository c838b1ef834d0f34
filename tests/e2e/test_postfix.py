# SPDX-License-Identifier: EUPL-1.2
"""End to end with a real Postfix: outgoing mail loses its attachments and
gains a working link; inbound and internal mail pass unchanged; with storage
down nothing is lost; a 25 MiB attachment; 50 concurrent SMTP sessions.

usage: test_postfix.py BUILD_DIR
"""
import concurrent.futures
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtools as mt  # noqa: E402
from stack import SRC, Stack, free_port  # noqa: E402

BUILD = None
SENDER = "medewerker@bestanden.test"
OUTSIDE = "huurder@example.org"


class PostfixEndToEnd(unittest.TestCase):
    maxDiff = 2000
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BUILD).start()
        cls.seen = 0

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop(keep=os.environ.get("BD_KEEP_TEST_DIR") == "1")

    def deliver(self, raw, rcpts, outgoing=True, sender=SENDER):
        """Send RAW and return the bytes of the message it became at the sink."""
        before = set(self.stack.delivered())
        self.stack.send(raw, sender, rcpts, outgoing=outgoing)
        type(self).seen += 1
        return self.new_delivery(before)

    def new_delivery(self, before, timeout=60):
        # smtp-sink names files by second and a random id: find the new one, not the last name
        files = self.stack.wait_delivered(self.seen, timeout=timeout)
        new = [f for f in files if f not in before]
        self.assertEqual(len(new), 1, "expected one new delivery, got %r" % new)
        with open(new[0], "rb") as f:
            return f.read()

    def check_rewritten(self, raw_out, originals):
        msg = mt.parse(raw_out)
        self.assertEqual(mt.attachments(msg), [], "attachments still in the delivered message")
        self.assertTrue(mt.is_7bit(raw_out), "the delivered message is not 7-bit clean")
        self.assertIn("X-Bestanden", msg)
        links = mt.links(msg)
        self.assertEqual(len(links), 1, "expected one link, found %r" % links)
        got = mt.fetch(self.stack.prog("cli"), self.stack.conf, links.pop())
        self.assertEqual(sorted(mt.sha(v) for v in got.values()),
                         sorted(mt.sha(v) for _, v in originals))
        for p in mt.text_parts(msg):
            self.assertIn("/d/", p.get_content())
        return msg

    def test_1_outgoing_rewritten(self):
        pdf = b"%PDF-1.4\n" + os.urandom(300000)
        png = b"\x89PNG\r\n\x1a\n" + os.urandom(50000)
        atts = [("jaaropgave 2026.pdf", "application", "pdf", pdf),
                ("foto.png", "image", "png", png)]
        raw = mt.message(SENDER, [OUTSIDE], "Uw jaaropgave", "Beste huurder,\n\nZie bijlage.\n",
                         atts, html="<html><body><p>Beste huurder,</p></body></html>")
        out = self.deliver(raw, [OUTSIDE])
        self.check_rewritten(out, [(n, d) for n, _, _, d in atts])
        self.assertIn("action=rewritten", self.stack.log("milter"))

    def test_2_inbound_unchanged(self):
        data = os.urandom(40000)
        raw = mt.message(OUTSIDE, [SENDER], "Inkomend", "Hallo\n", [("scan.pdf", "application", "pdf", data)])
        msg = mt.parse(self.deliver(raw, [SENDER], outgoing=False, sender=OUTSIDE))
        self.assertEqual(mt.attachments(msg), [("scan.pdf", data)])
        self.assertNotIn("X-Bestanden", msg)
        self.assertIn("direction=inbound action=unchanged", self.stack.log("milter"))

    def test_3_internal_only_unchanged(self):
        data = os.urandom(1000)
        raw = mt.message(SENDER, ["collega@bestanden.test"], "Intern", "Hoi\n",
                         [("notitie.txt", "text", "plain", data.hex().encode())])
        msg = mt.parse(self.deliver(raw, ["collega@bestanden.test"]))
        self.assertEqual(len(mt.attachments(msg)), 1)
        self.assertNotIn("X-Bestanden", msg)
        self.assertIn("reason=all-recipients-internal", self.stack.log("milter"))

    def test_4_large_attachment(self):
        big = os.urandom(25 * 1024 * 1024)
        raw = mt.message(SENDER, [OUTSIDE], "Groot bestand", "Zie bijlage\n",
                         [("groot.bin", "application", "octet-stream", big)])
        self.check_rewritten(self.deliver(raw, [OUTSIDE]), [("groot.bin", big)])

    def test_5_concurrent_sessions(self):
        n = 50
        payloads = [os.urandom(20000 + i) for i in range(n)]

        def one(i):
            raw = mt.message(SENDER, [OUTSIDE], "Bericht %d" % i, "Nummer %d\n" % i,
                             [("bestand-%d.bin" % i, "application", "octet-stream", payloads[i])])
            self.stack.send(raw, SENDER, [OUTSIDE])
            return i

        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            done = list(pool.map(one, range(n)))
        self.assertEqual(len(done), n)
        type(self).seen += n
        files = self.stack.wait_delivered(self.seen, timeout=180)
        by_subject = {}
        for path in files:
            with open(path, "rb") as f:
                raw = f.read()
            by_subject[mt.parse(raw)["Subject"]] = raw
        self.assertEqual(len([k for k in by_subject if k.startswith("Bericht ")]), n)
        for i in range(n):
            self.check_rewritten(by_subject["Bericht %d" % i], [("x", payloads[i])])

    def test_6_storage_down_nothing_lost(self):
        """A front MTA relays to ours; with storage down ours answers 4xx, the
        front keeps the mail queued; when storage is back it is delivered rewritten."""
        front = os.path.join(self.stack.dir, "front")
        fport, fsub = free_port(), free_port()
        script = os.path.join(SRC, "tests", "postfix", "postfix-instance.sh")
        subprocess.run([script, "start", front, str(fport), str(fsub),
                        str(self.stack.ports["submission"]), "none"], check=True)
        gateway_down = False
        try:
            self.stack.stop_gateway()
            gateway_down = True
            before = set(self.stack.delivered())
            data = os.urandom(70000)
            raw = mt.message(SENDER, [OUTSIDE], "Terwijl opslag weg is", "Zie bijlage\n",
                             [("contract.pdf", "application", "pdf", data)])
            import smtplib
            with smtplib.SMTP("127.0.0.1", fport, timeout=60) as s:
                s.sendmail(SENDER, [OUTSIDE], raw)
            # the front MTA tries, gets 4xx, keeps it queued
            deadline = time.time() + 120
            queue = ""
            while time.time() < deadline:
                queue = subprocess.run(["postqueue", "-c", os.path.join(front, "etc"), "-p"],
                                       capture_output=True, text=True).stdout
                if "4.3.0" in queue:
                    break
                time.sleep(0.5)
            with open(os.path.join(front, "maillog"), errors="replace") as f:
                front_log = f.read()
            self.assertIn("4.3.0", queue, "the front MTA did not get a 4xx: %s\n--- front maillog:\n%s\n"
                          "--- our maillog:\n%s\n--- milter log:\n%s" %
                          (queue, front_log[-3000:], self.stack.maillog()[-3000:],
                           self.stack.log("milter")[-3000:]))
            self.assertEqual(len(self.stack.delivered()), self.seen, "something was delivered")
            self.assertIn("action=tempfail", self.stack.log("milter"))
            # storage back: the queued mail goes through, rewritten
            self.stack.start_gateway()
            gateway_down = False
            subprocess.run(["postqueue", "-c", os.path.join(front, "etc"), "-f"], check=True)
            type(self).seen += 1
            self.check_rewritten(self.new_delivery(before, timeout=90), [("contract.pdf", data)])
        finally:
            subprocess.run([script, "stop", front])
            if gateway_down:
                self.stack.start_gateway()

    def test_7_revoke(self):
        data = os.urandom(5000)
        raw = mt.message(SENDER, [OUTSIDE], "Verkeerde ontvanger", "Zie bijlage\n",
                         [("persoonlijk.pdf", "application", "pdf", data)])
        delivered = self.deliver(raw, [OUTSIDE])
        msg = self.check_rewritten(delivered, [("persoonlijk.pdf", data)])
        link = mt.links(msg).pop()
        package = msg["X-Bestanden"].split("package=")[1].split(";")[0].strip()
        cli, conf = self.stack.prog("cli"), self.stack.conf
        # an administrator with the delivered mail instead of the link
        eml = os.path.join(self.stack.dir, "delivered.eml")
        with open(eml, "wb") as f:
            f.write(delivered)
        r = subprocess.run([cli, "-c", conf, "inspect", eml], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("package  %s" % package, r.stdout)
        self.assertIn("persoonlijk.pdf", r.stdout)
        r = subprocess.run([cli, "-c", conf, "revoke", link], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("package %s revoked" % package, r.stdout)
        self.assertIn("1 file object deleted", r.stdout)
        r = subprocess.run([cli, "-c", conf, "fetch", "-o", self.stack.dir, link], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("link not valid", r.stderr)
        objects = os.path.join(self.stack.dir, "objects")
        leftover = [os.path.join(root, f) for root, _dirs, files in os.walk(objects)
                    for f in files if package in os.path.join(root, f)]
        self.assertEqual(leftover, [])
        # again, by package id: nothing left, still fine
        r = subprocess.run([cli, "-c", conf, "revoke", package], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 file objects deleted", r.stdout)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
