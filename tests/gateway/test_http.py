#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_http - the recipient side of bestanden-gateway over HTTP, asked with curl.

Landing page (languages, escaping, inertness), file downloads (whole, Range,
If-Range, HEAD, headers), the zip of all files, refusals (expired 410; forged,
tampered, unknown and revoked 404 with one identical body; storage failure
503), the audit log, /metrics, the failed-lookup limit (429), the connection
timeout, and security headers on every response.

usage: test_http.py BUILD_DIR
"""
import hashlib
import io
import os
import re
import socket
import sys
import time
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None
SEC_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def flip(token, i):
    """TOKEN with character I changed to another base64url character."""
    c = token[i]
    return token[:i] + ("A" if c != "A" else "B") + token[i + 1:]


class RecipientSide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD, trusted_proxies="127.0.0.1").start()
        d = cls.gw.dir
        cls.data = {
            "big": os.urandom(2_400_000),
            "odd": b"x" * 1000,
            "empty": b"",
            "umlaut": os.urandom(70_000),
            "scan1": b"first scan",
            "scan2": b"second scan!",
        }
        cls.files = [
            (write(d + "/big", cls.data["big"]), "Jaaropgave 2025.pdf", "application/pdf"),
            (write(d + "/odd", cls.data["odd"]), "<b>&\"x'.txt", "text/plain"),
            (write(d + "/empty", cls.data["empty"]), "leeg.txt", "text/plain"),
            (write(d + "/umlaut", cls.data["umlaut"]), "Überweisung – März.pdf", "application/pdf"),
            (write(d + "/scan1", cls.data["scan1"]), "scan.pdf", "application/pdf"),
            (write(d + "/scan2", cls.data["scan2"]), "SCAN.pdf", "application/pdf"),
        ]
        cls.link, cls.package, cls.token = cls.gw.package(cls.files)
        cls.order = ["big", "odd", "empty", "umlaut", "scan1", "scan2"]

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        log = cls.gw.log()
        # Never a token in the log or the audit trail.
        with open(cls.gw.audit_path) as f:
            audit = f.read()
        for secret in cls.secrets_seen():
            assert secret not in log, "a link token is in the gateway log"
            assert secret not in audit, "a link token is in the audit log"
        cls.gw.cleanup()
        assert rc == 0, "gateway exited with %d:\n%s" % (rc, log[-4000:])

    @classmethod
    def secrets_seen(cls):
        return [cls.token] + getattr(cls, "extra_tokens", [])

    def remember(self, token):
        type(self).extra_tokens = getattr(type(self), "extra_tokens", []) + [token]

    def assertSecurityHeaders(self, r, what):
        for k, v in SEC_HEADERS.items():
            self.assertEqual(r.header(k), v, "%s: %s" % (what, k))
        csp = r.header("content-security-policy")
        self.assertIsNotNone(csp, what + ": no CSP")
        self.assertIn("frame-ancestors 'none'", csp, what)
        self.assertIn("default-src 'none'", csp, what)
        self.assertIsNone(r.header("strict-transport-security"), what + ": HSTS over plain HTTP")

    def audit_until(self, pred, what):
        """The audit lines once PRED(lines) holds: a transfer's line is written when the
        server sees it end, which may be a moment after the client has every byte."""
        deadline = time.time() + 10
        while True:
            lines = self.gw.audit()
            if pred(lines):
                return lines
            if time.time() > deadline:
                self.fail("audit log: " + what)
            time.sleep(0.05)

    def file_url(self, n):
        return "%s/%d" % (self.link, n)

    # ---- the landing page ----

    def test_landing_dutch_by_default(self):
        r = self.gw.curl(self.link)
        self.assertEqual(r.status, 200)
        self.assertSecurityHeaders(r, "landing")
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        self.assertEqual(r.header("content-language"), "nl")
        html = r.text
        self.assertIn('<html lang="nl">', html)
        self.assertIn('name="viewport"', html)
        self.assertIn("Woningcorporatie De Linde", html)
        self.assertIn("Jaaropgave 2025.pdf", html)
        self.assertIn("2,4 MB", html)
        self.assertIn("1,0 kB", html)
        self.assertIn("0 bytes", html)
        self.assertRegex(html, r"Beschikbaar tot \d{1,2} (januari|februari|maart|april|mei|juni|juli|"
                               r"augustus|september|oktober|november|december) \d{4}")
        self.assertIn('href="?lang=en"', html)  # the visible language switch
        self.assertEqual(html.count(">Downloaden<"), 6)
        for n in range(1, 7):
            self.assertIn('href="/d/%s/%d"' % (self.token, n), html)
        self.assertIn('href="/d/%s/all"' % self.token, html)
        # no JavaScript, nothing from elsewhere
        self.assertNotIn("<script", html.lower())
        self.assertIsNone(re.search(r"(src|href)=\"(https?:)?//", html))
        # the inline style is admitted by its hash, and only it
        style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
        import base64
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        self.assertIn("style-src 'sha256-%s'" % digest, r.header("content-security-policy"))

    def test_landing_escapes_names(self):
        html = self.gw.curl(self.link).text
        self.assertNotIn("<b>&", html)
        self.assertIn("&lt;b&gt;&amp;&quot;x&#39;.txt", html)
        self.assertIn("Überweisung – März.pdf", html)

    def test_landing_english(self):
        for accept in ("en", "en-GB,en;q=0.9", "nl;q=0.4, en-US;q=0.8", "fr, en;q=0.5"):
            r = self.gw.curl(self.link, headers={"Accept-Language": accept})
            self.assertEqual(r.header("content-language"), "en", accept)
            self.assertIn("Available until", r.text)
            self.assertRegex(r.text, r"Available until \d{1,2} [A-Z][a-z]+ \d{4}")
            self.assertIn("2.4 MB", r.text)
            self.assertIn('href="?lang=nl"', r.text)
            self.assertEqual(r.text.count(">Download<"), 6)
        for accept in ("nl-BE", "fr", "de, *;q=0.1", "en;q=0, nl;q=0.2"):
            r = self.gw.curl(self.link, headers={"Accept-Language": accept})
            self.assertEqual(r.header("content-language"), "nl", accept)
        r = self.gw.curl(self.link + "?lang=en", headers={"Accept-Language": "nl"})
        self.assertEqual(r.header("content-language"), "en")
        r = self.gw.curl(self.link + "?lang=nl", headers={"Accept-Language": "en"})
        self.assertEqual(r.header("content-language"), "nl")

    def test_landing_is_inert(self):
        before = self.gw.metrics()
        for _ in range(5):
            self.assertEqual(self.gw.curl(self.link).status, 200)
        self.assertEqual(self.gw.curl(self.link, method="HEAD").status, 200)
        after = self.gw.metrics()
        key = 'bestanden_downloads_total{outcome="complete"}'
        self.assertEqual(before[key], after[key], "a page view counted as a download")
        self.assertEqual(after["bestanden_page_views_total"] - before["bestanden_page_views_total"], 5)
        views = [a for a in self.gw.audit() if a["event"] == "page-view"]
        self.assertTrue(views)
        self.assertEqual(views[-1]["package"], self.package)
        self.assertNotIn("file", views[-1])

    def test_client_address_behind_a_proxy(self):
        cases = [
            ("203.0.113.77", "203.0.113.0/24"),
            ("198.51.100.9, 203.0.113.78", "203.0.113.0/24"),  # the proxy appended the last
            ("203.0.113.79, 127.0.0.1", "203.0.113.0/24"),      # a chain of our own proxies
            ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
            ("::ffff:192.0.2.200", "192.0.2.0/24"),
            ("not an address", "127.0.0.0/24"),
        ]
        for xff, logged in cases:
            self.assertEqual(self.gw.curl(self.link, headers={"X-Forwarded-For": xff}).status, 200)
            self.assertEqual(self.gw.audit()[-1]["client"], logged, xff)

    # ---- files ----

    def test_whole_files(self):
        for n, key in enumerate(self.order, 1):
            r = self.gw.curl(self.file_url(n))
            self.assertEqual(r.status, 200, key)
            self.assertEqual(r.body, self.data[key], key)
            self.assertEqual(int(r.header("content-length")), len(self.data[key]), key)
            self.assertEqual(r.header("accept-ranges"), "bytes")
            self.assertEqual(r.header("etag"), '"%s-%d"' % (self.package, n))
            self.assertIsNotNone(r.header("last-modified"))
            self.assertSecurityHeaders(r, "file %d" % n)
            self.assertIn("sandbox", r.header("content-security-policy"))
        r = self.gw.curl(self.file_url(1))
        self.assertEqual(r.header("content-type"), "application/pdf")
        self.assertEqual(r.header("content-disposition"),
                         "attachment; filename=\"Jaaropgave 2025.pdf\"; "
                         "filename*=UTF-8''Jaaropgave%202025.pdf")
        r = self.gw.curl(self.file_url(4))
        self.assertEqual(r.header("content-disposition"),
                         "attachment; filename=\"_berweisung _ M_rz.pdf\"; "
                         "filename*=UTF-8''%C3%9Cberweisung%20%E2%80%93%20M%C3%A4rz.pdf")
        r = self.gw.curl(self.file_url(2))
        self.assertEqual(r.header("content-disposition"),
                         "attachment; filename=\"<b>&_x'.txt\"; filename*=UTF-8''%3Cb%3E&%22x%27.txt")

    def test_head(self):
        r = self.gw.curl(self.file_url(1), method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.header("content-length")), len(self.data["big"]))
        self.assertEqual(r.body, b"")
        self.assertSecurityHeaders(r, "HEAD")

    def test_ranges(self):
        big = self.data["big"]
        size = len(big)
        cases = [
            ("bytes=0-0", 0, 0),
            ("bytes=100-199", 100, 199),
            ("bytes=65530-65545", 65530, 65545),  # across a chunk boundary
            ("bytes=65536-131071", 65536, 131071),  # exactly one chunk
            ("bytes=-500", size - 500, size - 1),
            ("bytes=2000000-", 2000000, size - 1),
            ("bytes=2399990-9999999", 2399990, size - 1),
            ("bytes=-99999999", 0, size - 1),
        ]
        for spec, first, last in cases:
            r = self.gw.curl(self.file_url(1), headers={"Range": spec})
            self.assertEqual(r.status, 206, spec)
            self.assertEqual(r.body, big[first:last + 1], spec)
            self.assertEqual(r.header("content-range"), "bytes %d-%d/%d" % (first, last, size), spec)
            self.assertEqual(int(r.header("content-length")), last - first + 1, spec)
        for spec in ("bytes=2400000-", "bytes=9999999-", "bytes=-0"):
            r = self.gw.curl(self.file_url(1), headers={"Range": spec})
            self.assertEqual(r.status, 416, spec)
            self.assertEqual(r.header("content-range"), "bytes */%d" % size, spec)
            self.assertSecurityHeaders(r, "416")
        # several ranges, or nonsense: the whole file
        for spec in ("bytes=0-1,5-6", "bytes=5-2", "items=0-1", "bytes=abc", "bytes=1-2x"):
            r = self.gw.curl(self.file_url(1), headers={"Range": spec})
            self.assertEqual(r.status, 200, spec)
            self.assertEqual(r.body, big, spec)
        # an empty file has no range to give: the (empty) whole
        r = self.gw.curl(self.file_url(3), headers={"Range": "bytes=0-10"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")

    def test_if_range(self):
        big = self.data["big"]
        full = self.gw.curl(self.file_url(1), method="HEAD")
        etag, modified = full.header("etag"), full.header("last-modified")
        r = self.gw.curl(self.file_url(1), headers={"Range": "bytes=10-19", "If-Range": etag})
        self.assertEqual((r.status, r.body), (206, big[10:20]))
        r = self.gw.curl(self.file_url(1), headers={"Range": "bytes=10-19", "If-Range": modified})
        self.assertEqual((r.status, r.body), (206, big[10:20]))
        for stale in ('"0000000000000000-1"', "W/" + etag, "Mon, 01 Jan 2001 00:00:00 GMT"):
            r = self.gw.curl(self.file_url(1), headers={"Range": "bytes=10-19", "If-Range": stale})
            self.assertEqual(r.status, 200, stale)
            self.assertEqual(r.body, big, stale)

    def test_resume_with_curl(self):
        """What a browser's resume does: a part, then the rest with -C -."""
        path = os.path.join(self.gw.dir, "resumed.bin")
        write(path, self.data["big"][:777_777])
        r = self.gw.curl(self.file_url(1), "-C", "-", "-o", path)
        self.assertEqual(r.status, 206)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), self.data["big"])

    def test_zip_of_all(self):
        r = self.gw.curl(self.link + "/all")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/zip")
        self.assertIn("filename*=UTF-8''bijlagen.zip", r.header("content-disposition"))
        self.assertSecurityHeaders(r, "zip")
        z = zipfile.ZipFile(io.BytesIO(r.body))
        self.assertIsNone(z.testzip())
        names = z.namelist()
        self.assertEqual(names, ["Jaaropgave 2025.pdf", "<b>&\"x'.txt", "leeg.txt",
                                 "Überweisung – März.pdf", "scan.pdf", "SCAN (2).pdf"])
        for name, key in zip(names, self.order):
            self.assertEqual(z.read(name), self.data[key], name)
        r = self.gw.curl(self.link + "/all?lang=en")
        self.assertIn("filename*=UTF-8''attachments.zip", r.header("content-disposition"))
        lines = self.audit_until(lambda ls: any(a["event"] == "download" and a.get("file") == 0 for a in ls),
                                 "no download line for the zip")
        events = [a for a in lines if a["event"] == "download" and a.get("file") == 0]
        self.assertEqual(events[-1]["outcome"], "complete")

    def test_downloads_count_only_when_complete(self):
        before = len([a for a in self.gw.audit() if a["event"] == "download"])
        # A client that reads 100 kB of 2.4 MB and hangs up.
        with socket.create_connection(("127.0.0.1", self.gw.port)) as s:
            s.sendall(("GET /d/%s/1 HTTP/1.1\r\nHost: x\r\n\r\n" % self.token).encode())
            got = 0
            while got < 100_000:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        lines = self.audit_until(lambda ls: any(a["event"] == "download-incomplete" for a in ls),
                                 "no download-incomplete line")
        inc = [a for a in lines if a["event"] == "download-incomplete"]
        self.assertEqual(inc[-1]["outcome"], "aborted")
        self.assertEqual(inc[-1]["file"], 1)
        self.assertLess(inc[-1]["bytes"], len(self.data["big"]))
        self.assertEqual(len([a for a in self.gw.audit() if a["event"] == "download"]), before)
        # The whole file: one download line with every byte.
        self.gw.curl(self.file_url(1))
        lines = self.audit_until(lambda ls: len([a for a in ls if a["event"] == "download"]) > before,
                                 "no download line")
        done = [a for a in lines if a["event"] == "download"]
        self.assertEqual(len(done), before + 1)
        line = done[-1]
        self.assertEqual((line["package"], line["file"], line["bytes"], line["outcome"], line["status"]),
                         (self.package, 1, len(self.data["big"]), "complete", 200))
        self.assertEqual(line["client"], "127.0.0.0/24")
        self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    # ---- refusals ----

    def not_found_body(self, url):
        as_is = url.endswith("?--path-as-is")
        r = self.gw.curl(url[:-len("?--path-as-is")], "--path-as-is") if as_is else self.gw.curl(url)
        self.assertEqual(r.status, 404, url)
        self.assertSecurityHeaders(r, "404")
        return r.body

    def test_not_found_is_one_page(self):
        other = gwtest.Gateway(BUILD)  # other keys: a well-formed link we did not sign
        try:
            other.start()
            forged_link, _, forged = other.package([(self.files[4][0], "scan.pdf", None)])
        finally:
            other.stop()
            other.cleanup()
        revoked_link, revoked_pkg, revoked = self.gw.package([(self.files[4][0], None, None)])
        self.remember(revoked)
        self.gw.run([self.gw.prog("cli"), "-c", self.gw.conf_path, "revoke", revoked_link])
        base = self.gw.url + "/d/"
        urls = {
            "tampered MAC": base + flip(self.token, 50),
            "tampered id": base + flip(self.token, 12),
            "tampered version": base + flip(self.token, 0),
            "forged": base + forged,
            "revoked": revoked_link,
            "revoked file": revoked_link + "/1",
            "short": base + self.token[:-1],
            "long": base + self.token + "A",
            "garbage": base + "../../etc/passwd?--path-as-is",
            "no such file": self.link + "/7",
            "file zero": self.link + "/0",
            "bad file": self.link + "/x1",
            "tampered file": base + flip(self.token, 50) + "/1",
            "tampered zip": base + flip(self.token, 50) + "/all",
        }
        bodies = {k: self.not_found_body(u) for k, u in urls.items()}
        first = bodies["tampered MAC"]
        self.assertIn("Deze link werkt niet".encode(), first)
        for k, b in bodies.items():
            self.assertEqual(b, first, "the 404 page for '%s' differs" % k)
        en = self.gw.curl(base + forged, headers={"Accept-Language": "en"})
        self.assertEqual(en.status, 404)
        self.assertIn("This link does not work", en.text)
        nf = [a for a in self.gw.audit() if a["event"] == "not-found"]
        self.assertTrue(any(a.get("package") == revoked_pkg for a in nf), "revoked link not audited")
        # a forged link names no package: nothing it claims is trusted
        self.assertTrue(any("package" not in a for a in nf))

    def test_expired(self):
        link, pkg, token = self.gw.package([(self.files[0][0], "Jaaropgave 2025.pdf", None)],
                                           lifetime=-60)
        self.remember(token)
        for url in (link, link + "/1", link + "/all"):
            r = self.gw.curl(url)
            self.assertEqual(r.status, 410, url)
            self.assertSecurityHeaders(r, "410")
            self.assertIn("Deze link is verlopen", r.text)
            self.assertIn("Vraag de afzender om de bestanden opnieuw te sturen", r.text)
            self.assertRegex(r.text, r"beschikbaar tot \d{1,2} [a-z]+ \d{4}")
            self.assertNotIn("Jaaropgave", r.text)
        r = self.gw.curl(link, headers={"Accept-Language": "en-GB"})
        self.assertEqual(r.status, 410)
        self.assertIn("This link has expired", r.text)
        self.assertIn("Ask the sender to send the files again", r.text)
        # The token alone decides: with the package gone from storage it is still 410.
        for n in (0, 1):
            os.unlink(self.gw.object_path(pkg, n))
        self.assertEqual(self.gw.curl(link).status, 410)
        exp = [a for a in self.gw.audit() if a["event"] == "expired"]
        self.assertTrue(exp and exp[-1]["package"] == pkg and exp[-1]["status"] == 410)

    def test_storage_failure_is_503(self):
        link, pkg, token = self.gw.package([(self.files[4][0], None, None)])
        self.remember(token)
        manifest = self.gw.object_path(pkg, 0)
        os.unlink(manifest)
        # A socket where the manifest was: open() fails with ENXIO, an I/O error, the
        # way a failing disk or store does (root reads anything, so no chmod games).
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(manifest)
        try:
            r = self.gw.curl(link)
            self.assertEqual(r.status, 503)
            self.assertEqual(r.header("retry-after"), "60")
            self.assertIn("Probeer het over een paar minuten opnieuw", r.text)
            self.assertSecurityHeaders(r, "503")
        finally:
            sock.close()
            os.unlink(manifest)
        m = self.gw.metrics()
        self.assertGreaterEqual(m['bestanden_errors_total{kind="storage"}'], 1)

    def test_tampered_object(self):
        link, pkg, token = self.gw.package([(self.files[0][0], "Jaaropgave 2025.pdf", None)])
        self.remember(token)
        path = self.gw.object_path(pkg, 1)
        size = len(self.data["big"])
        chunks = (size + 65535) // 65536
        header = os.path.getsize(path) - size - 16 * chunks  # the container header
        spot = header + 3 * (65536 + 16) + 10  # a byte in chunk 3 (plaintext 196608...)
        with open(path, "r+b") as f:
            f.seek(spot)
            b = f.read(1)
            f.seek(spot)
            f.write(bytes([b[0] ^ 1]))
        # Chunks 0-2 are fine and arrive; the transfer breaks off before chunk 3.
        r = self.gw.curl(link + "/1")
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.exit_code, 0, "curl did not notice the cut-off transfer")
        self.assertLessEqual(len(r.body), 3 * 65536)
        self.assertEqual(r.body, self.data["big"][:len(r.body)])
        # A range of intact chunks still works.
        r = self.gw.curl(link + "/1", headers={"Range": "bytes=0-99999"})
        self.assertEqual((r.status, r.body), (206, self.data["big"][:100000]))
        # A range that starts in the damaged chunk gets the 404 page, not bytes.
        r = self.gw.curl(link + "/1", headers={"Range": "bytes=%d-" % (3 * 65536)})
        self.assertEqual(r.status, 404)
        lines = self.audit_until(lambda ls: any(a["event"] == "download-incomplete" and a["package"] == pkg
                                                for a in ls), "no line for the broken transfer")
        inc = [a for a in lines if a["event"] == "download-incomplete" and a["package"] == pkg]
        self.assertEqual(inc[0]["outcome"], "failed")
        self.assertGreaterEqual(self.gw.metrics()['bestanden_errors_total{kind="crypto"}'], 1)

    def test_methods(self):
        r = self.gw.curl(self.link, method="POST")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD")
        r = self.gw.curl(self.file_url(1), method="DELETE")
        self.assertEqual(r.status, 405)

    # ---- the rest of the server ----

    def test_security_headers_everywhere(self):
        for url, status in ((self.gw.url + "/healthz", 200), (self.gw.url + "/nothing", 404),
                            (self.gw.url + "/metrics", 200), (self.gw.url + "/v1/objects/ab/0", 401),
                            (self.gw.url + "/logo", 404)):
            r = self.gw.curl(url)
            self.assertEqual(r.status, status, url)
            self.assertSecurityHeaders(r, url)

    def test_metrics(self):
        self.gw.curl(self.file_url(2))
        r = self.gw.curl(self.gw.url + "/metrics")
        self.assertTrue(r.header("content-type").startswith("text/plain; version=0.0.4"))
        text = r.text
        for name, kind in (("bestanden_http_requests_total", "counter"),
                           ("bestanden_http_response_bytes_total", "counter"),
                           ("bestanden_downloads_active", "gauge"),
                           ("bestanden_downloads_total", "counter"),
                           ("bestanden_errors_total", "counter")):
            self.assertIn("# TYPE %s %s" % (name, kind), text)
        m = self.gw.metrics()
        self.assertGreaterEqual(m['bestanden_http_requests_total{route="download",code="200"}'], 1)
        self.assertGreaterEqual(m["bestanden_http_response_bytes_total"], 1000)
        self.assertEqual(m["bestanden_downloads_active"], 0)
        for line in text.splitlines():
            self.assertRegex(line, r'^(# (HELP|TYPE) .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? \d+)$')


