# SPDX-License-Identifier: EUPL-1.2
"""milter_body_rss - peak memory of bestanden-milter while the notice goes into large body text.

Starts the gateway (embedded store) and the milter, then sends, in interleaved
rounds, a baseline message (40 KB text/plain + 40 KB text/html bodies, one
small attachment: about 100 KB) and a large one (the same with a 50 MB
text/plain body and a 50 MB HTML body) over the milter protocol. Both bodies get
the notice. Before each message the filter process's peak RSS is reset
(/proc/PID/clear_refs, "5"), after it VmHWM is read. Reports per-message medians
and spread, and the ratio large/baseline of each round and of the medians.
Target: the large message's median peak within 10% of the baseline's.

usage: python3 bench/milter_body_rss.py BUILD_DIR [ROUNDS] [MB]
"""
import base64
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from milter_rss import filter_pid, mc, peak_kib, Stack  # noqa: E402

TARGET = 1.10


def body_message(body_bytes):
    """Raw message: text/plain (UTF-8, 8bit) and text/html (UTF-8, base64) of BODY_BYTES each,
    in multipart/alternative, and a small PDF attachment."""
    line = "Regel %08d: caf\u00e9 en een zin die doorloopt tot het eind van de regel.\r\n"
    text = bytearray()
    i = 0
    while len(text) < body_bytes:
        text += (line % i).encode()
        i += 1
    html = bytearray(b"<html><head><style>p { margin: 0 }</style></head><body>\r\n")
    i = 0
    while len(html) < body_bytes:
        html += (("<p>Regel %08d met <a href=\"https://example.org/%d\">een link</a> "
                  "caf\u00e9</p>\r\n") % (i, i)).encode()
        i += 1
    html += b"</body></html>\r\n"
    head = (b"From: medewerker@bestanden.test\r\nTo: klant@example.org\r\nSubject: RSS body\r\n"
            b"Message-ID: <body-rss@bestanden.test>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n"
            b"Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    mid = (b"--a\r\nContent-Type: text/html; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n")
    tail = (b"--a--\r\n--m\r\nContent-Type: application/pdf; name=\"rapport.pdf\"\r\n"
            b"Content-Disposition: attachment; filename=\"rapport.pdf\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(os.urandom(4096)).replace(b"\n", b"\r\n") + b"--m--\r\n")
    return b"".join([head, bytes(text), mid,
                     base64.encodebytes(bytes(html)).replace(b"\n", b"\r\n"), tail])


def measure(stack, pid, raw):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")
    t0 = time.time()
    res, _ = mc.send_message("127.0.0.1", stack.ports["milter"], raw,
                             "<medewerker@bestanden.test>", ["<klant@example.org>"],
                             mail_macros={"{auth_authen}": "jan"})
    if res.verdict != "continue" or res.body is None:
        raise RuntimeError("message was not rewritten: %s %s" % (res.verdict, res.reply))
    if b"/d/" not in res.body.replace(b"=\r\n", b""):
        raise RuntimeError("the notice is missing from the text body")
    return peak_kib(pid), time.time() - t0


def spread(values):
    return "median %.1f MiB (min %.1f, max %.1f)" % (
        statistics.median(values) / 1024, min(values) / 1024, max(values) / 1024)


def main():
    build = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    mb = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    small = body_message(40 * 1000)
    large = body_message(mb * 1000 * 1000)
    stack = Stack(build, with_postfix=False).start()
    base, big, ratios, times = [], [], [], []
    try:
        pid = filter_pid(stack.procs["milter"].pid)
        measure(stack, pid, small)  # warm-up: templates, keys, the first connection
        for r in range(rounds):
            b, _ = measure(stack, pid, small)
            p, t = measure(stack, pid, large)
            base.append(b)
            big.append(p)
            times.append(t)
            ratios.append(p / b)
            print("round %d: baseline %.1f MiB, large %.1f MiB, ratio %.3f (%.1f s)"
                  % (r + 1, b / 1024, p / 1024, p / b, t), flush=True)
    finally:
        stack.stop()
    ratio = statistics.median(big) / statistics.median(base)
    print("messages: baseline %.0f KB, large %.1f MB (two %d MB bodies)"
          % (len(small) / 1000, len(large) / 1e6, mb))
    print("baseline peak RSS: %s" % spread(base))
    print("large peak RSS:    %s" % spread(big))
    print("ratio of medians %.3f; per-round ratios min %.3f, max %.3f; large message %.1f s median"
          % (ratio, min(ratios), max(ratios), statistics.median(times)))
    print("target: within 10%% of the baseline -> %s" % ("met" if ratio <= TARGET else "NOT met"))
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
