#!/usr/bin/env python3
"""Hostile FastCGI straight at hop's Unix socket (socket.sh starts the pool with HOP_READ_TIMEOUT=1).

Each case writes records the way a broken or malicious web server might (truncated records, lying lengths,
unknown types and roles, absurd parameter lengths, aborts, connections closed or left open halfway) and then
checks what came back: an answer with the exact `Status:` in its FCGI_STDOUT, or the connection dropped with no
answer, within a bound (a connection left open must be given up by hop after its read deadline, not held).
After every case: a normal request on the socket is answered 200, no worker died (`msg="worker died"` in the
pool's own log) and no worker holds more descriptors than before.

Environment (set by socket.sh): HOSTILE_SOCKET, HOSTILE_LOG, HOSTILE_MASTER, HOSTILE_KEY, HOSTILE_RESULT.
"""

import json
import os
import socket
import struct
import sys
import time

BEGIN, ABORT, END, PARAMS, STDIN, STDOUT, STDERR, DATA, GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = range(1, 12)
RESPONDER, AUTHORIZER, FILTER = 1, 2, 3
KEEP_CONN = 1
HANG_LIMIT = 10.0  # seconds: a connection hop has not closed by then is a hang (its deadline is 1 s here)

KEY = os.environ.get("HOSTILE_KEY", "hop_key")


# ---- records ---------------------------------------------------------------------------------------------------

def rec(rtype, rid=1, content=b"", pad=0, version=1, clen=None, padlen=None):
    """One record; clen/padlen override the lengths written in the header (lies)."""
    n = len(content) if clen is None else clen
    p = pad if padlen is None else padlen
    return struct.pack(">BBHHBB", version, rtype, rid, n, p, 0) + content + b"\0" * pad


def begin(rid=1, role=RESPONDER, flags=0):
    return rec(BEGIN, rid, struct.pack(">HB5x", role, flags))


def length(n, long_form=False):
    return struct.pack(">I", n | 0x80000000) if long_form or n > 127 else bytes([n])


def nv(name, value):
    name, value = _b(name), _b(value)
    return length(len(name)) + length(len(value)) + name + value


def _b(x):
    return x if isinstance(x, bytes) else x.encode()


def stream(rtype, data, rid=1, size=65535):
    """DATA as records of at most SIZE bytes, then the empty record that ends the stream."""
    out = b""
    for i in range(0, len(data), size):
        out += rec(rtype, rid, data[i:i + size])
    return out + rec(rtype, rid)


def params(pairs, rid=1, size=65535):
    body = b"".join(nv(k, v) for k, v in pairs)
    return stream(PARAMS, body, rid, size)


def env(method="GET", uri="/healthz", body=None, ctype=None, key=False, extra=()):
    pairs = [("REQUEST_METHOD", method), ("REQUEST_URI", uri), ("QUERY_STRING", uri.partition("?")[2]),
             ("SCRIPT_NAME", ""), ("PATH_INFO", uri.partition("?")[0]), ("HTTP_HOST", "localhost"),
             ("REMOTE_ADDR", "127.0.0.1"), ("CONTENT_LENGTH", "" if body is None else str(len(body)))]
    if ctype:
        pairs.append(("CONTENT_TYPE", ctype))
    if key:
        pairs.append(("HTTP_AUTHORIZATION", "Bearer " + KEY))
    return pairs + list(extra)


def request(method="GET", uri="/healthz", body=b"", **kw):
    """A whole, well-formed request."""
    return begin() + params(env(method, uri, body if body else None, **kw)) + stream(STDIN, body)


# A body that reaches the JSON checks without creating anything: the key is valid, the URL is not (422).
BAD_URL = b'{"url":"javascript:alert(1)"}'


def api_head(body_len, cl=None, extra=()):
    """BEGIN + PARAMS of POST /api/links with a key and a JSON body of BODY_LEN bytes (CONTENT_LENGTH=cl)."""
    pairs = env("POST", "/api/links", b"x" * body_len, ctype="application/json", key=True, extra=extra)
    if cl is not None:
        pairs = [(k, cl if k == "CONTENT_LENGTH" else v) for k, v in pairs]
    return begin() + params(pairs)


# ---- talking to the socket --------------------------------------------------------------------------------------

