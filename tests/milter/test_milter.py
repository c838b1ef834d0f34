# SPDX-License-Identifier: EUPL-1.2
"""bestanden-milter driven directly over the milter protocol.

Negotiation, macros, headers, a body over 64 KiB in chunks, end of message:
the replacement body and header changes are checked, as is the order of the
replies (body chunks back to back), inbound and internal mail, abort and
reuse of a connection, storage failure (tempfail) and SIGHUP reload; with receipts on, the
sender's management mail once per message, and a failure to send it that changes nothing.
The /metrics listener: off by default, bound before privileges are dropped,
and a port in use stops the start. Over TCP: no skip or no-reply flags, and
TCP_NODELAY on the filter's end of the connection.

usage: test_milter.py BUILD_DIR
"""
import os
import signal
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import mailtools as mt  # noqa: E402
import milterclient as mc  # noqa: E402
from stack import Stack, free_port  # noqa: E402

BUILD = None
SENDER = "<medewerker@bestanden.test>"
OUTSIDE = "<klant@example.org>"


def listening_ports(pid):
    """The TCP ports process PID listens on (its sockets in /proc/net/tcp{,6} in state LISTEN)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        with open("/proc/%d/net/%s" % (pid, table)) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def filter_pid(stack):
    sup = stack.procs["milter"].pid
    with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
        return int(f.read().split()[0])


def scrape(port):
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        return r.read().decode()


def privileged_port():
    """A free port below 1024 (the tests run as root), for a bind only root may do."""
    for port in range(1000, 600, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 1024")


class MilterProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BUILD, with_postfix=False).start()
        cls.port = cls.stack.ports["milter"]

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def run_message(self, raw, rcpts=(OUTSIDE,), auth=True, connect=("client.example", "4", "198.51.100.1")):
        return mc.send_message("127.0.0.1", self.port, raw, SENDER, list(rcpts), connect=connect,
                               mail_macros={"{auth_authen}": "jan", "{auth_type}": "PLAIN"} if auth else None)

    def test_metrics_listener_is_off_by_default(self):
        """[milter] metrics_listen is empty in the example file: no port but the milter's."""
        supervisor, child = self.stack.procs["milter"].pid, filter_pid(self.stack)
        self.assertEqual(listening_ports(supervisor), set())
        self.assertEqual(listening_ports(child), {self.port})

    def test_metrics_port_in_use_stops_the_start(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            conf = os.path.join(self.stack.dir, "busy.conf")
            with open(self.stack.conf) as f:
                text = f.read()
            with open(conf, "w") as f:
                f.write(text.replace("metrics_listen =", "metrics_listen = 127.0.0.1:%d" % port))
            p = subprocess.run([self.stack.prog("milter"), "-f", "-c", conf],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("event=start-failed error=\"[milter] metrics_listen: cannot listen on "
                      "127.0.0.1:%d: Address already in use\"" % port, p.stderr)

    def test_negotiation_asks_for_body_and_header_changes(self):
        c = mc.MilterClient("127.0.0.1", self.port)
        try:
            actions, protocol = c.negotiate()
        finally:
            c.close()
        for flag in (0x02, 0x10, 0x01):  # CHGBODY, CHGHDRS, ADDHDRS
            self.assertTrue(actions & flag, "action 0x%x not requested" % flag)
        self.assertTrue(protocol & mc.SMFIP_HDR_LEADSPC)

    def test_over_tcp_every_command_is_answered(self):
        """On a TCP socket the milter takes no skip or no-reply flag even when offered: a
        command the MTA sends without waiting would sit behind Nagle for a delayed ACK."""
        offered = 0x2 | 0x80 | 0x100 | 0x200 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 \
            | 0x20000 | 0x40000 | 0x80000  # NOHELO NR_HDR NOUNKNOWN NODATA NR_CONN...NR_BODY
        c = mc.MilterClient("127.0.0.1", self.port)
        try:
            _, protocol = c.negotiate(protocol=mc.SMFIP_HDR_LEADSPC | offered)
        finally:
            c.close()
        self.assertTrue(protocol & mc.SMFIP_HDR_LEADSPC)
        self.assertEqual(protocol & offered, 0, "flags taken over TCP: 0x%x" % (protocol & offered))

    def test_over_tcp_the_connection_has_nodelay(self):
        """The filter's end of a TCP milter connection has TCP_NODELAY (so its answers at the
        end of a message are not held back by Nagle): its socket, taken from the process with
        pidfd_getfd, says so; so does the listener it was accepted from."""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pid = filter_pid(self.stack)
        pidfd = libc.syscall(434, pid, 0)  # pidfd_open
        self.assertGreaterEqual(pidfd, 0, os.strerror(ctypes.get_errno()))
        c = mc.MilterClient("127.0.0.1", self.port)
        try:
            c.negotiate()
            mine = c.sock.getsockname()
            seen = {}
            for name in os.listdir("/proc/%d/fd" % pid):
                try:
                    if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                        continue
                except OSError:
                    continue
                fd = libc.syscall(438, pidfd, int(name), 0)  # pidfd_getfd
                if fd < 0:
                    continue
                s = socket.socket(fileno=fd)
                try:
                    if s.family != socket.AF_INET or s.type != socket.SOCK_STREAM:
                        continue
                    if s.getsockname()[1] == self.port:
                        try:
                            peer = s.getpeername()
                        except OSError:
                            peer = None
                        key = "connection" if peer == mine else "listener" if peer is None \
                            else None
                        if key:
                            seen[key] = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                finally:
                    s.close()
        finally:
            c.close()
            os.close(pidfd)
        self.assertEqual(seen, {"listener": 1, "connection": 1})

    def test_outgoing_large_body_replaced(self):
        data = os.urandom(200 * 1024)  # base64: about 270 KiB of body, 5 chunks
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Offerte",
                         "Goedemiddag,\n\nIn de bijlage de offerte.\n",
                         [("offerte.pdf", "application", "pdf", data)])
        res, _ = self.run_message(raw)
        self.assertEqual(res.verdict, "continue")
        self.assertIsNotNone(res.body, "no replacement body")
        # every body chunk back to back, after the header changes, no progress in between
        first_b = res.order.index("b")
        last_b = len(res.order) - 1 - res.order[::-1].index("b")
        self.assertEqual(set(res.order[first_b:last_b + 1]), {"b"})
        self.assertNotIn("h", res.order[last_b:])
        self.assertNotIn("m", res.order[last_b:])
        names = [h[0] for h in res.add_headers] + [h[1] for h in res.chg_headers]
        self.assertIn("X-Bestanden", names)
        # put the message back together as the MTA would and check it
        headers, _ = mc.split_message(raw)
        hdr = {}
        for n, v in headers:
            hdr.setdefault(n.lower(), (n, v))
        for idx, n, v in res.chg_headers:
            if v is None:
                hdr.pop(n.lower(), None)
            else:
                hdr[n.lower()] = (n, " " + v.lstrip())
        for n, v in res.add_headers:
            hdr[n.lower()] = (n, " " + v.lstrip())
        rebuilt = b"".join(("%s:%s\r\n" % nv).encode() for nv in hdr.values()) + b"\r\n" + res.body
        msg = mt.parse(rebuilt)
        self.assertEqual(mt.attachments(msg), [])
        links = mt.links(msg)
        self.assertEqual(len(links), 1)
        got = mt.fetch(self.stack.prog("cli"), self.stack.conf, links.pop())
        self.assertEqual(list(got.values()), [data])
        self.assertTrue(mt.is_7bit(res.body))

    def test_inbound_and_internal_unchanged(self):
        raw = mt.message("klant@example.org", ["medewerker@bestanden.test"], "Vraag", "Hallo\n",
                         [("scan.pdf", "application", "pdf", os.urandom(5000))])
        # inbound to an outside recipient (a forward): only direction detection keeps it
        inbound = self.stack.log("milter").count("direction=inbound action=unchanged")
        res, _ = self.run_message(raw, rcpts=[OUTSIDE], auth=False)
        self.assertEqual(res.verdict, "continue")
        self.assertIsNone(res.body)
        self.assertEqual(res.add_headers + res.chg_headers, [])
        self.assertEqual(self.stack.log("milter").count("direction=inbound action=unchanged"),
                         inbound + 1)
        # outgoing to internal recipients only: skip_internal_only keeps it
        internal = self.stack.log("milter").count("direction=internal action=unchanged")
        res, _ = self.run_message(raw, rcpts=["<collega@bestanden.test>", "<x@sub.bestanden.test>"])
        self.assertEqual(res.verdict, "continue")
        self.assertIsNone(res.body)
        self.assertEqual(self.stack.log("milter").count("direction=internal action=unchanged"),
                         internal + 1)

    def test_local_submission_is_outgoing(self):
        """sendmail(1) on the MTA host: Postfix's non_smtpd_milters connect without an address."""
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Lokaal", "Tekst\n",
                         [("lokaal.bin", "application", "octet-stream", os.urandom(2000))])
        res, _ = self.run_message(raw, auth=False, connect=("localhost", "U", ""))
        self.assertEqual(res.verdict, "continue")
        self.assertIsNotNone(res.body)
        self.assertIn("action=rewritten", self.stack.log("milter"))

    def test_abort_then_next_message_on_same_connection(self):
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Twee", "Tekst\n",
                         [("a.bin", "application", "octet-stream", os.urandom(3000))])
        c = mc.MilterClient("127.0.0.1", self.port)
        try:
            c.negotiate()
            c.connect("client.example", "4", "198.51.100.1")
            c.mail(SENDER, {"{auth_authen}": "jan"})
            c.rcpt(OUTSIDE)
            c.header("Subject", " half")
            c.abort()
            c.transaction(SENDER, [OUTSIDE], raw, {"{auth_authen}": "jan"})
            res = c.eom({"i": "QID2"})
        finally:
            c.close()
        self.assertEqual(res.verdict, "continue")
        self.assertIsNotNone(res.body)

    def test_z_storage_down_tempfails_then_reload(self):
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Weg", "Tekst\n",
                         [("b.bin", "application", "octet-stream", os.urandom(3000))])
        self.stack.stop_gateway()
        try:
            res, _ = self.run_message(raw)
            self.assertEqual(res.verdict, "tempfail")
            self.assertIsNone(res.body)
            self.assertTrue(res.reply and res.reply.startswith("451 4.3.0"), res.reply)
        finally:
            self.stack.start_gateway()
        res, _ = self.run_message(raw)
        self.assertEqual(res.verdict, "continue")
        self.assertIsNotNone(res.body)
        # SIGHUP reloads without dropping an open connection
        c = mc.MilterClient("127.0.0.1", self.port)
        try:
            c.negotiate()
            c.connect("client.example", "4", "198.51.100.1")
            self.stack.procs["milter"].send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while "event=reloaded" not in self.stack.log("milter") and time.time() < deadline:
                time.sleep(0.1)
            self.assertIn("event=reloaded", self.stack.log("milter"))
            c.transaction(SENDER, [OUTSIDE], raw, {"{auth_authen}": "jan"})
            res = c.eom()
        finally:
            c.close()
        self.assertEqual(res.verdict, "continue")
        self.assertIsNotNone(res.body)

    def test_zz_log_never_contains_a_token(self):
        log = self.stack.log("milter")
        self.assertIn("action=rewritten", log)
        self.assertIsNone(mt.LINK_RE.search(log))
        self.assertNotIn("/d/", log)


