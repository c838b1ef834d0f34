# SPDX-License-Identifier: EUPL-1.2
"""faultproxy - a TCP proxy in front of the gateway's object API that breaks on request.

FaultProxy(upstream_port).start() listens on a free 127.0.0.1 port (.url) and passes
every connection on to 127.0.0.1:upstream_port. What it does to them is set while it runs:

  mode = "pass"     forward (the default)
  mode = "refuse"   close every new connection at once (storage down)
  mode = "status"   answer every request with .status (e.g. 500, 503), upstream never sees it
  mode = "hold"     take requests in and never answer (upstream never sees them)
  mode = "drop"     forward, but cut both sides after .drop_after bytes of a request body
                    have gone upstream (the connection lost in the middle of an upload)
  mode = "lose-manifest-answer"
                    forward, but a package's manifest PUT ("<id>/0") loses its answer, and
                    from then on storage is down ("refuse"): the manifest is stored, and the
                    milter's retry and its delete of the package fail
  delay = seconds   hold back each response that long (storage slower than its timeout)

It counts what it saw: .connections, .requests (request lines), .faults (connections it broke).
"""
import re
import socket
import threading
import time


class FaultProxy:
    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.mode = "pass"
        self.status = 503
        self.drop_after = 100_000
        self.delay = 0.0
        self.connections = self.requests = self.faults = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.open = []

    def start(self):
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.listener.close()
        for s in self.open:
            try:
                s.close()
            except OSError:
                pass

    def heal(self):
        self.mode, self.delay = "pass", 0.0

    def _count(self, name):
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._count("connections")
            if self.mode == "refuse":
                self._count("faults")
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        self.open.append(client)
        try:
            upstream = socket.create_connection(self.upstream, timeout=60)
        except OSError:
            client.close()
            return
        self.open.append(upstream)
        state = {"pending": False, "body": 0, "in_body": False}
        threading.Thread(target=self._relay, args=(client, upstream, lambda b: self._up(client, b, state)),
                         daemon=True).start()
        self._relay(upstream, client, lambda b: self._down(b, state))

    @staticmethod
    def _relay(src, dst, hook):
        """Bytes from SRC to DST, each piece through HOOK (None: stop); then both closed."""
        try:
            while True:
                b = src.recv(65536)
                b = hook(b) if b else None
                if b is None:
                    break
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _up(self, client, b, state):
        """Client to upstream: counts requests; each meets the fault in force (a connection
        kept alive from before the fault too)."""
        if b[:8].split(b" ")[0] in (b"GET", b"PUT", b"HEAD", b"DELETE", b"POST"):
            self._count("requests")
            state["in_body"] = b[:4] == b"PUT "
            state["body"] = 0
            if self.mode == "status":
                self._count("faults")
                client.sendall(b"HTTP/1.1 %d Fault\r\nContent-Length: 0\r\n"
                               b"Connection: close\r\n\r\n" % self.status)
                return None
            if self.mode == "hold":
                while client.recv(65536):
                    pass
                return None
            if self.mode == "refuse":
                self._count("faults")
                return None
        state["pending"] = True
        if self.mode == "lose-manifest-answer" and re.match(rb"PUT \S*/[0-9a-f]{16}/0 ", b):
            state["manifest"] = True
        if self.mode == "drop" and state["in_body"]:
            state["body"] += len(b)
            if state["body"] > self.drop_after:
                self._count("faults")
                return None  # what came before this piece went upstream: cut mid-body
        return b

    def _down(self, b, state):
        """Upstream to client: each response held back by .delay."""
        if state["pending"] and self.delay > 0:
            time.sleep(self.delay)
        state["pending"] = False
        if state.get("manifest") and not re.match(rb"HTTP/1\.1 100 ", b):  # not "continue"
            # the manifest went upstream; its answer is lost and storage goes down
            self._count("faults")
            self.mode = "refuse"
            return None
        return b
