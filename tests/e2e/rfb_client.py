"""A small RFB (VNC) viewer for the tests, Python stdlib only, reaching the gateway's /console the
two ways real clients do: a WebSocket (RFC 6455, subprotocol "binary", as noVNC/XO Lite and
xo-server) or an HTTP CONNECT (xo-server's fallback). It speaks RFB 3.8 with security None,
SetPixelFormat, FramebufferUpdateRequest, Raw rectangles and KeyEvent, keeps the framebuffer and
reads the text on it back with the gateway's own console font (the table the build generated).
"""
import base64
import hashlib
import os
import re
import socket
import ssl
import struct
import time

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY_RETURN = 0xFF0D


class Refused(Exception):
    def __init__(self, status, head):
        super().__init__("HTTP %s: %r" % (status, head[:200]))
        self.status = status


def _tls(host, port, timeout):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((host, port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname=host)


def _read_head(sock):
    head = b""
    while b"\r\n\r\n" not in head:
        ch = sock.recv(1)
        if not ch:
            raise ConnectionError("closed during the HTTP answer: %r" % head)
        head += ch
        if len(head) > 16384:
            raise ConnectionError("HTTP answer too long")
    status = int(head.split(b" ", 2)[1])
    return status, head


class RawStream:
    """CONNECT: after the answer, the socket carries RFB as is."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("stream closed")
        self.buf += d

    def recv_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WsStream(RawStream):
    """WebSocket: binary frames from the server, masked frames from us."""

    def send(self, data, opcode=2):
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + body)

    def _raw(self, n):
        while len(self.raw) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("stream closed")
            self.raw += d
        out, self.raw = self.raw[:n], self.raw[n:]
        return out

    def _fill(self):
        if not hasattr(self, "raw"):
            self.raw = b""
        while True:
            b0, b1 = self._raw(2)
            if b1 & 0x80:
                raise AssertionError("server frames must not be masked")
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._raw(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._raw(8))[0]
            payload = self._raw(n)
            op = b0 & 0x0F
            if op == 8:
                raise EOFError("close frame")
            if op in (0, 1, 2):
                self.buf += payload
                return
            # pong / others: keep reading


def open_ws(host, port, query, cookie=None, timeout=20, protocols="binary", version="13"):
    sock = _tls(host, port, timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /console?%s HTTP/1.1" % query, "Host: %s:%d" % (host, port),
             "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
             "Sec-WebSocket-Version: " + version, "Sec-WebSocket-Protocol: " + protocols]
    if cookie:
        lines.append("Cookie: " + cookie)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    status, head = _read_head(sock)
    if status != 101:
        sock.close()
        raise Refused(status, head)
    want = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest())
    if b"Sec-WebSocket-Accept: " + want not in head:
        raise AssertionError("bad Sec-WebSocket-Accept in %r" % head)
    if b"Sec-WebSocket-Protocol: binary" not in head:
        raise AssertionError("no binary subprotocol in %r" % head)
    return WsStream(sock)


def open_connect(host, port, query, cookie=None, timeout=20):
    """What xo-server does when the WebSocket fails: CONNECT over TLS, headers skipped."""
    sock = _tls(host, port, timeout)
    lines = ["CONNECT /console?%s HTTP/1.0" % query, "Host: %s" % host]
    if cookie:
        lines.append("Cookie: " + cookie)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    status, head = _read_head(sock)
    if status != 200:
        sock.close()
        raise Refused(status, head)
    return RawStream(sock)


class Font:
    """The glyphs of the gateway's console font, read from the C table the build generated."""

    def __init__(self, build_dir):
        src = open(os.path.join(build_dir, "generated", "console_font.c")).read()
        self.height = int(re.search(r"xg_font_height = (\d+);", src).group(1))
        bits = src[src.index("xg_font_bits[] = {"):src.index("};")]
        data = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", bits))
        glyphs = [data[i:i + self.height] for i in range(0, len(data), self.height)]
        mapping = src[src.index("xg_font_map[] = {"):]
        self.by_bits = {}
        for cp, g in re.findall(r"\{0x([0-9a-f]+), (\d+)\}", mapping):
            cp = int(cp, 16)
            if 0x20 <= cp < 0x7F:
                self.by_bits.setdefault(glyphs[int(g)], chr(cp))


class Viewer:
    """One RFB session over a stream; framebuffer as rows of (r, g, b) tuples."""

    def __init__(self, stream, bpp=32, big_endian=False):
        self.s = stream
        banner = stream.recv_exact(12)
        if not banner.startswith(b"RFB 003.00"):
            raise AssertionError("banner %r" % banner)
        stream.send(b"RFB 003.008\n")
        n = stream.recv_exact(1)[0]
        types = stream.recv_exact(n)
        if 1 not in types:
            raise AssertionError("no security type None in %r" % types)
        stream.send(b"\x01")
        if struct.unpack("!I", stream.recv_exact(4))[0] != 0:
            raise AssertionError("security failed")
        stream.send(b"\x01")                         # shared
        w, h = struct.unpack("!HH", stream.recv_exact(4))
        stream.recv_exact(16)
        name_len = struct.unpack("!I", stream.recv_exact(4))[0]
        self.name = stream.recv_exact(name_len)
        self.width, self.height = w, h
        self.fb = [[(0, 0, 0)] * w for _ in range(h)]
        self.set_pixel_format(bpp, big_endian)
        stream.send(struct.pack("!BBH i", 2, 0, 1, 0))   # SetEncodings: Raw

    def set_pixel_format(self, bpp, big_endian):
        self.bpp, self.big_endian = bpp, big_endian
        if bpp == 32:
            fmt = (32, 24, 255, 255, 255, 16, 8, 0)
        elif bpp == 16:
            fmt = (16, 16, 31, 63, 31, 11, 5, 0)
        else:
            fmt = (8, 8, 7, 7, 3, 0, 3, 6)
        d, depth, rm, gm, bm, rs, gs, bs = fmt
        self.fmt = fmt
        self.s.send(struct.pack("!B3x BBBB HHH BBB 3x", 0, d, depth, 1 if big_endian else 0, 1,
                                rm, gm, bm, rs, gs, bs))

    def _pixel(self, raw):
        v = int.from_bytes(raw, "big" if self.big_endian else "little")
        _, _, rm, gm, bm, rs, gs, bs = self.fmt
        return (((v >> rs) & rm) * 255 // rm, ((v >> gs) & gm) * 255 // gm,
                ((v >> bs) & bm) * 255 // bm)

    def request(self, incremental=True):
        self.s.send(struct.pack("!BBHHHH", 3, 1 if incremental else 0, 0, 0,
                                self.width, self.height))

    def read_update(self):
        """Reads one FramebufferUpdate (skipping other server messages); returns its bytes."""
        while True:
            t = self.s.recv_exact(1)[0]
            if t == 0:
                break
            if t == 2:                                # Bell
                continue
            raise AssertionError("unexpected server message %d" % t)
        self.s.recv_exact(1)
        n = struct.unpack("!H", self.s.recv_exact(2))[0]
        size = 4
        px = self.bpp // 8
        for _ in range(n):
            x, y, w, h, enc = struct.unpack("!HHHHi", self.s.recv_exact(12))
            if enc != 0:
                raise AssertionError("encoding %d, only Raw was allowed" % enc)
            data = self.s.recv_exact(w * h * px)
            size += 12 + len(data)
            for j in range(h):
                row = self.fb[y + j]
                for i in range(w):
                    o = (j * w + i) * px
                    row[x + i] = self._pixel(data[o:o + px])
        return size

    def key(self, keysym):
        self.s.send(struct.pack("!BBxxI", 4, 1, keysym))
        self.s.send(struct.pack("!BBxxI", 4, 0, keysym))

    def type(self, text):
        for ch in text:
            self.key(ord(ch))

    def text(self, font, cell_w=8):
        """The screen as lines of text, each cell matched against the font's ASCII glyphs."""
        lines = []
        for r in range(self.height // font.height):
            line = []
            for c in range(self.width // cell_w):
                cells = [[self.fb[r * font.height + y][c * cell_w + x] for x in range(cell_w)]
                         for y in range(font.height)]
                colours = {}
                for row in cells:
                    for p in row:
                        colours[p] = colours.get(p, 0) + 1
                bg = max(colours, key=colours.get)
                bits = bytes(sum(0x80 >> x for x in range(cell_w) if row[x] != bg) for row in cells)
                inv = bytes(b ^ 0xFF for b in bits)
                line.append(font.by_bits.get(bits) or font.by_bits.get(inv) or "?")
            lines.append("".join(line).rstrip())
        return "\n".join(lines)

    def wait_text(self, font, pattern, timeout=20.0):
        """Reads updates until the screen matches the regex pattern; returns the screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.text(font)
            if re.search(pattern, screen):
                return screen
            self.request(True)
            self.read_update()
        raise AssertionError("%r not on screen after %.0f s:\n%s" % (pattern, timeout, screen))

    def close(self):
        self.s.close()
