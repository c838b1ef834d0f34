# SPDX-License-Identifier: EUPL-1.2
"""demo - bestanden on this machine, on loopback, in one directory.

`make demo` runs `demo.py start`: keys and a configuration in
/tmp/bestanden-demo, the gateway (embedded store), the milter, a private
Postfix instance and an smtp-sink that keeps every delivered message. It
sends a mail with a PDF and an image through Postfix, prints what arrived,
downloads the link and compares the files, and leaves everything running.
`make demo-stop` runs `demo.py stop`. The machine's own Postfix
configuration is never touched.

`make demo` can be run again: while a demo runs it says so and leaves it
alone; after `make demo-stop` it replaces the previous run's files (keys,
stored files, delivered mail) and says so.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import shutil
import time
import zlib
import struct

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
import mailtools as mt  # noqa: E402
import stack as stackmod  # noqa: E402

DEMO = os.environ.get("BESTANDEN_DEMO_DIR", "/tmp/bestanden-demo")
STATE = os.path.join(DEMO, "demo.json")
PREFERRED = {"gateway": 8080, "milter": 8891, "smtp": 2525, "submission": 2587, "sink": 2526}


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def sample_pdf():
    """A one-page PDF that says what it is."""
    text = b"BT /F1 24 Tf 72 720 Td (Jaaropgave 2026 - bestanden demo) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def sample_png(w=320, h=200):
    """A gradient picture, made here."""
    rows = b"".join(b"\0" + b"".join(bytes((x * 255 // w, y * 255 // h, 160)) for x in range(w))
                    for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def read_state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def prepare():
    """Leave a running demo alone; clear what a stopped or broken one left.

    None to go on, or the exit status to end with."""
    state = read_state()
    if state is not None and any(alive(pid) for pid in state.get("pids", {}).values()):
        print("The demo is already running (gateway on http://127.0.0.1:%s; state in %s)."
              % (state.get("ports", {}).get("gateway", "?"), STATE))
        print("Nothing was changed. Stop it with: make demo-stop   (then `make demo` starts a new one)")
        return 0
    if os.path.exists(STATE):
        print("==> a previous demo did not stop cleanly; stopping what is left of it")
        stop(quiet=True)
    if os.path.isdir(DEMO) and os.listdir(DEMO):
        if not os.path.exists(os.path.join(DEMO, "bestanden.conf")):
            print("demo: %s holds files that are not a demo's; empty it or set BESTANDEN_DEMO_DIR "
                  "to another directory" % DEMO, file=sys.stderr)
            return 1
        print("==> replacing the previous demo's files in %s: new keys, an empty store and no "
              "delivered mail (links in the old demo mail stop working)" % DEMO)
        shutil.rmtree(DEMO)
    return None


def start():
    status = prepare()
    if status is not None:
        return status
    build = os.path.join(TOP, "build")
    os.makedirs(DEMO, exist_ok=True)
    st = stackmod.Stack(build, workdir=DEMO)
    for name, port in PREFERRED.items():
        if port_free(port):
            st.ports[name] = port
    print("==> starting gateway, milter, smtp-sink and a private Postfix in %s" % DEMO)
    st.start()
    with open(STATE, "w") as f:
        json.dump({"pids": {k: p.pid for k, p in st.procs.items()}, "postfix": st.postfix_dir,
                   "ports": st.ports}, f)
    sender, rcpt = "medewerker@bestanden.test", "huurder@example.org"
    pdf, png = sample_pdf(), sample_png()
    raw = mt.message(sender, [rcpt], "Uw jaaropgave 2026",
                     "Beste huurder,\n\nIn de bijlage vindt u uw jaaropgave en een foto van de woning.\n\n"
                     "Met vriendelijke groet,\nWoonstichting Voorbeeld\n",
                     [("jaaropgave-2026.pdf", "application", "pdf", pdf), ("woning.png", "image", "png", png)],
                     html="<html><body><p>Beste huurder,</p><p>In de bijlage vindt u uw jaaropgave en een "
                          "foto van de woning.</p><p>Met vriendelijke groet,<br>Woonstichting Voorbeeld</p>"
                          "</body></html>")
    print("==> sending a mail with jaaropgave-2026.pdf (%d bytes) and woning.png (%d bytes) "
          "to Postfix on 127.0.0.1:%d (submission)" % (len(pdf), len(png), st.ports["submission"]))
    st.send(raw, sender, [rcpt], outgoing=True)
    path = st.wait_delivered(1)[-1]
    with open(path, "rb") as f:
        delivered = f.read()
    msg = mt.parse(delivered)
    print("==> delivered message (%s, %d bytes; the original was %d bytes):" % (path, len(delivered), len(raw)))
    print("-" * 72)
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            for k in ("From", "To", "Subject", "X-Bestanden"):
                if msg[k]:
                    print("%s: %s" % (k, msg[k]))
            print()
            print(part.get_content().rstrip())
            break
    print("-" * 72)
    left = mt.attachments(msg)
    links = sorted(mt.links(msg))
    if left or len(links) != 1:
        print("demo FAILED: attachments left %r, links %r" % ([n for n, _ in left], links))
        return 1
    link = links[0]
    got = mt.fetch(st.prog("cli"), st.conf, link)
    same = sorted(mt.sha(v) for v in got.values()) == sorted(mt.sha(v) for v in (pdf, png))
    for name, data in sorted(got.items()):
        print("==> downloaded %-22s %7d bytes  sha256 %s" % (name, len(data), mt.sha(data)[:16]))
    if not same:
        print("demo FAILED: the downloaded files differ from the ones sent")
        return 1
    print("==> the downloaded files are identical to the attachments that were sent")
    print()
    print("Everything keeps running. Open the link in a browser:")
    print()
    print("    open %s" % link)
    print()
    print("Logs: %s/{gateway,milter}.log, %s/maillog; delivered mail: %s" % (DEMO, st.postfix_dir, st.sink_dir))
    print("Stop it with: make demo-stop")
    return 0


def stop(quiet=False):
    if not os.path.exists(STATE):
        print("The demo is not running (no %s)" % STATE)
        return 0
    state = read_state() or {}
    if state.get("postfix"):
        subprocess.run([os.path.join(TOP, "tests", "postfix", "postfix-instance.sh"), "stop",
                        state["postfix"]], stdout=subprocess.DEVNULL if quiet else None)
    for name, pid in state.get("pids", {}).items():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
    os.unlink(STATE)
    if not quiet:
        print("bestanden demo stopped; its files stay in %s until the next `make demo` "
              "(remove with: rm -rf %s)" % (DEMO, DEMO))
    return 0


def main(cmd):
    if cmd not in ("start", "stop"):
        print("usage: demo.py start|stop")
        return 2
    try:
        return start() if cmd == "start" else stop()
    except (OSError, subprocess.CalledProcessError, RuntimeError, AssertionError) as e:
        print("demo FAILED: %s" % e, file=sys.stderr)
        print("Logs are in %s; clean up with: make demo-stop" % DEMO, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "start"))
