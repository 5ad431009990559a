"""A raw HTTP/1.1-over-TLS client for the hostile battery. It sends exactly the bytes it is given (CR, LF, NUL,
lying lengths, malformed chunking), which neither curl nor http.client will, and parses the one response.

Sending and reading are interleaved on a non-blocking socket: a server that answers 413 or 431 after reading part
of a large request, and stops reading, must not leave the client blocked in send while the answer waits."""

import os
import select
import socket
import ssl
import time


class Response:
    def __init__(self):
        self.status = None  # int, or None when no status line came back
        self.headers = []  # [(lower-case name str, value bytes)] in order
        self.body = b""
        self.error = None  # what went wrong on the wire, if anything (str)
        self.raw_head = b""
        self.seconds = 0.0

    def header(self, name):
        """The first header NAME (any case) as bytes, or None."""
        name = name.lower()
        for n, v in self.headers:
            if n == name:
                return v
        return None


class Client:
    def __init__(self, host, port, cafile, server_name="localhost"):
        self.host = host
        self.port = port
        self.ctx = ssl.create_default_context(cafile=cafile)
        # HTTP/1.1 only: the battery is about the bytes of an HTTP/1.1 request
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.server_name = server_name

    def send(self, raw, head=False, timeout=30.0, shut_write=False):
        """Send RAW on a new TLS connection and read one response. HEAD: the response has no body. SHUT_WRITE:
        half-close the TCP connection once everything is sent (a client that gives up mid-request)."""
        r = Response()
        t0 = time.monotonic()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.ctx.wrap_socket(sock, server_hostname=self.server_name)
        except (OSError, ssl.SSLError) as e:
            r.error = "connect: %s" % e
            return r
        try:
            _exchange(tls, raw, head, shut_write, t0 + timeout, r)
        finally:
            try:
                tls.close()
            except OSError:
                pass
            r.seconds = time.monotonic() - t0
        return r


def _half_close(tls):
    # SSLSocket.shutdown would drop the TLS state still needed to read the answer: shut down a duplicate of the
    # descriptor instead (the same socket, so the peer sees a FIN with no close_notify)
    dup = socket.socket(fileno=os.dup(tls.fileno()))
    try:
        dup.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        dup.close()


def _exchange(tls, raw, head, shut_write, deadline, r):
    tls.setblocking(False)
    out = memoryview(raw)
    buf = b""
    sending = len(out) > 0
    eof = False
    if not sending and shut_write:
        _half_close(tls)
    while True:
        if _parse(buf, head, r, eof):
            return
        if eof:
            if r.error is None:
                r.error = "connection closed before a whole response" if buf else "no response (connection closed)"
            r.raw_head = r.raw_head or buf[:2000]
            return
        left = deadline - time.monotonic()
        if left <= 0:
            r.error = "timed out waiting for the response"
            r.raw_head = r.raw_head or buf[:2000]
            return
        if tls.pending() == 0:
            rl, wl, _ = select.select([tls], [tls] if sending else [], [], min(left, 1.0))
        else:
            rl, wl = [tls], []
        if wl and sending:
            try:
                n = tls.send(out[:65536])
                out = out[n:]
                if len(out) == 0:
                    sending = False
                    if shut_write:
                        _half_close(tls)
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
            except (OSError, ssl.SSLError) as e:
                # the server answered and closed before the request was all sent: read what it said
                sending = False
                r.error = "send: %s" % e
        if rl:
            try:
                d = tls.recv(65536)
                if d:
                    buf += d
                else:
                    eof = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except (OSError, ssl.SSLError) as e:
                # a close without close_notify, or a reset after the answer: the end of the stream
                eof = True
                if not buf and r.error is None:
                    r.error = "recv: %s" % e


def _parse(buf, head, r, eof):
    """Fill R from BUF when BUF holds a whole response; returns whether it does."""
    start = 0
    while True:
        end = buf.find(b"\r\n\r\n", start)
        if end < 0:
            return False
        lines = buf[start:end].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            r.error = "bad status line %r" % lines[0][:100]
            r.raw_head = buf[:2000]
            return True
        status = int(parts[1])
        if 100 <= status < 200 and status != 101:
            start = end + 4  # 100 Continue and friends: the real answer follows
            continue
        break
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.decode("latin-1").lower(), value.strip(b" \t")))
    rest = buf[end + 4:]
    body = b""
    if not (head or status in (204, 304)):
        te = cl = None
        for n, v in headers:
            if n == "transfer-encoding" and te is None:
                te = v
            if n == "content-length" and cl is None:
                cl = v
        if te is not None and b"chunked" in te.lower():
            body = _dechunk(rest)
            if body is None:
                return False
        elif cl is not None and cl.strip().isdigit():
            if len(rest) < int(cl):
                return False
            body = rest[:int(cl)]
        else:
            if not eof:
                return False  # read to the end of the connection
            body = rest
    r.status = status
    r.headers = headers
    r.body = body
    r.raw_head = buf[start:end]
    return True


def _dechunk(data):
    body = b""
    i = 0
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            return None
        try:
            size = int(data[i:j].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            return body
        if size == 0:
            return body
        if len(data) < j + 2 + size + 2:
            return None
        body += data[j + 2:j + 2 + size]
        i = j + 2 + size + 2