class Outcome:
    def __init__(self):
        self.data = b""
        self.eof = False
        self.seconds = 0.0
        self.send_error = None

    def records(self):
        out, i = [], 0
        while i + 8 <= len(self.data):
            _, t, rid, n, pad, _ = struct.unpack(">BBHHBB", self.data[i:i + 8])
            out.append((t, rid, self.data[i + 8:i + 8 + n]))
            i += 8 + n + pad
        return out

    def stdout(self):
        return b"".join(c for t, _, c in self.records() if t == STDOUT)

    def status(self):
        """The Status: of the answer, or None when there is no answer."""
        out = self.stdout()
        if not out.startswith(b"Status: "):
            return None
        try:
            return int(out[8:11])
        except ValueError:
            return None


def talk(sock_path, pieces, after="shut", limit=HANG_LIMIT):
    """Send PIECES ([(bytes, pause seconds)]) on a new connection, then: "shut" half-closes and reads to EOF,
    "hold" keeps the connection open and reads to EOF (hop must give up on it), "close" closes at once."""
    o = Outcome()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(limit)
    t0 = time.monotonic()
    s.connect(sock_path)
    try:
        for data, pause in pieces:
            if data:
                s.sendall(data)
            if pause:
                time.sleep(pause)
        if after == "shut":
            s.shutdown(socket.SHUT_WR)
    except OSError as e:
        o.send_error = str(e)  # hop gave up, or answered and closed, before everything was sent
    if after == "close":
        s.close()
        o.seconds = time.monotonic() - t0
        return o
    try:
        while True:
            left = limit - (time.monotonic() - t0)
            if left <= 0:
                break
            s.settimeout(left)
            d = s.recv(65536)
            if not d:
                o.eof = True
                break
            o.data += d
    except socket.timeout:
        pass
    except OSError:
        o.eof = True  # reset by hop: the connection is gone either way
    o.seconds = time.monotonic() - t0
    s.close()
    return o


# ---- the cases --------------------------------------------------------------------------------------------------

CASES = []


def case(name, pieces, expect, after="shut", records=(), fn=None):
    """EXPECT: a status (the answer's Status:), "dropped" (closed with no answer), or None (the client closed:
    only the aftermath is checked). RECORDS: (type, request id) pairs that must be in the reply. FN: a function
    (sock_path) -> list of problems, for cases that need more than one connection."""
    if isinstance(pieces, bytes):
        pieces = [(pieces, 0)]
    CASES.append((name, pieces, expect, after, records, fn))


OK = request()
case("baseline: a whole GET /healthz", OK, 200)
case("baseline: a whole POST /api/links with a bad url", request("POST", "/api/links", BAD_URL,
                                                                   ctype="application/json", key=True), 422)

# truncated and lying records
case("truncated record header, then half-close", b"\x01\x01\x00", "dropped")
case("truncated record header, left open", b"\x01\x01\x00", "dropped", after="hold")
case("BEGIN only, then half-close", begin(), "dropped")
case("BEGIN only, left open", begin(), "dropped", after="hold")
case("BEGIN whose content is cut short", begin()[:12], "dropped")
case("BEGIN claiming 16 bytes of content", rec(BEGIN, 1, struct.pack(">HB13x", RESPONDER, 0)), "dropped")
case("BEGIN claiming 0 bytes of content", rec(BEGIN, 1, b"", clen=0) + params(env()) + stream(STDIN, b""),
     "dropped")
case("PARAMS record shorter than its length, then half-close",
     begin() + rec(PARAMS, 1, nv("REQUEST_METHOD", "GET"), clen=200), "dropped")
case("PARAMS record shorter than its length, left open",
     begin() + rec(PARAMS, 1, nv("REQUEST_METHOD", "GET"), clen=200), "dropped", after="hold")
case("PARAMS record longer than its length (the rest parsed as a header)",
     begin() + rec(PARAMS, 1, nv("REQUEST_METHOD", "GET") + b"\x01\x05garbage!!", clen=16) + rec(PARAMS) +
     stream(STDIN, b""), "dropped")
case("padding length 255 with no padding sent", begin() + rec(PARAMS, 1, nv("A", "b"), padlen=255) + rec(PARAMS) +
     stream(STDIN, b""), "dropped")
case("record version 2", rec(BEGIN, 1, struct.pack(">HB5x", RESPONDER, 0), version=2) + params(env()) +
     stream(STDIN, b""), "dropped")
case("record version 0", rec(BEGIN, 1, struct.pack(">HB5x", RESPONDER, 0), version=0) + params(env()) +
     stream(STDIN, b""), "dropped")
