# SPDX-License-Identifier: EUPL-1.2
"""nodes - bestanden on a private Ceph RGW, one node or two behind nginx (make reliability).

Ceph      tests/s3/ceph-rgw.sh in a directory: start, restart radosgw alone, list a bucket.
S3Stack   tests/e2e/stack.py's Stack (Postfix, milter, gateway, smtp-sink) with
          [storage] driver = s3 on that Ceph, optionally behind a front Postfix that
          queues and retries what the milter's Postfix refuses with a 4xx.
Nginx     Debian's nginx as the load balancer in front of gateways
          (contrib/nginx/bestanden-upstream.conf is the production example).
TwoNodes  two Postfix+milter+gateway nodes on one bucket and one key directory, nginx in
          front of both gateways: start_two_nodes() gives it running, for every check
          that wants more than one machine.
RssSampler  the resident memory of some processes, once a second.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
from stack import SRC, Stack, free_port, wait_port  # noqa: E402

CEPH_RGW = os.path.join(SRC, "tests", "s3", "ceph-rgw.sh")
POSTFIX = os.path.join(SRC, "tests", "postfix", "postfix-instance.sh")


class Ceph:
    """A one-machine Ceph with a RADOS Gateway under DIR (as root)."""

    def __init__(self, workdir, memstore_bytes=2 << 30):
        self.dir = os.path.join(workdir, "ceph")
        self.memstore_bytes = memstore_bytes
        self.env = {}

    def start(self):
        # Lifecycle "days" of real length: objects must not expire during a run.
        env = dict(os.environ, CEPH_MEMSTORE_BYTES=str(self.memstore_bytes),
                   CEPH_LC_DEBUG_INTERVAL="-1")
        p = subprocess.run([CEPH_RGW, "start", self.dir], capture_output=True, env=env)
        if p.returncode != 0:
            raise RuntimeError("Ceph RGW did not start:\n" + p.stderr.decode(errors="replace")[-4000:])
        with open(os.path.join(self.dir, "s3.env")) as f:
            self.env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        return self

    def stop(self):
        subprocess.run([CEPH_RGW, "stop", self.dir], capture_output=True)

    def restart_rgw(self):
        p = subprocess.run([CEPH_RGW, "restart-rgw", self.dir], capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("radosgw did not come back:\n" + p.stderr.decode(errors="replace")[-4000:])

    def storage(self, bucket):
        """The [storage] settings of a node on BUCKET, as Stack's conf_extra."""
        s3 = {"driver": "s3", "s3_endpoint": self.env["S3_ENDPOINT"], "s3_region": self.env["S3_REGION"],
              "s3_bucket": bucket, "s3_access_key": self.env["S3_ACCESS_KEY"],
              "s3_secret_key_file": self.env["S3_SECRET_FILE"]}
        return {("storage", k): v for k, v in s3.items()}

    def objects(self, bucket):
        """Every object name in BUCKET (radosgw-admin, beside S3: the truth of the store)."""
        p = subprocess.run(["radosgw-admin", "-c", os.path.join(self.dir, "ceph.conf"), "-n", "client.admin",
                            "bucket", "list", "--bucket", bucket, "--max-entries", "10000000"],
                           capture_output=True, check=True)
        return sorted(e["name"] for e in json.loads(p.stdout))


def packages(names):
    """{package id: {object index}} of object names "<id>/<index>"."""
    out = {}
    for name in names:
        pkg, _, index = name.partition("/")
        out.setdefault(pkg, set()).add(index)
    return out


def download(url, timeout=300):
    """GET URL as a recipient's browser would: (sha256 hex, bytes) of the body, streamed."""
    h, n = hashlib.sha256(), 0
    with urllib.request.urlopen(url, timeout=timeout) as r:
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
    return h.hexdigest(), n


