#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_admin_cli - the bestanden command against a running gateway's admin API.

With [admin] url set, `stats` prints the gateway's numbers, `inspect` by link
shows the file names, `revoke` makes the link 404 and `request create` prints
a link that opens the upload page, each through the API (the audit log shows
the API's own events); a wrong [admin] url and a wrong token file give errors
that name the setting to fix.

usage: test_admin_cli.py BUILD_DIR
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway"))
import gwtest  # noqa: E402

BUILD = None


class CliOverApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        port = gwtest.free_port()
        cls.api = "http://127.0.0.1:%d" % port
        cls.gw = gwtest.Gateway(BUILD, admin={"listen": "127.0.0.1:%d" % port,
                                              "token_file": "KEYS", "url": cls.api})
        cls.gw.start()
        cls.src = os.path.join(cls.gw.dir, "report.pdf")
        with open(cls.src, "wb") as f:
            f.write(b"%PDF-1.4 jaarverslag\n" * 200)

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        cls.gw.cleanup()
        assert rc == 0, "gateway did not stop cleanly"

    def cli(self, *args, conf=None):
        p = subprocess.run([self.gw.prog("cli"), "-c", conf or self.gw.conf_path] + list(args),
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def conf_with(self, name, old, new):
        with open(self.gw.conf_path) as f:
            text = f.read()
        self.assertIn(old, text)
        path = os.path.join(self.gw.dir, name)
        with open(path, "w") as f:
            f.write(text.replace(old, new))
        return path

    def events(self, package):
        return [e["event"] for e in self.gw.audit() if e.get("package") == package]

    def test_stats_prints_the_numbers(self):
        link, _, _ = self.gw.package([(self.src, "a.pdf", "application/pdf")])
        self.assertEqual(self.gw.curl(link + "/1").status, 200)
        rc, out, err = self.cli("stats")
        self.assertEqual(rc, 0, err)
        lines = dict(line.rsplit(None, 1) for line in out.splitlines()
                     if not line.startswith("last sweep"))
        self.assertGreaterEqual(int(lines["storage packages"]), 1)
        self.assertGreater(int(lines["storage bytes"]), os.path.getsize(self.src))
        metrics = self.gw.metrics()
        self.assertEqual(int(lines["downloads_complete"]),
                         metrics['bestanden_downloads_total{outcome="complete"}'])
        self.assertIn("last sweep", out)

    def test_inspect_by_link_shows_names(self):
        link, pkg, _ = self.gw.package([(self.src, "Jaarverslag 2025.pdf", "application/pdf")])
        rc, out, err = self.cli("inspect", link)
        self.assertEqual(rc, 0, err)
        self.assertIn("package  " + pkg, out)
        self.assertIn("Jaarverslag 2025.pdf", out)
        self.assertIn("application/pdf", out)
        self.assertIn("downloads 0", out)  # only the API counts them
        rc, out, err = self.cli("inspect", self.gw.url + "/d/" + "A" * 56)
        self.assertEqual(rc, 1)
        self.assertIn("no such package", err)

    def test_revoke_through_the_api(self):
        link, pkg, _ = self.gw.package([(self.src, "weg.pdf", None)])
        self.assertEqual(self.gw.curl(link).status, 200)
        rc, out, err = self.cli("revoke", link)
        self.assertEqual(rc, 0, err)
        self.assertIn("package %s revoked" % pkg, out)
        self.assertEqual(self.gw.curl(link).status, 404)
        self.assertIn("revoked", self.events(pkg))  # the admin API writes it
        rc, out, err = self.cli("revoke", pkg)  # by id, again: idempotent
        self.assertEqual(rc, 0, err)

    def test_request_create_prints_a_link_that_opens(self):
        rc, out, err = self.cli("request", "create", "--requester", "inkoop@linde.nl",
                                "--to", "jan@example.org", "--note", "Graag de tekening",
                                "--expires", "3d", "--max-files", "2")
        self.assertEqual(rc, 0, err)
        link = out.strip()
        self.assertTrue(link.startswith(self.gw.url + "/u/"), out)
        page = self.gw.curl(link, headers={"Accept-Language": "en"})
        self.assertEqual(page.status, 200)
        self.assertIn("Graag de tekening", page.text)
        self.assertIn("request-created", [e["event"] for e in self.gw.audit()])
        rc, out, err = self.cli("request", "create", "--requester", "inkoop@linde.nl",
                                "--send")
        self.assertEqual(rc, 1)  # --send without --to: the gateway says what is missing
        self.assertIn("send: needs the address to send to", err)

    def test_wrong_url_names_the_setting(self):
        closed = "http://127.0.0.1:%d" % gwtest.free_port()
        conf = self.conf_with("wrong-url.conf", "url = " + self.api, "url = " + closed)
        for args in (["stats"], ["inspect", "0123456789abcdef"], ["revoke", "0123456789abcdef"],
                     ["request", "create", "--requester", "a@b.nl"]):
            rc, out, err = self.cli(*args, conf=conf)
            self.assertEqual(rc, 1, args)
            self.assertIn("cannot reach the admin API at " + closed, err)
            self.assertIn("[admin] url", err)
            self.assertEqual(out, "")
        # the recipients' port is not the admin API
        conf = self.conf_with("public-url.conf", "url = " + self.api, "url = " + self.gw.url)
        rc, out, err = self.cli("stats", conf=conf)
        self.assertEqual(rc, 1)
        self.assertIn("[admin] url", err)

    def test_wrong_token_names_the_token_file(self):
        wrong = os.path.join(self.gw.dir, "wrong.token")
        with open(wrong, "w") as f:
            f.write("x" * 43 + "\n")
        os.chmod(wrong, 0o600)
        conf = self.conf_with("wrong-token.conf",
                              "token_file = " + os.path.join(self.gw.keys, "admin.token"),
                              "token_file = " + wrong)
        rc, out, err = self.cli("stats", conf=conf)
        self.assertEqual(rc, 1)
        self.assertIn("refused the token", err)
        self.assertIn("[admin] token_file = " + wrong, err)
        self.assertNotIn("x" * 43, err)


class CliWithoutApi(unittest.TestCase):
    def setUp(self):
        self.gw = gwtest.Gateway(BUILD)
        self.addCleanup(self.gw.cleanup)
        self.gw.start()
        self.addCleanup(self.gw.stop)

    def test_stats_counts_storage_and_says_where_traffic_is(self):
        src = os.path.join(self.gw.dir, "a.bin")
        with open(src, "wb") as f:
            f.write(b"x" * 1000)
        self.gw.package([(src, None, None)])
        p = subprocess.run([self.gw.prog("cli"), "-c", self.gw.conf_path, "stats"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("storage packages  1\n", p.stdout)
        self.assertIn("set [admin] url", p.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
