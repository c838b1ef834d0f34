# SPDX-License-Identifier: EUPL-1.2
"""twonode - two nodes on one Ceph bucket behind nginx (nodes.start_two_nodes), checked.

mail       messages through either node's Postfix; each delivered once by the node that took
           it, rewritten, and its link works through nginx (bytes compared);
failover   a large download through nginx; the gateway serving it is killed (SIGKILL); the
           client resumes with Range and If-Range through nginx, now answered by the other
           gateway, and has the right bytes;
sweepers   packages that expire soon; both gateways sweep (1 minute interval): every one
           deleted exactly once over both logs, no failures, none left in the bucket.
Each check adds to COUNTS and returns the problems it found.
"""
import os
import re
import socket
import subprocess
import time
import urllib.request

import nodes
from stack import Stack

import mailtools as mt

SENDER = "medewerker@bestanden.test"
OUTSIDE = "huurder@example.org"
SWEEP_RE = re.compile(r"event=sweep objects=(\d+) packages=(\d+) expired=(\d+) orphans=(\d+) "
                      r"deleted=(\d+) failures=(\d+)(.*)")


def check_mail(tn, counts, per_node=5):
    problems = []
    sent = {}  # subject -> (node index, bytes)
    for i in range(2 * per_node):
        k = i % 2
        data = os.urandom(50_000 + 10_000 * i)
        subject = "Twee knooppunten %d via %s" % (i, "ab"[k])
        tn.nodes[k].send(mt.message(SENDER, [OUTSIDE], subject, "Zie bijlage.\n",
                                    [("stuk-%d.pdf" % i, "application", "pdf", data)]), SENDER, [OUTSIDE])
        sent[subject] = (k, data)
        counts["two nodes: sent"] += 1
    for k, node in enumerate(tn.nodes):
        files = node.wait_delivered(per_node, timeout=120)
        for path in files:
            msg, _ = Stack.parse(path)
            subject = str(msg["Subject"])
            if sent.get(subject, (None,))[0] != k:
                problems.append("%s: delivered by node %s" % (subject, "ab"[k]))
                continue
            counts["two nodes: delivered"] += 1
            links = mt.links(msg)
            if len(links) != 1 or not next(iter(links)).startswith(tn.url + "/d/"):
                problems.append("%s: links %r (want one through nginx)" % (subject, links))
                continue
            digest, _ = nodes.download(links.pop() + "/1")
            if digest == mt.sha(sent[subject][1]):
                counts["two nodes: links verified"] += 1
            else:
                problems.append("%s: the fetched file differs" % subject)
    if counts["two nodes: delivered"] != len(sent):
        problems.append("two nodes: %d of %d delivered" % (counts["two nodes: delivered"], len(sent)))
    return problems


def _head(sock):
    got = b""
    while b"\r\n\r\n" not in got:
        b = sock.recv(65536)
        if not b:
            break
        got += b
    head, _, body = got.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return head.split(b"\r\n")[0].decode("latin-1"), headers, body


def _rest(sock):
    """What SOCK sends until it closes or breaks."""
    out = bytearray()
    while True:
        try:
            b = sock.recv(65536)
        except OSError:
            b = b""
        if not b:
            return bytes(out)
        out += b


