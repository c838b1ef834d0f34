#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""run.py - what a milter costs a Postfix server: Postfix alone, with a null milter,
with bestanden and with MIMEDefang, measured interleaved in one run.

Starts one private Postfix per configuration (tests/postfix/postfix-instance.sh), all
relaying to one smtp-sink that discards, and for each configuration what it filters
through: nothing; bench_null_milter (asks for headers and body, accepts: the protocol's
cost), also with the no-reply flags (-n); bestanden (gateway with the embedded store
and milter, as tests/e2e/stack.py runs them); MIMEDefang with a filter that calls
action_replace_with_url on every attachment (Debian mimedefang, installed with apt
when missing). Then, round by round, for every message size, every configuration in
an order that rotates by round: bench_smtp_load sends N messages over 4 parallel
sessions (like smtp-source -s 4) to the submission port, and the clock stops when
Postfix's queue is empty again (accepted and relayed).

Reported per size and configuration: messages/s (median, min-max over rounds), the
ratio to Postfix alone and to the null milter in the same round (median, min-max),
p50/p99 latency of one SMTP transaction (connect to the 250 after the data; all
rounds pooled), CPU seconds per message of the milter, the gateway and Postfix (all
processes of each, from /proc/<pid>/stat deltas, median over rounds) and the milter's
peak RSS (VmHWM, reset before each measurement; max over rounds).

With --compare OTHER_BUILD a further configuration, "compare", runs bestanden from that
build (say, the commit before a change) in the same rounds, so a change is measured against
its baseline interleaved; --set and --compare-set put SECTION.KEY=VALUE into the one or
the other's configuration (say, --compare-set milter.spool_memory=1M).

usage: bench/smtp/run.py [--build build] [--rounds 3] [--sizes 0,100k,1m,10m,25m]
                         [--messages 400,200,60,12,6] [--configs LIST] [--transport unix|inet]
                         [--compare OTHER_BUILD] [--set S.K=V] [--compare-set S.K=V]
                         [--json FILE] [--perf FILE]
Run as root (Postfix and the private instances need it).
"""
import argparse
import base64
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
from stack import Stack, free_port, wait_port  # noqa: E402

INSTANCE = os.path.join(SRC, "tests", "postfix", "postfix-instance.sh")
CONFIGS = ["postfix", "null", "null-nr", "bestanden", "mimedefang"]
TITLES = {"postfix": "Postfix alone", "null": "null milter", "null-nr": "null milter, no-reply flags",
          "bestanden": "bestanden", "mimedefang": "MIMEDefang", "compare": "bestanden, --compare build"}
MIMEDEFANG_PKGS = ["mimedefang", "libnet-dns-perl"]
CLK_TCK = os.sysconf("SC_CLK_TCK")

MIMEDEFANG_FILTER = r"""# bench/smtp/run.py: replace every attachment with a link, as bestanden does.
$AdminAddress = 'postmaster@localhost';
$DaemonAddress = 'mailer-daemon@localhost';
$Stupidity{"NoMultipleInlines"} = 0;
sub filter_begin { }
sub filter {
    my ($entity, $fname, $ext, $type) = @_;
    return if message_rejected();
    if (defined($fname) && $fname ne '') {
        return action_replace_with_url($entity, '%(docroot)s', 'http://127.0.0.1/files',
            "The attachment \"$fname\" was replaced by a link: _URL_\n");
    }
    return action_accept();
}
sub filter_end { }
1;
"""


# ---- sizes and messages ----

def parse_size(s):
    s = s.strip().lower()
    mult = {"k": 1024, "m": 1024 * 1024}.get(s[-1:], 1)
    return int(float(s[:-1] if mult > 1 else s) * mult)


def size_name(n):
    if n == 0:
        return "no attachment"
    if n % (1024 * 1024) == 0:
        return "%d MB attachment" % (n // (1024 * 1024))
    return "%d KB attachment" % (n // 1024)


def wire_message(size):
    """One outgoing message in SMTP wire form (CRLF, dot-stuffed, no final dot)."""
    text = ("Goedemiddag,\r\n\r\nHierbij de stukken voor de vergadering van donderdag.\r\n"
            "\r\nMet vriendelijke groet,\r\nJan\r\n")
    head = ("From: Jan <medewerker@bestanden.test>\r\nTo: <klant@example.org>\r\n"
            "Subject: Stukken\r\nDate: Mon, 2 Jun 2025 10:00:00 +0200\r\n"
            "Message-ID: <bench@bestanden.test>\r\nMIME-Version: 1.0\r\n")
    if size == 0:
        msg = head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    else:
        data = random.Random(size).randbytes(size)
        b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
        msg = (head + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
               "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
               "--b1\r\nContent-Type: application/pdf; name=\"stukken.pdf\"\r\n"
               "Content-Disposition: attachment; filename=\"stukken.pdf\"\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "--b1--\r\n")
    lines = msg.split("\r\n")
    return "\r\n".join("." + l if l.startswith(".") else l for l in lines).encode()


# ---- processes ----

def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def tree(pid):
    out = [pid]
    for c in children(pid):
        out += tree(c)
    return out


def cpu_seconds(pid):
    """CPU of PID and every child it has reaped (utime+stime+cutime+cstime)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


