#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_verify - recipients who prove who they are, at the gateway, with curl and smtp-sink.

A package that asks for verification shows only a form for an e-mail address:
GETs never mail anything; an unknown address gets the very same page and no
mail; a recipient's address (domain in any case) gets a 6-digit code by mail,
captured at a real smtp-sink, and not another one within half a minute; the code unlocks the page and the files (bytes
identical) through a cookie (HttpOnly, SameSite=Strict, the link's path);
five wrong codes void the code; a forged cookie, an expired one (made here
with the link key, the layout of docs/FORMAT.md) and package A's cookie on
package B are refused; a stale or cross-site form is refused. A package with
the sender's access code asks for it and sends no mail; five wrong ones lock
that client out (another client, named by a trusted proxy, still opens it).
Audit lines name each step and never hold a code or the link.

usage: test_verify.py BUILD_DIR
"""
import base64
import hashlib
import os
import re
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402
from test_upload import Sink  # noqa: E402

BUILD = None
ANNA = "anna@example.org"
BOB = "Bob@Example.COM"
ACCESS = "4711-x"


def form_token(page):
    m = re.search(r'name="form" value="([A-Za-z0-9_-]+)"', page)
    if m is None:
        raise AssertionError("no form token in the page")
    return m.group(1)


def code_of(msg):
    text = msg.get_body(preferencelist=("plain",)).get_content()
    m = re.search(r"^\s+(\d{6})\s*$", text, re.M)
    if m is None:
        raise AssertionError("no code in the mail:\n" + text)
    return m.group(1)


class Verification(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD, trusted_proxies="127.0.0.1/32")
        cls.sink = Sink(cls.gw.dir)
        with open(cls.gw.conf_path, "a") as f:
            f.write("[smtp]\nhost = 127.0.0.1\nport = %d\nfrom = bestanden@example.nl\n"
                    % cls.sink.port)
            f.write("[recipients]\ncode_ttl = 10m\ncode_tries = 5\nlockout = 1h\n")
        cls.gw.start()
        cls.file = os.path.join(cls.gw.dir, "inkomensverklaring.pdf")
        with open(cls.file, "wb") as f:
            f.write(os.urandom(300000))

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        cls.sink.stop()
        cls.gw.cleanup()
        if rc != 0:
            raise AssertionError("gateway exited with %d" % rc)

    # ---- requests and mails ----

    def package(self, *opts):
        out = self.gw.run([self.gw.prog("mkpackage"), "-c", self.gw.conf_path] + list(opts)
                          + ["-n", "inkomensverklaring.pdf", self.file]).decode().split("\n")
        return out[0], out[1], out[0].rsplit("/d/", 1)[1]

    def post(self, link, fields, headers=None):
        args = []
        for k, v in fields.items():
            args += ["--data-urlencode", "%s=%s" % (k, v)]
        return self.gw.curl(link, *args, headers=headers)

    def mails(self):
        return self.sink.messages()

    def wait_mails(self, n):
        deadline = time.time() + 20
        while time.time() < deadline:
            msgs = self.mails()
            if len(msgs) >= n:
                return msgs
            time.sleep(0.1)
        raise AssertionError("expected %d mails, have %d" % (n, len(self.mails())))

    def ask_code(self, link, address, headers=None):
        page = self.gw.curl(link).text
        return self.post(link, {"form": form_token(page), "step": "address",
                                "address": address}, headers)

    def enter_code(self, link, address, code, headers=None):
        page = self.gw.curl(link).text
        return self.post(link, {"form": form_token(page), "step": "code", "address": address,
                                "code": code}, headers)

    def cookie_of(self, r):
        value = r.header("set-cookie")
        self.assertIsNotNone(value, "no cookie set")
        return value.split(";", 1)[0]

    def verified_cookie(self, link, address):
        before = len(self.mails())
        self.assertEqual(self.ask_code(link, address).status, 200)
        code = code_of(self.wait_mails(before + 1)[-1])
        r = self.enter_code(link, address, code)
        self.assertEqual(r.status, 303, r.text)
        return self.cookie_of(r)

    def audit_text(self):
        with open(self.gw.audit_path) as f:
            return f.read()

    def link_key(self):
        with open(os.path.join(self.gw.keys, "link-1.key")) as f:
            for line in f:
                if line.startswith("key:"):
                    return base64.b64decode(line.split(":", 1)[1].strip())
        raise AssertionError("no key line")

    def made_cookie(self, package, expires, key=None):
        """A cookie as docs/FORMAT.md lays it out, MAC'd with the link key (or KEY)."""
        ckey = hashlib.blake2b(b"bestanden verify cookie v1", key=key or self.link_key(),
                               digest_size=32).digest()
        body = bytes([1]) + bytes.fromhex(package) + struct.pack(">Q", expires) + bytes(16)
        mac = hashlib.blake2b(body, key=ckey, digest_size=32).digest()
        return "bd_verified=" + base64.urlsafe_b64encode(body + mac).decode().rstrip("=")

    # ---- tests ----

    def test_1_gets_are_inert(self):
        link, package, token = self.package("-r", ANNA, "-v", "code")
        before = len(self.mails())
        for _ in range(3):
            r = self.gw.curl(link)
            self.assertEqual(r.status, 200)
            self.assertIn('name="address"', r.text)
            self.assertNotIn("inkomensverklaring", r.text)  # no file name before the check
            self.assertEqual(self.gw.curl(link, method="HEAD").status, 200)
        for target in ("/1", "/all"):
            r = self.gw.curl(link + target)
            self.assertEqual(r.status, 403)
            self.assertIn(b'name="address"', r.body)
        time.sleep(1)
        self.assertEqual(len(self.mails()), before, "a GET sent mail")

    def test_2_unknown_address_same_page_no_mail(self):
        link, package, token = self.package("-r", ANNA, "-r", BOB, "-v", "code")
        before = len(self.mails())
        other = "anne@example.org"  # as long as anna's
        known = self.ask_code(link, ANNA)
        unknown = self.ask_code(link, other)
        self.assertEqual(known.status, unknown.status)
        self.assertEqual(known.body.replace(ANNA.encode(), b"X"),
                         unknown.body.replace(other.encode(), b"X"))
        self.assertIn('name="code"', known.text)
        msgs = self.wait_mails(before + 1)
        time.sleep(1)
        msgs = self.mails()
        self.assertEqual(len(msgs), before + 1, "the unknown address got mail")
        self.assertEqual(msgs[-1]["To"], ANNA)
        # the domain in another case is the same recipient; the mail goes to the listed spelling
        self.ask_code(link, "Bob@example.com")
        msgs = self.wait_mails(before + 2)
        self.assertEqual(msgs[-1]["To"], BOB)
        # the local part is compared as written
        self.ask_code(link, "bob@Example.COM")
        time.sleep(1)
        self.assertEqual(len(self.mails()), before + 2)
        events = [a for a in self.gw.audit() if a.get("package") == package]
        self.assertEqual(len([a for a in events if a["event"] == "code-sent"]), 2)
        self.assertTrue(any(a["event"] == "verification-failed" and
                            a["outcome"] == "unknown-address" for a in events))

    def test_2b_no_mail_bombing(self):
        link, package, token = self.package("-r", ANNA, "-v", "code")
        before = len(self.mails())
        self.assertEqual(self.ask_code(link, ANNA).status, 200)
        self.wait_mails(before + 1)
        again = self.ask_code(link, ANNA)  # within half a minute: the same page, no mail
        self.assertEqual(again.status, 200)
        time.sleep(1.5)
        self.assertEqual(len(self.mails()), before + 1)
        self.assertTrue(any(a.get("package") == package and a.get("outcome") == "code-throttled"
                            for a in self.gw.audit()))

    def test_3_code_unlocks_the_download(self):
        link, package, token = self.package("-r", ANNA, "-v", "code")
        before = len(self.mails())
        self.ask_code(link, ANNA)
        msg = self.wait_mails(before + 1)[-1]
        code = code_of(msg)
        self.assertIn("/d/" + token, msg.get_body(preferencelist=("plain",)).get_content())
        r = self.enter_code(link, ANNA, code)
        self.assertEqual(r.status, 303)
        self.assertTrue(r.header("location").startswith("/d/" + token))
        attrs = [a.strip() for a in r.header("set-cookie").split(";")]
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Strict", attrs)
        self.assertIn("Path=/d/" + token, attrs)
        self.assertIn("Max-Age=3600", attrs)
        self.assertNotIn("Secure", attrs)  # plain HTTP here
        cookie = self.cookie_of(r)
        page = self.gw.curl(link, headers={"Cookie": cookie})
        self.assertEqual(page.status, 200)
        self.assertIn("inkomensverklaring.pdf", page.text)
        got = self.gw.curl(link + "/1", headers={"Cookie": cookie})
        self.assertEqual(got.status, 200)
        with open(self.file, "rb") as f:
            self.assertEqual(got.body, f.read())
        # a cookie for another name or with other cookies around it
        page = self.gw.curl(link, headers={"Cookie": "a=b; " + cookie + "; c=d"})
        self.assertIn("inkomensverklaring.pdf", page.text)
        # the download is the verified recipient's (bd_verify_who); its line comes when it ends
        deadline = time.time() + 10
        while True:
            events = [a for a in self.gw.audit() if a.get("package") == package]
            if any(a["event"] == "download" for a in events) or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(any(a["event"] == "verified" and a.get("recipient") == ANNA
                            for a in events))
        self.assertTrue(any(a["event"] == "download" and a.get("recipient") == ANNA
                            for a in events), events)
        for text in (self.audit_text(), self.gw.log()):
            self.assertNotIn(code, text)
            self.assertNotIn(token, text)

    def test_4_five_wrong_codes(self):
        link, package, token = self.package("-r", ANNA, "-v", "code")
        before = len(self.mails())
        self.ask_code(link, ANNA)
        code = code_of(self.wait_mails(before + 1)[-1])
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        for _ in range(5):
            r = self.enter_code(link, ANNA, wrong)
            self.assertEqual(r.status, 403)
            self.assertIsNone(r.header("set-cookie"))
        r = self.enter_code(link, ANNA, code)
        self.assertEqual(r.status, 403, "the right code after five wrong ones")
        self.assertIsNone(r.header("set-cookie"))
        failures = [a for a in self.gw.audit() if a.get("package") == package and
                    a["event"] == "verification-failed" and a["outcome"] == "wrong-code"]
        self.assertEqual(len(failures), 6)
        # a new code works again
        self.verified_cookie(link, ANNA)

    def test_5_cookies_refused(self):
        link_a, package_a, _ = self.package("-r", ANNA, "-v", "code")
        link_b, package_b, _ = self.package("-r", ANNA, "-v", "code")
        cookie_a = self.verified_cookie(link_a, ANNA)
        self.assertIn("inkomensverklaring", self.gw.curl(link_a, headers={"Cookie": cookie_a}).text)
        # package A's cookie on package B
        for target in ("", "/1", "/all"):
            r = self.gw.curl(link_b + target, headers={"Cookie": cookie_a})
            self.assertNotIn(b"inkomensverklaring", r.body)
            self.assertIn(b'name="address"', r.body)
        # forged: one character changed
        name, value = cookie_a.split("=", 1)
        forged = name + "=" + ("A" if value[10] != "A" else "B").join([value[:10], value[11:]])
        r = self.gw.curl(link_a + "/1", headers={"Cookie": forged})
        self.assertEqual(r.status, 403)
        # made with the right key: accepted while valid, refused once expired
        now = int(time.time())
        good = self.made_cookie(package_a, now + 600)
        self.assertIn("inkomensverklaring", self.gw.curl(link_a, headers={"Cookie": good}).text)
        for expires in (now - 1, now - 7200):
            r = self.gw.curl(link_a, headers={"Cookie": self.made_cookie(package_a, expires)})
            self.assertNotIn("inkomensverklaring", r.text)
        # dated further ahead than a cookie lives, or made with another key
        r = self.gw.curl(link_a, headers={"Cookie": self.made_cookie(package_a, now + 86400)})
        self.assertNotIn("inkomensverklaring", r.text)
        r = self.gw.curl(link_a, headers={"Cookie": self.made_cookie(package_a, now + 600,
                                                                     key=bytes(32))})
        self.assertNotIn("inkomensverklaring", r.text)

    def test_6_stale_and_cross_site_forms(self):
        link, package, token = self.package("-r", ANNA, "-v", "code")
        before = len(self.mails())
        r = self.post(link, {"step": "address", "address": ANNA})
        self.assertEqual(r.status, 403)
        r = self.post(link, {"form": "A" * 22, "step": "address", "address": ANNA})
        self.assertEqual(r.status, 403)
        r = self.ask_code(link, ANNA, headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403)
        r = self.ask_code(link, ANNA, headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(r.status, 403)
        # a form token of package A does not post to package B
        link_b, _, _ = self.package("-r", ANNA, "-v", "code")
        r = self.post(link_b, {"form": form_token(self.gw.curl(link).text), "step": "address",
                               "address": ANNA})
        self.assertEqual(r.status, 403)
        time.sleep(1)
        self.assertEqual(len(self.mails()), before)
        # our own page's post, as a browser sends it under no-referrer
        r = self.ask_code(link, ANNA, headers={"Origin": "null"})
        self.assertEqual(r.status, 200)
        self.wait_mails(before + 1)

    def test_7_access_code_and_lockout(self):
        link, package, token = self.package("-A", ACCESS)
        before = len(self.mails())
        page = self.gw.curl(link)
        self.assertEqual(page.status, 200)
        self.assertIn('name="code"', page.text)
        self.assertNotIn('name="address"', page.text)
        self.assertNotIn("inkomensverklaring", page.text)

        def attempt(code, client=None):
            headers = {"X-Forwarded-For": client} if client else None
            return self.post(link, {"form": form_token(self.gw.curl(link).text),
                                    "step": "access", "code": code}, headers)

        for _ in range(4):
            self.assertEqual(attempt("1234").status, 403)
        r = attempt("1234")
        self.assertEqual(r.status, 429)
        self.assertIn("geblokkeerd", r.text)
        r = attempt(ACCESS)
        self.assertEqual(r.status, 429, "the right code from a locked client")
        self.assertIsNone(r.header("set-cookie"))
        # another client is not locked
        r = attempt(ACCESS, "192.0.2.7")
        self.assertEqual(r.status, 303)
        cookie = self.cookie_of(r)
        got = self.gw.curl(link + "/1", headers={"Cookie": cookie})
        with open(self.file, "rb") as f:
            self.assertEqual(got.body, f.read())
        events = [a for a in self.gw.audit() if a.get("package") == package]
        self.assertEqual(len([a for a in events if a["event"] == "locked"]), 1)
        self.assertTrue(any(a["event"] == "verified" and "recipient" not in a for a in events))
        time.sleep(1)
        self.assertEqual(len(self.mails()), before, "the access code path sent mail")
        self.assertNotIn(ACCESS, self.audit_text())
        self.assertNotIn(ACCESS, self.gw.log())

    def test_7b_lockout_warns_the_sender_once(self):
        sender = "afzender@bestanden.test"
        link, package, token = self.package("-A", ACCESS, "-s", sender, "-R", "first")
        before = len(self.mails())

        def lock(client):
            for _ in range(5):
                r = self.post(link, {"form": form_token(self.gw.curl(link).text),
                                     "step": "access", "code": "0000"},
                              {"X-Forwarded-For": client})
            self.assertEqual(r.status, 429)

        lock("192.0.2.21")
        msg = self.wait_mails(before + 1)[-1]
        self.assertIn(sender, str(msg["To"]))
        body = msg.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("te vaak een verkeerde toegangscode", body)
        self.assertNotIn(ACCESS, body)
        self.assertNotIn(token, body)
        # a second client locked within the hour: no second warning
        lock("192.0.2.22")
        time.sleep(2)
        self.assertEqual(len(self.mails()), before + 1, "a second warning within the lockout")
        self.assertIn("event=lock-warning-sent package=%s" % package, self.gw.log())

    def test_8_unprotected_package_unchanged(self):
        link, package, token = self.gw.package([(self.file, "open.pdf", "application/pdf")])
        page = self.gw.curl(link)
        self.assertEqual(page.status, 200)
        self.assertIn("open.pdf", page.text)
        self.assertNotIn("set-cookie", page.headers)
        r = self.post(link, {"address": ANNA})
        self.assertEqual(r.status, 405)

    def test_9_metrics(self):
        m = self.gw.metrics()
        self.assertGreater(m['bestanden_verifications_total{outcome="code_sent"}'], 0)
        self.assertGreater(m['bestanden_verifications_total{outcome="verified"}'], 0)
        self.assertGreater(m['bestanden_verifications_total{outcome="failed"}'], 0)
        self.assertGreater(m['bestanden_verifications_total{outcome="locked"}'], 0)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