class MilterOperations(unittest.TestCase):
    """A milter that runs as nobody, accepts unchanged on storage failure, has a
    1 MiB size limit, and drains on SIGTERM."""

    @classmethod
    def setUpClass(cls):
        cls.metrics_port = privileged_port()
        cls.stack = Stack(BUILD, with_postfix=False, conf_extra={
            ("milter", "metrics_listen"): "127.0.0.1:%d" % cls.metrics_port,
            ("milter", "user"): "nobody",
            ("gateway", "user"): "nobody",
            ("milter", "max_message_size"): "1M",
            ("policy", "failure_mode"): "accept",
        })
        # spool and objects are made by root here: the daemons give them to their user
        cls.stack.start()
        cls.port = cls.stack.ports["milter"]

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def send(self, raw):
        return mc.send_message("127.0.0.1", self.port, raw, SENDER, [OUTSIDE],
                               mail_macros={"{auth_authen}": "jan"})

    def filter_pid(self):
        sup = self.stack.procs["milter"].pid
        with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
            return int(f.read().split()[0])

    def test_a_runs_as_configured_user(self):
        with open("/proc/%d/status" % self.filter_pid()) as f:
            uid = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        self.assertEqual(set(uid), {"65534"}, "filter process uid %r" % uid)

    def test_a_metrics_on_a_root_only_port_while_running_as_nobody(self):
        """The port is bound before privileges are dropped, like the milter socket."""
        self.assertIn(self.metrics_port, listening_ports(self.filter_pid()))
        self.assertIn("bestanden_milter_messages_total", scrape(self.metrics_port))

    def test_a_gateway_runs_as_configured_user(self):
        with open("/proc/%d/status" % self.stack.procs["gateway"].pid) as f:
            uid = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        self.assertEqual(set(uid), {"65534"}, "gateway uid %r" % uid)

    def test_b_too_large_is_refused_permanently(self):
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Te groot", "x\n",
                         [("groot.bin", "application", "octet-stream", os.urandom(900 * 1024))])
        res, _ = self.send(raw)
        self.assertEqual(res.verdict, "reject")
        self.assertTrue(res.reply.startswith("552 5.3.4"), res.reply)

    def test_bz_too_large_is_counted(self):
        text = scrape(self.metrics_port)
        self.assertIn('bestanden_milter_messages_total{rule="policy",action="block"} 1\n', text)
        self.assertIn('bestanden_milter_outcomes_total{outcome="rejected"} 1\n', text)

    def test_c_failure_mode_accept_passes_unchanged(self):
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Weg", "x\n",
                         [("a.bin", "application", "octet-stream", os.urandom(2000))])
        self.stack.stop_gateway()
        try:
            res, _ = self.send(raw)
        finally:
            self.stack.start_gateway()
        self.assertEqual(res.verdict, "continue")
        self.assertIsNone(res.body)
        self.assertEqual(res.add_headers + res.chg_headers, [])
        self.assertIn("action=unchanged-after-error", self.stack.log("milter"))

    def test_y_crashed_filter_is_restarted(self):
        old = self.filter_pid()
        os.kill(old, signal.SIGKILL)
        deadline = time.time() + 20
        new = None
        while time.time() < deadline:
            try:
                new = self.filter_pid()
            except (IndexError, ValueError, FileNotFoundError):
                new = None
            if new and new != old:
                break
            time.sleep(0.2)
        self.assertTrue(new and new != old, "no new filter process")
        self.assertIn("event=filter-died", self.stack.log("milter"))
        # and it works: a message goes through the new process
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Na herstart", "x\n",
                         [("d.bin", "application", "octet-stream", os.urandom(1000))])
        for _ in range(50):
            try:
                res, _ = self.send(raw)
                break
            except OSError:
                time.sleep(0.2)
        self.assertEqual(res.verdict, "continue")
        self.assertIsNotNone(res.body)

    def test_z_sigterm_drains_running_message(self):
        import threading
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Lopend", "x\n",
                         [("b.bin", "application", "octet-stream", os.urandom(700 * 1024))])
        c = mc.MilterClient("127.0.0.1", self.port)
        c.negotiate()
        c.connect("client.example", "4", "198.51.100.1")
        c.transaction(SENDER, [OUTSIDE], raw, {"{auth_authen}": "jan"})
        # the message is in; stop the milter before end of message
        self.stack.procs["milter"].send_signal(signal.SIGTERM)
        deadline = time.time() + 20
        while "event=draining" not in self.stack.log("milter") and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("event=draining", self.stack.log("milter"))
        result = {}
        t = threading.Thread(target=lambda: result.update(res=c.eom()))
        t.start()
        t.join(60)
        c.sock.close()
        self.assertEqual(result["res"].verdict, "continue")
        self.assertIsNotNone(result["res"].body)
        self.stack.procs["milter"].wait(60)
        log = self.stack.log("milter")
        self.assertIn("event=stopped", log)
        self.assertIn("action=rewritten", log)
        # new connections are refused once stopping
        with self.assertRaises(OSError):
            socket_probe = mc.MilterClient("127.0.0.1", self.port, timeout=2)
            socket_probe.negotiate()