def tree_cpu(roots):
    return sum(cpu_seconds(p) for r in roots for p in tree(r))


def reset_peak(roots):
    for r in roots:
        for p in tree(r):
            try:
                with open("/proc/%d/clear_refs" % p, "w") as f:
                    f.write("5")
            except OSError:
                pass


def peak_rss_mib(roots):
    best = 0
    for r in roots:
        for p in tree(r):
            try:
                with open("/proc/%d/status" % p) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            best = max(best, int(line.split()[1]))
            except OSError:
                pass
    return best / 1024.0


def pidfile(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            time.sleep(0.1)
    raise RuntimeError("no pid in %s" % path)


class Config:
    """One private Postfix and the milter it uses."""

    def __init__(self, name, bench, workdir, sink_port, transport, conf_extra=None):
        self.name, self.bench, self.dir = name, bench, os.path.join(workdir, name)
        self.conf_extra = conf_extra or {}
        self.transport = transport
        self.sink_port = sink_port
        self.smtp, self.submission = free_port(), free_port()
        self.milter_port = free_port()
        self.procs = []
        self.stack = None
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.postfix_dir = os.path.join(self.dir, "postfix")

    def spawn(self, argv, log, **kw):
        with open(os.path.join(self.dir, log), "ab") as f:
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def start(self):
        # libmilter and MIMEDefang spell a socket alike; Postfix has its own syntax
        path = os.path.join(self.dir, "milter.sock")
        if self.transport == "unix":
            listen, milter = "unix:" + path, "unix:" + path
        else:
            listen, milter = ("inet:%d@127.0.0.1" % self.milter_port,
                              "inet:127.0.0.1:%d" % self.milter_port)
        if self.name in ("null", "null-nr"):
            argv = [os.path.join(self.bench, "bench_null_milter")]
            if self.name == "null-nr":
                argv.append("-n")
            self.spawn(argv + [listen], "milter.log")
        elif self.name in ("bestanden", "compare"):
            self.stack = QuietStack(os.path.dirname(self.bench), os.path.join(self.dir, "stack"),
                                    self.sink_port, listen, self.conf_extra)
            os.makedirs(self.stack.dir)
            self.stack.start()
        elif self.name == "mimedefang":
            self.start_mimedefang(listen)
        else:
            milter = "none"
        if milter != "none":
            self.wait_milter(path)
        subprocess.run([INSTANCE, "start", self.postfix_dir, str(self.smtp), str(self.submission),
                        str(self.sink_port), milter], check=True)
        self.master = pidfile(os.path.join(self.postfix_dir, "queue", "pid", "master.pid"))

    def wait_milter(self, path):
        if self.transport == "unix":
            deadline = time.time() + 20
            while not os.path.exists(path):
                if time.time() > deadline:
                    raise RuntimeError("%s did not create %s" % (self.name, path))
                time.sleep(0.1)
            os.chmod(path, 0o666)  # Postfix's cleanup runs as postfix
        else:
            wait_port(self.milter_port, what=self.name)

    def start_mimedefang(self, listen):
        spool = os.path.join(self.dir, "mdspool")
        docroot = os.path.join(self.dir, "docroot")
        for d in (spool, docroot):
            os.makedirs(d)
            shutil.chown(d, "defang", "defang")
        shutil.chown(self.dir, "defang", "defang")  # mimedefang creates its socket here
        filt = os.path.join(self.dir, "mimedefang-filter")
        with open(filt, "w") as f:
            f.write(MIMEDEFANG_FILTER % {"docroot": docroot})
        mx = os.path.join(spool, "mimedefang-multiplexor.sock")
        self.spawn(["mimedefang-multiplexor", "-D", "-U", "defang", "-z", spool, "-s", mx, "-f", shutil.which("mimedefang.pl"), "-F", filt,
                    "-m", "2", "-x", "10"], "multiplexor.log")
        deadline = time.time() + 20
        while not os.path.exists(mx) and time.time() < deadline:
            time.sleep(0.1)
        self.spawn(["mimedefang", "-D", "-U", "defang", "-z", spool, "-m", mx,
                    "-p", listen], "mimedefang.log")

    def milter_roots(self):
        if self.stack is not None:
            return [self.stack.procs["milter"].pid]
        return [p.pid for p in self.procs]

    def gateway_roots(self):
        return [self.stack.procs["gateway"].pid] if self.stack is not None else []

    def queue_empty(self):
        q = os.path.join(self.postfix_dir, "queue")
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _root, _dirs, files in os.walk(os.path.join(q, sub)):
                if files:
                    return False
        return True

    def deferred(self):
        n = 0
        for _root, _dirs, files in os.walk(os.path.join(self.postfix_dir, "queue", "deferred")):
            n += len(files)
        return n

    def stop(self):
        subprocess.run([INSTANCE, "stop", self.postfix_dir])
        if self.stack is not None:
            self.stack.stop(keep=True)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()


class QuietStack(Stack):
    """The gateway and milter of tests/e2e/stack.py, relaying to the shared sink."""

    def __init__(self, build, workdir, sink_port, listen, extra):
        super().__init__(build, workdir=workdir, with_postfix=False,
                         conf_extra={**extra, ("milter", "socket"): listen})
        self.ports["sink"] = sink_port

    def start_milter(self):
        self._spawn("milter", [self.prog("milter"), "-f", "-c", self.conf])

    def start_sink(self):
        pass


# ---- measuring ----

def measure(cfg, load, msgfile, n, sessions):
    mroots, groots = cfg.milter_roots(), cfg.gateway_roots()
    reset_peak(mroots)
    before = (tree_cpu(mroots), tree_cpu(groots), tree_cpu([cfg.master]))
    t0 = time.monotonic()
    out = subprocess.run([load, "127.0.0.1", str(cfg.submission), str(sessions), str(n), msgfile],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    deadline = time.monotonic() + 600
    while not cfg.queue_empty():
        if cfg.deferred() or time.monotonic() > deadline:
            raise RuntimeError("%s: mail was deferred or not relayed; see %s/maillog" %
                               (cfg.name, cfg.postfix_dir))
        time.sleep(0.005)
    wall = time.monotonic() - t0
    after = (tree_cpu(mroots), tree_cpu(groots), tree_cpu([cfg.master]))
    lat = [float(x) for x in out if x and not x.startswith("wall")]
    failed = int([x for x in out if x.startswith("wall")][0].split()[2])
    if failed:
        raise RuntimeError("%s: %d of %d transactions failed; see %s" % (cfg.name, failed, n, cfg.dir))
    return {"rate": n / wall, "latency": lat,
            "cpu": {k: (a - b) / n for k, a, b in zip(("milter", "gateway", "postfix"), after, before)},
            "rss": peak_rss_mib(mroots)}


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def spread(xs, fmt):
    return (fmt + " (" + fmt + "–" + fmt + ")") % (statistics.median(xs), min(xs), max(xs))


def report(results, sizes, configs, rounds):
    lines = []
    for size in sizes:
        lines.append("\n%s (%d rounds)\n" % (size_name(size), rounds))
        lines.append("| configuration | messages/s | ratio to Postfix alone | ratio to null milter "
                     "| latency p50 / p99 ms | CPU ms/msg milter | gateway | Postfix | milter peak RSS MiB |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        runs = results[size]
        for c in configs:
            rs = runs[c]
            rates = [r["rate"] for r in rs]
            ratio = lambda base: (spread([r["rate"] / b["rate"] for r, b in zip(rs, runs[base])], "%.2f")
                                  if base in runs else "-")
            lat = [x for r in rs for x in r["latency"]]
            cpu = {k: statistics.median(r["cpu"][k] for r in rs) * 1000 for k in rs[0]["cpu"]}
            lines.append("| %s | %s | %s | %s | %.1f / %.1f | %.2f | %.2f | %.2f | %s |" % (
                TITLES[c], spread(rates, "%.1f"), ratio("postfix"), ratio("null"),
                percentile(lat, 50) * 1000, percentile(lat, 99) * 1000, cpu["milter"],
                cpu["gateway"], cpu["postfix"],
                "%.1f" % max(r["rss"] for r in rs) if c != "postfix" else "-"))
        if "compare" in runs and "bestanden" in runs:
            ratios = [r["rate"] / b["rate"] for r, b in zip(runs["bestanden"], runs["compare"])]
            cpus = [r["cpu"]["milter"] / b["cpu"]["milter"]
                    for r, b in zip(runs["bestanden"], runs["compare"]) if b["cpu"]["milter"] > 0]
            lines.append("\nbestanden against %s, round by round: messages/s %s, milter CPU "
                         "per message %s" % (TITLES["compare"], spread(ratios, "%.2f"),
                                             spread(cpus, "%.2f") if cpus else "-"))
    return "\n".join(lines)


def ensure_mimedefang():
    if shutil.which("mimedefang") and subprocess.run(
            ["perl", "-MNet::DNS", "-e", "1"], capture_output=True).returncode == 0:
        return
    print("run.py: installing %s with apt" % " ".join(MIMEDEFANG_PKGS), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + MIMEDEFANG_PKGS,
                   check=True, env=env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="0,100k,1m,10m,25m")
    ap.add_argument("--messages", default="400,200,60,12,6",
                    help="messages per measurement: one number, or one per size")
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--transport", choices=("unix", "inet"), default="unix",
                    help="how Postfix reaches the milters (inet: loopback TCP)")
    ap.add_argument("--perf", metavar="FILE",
                    help="perf record bestanden's milter processes during the rounds into FILE")
    ap.add_argument("--compare", metavar="OTHER_BUILD",
                    help="also run bestanden from this build, as configuration 'compare'")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="a setting for bestanden's configuration (repeatable)")
    ap.add_argument("--compare-set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="a setting for the --compare configuration (repeatable)")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    sizes = [parse_size(s) for s in a.sizes.split(",")]
    counts = [int(x) for x in a.messages.split(",")]
    counts = counts * len(sizes) if len(counts) == 1 else counts
    if len(counts) != len(sizes):
        ap.error("--messages needs one number or one per size")
    configs = a.configs.split(",")
    for c in configs:
        if c not in CONFIGS:
            ap.error("unknown configuration %s (known: %s)" % (c, ",".join(CONFIGS)))

    def settings(items):
        out = {}
        for item in items:
            key, eq, value = item.partition("=")
            section, dot, name = key.partition(".")
            if not eq or not dot:
                ap.error("a setting is SECTION.KEY=VALUE, not %s" % item)
            out[(section, name)] = value
        return out
    extra = {"bestanden": settings(a.set), "compare": settings(a.compare_set)}
    build = os.path.abspath(a.build)
    other = os.path.abspath(a.compare) if a.compare else None
    if other:
        configs.append("compare")
        TITLES["compare"] = "bestanden, %s" % a.compare
    for b in [build] + ([other] if other else []):
        subprocess.run(["cmake", "--build", b, "--target", "bench_null_milter", "bench_smtp_load",
                        "bestanden-milter", "bestanden-gateway", "bestanden-cli"], check=True,
                       stdout=subprocess.DEVNULL)
    if "mimedefang" in configs:
        ensure_mimedefang()
    bench = os.path.join(build, "bench")
    load = os.path.join(bench, "bench_smtp_load")
    work = tempfile.mkdtemp(prefix="bd-bench-smtp-")
    os.chmod(work, 0o755)
    sink_port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "root", "127.0.0.1:%d" % sink_port, "1024"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    started = []
    results = {s: {c: [] for c in configs} for s in sizes}
    load_before = os.getloadavg()
    try:
        wait_port(sink_port, what="smtp-sink")
        files = {}
        for s in sizes:
            files[s] = os.path.join(work, "msg-%d.eml" % s)
            with open(files[s], "wb") as f:
                f.write(wire_message(s))
        for c in configs:
            cfg_bench = os.path.join(other, "bench") if c == "compare" else bench
            cfg = Config(c, cfg_bench, work, sink_port, a.transport, extra.get(c))
            started.append(cfg)
            cfg.start()
        # warm up: every process spawned and every cache filled once
        for cfg in started:
            for s in sizes:
                measure(cfg, load, files[s], a.sessions, a.sessions)
        perf = None
        if a.perf:
            pids = [p for c in started if c.name == "bestanden" for r in c.milter_roots() for p in tree(r)]
            perf = subprocess.Popen(["perf", "record", "-q", "-g", "-F", "999", "-o", a.perf, "-p",
                                     ",".join(map(str, pids))])
            time.sleep(1)
        for rnd in range(a.rounds):
            for s, n in zip(sizes, counts):
                order = started[rnd % len(started):] + started[:rnd % len(started)]
                for cfg in order:
                    time.sleep(0.3)
                    r = measure(cfg, load, files[s], n, a.sessions)
                    results[s][cfg.name].append(r)
                    print("round %d  %-16s %-11s %8.1f msg/s  milter %.2f ms/msg" % (
                        rnd + 1, size_name(s), cfg.name, r["rate"], r["cpu"]["milter"] * 1000),
                        flush=True)
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()
    finally:
        for cfg in started:
            cfg.stop()
        sink.terminate()
        sink.wait()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\n%s; load average before %.2f, after %.2f; %d sessions; milters on %s sockets" % (
        time.strftime("%Y-%m-%d %H:%M"), load_before[0], os.getloadavg()[0], a.sessions,
        a.transport))
    print(report(results, sizes, configs, a.rounds))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "load": [load_before, os.getloadavg()],
                       "results": {str(s): v for s, v in results.items()}}, f)


if __name__ == "__main__":
    main()