case("BEGIN with request id 0", begin(rid=0) + params(env(), rid=0) + stream(STDIN, b"", rid=0), "dropped")
_BASE = b"".join(nv(k, v) for k, v in env())
_FULL = _BASE + nv("HTTP_X_PAD", "p" * (65535 - len(_BASE) - 15))
assert len(_FULL) == 65535
case("an honest record of 65535 content bytes and 255 bytes of padding",
     begin() + rec(PARAMS, 1, _FULL, pad=255) + rec(PARAMS) + stream(STDIN, b""), 200)
case("params split into one-byte records", begin() + params(env(), size=1) + stream(STDIN, b""), 200)

# record types and roles
case("unknown record type 99 for another request id is skipped", rec(99, 7, b"abc") + OK, 200)
case("unknown record type 99 on the management id gets FCGI_UNKNOWN_TYPE", rec(99, 0) + OK, 200,
     records=[(UNKNOWN_TYPE, 0)])
# libfcgi answers an unknown management record without skipping its content, which it then reads as the next
# header: the connection is dropped (harmless; Caddy sends no management records)
case("unknown record type 99 on the management id with content", rec(99, 0, b"abc") + OK, "dropped",
     records=[(UNKNOWN_TYPE, 0)])
case("unknown record type 99 inside the params", begin() + rec(99, 1, b"abc") + params(env()) + stream(STDIN, b""),
     "dropped")
case("unknown record type 99 inside the body", api_head(len(BAD_URL)) + rec(STDIN, 1, BAD_URL[:10]) +
     rec(99, 1, b"abc") + rec(STDIN, 1, BAD_URL[10:]) + rec(STDIN), 400)
case("FCGI_GET_VALUES gets its answer and the request goes on",
     rec(GET_VALUES, 0, nv("FCGI_MAX_CONNS", "") + nv("FCGI_MPXS_CONNS", "")) + OK, 200,
     records=[(GET_VALUES_RESULT, 0)])
case("FCGI_GET_VALUES with an absurd name length",
     rec(GET_VALUES, 0, b"\xff\xff\xff\xff\x00") + OK, "dropped")
case("role AUTHORIZER", begin(role=AUTHORIZER) + params(env()) + stream(STDIN, b""), 200)
case("role FILTER", begin(role=FILTER) + params(env()) + stream(STDIN, b"") + stream(DATA, b"filtered"), 200)
case("unknown role 99", begin(role=99) + params(env()) + stream(STDIN, b""), "dropped")
case("role 0", begin(role=0) + params(env()) + stream(STDIN, b""), "dropped")
case("a second BEGIN mid-params (multiplexing) is refused, the first goes on",
     begin() + rec(PARAMS, 1, b"".join(nv(k, v) for k, v in env())) + begin(rid=2) + rec(PARAMS) +
     stream(STDIN, b""), 200, records=[(END, 2)])
case("STDIN before the params end", begin() + rec(PARAMS, 1, nv("REQUEST_METHOD", "GET")) + stream(STDIN, b""),
     "dropped")
case("END_REQUEST from the client mid-params", begin() + rec(END, 1, b"\0" * 8) + params(env()), "dropped")
case("STDOUT from the client mid-params", begin() + rec(STDOUT, 1, b"Status: 200\r\n\r\n") + params(env()),
     "dropped")
case("STDIN for another request id is skipped", api_head(len(BAD_URL)) + rec(STDIN, 9, b"{{{{") +
     stream(STDIN, BAD_URL), 422)
case("DATA instead of STDIN", api_head(len(BAD_URL)) + stream(DATA, BAD_URL), 400)

# parameter lengths
case("name length 0x7fffffff and value length 0x7fffffff (4-byte form)",
     begin() + rec(PARAMS, 1, b"\xff\xff\xff\xff\xff\xff\xff\xff" + b"x" * 100) + rec(PARAMS) + stream(STDIN, b""),
     "dropped")
case("name length 0x7fffffff, a short value, then the end of the params",
     begin() + rec(PARAMS, 1, b"\xff\xff\xff\xff\x01" + b"x" * 50) + rec(PARAMS) + stream(STDIN, b""), "dropped")
case("name length 0x7fffffff, left open", begin() + rec(PARAMS, 1, b"\xff\xff\xff\xff\x01xx"), "dropped",
     after="hold")
case("name length 80 in a record of 12 bytes", begin() + rec(PARAMS, 1, b"\x50\x01" + b"A" * 10) + rec(PARAMS) +
     stream(STDIN, b""), "dropped")