class MilterDeadline(unittest.TestCase):
    """Storage that accepts an upload and never answers: the milter answers the MTA
    by [milter] timeout anyway (tempfail), and the late job cleans up after itself."""

    @classmethod
    def setUpClass(cls):
        import socket
        import threading
        cls.listener = socket.socket()
        cls.listener.bind(("127.0.0.1", 0))
        cls.listener.listen(16)
        cls.conns = []

        def swallow():
            while True:
                try:
                    conn, _ = cls.listener.accept()
                except OSError:
                    return
                cls.conns.append(conn)
                threading.Thread(target=lambda c=conn: [None for _ in iter(lambda: c.recv(65536), b"")],
                                 daemon=True).start()
        threading.Thread(target=swallow, daemon=True).start()
        stall = "http://127.0.0.1:%d" % cls.listener.getsockname()[1]
        cls.stack = Stack(BUILD, with_postfix=False, conf_extra={
            ("milter", "timeout"): "10s",
            ("storage", "url"): stall,
            ("storage", "timeout"): "20s",
            ("storage", "retries"): "0",
        }).start()

    @classmethod
    def tearDownClass(cls):
        cls.listener.close()
        for c in cls.conns:
            c.close()
        cls.stack.stop()

    def test_answer_by_the_deadline(self):
        raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Traag", "x\n",
                         [("c.bin", "application", "octet-stream", os.urandom(4000))])
        t0 = time.time()
        res, _ = mc.send_message("127.0.0.1", self.stack.ports["milter"], raw, SENDER, [OUTSIDE],
                                 mail_macros={"{auth_authen}": "jan"})
        took = time.time() - t0
        self.assertEqual(res.verdict, "tempfail")
        self.assertTrue(res.reply.startswith("451 4.3.0"), res.reply)
        self.assertGreaterEqual(took, 9.5)
        self.assertLess(took, 18, "the milter waited for storage, not for its own deadline")
        self.assertIn("not finished within [milter] timeout", self.stack.log("milter"))
        deadline = time.time() + 40
        while "event=late-rewrite-ended" not in self.stack.log("milter") and time.time() < deadline:
            time.sleep(0.5)
        self.assertIn("event=late-rewrite-ended action=nothing-stored", self.stack.log("milter"))


