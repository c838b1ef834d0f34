# SPDX-License-Identifier: EUPL-1.2
"""The gateway secret keys stay out of the process that parses HTTP.

After downloads (before and after a key rotation and reload), every readable region of the
HTTP process's memory (/proc/PID/maps, /proc/PID/mem) is searched for each gateway secret
key of the key directory, raw and as its file's base64: none is there, while the link keys
(which it needs to check tokens) are, so the search does read its memory. The key process
is a child with a pid of its own, started anew by a reload, whose memory the same user cannot
read (checked when the test does not run as root), and which holds no listening socket. A key process that stops answering makes
downloads answer 503 and is replaced; so is one that is killed.

usage: test_keyproc.py BUILD_DIR
"""
import base64
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None


def key_files(keys, prefix):
    """{file name: (raw key bytes, base64 text)} of KEYS/PREFIX-N.key."""
    out = {}
    for name in sorted(os.listdir(keys)):
        if re.fullmatch(prefix + r"-\d+\.key", name):
            with open(os.path.join(keys, name)) as f:
                b64 = re.search(r"^key: (\S+)$", f.read(), re.M).group(1)
            out[name] = (base64.b64decode(b64), b64.encode())
    return out


SHADOW_BYTES = 64 << 30  # no region of the gateway's own is this large: a sanitizer's shadow
CHUNK = 64 << 20
OVERLAP = 128  # longer than a key in base64, so none hides across two chunks


def resident(pid):
    """{start address: resident or swapped kB} of every mapping of PID (/proc/PID/smaps)."""
    out, start = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()[0]
            if re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", head):
                start = int(head.split("-")[0], 16)
                out[start] = 0
            elif head in ("Rss:", "Swap:"):
                out[start] += int(line.split()[1])
    return out


