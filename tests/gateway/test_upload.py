#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_upload - upload requests end to end at the gateway, with curl, smtp-sink and clamd.

`bestanden request create` makes a request; its page (inert GET, nl/en, the
form); an upload of two files through curl's multipart form; the requester's
mail captured by a real smtp-sink, whose download link gives back the files
byte for byte; a single-use link then gone; refusals - a file too large
(cut off mid-stream), too many files, expired, no file, the MTA down - each
with its page and no object of it left in storage (the store is listed);
every file scanned by a real clamd with a signature database made here for the
EICAR test file: an upload holding it is refused, nothing kept, the requester
told; audit lines and /metrics counters.

usage: test_upload.py BUILD_DIR
"""
import base64
import email
import email.policy
import glob
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None


class Sink:
    """smtp-sink on a free port, each message in its own file."""

    def __init__(self, d):
        self.dir = os.path.join(d, "sink")
        os.makedirs(self.dir)
        self.port = gwtest.free_port()
        self.proc = subprocess.Popen(["smtp-sink", "-u", "root", "-d",
                                      os.path.join(self.dir, "%d%H%M%S."),
                                      "127.0.0.1:%d" % self.port, "10"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                import socket
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("smtp-sink did not start")

    def messages(self):
        out = []
        # in the order they came: smtp-sink names files by the second only
        for path in sorted(glob.glob(os.path.join(self.dir, "*")), key=os.path.getmtime):
            with open(path, "rb") as f:
                raw = f.read()
            # smtp-sink writes its own headers (X-Client-Addr ...) first: they parse as headers too
            out.append(email.message_from_bytes(raw, policy=email.policy.default))
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


class Clamd:
    """A private clamd on a unix socket, with a database of one signature: EICAR's MD5."""

    def __init__(self, d):
        import hashlib
        if not os.access("/usr/sbin/clamd", os.X_OK):
            raise RuntimeError("clamd is not installed (scripts/install-deps.sh test)")
        self.dir = os.path.join(d, "clamd")
        db = os.path.join(self.dir, "db")
        os.makedirs(db)
        with open(os.path.join(db, "test.hdb"), "w") as f:
            f.write("%s:%d:eicar.txt\n" % (hashlib.md5(EICAR).hexdigest(), len(EICAR)))
        self.socket = os.path.join(self.dir, "clamd.sock")
        conf = os.path.join(self.dir, "clamd.conf")
        with open(conf, "w") as f:
            f.write("DatabaseDirectory %s\nLocalSocket %s\nForeground yes\nUser root\n"
                    "LogFile %s\nStreamMaxLength 100M\n"
                    % (db, self.socket, os.path.join(self.dir, "clamd.log")))
        self.proc = subprocess.Popen(["/usr/sbin/clamd", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("clamd did not start")
            time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def objects(gw):
    """Every object in the embedded store, as 'package/n'."""
    out = []
    for root, _, files in os.walk(gw.data_dir):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), gw.data_dir)
            if re.fullmatch(r"[0-9a-f]{16}/[0-9a-f]+", rel):
                out.append(rel)
    return sorted(out)