class MilterLateJob(unittest.TestCase):
    """Storage that answers, but too slowly: the MTA gets its tempfail by [milter] timeout,
    the job stores the package after that, and deletes it, since nobody will deliver it."""

    def test_late_job_deletes_what_it_stored(self):
        from faultproxy import FaultProxy
        stack = Stack(BUILD, with_postfix=False)
        proxy = FaultProxy(stack.ports["gateway"]).start()
        stack.conf_extra = {("milter", "timeout"): "10s", ("storage", "url"): proxy.url,
                            ("storage", "timeout"): "30s", ("storage", "retries"): "0"}
        stack.start()
        try:
            proxy.delay = 6  # each of the uploads (files, then the manifest) answers late
            raw = mt.message("medewerker@bestanden.test", ["klant@example.org"], "Laat", "x\n",
                             [("l.bin", "application", "octet-stream", os.urandom(4000))])
            res, _ = mc.send_message("127.0.0.1", stack.ports["milter"], raw, SENDER, [OUTSIDE],
                                     mail_macros={"{auth_authen}": "jan"})
            self.assertEqual(res.verdict, "tempfail")
            proxy.heal()
            deadline = time.time() + 60
            while "event=late-rewrite-ended" not in stack.log("milter") and time.time() < deadline:
                time.sleep(0.2)
            self.assertIn("event=late-rewrite-ended action=package-deleted", stack.log("milter"))
            self.assertGreaterEqual(proxy.requests, 2)  # it did store: a file and the manifest
            self.assertEqual(stack.objects(), [])
        finally:
            proxy.stop()
            stack.stop()