class LimitsAndLogo(unittest.TestCase):
    """A gateway with a small failed-lookup limit, a short timeout, a logo, HSTS."""

    @classmethod
    def setUpClass(cls):
        cls.logo = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                 "1f15c4890000000d49444154789c6360000002000001e221bc330000"
                                 "000049454e44ae426082")
        tmp = gwtest.Gateway(BUILD)  # only for its directory
        logo_path = write(os.path.join(tmp.dir, "logo.png"), cls.logo)
        cls.gw = gwtest.Gateway(BUILD, failed_lookups_per_minute="5", connection_timeout="2s",
                                logo=logo_path, audit_client_address="none")
        cls.tmp = tmp
        cls.gw.start()
        path = write(os.path.join(cls.gw.dir, "a.txt"), b"hello")
        cls.link, cls.package, cls.token = cls.gw.package([(path, None, None)])

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        log = cls.gw.log()
        cls.gw.cleanup()
        cls.tmp.cleanup()
        assert rc == 0, "gateway exited with %d:\n%s" % (rc, log[-4000:])

    def test_logo(self):
        html = self.gw.curl(self.link).text
        self.assertIn('<img src="/logo" alt="Logo van Woningcorporatie De Linde">', html)
        r = self.gw.curl(self.gw.url + "/logo")
        self.assertEqual((r.status, r.header("content-type"), r.body), (200, "image/png", self.logo))

    def test_failed_lookups_are_limited(self):
        bad = self.gw.url + "/d/" + flip(self.token, 50)
        statuses = [self.gw.curl(bad).status for _ in range(5)]
        self.assertEqual(statuses, [404] * 5)
        r = self.gw.curl(bad)
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("retry-after"), "60")
        self.assertIn("Te veel pogingen", r.text)
        # X-Forwarded-For from an untrusted peer is ignored
        self.assertEqual(self.gw.curl(bad, headers={"X-Forwarded-For": "203.0.113.5"}).status, 429)
        # while forgeries are blocked, a genuine link from the same address is not (a NAT)
        self.assertEqual(self.gw.curl(self.link).status, 200)
        limited = [a for a in self.gw.audit() if a["event"] == "rate-limited"]
        self.assertTrue(limited)
        self.assertNotIn("client", limited[-1])  # audit_client_address = none
        # 5 per minute: one more lookup after 12 s, not much before and not much later
        start = time.time()
        while self.gw.curl(bad).status == 429 and time.time() < start + 20:
            time.sleep(0.5)
        self.assertEqual(self.gw.curl(bad).status, 429)  # that one lookup was used at once
        self.assertGreater(time.time() - start, 8)
        self.assertLess(time.time() - start, 20)

    def test_idle_connections_are_closed(self):
        with socket.create_connection(("127.0.0.1", self.gw.port)) as s:
            s.settimeout(10)
            start = time.time()
            self.assertEqual(s.recv(1), b"")  # closed by the gateway, not by our timeout
            self.assertLess(time.time() - start, 8)


