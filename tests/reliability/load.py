# SPDX-License-Identifier: EUPL-1.2
"""load - many messages through Postfix and the milter onto Ceph, with radosgw restarted midway.

N messages, each with one attachment whose size is drawn log-uniformly from 10 KB to 10 MB
(seeded: the same sizes and bytes every run), go over SESSIONS concurrent SMTP sessions into a
front Postfix, which relays them to the milter's Postfix (tests/reliability/nodes.py, S3Stack).
Once a third of them has been delivered, radosgw is restarted: what the milter cannot store
meanwhile it tempfails, the front Postfix keeps it and retries. Then every delivered message
is read: exactly once, rewritten, one link; every link fetched and its file compared (sha256)
with what was sent; the bucket listed: every package in it belongs to a delivered message.
The milter's and the gateway's RSS are sampled every second.
"""
import hashlib
import math
import os
import queue
import random
import re
import smtplib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import nodes
from stack import Stack

import mailtools as mt

SENDER = "medewerker@bestanden.test"
OUTSIDE = "huurder@example.org"
MIN_SIZE, MAX_SIZE = 10_000, 10_000_000
TEMPFAIL_RE = re.compile(r"milter-reject: END-OF-MESSAGE .*: 4\.\d+\.\d+ ")


def sizes(n, seed):
    rnd = random.Random(seed)
    lo, hi = math.log(MIN_SIZE), math.log(MAX_SIZE)
    return [int(math.exp(rnd.uniform(lo, hi))) for _ in range(n)]


def attachment(i, size, seed):
    return random.Random("%d/%d" % (seed, i)).randbytes(size)


def package_of(link):
    import base64
    token = link.rsplit("/d/", 1)[1]
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[6:14].hex()


def send_all(stack, n, seed, sessions, counts):
    """SESSIONS threads, each one SMTP session at a time to the front Postfix."""
    todo = queue.Queue()
    for i in range(n):
        todo.put(i)
    sent = {}  # subject -> (sha256, size)
    lock = threading.Lock()
    errors = []
    size_of = sizes(n, seed)

    def worker():
        s = None
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    break
                data = attachment(i, size_of[i], seed)
                subject = "Last %05d" % i
                raw = mt.message(SENDER, [OUTSIDE], subject, "Beste huurder,\n\nZie bijlage.\n",
                                 [("bijlage-%05d.bin" % i, "application", "octet-stream", data)])
                for attempt in range(3):
                    try:
                        if s is None:
                            s = smtplib.SMTP("127.0.0.1", stack.ports["front_smtp"], timeout=300)
                        s.sendmail(SENDER, [OUTSIDE], raw)
                        break
                    except (smtplib.SMTPServerDisconnected, OSError):
                        s = None
                        if attempt == 2:
                            raise
                with lock:
                    sent[subject] = (hashlib.sha256(data).hexdigest(), len(data))
                    counts["sent"] += 1
        except Exception as e:  # noqa: BLE001 - reported by the caller
            errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            if s is not None:
                try:
                    s.quit()
                except (smtplib.SMTPException, OSError):
                    pass

    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in threads:
        t.start()
    return threads, sent, errors