class MilterManageMail(unittest.TestCase):
    """[recipients] receipts on: the sender's management mail after the change."""

    def message(self):
        return mt.message("medewerker@bestanden.test", ["klant@example.org"], "Jaaropgave",
                          "Zie bijlage.\n", [("jaaropgave.pdf", "application", "pdf",
                                               os.urandom(20_000))])

    def wait_log(self, stack, what, timeout=30):
        deadline = time.time() + timeout
        while what not in stack.log("milter") and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn(what, stack.log("milter"))

    def test_sent_once_to_the_sender(self):
        stack = Stack(BUILD, with_postfix=False)
        stack.conf_extra = {("recipients", "receipts"): "first",
                            ("smtp", "port"): str(stack.ports["sink"])}
        stack.start()
        try:
            res, _ = mc.send_message("127.0.0.1", stack.ports["milter"], self.message(), SENDER,
                                     [OUTSIDE], connect=("client.example", "4", "198.51.100.1"),
                                     mail_macros={"{auth_authen}": "jan"})
            self.assertEqual(res.verdict, "continue")
            self.assertIsNotNone(res.body)
            self.assertNotIn(b"/m/", res.body)  # the recipients never see it
            self.wait_log(stack, "event=manage-mail-sent")
            mails = [stack.parse(p)[0] for p in stack.wait_delivered(1)]
            self.assertEqual(len(mails), 1)
            self.assertEqual(str(mails[0]["To"]), "medewerker@bestanden.test")
            text = "".join(p.get_content() for p in mt.text_parts(mails[0]))
            self.assertRegex(text, r"/m/[A-Za-z0-9_-]{56}")
            self.assertIn("jaaropgave.pdf", text)
            self.assertIn("klant@example.org", text)
            self.assertNotIn("/m/", stack.log("milter"))
        finally:
            stack.stop()

    def test_a_failure_to_send_changes_nothing(self):
        stack = Stack(BUILD, with_postfix=False)
        closed = stack.ports["submission"]  # nothing listens there without Postfix
        stack.conf_extra = {("recipients", "receipts"): "every", ("smtp", "port"): str(closed)}
        stack.start()
        try:
            res, _ = mc.send_message("127.0.0.1", stack.ports["milter"], self.message(), SENDER,
                                     [OUTSIDE], connect=("client.example", "4", "198.51.100.1"),
                                     mail_macros={"{auth_authen}": "jan"})
            self.assertEqual(res.verdict, "continue")
            self.assertIsNotNone(res.body, "the message is rewritten all the same")
            self.wait_log(stack, "event=manage-mail-failed")
            self.assertIn("action=rewritten", stack.log("milter"))
        finally:
            stack.stop()


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
