# SPDX-License-Identifier: EUPL-1.2
"""milter_rss - peak memory of bestanden-milter while it processes one large attachment.

Starts the gateway (embedded store) and the milter, sends one message with a
small attachment (baseline) and then one with a 100 MiB attachment over the
milter protocol, and reads the filter process's peak resident set size
(VmHWM) after each. Memory must not grow with attachment size: the target is
a peak under 64 MiB for the 100 MiB attachment.

usage: python3 bench/milter_rss.py BUILD_DIR [MiB]
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "milter"))
import mailtools as mt  # noqa: E402
import milterclient as mc  # noqa: E402
from stack import Stack  # noqa: E402


def filter_pid(supervisor):
    with open("/proc/%d/task/%d/children" % (supervisor, supervisor)) as f:
        kids = f.read().split()
    if len(kids) != 1:
        raise RuntimeError("expected one filter process, found %r" % kids)
    return int(kids[0])


def peak_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def run(stack, size):
    data = os.urandom(size)
    raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "RSS", "Zie bijlage\n",
                     [("groot.bin", "application", "octet-stream", data)])
    t0 = time.time()
    res, _ = mc.send_message("127.0.0.1", stack.ports["milter"], raw, "<medewerker@bestanden.test>",
                             ["<klant@example.org>"], mail_macros={"{auth_authen}": "jan"})
    if res.verdict != "continue" or res.body is None:
        raise RuntimeError("message was not rewritten: %s %s" % (res.verdict, res.reply))
    return time.time() - t0, len(raw)


def main():
    build = sys.argv[1]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    stack = Stack(build, with_postfix=False).start()
    try:
        pid = filter_pid(stack.procs["milter"].pid)
        base_t, base_len = run(stack, 100 * 1024)
        base = peak_kib(pid)
        big_t, big_len = run(stack, mib * 1024 * 1024)
        peak = peak_kib(pid)
    finally:
        stack.stop()
    print("milter peak RSS after a 100 KiB attachment (baseline): %.1f MiB" % (base / 1024))
    print("milter peak RSS after a %d MiB attachment:           %.1f MiB (message %.1f MiB, %.1f s)"
          % (mib, peak / 1024, big_len / 1048576, big_t))
    print("ratio peak/baseline: %.2f; peak/attachment size: %.3f" % (peak / base, peak / 1024 / mib))
    print("target: under 64 MiB -> %s" % ("met" if peak < 64 * 1024 else "NOT met"))
    return 0 if peak < 64 * 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
