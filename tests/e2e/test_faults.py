#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_faults - what breaks around bestanden, counted, with a real Postfix.

One stack (tests/e2e/stack.py): Postfix, the milter, the gateway with its embedded store on
a small tmpfs, and a fault-injecting proxy (faultproxy.py) between the milter and the
gateway's object API. Each case breaks one thing, sends messages through Postfix's
submission port, then mends it and sends again what was refused:

  storage down; storage slower than [storage] timeout; storage answering 500 and 503;
  the connection dropped in the middle of an upload; the embedded store's disk full;
  the milter's filter process killed with SIGKILL mid-message; the gateway restarted
  during a download (the client resumes with Range and gets the right bytes); storage
  going down as a manifest is stored, so that the milter's delete of the package it gave
  up on fails too (queued in pending-deletes and deleted by the retry once storage is back).

The sending side plays the part of a queueing MTA: a message refused with a 4xx is kept
and sent again once the fault has ended; a 5xx fails the test. Expected for every case,
and counted: every message delivered exactly once, rewritten, every link opens with the
sent bytes; nothing refused permanently; storage (listed) holds exactly the packages of
delivered messages - no orphan objects.

usage: test_faults.py BUILD_DIR   (needs root: it mounts a tmpfs)
"""
import base64
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtools as mt  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from stack import Stack  # noqa: E402

BUILD = None
SENDER = "medewerker@bestanden.test"
OUTSIDE = "huurder@example.org"
TMPFS_BYTES = 48 * 1024 * 1024


def package_of(link):
    """The package id (16 hex digits) a link's token names (docs/FORMAT.md: bytes 6..13)."""
    token = link.rsplit("/d/", 1)[1]
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[6:14].hex()