def memory(pid):
    """Every readable, resident region of PID's memory, as a list of byte strings (long
    regions in overlapping chunks). Left out: pages never touched (no byte of a key can be
    there) and a sanitizer build's shadow memory (terabytes of address space that holds
    only shadow bytes); the caller's positive check, the link keys found, shows that what
    holds data was read."""
    regions = []
    kb = resident(pid)
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("r") or fields[-1] in ("[vvar]", "[vsyscall]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if kb.get(start, 1) == 0 or end - start >= SHADOW_BYTES:
                continue
            for at in range(start, end, CHUNK):
                try:
                    mem.seek(at)
                    regions.append(mem.read(min(CHUNK + OVERLAP, end - at)))
                except OSError:
                    break  # e.g. a device mapping
    return regions


def children(pid):
    """Living child processes of PID."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(d))
    return out


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().split(b"\0")


def listening_inodes(port):
    """Inodes of the TCP sockets listening on PORT."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    out.add(fields[9])
    return out


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


class KeyProcess(unittest.TestCase):
    def wait_for(self, what, cond, gw, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = cond()
            if value:
                return value
            time.sleep(0.1)
        self.fail("%s did not happen:\n%s" % (what, gw.log()))

    def key_process(self, gw, other_than=None):
        """The gateway's one key process (waiting for a new one when OTHER_THAN is given)."""
        def one():
            kids = [k for k in children(gw.proc.pid) if k != other_than]
            return kids[0] if len(kids) == 1 else None
        kid = self.wait_for("a key process", one, gw)
        self.assertIn(b"--key-process", cmdline(kid))
        return kid

    def download_all(self, gw, links):
        for link, body in links:
            r = gw.curl(link + "/1")
            self.assertEqual((r.status, r.body), (200, body), gw.log())
            self.assertEqual(gw.curl(link + "/all").status, 200)
            self.assertEqual(gw.curl(link).status, 200)

    def package(self, gw, text):
        path = os.path.join(gw.dir, "a.txt")
        with open(path, "wb") as f:
            f.write(text)
        link, _, _ = gw.package([(path, "a.txt", "text/plain")])
        return link, text

    def test_no_secret_key_in_the_http_process(self):
        gw = gwtest.Gateway(BUILD).start()
        try:
            links = [self.package(gw, b"pakket %d\n" % i) for i in range(3)]
            self.download_all(gw, links)
            before = children(gw.proc.pid)
            # a new gateway key, and a reload: a new key process holds both
            gw.run([gw.prog("cli"), "keys", "-d", gw.keys, "rotate"])
            gw.proc.send_signal(signal.SIGHUP)
            self.wait_for("the reload", lambda: "event=reloaded" in gw.log(), gw)
            links.append(self.package(gw, b"na de rotatie\n"))
            self.download_all(gw, links)

            secrets = key_files(gw.keys, "gateway")
            self.assertEqual(len(secrets), 2)
            regions = memory(gw.proc.pid)
            for name, (raw, b64) in secrets.items():
                self.assertEqual(len(raw), 32)
                self.assertFalse(any(raw in region for region in regions),
                                 "%s is in the HTTP process" % name)
                self.assertFalse(any(b64 in region for region in regions),
                                 "%s (base64) is in the HTTP process" % name)
            # the search reads its memory: the link keys, which it needs, are found
            for name, (raw, _) in key_files(gw.keys, "link").items():
                self.assertTrue(any(raw in region for region in regions), name)

            # the key process: a child with its own pid, a new one since the reload (the one
            # before it ended), its memory closed to the same user (not to root, who may read
            # any process)
            self.assertEqual(len(before), 1, before)
            kid = self.key_process(gw, other_than=before[0])
            self.assertNotEqual(kid, gw.proc.pid)
            self.assertFalse(os.path.exists("/proc/%d" % before[0]))
            if os.geteuid() != 0:
                with self.assertRaises(PermissionError):
                    memory(kid)
            # the listening socket is the HTTP process's; with the key process stopped and the
            # HTTP process killed, nothing listens on the port any more
            listening = listening_inodes(gw.port)
            self.assertTrue(listening)
            self.assertTrue(listening <= socket_inodes(gw.proc.pid))
            os.kill(kid, signal.SIGSTOP)
            try:
                self.wait_for("the key process's stop", lambda: state(kid) == "T", gw)
                gw.proc.kill()
                gw.proc.wait()
                gw.proc = None
                self.assertEqual(state(kid), "T")
                self.assertEqual(listening_inodes(gw.port), set())
            finally:
                os.kill(kid, signal.SIGKILL)
        finally:
            gw.stop()
            gw.cleanup()

    def test_a_dead_key_process_is_503_and_replaced(self):
        gw = gwtest.Gateway(BUILD).start()
        try:
            links = [self.package(gw, b"inhoud\n")]
            self.download_all(gw, links)
            first = self.key_process(gw)
            # stopped: it does not answer in time, the download is 503 (never a page without
            # the check), and a new key process takes over
            os.kill(first, signal.SIGSTOP)
            r = gw.curl(links[0][0] + "/1")
            self.assertEqual(r.status, 503, gw.log())
            self.wait_for("the report", lambda: "event=key-process-died pid=%d" % first
                          in gw.log(), gw)
            second = self.key_process(gw, other_than=first)
            self.download_all(gw, links)
            self.assertFalse(os.path.exists("/proc/%d" % first), "the stopped one is ended")
            # killed: reported with its signal, replaced
            os.kill(second, signal.SIGKILL)
            self.wait_for("the report", lambda: "event=key-process-died pid=%d how=\"killed by "
                          "signal 9\"" % second in gw.log(), gw)
            self.key_process(gw, other_than=second)
            self.download_all(gw, links)
            self.assertIn("event=key-process-ready", gw.log())
            self.assertEqual(gw.stop(), 0, gw.log())
        finally:
            gw.stop()
            gw.cleanup()


if __name__ == "__main__":
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
