#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_manage - the sender's management link /m/<token> against a real gateway.

A management token does not open /d/ and a download token does not open /m/;
the status page lists the files and, after a complete download, who downloaded
what; the POSTs need the page's form field and a same-origin Origin, and GETs
change nothing; Revoke empties storage but for the withdrawal marker, and the
recipients' link then says (410, nl and en) that the sender withdrew the files,
until the sweep removes the marker at the old expiry; Extend moves the expiry
within [admin] max_retention and refuses to go past it. Forged /m/ tokens feed the
failed-lookup limit (429), a genuine link still opens.

usage: test_manage.py BUILD_DIR
"""
import html
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None
CONTENT = b"%PDF-1.4 jaaropgave 2025\n" * 400


class Manage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gwtest.Gateway(BUILD, admin={"max_retention": "30d"})
        cls.gw.start()
        cls.src = os.path.join(cls.gw.dir, "jaaropgave.pdf")
        with open(cls.src, "wb") as f:
            f.write(CONTENT)

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        cls.gw.cleanup()
        assert rc == 0, "gateway did not stop cleanly"

    def package(self, lifetime=3600):
        """-> (download link, package id, management link)"""
        out = self.gw.run([self.gw.prog("mkpackage"), "-c", self.gw.conf_path, "-e",
                           str(lifetime), "-n", "jaaropgave.pdf", "-t", "application/pdf",
                           self.src]).decode().split("\n")
        return out[0], out[1], out[2]

    def form_of(self, page):
        m = re.search(r'name="form" value="([0-9a-f]+)"', page)
        self.assertIsNotNone(m, "the page has no form field")
        return m.group(1)

    def post(self, url, fields, origin=None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if origin is not None:
            headers["Origin"] = origin
        body = "&".join("%s=%s" % kv for kv in fields.items())
        return self.gw.curl(url, "--data-binary", body, headers=headers)

    def objects(self, pkg):
        d = os.path.join(self.gw.data_dir, pkg)
        found = []
        for root, _, files in os.walk(d):
            found += [os.path.relpath(os.path.join(root, f), d) for f in files]
        return sorted(found)

    def test_token_types_stay_apart(self):
        link, pkg, mlink = self.package()
        dtoken, mtoken = link.rsplit("/", 1)[1], mlink.rsplit("/", 1)[1]
        self.assertNotEqual(dtoken, mtoken)
        # the sender's link never downloads, the recipients' link never manages
        self.assertEqual(self.gw.curl(self.gw.url + "/d/" + mtoken).status, 404)
        self.assertEqual(self.gw.curl(self.gw.url + "/d/" + mtoken + "/1").status, 404)
        self.assertEqual(self.gw.curl(self.gw.url + "/m/" + dtoken).status, 404)
        form = {"form": "0" * 32}
        self.assertEqual(self.post(self.gw.url + "/m/" + dtoken + "/revoke", form).status, 404)
        self.assertEqual(self.gw.curl(link).status, 200)
        r = self.gw.curl(mlink, headers={"Accept-Language": "en"})
        self.assertEqual(r.status, 200)
        self.assertIn("jaaropgave.pdf", r.text)
        self.assertIn("Not downloaded yet", r.text)
        self.assertNotIn("<script", r.text)
        self.assertIn("form-action 'self'", r.header("content-security-policy"))
        self.assertNotIn(mtoken, self.gw.log())
        nl = self.gw.curl(mlink + "?lang=nl")
        self.assertIn("Nog niet gedownload", nl.text)
        self.assertEqual(nl.header("content-language"), "nl")

    def test_status_page_shows_a_complete_download(self):
        link, pkg, mlink = self.package()
        r = self.gw.curl(link + "/1")
        self.assertEqual(r.body, CONTENT)
        # the event is recorded when the server sees the transfer end
        deadline = time.time() + 10
        while True:
            page = self.gw.curl(mlink, headers={"Accept-Language": "en"}).text
            if "Downloaded by" in page or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertIn("Downloaded by someone with the link on", page)
        self.assertNotIn("Not downloaded yet", page)

    def test_gets_are_inert_and_posts_need_the_page(self):
        link, pkg, mlink = self.package()
        page = self.gw.curl(mlink).text
        form = self.form_of(page)
        # a GET of the action does nothing
        self.assertEqual(self.gw.curl(mlink + "/revoke").status, 405)
        self.assertEqual(self.gw.curl(mlink, method="POST").status, 405)
        # no form field, a wrong one, or another site's Origin: refused, nothing changes
        self.assertEqual(self.post(mlink + "/revoke", {}).status, 403)
        self.assertEqual(self.post(mlink + "/revoke", {"form": "ab" * 16}).status, 403)
        r = self.post(mlink + "/revoke", {"form": form}, origin="https://evil.example")
        self.assertEqual(r.status, 403)
        other_link, other_pkg, other_mlink = self.package()
        other_form = self.form_of(self.gw.curl(other_mlink).text)
        self.assertNotEqual(form, other_form)
        self.assertEqual(self.post(mlink + "/revoke", {"form": other_form}).status, 403)
        self.assertEqual(self.gw.curl(link).status, 200)
        self.assertIn("0", self.objects(pkg))
        refused = [e for e in self.gw.audit()
                   if e.get("package") == pkg and e["event"] == "revoke-refused"]
        self.assertEqual(len(refused), 4)

    def test_revoke_withdraws(self):
        link, pkg, mlink = self.package()
        self.assertEqual(self.gw.curl(link + "/1").body, CONTENT)
        form = self.form_of(self.gw.curl(mlink).text)
        r = self.post(mlink + "/revoke?lang=en", {"form": form}, origin=self.gw.url)
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("The files have been revoked", r.text)
        # files, manifest and events are gone; only the 8-byte marker is left
        self.assertEqual(self.objects(pkg), ["ffffffff"])
        self.assertEqual(os.path.getsize(os.path.join(self.gw.data_dir, pkg, "ffffffff")), 8)
        for lang, words in (("en", "The sender has withdrawn these files"),
                            ("nl", "De afzender heeft deze bestanden ingetrokken")):
            r = self.gw.curl(link + "?lang=" + lang)
            self.assertEqual(r.status, 410)
            self.assertIn(words, html.unescape(r.text))
        self.assertEqual(self.gw.curl(link + "/1").status, 410)
        self.assertEqual(self.gw.curl(mlink).status, 410)
        # again: nothing to revoke, the same page
        self.assertEqual(self.post(mlink + "/revoke", {"form": form}).status, 410)
        events = [(e["event"], e.get("outcome")) for e in self.gw.audit()
                  if e.get("package") == pkg]
        self.assertIn(("revoked", "sender"), events)
        self.assertIn(("withdrawn", "refused"), events)

    def test_sweep_removes_the_marker_at_the_old_expiry(self):
        link, pkg, mlink = self.package(lifetime=4)
        form = self.form_of(self.gw.curl(mlink).text)
        self.assertEqual(self.post(mlink + "/revoke", {"form": form}).status, 200)
        cli = [self.gw.prog("cli"), "-c", self.gw.conf_path, "sweep"]
        subprocess.run(cli, capture_output=True)
        self.assertEqual(self.objects(pkg), ["ffffffff"], "swept before its date")
        time.sleep(5)
        p = subprocess.run(cli, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.objects(pkg), [])

    def test_extend_within_the_maximum(self):
        link, pkg, mlink = self.package()
        page = self.gw.curl(mlink, headers={"Accept-Language": "en"}).text
        form = self.form_of(page)
        # the choice stops at the maximum: 30 days from creation
        days = [int(d) for d in re.findall(r'<option value="(\d+)">', page)]
        self.assertTrue(days and max(days) <= 30, days)
        r = self.post(mlink + "/extend?lang=en", {"form": form, "days": "7"})
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("Extended: the files stay available until", r.text)
        want = gwtest.page_day(time.time() + 3600 + 7 * 86400)
        self.assertIn(want, r.text)
        self.assertIn(want, self.gw.curl(link, headers={"Accept-Language": "en"}).text)
        self.assertIn("extended", r.text)  # the event, under what happened
        # past the maximum: refused with the latest date, nothing moves
        r = self.post(mlink + "/extend?lang=en", {"form": form, "days": "30"})
        self.assertEqual(r.status, 422)
        self.assertIn("Not past", r.text)
        self.assertIn(want, self.gw.curl(link, headers={"Accept-Language": "en"}).text)
        for bad in ("0", "-1", "x", "366"):
            self.assertEqual(self.post(mlink + "/extend", {"form": form, "days": bad}).status,
                             400)
        self.assertEqual(self.post(mlink + "/extend", {"days": "1"}).status, 403)
        events = [(e["event"], e.get("outcome")) for e in self.gw.audit()
                  if e.get("package") == pkg]
        self.assertIn(("extended", "sender"), events)


class ManageLimit(unittest.TestCase):
    """Forged /m/ tokens feed the failed-lookup limit; a genuine link still opens."""

    def test_forgeries_are_held_back(self):
        gw = gwtest.Gateway(BUILD, failed_lookups_per_minute="3")
        try:
            gw.start()
            src = os.path.join(gw.dir, "a.txt")
            with open(src, "wb") as f:
                f.write(b"a")
            out = gw.run([gw.prog("mkpackage"), "-c", gw.conf_path, src]).decode().split("\n")
            mlink = out[2]
            forged = gw.url + "/m/" + "A" * 56
            codes = [gw.curl(forged).status for _ in range(5)]
            self.assertEqual(codes[:3], [404, 404, 404])
            self.assertEqual(codes[-1], 429)
            self.assertEqual(gw.curl(mlink).status, 200)
        finally:
            rc = gw.stop()
            gw.cleanup()
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