case("value length in 4-byte form past the end of the params",
     begin() + rec(PARAMS, 1, b"\x01\x80\x01\x00\x00" + b"Ab") + rec(PARAMS) + stream(STDIN, b""), "dropped")
case("a 4-byte length cut short", begin() + rec(PARAMS, 1, b"\x81\x00") + rec(PARAMS) + stream(STDIN, b""),
     "dropped")
case("an honest 1 MiB parameter over 17 records", begin() + params(env(extra=[("HTTP_X_BIG", "b" * (1 << 20))])) +
     stream(STDIN, b""), 200)
case("10000 parameters", begin() + params(env(extra=[("HTTP_X_%d" % i, "v") for i in range(10000)])) +
     stream(STDIN, b""), 200)
case("NUL bytes inside a name and a value", begin() + params(env(extra=[("HTTP_X\0AUTH", "a\0b"),
                                                                         ("HTTP_AUTHORIZATION\0", "x")])) +
     stream(STDIN, b""), 200)
case("no parameters at all", begin() + rec(PARAMS) + stream(STDIN, b""), 404)
case("REQUEST_URI that is not a path", begin() + params([("REQUEST_METHOD", "GET"), ("REQUEST_URI", "abc")]) +
     stream(STDIN, b""), 400)
case("REQUEST_URI of 1 MiB", begin() + params([("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/" + "a" * (1 << 20))]) +
     stream(STDIN, b""), 404)
case("REQUEST_METHOD twice (the first counts)", begin() + params([("REQUEST_METHOD", "GET")] + env("DELETE")) +
     stream(STDIN, b""), 200)
case("REQUEST_METHOD empty", begin() + params(env("")) + stream(STDIN, b""), 405)

# bodies
BIG = b" " * 70000
case("STDIN over 64 KiB with CONTENT_LENGTH 70000: 413 on the socket", api_head(len(BIG)) + stream(STDIN, BIG), 413)
case("STDIN over 64 KiB with CONTENT_LENGTH -1 (chunked): 413 on the socket",
     api_head(len(BIG), cl="-1") + stream(STDIN, BIG), 413)
case("STDIN of 1 MiB without CONTENT_LENGTH: 413 on the socket",
     api_head(1 << 20, cl="") + stream(STDIN, b" " * (1 << 20)), 413)
case("CONTENT_LENGTH of 20 digits", api_head(0, cl="9" * 20) + stream(STDIN, BAD_URL), 413)
case("CONTENT_LENGTH 'abc'", api_head(0, cl="abc") + stream(STDIN, BAD_URL), 400)
case("CONTENT_LENGTH ' 29' (a space)", api_head(0, cl=" 29") + stream(STDIN, BAD_URL), 400)
case("STDIN shorter than CONTENT_LENGTH, then its end", api_head(len(BAD_URL) + 50) + stream(STDIN, BAD_URL), 400)
case("STDIN ends at once with CONTENT_LENGTH 29", api_head(len(BAD_URL)) + rec(STDIN), 400)
case("STDIN longer than CONTENT_LENGTH: only that much is read", api_head(10) + stream(STDIN, BAD_URL), 400)
case("a body that never ends: 408 after the read deadline",
     api_head(len(BAD_URL)) + rec(STDIN, 1, BAD_URL[:10]), 408, after="hold")
case("a body one byte every 0.4 s: 408 at the deadline",
     [(api_head(len(BAD_URL)), 0)] + [(rec(STDIN, 1, BAD_URL[i:i + 1]), 0.4) for i in range(6)], 408, after="hold")
case("params one byte every 0.4 s: dropped at the deadline",
     [(begin(), 0)] + [(rec(PARAMS, 1, b"\x01"), 0.4) for _ in range(6)], "dropped", after="hold")
case("connect and send nothing: dropped at the deadline", b"", "dropped", after="hold")
case("FCGI_ABORT_REQUEST mid-body", api_head(len(BAD_URL)) + rec(STDIN, 1, BAD_URL[:10]) + rec(ABORT), 400)
case("FCGI_ABORT_REQUEST mid-params", begin() + rec(PARAMS, 1, nv("REQUEST_METHOD", "GET")) + rec(ABORT),
     "dropped")
case("FCGI_ABORT_REQUEST after the whole request", request("POST", "/api/links", BAD_URL, ctype="application/json",
                                                           key=True) + rec(ABORT), 422)
