#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_recipients - recipients who prove who they are, senders who know what happened,
end to end: real Postfix, the milter, the gateway, smtp-sink and headless chromium
(tests/browser/recipients-test.js).

[recipients] verify = code, receipts = first: a mail to two outside recipients; its link in
the browser asks for an address; a wrong address gets no mail at smtp-sink, the right one
gets a code; the code unlocks the download, bytes identical; the sender gets the management
mail once and a receipt; the management link shows the download and revokes the package;
storage keeps only the withdrawal marker and the recipient's link says "withdrawn" (410).
Then, with verify off, a mail with [code:4711-x] in its subject arrives without the tag; its
link asks for the code, a wrong one is refused, the right one downloads.

Screenshots of the new pages go to SCREENSHOT_DIR (default BUILD_DIR/screenshots).
Missing chromium, node or npm is a failure, not a skip.

usage: test_recipients.py BUILD_DIR [SCREENSHOT_DIR]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "browser"))
import mailtools  # noqa: E402
from stack import Stack  # noqa: E402
from test_browser import fail, npm_ci  # noqa: E402

SENDER = "consulent@bestanden.test"
RIGHT, OTHER, WRONG = "bewoner@example.org", "partner@example.net", "iemand@example.com"
MANAGE_RE = re.compile(r"<(https?://[^/\s>]+/m/[A-Za-z0-9_-]{56})>")
SINK_WAIT = 60


def mails(st):
    """Every message smtp-sink holds: [(envelope recipients, parsed message)]."""
    out = []
    for path in st.delivered():
        st.wait_written(path)
        msg, raw = st.parse(path)
        rcpts = re.findall(rb"^X-Rcpt-Args: <([^>]*)>", raw, re.M)
        to = [r.decode() for r in rcpts] or [a.strip() for a in str(msg["To"] or "").split(",")]
        out.append((to, msg))
    return out


def mails_to(st, address):
    return [m for to, m in mails(st) if address in to or address in str(m["To"] or "")]


