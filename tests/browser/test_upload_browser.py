#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_upload_browser - headless chromium uploads two files through an upload request.

`bestanden request create` makes the request; tests/browser/upload-test.js opens its page
(nl, en, phone), chooses two files, sends them with the progress bar showing, and reads the
confirmation; a real smtp-sink receives the requester's mail, whose download link must give
the files back byte for byte. Screenshots go to SCREENSHOT_DIR (default
BUILD_DIR/screenshots; docs/screenshots holds the committed ones).
Missing chromium, node or npm is a failure, not a skip.

usage: test_upload_browser.py BUILD_DIR [SCREENSHOT_DIR]
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
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gateway"))
sys.path.insert(0, HERE)
import gwtest  # noqa: E402
import test_upload  # noqa: E402  (its smtp-sink)
from test_browser import fail, npm_ci  # noqa: E402


def main(build, shots):
    for tool in ("/usr/bin/chromium", shutil.which("node"), shutil.which("npm")):
        if not tool or not os.access(tool, os.X_OK):
            fail("chromium, node and npm are needed (scripts/install-deps.sh test)")
    work = npm_ci(build, "upload-test.js")  # its own directory: gateway_browser may run beside it
    os.makedirs(shots, exist_ok=True)
    gw = gwtest.Gateway(build, logo=os.path.join(HERE, "logo.svg"))
    sink = test_upload.Sink(gw.dir)
    with open(gw.conf_path, "a") as f:
        f.write("[smtp]\nhost = 127.0.0.1\nport = %d\nfrom = bestanden@example.nl\n" % sink.port)
    status = 1
    try:
        gw.start()

        def request(*args):
            return gw.run([gw.prog("cli"), "-c", gw.conf_path, "request", "create",
                           "--requester", "verhuur@delinde.example"] + list(args)).decode().strip()

        note = "Graag de inkomensverklaring 2024 en een loonstrook."
        files = {"Inkomensverklaring 2024.pdf": os.urandom(24 * 1024 * 1024),
                 "loonstrook-maart.pdf": os.urandom(180_000)}
        paths = []
        for name, data in files.items():
            paths.append(os.path.join(gw.dir, name))
            with open(paths[-1], "wb") as f:
                f.write(data)
        cfg = {"link": request("--note", note), "smallLink": request("--max-file-size", "1M"),
               "requester": "verhuur@delinde.example", "note": note, "files": paths,
               "screenshotDir": shots,
               "userDataDir": tempfile.mkdtemp(prefix="chromium-", dir=gw.dir)}
        cfg_path = os.path.join(gw.dir, "upload.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run(["node", os.path.join(work, "upload-test.js"), cfg_path],
                           capture_output=True, timeout=300,
                           env=dict(os.environ, TZ="Europe/Amsterdam"))
        if p.returncode != 0:
            fail("browser run failed:\n" + p.stderr.decode(errors="replace")[-4000:])
        report = json.loads(p.stdout.decode().strip().splitlines()[-1])
        deadline = time.time() + 20
        while not sink.messages() and time.time() < deadline:
            time.sleep(0.1)
        msgs = sink.messages()
        if len(msgs) != 1:
            fail("%d mails to the requester, expected 1" % len(msgs))
        text = msgs[0].get_body(("plain",)).get_content()
        link = re.search(r"<(%s/d/[A-Za-z0-9_-]{56})>" % re.escape(gw.url), text)
        if not link or "Piet Huurder" not in text:
            fail("the requester's mail lacks the link or the uploader:\n" + text)
        for i, (name, data) in enumerate(files.items(), start=1):
            got = gw.curl("%s/%d" % (link.group(1), i))
            if got.status != 200 or got.body != data:
                fail("file %d (%s) does not come back as uploaded" % (i, name))
        print("%d checks in the browser; files identical; screenshots: %s"
              % (len(report["checks"]),
                 " ".join(os.path.basename(s) for s in report["screenshots"])))
        status = 0
    finally:
        rc = gw.stop()
        sink.stop()
        log = gw.log()
        gw.cleanup()
    if rc != 0:
        fail("gateway exited with %d:\n%s" % (rc, log[-4000:]))
    print("OK")
    return status


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: test_upload_browser.py BUILD_DIR [SCREENSHOT_DIR]")
    build = os.path.abspath(sys.argv[1])
    shots = os.path.abspath(sys.argv[2]) if len(sys.argv) == 3 else os.path.join(build, "screenshots")
    sys.exit(main(build, shots))
