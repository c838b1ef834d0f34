"""Key rotation without a restart: SIGHUP makes the gateway load the key directory anew.

Links made with the new keys work after the reload, links made before keep working, and a
key directory that does not load (a loose secret key) leaves the keys in force.

usage: test_reload.py BUILD_DIR
"""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None


class GatewayReload(unittest.TestCase):
    def wait_log(self, gw, text, count):
        deadline = time.time() + 10
        while gw.log().count(text) < count and time.time() < deadline:
            time.sleep(0.1)
        self.assertGreaterEqual(gw.log().count(text), count, gw.log())

    def test_sighup_reloads_keys(self):
        gw = gwtest.Gateway(BUILD).start()
        try:
            path = os.path.join(gw.dir, "a.txt")
            with open(path, "wb") as f:
                f.write(b"voor de rotatie\n")
            old_link, _, _ = gw.package([(path, "a.txt", "text/plain")])
            self.assertEqual(gw.curl(old_link + "/1").body, b"voor de rotatie\n")
            gw.run([gw.prog("cli"), "keys", "-d", gw.keys, "rotate"])
            with open(path, "wb") as f:
                f.write(b"na de rotatie\n")
            new_link, _, _ = gw.package([(path, "a.txt", "text/plain")])
            # made with link key 2 and gateway key 2, which the running gateway does not know yet
            self.assertEqual(gw.curl(new_link).status, 404)
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reloaded", 1)
            self.assertIn("link_key=2 gateway_key=2", gw.log())
            self.assertEqual(gw.curl(new_link + "/1").body, b"na de rotatie\n")
            self.assertEqual(gw.curl(old_link + "/1").body, b"voor de rotatie\n")
            # a key directory that does not load: refused, the keys in force stay
            os.chmod(os.path.join(gw.keys, "link-2.key"), 0o644)
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reload-failed", 1)
            self.assertIn("chmod 600", gw.log())
            self.assertEqual(gw.curl(new_link).status, 200)
            self.assertEqual(gw.curl(old_link).status, 200)
            os.chmod(os.path.join(gw.keys, "link-2.key"), 0o600)
            # a removed gateway key: its packages can no longer be opened after a reload
            gw.run([gw.prog("cli"), "keys", "-d", gw.keys, "remove", "gateway", "1"])
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reloaded", 2)
            self.assertEqual(gw.curl(old_link).status, 404)
            self.assertEqual(gw.curl(new_link).status, 200)
            self.assertEqual(gw.stop(), 0, gw.log())
        finally:
            gw.stop()
            gw.cleanup()


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
