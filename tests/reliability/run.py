#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""run - `make reliability`: the load run and the two-node run on a private Ceph RGW.

usage: run.py BUILD_DIR [--messages N] [--sessions N] [--only load|two-nodes]
       (RELIABILITY_MESSAGES sets N too; default 2000). As root: Ceph, Postfix and nginx
       want it. Prints the table of counts (docs/RELIABILITY.md has a run's figures) and
       exits non-zero on any mismatch. BD_KEEP_TEST_DIR=1 keeps the working directory.
"""
import argparse
import os
import platform
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402
import nodes  # noqa: E402
import twonode  # noqa: E402


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def table(counts):
    width = max(len(k) for k in counts)
    return "\n".join("%-*s  %s" % (width, k, v) for k, v in counts.items())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--messages", type=int, default=int(os.environ.get("RELIABILITY_MESSAGES", "2000")))
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--only", choices=("load", "two-nodes"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    if os.geteuid() != 0:
        sys.exit("reliability: must run as root (Ceph, Postfix and nginx)")
    work = tempfile.mkdtemp(prefix="bd-reliability-")
    os.chmod(work, 0o755)
    # the load's packages stay in the bucket until the end, and Ceph's memstore holds them in RAM
    ceph = nodes.Ceph(work, memstore_bytes=max(2 << 30, args.messages * 3 << 20))
    counts, problems = {}, []
    started = time.time()
    try:
        log("starting Ceph RGW in %s" % ceph.dir)
        ceph.start()
        if args.only in (None, "load"):
            log("load: %d messages over %d sessions" % (args.messages, args.sessions))
            c, p = load.run(build, ceph, os.path.join(work, "load"), args.messages, args.sessions, log=log)
            counts.update(c)
            problems += p
        if args.only in (None, "two-nodes"):
            log("two nodes")
            c, p = twonode.run(build, ceph, os.path.join(work, "two-nodes"), log=log)
            counts.update(c)
            problems += p
    finally:
        ceph.stop()
        keep = bool(problems) or os.environ.get("BD_KEEP_TEST_DIR") == "1"
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("reliability, %s, %s, %d CPUs, %.0f s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                                   platform.node(), os.cpu_count(), time.time() - started))
    print(table(counts))
    if problems:
        print("\nMISMATCHES (%d); kept %s" % (len(problems), work))
        for p in problems[:50]:
            print("  " + p)
        return 1
    print("\nall counts match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
