# SPDX-License-Identifier: EUPL-1.2
"""stack - the whole product on loopback, for end-to-end tests and the demo.

Starts, in one temporary directory: keys and a configuration, the gateway
(embedded store), the milter, an smtp-sink that captures every delivered
message, and a private Postfix instance whose submission-like port marks
mail as outgoing (milter_macro_daemon_name=ORIGINATING). Loopback counts as
external here (internal_networks names a documentation network), so the
plain port is "inbound from the internet" and the submission port is
"outgoing". Everything is stopped by stop(), also after a failure.
"""
import email
import email.policy
import glob
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20, what="service"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not start listening on 127.0.0.1:%d" % (what, port))


class Stack:
    def __init__(self, build, workdir=None, conf_extra=None, with_postfix=True):
        self.build = build
        self.dir = workdir or tempfile.mkdtemp(prefix="bd-e2e-")
        self.conf_extra = conf_extra or {}
        self.with_postfix = with_postfix
        self.procs = {}
        self.ports = {k: free_port() for k in ("gateway", "milter", "smtp", "submission", "sink")}
        self.conf = os.path.join(self.dir, "bestanden.conf")
        self.sink_dir = os.path.join(self.dir, "sink")
        self.postfix_dir = os.path.join(self.dir, "postfix")

    # paths of the programs
    def prog(self, name):
        return {"cli": os.path.join(self.build, "cli", "bestanden"),
                "milter": os.path.join(self.build, "milter", "bestanden-milter"),
                "gateway": os.path.join(self.build, "gateway", "bestanden-gateway")}[name]

    def write_conf(self):
        d, p = self.dir, self.ports
        values = {
            ("milter", "socket"): "inet:%d@127.0.0.1" % p["milter"],
            ("milter", "pid_file"): "",
            ("milter", "spool_dir"): os.path.join(d, "spool"),
            ("milter", "internal_networks"): "192.0.2.0/24",
            ("milter", "internal_domains"): "bestanden.test",
            ("gateway", "listen"): "127.0.0.1:%d" % p["gateway"],
            ("gateway", "public_url"): "http://127.0.0.1:%d" % p["gateway"],
            ("gateway", "organisation"): "Woonstichting Voorbeeld",
            ("gateway", "data_dir"): os.path.join(d, "objects"),
            ("gateway", "pid_file"): "",
            ("gateway", "audit_log"): os.path.join(d, "audit.log"),
            ("storage", "url"): "http://127.0.0.1:%d" % p["gateway"],
            ("storage", "token_file"): os.path.join(d, "keys", "store.token"),
            ("notice", "template_dir"): os.path.join(SRC, "conf", "templates"),
            ("keys", "dir"): os.path.join(d, "keys"),
        }
        values.update(self.conf_extra)
        lines, section = [], None
        with open(os.path.join(SRC, "conf", "bestanden.conf")) as f:
            for line in f:
                s = line.strip()
                if s.startswith("[") and s.endswith("]"):
                    section = s[1:-1]
                elif "=" in s and not s.startswith("#"):
                    key = s.split("=", 1)[0].strip()
                    if (section, key) in values:
                        line = "%s = %s\n" % (key, values[(section, key)])
                lines.append(line)
        with open(self.conf, "w") as f:
            f.writelines(lines)

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop(keep=True)
            raise

    def _start(self):
        # Postfix's daemons run as user postfix and must reach their queue below here
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "spool"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "objects"), exist_ok=True)
        os.makedirs(self.sink_dir, exist_ok=True)
        self.write_conf()
        subprocess.run([self.prog("cli"), "keygen", "-d", os.path.join(self.dir, "keys")],
                       check=True, stdout=subprocess.DEVNULL)
        self.start_gateway()
        self.start_milter()
        self.start_sink()
        if self.with_postfix:
            subprocess.run([os.path.join(SRC, "tests", "postfix", "postfix-instance.sh"), "start",
                            self.postfix_dir, str(self.ports["smtp"]), str(self.ports["submission"]),
                            str(self.ports["sink"]), "inet:127.0.0.1:%d" % self.ports["milter"]],
                           check=True)
        return self

    def _spawn(self, name, argv):
        with open(os.path.join(self.dir, name + ".log"), "ab") as log:
            self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def start_gateway(self):
        self._spawn("gateway", [self.prog("gateway"), "-f", "-c", self.conf])
        wait_port(self.ports["gateway"], what="bestanden-gateway")

    def stop_gateway(self):
        self._stop("gateway")

    def start_milter(self):
        self._spawn("milter", [self.prog("milter"), "-f", "-c", self.conf])
        wait_port(self.ports["milter"], what="bestanden-milter")

    def start_sink(self):
        self._spawn("sink", ["smtp-sink", "-u", "root", "-d", os.path.join(self.sink_dir, "%d%H%M%S."),
                             "-c", "127.0.0.1:%d" % self.ports["sink"], "256"])
        wait_port(self.ports["sink"], what="smtp-sink")

    def _stop(self, name, sig=signal.SIGTERM, timeout=30):
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None:
            return
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()

    def stop(self, keep=False):
        if self.with_postfix:
            subprocess.run([os.path.join(SRC, "tests", "postfix", "postfix-instance.sh"), "stop",
                            self.postfix_dir])
        for name in list(self.procs):
            self._stop(name)
        # In a sanitizer build, a finding in a daemon fails the test that ran it.
        findings = [n for n in ("gateway", "milter") if "Sanitizer" in self.log(n)]
        if findings:
            keep = True
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        if findings:
            raise AssertionError("sanitizer findings in %s; see %s" %
                                 (", ".join(n + ".log" for n in findings), self.dir))

    def log(self, name):
        try:
            with open(os.path.join(self.dir, name + ".log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # mail
    def send(self, msg_bytes, sender, rcpts, outgoing=True):
        port = self.ports["submission" if outgoing else "smtp"]
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
            return s.sendmail(sender, rcpts, msg_bytes)

    def delivered(self):
        return sorted(glob.glob(os.path.join(self.sink_dir, "*")))

    def deliver_one(self, msg_bytes, sender, rcpts, outgoing=True):
        """Send a message and return the bytes of the one delivery it makes."""
        before = set(self.delivered())
        self.send(msg_bytes, sender, rcpts, outgoing=outgoing)
        new = [f for f in self.wait_delivered(len(before) + 1) if f not in before]
        if len(new) != 1:
            raise AssertionError("expected one new delivery, got %r" % new)
        with open(new[0], "rb") as f:
            return f.read()

    def wait_delivered(self, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            files = self.delivered()
            if len(files) >= count:
                for path in files:
                    self.wait_written(path)
                return self.delivered()
            time.sleep(0.2)
        raise AssertionError("expected %d delivered messages, have %d after %ds; postfix log:\n%s" %
                             (count, len(self.delivered()), timeout, self.maillog()[-3000:]))

    # storage
    def objects(self):
        """Every object the gateway's embedded store holds, by name (its object API)."""
        import urllib.request
        with open(os.path.join(self.dir, "keys", "store.token")) as f:
            token = f.read().strip()
        req = urllib.request.Request("http://127.0.0.1:%d/v1/objects?limit=10000" % self.ports["gateway"],
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=30) as r:
            return sorted(line.split(" ")[0] for line in r.read().decode().splitlines() if line)

    def wait_written(self, path, timeout=30):
        """Until smtp-sink has closed PATH (no descriptor of it points there any more)."""
        sink = self.procs.get("sink")
        fd_dir = "/proc/%d/fd" % sink.pid if sink else None
        deadline = time.time() + timeout
        while fd_dir and time.time() < deadline:
            try:
                targets = [os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)]
            except FileNotFoundError:  # a descriptor closed while we looked: look again
                if sink.poll() is not None:
                    raise AssertionError("smtp-sink has exited:\n" + self.log("sink")[-2000:])
                time.sleep(0.02)
                continue
            if os.path.abspath(path) not in targets:
                return
            time.sleep(0.02)
        if fd_dir:
            raise AssertionError("smtp-sink still writes %s after %ds" % (path, timeout))

    def maillog(self):
        try:
            with open(os.path.join(self.postfix_dir, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @staticmethod
    def parse(path):
        """A delivered message: smtp-sink writes the SMTP envelope lines first."""
        with open(path, "rb") as f:
            raw = f.read()
        # smtp-sink -d puts X-Client-Addr, X-Mail-Args, X-Rcpt-Args ... headers first
        return email.message_from_bytes(raw, policy=email.policy.default), raw