class Faults(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BUILD, with_postfix=True)
        cls.fs = os.path.join(cls.stack.dir, "fs")
        os.makedirs(cls.fs)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % TMPFS_BYTES, "tmpfs", cls.fs],
                       check=True)
        data_dir = os.path.join(cls.fs, "objects")
        os.makedirs(data_dir)
        cls.proxy = FaultProxy(cls.stack.ports["gateway"]).start()
        cls.stack.conf_extra = {
            ("gateway", "data_dir"): data_dir,
            ("storage", "url"): cls.proxy.url,
            ("storage", "timeout"): "2s",
            ("storage", "retries"): "1",
            ("milter", "timeout"): "20s",
        }
        cls.sent = {}       # subject -> [(name, bytes)]
        cls.refused = []    # (subject, raw) waiting to be sent again
        cls.counts = {"sent": 0, "accepted": 0, "tempfailed": 0}
        cls.orphans_left = set()  # known: see test_2b
        cls.slow_orphans = None
        try:
            cls.stack.start()
        except BaseException:
            cls.proxy.stop()
            subprocess.run(["umount", cls.fs])
            raise

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        keep = os.environ.get("BD_KEEP_TEST_DIR") == "1"
        try:
            cls.stack.stop(keep=True)
        finally:
            subprocess.run(["umount", cls.fs])
            if not keep:
                shutil.rmtree(cls.stack.dir, ignore_errors=True)
        print("faults: %(sent)d sent, %(accepted)d accepted, %(tempfailed)d refused with 4xx "
              "and sent again" % cls.counts, file=sys.stderr)

    # ---- sending, as a queueing MTA would ----

    def message(self, what, size=20_000):
        n = len(self.sent) + 1
        subject = "Storing %d: %s" % (n, what)
        atts = [("bijlage-%d.bin" % n, os.urandom(size))]
        self.sent[subject] = atts
        return subject, mt.message(SENDER, [OUTSIDE], subject, "Beste huurder,\n\nZie bijlage.\n",
                                   [(name, "application", "octet-stream", data)
                                    for name, data in atts])

    def submit(self, subject, raw):
        """One SMTP attempt: True accepted, False refused with 4xx (kept); a 5xx fails."""
        self.counts["sent"] += 1
        try:
            self.stack.send(raw, SENDER, [OUTSIDE])
        except smtplib.SMTPResponseException as e:
            self.assertTrue(400 <= e.smtp_code < 500, "%s: refused permanently: %d %s" %
                            (subject, e.smtp_code, e.smtp_error))
            self.counts["tempfailed"] += 1
            self.refused.append((subject, raw))
            return False
        except smtplib.SMTPRecipientsRefused as e:
            codes = [c for c, _ in e.recipients.values()]
            self.assertTrue(all(400 <= c < 500 for c in codes), "%s: %r" % (subject, e.recipients))
            self.counts["tempfailed"] += 1
            self.refused.append((subject, raw))
            return False
        self.counts["accepted"] += 1
        return True

    def send_during_fault(self, what, count=2, size=20_000):
        for _ in range(count):
            subject, raw = self.message(what, size)
            self.assertFalse(self.submit(subject, raw), "%s was accepted during the fault" % subject)

    def mend_and_check(self, orphans_ok=False):
        """The fault has ended: send again what was refused, then check everything."""
        self.proxy.heal()
        tries = 0
        while self.refused and tries < 20:
            subject, raw = self.refused.pop(0)
            if not self.submit(subject, raw):
                tries += 1
                time.sleep(0.5)
        self.assertEqual(self.refused, [], "still refused after the fault ended")
        return self.check_delivered(orphans_ok)

    def check_delivered(self, orphans_ok=False):
        """Checks the deliveries and storage; returns the orphans left (ORPHANS_OK: packages
        without a manifest may stay, to be counted by the caller)."""
        files = self.stack.wait_delivered(len(self.sent), timeout=90)
        seen = {}
        packages = set()
        for path in files:
            msg, raw = Stack.parse(path)
            subject = str(msg["Subject"])
            seen[subject] = seen.get(subject, 0) + 1
            if seen[subject] > 1:
                continue
            self.assertIn("X-Bestanden", msg, subject)
            self.assertEqual(mt.attachments(msg), [], "%s: attachments left" % subject)
            links = mt.links(msg)
            self.assertEqual(len(links), 1, "%s: %r" % (subject, links))
            link = links.pop()
            packages.add(package_of(link))
            if not getattr(self, "checked", set()).issuperset({subject}):
                got = mt.fetch(self.stack.prog("cli"), self.stack.conf, link)
                self.assertEqual(sorted(mt.sha(v) for v in got.values()),
                                 sorted(mt.sha(d) for _, d in self.sent[subject]), subject)
                type(self).checked = getattr(self, "checked", set()) | {subject}
        self.assertEqual(seen, {s: 1 for s in self.sent}, "each message exactly once")
        stored = {}
        for name in self.stack.objects():
            pkg, _, index = name.partition("/")
            stored.setdefault(pkg, set()).add(index)
        orphans = {pkg for pkg, indexes in stored.items() if "0" not in indexes}
        type(self).orphans_left |= orphans if orphans_ok else set()
        self.assertEqual(set(stored) - type(self).orphans_left, packages,
                         "storage holds exactly the delivered packages")
        self.assertFalse(orphans & packages)
        return orphans

    # ---- the faults ----

    def test_1_storage_down(self):
        self.proxy.mode = "refuse"
        self.send_during_fault("storage down")
        self.assertGreater(self.proxy.faults, 0)
        self.mend_and_check()

    def test_2_storage_slower_than_its_timeout(self):
        self.proxy.delay = 4  # [storage] timeout is 2s
        self.send_during_fault("storage slow", count=1)
        # An upload whose answer came too late may still have landed; what it left has
        # no manifest, so no link to it was ever handed out (test_2b counts it).
        type(self).slow_orphans = self.mend_and_check(orphans_ok=True)

    def test_2b_slow_storage_leaves_no_orphan(self):
        """An upload whose answer came too late has landed all the same: the failed rewrite
        deletes every object it tried to store, not only those storage confirmed."""
        self.assertIsNotNone(self.slow_orphans)
        self.assertEqual(self.slow_orphans, set())

    def test_3_storage_answers_500_and_503(self):
        for status in (500, 503):
            self.proxy.mode, self.proxy.status = "status", status
            self.send_during_fault("storage %d" % status, count=1)
            self.proxy.heal()
        self.mend_and_check()

    def test_4_connection_dropped_in_an_upload(self):
        self.proxy.mode, self.proxy.drop_after = "drop", 50_000
        before = self.proxy.faults
        self.send_during_fault("upload cut off", count=1, size=400_000)
        self.assertGreater(self.proxy.faults, before)
        self.mend_and_check()

    def test_5_disk_full(self):
        st = os.statvfs(self.fs)
        filler = os.path.join(self.fs, "filler")
        with open(filler, "wb") as f:
            left = st.f_bavail * st.f_frsize - 100_000
            while left > 0:
                n = min(left, 1 << 20)
                f.write(b"\0" * n)
                left -= n
        try:
            self.send_during_fault("disk full", count=1, size=600_000)
            self.assertIn("status=507", self.stack.log("gateway"))
        finally:
            os.unlink(filler)
        self.mend_and_check()

    def filter_pid(self):
        sup = self.stack.procs["milter"].pid
        with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
            return int(f.read().split()[0])

    def test_6_filter_killed_mid_message(self):
        self.proxy.mode = "hold"  # the message is in the filter, its upload under way
        before = self.proxy.requests
        subject, raw = self.message("filter killed")
        result = {}
        t = threading.Thread(target=lambda: result.update(ok=self.submit(subject, raw)))
        t.start()
        deadline = time.time() + 30
        while self.proxy.requests == before and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreater(self.proxy.requests, before, "the upload never began")
        old = self.filter_pid()
        os.kill(old, signal.SIGKILL)
        t.join(60)
        self.assertEqual(result.get("ok"), False, "refused with a 4xx")
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.filter_pid() != old:
                    break
            except (IndexError, ValueError, FileNotFoundError):
                pass
            time.sleep(0.1)
        self.assertIn("event=filter-died", self.stack.log("milter"))
        self.mend_and_check()

    def test_8_delete_of_a_given_up_package_is_retried(self):
        """Storage goes down right after a manifest landed: the message is tempfailed, the
        delete of its complete package fails and is queued; once storage is back the milter's
        retry (every 60 s) deletes it, so no undelivered package stays."""
        self.proxy.mode = "lose-manifest-answer"
        self.send_during_fault("manifest answer lost", count=1)
        self.assertEqual(self.proxy.mode, "refuse", "no manifest reached storage")
        log = self.stack.log("milter")
        queued = re.findall(r"event=package-not-deleted package=([0-9a-f]{16}) .*queued=yes",
                            log)
        self.assertEqual(len(queued), 1, log[-3000:])
        pending = os.path.join(self.stack.dir, "spool", "pending-deletes")
        self.proxy.heal()
        self.assertIn(queued[0] + "/0", self.stack.objects(), "the manifest was not stored")
        done = "event=pending-delete package=%s result=deleted" % queued[0]
        deadline = time.monotonic() + 90
        while done not in self.stack.log("milter") and time.monotonic() < deadline:
            time.sleep(1)
        self.assertIn(done, self.stack.log("milter"))
        self.assertFalse(any(n.startswith(queued[0] + "/") for n in self.stack.objects()))
        self.assertFalse(os.path.exists(pending), "the done delete stays queued")
        self.mend_and_check()

    def test_7_gateway_restarted_during_a_download(self):
        # more than a loopback socket's buffers can hold (tcp_wmem's 4 MiB on the gateway's
        # side): the restart must catch the transfer in flight, not after the kernel took it all
        subject, raw = self.message("download resumed", size=12_000_000)
        self.assertTrue(self.submit(subject, raw))
        self.check_delivered()
        path = [p for p in self.stack.delivered() if subject in str(Stack.parse(p)[0]["Subject"])][0]
        link = mt.links(Stack.parse(path)[0]).pop()
        data = self.sent[subject][0][1]
        port = self.stack.ports["gateway"]
        target = link.split("127.0.0.1:%d" % port, 1)[1] + "/1"
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        s.connect(("127.0.0.1", port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target).encode())
        got = b""
        while b"\r\n\r\n" not in got or len(got) < 400_000:
            got += s.recv(65536)
        head, _, body = got.partition(b"\r\n\r\n")
        etag = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
                if l.lower().startswith(b"etag:")][0].decode()
        self.stack.stop_gateway()  # SIGTERM with the download in flight
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                body += b
        except OSError:
            pass
        s.close()
        self.assertLess(len(body), len(data), "the download was cut short by the restart")
        self.assertEqual(body, data[:len(body)])
        self.stack.start_gateway()
        r = subprocess.run(["curl", "-sS", "-D", "-", "-o", "-", "-H", "Range: bytes=%d-" % len(body),
                            "-H", "If-Range: %s" % etag, "http://127.0.0.1:%d%s" % (port, target)],
                           capture_output=True, timeout=60)
        head, _, rest = r.stdout.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 206"), head[:200])
        self.assertEqual(body + rest, data, "resumed bytes are the right ones")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_faults.py BUILD_DIR [TEST ...]")
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2, failfast=True)
