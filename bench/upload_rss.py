# SPDX-License-Identifier: EUPL-1.2
"""upload_rss - peak memory of bestanden-gateway while it takes one large upload.

Starts a gateway (embedded store, smtp-sink for the requester's mail), creates
an upload request, uploads 1 MiB through curl's multipart form (baseline) and
then one large file (default 1 GiB, sent from a sparse-free file of random
blocks), and reads the gateway's peak resident set size (VmHWM) after each.
The target: the peak after the large upload within 10% of the peak after the
1 MiB one (memory does not grow with upload size).

usage: python3 bench/upload_rss.py BUILD_DIR [MiB]
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "gateway"))
sys.path.insert(0, HERE)
import gwtest  # noqa: E402
import test_upload  # noqa: E402  (its smtp-sink)
from milter_rss import peak_kib  # noqa: E402


def write_file(path, mib):
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(block[i % 7:] + block[:i % 7])  # not one repeated block


def upload(gw, link, path):
    t0 = time.time()
    r = gw.curl(link, "-F", "file=@%s;filename=%s" % (path, os.path.basename(path)),
                timeout=3600)
    if r.status != 200:
        raise RuntimeError("upload answered %d: %s" % (r.status, r.text[:500]))
    return time.time() - t0


def main():
    build = sys.argv[1]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    gw = gwtest.Gateway(build)
    sink = test_upload.Sink(gw.dir)
    with open(gw.conf_path, "a") as f:
        f.write("[smtp]\nhost = 127.0.0.1\nport = %d\nfrom = bestanden@example.nl\n" % sink.port)
        f.write("[requests]\nspool_dir = %s\n" % gw.dir)
    try:
        gw.start()
        link = gw.run([gw.prog("cli"), "-c", gw.conf_path, "request", "create", "--requester",
                       "jan@example.nl", "--several-uses", "--max-size", "%dM" % (mib + 1),
                       "--max-file-size", "%dM" % (mib + 1)]).decode().strip()
        small, big = os.path.join(gw.dir, "small.bin"), os.path.join(gw.dir, "big.bin")
        write_file(small, 1)
        write_file(big, mib)
        base_t = upload(gw, link, small)
        base = peak_kib(gw.proc.pid)
        big_t = upload(gw, link, big)
        peak = peak_kib(gw.proc.pid)
        os.unlink(big)
    finally:
        rc = gw.stop()
        sink.stop()
        gw.cleanup()
    ok = peak <= base * 1.10 and rc == 0
    print("gateway peak RSS after a 1 MiB upload (baseline): %.1f MiB (%.2f s)"
          % (base / 1024, base_t))
    print("gateway peak RSS after a %d MiB upload:         %.1f MiB (%.1f s, %.0f MiB/s)"
          % (mib, peak / 1024, big_t, mib / big_t))
    print("ratio peak/baseline: %.3f; target: within 10%% -> %s"
          % (peak / base, "met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