class StopDuringTransfers(unittest.TestCase):
    def test_sigterm_with_downloads_in_flight(self):
        """SIGTERM while a file and a zip are half sent: a clean exit, both audited as aborted."""
        gw = gwtest.Gateway(BUILD)
        socks = []
        try:
            gw.start()
            path = write(os.path.join(gw.dir, "big"), os.urandom(20_000_000))
            link, package, token = gw.package([(path, None, None)])
            for target in ("1", "all"):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
                s.connect(("127.0.0.1", gw.port))
                s.sendall(("GET /d/%s/%s HTTP/1.1\r\nHost: x\r\n\r\n" % (token, target)).encode())
                s.recv(30000)
                socks.append(s)
            deadline = time.time() + 10
            while gw.metrics()["bestanden_downloads_active"] < 2 and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(gw.metrics()["bestanden_downloads_active"], 2)
            rc = gw.stop()
            self.assertEqual(rc, 0, gw.log()[-3000:])
            lines = [a for a in gw.audit() if a["event"].startswith("download")]
            self.assertEqual(sorted((a["event"], a["file"], a["outcome"]) for a in lines),
                             [("download-incomplete", 0, "aborted"), ("download-incomplete", 1, "aborted")])
        finally:
            for s in socks:
                s.close()
            gw.stop()
            gw.cleanup()


class HttpsPublicUrl(unittest.TestCase):
    def test_hsts(self):
        gw = gwtest.Gateway(BUILD, public_url="https://bestanden.example.nl")
        try:
            gw.start()
            r = gw.curl(gw.url + "/healthz")
            self.assertEqual(r.header("strict-transport-security"), "max-age=31536000")
        finally:
            rc = gw.stop()
            gw.cleanup()
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_http.py BUILD_DIR [TEST ...]")
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