class S3Stack(Stack):
    """Stack with storage on Ceph. FRONT: a Postfix without the milter takes the mail first and
    relays it to the milter's Postfix (its submission port), retrying what that refuses with 4xx."""

    def __init__(self, build, ceph, bucket, workdir=None, conf_extra=None, front=False):
        extra = ceph.storage(bucket)
        extra.update(conf_extra or {})
        super().__init__(build, workdir=workdir, conf_extra=extra, with_postfix=True)
        self.front = front
        self.bucket_ready = False
        self.front_dir = os.path.join(self.dir, "front")
        self.ports.update(front_smtp=free_port(), front_submission=free_port())

    def _start(self):
        os.makedirs(self.dir, exist_ok=True)
        super()._start()
        if self.front:
            subprocess.run([POSTFIX, "start", self.front_dir, str(self.ports["front_smtp"]),
                            str(self.ports["front_submission"]), str(self.ports["submission"]), "none"],
                           check=True)
        return self

    def start_gateway(self):
        if not self.bucket_ready:  # before the gateway's first sweep lists it
            self.init_bucket()
        super().start_gateway()

    def init_bucket(self):
        """bestanden storage init --create-bucket (idempotent: an existing bucket is kept)."""
        subprocess.run([self.prog("cli"), "-c", self.conf, "storage", "init", "--create-bucket"],
                       check=True, capture_output=True)
        self.bucket_ready = True

    def stop(self, keep=False):
        if self.front:
            subprocess.run([POSTFIX, "stop", self.front_dir])
        super().stop(keep)

    def front_maillog(self):
        try:
            with open(os.path.join(self.front_dir, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def front_queue(self):
        """Messages still in the front Postfix's queue."""
        p = subprocess.run(["postqueue", "-c", os.path.join(self.front_dir, "etc"), "-j"],
                           capture_output=True, text=True)
        return len([line for line in p.stdout.splitlines() if line.strip()])

    def milter_pids(self):
        """The milter's supervisor and its filter process(es)."""
        return with_children(self.procs["milter"].pid)

    def gateway_pids(self):
        return with_children(self.procs["gateway"].pid)

    def kill_gateway(self):
        """SIGKILL, as a machine that dies would."""
        p = self.procs.pop("gateway")
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def with_children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [pid] + [int(c) for c in f.read().split()]
    except OSError:
        return [pid]


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


class RssSampler:
    """Samples, once a second, the summed RSS (KiB) of each named group of processes:
    WHAT maps a name to a function returning the pids (asked again each time, so a
    restarted process is followed)."""

    def __init__(self, what, interval=1.0):
        self.what = what
        self.interval = interval
        self.samples = {name: [] for name in what}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for name, pids in self.what.items():
                try:
                    self.samples[name].append(rss_kib(pids()))
                except (KeyError, OSError):
                    pass
            self._stop.wait(self.interval)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()

    def summary(self, name):
        """(start, at a quarter, half and three quarters of the run, peak, end) in KiB."""
        s = self.samples[name] or [0]
        return (s[0],) + tuple(s[len(s) * k // 4] for k in (1, 2, 3)) + (max(s), s[-1])


NGINX_CONF = """\
# written by tests/reliability/nodes.py: contrib/nginx/bestanden-upstream.conf on plain HTTP
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$remote_addr "$request" $status $body_bytes_sent upstream=$upstream_addr';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    upstream bestanden_gateways {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://bestanden_gateways;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_buffering off;
            proxy_read_timeout 300s;
            client_max_body_size 200m;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """Debian's nginx on 127.0.0.1:PORT balancing over the gateways at GATEWAYS (ports)."""

    def __init__(self, workdir, port, gateways):
        self.dir = os.path.join(workdir, "nginx")
        self.port = port
        self.gateways = gateways
        self.proc = None

    def start(self):
        if shutil.which("nginx") is None:
            raise RuntimeError("nginx is not installed (scripts/install-deps.sh reliability)")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        servers = "\n".join("        server 127.0.0.1:%d max_fails=1 fail_timeout=10s;" % p
                            for p in self.gateways)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=self.port, servers=servers))
        log = open(os.path.join(self.dir, "nginx.out"), "ab")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir], stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_port(self.port, what="nginx")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def served_by(self):
        """{upstream address: requests} from the access log."""
        out = {}
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                for line in f:
                    for addr in line.rsplit("upstream=", 1)[-1].strip().split(", "):
                        out[addr] = out.get(addr, 0) + 1
        except OSError:
            pass
        return out


class TwoNodes:
    """Two machines' worth of bestanden on one Ceph bucket: nodes[0] and nodes[1] each run
    Postfix, the milter, the gateway and an smtp-sink; they share the key directory (of
    nodes[0]) and the bucket; nginx balances the recipients' requests over both gateways
    and is the public_url of both. CONF_EXTRA goes to both nodes' configuration, NODE_EXTRA(node)
    gives one node's own (say, [smtp] port = its smtp-sink)."""

    def __init__(self, build, ceph, workdir, bucket="bestanden-two-nodes", conf_extra=None,
                 node_extra=None):
        self.build, self.ceph, self.dir, self.bucket = build, ceph, workdir, bucket
        self.conf_extra = conf_extra or {}
        self.node_extra = node_extra  # NODE -> settings of that node alone (its own ports)
        self.nodes = []
        self.nginx = None
        self.url = None

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop(keep=True)
            raise

    def _start(self):
        port = free_port()
        self.url = "http://127.0.0.1:%d" % port
        keys = None
        for name in ("a", "b"):
            extra = {("gateway", "public_url"): self.url}
            if keys:
                extra[("keys", "dir")] = keys  # one key directory, shared (or copied) by every node
            extra.update(self.conf_extra)
            node = S3Stack(self.build, self.ceph, self.bucket, workdir=os.path.join(self.dir, name),
                           conf_extra=extra)
            if self.node_extra:
                node.conf_extra.update(self.node_extra(node))
            self.nodes.append(node)
            node.start()
            if keys is None:
                keys = os.path.join(node.dir, "keys")
        self.nginx = Nginx(self.dir, port, [n.ports["gateway"] for n in self.nodes]).start()
        return self

    def node_of(self, upstream):
        """The node whose gateway is at UPSTREAM ("127.0.0.1:PORT")."""
        return next(n for n in self.nodes if upstream.endswith(":%d" % n.ports["gateway"]))

    def stop(self, keep=False):
        if self.nginx:
            self.nginx.stop()
        for node in self.nodes:
            node.stop(keep=True)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def start_two_nodes(build, ceph, workdir, **kw):
    """Two nodes on CEPH behind nginx, running (see TwoNodes); stop() them when done."""
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o755)
    return TwoNodes(build, ceph, workdir, **kw).start()