case("half-close mid-body", api_head(len(BAD_URL)) + rec(STDIN, 1, BAD_URL[:10]), 400)

# the client goes away
case("connection closed right after BEGIN", begin(), None, after="close")
case("connection closed mid-params", begin() + rec(PARAMS, 1, nv("REQUEST_METHOD", "GET")), None, after="close")
case("connection closed mid-body", api_head(len(BAD_URL)) + rec(STDIN, 1, BAD_URL[:10]), None, after="close")
case("connection closed before reading the answer", OK, None, after="close")
case("connection closed before reading a 413", api_head(len(BIG)) + stream(STDIN, BIG), None, after="close")


def many_connections(path):
    socks = []
    for _ in range(100):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        socks.append(s)
    for s in socks:
        s.close()
    return []


case("100 connections opened and closed at once", b"", None, fn=many_connections)


def cut_delete(path):
    """A DELETE whose params are cut short (no empty PARAMS record, then the connection half-closed) must not
    be acted on: hop cannot know what the rest of the request said."""
    body = b'{"url":"https://example.com/sock","slug":"sock-keep"}'
    o = talk(path, [(request("POST", "/api/links", body, ctype="application/json", key=True), 0)])
    if o.status() != 201:
        return ["setup: creating sock-keep answered %r" % o.data[:120]]
    pairs = [("REQUEST_METHOD", "DELETE"), ("REQUEST_URI", "/api/links/sock-keep"),
             ("HTTP_AUTHORIZATION", "Bearer " + KEY)]
    o = talk(path, [(begin() + rec(PARAMS, 1, b"".join(nv(k, v) for k, v in pairs)), 0)], "shut")
    errs = []
    if o.status() is not None:
        errs.append("the cut request was answered with Status %d" % o.status())
    o = talk(path, [(request("GET", "/sock-keep"), 0)])
    if o.status() != 302:
        errs.append("the link was deleted: GET /sock-keep answers %r" % o.status())
    return errs


case("a DELETE whose params are cut short is not acted on", b"", None, fn=cut_delete)


def read_answer(s, limit):
    """Read from socket S until an FCGI_END_REQUEST arrives, EOF, or LIMIT seconds: (Outcome, how it ended)."""
    o = Outcome()
    s.settimeout(limit)
    try:
        while not any(t == END for t, _, _ in o.records()):
            d = s.recv(65536)
            if not d:
                return o, "closed"
            o.data += d
    except socket.timeout:
        return o, "timeout"
    except OSError:
        return o, "closed"
    return o, "answered"


def keep_conn_once(path):
    """FCGI_KEEP_CONN on a request: it is answered; the client then closes, and (checked by the aftermath) the
    worker must not keep the descriptor."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    try:
        s.sendall(begin(flags=KEEP_CONN) + params(env()) + stream(STDIN, b""))
        o, how = read_answer(s, 5)
    finally:
        s.close()
    return [] if o.status() == 200 else ["no 200 answer (%s): %r" % (how, o.data[:100])]


def keep_conn_second(path):
    """FCGI_KEEP_CONN, then a second request on the same connection: it is answered, or the connection is
    closed; it is never left open and unanswered."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    try:
        s.sendall(begin(flags=KEEP_CONN) + params(env()) + stream(STDIN, b""))
        o, how = read_answer(s, 5)
        if o.status() != 200:
            return ["the first request: no 200 answer (%s): %r" % (how, o.data[:100])]
        try:
            s.sendall(begin(rid=2, flags=KEEP_CONN) + params(env(), rid=2) + stream(STDIN, b"", rid=2))
        except OSError:
            return []  # closed: hop does not keep connections, and says so by closing
        o, how = read_answer(s, 3)
        if how == "timeout":
            return ["the second request was neither answered nor closed within 3 s (the connection is held open)"]
        if how == "answered" and o.status() != 200:
            return ["the second request answered %r" % o.data[:100]]
        return []
    finally:
        s.close()


case("FCGI_KEEP_CONN: answered, and the descriptor is not kept once the client closes", b"", None,
     fn=keep_conn_once)
case("FCGI_KEEP_CONN: a second request on the same connection is answered or closed", b"", None,
     fn=keep_conn_second)

