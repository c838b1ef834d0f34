#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_concurrent - 200 downloads at once through one gateway, every byte right.

200 clients (threads, plain sockets with a small receive buffer) each ask for
a file larger than what socket buffers can hold, read the headers and the
first bytes, and wait at a barrier: at that moment the gateway has 200
transfers in progress, which /metrics must show. Then all read on; every
file must equal its original (SHA-256), the audit log must hold 200 complete
downloads, no download may still be active, and the gateway must stop
cleanly (the ASan build reports leaks and races that way).

usage: test_concurrent.py BUILD_DIR
"""
import hashlib
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

N = 200
SIZE = 6_000_000  # more than a loopback socket's send and receive buffers together


def fetch(port, path, barrier, result):
    try:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        s.settimeout(120)
        s.connect(("127.0.0.1", port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed in the headers")
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(v) for k, _, v in (l.partition(":") for l in lines[1:])
                      if k.strip().lower() == "content-length")
        h = hashlib.sha256(body)
        got = len(body)
        barrier.wait(timeout=120)  # all 200 are mid-transfer now
        barrier.wait(timeout=120)  # the main thread has looked at /metrics
        while got < length:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
        s.close()
        result.update(status=status, length=length, got=got, sha=h.hexdigest())
    except Exception as e:  # reported by the main thread
        result["error"] = repr(e)
        barrier.abort()


def main(build):
    gw = gwtest.Gateway(build, max_connections="512").start()
    failures = []
    try:
        originals = []
        for i in range(2):
            data = os.urandom(SIZE + i * 4099)
            path = os.path.join(gw.dir, "f%d.bin" % i)
            with open(path, "wb") as f:
                f.write(data)
            originals.append((path, hashlib.sha256(data).hexdigest(), len(data)))
        link, package, token = gw.package([(p, None, None) for p, _, _ in originals])
        barrier = threading.Barrier(N + 1)
        results = [{} for _ in range(N)]
        threads = [threading.Thread(target=fetch,
                                    args=(gw.port, "/d/%s/%d" % (token, 1 + i % 2), barrier, results[i]))
                   for i in range(N)]
        start = time.time()
        for t in threads:
            t.start()
        active = -1
        try:
            barrier.wait(timeout=120)
            active = gw.metrics()["bestanden_downloads_active"]
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            failures.append("a client failed before all 200 were under way")
        for t in threads:
            t.join(timeout=300)
        elapsed = time.time() - start
        if active != N:
            failures.append("%d downloads in progress at the barrier, not %d" % (active, N))
        for i, r in enumerate(results):
            _, sha, length = originals[i % 2]
            if "error" in r or not r:
                failures.append("client %d: %s" % (i, r.get("error", "did not finish")))
            elif (r["status"], r["length"], r["got"], r["sha"]) != (200, length, length, sha):
                failures.append("client %d: status %d, %d of %d bytes, sha %s"
                                % (i, r["status"], r["got"], r["length"], "ok" if r["sha"] == sha else "WRONG"))
        deadline = time.time() + 10
        while time.time() < deadline:
            m = gw.metrics()
            done = [a for a in gw.audit() if a["event"] == "download" and a["outcome"] == "complete"]
            if m["bestanden_downloads_active"] == 0 and len(done) == N:
                break
            time.sleep(0.2)
        if len(done) != N:
            failures.append("%d complete downloads in the audit log, not %d" % (len(done), N))
        if m["bestanden_downloads_active"] != 0:
            failures.append("downloads still active after the end: %d" % m["bestanden_downloads_active"])
        print("%d concurrent downloads of %.0f MB (%d in progress at once) in %.1f s: %.0f MB/s"
              % (N, SIZE / 1e6, active, elapsed, N * SIZE / 1e6 / elapsed))
    finally:
        rc = gw.stop()
        if rc != 0:
            failures.append("gateway exited with %d:\n%s" % (rc, gw.log()[-4000:]))
        gw.cleanup()
    for f in failures[:20]:
        print("FAIL:", f)
    print("FAILED" if failures else "OK")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_concurrent.py BUILD_DIR")
    sys.exit(main(os.path.abspath(sys.argv[1])))