class UploadRequests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD)
        cls.sink = Sink(cls.gw.dir)
        cls.clamd = Clamd(cls.gw.dir)
        cls.spool = os.path.join(cls.gw.dir, "spool")
        os.makedirs(cls.spool)
        with open(cls.gw.conf_path, "a") as f:
            f.write("[smtp]\nhost = 127.0.0.1\nport = %d\nfrom = bestanden@example.nl\n"
                    % cls.sink.port)
            f.write("[requests]\nspool_dir = %s\n" % cls.spool)
            f.write("[policy]\nretention = 7d\n")
            f.write("[scan]\nclamd = %s\n" % cls.clamd.socket)
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        cls.sink.stop()
        cls.clamd.stop()
        cls.gw.cleanup()
        if rc != 0:
            raise AssertionError("gateway exited with %d" % rc)

    def request(self, *args):
        out = self.gw.run([self.gw.prog("cli"), "-c", self.gw.conf_path, "request", "create",
                           "--requester", "jan@example.nl"] + list(args))
        link = out.decode().strip()
        self.assertRegex(link, r"^http://127\.0\.0\.1:\d+/u/[A-Za-z0-9_-]{56}$")
        return link

    def write(self, name, data):
        path = os.path.join(self.gw.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def post(self, link, files, fields=None, extra=()):
        args = []
        for k, v in (fields or {}).items():
            args += ["-F", "%s=%s" % (k, v)]
        for path, name in files:
            args += ["-F", "file=@%s;filename=%s" % (path, name)]
        return self.gw.curl(link, *args, *extra)

    def wait_mail(self, count, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = self.sink.messages()
            if len(msgs) >= count:
                time.sleep(0.2)
                return self.sink.messages()
            time.sleep(0.1)
        raise AssertionError("no mail at the sink")

    def test_1_page_is_inert_and_bilingual(self):
        link = self.request("--note", "Graag uw inkomensverklaring <2024>", "--max-files", "3")
        before = objects(self.gw)
        nl = self.gw.curl(link + "?lang=nl")
        self.assertEqual(nl.status, 200)
        self.assertIn("jan@example.nl", nl.text)
        self.assertIn("Graag uw inkomensverklaring &lt;2024&gt;", nl.text)
        self.assertIn('enctype="multipart/form-data"', nl.text)
        self.assertIn("Hoogstens 3 bestanden", nl.text)
        self.assertIn("form-action 'self'", nl.header("content-security-policy"))
        # the one inline script is admitted by its hash, nothing else runs
        import base64 as b64
        import hashlib
        script = re.search(r"<script>(.*?)</script>", nl.text, re.S).group(1)
        digest = b64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        self.assertIn("script-src 'sha256-%s'" % digest, nl.header("content-security-policy"))
        self.assertEqual(nl.text.count("<script"), 1)
        self.assertRegex(nl.text, r'<form id="upload" method="post" enctype="multipart/form-data" '
                                  r'action="/u/[A-Za-z0-9_-]{56}\?lang=nl"')
        en = self.gw.curl(link, headers={"Accept-Language": "en"})
        self.assertIn("At most 3 files", en.text)
        self.assertEqual(objects(self.gw), before)  # viewing changes nothing
        self.assertEqual(self.gw.curl(link, method="HEAD").status, 200)
        forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
        self.assertEqual(self.gw.curl(forged).status, 404)

    def test_2_upload_two_files_and_download(self):
        link = self.request("--to", "huurder@example.org")
        data = {"loonstrook.pdf": os.urandom(300_000), "brief.txt": b"Hallo!\n" * 10}
        files = [(self.write("f%d" % i, d), n) for i, (n, d) in enumerate(data.items())]
        mails = len(self.sink.messages())
        r = self.post(link, files, {"name": "Piet Huurder", "message": "Zie bijlage"})
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("loonstrook.pdf", r.text)
        self.assertIn("brief.txt", r.text)
        msg = self.wait_mail(mails + 1)[-1]
        self.assertEqual(msg["To"].addresses[0].addr_spec, "jan@example.nl")
        text = msg.get_body(("plain",)).get_content()
        self.assertIn("Piet Huurder", text)
        self.assertIn("Zie bijlage", text)
        dl = re.search(r"<(http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_-]{56})>", text).group(1)
        page = self.gw.curl(dl)
        self.assertEqual(page.status, 200)
        for i, (name, content) in enumerate(data.items(), start=1):
            got = self.gw.curl("%s/%d" % (dl, i))
            self.assertEqual(got.status, 200)
            self.assertEqual(got.body, content, name)
        # used once: the request is gone
        self.assertEqual(self.gw.curl(link).status, 404)
        events = [a["event"] for a in self.gw.audit()]
        for e in ("upload-accepted", "requester-notified"):
            self.assertIn(e, events)
        m = self.gw.metrics()
        self.assertGreaterEqual(m["bestanden_uploads_total{outcome=\"accepted\"}"], 1)
        self.assertGreaterEqual(m["bestanden_requester_notices_total"], 1)
        # neither the request's link nor the one in the requester's mail reaches a log
        up_token = link.rstrip("/").rsplit("/", 1)[1]
        dl_token = dl.rsplit("/", 1)[1]
        with open(self.gw.audit_path, errors="replace") as f:
            audit_text = f.read()
        for text in (self.gw.log(), audit_text):
            self.assertNotIn(up_token, text)
            self.assertNotIn(dl_token, text)
            self.assertNotIn(up_token[:40], text)

    def refused(self, link, files, status, words, fields=None):
        before = objects(self.gw)
        r = self.post(link, files, fields)
        self.assertEqual(r.status, status, r.text)
        self.assertIn(words, r.text)
        self.assertEqual(objects(self.gw), before)  # nothing of it stored
        self.assertEqual(os.listdir(self.spool), [])
        return r

    def test_3_file_too_large_mid_stream(self):
        link = self.request("--max-file-size", "100K", "--max-size", "10M")
        small = self.write("small", b"ok" * 100)
        big = self.write("big", os.urandom(3 * 1024 * 1024))
        # the first file is stored before the second breaks the limit: it goes again
        r = self.refused(link, [(small, "a.txt"), (big, "groot.bin")], 413, "groot.bin",
                         {"name": "x"})
        self.assertIn("100", r.text)
        self.assertEqual(self.gw.curl(link).status, 200)  # the request stays usable

    def test_4_too_many_files(self):
        link = self.request("--max-files", "2")
        f = self.write("one", b"1")
        self.refused(link, [(f, "1.txt"), (f, "2.txt"), (f, "3.txt")], 413, "2")

    def test_5_total_announced_too_large(self):
        link = self.request("--max-size", "10K")
        big = self.write("big2", os.urandom(2 * 1024 * 1024))
        self.refused(link, [(big, "big.bin")], 413, "10")

    def test_6_no_file(self):
        link = self.request()
        r = self.gw.curl(link, "-F", "name=x")
        self.assertEqual(r.status, 400)

    def test_7_expired(self):
        link = self.request("--expires", "1s")
        time.sleep(2.1)
        f = self.write("late", b"late")
        self.refused(link, [(f, "late.txt")], 410, "verlopen")
        self.assertEqual(self.gw.curl(link).status, 410)

    def test_8_mta_down(self):
        link = self.request()
        f = self.write("m", b"mail me")
        self.sink.stop()
        try:
            self.refused(link, [(f, "m.txt")], 503, "opnieuw")
        finally:
            self.__class__.sink = Sink.restart(self.__class__.sink)
        audit = [a for a in self.gw.audit() if a["event"] == "upload-refused"]
        self.assertIn("unavailable", [a.get("outcome") for a in audit])

    def test_0_invitation_by_mail(self):
        mails = len(self.sink.messages())
        out = self.gw.run([self.gw.prog("cli"), "-c", self.gw.conf_path, "request", "create",
                           "--requester", "jan@example.nl", "--to", "huurder@example.org",
                           "--note", "Graag uw loonstrook", "--send"]).decode()
        self.assertIn("sent to huurder@example.org", out)
        msg = self.wait_mail(mails + 1)[-1]
        self.assertEqual(msg["To"].addresses[0].addr_spec, "huurder@example.org")
        self.assertIn("Uploadverzoek", msg["Subject"])
        text = msg.get_body(("plain",)).get_content()
        self.assertIn("Graag uw loonstrook", text)
        self.assertIn("jan@example.nl", text)
        link = re.search(r"<(http://127\.0\.0\.1:\d+/u/[A-Za-z0-9_-]{56})>", text).group(1)
        self.assertEqual(self.gw.curl(link).status, 200)
        html = msg.get_body(("html",)).get_content()
        self.assertIn('href="%s"' % link, html)
        # --send without --to is a usage error
        p = subprocess.run([self.gw.prog("cli"), "-c", self.gw.conf_path, "request", "create",
                            "--requester", "jan@example.nl", "--send"], capture_output=True)
        self.assertEqual(p.returncode, 2)

    def test_9_infected(self):
        link = self.request("--max-files", "3")
        clean = self.write("clean", b"harmless\n")
        bad = self.write("eicar", EICAR)
        mails = len(self.sink.messages())
        r = self.refused(link, [(clean, "a.txt"), (bad, "factuur.pdf")], 422, "factuur.pdf")
        self.assertIn("virus", r.text)
        msg = self.wait_mail(mails + 1)[-1]
        self.assertEqual(msg["To"].addresses[0].addr_spec, "jan@example.nl")
        self.assertIn("factuur.pdf", msg.get_body(("plain",)).get_content())
        infected = [a for a in self.gw.audit() if a["event"] == "upload-infected"]
        self.assertEqual(len(infected), 1)
        self.assertIn("eicar", infected[0]["outcome"].lower())
        # the same request still takes a clean upload
        self.assertEqual(self.post(link, [(clean, "a.txt")]).status, 200)


def restart(old):
    """The same sink again, on its port and directory."""
    s = Sink.__new__(Sink)
    s.dir, s.port = old.dir, old.port
    s.proc = subprocess.Popen(["smtp-sink", "-u", "root", "-d", os.path.join(s.dir, "%d%H%M%S."),
                               "127.0.0.1:%d" % s.port, "10"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return s


Sink.restart = staticmethod(restart)

if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
