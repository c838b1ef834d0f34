#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""bench_small_download - the time of one small download, this build against another.

usage: python3 bench/bench_small_download.py BUILD_DIR OTHER_BUILD_DIR [REQUESTS] [ROUNDS]
       (defaults: 300 requests, 7 rounds)

Starts a gateway (embedded store, tests/gateway/gwtest.py) from each build with a package of
one 1 KiB file, then per round sends REQUESTS downloads of GET /d/<token>/1 to each over one
kept-alive connection, the order of the gateways rotating by round. A small file makes the
fixed cost of a download show: the token check, the manifest read and opened (its sealed
server key opened with the gateway key: in the key process since it has one), the headers.
Prints the median time per download of each round and their ratio (BUILD_DIR / OTHER).
Benchmarks never run as tests.
"""
import http.client
import os
import statistics
import sys
import time
import urllib.parse

from bench_download import start_gateways  # noqa: E402 (bench/ is on the path)


def run(link, n):
    u = urllib.parse.urlsplit(link + "/1")
    c = http.client.HTTPConnection(u.hostname, u.port)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        c.request("GET", u.path)
        r = c.getresponse()
        body = r.read()
        times.append(time.perf_counter() - t)
        if r.status != 200 or len(body) != 1024:
            raise RuntimeError("download answered %d, %d bytes" % (r.status, len(body)))
    c.close()
    return statistics.median(times) * 1e6


def main():
    builds = [os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    gws = []
    try:
        links = start_gateways(builds, gws, lambda f: f.write(os.urandom(1024)))
        for link in links:
            run(link, 50)  # warm up
        ratios = []
        for i in range(rounds):
            us = [0.0, 0.0]
            for k in (range(2) if i % 2 == 0 else range(1, -1, -1)):
                us[k] = run(links[k], n)
            ratios.append(us[0] / us[1])
            print("round %d: this %.0f us, other %.0f us, ratio %.3f" % (i + 1, us[0], us[1],
                                                                         ratios[-1]))
        print("ratio median %.3f (%.3f-%.3f)" % (statistics.median(ratios), min(ratios),
                                                   max(ratios)))
    finally:
        for gw in gws:
            gw.stop()
            gw.cleanup()


if __name__ == "__main__":
    main()