def check_failover(tn, counts, size=40_000_000):
    problems = []
    data = os.urandom(size)
    node = tn.nodes[0]
    node.send(mt.message(SENDER, [OUTSIDE], "Groot bestand", "Zie bijlage.\n",
                         [("bouwtekening.pdf", "application", "pdf", data)]), SENDER, [OUTSIDE])
    path = [p for p in node.wait_delivered(1, timeout=300)
            if str(Stack.parse(p)[0]["Subject"]) == "Groot bestand"][0]
    link = mt.links(Stack.parse(path)[0]).pop()
    target = link[len(tn.url):] + "/1"
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.connect(("127.0.0.1", tn.nginx.port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (target, tn.nginx.port)).encode())
    status, headers, body = _head(s)
    if " 200 " not in status + " ":
        return ["failover: first request answered %r" % status]
    first = headers.get("x-upstream", "")
    while len(body) < 1_000_000:
        body += s.recv(65536)
    victim = tn.node_of(first)
    victim.kill_gateway()
    body += _rest(s)
    s.close()
    if len(body) >= len(data) or body != data[:len(body)]:
        problems.append("failover: the first download was not cut short cleanly (%d of %d bytes)" %
                        (len(body), len(data)))
    r = subprocess.run(["curl", "-sS", "-D", "-", "-o", "-", "-H", "Range: bytes=%d-" % len(body),
                        "-H", "If-Range: %s" % headers.get("etag", ""), tn.url + target],
                       capture_output=True, timeout=300)
    head, _, rest = r.stdout.partition(b"\r\n\r\n")
    second = re.search(rb"(?im)^x-upstream: *(\S+)", head)
    second = second.group(1).decode() if second else ""
    if not head.startswith(b"HTTP/1.1 206"):
        problems.append("failover: the resumed request answered %r" % head[:100])
    if tn.node_of(second) is victim if second else True:
        problems.append("failover: resumed through %r, the killed gateway was %s" % (second, first))
    if body + rest == data:
        counts["two nodes: resumed download bytes compared"] = len(data)
    else:
        problems.append("failover: resumed bytes differ")
    counts["two nodes: gateway killed mid-download"] = "%d of %d bytes, resumed via %s" % (
        len(body), len(data), "the other gateway" if second and tn.node_of(second) is not victim else second)
    victim.start_gateway()
    return problems


def sweeps(node):
    return [m.groups() for m in SWEEP_RE.finditer(node.log("gateway"))]


def check_sweepers(tn, counts, expire=5, count=20, timeout=200):
    """COUNT packages of EXPIRE seconds stored through node a's storage driver; then wait
    until each gateway has swept at least once after they expired."""
    problems = []
    f = os.path.join(tn.dir, "small.bin")
    with open(f, "wb") as out:
        out.write(os.urandom(3000))
    made = set()
    mk = os.path.join(tn.build, "tests", "bd-mkpackage")
    for _ in range(count):
        out = subprocess.run([mk, "-c", tn.nodes[0].conf, "-e", str(expire), f],
                             capture_output=True, text=True, check=True).stdout.split()
        made.add(out[1])
    before = [len(sweeps(n)) for n in tn.nodes]
    time.sleep(expire + 1)
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = made & set(nodes.packages(tn.ceph.objects(tn.bucket)))
        if all(len(sweeps(n)) > b for n, b in zip(tn.nodes, before)) and not left:
            break
        time.sleep(2)
    expired, failures = 0, 0
    for n in tn.nodes:
        for g in sweeps(n):
            expired += int(g[2])
            failures += int(g[5])
            if g[6].strip():
                problems.append("sweep error in %s: %s" % (n.dir, g[6].strip()))
    counts["two nodes: packages expired"] = len(made)
    counts["two nodes: sweeps"] = "%d + %d" % tuple(len(sweeps(n)) for n in tn.nodes)
    counts["two nodes: expired deletions (both logs)"] = expired
    counts["two nodes: sweep failures"] = failures
    left = made & set(nodes.packages(tn.ceph.objects(tn.bucket)))
    if left:
        problems.append("sweepers: %d expired packages still in the bucket" % len(left))
    if expired != len(made):
        problems.append("sweepers: %d deletions logged for %d expired packages" % (expired, len(made)))
    if failures:
        problems.append("sweepers: %d failures" % failures)
    for n in tn.nodes:
        if not all(len(sweeps(n)) > b for n, b in zip(tn.nodes, before)):
            problems.append("sweepers: %s did not sweep after the expiry" % n.dir)
    return problems


MANAGE_RE = re.compile(r"<(https?://[^/\s>]+/m/[A-Za-z0-9_-]{56})>")
RECEIPT_RE = re.compile(r"volledig gedownload|downloaded completely")


def _mails(node):
    """Every message NODE's smtp-sink holds, parsed, with the text of its body parts."""
    out = []
    for path in node.delivered():
        node.wait_written(path)
        msg, _ = Stack.parse(path)
        out.append((msg, "\n".join(p.get_content() for p in mt.text_parts(msg))))
    return out


def _wait(what, cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.5)
    return None


