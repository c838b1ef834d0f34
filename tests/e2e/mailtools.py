# SPDX-License-Identifier: EUPL-1.2
"""mailtools - building test messages and reading what bestanden made of them."""
import email
import email.policy
import hashlib
import os
import re
import subprocess
import tempfile
from email.message import EmailMessage

LINK_RE = re.compile(r"<(https?://[^/\s>]+/d/[A-Za-z0-9_-]{20,60})>")


def message(sender, rcpts, subject, text, attachments=(), html=None):
    """attachments: [(filename, maintype, subtype, bytes)]"""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = ", ".join(rcpts)
    m["Subject"] = subject
    m["Message-ID"] = email.utils.make_msgid(domain="bestanden.test")
    m.set_content(text)
    if html:
        m.add_alternative(html, subtype="html")
    for name, maintype, subtype, data in attachments:
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=email.policy.SMTP)


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def attachments(msg):
    """(filename, bytes) of every part with a filename."""
    out = []
    for part in msg.walk():
        if part.get_filename() and not part.is_multipart():
            out.append((part.get_filename(), part.get_payload(decode=True)))
    return out


def text_parts(msg):
    return [p for p in msg.walk() if p.get_content_type() in ("text/plain", "text/html")
            and not p.get_filename() and p.get_content_disposition() != "attachment"]


def links(msg):
    found = set()
    for p in text_parts(msg):
        body = p.get_content()
        found.update(LINK_RE.findall(body.replace("&amp;", "&")))
        found.update(re.findall(r'href="(https?://[^"]+/d/[A-Za-z0-9_-]+)"', body))
    return found


def fetch(cli, conf, link):
    """Download a link's files with `bestanden fetch`: {name: bytes}."""
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([cli, "-c", conf, "fetch", "-o", d, link], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("bestanden fetch failed: %s" % r.stderr)
        out = {}
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                out[name] = f.read()
        return out


def sha(data):
    return hashlib.sha256(data).hexdigest()


def is_7bit(raw):
    return all(b < 128 for b in raw)
