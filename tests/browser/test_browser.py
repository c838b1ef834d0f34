#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_browser - a real browser (Debian's chromium) through the recipient's pages.

A message with attachments goes through `bestanden rewrite` (the milter's
pipeline) into a gateway's store; the link in the rewritten message is opened
in headless chromium driven by playwright-core (tests/browser/browser-test.js):
click Download, Tab+Enter, the zip, the language switch, an expired link; the
saved files must equal the attachments byte for byte. A message with an HTML
body is rewritten with the Dutch and with the English notice, and its HTML
part shown as a mail reader shows it (a sandboxed frame under the headers):
the link must be visible and lead to the gateway, the expiry date be there.
Screenshots of each page and mail (desktop and phone) go to SCREENSHOT_DIR
(default BUILD_DIR/screenshots; docs/screenshots holds the committed ones).
Everything talks to 127.0.0.1.
Missing chromium, node or npm is a failure, not a skip.

usage: test_browser.py BUILD_DIR [SCREENSHOT_DIR]
"""
import email
import email.policy
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gateway"))
import gwtest  # noqa: E402


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def npm_ci(build, script="browser-test.js"):
    """playwright-core from the lockfile, installed in the build directory beside SCRIPT (a
    directory of its own per script, so that tests run side by side do not share one)."""
    work = os.path.join(build, script[:-3])
    os.makedirs(work, exist_ok=True)
    for f in ("package.json", "package-lock.json", script):
        shutil.copy(os.path.join(HERE, f), work)
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work,
                       capture_output=True)
    if p.returncode != 0:
        fail("npm ci failed: " + p.stderr.decode(errors="replace"))
    return work


def message(files):
    m = EmailMessage()
    m["From"] = "Afdeling Verhuur <verhuur@delinde.example>"
    m["To"] = "huurder@example.net"
    m["Subject"] = "Uw jaaropgave"
    m["Message-ID"] = "<browser-test@delinde.example>"
    m.set_content("Beste huurder,\n\nIn de bijlage vindt u uw jaaropgave.\n\nMet vriendelijke groet,\nDe Linde\n")
    for name, data, ctype in files:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=email.policy.SMTP)


# The HTML mail: what a sender writes, in each notice language.
MAIL = {
    "nl": {"to": "huurder@voorbeeld.nl", "subject": "Uw jaaropgave 2025",
           "greeting": "Beste huurder,",
           "body": "In de bijlage vindt u uw jaaropgave 2025 en de nieuwe huurovereenkomst. "
                   "Wilt u de overeenkomst v\u00f3\u00f3r 1 maart ondertekend terugsturen?",
           "closing": "Met vriendelijke groet,", "labels": ("Van", "Aan", "Onderwerp", "Datum")},
    "en": {"to": "tenant@example.com", "subject": "Your 2025 annual statement",
           "greeting": "Dear tenant,",
           "body": "Please find attached your 2025 annual statement and the new tenancy "
                   "agreement. Could you sign the agreement and send it back before 1 March?",
           "closing": "Kind regards,", "labels": ("From", "To", "Subject", "Date")},
}


def html_message(lang, to, files):
    t = MAIL[lang]
    m = EmailMessage()
    m["From"] = "Afdeling Verhuur <verhuur@delinde.example>"
    m["To"] = ", ".join(to)
    m["Subject"] = t["subject"]
    m["Date"] = "Tue, 10 Feb 2026 10:00:00 +0100"
    m["Message-ID"] = "<browser-mail-%s@delinde.example>" % lang
    text = "%s\n\n%s\n\n%s\nAfdeling Verhuur\nWoningcorporatie De Linde\n" % (
        t["greeting"], t["body"], t["closing"])
    m.set_content(text)
    m.add_alternative(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family:Calibri,Arial,sans-serif;font-size:15px;color:#222">\n'
        "<p>%s</p>\n<p>%s</p>\n<p>%s<br>Afdeling Verhuur<br><b>Woningcorporatie De Linde</b></p>\n"
        "</body></html>\n" % (html.escape(t["greeting"]), html.escape(t["body"]),
                                html.escape(t["closing"])), subtype="html")
    for name, data, ctype in files:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=email.policy.SMTP)


def reader_view(lang, msg, body_html):
    """The page a mail reader would show: the headers, then the HTML part in a sandboxed frame."""
    labels = MAIL[lang]["labels"]
    rows = "".join("<div><span>%s:</span> %s</div>" % (html.escape(label), html.escape(str(msg[h])))
                   for label, h in zip(labels[:2], ("From", "To")))
    rows += "<div><span>%s:</span> %s</div>" % (html.escape(labels[3]), html.escape(str(msg["Date"])))
    return ('<!DOCTYPE html><html lang="%s"><head><meta charset="utf-8"><style>'
            "body{margin:0;font-family:Arial,Helvetica,sans-serif;color:#1f2933;background:#fff}"
            "header{padding:14px 18px;background:#f4f6f8;border-bottom:1px solid #d5dbe1;"
            "font-size:13px;line-height:1.6}"
            "h1{font-size:19px;margin:0 0 6px 0}header span{color:#52606d}"
            "main{padding:4px 10px}iframe{display:block;border:0;width:100%%;height:600px}"
            '</style></head><body><header><h1>%s</h1>%s</header>'
            '<main><iframe sandbox title="message" srcdoc="%s"></iframe></main></body></html>'
            % (lang, html.escape(str(msg["Subject"])), rows, html.escape(body_html, quote=True)))


def rewrite_html_mail(gw, name, notice, lang, to, files):
    """The HTML mail written in LANG to the addresses TO through `bestanden rewrite` with
    [notice] language = NOTICE; NAME names the screenshots."""
    with open(gw.conf_path) as f:
        conf = f.read().replace("[notice]\n", "[notice]\nlanguage = %s\n" % notice, 1)
    conf_path = os.path.join(gw.dir, "notice-%s.conf" % name)
    with open(conf_path, "w") as f:
        f.write(conf)
    eml = os.path.join(gw.dir, "mail-%s.eml" % name)
    with open(eml, "wb") as f:
        f.write(html_message(lang, to, files))
    argv = [gw.prog("cli"), "-c", conf_path, "rewrite"]
    for rcpt in to:
        argv += ["--recipient", rcpt]
    out = gw.run(argv + [eml], env=dict(os.environ, TZ="Europe/Amsterdam"))
    msg = email.message_from_bytes(out, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    body_html = msg.get_body(("html",)).get_content()
    found = re.search(r"<(%s/d/[A-Za-z0-9_-]+)>" % re.escape(gw.url), text)
    if not found:
        fail("no link in the rewritten %s mail:\n%s" % (lang, text))
    if 'href="%s"' % found.group(1) not in body_html:
        fail("the HTML part of the %s mail does not link to %s" % (lang, found.group(1)))
    return {"name": name, "page": reader_view(lang, msg, body_html), "link": found.group(1),
            "greeting": MAIL[lang]["greeting"]}


def main(build, shots):
    for tool in ("/usr/bin/chromium", shutil.which("node"), shutil.which("npm")):
        if not tool or not os.access(tool, os.X_OK):
            fail("chromium, node and npm are needed (scripts/install-deps.sh test)")
    work = npm_ci(build)
    os.makedirs(shots, exist_ok=True)
    gw = gwtest.Gateway(build, logo=os.path.join(HERE, "logo.svg"))
    rc = 1
    try:
        gw.start()
        pdf = b"%PDF-1.4\n" + os.urandom(2_400_000) + b"\n%%EOF\n"
        files = [("Jaaropgave 2025.pdf", pdf, "application/pdf"),
                 ("Foto's woning – keuken.jpg", os.urandom(850_000), "image/jpeg"),
                 ("Huurovereenkomst.docx", os.urandom(31_000),
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
        eml = os.path.join(gw.dir, "in.eml")
        with open(eml, "wb") as f:
            f.write(message(files))
        out = gw.run([gw.prog("cli"), "-c", gw.conf_path, "rewrite", eml])
        rewritten = email.message_from_bytes(out, policy=email.policy.default)
        if rewritten.get_content_type() == "multipart/mixed" and any(
                p.get_filename() for p in rewritten.walk()):
            fail("the rewritten message still has attachments")
        text = rewritten.get_body(("plain",)).get_content()
        found = re.search(r"<(%s/d/[A-Za-z0-9_-]+)>" % re.escape(gw.url), text)
        if not found:
            fail("no link in the rewritten message:\n" + text)
        link = found.group(1)
        paths = []
        for i, (name, data, _) in enumerate(files):
            paths.append((os.path.join(gw.dir, "f%d" % i), name, None))
            with open(paths[-1][0], "wb") as f:
                f.write(data)
        expired, _, _ = gw.package(paths, lifetime=-3600)
        nl, en = MAIL["nl"]["to"], MAIL["en"]["to"]
        mails = [rewrite_html_mail(gw, "nl", "nl", "nl", [nl], files[:2]),
                 rewrite_html_mail(gw, "en", "en", "en", [en], files[:2]),
                 # language = auto, one recipient abroad: both notices, Dutch first
                 rewrite_html_mail(gw, "both", "auto", "nl", [nl, en], files[:2])]
        cfg = {
            "gatewayUrl": gw.url, "mails": mails,
            "link": link, "expiredLink": expired,
            "files": [{"index": i + 1, "name": n} for i, (n, _, _) in enumerate(files)],
            "downloadDir": os.path.join(gw.dir, "downloads"),
            "screenshotDir": shots,
            "userDataDir": tempfile.mkdtemp(prefix="chromium-", dir=gw.dir),
        }
        os.makedirs(cfg["downloadDir"])
        cfg_path = os.path.join(gw.dir, "browser.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run(["node", os.path.join(work, "browser-test.js"), cfg_path],
                           capture_output=True, timeout=300, env=dict(os.environ, TZ="Europe/Amsterdam"))
        if p.returncode != 0:
            fail("browser run failed:\n" + p.stderr.decode(errors="replace")[-4000:])
        report = json.loads(p.stdout.decode().strip().splitlines()[-1])
        for index in ("1", "2"):
            with open(report["downloads"][index], "rb") as f:
                if f.read() != files[int(index) - 1][1]:
                    fail("downloaded file %s differs from the attachment" % index)
        with zipfile.ZipFile(report["downloads"]["all"]) as z:
            if z.namelist() != [n for n, _, _ in files]:
                fail("zip entries: %r" % z.namelist())
            for name, data, _ in files:
                if z.read(name) != data:
                    fail("zip entry %s differs" % name)
        deadline = time.time() + 10  # a line is written when the server sees the transfer end
        while True:
            done = [a for a in gw.audit() if a["event"] == "download" and a["outcome"] == "complete"]
            if len(done) >= 3 or time.time() > deadline:
                break
            time.sleep(0.1)
        if len(done) != 3:
            fail("%d complete downloads audited, expected 3" % len(done))
        print("%d checks in the browser; downloads identical; screenshots: %s"
              % (len(report["checks"]), " ".join(os.path.basename(s) for s in report["screenshots"])))
        rc = 0
    finally:
        status = gw.stop()
        log = gw.log()
        gw.cleanup()
    if status != 0:
        fail("gateway exited with %d:\n%s" % (status, log[-4000:]))
    print("OK" if rc == 0 else "FAILED")
    return rc


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: test_browser.py BUILD_DIR [SCREENSHOT_DIR]")
    build = os.path.abspath(sys.argv[1])
    shots = os.path.abspath(sys.argv[2]) if len(sys.argv) == 3 else os.path.join(build, "screenshots")
    sys.exit(main(build, shots))
