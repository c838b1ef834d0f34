# SPDX-License-Identifier: EUPL-1.2
"""milterclient - the MTA side of the milter protocol (version 6), for tests.

Debian 12's miltertest cannot check replacement bodies over about 1 KB, so
the tests drive bestanden-milter with this client: option negotiation,
macros, connect, envelope, headers, body in chunks, end of message; it
collects every modification the filter asks for and the final verdict.
Standard library only.
"""
import socket
import struct

# MTA -> filter commands
OPTNEG, MACRO, CONNECT, HELO, MAIL, RCPT, DATA = b"O", b"D", b"C", b"H", b"M", b"R", b"T"
HEADER, EOH, BODY, BODYEOB, ABORT, QUIT = b"L", b"N", b"B", b"E", b"A", b"Q"

# actions we offer, and protocol steps
SMFIF_ALL = 0x1FF
SMFIP_HDR_LEADSPC = 0x00100000


class MilterError(Exception):
    pass


class Result:
    """What the filter answered at end of message."""

    def __init__(self):
        self.verdict = None        # 'continue', 'tempfail', 'reject', 'accept', 'discard'
        self.reply = None          # text of a 'y' (smfi_setreply) answer
        self.body = None           # bytes of the replacement body, or None
        self.body_chunks = 0
        self.add_headers = []      # (name, value)
        self.ins_headers = []      # (index, name, value)
        self.chg_headers = []      # (index, name, value or None)
        self.progress = 0
        self.order = []            # reply codes in the order they came


class MilterClient:
    def __init__(self, host, port, timeout=120):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.actions = 0
        self.protocol = 0

    def close(self):
        try:
            self._send(QUIT)
        except OSError:
            pass
        self.sock.close()

    # framing
    def _send(self, cmd, data=b""):
        self.sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def _recvn(self, n):
        buf = b""
        while len(buf) < n:
            part = self.sock.recv(n - len(buf))
            if not part:
                raise MilterError("filter closed the connection")
            buf += part
        return buf

    def _recv(self):
        (length,) = struct.unpack(">I", self._recvn(4))
        if length < 1 or length > 1 << 24:
            raise MilterError("bad packet length %d" % length)
        pkt = self._recvn(length)
        return pkt[:1], pkt[1:]

    def _expect_continue(self, what):
        code, data = self._recv()
        while code == b"p":
            code, data = self._recv()
        if code != b"c":
            raise MilterError("%s: expected continue, got %r %r" % (what, code, data[:200]))

    # protocol steps
    def negotiate(self, actions=SMFIF_ALL, protocol=SMFIP_HDR_LEADSPC):
        self._send(OPTNEG, struct.pack(">III", 6, actions, protocol))
        code, data = self._recv()
        if code != b"O":
            raise MilterError("negotiation answered %r" % code)
        _, self.actions, self.protocol = struct.unpack(">III", data[:12])
        return self.actions, self.protocol

    def macros(self, stage, values):
        data = stage
        for k, v in values.items():
            data += k.encode() + b"\0" + v.encode() + b"\0"
        self._send(MACRO, data)

    def connect(self, hostname, family, address, port=25):
        fam = {"4": b"4", "6": b"6", "U": b"U"}[family]
        data = hostname.encode() + b"\0" + fam
        if family != "U":
            data += struct.pack(">H", port) + address.encode() + b"\0"
        self._send(CONNECT, data)
        self._expect_continue("connect")

    def mail(self, sender, macros=None):
        if macros:
            self.macros(MAIL, macros)
        self._send(MAIL, sender.encode() + b"\0")
        self._expect_continue("mail")

    def rcpt(self, rcpt):
        self._send(RCPT, rcpt.encode() + b"\0")
        self._expect_continue("rcpt")

    def header(self, name, value):
        self._send(HEADER, name.encode() + b"\0" + value.encode("utf-8", "surrogateescape") + b"\0")
        self._expect_continue("header")

    def eoh(self):
        self._send(EOH)
        self._expect_continue("eoh")

    def body(self, data, chunk=65535):
        for i in range(0, len(data), chunk):
            self._send(BODY, data[i:i + chunk])
            self._expect_continue("body")

    def transaction(self, sender, rcpts, raw, mail_macros=None, chunk=65535):
        """MAIL, RCPT, the headers, end of headers and the body of RAW; end of message is next."""
        self.mail(sender, mail_macros)
        for r in rcpts:
            self.rcpt(r)
        headers, body = split_message(raw)
        for name, value in headers:
            self.header(name, value)
        self.eoh()
        self.body(body, chunk)

    def eom(self, macros=None):
        if macros:
            self.macros(BODYEOB, macros)
        self._send(BODYEOB)
        res = Result()
        body = []
        while True:
            code, data = self._recv()
            res.order.append(code.decode())
            if code == b"b":
                body.append(data)
                res.body_chunks += 1
            elif code == b"h":
                name, value = data.split(b"\0")[:2]
                res.add_headers.append((name.decode(), value.decode()))
            elif code == b"i":
                (idx,) = struct.unpack(">I", data[:4])
                name, value = data[4:].split(b"\0")[:2]
                res.ins_headers.append((idx, name.decode(), value.decode()))
            elif code == b"m":
                (idx,) = struct.unpack(">I", data[:4])
                name, value = data[4:].split(b"\0")[:2]
                res.chg_headers.append((idx, name.decode(), value.decode() or None))
            elif code == b"p":
                res.progress += 1
            elif code == b"y":
                res.reply = data.rstrip(b"\0").decode()
                res.verdict = "tempfail" if res.reply[:1] == "4" else "reject"
                break
            else:
                res.verdict = {b"c": "continue", b"t": "tempfail", b"r": "reject",
                               b"a": "accept", b"d": "discard"}.get(code)
                if res.verdict is None:
                    raise MilterError("unexpected answer %r at end of message" % code)
                break
        if body:
            res.body = b"".join(body)
        return res

    def abort(self):
        self._send(ABORT)


def split_message(raw):
    """Split a message (bytes, CRLF or LF) into [(name, value)] and the body (CRLF)."""
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b"\n" + line)
        elif b":" in line:
            name, value = line.split(b":", 1)
            headers.append((name, value))
    return ([(n.decode(), v.decode("utf-8", "surrogateescape")) for n, v in headers],
            body.replace(b"\n", b"\r\n"))


def send_message(host, port, raw, sender, rcpts, connect=("client.example", "4", "198.51.100.1"),
                 mail_macros=None, connect_macros=None, chunk=65535):
    """Run one whole message through the filter; returns (Result, MilterClient negotiated flags)."""
    c = MilterClient(host, port)
    try:
        flags = c.negotiate()
        if connect_macros:
            c.macros(CONNECT, connect_macros)
        c.connect(*connect)
        c.transaction(sender, rcpts, raw, mail_macros, chunk)
        res = c.eom({"i": "TESTQID"})
        return res, flags
    finally:
        c.close()
