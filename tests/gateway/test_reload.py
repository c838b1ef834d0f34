# SPDX-License-Identifier: EUPL-1.2
"""SIGHUP: the gateway loads its settings and keys anew, without a restart.

Key rotation: links made with the new keys work after the reload, links made before keep
working, and a key directory that does not load (a loose secret key) leaves the keys in force.
Settings: a changed organisation shows on the next page; a broken file is refused and the
gateway goes on with what it had; a setting bound at start (listen) needs a restart and keeps
its value. The pid file is written (its directory made) and removed at the end.

usage: test_reload.py BUILD_DIR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None


class ReloadTest(unittest.TestCase):
    def wait_log(self, gw, text, count):
        deadline = time.time() + 10
        while gw.log().count(text) < count and time.time() < deadline:
            time.sleep(0.1)
        self.assertGreaterEqual(gw.log().count(text), count, gw.log())


class GatewayReload(ReloadTest):
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
            gw.run([gw.prog("cli"), "keys", "-d", gw.keys, "remove", "--force", "gateway", "1"])
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reloaded", 2)
            self.assertEqual(gw.curl(old_link).status, 404)
            self.assertEqual(gw.curl(new_link).status, 200)
            self.assertEqual(gw.stop(), 0, gw.log())
        finally:
            gw.stop()
            gw.cleanup()


def set_conf(gw, key, value):
    """Replace KEY's line in the gateway's configuration file."""
    with open(gw.conf_path) as f:
        lines = f.read().split("\n")
    lines = ["%s = %s" % (key, value) if line.split("=")[0].strip() == key else line
             for line in lines]
    with open(gw.conf_path, "w") as f:
        f.write("\n".join(lines))


class GatewaySettingsReload(ReloadTest):
    def test_sighup_reloads_settings(self):
        pid_file = None
        gw = gwtest.Gateway(BUILD)
        pid_file = os.path.join(gw.dir, "run", "gateway.pid")  # run/ does not exist yet
        set_conf(gw, "pid_file", pid_file)
        gw.start()
        try:
            with open(pid_file) as f:
                self.assertEqual(int(f.read()), gw.proc.pid)
            path = os.path.join(gw.dir, "a.txt")
            with open(path, "wb") as f:
                f.write(b"inhoud\n")
            link, _, _ = gw.package([(path, "a.txt", "text/plain")])
            page = gw.curl(link)
            self.assertEqual(page.status, 200)
            self.assertIn("Woningcorporatie De Linde", page.text)

            # a new organisation: the next page shows it
            set_conf(gw, "organisation", "Stichting Het Nieuwe Huis")
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reloaded", 1)
            page = gw.curl(link)
            self.assertEqual(page.status, 200)
            self.assertIn("Stichting Het Nieuwe Huis", page.text)
            self.assertNotIn("Woningcorporatie De Linde", page.text)
            self.assertIn("Stichting Het Nieuwe Huis", gw.curl(gw.url + "/d/" + "x" * 80).text)

            # a broken file: refused with the reason, the settings in force stay
            set_conf(gw, "organisation", "Nog Een Naam")
            with open(gw.conf_path, "a") as f:
                f.write("[gateway]\nno_such_setting = 1\n")
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reload-failed", 1)
            self.assertIn("no_such_setting", gw.log().split("event=reload-failed")[1])
            page = gw.curl(link)
            self.assertEqual(page.status, 200)
            self.assertIn("Stichting Het Nieuwe Huis", page.text)
            self.assertEqual(gw.curl(link + "/1").body, b"inhoud\n")

            # fixed again, with a new listen address: that one needs a restart
            with open(gw.conf_path) as f:
                text = f.read().replace("[gateway]\nno_such_setting = 1\n", "")
            with open(gw.conf_path, "w") as f:
                f.write(text)
            set_conf(gw, "listen", "127.0.0.1:%d" % gwtest.free_port())
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reloaded", 2)
            self.assertIn('setting="[gateway] listen" result="needs a restart"', gw.log())
            page = gw.curl(link)  # still on the old port
            self.assertIn("Nog Een Naam", page.text)
            self.assertEqual(gw.stop(), 0, gw.log())
            self.assertFalse(os.path.exists(pid_file), "the pid file is still there")
        finally:
            gw.stop()
            gw.cleanup()

    def test_request_in_flight_keeps_its_settings(self):
        gw = gwtest.Gateway(BUILD).start()
        try:
            path = os.path.join(gw.dir, "big.bin")
            data = os.urandom(24 * 1024 * 1024)  # more than the socket buffers hold
            with open(path, "wb") as f:
                f.write(data)
            link, package, _ = gw.package([(path, "big.bin", None)])
            # a client that asks, then reads nothing until after the reload
            slow = socket.create_connection(("127.0.0.1", gw.port))
            target = link.split(gw.url, 1)[1] + "/1"
            slow.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          % target).encode())
            first = slow.recv(4096)
            self.assertIn(b" 200 ", first.split(b"\r\n")[0])
            new_audit = os.path.join(gw.dir, "audit-new.log")
            set_conf(gw, "audit_log", new_audit)
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_log(gw, "event=reloaded", 1)
            self.assertEqual(gw.curl(link).status, 200)  # a new request: the new audit log
            received = [first]
            while True:
                chunk = slow.recv(1 << 20)
                if not chunk:
                    break
                received.append(chunk)
            slow.close()
            self.assertTrue(b"".join(received).split(b"\r\n\r\n", 1)[1] == data)
            # the download began before the reload: its line is in the log it began with
            self.wait_log(gw, "transfer=complete", 1)
            old_events = [e["event"] for e in gw.audit()]
            self.assertIn("download", old_events)
            with open(new_audit) as f:
                new_events = [json.loads(line)["event"] for line in f if line.strip()]
            self.assertEqual(new_events, ["page-view"])
            self.assertEqual(gw.stop(), 0, gw.log())
        finally:
            gw.stop()
            gw.cleanup()


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
