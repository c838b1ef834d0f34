#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_events - when a file counts as downloaded, and what follows from it.

A 10-byte Range is not a download; two ranges that cover a file are; a whole
file is; the zip counts every file; a connection cut halfway is not. Each
complete download marks its response's audit line "retrieved" and is one
more bestanden_files_downloaded_total, and the package's events lie beside it in
storage. Receipts to the sender, captured by a real smtp-sink: none for a
range, exactly one for the first complete download, none more with "first",
one per download with "every"; a recipient who verified their address is
named in the receipt and the audit line. The download limit: past it the file and the
page answer 410 with their own text, in Dutch and in English.

usage: test_events.py BUILD_DIR
"""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402
import test_upload  # noqa: E402  (its smtp-sink)
import test_verify  # noqa: E402  (its form helpers)

BUILD = None


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


class Events(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD)
        cls.sink = test_upload.Sink(cls.gw.dir)
        with open(cls.gw.conf_path, "a") as f:
            f.write("[smtp]\nhost = 127.0.0.1\nport = %d\nfrom = bestanden@example.nl\n"
                    % cls.sink.port)
        cls.gw.start()
        d = cls.gw.dir
        cls.small = write(d + "/small", os.urandom(100_000))
        cls.other = write(d + "/other", os.urandom(5_000))
        cls.big = write(d + "/big", os.urandom(8_000_000))

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        cls.sink.stop()
        cls.gw.cleanup()
        if rc != 0:
            raise AssertionError("gateway exited with %d" % rc)

    def package(self, *options, files=None):
        argv = list(options)
        for path, name in files or [(self.small, "Jaaropgave 2025.pdf")]:
            argv += ["-n", name, path]
        out = self.gw.run([self.gw.prog("mkpackage"), "-c", self.gw.conf_path] + argv)
        link, package = out.decode().split("\n")[:2]
        return link, package

    def retrieved(self, package):
        return [a for a in self.gw.audit()
                if a.get("retrieved") is True and a.get("package") == package]

    def downloaded_total(self):
        return self.gw.metrics().get("bestanden_files_downloaded_total", 0)

    def wait_for(self, what, want, timeout=10):
        """WHAT() once it equals WANT, or its last value after TIMEOUT seconds."""
        deadline = time.time() + timeout
        got = what()
        while got != want and time.time() < deadline:
            time.sleep(0.1)
            got = what()
        return got

    def settle(self):
        """Time for what a response leaves behind when it ends (events, mail)."""
        time.sleep(1.5)

    def mails_to(self, address):
        return [m for m in self.sink.messages() if address in str(m.get("To", ""))]

    def events(self, package):
        d = os.path.join(self.gw.data_dir, package, "0e")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_ranges_make_a_download_only_together(self):
        link, package = self.package()
        before = self.downloaded_total()
        r = self.gw.curl(link + "/1", headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206)
        self.assertEqual(len(r.body), 10)
        self.settle()
        self.assertEqual(self.retrieved(package), [])
        self.assertEqual(self.downloaded_total(), before)
        self.assertEqual(len(self.events(package)), 1)
        for name in self.events(package):  # the name: package and time, nothing else
            self.assertRegex(name, r"^[0-9a-f]{24}$")

        r = self.gw.curl(link + "/1", headers={"Range": "bytes=10-"})
        self.assertEqual(r.status, 206)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 1), 1)
        line = self.retrieved(package)[0]
        self.assertEqual((line["event"], line["file"], line["range"]),
                         ("download", 1, "10-99999/100000"))
        self.assertNotIn("recipient", line)  # nobody verified an address
        self.assertEqual([a for a in self.gw.audit() if a.get("package") == package
                          and a.get("range") == "0-9/100000"][0].get("retrieved"), None)
        self.assertEqual(self.wait_for(self.downloaded_total, before + 1), before + 1)

        # a whole download counts again; a later range alone does not
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 2), 2)
        self.gw.curl(link + "/1", headers={"Range": "bytes=50000-"})
        self.settle()
        self.assertEqual(len(self.retrieved(package)), 2)
        self.assertEqual(self.downloaded_total(), before + 2)
        # range, range, complete, range (whole), complete, range
        self.assertEqual(len(self.events(package)), 6)

    def test_zip_counts_every_file(self):
        link, package = self.package(files=[(self.small, "a.pdf"), (self.other, "b.pdf")])
        before = self.downloaded_total()
        r = self.gw.curl(link + "/all")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 1), 1)
        self.assertEqual(self.retrieved(package)[0]["file"], 0)  # one line: the zip
        self.assertEqual(self.wait_for(self.downloaded_total, before + 2), before + 2)

    def test_cut_connection_is_not_a_download(self):
        link, package = self.package(files=[(self.big, "big.bin")])
        path = link.split("127.0.0.1:%d" % self.gw.port, 1)[1] + "/1"
        s = socket.create_connection(("127.0.0.1", self.gw.port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        got = 0
        while got < 200_000:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        s.close()
        self.settle()
        self.assertEqual(self.retrieved(package), [])
        self.assertEqual(len(self.events(package)), 1)  # the range that did go out
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 1), 1)

    def test_receipt_first(self):
        sender = "first.sender@example.nl"
        link, package = self.package("-s", sender, "-R", "first")
        self.gw.curl(link + "/1", headers={"Range": "bytes=0-9"})
        self.settle()
        self.assertEqual(self.mails_to(sender), [])
        self.assertEqual(self.gw.curl(link + "/1", headers={"Range": "bytes=10-"}).status, 206)
        self.assertEqual(self.wait_for(lambda: len(self.mails_to(sender)), 1), 1)
        mail = self.mails_to(sender)[0]
        self.assertIn("Jaaropgave 2025.pdf", str(mail["Subject"]))
        text = mail.get_body(("plain",)).get_content()
        self.assertIn("Jaaropgave 2025.pdf", text)
        self.assertIn("iemand met de link", text)  # [notice] language: nl
        # a second complete download: no second receipt
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 2), 2)
        self.settle()
        self.assertEqual(len(self.mails_to(sender)), 1)

    def test_receipt_every(self):
        sender = "every.sender@example.nl"
        link, package = self.package("-s", sender, "-R", "every")
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.mails_to(sender)), 1), 1)
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.mails_to(sender)), 2), 2)

    def test_receipt_names_a_verified_recipient(self):
        sender, anna = "verified.sender@example.nl", "anna@example.org"
        link, package = self.package("-s", sender, "-R", "first", "-r", anna, "-v", "code")
        page = self.gw.curl(link).text
        r = self.gw.curl(link, "--data-urlencode", "form=" + test_verify.form_token(page),
                         "--data-urlencode", "step=address", "--data-urlencode", "address=" + anna)
        self.assertEqual(r.status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.mails_to(anna)), 1), 1)
        code = test_verify.code_of(self.mails_to(anna)[0])
        page = self.gw.curl(link).text
        r = self.gw.curl(link, "--data-urlencode", "form=" + test_verify.form_token(page),
                         "--data-urlencode", "step=code", "--data-urlencode", "address=" + anna,
                         "--data-urlencode", "code=" + code)
        self.assertEqual(r.status, 303, r.text)
        cookie = r.header("set-cookie").split(";", 1)[0]
        self.assertEqual(self.gw.curl(link + "/1", headers={"Cookie": cookie}).status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.mails_to(sender)), 1), 1)
        text = self.mails_to(sender)[0].get_body(("plain",)).get_content()
        self.assertIn(anna + " (adres bevestigd)", text)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 1), 1)
        self.assertEqual(self.retrieved(package)[0]["recipient"], anna)

    def test_no_receipt_unless_asked(self):
        sender = "quiet.sender@example.nl"
        link, package = self.package("-s", sender)
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 1), 1)
        self.settle()
        self.assertEqual(self.mails_to(sender), [])

    def test_download_limit(self):
        link, package = self.package("-m", "1")
        before = self.gw.metrics().get(
            'bestanden_link_refusals_total{reason="download_limit"}', 0)
        # a range is no download: the limit still lets the whole file through
        self.assertEqual(self.gw.curl(link + "/1", headers={"Range": "bytes=0-9"}).status, 206)
        self.settle()
        self.assertEqual(self.gw.curl(link).status, 200)
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 1), 1)
        r = self.gw.curl(link + "/1", headers={"Accept-Language": "nl"})
        self.assertEqual(r.status, 410)
        self.assertIn("Downloadlimiet bereikt", r.text)
        r = self.gw.curl(link + "/1", headers={"Range": "bytes=0-9", "Accept-Language": "en"})
        self.assertEqual(r.status, 410)
        self.assertIn("Download limit reached", r.text)
        r = self.gw.curl(link, headers={"Accept-Language": "en"})
        self.assertEqual(r.status, 410)
        self.assertIn("downloaded as often as the sender allows", r.text)
        self.assertEqual(self.gw.curl(link + "/all").status, 410)
        refused = [a for a in self.gw.audit()
                   if a.get("event") == "download-limit" and a.get("package") == package]
        self.assertGreaterEqual(len(refused), 3)
        self.assertGreaterEqual(self.gw.metrics()[
            'bestanden_link_refusals_total{reason="download_limit"}'], before + 4)

    def test_limit_counts_per_file(self):
        link, package = self.package("-m", "1", files=[(self.small, "a.pdf"),
                                                       (self.other, "b.pdf")])
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 1), 1)
        self.assertEqual(self.gw.curl(link + "/1").status, 410)
        self.assertEqual(self.gw.curl(link).status, 200)  # b.pdf is still there
        self.assertEqual(self.gw.curl(link + "/2").status, 200)
        self.assertEqual(self.wait_for(lambda: len(self.retrieved(package)), 2), 2)
        self.assertEqual(self.gw.curl(link).status, 410)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
