# SPDX-License-Identifier: EUPL-1.2
"""milter_concurrent_rss - peak memory of bestanden-milter with many large messages at once.

Starts the gateway (embedded store) and the milter, sends one message with a 100 KiB
attachment (baseline), then N messages with a MiB-sized attachment each at the same time
(one milter connection per message, N threads), over the milter protocol. Reported after
each: the filter process's peak resident set (VmHWM), and the largest sum seen (sampled
every 20 ms) of its in-memory spools (memfds, open as "/memfd:" descriptors; shared memory,
not counted in the resident set unless mapped) and of its spool files (unlinked temporary
files past [milter] spool_memory). The aim: a peak RSS under 128 MiB for 20 messages of 10 MB.

usage: python3 bench/milter_concurrent_rss.py BUILD_DIR [N] [MiB] [ROUNDS]   (defaults 20 10 3)
"""
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "milter"))
import mailtools as mt  # noqa: E402
import milterclient as mc  # noqa: E402
from milter_rss import filter_pid, peak_kib  # noqa: E402
from stack import Stack  # noqa: E402


def reset_peak(pid):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def spool_bytes(pid):
    """Bytes in the process's memfds and in its unlinked spool files, now."""
    mem = files = 0
    seen = set()  # a spool is open under more than one descriptor while it is parsed
    fddir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fddir)
    except FileNotFoundError:
        return 0, 0
    for fd in fds:
        try:
            target = os.readlink(os.path.join(fddir, fd))
            st = os.stat(os.path.join(fddir, fd))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        if target.startswith("/memfd:"):
            mem += st.st_size
        elif target.endswith("(deleted)") and not target.startswith("/dev/"):
            files += st.st_size
    return mem, files


def send(stack, raw, out, i):
    res, _ = mc.send_message("127.0.0.1", stack.ports["milter"], raw,
                             "<medewerker@bestanden.test>", ["<klant@example.org>"],
                             mail_macros={"{auth_authen}": "jan"})
    out[i] = res.verdict == "continue" and res.body is not None


def burst(stack, pid, n, size):
    raws = [mt.message("medewerker@bestanden.test", ["klant@example.org"], "RSS %d" % i,
                       "Zie bijlage\n", [("groot.bin", "application", "octet-stream",
                                          os.urandom(size))]) for i in range(n)]
    ok = [False] * n
    reset_peak(pid)
    peak = {"mem": 0, "files": 0}
    threads = [threading.Thread(target=send, args=(stack, raws[i], ok, i)) for i in range(n)]
    t0 = time.time()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        mem, files = spool_bytes(pid)
        peak["mem"] = max(peak["mem"], mem)
        peak["files"] = max(peak["files"], files)
        time.sleep(0.02)
    elapsed = time.time() - t0
    if not all(ok):
        raise RuntimeError("%d of %d messages were not rewritten" % (ok.count(False), n))
    return peak_kib(pid) / 1024, peak["mem"] / 1048576, peak["files"] / 1048576, elapsed, len(raws[0])


def spread(v):
    return "%.1f (%.1f-%.1f)" % (statistics.median(v), min(v), max(v))


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    mib = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    stack = Stack(build, with_postfix=False).start()
    res = {"base": [], "rss": [], "mem": [], "files": [], "t": []}
    try:
        pid = filter_pid(stack.procs["milter"].pid)
        for r in range(rounds):
            rss, _, _, _, _ = burst(stack, pid, 1, 100 * 1024)
            res["base"].append(rss)
            rss, mem, files, t, length = burst(stack, pid, n, int(mib * 1048576))
            res["rss"].append(rss)
            res["mem"].append(mem)
            res["files"].append(files)
            res["t"].append(t)
            print("round %d: baseline %.1f MiB; %d x %.1f MiB messages in %.1f s: peak RSS %.1f MiB, "
                  "memfd spools %.1f MiB, spool files %.1f MiB"
                  % (r + 1, res["base"][-1], n, length / 1048576, t, rss, mem, files), flush=True)
    finally:
        stack.stop()
    print("%d rounds, median (min-max):" % rounds)
    print("  peak RSS, one 100 KiB attachment (baseline): %s MiB" % spread(res["base"]))
    print("  peak RSS, %d messages with %g MiB attachments at once: %s MiB" % (n, mib, spread(res["rss"])))
    print("  largest sum of memfd spools: %s MiB; of spool files: %s MiB"
          % (spread(res["mem"]), spread(res["files"])))
    met = max(res["rss"]) < 128
    print("aim: peak RSS under 128 MiB -> %s" % ("met" if met else "NOT met"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
