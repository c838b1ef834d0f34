#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_hostile_load - bestanden-gateway under hostile load, while genuine recipients download.

Each case states its expected outcome and counts what happened (docs/FUZZING.md has the table):
- slowloris: hundreds of connections from ten addresses, each sending one byte of its request
  a second. Expected: every one is closed by [gateway] header_timeout (not by the idle
  connection_timeout, which a byte a second never reaches), each after the timeout and soon
  after it; one address holds at most max_connections_per_client at once (the rest are closed
  at once); genuine downloads from another address meanwhile succeed, byte for byte, fast.
- forged tokens: 5000 from one address and 1000 from each of five others, and some at /u/.
  Expected: an address gets at most failed_lookups_per_minute 404s (plus what refills while
  the flood lasts), every other answer is 429; /d/ and /u/ share one count; genuine downloads
  from another address meanwhile all succeed.
- giant headers: a 1 MB header line and 10 000 headers. Expected: 431 or the connection closed,
  the gateway alive, its resident memory not grown by repetition.
The gateway's log must hold no link token. The whole file runs in well under a minute.

usage: test_hostile_load.py BUILD_DIR
"""
import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None
RATE = 30  # failed_lookups_per_minute
HEADER_TIMEOUT = 3
PER_CLIENT = 32


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


def connect(port, source, timeout=10):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


class KeepAlive:
    """Requests one after another on one connection from SOURCE; (status, body) each."""

    def __init__(self, port, source):
        self.port, self.source, self.sock, self.buf = port, source, None, b""

    def get(self, path):
        for _ in range(2):  # once more on a fresh connection if the server closed this one
            if self.sock is None:
                self.sock = connect(self.port, self.source)
                self.buf = b""
            try:
                self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
                return self._response()
            except (ConnectionError, EOFError):
                self.close()
        raise AssertionError("no answer to %s from %s" % (path[:20], self.source))

    def _read(self):
        b = self.sock.recv(65536)
        if not b:
            raise EOFError
        self.buf += b

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._read()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        n = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                n = int(v)
        while len(self.buf) < n:
            self._read()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(lines[0].split()[1]), body

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None


class Downloader(threading.Thread):
    """A genuine recipient at 127.0.0.1 downloading LINK again and again until stopped."""

    def __init__(self, gw, link, data):
        super().__init__(daemon=True)
        self.gw, self.link, self.data = gw, link, data
        self.stop = threading.Event()
        self.times, self.failures = [], []

    def run(self):
        while not self.stop.is_set():
            start = time.time()
            r = self.gw.curl(self.link + "/1", "--interface", "127.0.0.1", timeout=15)
            self.times.append(time.time() - start)
            if r.status != 200 or r.body != self.data:
                self.failures.append((r.status, len(r.body), r.exit_code))
            time.sleep(0.2)


class HostileLoad(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD, failed_lookups_per_minute=str(RATE),
                                header_timeout="%ds" % HEADER_TIMEOUT,
                                max_connections_per_client=str(PER_CLIENT),
                                connection_timeout="60s", max_connections="1024").start()
        path = os.path.join(cls.gw.dir, "file")
        cls.data = os.urandom(2_000_000)
        with open(path, "wb") as f:
            f.write(cls.data)
        cls.link, cls.package, cls.token = cls.gw.package([(path, "a.bin", None)])
        bad = cls.token[:50] + ("A" if cls.token[50] != "A" else "B") + cls.token[51:]
        cls.forged = bad  # the MAC no longer verifies
        cls.figures = {}

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        log = cls.gw.log()
        cls.gw.cleanup()
        for k, v in sorted(cls.figures.items()):
            print("figure %s = %s" % (k, v))
        assert cls.token not in log, "a link token is in the gateway log"
        assert rc == 0, "gateway exited with %d:\n%s" % (rc, log[-4000:])

    def assertDownloads(self, dl, what):
        self.assertFalse(dl.failures, "%s: genuine downloads failed: %s" % (what, dl.failures[:5]))
        self.assertGreaterEqual(len(dl.times), 1, what)
        self.assertLess(max(dl.times), 5, "%s: a genuine download took %.1f s" % (what, max(dl.times)))

    def test_slowloris(self):
        sources = ["127.0.0.%d" % (10 + i) for i in range(10)]
        socks = [(connect(self.gw.port, src), time.time()) for src in sources for _ in range(30)]
        rss_before = rss_kb(self.gw.proc.pid)
        dl = Downloader(self.gw, self.link, self.data)
        dl.start()
        request = ("GET /d/%s HTTP/1.1\r\nHost: x\r\n" % self.forged).encode()
        closed_after = {}
        try:
            deadline = time.time() + HEADER_TIMEOUT + 5
            i = 0
            while len(closed_after) < len(socks) and time.time() < deadline:
                for n, (s, opened) in enumerate(socks):
                    if n in closed_after:
                        continue
                    try:
                        s.send(request[i % len(request):i % len(request) + 1])
                        s.settimeout(0)
                        if s.recv(1) == b"":
                            closed_after[n] = time.time() - opened
                    except (BlockingIOError, socket.timeout):
                        pass
                    except (ConnectionError, OSError):
                        closed_after[n] = time.time() - opened
                i += 1
                time.sleep(1)
            rss_peak = rss_kb(self.gw.proc.pid)
        finally:
            dl.stop.set()
            dl.join()
            for s, _ in socks:
                s.close()
        self.figures["slowloris_connections"] = len(socks)
        self.figures["slowloris_closed"] = len(closed_after)
        if closed_after:
            self.figures["slowloris_closed_after_s"] = "%.1f-%.1f" % (
                min(closed_after.values()), max(closed_after.values()))
        self.figures["slowloris_genuine_downloads"] = len(dl.times)
        self.figures["slowloris_genuine_max_s"] = "%.2f" % max(dl.times)
        self.figures["slowloris_rss_kb"] = "%d -> %d" % (rss_before, rss_peak)
        self.assertEqual(len(closed_after), len(socks), "slow clients still connected")
        self.assertGreaterEqual(min(closed_after.values()), HEADER_TIMEOUT - 1.1,
                                "closed before header_timeout")
        self.assertLess(max(closed_after.values()), HEADER_TIMEOUT + 3, "closed late")
        self.assertDownloads(dl, "slowloris")
        self.assertRegex(self.gw.log(), r"event=slow-clients-closed count=\d+")

    def test_one_address_holds_few_connections(self):
        socks = [connect(self.gw.port, "127.0.0.9") for _ in range(PER_CLIENT + 40)]
        try:
            time.sleep(0.5)
            closed = gwtest.closed_count(socks)
            self.figures["per_client_refused"] = "%d of %d" % (closed, len(socks))
            self.assertEqual(closed, 40, "max_connections_per_client = %d" % PER_CLIENT)
            # another address is not held back by that one
            self.assertEqual(self.gw.curl(self.link + "/1", "--interface", "127.0.0.8").status, 200)
        finally:
            for s in socks:
                s.close()

    def flood(self, source, path, count):
        c = KeepAlive(self.gw.port, source)
        statuses = {}
        start = time.time()
        try:
            for _ in range(count):
                status, _ = c.get(path)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            c.close()
        return statuses, time.time() - start

    def assertLimited(self, statuses, seconds, what):
        allowed = RATE + int(seconds * RATE / 60) + 1  # what refills while the flood lasts
        self.assertEqual(set(statuses) - {404, 429}, set(), "%s: %s" % (what, statuses))
        self.assertGreaterEqual(statuses.get(404, 0), RATE, what)
        self.assertLessEqual(statuses.get(404, 0), allowed, "%s: %s" % (what, statuses))

    def test_forged_token_flood(self):
        dl = Downloader(self.gw, self.link, self.data)
        dl.start()
        results = {}
        try:
            threads = [threading.Thread(target=lambda: results.__setitem__(
                "127.0.0.2", self.flood("127.0.0.2", "/d/" + self.forged, 5000)))]
            for i in range(5):
                src = "127.0.0.%d" % (3 + i)
                threads.append(threading.Thread(target=lambda src=src: results.__setitem__(
                    src, self.flood(src, "/d/%s/1" % self.forged, 1000))))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            dl.stop.set()
            dl.join()
        total = sum(sum(s.values()) for s, _ in results.values())
        refused = sum(s.get(429, 0) for s, _ in results.values())
        for src, (statuses, seconds) in sorted(results.items()):
            self.assertLimited(statuses, seconds, src)
        self.figures["forged_sent"] = total
        self.figures["forged_429"] = refused
        self.figures["forged_404"] = total - refused
        self.figures["forged_genuine_downloads"] = len(dl.times)
        self.figures["forged_genuine_max_s"] = "%.2f" % max(dl.times)
        self.figures["forged_seconds"] = "%.1f" % max(sec for _, sec in results.values())
        self.assertEqual(total, 10_000)
        self.assertDownloads(dl, "forged flood")
        m = self.gw.metrics()
        self.assertGreaterEqual(m.get('bestanden_link_refusals_total{reason="rate_limited"}', 0), refused)

    def test_upload_request_links_are_limited_too(self):
        """/u/ counts forged tokens like /d/, in the same count."""
        statuses, seconds = self.flood("127.0.0.20", "/u/" + self.forged, 60)
        self.assertLimited(statuses, seconds, "/u/")
        self.assertEqual(statuses.get(429, 0) + statuses.get(404, 0), 60)
        # the count is shared: an address limited at /d/ is limited at /u/, and the other way
        self.flood("127.0.0.21", "/d/" + self.forged, RATE + 5)
        self.assertEqual(self.flood("127.0.0.21", "/u/" + self.forged, 3)[0], {429: 3})
        self.assertEqual(self.flood("127.0.0.20", "/d/" + self.forged, 3)[0], {429: 3})
        # a POST is refused before its body is read
        with connect(self.gw.port, "127.0.0.20") as s:
            s.sendall(("POST /u/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                       "Content-Type: multipart/form-data; boundary=b\r\n\r\nhello" % self.forged).encode())
            self.assertRegex(s.recv(100).decode("latin-1"), r"^HTTP/1\.1 429 ")
        # a genuine download link from the limited address still works
        r = self.gw.curl(self.link + "/1", "--interface", "127.0.0.20")
        self.assertEqual((r.status, r.body == self.data), (200, True))
        audit = [a for a in self.gw.audit() if a["event"] == "rate-limited"]
        self.assertTrue(audit, "no rate-limited line in the audit log")

    def giant(self, head):
        """Send HEAD (bytes) on a new connection: the status answered, or None when closed."""
        with connect(self.gw.port, "127.0.0.30", timeout=10) as s:
            try:
                s.sendall(head)
            except (BrokenPipeError, ConnectionResetError):
                pass
            out = b""
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    out += b
            except (ConnectionResetError, socket.timeout):
                pass
        m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
        return int(m.group(1)) if m else None

    def test_giant_headers(self):
        url = "/d/" + self.token
        line = ("GET %s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % (url, "a" * 1_000_000)).encode()
        many = ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (
            url, "".join("X-Header-%05d: %s\r\n" % (i, "v" * 24) for i in range(10_000)))).encode()
        outcomes = {}
        for i in range(3):  # warm up: threads and allocator arenas
            self.giant(line)
            self.giant(many)
        before = rss_kb(self.gw.proc.pid)
        for i in range(20):
            for name, head in (("1 MB line", line), ("10 000 headers", many)):
                status = self.giant(head)
                outcomes.setdefault(name, set()).add(status)
                self.assertIn(status, (431, None), name)
        after = rss_kb(self.gw.proc.pid)
        self.figures["giant_headers_outcomes"] = {k: sorted(map(str, v)) for k, v in outcomes.items()}
        self.figures["giant_headers_rss_kb"] = "%d -> %d" % (before, after)
        self.assertLess(after - before, 8 * 1024, "resident memory grew %d KB" % (after - before))
        self.assertEqual(self.gw.curl(self.link + "/1").status, 200)


if __name__ == "__main__":
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