# The password form straight at the socket, where no Caddy supplies a content type: a protected link, then its
# form with no CONTENT_TYPE (415), with a wrong one (415) and with the form type (401: a wrong password).
PW_LINK = b'{"url":"https://example.com/sock","slug":"hx-sock-pw","password":"socket pass"}'
case("form: create a protected link", request("POST", "/api/links", PW_LINK, ctype="application/json", key=True), 201)
case("form: no CONTENT_TYPE at all", request("POST", "/hx-sock-pw", b"password=socket+pass"), 415)
case("form: CONTENT_TYPE text/plain", request("POST", "/hx-sock-pw", b"password=socket+pass", ctype="text/plain"),
     415)
case("form: a wrong password", request("POST", "/hx-sock-pw", b"password=nope", ctype="application/x-www-form-urlencoded"),
     401)

# ---- running them -----------------------------------------------------------------------------------------------

class Pool:
    def __init__(self, log, master):
        self.log = log
        self.master = master
        self.deaths = self.log_deaths()
        self.fds = self.fd_count()

    def log_deaths(self):
        with open(self.log, "rb") as f:
            return sum(1 for line in f if b'msg="worker died"' in line)

    def fd_count(self):
        out = {}
        try:
            with open("/proc/%d/task/%d/children" % (self.master, self.master)) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                out[pid] = len(os.listdir("/proc/%d/fd" % pid))
            except OSError:
                pass
        return out

    def aftermath(self, sock_path):
        errs = []
        # the pool still answers a normal request on the socket (a worker may still be busy for up to the deadline
        # with a connection the case left behind; another one answers)
        o = talk(sock_path, [(OK, 0)])
        if o.status() != 200:
            errs.append("afterwards a normal request got %r" % o.data[:120])
        deadline = time.monotonic() + 3.0
        while True:
            now = self.fd_count()
            grown = {p: (self.fds[p], n) for p, n in now.items() if p in self.fds and n > self.fds[p]}
            if not grown or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if grown:
            errs.append("descriptors leaked: " + ", ".join("worker %d: %d -> %d" % (p, a, b)
                                                           for p, (a, b) in grown.items()))
        self.fds = now
        time.sleep(0.05)  # the master logs a death once it has reaped the worker
        deaths = self.log_deaths()
        if deaths > self.deaths:
            errs.append("%d worker(s) died" % (deaths - self.deaths))
        self.deaths = deaths
        return errs


def run_case(pool, path, name, pieces, expect, after, records, fn):
    errs = []
    note = ""
    if fn is not None:
        errs += fn(path)
    else:
        o = talk(path, pieces, after)
        got = o.status()
        if after == "hold" or expect in ("dropped", 408):
            note = " (%s after %.1f s)" % ("answered" if got else "closed" if o.eof else "still open", o.seconds)
        if expect == "dropped":
            if got is not None:
                errs.append("answered Status %d, want the connection dropped" % got)
            elif not o.eof:
                errs.append("the connection is still open after %.0f s" % o.seconds)
        elif expect is not None:
            if got != expect:
                errs.append("Status %r, want %d; reply %r" % (got, expect, o.data[:160]))
            elif not any(t == END for t, _, _ in o.records()):
                errs.append("no FCGI_END_REQUEST after the answer")
        if expect is not None and got is not None and got >= 500:
            errs.append("a 5xx answer")
        for rtype, rid in records:
            if not any(t == rtype and r == rid for t, r, _ in o.records()):
                errs.append("no record of type %d for request %d in the reply" % (rtype, rid))
    errs += pool.aftermath(path)
    return errs, note


def main():
    path = os.environ["HOSTILE_SOCKET"]
    pool = Pool(os.environ["HOSTILE_LOG"], int(os.environ["HOSTILE_MASTER"]))
    passed, failed = 0, []
    t0 = time.monotonic()
    for name, pieces, expect, after, records, fn in CASES:
        t1 = time.monotonic()
        errs, note = run_case(pool, path, name, pieces, expect, after, records, fn)
        if time.monotonic() - t1 >= 0.5:
            note += " [case took %.1f s]" % (time.monotonic() - t1)
        if errs:
            failed.append("socket: " + name)
            print("FAIL - socket: %s%s: %s" % (name, note, "; ".join(errs)), flush=True)
        else:
            passed += 1
            print("ok   - socket: %s%s" % (name, note), flush=True)
    print("socket set: %d cases in %.1f s" % (len(CASES), time.monotonic() - t0))
    with open(os.environ["HOSTILE_RESULT"], "w") as f:
        json.dump({"passed": passed, "failed": failed}, f)
    print("socket set: %d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
