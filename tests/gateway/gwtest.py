# SPDX-License-Identifier: EUPL-1.2
"""gwtest - a bestanden-gateway of its own on loopback, for the recipient-side tests.

Gateway(build_dir, storage=None, admin=None, **conf) makes keys (bestanden keygen)
and a configuration in a temporary directory ([gateway] keys from CONF, [storage]
from STORAGE or the embedded store, [admin] from ADMIN), starts bestanden-gateway in the foreground on a
free 127.0.0.1 port, and waits for /healthz. package() stores
files as one package (tests/gateway/mkpackage.c, the rewrite engine's way) and
returns its link; curl() asks with the real curl. stop() ends the gateway with
SIGTERM and fails when it did not exit cleanly (ASan reports leaks that way).
Anything that cannot run raises: these tests fail loudly, they never skip.
"""
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import zoneinfo

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The zone the gateway runs in, and so the zone of every date its pages show.
ZONE = "Europe/Amsterdam"


def page_day(epoch):
    """The day EPOCH falls on as an English page names it ("7 December 2026"), in ZONE:
    near midnight the test's own zone (often UTC) names another day."""
    d = datetime.datetime.fromtimestamp(epoch, zoneinfo.ZoneInfo(ZONE))
    return "%d %s %d" % (d.day, d.strftime("%B"), d.year)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_count(socks, timeout=0.05):
    """How many of the connections SOCKS the server has closed (each asked for TIMEOUT s)."""
    closed = 0
    for s in socks:
        s.settimeout(timeout)
        try:
            closed += s.recv(1) == b""
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed += 1
    return closed


class Response:
    def __init__(self, status, headers, body, exit_code):
        self.status = status
        self.headers = headers  # lower-case name -> list of values
        self.body = body
        self.exit_code = exit_code  # curl's: 0, or e.g. 18 for a cut-off transfer

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    @property
    def text(self):
        return self.body.decode("utf-8")


class Gateway:
    def __init__(self, build, storage=None, admin=None, **conf):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="bd-gw-test-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.conf_path = os.path.join(self.dir, "bestanden.conf")
        self.log_path = os.path.join(self.dir, "gateway.log")
        self.audit_path = os.path.join(self.dir, "audit.log")
        self.data_dir = os.path.join(self.dir, "objects")
        self.keys = os.path.join(self.dir, "keys")
        self.proc = None
        for prog in (self.prog("cli"), self.prog("gateway"), self.prog("mkpackage")):
            if not os.access(prog, os.X_OK):
                raise RuntimeError("not built: %s" % prog)
        if shutil.which("curl") is None:
            raise RuntimeError("curl is not installed (scripts/install-deps.sh test)")
        self.run([self.prog("cli"), "keygen", "-d", self.keys])
        gateway = {
            "listen": "127.0.0.1:%d" % self.port,
            "public_url": self.url,
            "organisation": "Woningcorporatie De Linde",
            "data_dir": self.data_dir,
            "pid_file": "",
            "audit_log": self.audit_path,
            "failed_lookups_per_minute": "100000",
        }
        gateway.update(conf)
        with open(self.conf_path, "w") as f:
            f.write("[gateway]\n")
            for k, v in gateway.items():
                f.write("%s = %s\n" % (k, v))
            # storage: the [storage] keys, e.g. driver = s3 (default: the embedded store)
            f.write("[storage]\n")
            for k, v in (storage or {"driver": "gateway", "url": self.url,
                                     "token_file": os.path.join(self.keys, "store.token")}).items():
                f.write("%s = %s\n" % (k, v))
            f.write("[notice]\ntemplate_dir = %s\n" % os.path.join(SRC, "conf", "templates"))
            f.write("[keys]\ndir = %s\n" % self.keys)
            # admin: the [admin] keys, e.g. {"listen": "127.0.0.1:PORT"} (default: none)
            if admin:
                f.write("[admin]\n")
                for k, v in admin.items():  # "KEYS" stands for the keygen's admin.token
                    v = os.path.join(self.keys, "admin.token") if v == "KEYS" else v
                    f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.keys, "store.token")) as f:
            self.store_token = f.read().strip()

    def prog(self, name):
        return {"cli": os.path.join(self.build, "cli", "bestanden"),
                "gateway": os.path.join(self.build, "gateway", "bestanden-gateway"),
                "mkpackage": os.path.join(self.build, "tests", "bd-mkpackage")}[name]

    def run(self, argv, **kw):
        p = subprocess.run(argv, capture_output=True, **kw)
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                        p.stderr.decode(errors="replace")))
        return p.stdout

    def start(self):
        log = open(self.log_path, "ab")
        env = dict(os.environ, TZ=ZONE)
        self.proc = subprocess.Popen([self.prog("gateway"), "-f", "-c", self.conf_path],
                                     stdout=log, stderr=log, env=env)
        log.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gateway exited at start:\n" + self.log())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gateway did not answer /healthz:\n" + self.log())

    def stop(self):
        """SIGTERM; returns the exit status (0 = clean, no sanitizer report)."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def audit(self):
        """Every audit line, parsed (each must be valid JSON)."""
        if not os.path.exists(self.audit_path):
            return []
        with open(self.audit_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def package(self, files, lifetime=3600, options=()):
        """files: [(path, name or None, type or None)] -> (link, package id, token).
        options: more of bd-mkpackage's flags (-r ADDRESS, -v code, -R first, -m N, -A CODE)."""
        argv = [self.prog("mkpackage"), "-c", self.conf_path, "-e", str(lifetime)] + list(options)
        for path, name, ctype in files:
            if name:
                argv += ["-n", name]
            if ctype:
                argv += ["-t", ctype]
            argv.append(path)
        out = self.run(argv).decode().split("\n")
        link, package = out[0], out[1]
        token = link.rsplit("/d/", 1)[1]
        return link, package, token

    def object_path(self, package, index):
        return os.path.join(self.data_dir, package, "%x" % index)

    def curl(self, url, *args, method=None, headers=None, timeout=60):
        """One request with curl; headers of the last response, body as bytes."""
        fd, hdr = tempfile.mkstemp(dir=self.dir)
        os.close(fd)
        argv = ["curl", "-sS", "--max-time", str(timeout), "-D", hdr]
        if "-o" not in args:
            argv += ["-o", "-"]
        if method == "HEAD":
            argv.append("-I")
        elif method:
            argv += ["-X", method]
        for k, v in (headers or {}).items():
            argv += ["-H", "%s: %s" % (k, v)]
        argv += list(args) + [url]
        p = subprocess.run(argv, capture_output=True)
        with open(hdr, "rb") as f:
            raw = f.read().decode("latin-1")
        os.unlink(hdr)
        blocks = [b for b in re.split(r"\r\n\r\n", raw) if b.strip()]
        if not blocks:
            raise RuntimeError("no answer from %s: curl %d %s" % (url, p.returncode,
                                                                 p.stderr.decode(errors="replace")))
        lines = blocks[-1].split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.setdefault(k.strip().lower(), []).append(v.strip())
        body = p.stdout if method != "HEAD" else b""
        return Response(status, headers, body, p.returncode)

    def metrics(self):
        """/metrics as {'name{labels}': value}."""
        r = self.curl(self.url + "/metrics")
        if r.status != 200:
            raise RuntimeError("/metrics answered %d" % r.status)
        out = {}
        for line in r.text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out