def wait_mail(st, address, pattern, timeout=SINK_WAIT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in mails_to(st, address):
            for p in mailtools.text_parts(m):
                found = re.search(pattern, p.get_content())
                if found:
                    return m, found
        time.sleep(0.2)
    fail("no mail to %s matching %r at smtp-sink after %ds" % (address, pattern, timeout))


def run_browser(work, cfg, st):
    cfg_path = os.path.join(st.dir, "browser-%s.json" % cfg["mode"])
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    return subprocess.Popen(["node", os.path.join(work, "recipients-test.js"), cfg_path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, TZ="Europe/Amsterdam"))


def browser_result(p):
    out, err = p.communicate(timeout=300)
    if p.returncode != 0:
        fail("browser run failed:\n" + err.decode(errors="replace")[-4000:])
    return json.loads(out.decode().strip().splitlines()[-1])


def send_one(st, subject, rcpts, data):
    msg = mailtools.message(SENDER, rcpts, subject, "Hierbij de stukken.\n",
                            [("Jaaropgave 2025.pdf", "application", "pdf", data)])
    st.send(msg, SENDER, rcpts)


def delivered_link(st, address):
    for to, m in mails(st):
        if address in to:
            found = mailtools.links(m)
            if found:
                return m, sorted(found)[0]
    return None, None


def wait_link(st, address):
    deadline = time.time() + SINK_WAIT
    while time.time() < deadline:
        m, link = delivered_link(st, address)
        if link:
            return m, link
        time.sleep(0.2)
    fail("no rewritten message to %s; postfix log:\n%s" % (address, st.maillog()[-3000:]))


def verify_and_revoke(build, work, shots):
    st = Stack(build, conf_extra={("recipients", "verify"): "code",
                                  ("recipients", "receipts"): "first"})
    st.conf_extra.update({("smtp", "port"): str(st.ports["sink"]),
                          ("gateway", "failed_lookups_per_minute"): "100000"})
    st.start()
    try:
        data = b"%PDF-1.4\n" + os.urandom(900_000) + b"\n%%EOF\n"
        send_one(st, "Uw jaaropgave", [RIGHT, OTHER], data)
        msg, link = wait_link(st, RIGHT)
        if "[code:" in str(msg["Subject"]):
            fail("subject changed: %s" % msg["Subject"])
        # the sender's management mail: once, with the /m/ link, to the sender only
        manage_mail, found = wait_mail(st, SENDER, MANAGE_RE)
        manage_link = found.group(1)
        for addr in (RIGHT, OTHER):
            for m in mails_to(st, addr):
                if any("/m/" in p.get_content() for p in mailtools.text_parts(m)):
                    fail("a recipient got the management link")
        d = tempfile.mkdtemp(dir=st.dir)
        cfg = {"mode": "verify", "link": link, "manageLink": manage_link,
               "rightAddress": RIGHT, "wrongAddress": WRONG,
               "codeFile": os.path.join(d, "code"), "requestedFile": os.path.join(d, "requested"),
               "downloadedFile": os.path.join(d, "downloaded"),
               "receiptFile": os.path.join(d, "receipt"),
               "downloadDir": os.path.join(d, "downloads"), "screenshotDir": shots,
               "userDataDir": tempfile.mkdtemp(prefix="chromium-", dir=st.dir)}
        os.makedirs(cfg["downloadDir"])
        p = run_browser(work, cfg, st)
        # the code, as the recipient's mailbox would get it
        deadline = time.time() + 120
        while not os.path.exists(cfg["requestedFile"]):
            if p.poll() is not None or time.time() > deadline:
                browser_result(p)
                fail("the browser never asked for a code")
            time.sleep(0.1)
        _, code = wait_mail(st, RIGHT, r"\b(\d{6})\b")
        with open(cfg["codeFile"], "w") as f:
            f.write(code.group(1))
        while not os.path.exists(cfg["downloadedFile"]):
            if p.poll() is not None:
                browser_result(p)
                fail("the browser stopped before the download was shown")
            time.sleep(0.1)
        deadline = time.time() + SINK_WAIT
        receipts = []
        while not receipts and time.time() < deadline:
            receipts = [m for m in mails_to(st, SENDER)
                        if re.search(r"Gedownload|Downloaded", str(m["Subject"]))
                        and any(RIGHT in p.get_content() for p in mailtools.text_parts(m))]
            time.sleep(0.2)
        if not receipts:
            fail("no receipt to the sender naming %s" % RIGHT)
        receipt = receipts[0]
        with open(cfg["receiptFile"], "w") as f:
            f.write("yes")
        report = browser_result(p)
        with open(report["downloads"]["1"], "rb") as f:
            if f.read() != data:
                fail("the downloaded file differs from the attachment")
        if mails_to(st, WRONG):
            fail("a mail went to the address that is no recipient")
        manage_mails = [m for m in mails_to(st, SENDER)
                        if any("/m/" in p.get_content() for p in mailtools.text_parts(m))]
        if len(manage_mails) != 1:
            fail("%d management mails, expected 1" % len(manage_mails))
        package = re.search(r"package=([0-9a-f]{16})", str(msg["X-Bestanden"])).group(1)
        left = [o for o in st.objects() if o.startswith(package + "/")]
        if left != [package + "/ffffffff"]:
            fail("storage after revoke: %r" % left)
        with open(os.path.join(st.dir, "audit.log")) as f:
            audit = [json.loads(line) for line in f if line.strip()]
        events = {(a["event"], a.get("outcome")) for a in audit if a.get("package") == package}
        if ("revoked", "sender") not in events:
            fail("no audit line for the revocation: %r" % sorted(events))
        print("verify: %d checks in the browser; download identical; receipt '%s'"
              % (len(report["checks"]), receipt["Subject"]))
        return report["screenshots"]
    finally:
        st.stop()


def access_code(build, work, shots):
    st = Stack(build)
    st.conf_extra.update({("smtp", "port"): str(st.ports["sink"]),
                          ("gateway", "failed_lookups_per_minute"): "100000"})
    st.start()
    try:
        data = os.urandom(300_000)
        send_one(st, "Medische brief [code:4711-x]", [RIGHT], data)
        msg, link = wait_link(st, RIGHT)
        if "code" in str(msg["Subject"]) or "4711" in str(msg["Subject"]):
            fail("the tag is still in the subject: %s" % msg["Subject"])
        d = tempfile.mkdtemp(dir=st.dir)
        cfg = {"mode": "access", "link": link, "accessCode": "4711-x", "wrongCode": "1234-y",
               "downloadDir": os.path.join(d, "downloads"), "screenshotDir": shots,
               "userDataDir": tempfile.mkdtemp(prefix="chromium-", dir=st.dir)}
        os.makedirs(cfg["downloadDir"])
        report = browser_result(run_browser(work, cfg, st))
        with open(report["downloads"]["1"], "rb") as f:
            if f.read() != data:
                fail("the downloaded file differs from the attachment")
        for m in mails(st):
            if "4711" in m[1].as_string():
                fail("the access code left in a mail")
        print("access code: %d checks in the browser; download identical" % len(report["checks"]))
        return report["screenshots"]
    finally:
        st.stop()


def main(build, shots):
    for tool in ("/usr/bin/chromium", shutil.which("node"), shutil.which("npm"),
                 "/usr/sbin/postfix", "/usr/sbin/smtp-sink"):
        if not tool or not os.access(tool, os.X_OK):
            fail("chromium, node, npm, postfix and smtp-sink are needed")
    work = npm_ci(build, "recipients-test.js")
    os.makedirs(shots, exist_ok=True)
    taken = verify_and_revoke(build, work, shots) + access_code(build, work, shots)
    print("screenshots: " + " ".join(os.path.basename(s) for s in taken))
    print("OK")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: test_recipients.py BUILD_DIR [SCREENSHOT_DIR]")
    build = os.path.abspath(sys.argv[1])
    shots = os.path.abspath(sys.argv[2]) if len(sys.argv) == 3 else os.path.join(build, "screenshots")
    sys.exit(main(build, shots))
