#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_admin - the gateway's admin API (docs/API.md) over HTTP, asked with curl.

Every route answers 401 without the token and with a wrong one, and its
documented answer with the right one; the API is on its own listener only;
status without the link shows no file names, no protection and no recipients; revoke makes the recipient's link
404; extending moves the date the landing page shows; the routes the gateway
serves and docs/api/openapi.json list the same, and every documented example
(OpenAPI and the json blocks of docs/API.md) parses and has the keys of the
real answer.

usage: test_admin.py BUILD_DIR
"""
import calendar
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None
OPENAPI = os.path.join(gwtest.SRC, "docs", "api", "openapi.json")
API_MD = os.path.join(gwtest.SRC, "docs", "API.md")


class AdminApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin_port = gwtest.free_port()
        cls.gw = gwtest.Gateway(BUILD, admin={"listen": "127.0.0.1:%d" % cls.admin_port,
                                              "max_retention": "30d", "token_file": "KEYS"})
        cls.gw.start()
        cls.base = "http://127.0.0.1:%d" % cls.admin_port
        with open(os.path.join(cls.gw.keys, "admin.token")) as f:
            cls.token = f.read().strip()
        with open(OPENAPI) as f:
            cls.spec = json.load(f)
        src = os.path.join(cls.gw.dir, "report.pdf")
        with open(src, "wb") as f:
            f.write(b"%PDF-1.4 quarterly report\n" * 100)
        cls.src = src

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        cls.gw.cleanup()
        assert rc == 0, "gateway did not stop cleanly"

    def ask(self, method, path, token="right", body=None):
        headers = {}
        if token == "right":
            headers["Authorization"] = "Bearer " + self.token
        elif token is not None:
            headers["Authorization"] = "Bearer " + token
        args = []
        if body is not None:
            headers["Content-Type"] = "application/json"
            args = ["--data-binary", json.dumps(body)]
        return self.gw.curl(self.base + path, *args, method=method, headers=headers)

    def package(self, name="Offerte geheim.pdf"):
        return self.gw.package([(self.src, name, "application/pdf")])

    def routes(self):
        r = self.ask("GET", "/admin/v1")
        self.assertEqual(r.status, 200)
        return {(x["method"], x["path"]) for x in json.loads(r.body)["routes"]}

    def concrete(self, path, package):
        return path.replace("{package}", package)

    def test_every_route_refuses_no_and_wrong_token(self):
        _, pkg, _ = self.package()
        for method, path in self.routes():
            for token in (None, "wrong-" + self.token, self.token[:-1]):
                r = self.ask(method, self.concrete(path, pkg), token=token,
                             body={"days": 1} if method == "POST" else None)
                self.assertEqual(r.status, 401, (method, path, token is None))
                self.assertIn("Bearer", r.header("www-authenticate"))
                self.assertEqual(json.loads(r.body), {"error": "missing or wrong bearer token"})
        # the package is untouched by all that
        self.assertEqual(self.ask("GET", "/admin/v1/packages/" + pkg).status, 200)

    def test_not_on_the_recipients_port(self):
        r = self.gw.curl(self.gw.url + "/admin/v1/stats",
                         headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(r.status, 404)

    def test_openapi_lists_exactly_the_served_routes(self):
        documented = {(m.upper(), p) for p, item in self.spec["paths"].items()
                      for m in item if m in ("get", "post", "delete", "put", "patch")}
        self.assertEqual(documented, self.routes())
        for p, item in self.spec["paths"].items():
            for m, op in item.items():
                if m == "parameters":
                    continue
                self.assertIn("401", op["responses"], (m, p))

    def test_examples_parse(self):
        count = 0
        for item in self.spec["paths"].values():
            for m, op in item.items():
                if m == "parameters":
                    continue
                for resp in op["responses"].values():
                    for media in resp.get("content", {}).values():
                        json.loads(json.dumps(media["example"]))
                        count += 1
        with open(API_MD) as f:
            blocks = re.findall(r"```json\n(.*?)```", f.read(), re.S)
        for b in blocks:
            json.loads(b)
        self.assertGreater(count, 10)
        self.assertGreater(len(blocks), 4)

    def example(self, path, method, status):
        op = self.spec["paths"][path][method]
        return op["responses"][status]["content"]["application/json"]["example"]

    def test_status_by_id_shows_no_names(self):
        link, pkg, token = self.package("Geheim-dossier.pdf")
        self.assertEqual(self.gw.curl(link).status, 200)
        r = self.ask("GET", "/admin/v1/packages/" + pkg)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertNotIn(b"Geheim", r.body)
        self.assertNotIn(b"application/pdf", r.body)
        doc = json.loads(r.body)
        self.assertEqual(doc["package"], pkg)
        self.assertEqual(doc["file_count"], 1)
        self.assertFalse(doc["names_shown"])
        self.assertGreater(doc["files"][0]["stored_bytes"], os.path.getsize(self.src))
        self.assertNotIn("name", doc["files"][0])
        self.assertEqual(doc["page_views"], 1)
        self.assertEqual(doc["downloads"], 0)
        self.assertEqual(set(doc), set(self.example("/admin/v1/packages/{package}", "get",
                                                    "200")))
        # with the link: names, types and plaintext sizes
        r = self.ask("GET", "/admin/v1/packages/" + token)
        doc = json.loads(r.body)
        self.assertEqual(r.status, 200)
        self.assertTrue(doc["names_shown"])
        self.assertEqual(doc["files"][0]["name"], "Geheim-dossier.pdf")
        self.assertEqual(doc["files"][0]["size"], os.path.getsize(self.src))
        self.assertEqual(doc["package"], pkg)

    def test_status_shows_protection_only_with_the_link(self):
        link, pkg, token = self.gw.package(
            [(self.src, "Indicatie.pdf", "application/pdf")],
            options=["-r", "J.Jansen@example.nl", "-r", "zorg@example.org", "-v", "code",
                     "-R", "first", "-m", "3", "-A", "kwartaal-2026"])
        doc = json.loads(self.ask("GET", "/admin/v1/packages/" + pkg).body)
        self.assertIsNone(doc["protection"])
        self.assertIsNone(doc["recipients"])
        self.assertNotIn(b"example.nl", self.ask("GET", "/admin/v1/packages/" + pkg).body)
        doc = json.loads(self.ask("GET", "/admin/v1/packages/" + token).body)
        self.assertEqual(doc["protection"], {"verify": "code", "receipts": "first",
                                             "max_downloads": 3, "access_code": True})
        self.assertEqual(sorted(a.lower() for a in doc["recipients"]),
                         ["j.jansen@example.nl", "zorg@example.org"])
        self.assertNotIn(b"kwartaal-2026", self.ask("GET", "/admin/v1/packages/" + token).body)
        # a package without any of it: everything off, nobody listed
        _, _, plain = self.package()
        doc = json.loads(self.ask("GET", "/admin/v1/packages/" + plain).body)
        self.assertEqual(doc["protection"], {"verify": "off", "receipts": "off",
                                             "max_downloads": 0, "access_code": False})
        self.assertEqual(doc["recipients"], [])

    def test_unknown_package(self):
        for arg in ("0123456789abcdef", "A" * 56, "nonsense"):
            for method, path in (("GET", "/admin/v1/packages/%s"),
                                 ("DELETE", "/admin/v1/packages/%s"),
                                 ("GET", "/admin/v1/packages/%s/audit")):
                r = self.ask(method, path % arg)
                if (method != "GET" or path.endswith("/audit")) and arg == "0123456789abcdef":
                    # a well-formed id: deleting nothing is fine, and the audit of a
                    # package long gone may still be asked for
                    self.assertEqual(r.status, 200, (method, path))
                    continue
                self.assertEqual(r.status, 404, (method, path, arg))
                self.assertIn("error", json.loads(r.body))
        self.assertEqual(self.ask("GET", "/admin/v1/nothing").status, 404)
        self.assertEqual(self.ask("PUT", "/admin/v1/stats").status, 405)

    def test_revoke_makes_the_link_404(self):
        link, pkg, token = self.package()
        self.assertEqual(self.gw.curl(link).status, 200)
        r = self.ask("DELETE", "/admin/v1/packages/" + token)
        self.assertEqual(r.status, 200)
        doc = json.loads(r.body)
        self.assertEqual(doc, {"package": pkg, "revoked": True, "objects_deleted": 1})
        self.assertEqual(set(doc), set(self.example("/admin/v1/packages/{package}", "delete",
                                                    "200")))
        self.assertEqual(self.gw.curl(link).status, 404)
        self.assertEqual(self.ask("GET", "/admin/v1/packages/" + pkg).status, 404)
        # by id, and again: idempotent
        self.assertEqual(self.ask("DELETE", "/admin/v1/packages/" + pkg).status, 200)
        events = [e["event"] for e in self.gw.audit() if e.get("package") == pkg]
        self.assertIn("revoked", events)

    def test_extend_moves_the_date_on_the_page(self):
        link, pkg, token = self.package()
        before = json.loads(self.ask("GET", "/admin/v1/packages/" + pkg).body)["expires"]
        r = self.ask("POST", "/admin/v1/packages/%s/expiry" % token, body={"days": 7})
        self.assertEqual(r.status, 200, r.body)
        doc = json.loads(r.body)
        self.assertNotEqual(doc["expires"], before)
        t0 = time.strptime(before, "%Y-%m-%dT%H:%M:%SZ")
        t1 = time.strptime(doc["expires"], "%Y-%m-%dT%H:%M:%SZ")
        import calendar
        self.assertEqual(calendar.timegm(t1) - calendar.timegm(t0), 7 * 86400)
        # the page shows the new date (the link itself still names the old one)
        page = self.gw.curl(link, headers={"Accept-Language": "en"}).text
        day = gwtest.page_day(calendar.timegm(t1))
        self.assertIn(day, page)
        # an absolute date, beyond the maximum, in the past, by id, bad bodies
        r = self.ask("POST", "/admin/v1/packages/%s/expiry" % token,
                     body={"expires": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                    time.gmtime(time.time() + 86400))})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.ask("POST", "/admin/v1/packages/%s/expiry" % token,
                                  body={"days": 60}).status, 422)
        self.assertEqual(self.ask("POST", "/admin/v1/packages/%s/expiry" % token,
                                  body={"expires": "2001-01-01T00:00:00Z"}).status, 422)
        self.assertEqual(self.ask("POST", "/admin/v1/packages/%s/expiry" % pkg,
                                  body={"days": 1}).status, 409)
        self.assertEqual(self.ask("POST", "/admin/v1/packages/%s/expiry" % token,
                                  body={"weeks": 1}).status, 400)
        self.assertIn("extended", [e["event"] for e in self.gw.audit() if e.get("package") == pkg])

    def test_extended_past_the_links_own_date(self):
        link, pkg, token = self.package()
        gone, _, gone_token = self.gw.package([(self.src, "x.pdf", None)], lifetime=3)
        r = self.ask("POST", "/admin/v1/packages/%s/expiry" % token, body={"days": 1})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.ask("POST", "/admin/v1/packages/%s/expiry" % gone_token,
                                  body={"days": 1}).status, 200)
        time.sleep(4)
        self.assertEqual(self.gw.curl(gone).status, 200)  # the link's own date has passed

    def test_audit_entries_of_one_package(self):
        link, pkg, token = self.package()
        other, _, _ = self.package()
        self.gw.curl(link)
        self.gw.curl(link + "/1")
        self.gw.curl(other)
        for arg in (pkg, token):
            r = self.ask("GET", "/admin/v1/packages/%s/audit" % arg)
            self.assertEqual(r.status, 200)
            doc = json.loads(r.body)
            self.assertEqual(set(doc), set(self.example("/admin/v1/packages/{package}/audit",
                                                        "get", "200")))
            self.assertEqual([e["event"] for e in doc["entries"]], ["page-view", "download"])
            self.assertTrue(all(e["package"] == pkg for e in doc["entries"]))
        status = json.loads(self.ask("GET", "/admin/v1/packages/" + pkg).body)
        self.assertEqual(status["downloads"], 1)

    def test_stats(self):
        link, pkg, _ = self.package()
        self.gw.curl(link + "/1")
        r = self.ask("GET", "/admin/v1/stats")
        self.assertEqual(r.status, 200)
        doc = json.loads(r.body)
        ex = self.example("/admin/v1/stats", "get", "200")
        self.assertEqual(set(doc), set(ex))
        self.assertEqual(set(doc["storage"]), set(ex["storage"]))
        self.assertEqual(set(doc["traffic"]), set(ex["traffic"]))
        self.assertGreaterEqual(doc["storage"]["packages"], 1)
        self.assertGreater(doc["storage"]["bytes"], os.path.getsize(self.src))
        self.assertGreaterEqual(doc["traffic"]["downloads_complete"], 1)
        metrics = self.gw.metrics()
        self.assertEqual(doc["traffic"]["downloads_complete"],
                         metrics['bestanden_downloads_total{outcome="complete"}'])
        self.assertIn("last_run", doc["sweep"])

    def test_create_request(self):
        body = {"requester": "inkoop@linde.nl", "to": "jan@example.org",
                "note": "De getekende offerte graag", "expires": "7d", "max_size": "20M",
                "max_files": 3}
        for token in (None, "wrong-" + self.token):
            r = self.ask("POST", "/admin/v1/requests", token=token, body=body)
            self.assertEqual(r.status, 401)
        r = self.ask("POST", "/admin/v1/requests", body=body)
        self.assertEqual(r.status, 201, r.body)
        doc = json.loads(r.body)
        self.assertEqual(set(doc), set(self.example("/admin/v1/requests", "post", "201")))
        self.assertFalse(doc["sent"])
        self.assertTrue(doc["link"].startswith(self.gw.url + "/u/"), doc["link"])
        t = calendar.timegm(time.strptime(doc["expires"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertAlmostEqual(t, time.time() + 7 * 86400, delta=60)
        page = self.gw.curl(doc["link"], headers={"Accept-Language": "en"})
        self.assertEqual(page.status, 200)
        self.assertIn("De getekende offerte graag", page.text)
        self.assertIn("request-created",
                      [e["event"] for e in self.gw.audit() if e.get("package") == doc["request"]])
        self.assertNotIn(doc["link"].rsplit("/", 1)[1], self.gw.log())
        # the defaults of [requests] when only the requester is given
        r = self.ask("POST", "/admin/v1/requests", body={"requester": "inkoop@linde.nl"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.gw.curl(json.loads(r.body)["link"]).status, 200)

    def test_create_request_refuses_bad_bodies(self):
        for body, field in (({}, "requester"),
                            ({"requester": "not an address"}, "requester"),
                            ({"requester": "a@b.nl", "to": "x"}, "to"),
                            ({"requester": "a@b.nl", "send": True}, "send"),
                            ({"requester": "a@b.nl", "max_files": 0}, "max_files"),
                            ({"requester": "a@b.nl", "expires": "soon"}, "expires"),
                            ({"requester": "a@b.nl", "colour": "red"}, "colour")):
            r = self.ask("POST", "/admin/v1/requests", body=body)
            self.assertEqual(r.status, 400, (body, r.body))
            self.assertTrue(json.loads(r.body)["error"].startswith(field), r.body)
        r = self.ask("POST", "/admin/v1/requests",
                     body={"requester": "a@b.nl", "note": "x" * 5000})
        self.assertEqual(r.status, 413)

    def test_token_never_logged(self):
        _, _, token = self.package()
        self.ask("GET", "/admin/v1/packages/" + token)
        log = self.gw.log()
        self.assertNotIn(self.token, log)
        self.assertNotIn(token, log)


class AdminOff(unittest.TestCase):
    def test_off_by_default_and_loose_token_refused(self):
        gw = gwtest.Gateway(BUILD)
        try:
            gw.start()
            r = gw.curl(gw.url + "/admin/v1", headers={"Authorization": "Bearer x"})
            self.assertEqual(r.status, 404)
            self.assertIn("admin=off", gw.log())
        finally:
            self.assertEqual(gw.stop(), 0)
            gw.cleanup()
        gw = gwtest.Gateway(BUILD, admin={"listen": "127.0.0.1:%d" % gwtest.free_port(),
                                          "token_file": "KEYS"})
        try:
            os.chmod(os.path.join(gw.keys, "admin.token"), 0o644)
            with self.assertRaises(RuntimeError) as cm:
                gw.start()
            self.assertIn("admin API token", str(cm.exception))
        finally:
            gw.stop()
            gw.cleanup()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