def check_shared_events(build, ceph, workdir, counts):
    """Download events are objects in the bucket, so every gateway sees them: a file
    downloaded through gateway b shows on the sender's status page served by gateway a,
    and with receipts = first two complete downloads, one through each gateway, send the
    sender one receipt in all. Its own two nodes: [recipients] receipts = first sends every
    message's sender a management mail, which the mail check above does not expect."""
    problems = []
    tn = nodes.start_two_nodes(
        build, ceph, workdir, bucket="bestanden-two-nodes-events",
        conf_extra={("recipients", "receipts"): "first",
                    ("gateway", "failed_lookups_per_minute"): "100000"},
        node_extra=lambda n: {("smtp", "port"): str(n.ports["sink"])})
    try:
        a, b = tn.nodes
        direct = {n: "http://127.0.0.1:%d" % n.ports["gateway"] for n in (a, b)}
        data = os.urandom(300_000)
        a.send(mt.message(SENDER, [OUTSIDE], "Gedeelde gebeurtenissen", "Zie bijlage.\n",
                          [("overzicht.pdf", "application", "pdf", data)]), SENDER, [OUTSIDE])

        def links():
            link = mlink = None
            for msg, text in _mails(a):
                found = mt.links(msg)
                if OUTSIDE in str(msg["To"]) and found:
                    link = found.pop()
                m = MANAGE_RE.search(text)
                if SENDER in str(msg["To"]) and m:
                    mlink = m.group(1)
            return (link, mlink) if link and mlink else None

        got = _wait("links", links, 120)
        if not got:
            return problems + ["shared events: no rewritten message and management mail at node a"]
        link, mlink = got
        token_path = link[len(tn.url):]
        manage_path = mlink[len(tn.url):]
        # one complete download through gateway b
        digest, _ = nodes.download(direct[b] + token_path + "/1")
        if digest != mt.sha(data):
            problems.append("shared events: the file fetched through gateway b differs")

        def shown_on_a():
            req = urllib.request.Request(direct[a] + manage_path, headers={"Accept-Language": "en"})
            with urllib.request.urlopen(req, timeout=30) as r:
                page = r.read().decode()
            return "Downloaded by someone with the link on" in page

        shown = _wait("status page", shown_on_a, 30)
        counts["two nodes: download via b on a's status page"] = "yes" if shown else "no"
        if not shown:
            problems.append("shared events: gateway a's status page does not show the download through b")
        # and one through gateway a: receipts = first, so still one receipt in all
        digest, _ = nodes.download(direct[a] + token_path + "/1")
        if digest != mt.sha(data):
            problems.append("shared events: the file fetched through gateway a differs")

        def receipts():
            return [m for n in (a, b) for m, text in _mails(n)
                    if SENDER in str(m["To"]) and RECEIPT_RE.search(text)]

        _wait("receipt", receipts, 60)
        time.sleep(10)  # time for a second, wrong, receipt to arrive
        n = len(receipts())
        counts["two nodes: receipts for 2 downloads (receipts = first)"] = n
        if n != 1:
            problems.append("shared events: %d receipts for one file downloaded through both gateways" % n)
    finally:
        tn.stop(keep=bool(problems) or os.environ.get("BD_KEEP_TEST_DIR") == "1")
    return problems


def run(build, ceph, workdir, log=print):
    counts = {"two nodes: sent": 0, "two nodes: delivered": 0, "two nodes: links verified": 0}
    problems = []
    tn = nodes.start_two_nodes(build, ceph, workdir, conf_extra={
        ("gateway", "sweep_interval"): "1m",
        ("gateway", "failed_lookups_per_minute"): "100000",
    })
    try:
        t0 = time.time()
        problems += check_mail(tn, counts)
        log("two nodes: mail checked after %.0fs" % (time.time() - t0))
        problems += check_failover(tn, counts)
        log("two nodes: failover checked after %.0fs" % (time.time() - t0))
        problems += check_sweepers(tn, counts)
        log("two nodes: sweepers checked after %.0fs" % (time.time() - t0))
        served = tn.nginx.served_by()
        counts["two nodes: requests per gateway (nginx)"] = " / ".join(
            "%d" % served.get("127.0.0.1:%d" % n.ports["gateway"], 0) for n in tn.nodes)
    finally:
        tn.stop(keep=bool(problems) or os.environ.get("BD_KEEP_TEST_DIR") == "1")
    t0 = time.time()
    problems += check_shared_events(build, ceph, workdir + "-events", counts)
    log("two nodes: shared events checked after %.0fs" % (time.time() - t0))
    return counts, problems
