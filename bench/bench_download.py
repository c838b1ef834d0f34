#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""bench_download - one recipient download against what one core decrypts, in the same run.

usage: python3 bench/bench_download.py [BUILD_DIR] [MIB] [ROUNDS] [OTHER_BUILD_DIR]
       (defaults: build 100 7)

Starts a gateway (embedded store) on loopback with tests/gateway/gwtest.py and stores one
MIB MiB random file as a package; with OTHER_BUILD_DIR (say, a build of an earlier commit)
a second gateway from that build, with its own package. Each round runs, in an order that
rotates by round,
  - bench_stream (BUILD_DIR/bench/bench_stream 64 3): the "decrypt, 64 KiB writes" rate,
    one core decrypting a payload held in memory;
  - curl GET /d/<token>/1 from each gateway: ciphertext read from the store, decrypted,
    sent over loopback;
and prints each download's ratio to that round's decryption rate. Reported: medians and
min-max of each.
Benchmarks never run as tests. Needs curl; build bench_stream first
(cmake --build BUILD_DIR --target bench_stream).
"""
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "gateway"))
import gwtest  # noqa: E402


def decrypt_rate(build):
    out = subprocess.run([os.path.join(build, "bench", "bench_stream"), "64", "3"],
                         capture_output=True, check=True).stdout.decode()
    return float(re.search(r"decrypt, 64 KiB writes\s+([\d.]+) MB/s", out).group(1))


def download_rate(url, size):
    out = subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-w",
                          "%{time_total} %{size_download}", url],
                         capture_output=True, check=True).stdout.decode().split()
    if int(out[1]) != size:
        raise RuntimeError("download gave %s bytes, not %d" % (out[1], size))
    return size / 1e6 / float(out[0])


def spread(v):
    return "%.2f (%.2f-%.2f)" % (statistics.median(v), min(v), max(v))


def start_gateways(builds, gws, fill):
    """A gateway (appended to GWS) from each build, each with a package of one file that
    FILL(f) writes; returns their links."""
    links = []
    for b in builds:
        gw = gwtest.Gateway(b)
        gws.append(gw)
        gw.start()
        path = os.path.join(gw.dir, "data")
        with open(path, "wb") as f:
            fill(f)
        links.append(gw.package([(path, "data.bin", None)])[0])
    return links


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    builds = [build] + ([os.path.abspath(sys.argv[4])] if len(sys.argv) > 4 else [])
    gws = []
    try:
        links = [link + "/1" for link in start_gateways(builds, gws, lambda f: [
            f.write(os.urandom(1 << 20)) for _ in range(mib)])]
        for link in links:
            download_rate(link, mib << 20)  # warm the page cache
        names = ["decrypt"] + builds
        rate = {n: [] for n in names}
        ratio = {b: [] for b in builds}
        for r in range(rounds):
            got = {}
            for k in range(len(names)):
                n = names[(k + r) % len(names)]
                if n == "decrypt":
                    got[n] = decrypt_rate(build)
                else:
                    got[n] = download_rate(links[builds.index(n)], mib << 20)
                time.sleep(0.2)
            for n in names:
                rate[n].append(got[n])
            for b in builds:
                ratio[b].append(got[b] / got["decrypt"])
            print("round %d: decrypt %.0f MB/s; " % (r + 1, got["decrypt"]) +
                  "; ".join("%s %.0f MB/s, ratio %.2f" % (b, got[b], got[b] / got["decrypt"])
                            for b in builds), flush=True)
    finally:
        for gw in gws:
            gw.stop()
            gw.cleanup()
    print("%d MiB, %d rounds, median (min-max):" % (mib, rounds))
    print("  decrypt (bench_stream)  %s MB/s" % spread(rate["decrypt"]))
    for b in builds:
        print("  download, %s: %s MB/s, ratio to decrypt %s" % (b, spread(rate[b]), spread(ratio[b])))


if __name__ == "__main__":
    main()