def run(build, ceph, workdir, n, sessions=20, seed=17, log=print):
    """Returns (counts, problems): the table's figures and every mismatch found."""
    counts = {"sent": 0, "delivered": 0, "rewritten": 0, "links verified": 0, "bytes compared": 0,
              "tempfails during the outage": 0, "orphans": 0, "undelivered packages": 0, "duplicates": 0}
    problems = []
    stack = nodes.S3Stack(build, ceph, "bestanden-load", workdir=workdir, front=True, conf_extra={
        ("storage", "timeout"): "20s",
        ("storage", "connect_timeout"): "2s",
        ("storage", "retries"): "1",
        ("milter", "timeout"): "120s",
        ("gateway", "sweep_interval"): "1m",
        ("gateway", "failed_lookups_per_minute"): "100000",
    })
    rss = None
    try:
        stack.start()
        rss = nodes.RssSampler({"milter": stack.milter_pids, "gateway": stack.gateway_pids}).start()
        t0 = time.time()
        threads, sent, errors = send_all(stack, n, seed, sessions, counts)

        # radosgw restarted once a third has come through
        deadline = time.time() + 3600
        while len(stack.delivered()) < n // 3 and time.time() < deadline:
            time.sleep(0.5)
        before = len(TEMPFAIL_RE.findall(stack.maillog()))
        log("load: %d delivered after %.0fs; restarting radosgw" % (len(stack.delivered()), time.time() - t0))
        r0 = time.time()
        ceph.restart_rgw()
        log("load: radosgw back after %.1fs" % (time.time() - r0))
        for t in threads:
            t.join()
        problems += ["sending: " + e for e in errors]
        log("load: %d sent in %.0fs" % (counts["sent"], time.time() - t0))
        files = stack.wait_delivered(counts["sent"], timeout=max(600, n))
        log("load: %d delivered in %.0fs" % (len(files), time.time() - t0))
        time.sleep(5)  # anything beyond the count would be a duplicate: give it a moment
        files = stack.delivered()
        counts["tempfails during the outage"] = len(TEMPFAIL_RE.findall(stack.maillog())) - before
        milter_tempfails = stack.log("milter").count("action=tempfail")
        if milter_tempfails != counts["tempfails during the outage"]:
            problems.append("the milter tempfailed %d messages, Postfix refused %d with 4xx during the outage"
                            % (milter_tempfails, counts["tempfails during the outage"]))
        if stack.front_queue():
            problems.append("%d messages still queued in the front Postfix" % stack.front_queue())

        # every message once, rewritten, one link
        seen, links = {}, {}
        for path in files:
            msg, _ = Stack.parse(path)
            subject = str(msg["Subject"])
            seen[subject] = seen.get(subject, 0) + 1
            if seen[subject] > 1:
                continue
            found = mt.links(msg)
            if "X-Bestanden" in msg and not mt.attachments(msg) and len(found) == 1:
                counts["rewritten"] += 1
                links[subject] = found.pop()
            else:
                problems.append("%s: not rewritten (%d links, %d attachments)" %
                                (subject, len(found), len(mt.attachments(msg))))
        counts["delivered"] = len(seen)
        counts["duplicates"] = sum(c - 1 for c in seen.values())
        if set(seen) != set(sent):
            problems.append("delivered %d of %d sent; missing: %s" %
                            (len(set(seen) & set(sent)), len(sent), sorted(set(sent) - set(seen))[:10]))

        # every link fetched from the gateway, every file compared
        def verify(subject):
            digest, size = nodes.download(links[subject] + "/1")
            return subject, (digest, size) == sent[subject], size

        with ThreadPoolExecutor(max_workers=4) as pool:
            for subject, ok, size in pool.map(verify, sorted(links)):
                if ok:
                    counts["links verified"] += 1
                    counts["bytes compared"] += size
                else:
                    problems.append("%s: the fetched file differs from the sent one" % subject)
        log("load: %d links verified after %.0fs" % (counts["links verified"], time.time() - t0))

        # the bucket: nothing but delivered packages
        delivered_pkgs = {package_of(link) for link in links.values()}
        stored = nodes.packages(ceph.objects("bestanden-load"))
        dead = delivered_pkgs - set(stored)
        if dead:
            problems.append("%d delivered packages are not in the bucket" % len(dead))
        # a package with its manifest but no delivered message: its link was never handed out;
        # the milter could not delete it when it gave up (storage down) and queued the delete,
        # which it retries every minute (pending-deletes): give it two rounds
        undelivered = {p for p in set(stored) - delivered_pkgs if "0" in stored[p]}
        if undelivered:
            log("load: %d undelivered packages; waiting for the milter's queued deletes" % len(undelivered))
            counts["undelivered packages before the queued deletes"] = len(undelivered)
            deadline = time.time() + 150
            while undelivered and time.time() < deadline:
                time.sleep(10)
                undelivered &= set(nodes.packages(ceph.objects("bestanden-load")))
            stored = nodes.packages(ceph.objects("bestanden-load"))
        counts["undelivered packages"] = len(undelivered)
        if undelivered:
            problems.append("packages in the bucket no delivered message links to: %s" % sorted(undelivered))
        orphans = set(stored) - delivered_pkgs - undelivered
        counts["orphans"] = len(orphans)
        if orphans:
            # objects without a manifest (an upload cut off by the restart whose delete could
            # not reach storage either): no link; the gateway's sweep removes them once surely
            # abandoned (seen for twice [milter] timeout and a minute)
            log("load: %d orphans in the bucket; waiting for the gateway's sweep" % len(orphans))
            counts["orphans before the sweep"] = len(orphans)
            deadline = time.time() + 2 * 120 + 60 + 150
            while orphans and time.time() < deadline:
                time.sleep(10)
                orphans &= set(nodes.packages(ceph.objects("bestanden-load")))
            counts["orphans"] = len(orphans)
        if orphans:
            problems.append("orphans in the bucket: %s" % sorted(orphans)[:10])
        for name in ("gateway", "milter"):
            bad = re.findall(r"level=(?:error|crit|alert|emerg)\b.*", stack.log(name))
            # the milter's errors are the tempfails of the outage; the gateway has none
            if name == "gateway" and bad:
                problems.append("the gateway logged errors: %s" % bad[:3])
    finally:
        if rss:
            rss.stop()
            for name in ("milter", "gateway"):
                counts["%s RSS KiB (start/25%%/50%%/75%%/peak/end)" % name] = "/".join(
                    "%d" % v for v in rss.summary(name))
        stack.stop(keep=bool(problems) or os.environ.get("BD_KEEP_TEST_DIR") == "1")
    if counts["tempfails during the outage"] == 0:
        problems.append("nothing was tempfailed while radosgw restarted")
    return counts, problems
