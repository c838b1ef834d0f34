#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_hostile - bestanden-gateway against hostile HTTP, over raw sockets where curl cannot say it.

The standard: bad input gets a clear error and changes nothing; a hostile request is refused,
nothing is mangled or lost, the server stays up; no link token reaches a log line. Object API
(names, framing of uploads, ranges, token variants, listings), recipient routes (tokens of every
length, file numbers, methods), request framing (Content-Length / Transfer-Encoding), the log line
of odd methods, Accept-Language cost, the connection cap and timeout, and SIGTERM during an upload.
Review: a zip that fails part-way ends broken, forgeries from one address never lock out its
genuine links, wrong object-API tokens are limited, an object with bytes appended is refused,
requests without Host and header names with a space are refused.

usage: test_hostile.py BUILD_DIR
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None
SEC_HEADERS = ("x-content-type-options", "referrer-policy", "cache-control", "content-security-policy")


def parse(raw, is_head=False):
    """Every response in RAW bytes: [(status, {lower name: value}, body)]; bodies by
    Content-Length (none when answering HEAD)."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = 0 if is_head else int(headers.get("content-length", "0"))
        out.append((int(lines[0].split()[1]), headers, rest[:n]))
        raw = rest[n:]
    return out


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD, connection_timeout="2s", max_connections="16").start()
        path = os.path.join(cls.gw.dir, "file")
        cls.data = os.urandom(300_000)
        with open(path, "wb") as f:
            f.write(cls.data)
        cls.link, cls.package, cls.token = cls.gw.package([(path, "a.bin", None)])
        cls.auth = "Authorization: Bearer %s\r\n" % cls.gw.store_token

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        log = cls.gw.log()
        with open(cls.gw.audit_path) as f:
            audit = f.read()
        cls.gw.cleanup()
        for token in (cls.token, getattr(cls, "extra_token", cls.token)):
            assert token not in log, "a link token is in the gateway log"
            assert token not in audit, "a link token is in the audit log"
        assert rc == 0, "gateway exited with %d:\n%s" % (rc, log[-4000:])

    # ---- helpers ----

    def raw(self, data, timeout=10):
        """Send DATA on a new connection; everything the server says until it closes."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=timeout) as s:
            s.sendall(data)
            out = b""
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                out += b
            return out

    def request(self, method, path, headers="", body=b"", auth=False):
        head = "%s %s HTTP/1.1\r\nHost: x\r\n%s%sConnection: close\r\n\r\n" % (
            method, path, self.auth if auth else "", headers)
        got = parse(self.raw(head.encode("latin-1") + body), is_head=method == "HEAD")
        self.assertEqual(len(got), 1, "%s %s: one answer" % (method, path[:60]))
        return got[0]

    def put(self, name, body, headers=""):
        return self.request("PUT", "/v1/objects/" + name,
                            "Content-Length: %d\r\n%s" % (len(body), headers), body, auth=True)

    def objects(self):
        status, _, body = self.request("GET", "/v1/objects?limit=10000", auth=True)
        self.assertEqual(status, 200)
        return dict(line.split(" ") for line in body.decode().splitlines())

    def tmp_files(self):
        return os.listdir(os.path.join(self.gw.data_dir, ".tmp"))

    def assertSecurity(self, headers, what):
        for k in SEC_HEADERS:
            self.assertIn(k, headers, "%s: no %s" % (what, k))
        self.assertEqual(headers["x-content-type-options"], "nosniff", what)

    # ---- the object API ----

    def test_nul_in_a_name_is_refused_not_cut_short(self):
        """%00 used to end the decoded name: PUT ab%00/0 stored "ab", DELETE ab%00/1 deleted it."""
        self.assertEqual(self.put("c0de", b"keep")[0], 201)
        for method in ("PUT", "DELETE", "GET", "HEAD"):
            status, headers, _ = self.request(method, "/v1/objects/c0de%00/1",
                                              "Content-Length: 1\r\n" if method == "PUT" else "",
                                              b"x" if method == "PUT" else b"", auth=True)
            self.assertEqual(status, 400, method)
            self.assertSecurity(headers, method)
        self.assertEqual(self.objects().get("c0de"), "4", "the object named before the NUL changed")
        status, _, body = self.request("GET", "/v1/objects?prefix=c0%00zz", auth=True)
        self.assertEqual(status, 400)
        # the recipient side: a link with %00 and anything after it is not the link
        self.assertEqual(self.request("GET", "/d/%s%%00junk" % self.token)[0], 404)
        self.assertEqual(self.request("GET", "/d/%s/1%%00" % self.token)[0], 404)

    def test_bad_names(self):
        before = self.objects()
        for name in ("..", "%2e%2e/0", "%2E%2E", "/ab", "ab//0", "ab/", "", "AB/0", "ab/0/",
                     "a" * 300, "xyz", "ab%2F..%2F0", "ab/../0", ".tmp/x", "ab%20"):
            status, headers, body = self.put(name, b"x")
            self.assertEqual(status, 400, name)
            self.assertSecurity(headers, name)
        self.assertEqual(self.objects(), before)
        self.assertEqual(self.tmp_files(), [])

    def test_framing_of_uploads(self):
        """Two different Content-Lengths, or Content-Length with Transfer-Encoding: 400 before any
        body; an unknown coding: 501 at once (it used to hang until the timeout, answering
        nothing). Nothing is stored, and the bytes after are never read as a next request."""
        head = "PUT /v1/objects/f1 HTTP/1.1\r\nHost: x\r\n" + self.auth
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        cases = [
            ("Content-Length: 3\r\nContent-Length: 40\r\n", b"abc" + smuggled, 400),
            ("Content-Length: 40\r\nContent-Length: 3\r\n", b"abc" + smuggled, 400),
            ("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", b"3\r\nabc\r\n0\r\n\r\n", 400),
            ("Content-Length: 8\r\nTransfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n", 400),
            ("Transfer-Encoding: gzip\r\n", b"abc", 501),
            ("Transfer-Encoding: gzip, chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n", 501),
            ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n", 501),
        ]
        for extra, body, want in cases:
            start = time.time()
            got = parse(self.raw((head + extra + "\r\n").encode() + body, timeout=10))
            self.assertEqual([g[0] for g in got], [want], extra)
            self.assertLess(time.time() - start, 1.5, extra + ": answered at once")
            self.assertSecurity(got[0][1], extra)
        self.assertNotIn("f1", self.objects())
        self.assertEqual(self.tmp_files(), [])
        # what is fine stays fine: the same length twice, and chunked alone
        self.assertEqual(self.put("f2", b"abc", "Content-Length: 3\r\n")[0], 201)
        status = self.request("PUT", "/v1/objects/f3", "Transfer-Encoding: chunked\r\n",
                              b"3\r\nabc\r\n0\r\n\r\n", auth=True)[0]
        self.assertEqual(status, 201)
        self.assertEqual((self.objects()["f2"], self.objects()["f3"]), ("3", "3"))
        # the recipient side refuses the same way
        self.assertEqual(self.request("GET", "/d/" + self.token, "Transfer-Encoding: gzip\r\n")[0], 501)

    def test_upload_cut_off_leaves_nothing(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            s.sendall(("PUT /v1/objects/cafe/1 HTTP/1.1\r\nHost: x\r\n%sContent-Length: 5000000\r\n\r\n"
                       % self.auth).encode() + os.urandom(1_000_000))
            deadline = time.time() + 10
            while not self.tmp_files() and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(len(self.tmp_files()), 1)
        deadline = time.time() + 10
        while self.tmp_files() and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.tmp_files(), [])
        self.assertEqual(self.request("HEAD", "/v1/objects/cafe/1", auth=True)[0], 404)
        # a body shorter than declared: the connection times out, nothing appears
        got = self.raw(("PUT /v1/objects/cafe/2 HTTP/1.1\r\nHost: x\r\n%sContent-Length: 100\r\n\r\nabc"
                        % self.auth).encode(), timeout=8)
        self.assertEqual(got, b"")
        self.assertEqual(self.request("HEAD", "/v1/objects/cafe/2", auth=True)[0], 404)
        self.assertEqual(self.tmp_files(), [])

    def test_concurrent_puts_of_one_name(self):
        bodies = [bytes([i]) * 200_000 for i in range(8)]
        statuses = []

        def put(b):
            statuses.append(self.put("beef/1", b)[0])

        threads = [threading.Thread(target=put, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(statuses, [201] * 8)
        p = subprocess.run(["curl", "-s", "--max-time", "10", "-H", self.auth.strip(),
                            self.gw.url + "/v1/objects/beef/1"], capture_output=True)
        self.assertIn(p.stdout, bodies, "one whole upload, not a mix")
        self.assertEqual(self.tmp_files(), [])

    def test_ranges(self):
        self.assertEqual(self.put("ba", b"0123456789")[0], 201)
        cases = {
            "bytes=0-0": (206, b"0", "bytes 0-0/10"),
            "bytes=9-": (206, b"9", "bytes 9-9/10"),
            "bytes=-3": (206, b"789", "bytes 7-9/10"),
            "bytes=-99": (206, b"0123456789", "bytes 0-9/10"),
            "bytes=2-99": (206, b"23456789", "bytes 2-9/10"),
            "bytes=-0": (416, b"", "bytes */10"),
            "bytes=10-": (416, b"", "bytes */10"),
            "bytes=18446744073709551615-": (416, b"", "bytes */10"),
            "bytes=18446744073709551616-": (200, b"0123456789", None),  # overflow: ignored
            "bytes=0-99999999999999999999999": (200, b"0123456789", None),
            "bytes=0-1,3-4": (200, b"0123456789", None),  # several ranges: the whole object
            "bytes=5-3": (200, b"0123456789", None),
            "bytes=--1": (200, b"0123456789", None),
            "bytes=0x1-2": (200, b"0123456789", None),
            "items=1-2": (200, b"0123456789", None),
            "bytes=": (200, b"0123456789", None),
        }
        for rng, (status, body, content_range) in cases.items():
            got = self.request("GET", "/v1/objects/ba", "Range: %s\r\n" % rng, auth=True)
            self.assertEqual((got[0], got[2], got[1].get("content-range")), (status, body, content_range), rng)
        status, headers, _ = self.request("HEAD", "/v1/objects/ee", auth=True)
        self.assertEqual(status, 404)
        self.assertEqual(self.request("DELETE", "/v1/objects/ee", auth=True)[0], 204)

    def test_bearer_variants(self):
        t = self.gw.store_token
        for value, want in (("Bearer " + t, 200), ("bearer " + t, 200), ("BEARER " + t, 200),
                            ("Bearer", 401), ("Bearer ", 401), ("Bearer  " + t, 401),
                            ("Bearer " + t[:-1], 401), ("Bearer " + t + "x", 401),
                            ("Basic " + t, 401), (t, 401), ("Bearer " + "A" * 5000, 401)):
            status, headers, _ = self.request("GET", "/v1/objects?limit=1",
                                              "Authorization: %s\r\n" % value)
            self.assertEqual(status, want, value[:20])
            if want == 401:
                self.assertTrue(headers.get("www-authenticate", "").startswith("Bearer"))
        self.assertEqual(self.request("GET", "/v1/objects?limit=1")[0], 401)

    def test_hostile_listings(self):
        for query in ("limit=0", "limit=-1", "limit=abc", "limit=10001", "limit=99999999999999999999999",
                      "limit=", "prefix=../", "prefix=%2f", "prefix=a//", "after=zz", "prefix=.tmp",
                      "prefix=" + "a" * 300):
            status, headers, _ = self.request("GET", "/v1/objects?" + query, auth=True)
            self.assertEqual(status, 400, query)
        self.assertEqual(self.request("GET", "/v1/objects?limit=10000&prefix=ff&after=f", auth=True)[0], 200)

    # ---- the recipient side ----

    def test_tokens_of_every_length(self):
        for n in range(0, 201):
            for c in ("A", "."):
                status, headers, body = self.request("GET", "/d/" + c * n)
                self.assertEqual(status, 404, n)
                self.assertSecurity(headers, "/d/ + %d" % n)
        for bad in ("%41" * 56, self.token[:-1] + "=", self.token[:-1] + "+", self.token[:-1] + "%C3%A9"):
            self.assertEqual(self.request("GET", "/d/" + bad)[0], 404, bad)

    def test_file_numbers(self):
        base = "/d/" + self.token
        for suffix, want in (("", 200), ("/", 200), ("//", 404), ("/0", 404), ("/1", 200), ("/01", 404),
                             ("/1/", 404), ("/-1", 404), ("/+1", 404), ("/0x1", 404), ("/2", 404),
                             ("/1000000", 404), ("/1000001", 404), ("/99999999999999999999", 404),
                             ("/all", 200), ("/ALL", 404), ("/all/", 404), ("/a", 404),
                             ("/1?x=1&lang=zz", 200), ("?lang=en&lang=nl", 200)):
            status, headers, _ = self.request("HEAD", base + suffix)
            self.assertEqual(status, want, suffix)
            self.assertSecurity(headers, suffix)

    def test_if_range(self):
        url = "/d/%s/1" % self.token
        for value, want in (("garbage", 200), ("", 200), ('W/"%s-1"' % self.package, 200),
                            ('"%s-1"' % self.package, 206)):
            status = self.request("HEAD", url, "Range: bytes=0-9\r\nIf-Range: %s\r\n" % value)[0]
            self.assertEqual(status, want, value)

    def test_head_leaves_the_connection_clean(self):
        """HEAD of the zip (length unknown) sent a chunked body's end, "0\r\n\r\n", which a
        client keeping the connection reads as the start of the next answer."""
        for target in ("", "/1", "/all"):
            raw = self.raw("HEAD /d/%s%s HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                           % (self.token, target))
            head, _, rest = raw.partition(b"\r\n\r\n")
            self.assertRegex(head, rb"^HTTP/1\.[01] 200 ", target)
            self.assertIn(rest[:15], (b"", b"HTTP/1.1 200 OK"), target)

    def test_405_names_the_allowed_methods(self):
        """405 must carry Allow (RFC 9110 15.5.6); only /d/ did."""
        for path, allow, auth in (("/healthz", "GET, HEAD", False), ("/metrics", "GET, HEAD", False),
                                  ("/logo", "GET, HEAD", False), ("/v1/objects", "GET", True),
                                  ("/v1/objects/ab/0", "PUT, GET, HEAD, DELETE", True),
                                  ("/d/" + self.token, "GET, HEAD", False)):
            for method in ("POST", "PATCH", "OPTIONS", "FOO"):
                status, headers, _ = self.request(method, path, "Content-Length: 0\r\n", auth=auth)
                self.assertEqual((status, headers.get("allow")), (405, allow), "%s %s" % (method, path))
                self.assertSecurity(headers, path)

    def test_odd_methods_are_logged_safely(self):
        """The method went into the log line as the client wrote it: quotes, control characters,
        any length, a link token."""
        for method in ('GE"T', "GET\x01status=200", "X" * 3000, "/d/" + self.token):
            status = self.request(method, "/healthz")[0]
            self.assertEqual(status, 405)
        deadline = time.time() + 10
        while time.time() < deadline:
            lines = [l for l in self.gw.log().splitlines()
                     if "route=healthz" in l and "status=405" in l]
            if len(lines) >= 4:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(len(lines), 4)
        for line in lines:
            self.assertLess(len(line), 400, line[:100])
            self.assertIsNone(re.search(r"[\x00-\x1f\x7f]", line), line[:100])
        self.assertTrue(any('method="GE\\"T"' in l for l in lines), lines)
        self.assertNotIn(self.token, self.gw.log())

    def test_accept_language_costs_linear_time(self):
        """Each ';' entry searched for "q=" to the end of the header: quadratic in its length."""
        url = "/d/%s?x=1" % self.token

        def timed(value):
            best = None
            for _ in range(3):
                start = time.time()
                self.assertEqual(self.request("HEAD", url, "Accept-Language: %s\r\n" % value)[0], 200)
                t = time.time() - start
                best = t if best is None else min(best, t)
            return best

        plain = timed("x," * 110_000)
        hostile = timed(";," * 110_000)
        self.assertLess(hostile, 5 * plain + 0.05, "plain %.3f s, hostile %.3f s" % (plain, hostile))
        for value in ("en;q=nan,nl;q=inf", "en;q=1e999", "nl;q=-1,en", "en;;;q=", "q=1", ";" * 1000):
            self.assertEqual(self.request("HEAD", url, "Accept-Language: %s\r\n" % value)[0], 200, value)

    def test_huge_and_many_headers(self):
        url = "/d/" + self.token
        got = parse(self.raw("GET %s HTTP/1.1\r\nHost: x\r\nX: %s\r\n\r\n" % (url, "a" * 400_000)))
        self.assertEqual([g[0] for g in got], [431])
        many = "".join("X-%d: y\r\n" % i for i in range(30_000))
        got = parse(self.raw("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (url, many)))
        self.assertEqual([g[0] for g in got], [431])
        self.assertEqual(self.request("GET", "/healthz")[0], 200)

    # ---- connections ----

    def test_connection_cap_and_timeout(self):
        """max_connections = 16: the rest are closed at once; idle ones go after 2 s."""
        socks = [socket.create_connection(("127.0.0.1", self.gw.port), timeout=5) for _ in range(24)]
        try:
            time.sleep(0.5)
            closed = gwtest.closed_count(socks)
            self.assertGreaterEqual(closed, 8)
            start = time.time()
            for s in socks:
                s.settimeout(6)
                try:
                    s.recv(1)
                except ConnectionResetError:
                    pass
            self.assertLess(time.time() - start, 5)
        finally:
            for s in socks:
                s.close()
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    break
            except (ConnectionError, AssertionError):
                time.sleep(0.2)
        self.assertEqual(self.request("GET", "/healthz")[0], 200)

    def test_reader_that_stops_reading(self):
        path = os.path.join(self.gw.dir, "big")
        with open(path, "wb") as f:
            f.write(os.urandom(12_000_000))  # more than the socket buffers hold
        link, package, token = self.gw.package([(path, None, None)])
        self.__class__.extra_token = token
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        try:
            s.connect(("127.0.0.1", self.gw.port))
            s.sendall(("GET /d/%s/1 HTTP/1.1\r\nHost: x\r\n\r\n" % token).encode())
            s.recv(1000)
            deadline = time.time() + 15
            while time.time() < deadline:
                lines = [a for a in self.gw.audit() if a["event"] == "download-incomplete"
                         and a.get("package") == package and a.get("outcome") == "aborted"]
                if lines:
                    break
                time.sleep(0.2)
            self.assertTrue(lines, "a stalled download is ended by the timeout")
        finally:
            s.close()


def dechunk(body):
    """A chunked body's data, and whether its last chunk (0) came."""
    out = b""
    while body:
        line, sep, rest = body.partition(b"\r\n")
        if not sep:
            return out, False
        n = int(line.split(b";")[0], 16)
        if n == 0:
            return out, rest.startswith(b"\r\n")
        out += rest[:n]
        body = rest[n + 2:]
    return out, False


class Review(unittest.TestCase):
    """Findings of a hostile-input review, each with the request that showed it."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD, failed_lookups_per_minute="5").start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        log = cls.gw.log()
        cls.gw.cleanup()
        assert rc == 0, "gateway exited with %d:\n%s" % (rc, log[-4000:])

    raw = Hostile.raw
    request = Hostile.request

    def package(self, *sizes):
        paths = []
        for i, size in enumerate(sizes):
            paths.append((os.path.join(self.gw.dir, "f%d" % i), "f%d.bin" % i, None))
            with open(paths[-1][0], "wb") as f:
                f.write(os.urandom(size))
        return self.gw.package(paths)

    def zip_of(self, token):
        got = self.raw("GET /d/%s/all HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % token)
        head, _, body = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        return dechunk(body)

    def assertBroken(self, token):
        data, ended = self.zip_of(token)
        self.assertGreater(len(data), 100_000, "the first file went out before the failure")
        self.assertFalse(ended, "the chunked body must not end normally")
        self.assertNotIn(b"PK\x05\x06", data, "no end of central directory: the zip is broken")
        self.assertNotIn(b"PK\x01\x02", data, "no central directory either")

    def test_zip_ends_broken_when_a_chunk_fails(self):
        _, package, token = self.package(150_000, 300_000)
        data, ended = self.zip_of(token)
        self.assertTrue(ended)
        self.assertIn(b"PK\x05\x06", data)  # whole, it ends as a zip does
        with open(self.gw.object_path(package, 2), "r+b") as f:
            f.seek(22 + 65552 + 100)  # in the second chunk
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 1]))
        self.assertBroken(token)

    def test_zip_ends_broken_when_storage_fails(self):
        _, package, token = self.package(150_000, 300_000)
        os.unlink(self.gw.object_path(package, 2))
        self.assertBroken(token)

    def test_bytes_appended_to_an_object(self):
        link, package, token = self.package(1000)
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        path = self.gw.object_path(package, 1)
        with open(path, "ab") as f:
            f.write(b"\0" * 16)
        r = self.gw.curl(link + "/1")
        self.assertEqual(r.status, 404)
        os.truncate(path, os.path.getsize(path) - 16)
        self.assertEqual(self.gw.curl(link + "/1").status, 200)

    def test_forgeries_do_not_lock_out_genuine_links(self):
        """Forged tokens from one address (a NAT) are limited; genuine links from it are not."""
        link, _, token = self.package(1000)
        bad = self.gw.url + "/d/" + token[:50] + ("A" if token[50] != "A" else "B") + token[51:]
        statuses = [self.gw.curl(bad).status for _ in range(7)]
        self.assertEqual(statuses, [404] * 5 + [429] * 2)
        self.assertEqual(self.gw.curl(link).status, 200)
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        self.assertEqual(self.gw.curl(link + "/all").status, 200)
        self.assertEqual(self.gw.curl(bad).status, 429)  # genuine requests gave no credit
        # a genuine link to a package that is gone is not a forgery either
        gone_link, gone, _ = self.package(10)
        for name in os.listdir(os.path.join(self.gw.data_dir, gone)):
            os.unlink(os.path.join(self.gw.data_dir, gone, name))
        self.assertEqual([self.gw.curl(gone_link).status for _ in range(3)], [404] * 3)

    def test_wrong_object_api_tokens_are_limited(self):
        wrong = {"Authorization": "Bearer not-the-token"}
        url = self.gw.url + "/v1/objects"
        # another address than the download tests' (127.0.0.1): 127.0.0.2 is loopback too
        statuses = [self.gw.curl(url, "--interface", "127.0.0.2", headers=wrong).status
                    for _ in range(7)]
        self.assertEqual(statuses, [401] * 5 + [429] * 2)
        right = {"Authorization": "Bearer " + self.gw.store_token}
        self.assertEqual(self.gw.curl(url, "--interface", "127.0.0.2", headers=right).status, 200)

    def test_requests_without_host(self):
        status, _, _ = parse(self.raw("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"))[0]
        self.assertEqual(status, 400)
        self.assertEqual(self.request("GET", "/healthz")[0], 200)

    def test_header_names_with_a_space(self):
        for header in ("Transfer-Encoding : chunked", "Content-Length : 5", "X-A\t: b", "X A: b"):
            got = parse(self.raw("POST /v1/objects/ab/1 HTTP/1.1\r\nHost: x\r\n%s\r\n"
                                 "Connection: close\r\n\r\n0\r\n\r\n" % header))
            self.assertEqual(got[0][0], 400, header)


class Sweeper(unittest.TestCase):
    def test_an_upload_in_progress_is_kept(self):
        """The sweep at start deletes an expired package but keeps the objects of a package
        whose manifest has not come yet (an upload in progress): an orphan goes only after
        it has been seen for a grace age."""
        gw = self.gw = gwtest.Gateway(BUILD)
        try:
            gw.start()
            path = os.path.join(gw.dir, "f")
            with open(path, "wb") as f:
                f.write(b"x" * 1000)
            _, expired, _ = gw.package([(path, None, None)], lifetime=1)
            status, _, _ = parse(Hostile.raw(self, (
                "PUT /v1/objects/0123456789abcdef/1 HTTP/1.1\r\nHost: x\r\nAuthorization: "
                "Bearer %s\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
                % gw.store_token).encode()))[0]
            self.assertIn(status, (200, 201))
            self.assertEqual(gw.stop(), 0)
            deadline = time.time() + 10
            while time.time() < deadline and self.expires_in(gw, expired) >= 0:
                time.sleep(0.2)
            sweeps = gw.log().count("event=sweep ")
            gw.start()
            deadline = time.time() + 20
            while time.time() < deadline and gw.log().count("event=sweep ") == sweeps:
                time.sleep(0.1)
            line = [l for l in gw.log().splitlines() if "event=sweep " in l][-1]
            self.assertIn("expired=1", line)
            self.assertIn("orphans=1", line)
            self.assertFalse(os.path.exists(os.path.join(gw.data_dir, expired)))
            self.assertTrue(os.path.exists(gw.object_path("0123456789abcdef", 1)))
        finally:
            gw.stop()
            gw.cleanup()

    def expires_in(self, gw, package):
        """Seconds until PACKAGE expires, from its manifest's clear header."""
        with open(gw.object_path(package, 0), "rb") as f:
            header = f.read(32)
        return int.from_bytes(header[24:32], "big", signed=True) - int(time.time())


class AdminListener(unittest.TestCase):
    def test_object_api_and_metrics_on_their_own_listener(self):
        """[gateway] internal_listen: the object API and /metrics answer there and nowhere else;
        the recipients' pages answer only on listen; /healthz on both."""
        admin_port = gwtest.free_port()
        admin = "http://127.0.0.1:%d" % admin_port
        gw = gwtest.Gateway(BUILD, internal_listen="127.0.0.1:%d" % admin_port)
        with open(gw.conf_path) as f:
            conf = f.read()
        with open(gw.conf_path, "w") as f:
            f.write(conf.replace("\nurl = %s\n" % gw.url, "\nurl = %s\n" % admin))  # [storage]
        try:
            gw.start()
            path = os.path.join(gw.dir, "f")
            with open(path, "wb") as f:
                f.write(b"hello")
            link, _, token = gw.package([(path, None, None)])  # through the admin listener
            auth = {"Authorization": "Bearer " + gw.store_token}
            self.assertEqual(gw.curl(link + "/1").body, b"hello")
            self.assertEqual(gw.curl(admin + "/d/" + token + "/1").status, 404)
            self.assertEqual(gw.curl(gw.url + "/metrics").status, 404)
            self.assertEqual(gw.curl(gw.url + "/v1/objects", headers=auth).status, 404)
            self.assertEqual(gw.curl(admin + "/metrics").status, 200)
            self.assertEqual(gw.curl(admin + "/v1/objects", headers=auth).status, 200)
            for base in (gw.url, admin):
                self.assertEqual(gw.curl(base + "/healthz").status, 200)
        finally:
            rc = gw.stop()
            log = gw.log()
            gw.cleanup()
        self.assertEqual(rc, 0, log[-3000:])


class StopDuringUpload(unittest.TestCase):
    def test_sigterm_during_upload(self):
        """SIGTERM with an upload half in: a clean exit, no object, no temporary file; then no
        one answers."""
        gw = gwtest.Gateway(BUILD)
        try:
            gw.start()
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
            s.sendall(("PUT /v1/objects/dead/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Length: 9000000\r\n\r\n" % gw.store_token).encode() + os.urandom(500_000))
            tmp = os.path.join(gw.data_dir, ".tmp")
            deadline = time.time() + 10
            while not os.listdir(tmp) and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(len(os.listdir(tmp)), 1)
            rc = gw.stop()
            s.close()
            self.assertEqual(rc, 0, gw.log()[-3000:])
            self.assertEqual(os.listdir(tmp), [])
            self.assertFalse(os.path.exists(os.path.join(gw.data_dir, "dead", "1")))
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", gw.port), timeout=2).close()
        finally:
            gw.stop()
            gw.cleanup()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_hostile.py BUILD_DIR [TEST ...]")
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
