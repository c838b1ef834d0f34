#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""bench_gateway - what a recipient gets from bestanden-gateway, against baselines of the same run.

usage: python3 bench/bench_gateway.py [BUILD_DIR] [MIB] [ROUNDS]   (defaults: build 100 7)

Starts a gateway (embedded store) on loopback with tests/gateway/gwtest.py, stores one
MIB MiB random file as a package, then:
  1. download: ROUNDS alternating rounds of curl GET /d/<token>/1 (ciphertext read from
     disk, decrypted chunk by chunk, streamed) against curl GET of the same object's
     ciphertext from the object API (sendfile of the stored file); medians, MB/s, ratio.
     The zip of the same package (/d/<token>/all) is timed the same way.
  2. memory: the gateway's peak resident set (VmHWM) before and after 4 simultaneous
     downloads of the file.
  3. landing page: wrk (2 threads, 32 connections, 10 s, --latency) on /d/<token> and,
     as the baseline, on /healthz; requests/s and p99 latency, ratios.
Benchmarks never run as tests. Needs curl and wrk (apt-get install wrk).
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "gateway"))
import gwtest  # noqa: E402


def curl_time(url, headers=()):
    argv = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}"]
    for h in headers:
        argv += ["-H", h]
    out = subprocess.run(argv + [url], capture_output=True, check=True).stdout.decode().split()
    return float(out[0]), int(out[1])


def vm_hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # MiB
    return 0.0


def wrk(url, seconds=10):
    out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds, "--latency", url],
                         capture_output=True, check=True).stdout.decode()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError("wrk saw %s failed responses on %s" % (errors.group(1), url))
    return rps, p99


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    for tool in ("curl", "wrk"):
        if shutil.which(tool) is None:
            sys.exit("bench_gateway: %s is not installed" % tool)
    gw = gwtest.Gateway(build, max_connections="1024")
    try:
        gw.start()
        path = os.path.join(gw.dir, "data")
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1 << 20))
        size = mib << 20
        link, package, token = gw.package([(path, "data.bin", None)])
        obj = gw.url + "/v1/objects/%s/1" % package
        auth = ["Authorization: Bearer " + gw.store_token]

        # 1. download, alternating which goes first
        times = {"gateway": [], "store": [], "zip": []}
        for r in range(rounds):
            order = ["gateway", "store", "zip"] if r % 2 == 0 else ["store", "gateway", "zip"]
            for what in order:
                if what == "gateway":
                    t, n = curl_time(link + "/1")
                    assert n == size, n
                elif what == "store":
                    t, n = curl_time(obj, auth)
                else:
                    t, n = curl_time(link + "/all")
                times[what].append(t)
                time.sleep(0.2)
        mbs = {k: size / 1e6 / statistics.median(v) for k, v in times.items()}

        # 2. memory
        before = vm_hwm(gw.proc.pid)
        procs = [subprocess.Popen(["curl", "-sS", "--fail", "-o", "/dev/null", link + "/1"])
                 for _ in range(4)]
        for p in procs:
            p.wait()
        after = vm_hwm(gw.proc.pid)

        # 3. landing page
        wrk(gw.url + "/healthz", 2)  # warm-up
        page_rps, page_p99 = wrk(link)
        base_rps, base_p99 = wrk(gw.url + "/healthz")
    finally:
        gw.stop()
        gw.cleanup()

    print("download of a %d MiB file, medians of %d rounds, MB/s:" % (mib, rounds))
    print("  store object API (ciphertext, sendfile)  %8.0f   1.00" % mbs["store"])
    print("  gateway /d/<token>/1 (decrypting)        %8.0f   %.2f" % (mbs["gateway"], mbs["gateway"] / mbs["store"]))
    print("  gateway /d/<token>/all (zip, stored)     %8.0f   %.2f" % (mbs["zip"], mbs["zip"] / mbs["store"]))
    print("gateway peak RSS: %.1f MiB before, %.1f MiB after 4 simultaneous downloads (ratio %.2f)"
          % (before, after, after / before))
    print("landing page with wrk (2 threads, 32 connections, 10 s):")
    print("  /healthz     %8.0f req/s   p99 %6.2f ms" % (base_rps, base_p99))
    print("  /d/<token>   %8.0f req/s   p99 %6.2f ms   ratio req/s %.2f, p99 %.2f"
          % (page_rps, page_p99, page_rps / base_rps, page_p99 / base_p99))


if __name__ == "__main__":
    main()
