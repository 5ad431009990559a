#!/usr/bin/env python3
"""A FastCGI client for tests that must misbehave on purpose: one request straight at a responder's socket,
with a body that may be shorter than its CONTENT_LENGTH, dripped slowly, or cut off without its end record.
Python standard library only.

Prints one line: "status N" (the CGI Status of the answer; 200 when the answer has none), or "dropped"
when the responder closed the connection without an answer, or "timeout" when nothing came within
--timeout seconds. Then the answer's body on the following lines when --show-body is given.
"""
import argparse
import select
import socket
import struct
import sys
import time

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1


def record(rtype, content, req_id=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", 1, rtype, req_id, len(content), pad, 0) + content + b"\0" * pad


def name_len(n):
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(pairs):
    out = b""
    for k, v in pairs:
        out += name_len(len(k)) + name_len(len(v)) + k + v
    return out


def read_answer(sock, deadline):
    """Reads records until END_REQUEST or EOF; returns (stdout bytes, ended, timed_out)."""
    buf, out = b"", b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out, False, True
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return out, False, True
        except (ConnectionResetError, BrokenPipeError):
            return out, False, False
        if not chunk:
            return out, False, False
        buf += chunk
        while len(buf) >= 8:
            _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
            if len(buf) < 8 + clen + plen:
                break
            content = buf[8 : 8 + clen]
            buf = buf[8 + clen + plen :]
            if rtype == STDOUT:
                out += content
            elif rtype == END_REQUEST:
                return out, True, False


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("socket", help="path of the responder's Unix socket, or HOST:PORT for TCP")
    p.add_argument("--method", default="GET")
    p.add_argument("--uri", default="/healthz", help="REQUEST_URI (with query); PATH_INFO is its path")
    p.add_argument("--header", action="append", default=[], help="NAME=VALUE, sent as HTTP_NAME")
    p.add_argument("--content-type", default=None)
    p.add_argument("--body", default="", help="the bytes sent on FCGI_STDIN")
    p.add_argument("--content-length", type=int, default=None, help="CONTENT_LENGTH to claim (default: the body's)")
    p.add_argument("--drip", type=float, default=0.0, help="seconds between body bytes (one STDIN record each)")
    p.add_argument("--no-eof", action="store_true", help="never send the empty STDIN record that ends the body")
    p.add_argument("--close-after-body", action="store_true", help="close the connection right after the body")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer in all")
    p.add_argument("--show-body", action="store_true")
    a = p.parse_args()

    body = a.body.encode()
    clen = len(body) if a.content_length is None else a.content_length
    path = a.uri.split("?", 1)[0]
    query = a.uri.split("?", 1)[1] if "?" in a.uri else ""
    pairs = [
        (b"REQUEST_METHOD", a.method.encode()),
        (b"REQUEST_URI", a.uri.encode()),
        (b"PATH_INFO", path.encode()),
        (b"QUERY_STRING", query.encode()),
        (b"SCRIPT_NAME", b""),
        (b"SERVER_PROTOCOL", b"HTTP/1.1"),
        (b"REMOTE_ADDR", b"127.0.0.1"),
        (b"HTTPS", b"on"),
        (b"HTTP_HOST", b"localhost"),
    ]
    if a.method not in ("GET", "HEAD") or body or a.content_length is not None:
        pairs.append((b"CONTENT_LENGTH", str(clen).encode()))
    if a.content_type:
        pairs.append((b"CONTENT_TYPE", a.content_type.encode()))
    for h in a.header:
        k, _, v = h.partition("=")
        pairs.append((b"HTTP_" + k.upper().replace("-", "_").encode(), v.encode()))

    deadline = time.monotonic() + a.timeout
    if a.socket.startswith("/") or ":" not in a.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr = a.socket
    else:
        host, _, port = a.socket.rpartition(":")
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        addr = (host.strip("[]"), int(port))
    s.settimeout(a.timeout)
    s.connect(addr)
    try:
        s.sendall(record(BEGIN_REQUEST, struct.pack(">HB5x", RESPONDER, 0)))
        s.sendall(record(PARAMS, encode_params(pairs)) + record(PARAMS, b""))
        if a.drip > 0:
            for i in range(len(body)):
                s.sendall(record(STDIN, body[i : i + 1]))
                # stop dripping as soon as the responder answers or hangs up
                if time.monotonic() >= deadline or select.select([s], [], [], a.drip)[0]:
                    break
        elif body:
            s.sendall(record(STDIN, body))
        if a.close_after_body:
            s.close()
            print("closed")
            return 0
        if not a.no_eof:
            s.sendall(record(STDIN, b""))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the responder gave up on us: what it answered, if anything, is still readable
    out, ended, timed_out = read_answer(s, deadline)
    s.close()
    if not out:
        print("timeout" if timed_out else "dropped")
        return 0
    head, _, resp_body = out.partition(b"\r\n\r\n")
    status = 200
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"status:"):
            status = int(line.split(b":", 1)[1].split()[0])
    print("status %d" % status)
    if a.show_body:
        sys.stdout.write(resp_body.decode("utf-8", "replace") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
