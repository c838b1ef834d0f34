# SPDX-License-Identifier: EUPL-1.2
"""The gateway keys' lifecycle on a schedule, with a real Postfix: `bestanden
keys maintain` rotates the gateway key pair once [keys] rotate_every has passed
and removes the retired one once [policy] retention + [keys] grace has; the
milter seals new packages to the new key without a restart or a signal;
packages of the removed key stop opening (the link answers 404, `bestanden
fetch` cannot open the manifest), newer ones keep working.

Days pass through BESTANDEN_TEST_NOW, the clock the CLI's `keys maintain`
takes for the test suite; the gateway gets the SIGHUP that
contrib/systemd/bestanden-keys.service sends it after maintain.

usage: test_keys_lifecycle.py BUILD_DIR
"""
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtools as mt  # noqa: E402
from stack import Stack  # noqa: E402

BUILD = None
SENDER = "medewerker@bestanden.test"
OUTSIDE = "huurder@example.org"
DAY = 86400


def http_status(link):
    try:
        with urllib.request.urlopen(link, timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class KeyLifecycle(unittest.TestCase):
    def setUp(self):
        self.stack = Stack(BUILD, conf_extra={("keys", "rotate_every"): "7d",
                                              ("keys", "grace"): "1d",
                                              ("policy", "retention"): "1d"}).start()
        self.seen = 0

    def tearDown(self):
        self.stack.stop(keep=os.environ.get("BD_KEEP_TEST_DIR") == "1")

    def cli(self, *args, now=None):
        env = dict(os.environ)
        if now is not None:
            env["BESTANDEN_TEST_NOW"] = str(int(now))
        return subprocess.run([self.stack.prog("cli"), "-c", self.stack.conf] + list(args),
                              capture_output=True, text=True, env=env)

    def send_one(self, name):
        """Send a message with one attachment; its link and the attachment's bytes."""
        data = os.urandom(120000)
        raw = mt.message(SENDER, [OUTSIDE], "Stukken " + name, "Zie bijlage.\n",
                         [(name, "application", "pdf", b"%PDF-1.4\n" + data)])
        before = set(self.stack.delivered())
        self.stack.send(raw, SENDER, [OUTSIDE])
        self.seen += 1
        new = [f for f in self.stack.wait_delivered(self.seen) if f not in before]
        self.assertEqual(len(new), 1)
        with open(new[0], "rb") as f:
            links = mt.links(mt.parse(f.read()))
        self.assertEqual(len(links), 1, "expected one link, found %r" % links)
        return links.pop(), b"%PDF-1.4\n" + data

    def reload_gateway(self):
        """SIGHUP, as bestanden-keys.service does; wait for the gateway to say so."""
        before = self.stack.log("gateway").count("event=reloaded")
        self.stack.procs["gateway"].send_signal(signal.SIGHUP)
        deadline = time.time() + 30
        while self.stack.log("gateway").count("event=reloaded") == before:
            self.assertLess(time.time(), deadline, "the gateway did not reload")
            time.sleep(0.1)

    def gateway_keys(self):
        out = self.cli("keys", "list").stdout
        return {int(m.group(1)): m.group(2)
                for m in re.finditer(r"^gateway\s+(\d+)\s+(\w+)", out, re.M)}

    def test_rotate_remove_shred(self):
        now = time.time()
        old_link, old_data = self.send_one("oud.pdf")
        self.assertEqual(list(mt.fetch(self.stack.prog("cli"), self.stack.conf,
                                       old_link).values()), [old_data])

        # Nothing is due yet: the key is new, nothing is retired.
        r = self.cli("keys", "maintain", now=now)
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        self.assertEqual(self.gateway_keys(), {1: "current"})

        # Eight days on: the key is older than rotate_every.
        r = self.cli("keys", "maintain", now=now + 8 * DAY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("event=key-rotated kind=gateway id=2", r.stdout)
        self.assertEqual(self.gateway_keys(), {1: "retired", 2: "current"})
        self.reload_gateway()

        # The milter, not restarted nor signalled, seals to key 2 from the next message.
        new_link, new_data = self.send_one("nieuw.pdf")
        self.assertRegex(self.stack.log("milter"), r"reason=keys-changed gateway_key=2")

        # Key 1 was retired just now (its successor's birth): retention + grace = 2 days.
        r = self.cli("keys", "maintain", now=now + 1 * DAY)
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        self.assertEqual(self.gateway_keys(), {1: "retired", 2: "current"})
        # ... and `keys remove` applies the same rule.
        r = self.cli("keys", "remove", "gateway", "1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("needed until", r.stderr)

        # Three days on (but not 7 since key 2 was made): key 1 goes, key 2 stays current.
        r = self.cli("keys", "maintain", now=now + 3 * DAY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("event=key-removed kind=gateway id=1", r.stdout)
        self.assertNotIn("key-rotated", r.stdout)
        self.assertEqual(self.gateway_keys(), {2: "current"})
        self.assertFalse(os.path.exists(os.path.join(self.stack.dir, "keys", "gateway-1.key")))
        self.reload_gateway()

        # Crypto-shredded: the old package no longer opens, over HTTP nor with our reader.
        self.assertEqual(http_status(old_link), 404)
        with self.assertRaises(AssertionError):
            mt.fetch(self.stack.prog("cli"), self.stack.conf, old_link)
        # The package sealed to key 2 does.
        self.assertEqual(http_status(new_link), 200)
        self.assertEqual(list(mt.fetch(self.stack.prog("cli"), self.stack.conf,
                                       new_link).values()), [new_data])


class SweeperMaintains(unittest.TestCase):
    """The gateway's sweeper runs keys maintain itself when rotate_every is set and it may
    write the key directory; a key's age is its files' modification time, so backdating
    them stands in for the days."""

    def setUp(self):
        self.stack = Stack(BUILD, with_postfix=False,
                           conf_extra={("keys", "rotate_every"): "7d", ("keys", "grace"): "1d",
                                       ("policy", "retention"): "1d"}).start()
        self.keys = os.path.join(self.stack.dir, "keys")

    def tearDown(self):
        self.stack.stop(keep=os.environ.get("BD_KEEP_TEST_DIR") == "1")

    def backdate(self, gateway_id, days):
        when = time.time() - days * DAY
        for ext in ("key", "pub"):
            os.utime(os.path.join(self.keys, "gateway-%d.%s" % (gateway_id, ext)), (when, when))

    def restart_and_wait(self, line):
        """A restart sweeps at once; wait for LINE and for the reload that follows it."""
        self.stack.stop_gateway()
        start = len(self.stack.log("gateway"))
        self.stack.start_gateway()
        deadline = time.time() + 30
        while True:
            log = self.stack.log("gateway")[start:]
            if line in log and "event=reloaded" in log[log.index(line):]:
                return
            self.assertLess(time.time(), deadline, "no %r and reload in:\n%s" % (line, log))
            time.sleep(0.1)

    def test_sweeper_rotates_and_removes(self):
        self.backdate(1, 8)
        self.restart_and_wait("event=key-rotated kind=gateway id=2")
        self.assertTrue(os.path.exists(os.path.join(self.keys, "gateway-1.key")))
        # Key 1 retired when key 2 was made; three days ago is past retention + grace.
        self.backdate(2, 3)
        self.restart_and_wait("event=key-removed kind=gateway id=1")
        self.assertFalse(os.path.exists(os.path.join(self.keys, "gateway-1.key")))
        self.assertTrue(os.path.exists(os.path.join(self.keys, "gateway-2.key")))
        self.assertNotIn("kind=gateway id=3", self.stack.log("gateway"))


if __name__ == "__main__":
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
