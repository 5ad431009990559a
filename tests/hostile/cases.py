"""The hostile-input battery's cases, in the order they run (hostile.py runs them through Caddy over HTTPS).

Each case is one HTTP/1.1 request, written as the exact bytes that go on the wire, and the exact status that
must come back. Placeholders, replaced when a request is built (before its Content-Length is counted), from the
environment run.sh sets: @HOST@ (localhost:PORT, the site's own host), @PORT@, @KEY@ (owner alice's API key),
@KEY2@ (owner bob's), @REVOKED@ (a revoked key).

Fields of a case (see Case below): `expect` the status; `front` when Go's HTTP server answers by itself, before
any Caddy route runs (then the answer carries no X-Request-Id: hop never saw the request, and the runner
checks that the pool was not harmed), or "caddy" when a Caddy handler refuses it (the Caddyfile's handle_errors
gives it a problem body and an X-Request-Id of Caddy's that hop's log must not hold); `problem` whether a problem+json body is due (default: hop answered with >= 400);
`field` a name the problem's `errors` list must hold; `creates` the URL a 201 must have stored (the runner then
follows the new short link and checks that Location is exactly that URL); `rid` the X-Request-Id that must be
echoed ("gen" when a generated one is due instead); `checks` more checks on the response; `effect` how a
successful PATCH or DELETE changes what the links table must hold at the end.
"""

import json
import os

CASES = []
_NAMES = set()

KEY = "@KEY@"
KEY2 = "@KEY2@"
JSON_CT = "application/json"

# Fixture links made by the first cases; later cases redirect to, patch, delete and collide with them.
FIXTURE_URL = "https://example.com/fixture"
ABC_URL = "https://example.com/Abc"


_PORT = os.environ.get("HOSTILE_BASE", "https://localhost:8443").rsplit(":", 1)[1]
_FILL = [(b"@HOST@", b"localhost:" + _PORT.encode()), (b"@PORT@", _PORT.encode()),
         (b"@KEY2@", os.environ.get("HOSTILE_KEY2", "hop_key2").encode()),
         (b"@KEY@", os.environ.get("HOSTILE_KEY", "hop_key").encode()),
         (b"@REVOKED@", os.environ.get("HOSTILE_REVOKED", "hop_revoked").encode())]


def fill(x):
    """X (str or bytes) as bytes with the placeholders replaced."""
    x = b(x)
    for k, v in _FILL:
        x = x.replace(k, v)
    return x


class Case:
    def __init__(self, name, raw, expect, front=False, problem=None, field=None, creates=None, redirect=302,
                 rid=None, checks=(), effect=None, head=False, shut=False, allow=None):
        assert name not in _NAMES, "duplicate case name " + name
        # hop never answers bad input with a 5xx; only the front end may (Go's 501/505 for what HTTP/1.1 has no
        # place for), and then the case says so with front=True
        assert expect < 500 or front, name
        _NAMES.add(name)
        self.name = name
        self.raw = fill(raw)
        self.expect = expect
        self.front = front
        self.problem = (not front and expect >= 400) if problem is None else problem
        self.field = field
        self.creates = None if creates is None else fill(creates).decode("utf-8")
        self.redirect = redirect
        self.rid = rid
        self.checks = list(checks)
        self.effect = effect
        self.head = head
        self.shut = shut
        self.allow = allow
        CASES.append(self)


def b(x):
    return x if isinstance(x, bytes) else x.encode("utf-8")


def request(method, target, headers=(), body=None, key=None, ct=None, cl=True, chunked=None, host=True,
            version=b"HTTP/1.1", close=True):
    """The bytes of one request. key: an API key (placeholder) for a Bearer header. cl: True for an honest
    Content-Length, False for none, or the raw value to send. chunked: send the body in chunks of this size."""
    lines = [b(method) + b" " + fill(target) + b" " + b(version)]
    if host is True:
        lines.append(b"Host: @HOST@")
    elif host:
        lines.append(b"Host: " + b(host))
    if key is not None:
        lines.append(b"Authorization: Bearer " + b(key))
    if ct is not None:
        lines.append(b"Content-Type: " + b(ct))
    lines += [fill(h) for h in headers]
    lines = [fill(line) for line in lines]
    payload = b""
    if body is not None:
        body = fill(body)
        if chunked:
            lines.append(b"Transfer-Encoding: chunked")
            payload = chunk(body, chunked)
        else:
            payload = body
            if cl is True:
                lines.append(b"Content-Length: %d" % len(body))
            elif cl is not False:
                lines.append(b"Content-Length: " + b(cl))
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload


def chunk(body, size):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def js(obj):
    """Compact JSON; non-ASCII goes in raw (UTF-8), control characters as escapes, as JSON requires."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


# ---- shorthands ----------------------------------------------------------------------------------------------

def get(name, target, expect, headers=(), **kw):
    return Case(name, request("GET", target, headers), expect, **kw)


def api(name, method, target, expect, body=None, key=KEY, ct=None, headers=(), **kw):
    if body is not None and ct is None:
        ct = JSON_CT
    raw = request(method, target, headers, body, key=key, ct=ct, cl=kw.pop("cl", True),
                  chunked=kw.pop("chunked", None))
    return Case(name, raw, expect, head=method == "HEAD", **kw)


def create(name, body, expect, key=KEY, ct=JSON_CT, headers=(), **kw):
    """POST /api/links. A dict body is sent as compact JSON."""
    if isinstance(body, dict):
        body = js(body)
    return api(name, "POST", "/api/links", expect, body=body, key=key, ct=ct, headers=headers, **kw)


def url_case(name, url, expect, **kw):
    """Create a link to URL: a 201 must store it exactly, anything else must store nothing."""
    if expect == 201:
        kw.setdefault("creates", url)
    else:
        kw.setdefault("field", "url")
    return create(name, {"url": url}, expect, **kw)


def front(name, raw, expect, **kw):
    return Case(name, raw, expect, front=True, **kw)


def caddy(name, raw, expect, **kw):
    return Case(name, raw, expect, front="caddy", problem=True, **kw)


def location_is(want):
    def check(resp):
        got = resp.header("location")
        if got != b(want):
            return "Location is %r, want %r" % (got, b(want))
        return None
    return check


def body_lacks(text):
    def check(resp):
        if b(text) in resp.body:
            return "the body holds %r" % text
        return None
    return check


def no_link_list(resp):
    """An unauthenticated request must not see a list of links, whatever its path."""
    return "the body is a list of links" if b'"links"' in resp.body else None


# ==== setup: links the later cases use ========================================================================

create("setup: create the fixture link hx-fixture", {"url": FIXTURE_URL, "slug": "hx-fixture"}, 201,
       creates=FIXTURE_URL)
create("setup: create link Abc (for percent-decoded paths)", {"url": ABC_URL, "slug": "Abc"}, 201, creates=ABC_URL)
create("setup: create bob's link hx-bob", {"url": "https://example.org/bob", "slug": "hx-bob"}, 201, key=KEY2,
       creates="https://example.org/bob")
create("setup: create hx-patch (patched later)", {"url": "https://example.com/before", "slug": "hx-patch"}, 201,
       creates="https://example.com/before")
create("setup: create hx-del (deleted later)", {"url": "https://example.com/del", "slug": "hx-del"}, 201,
       creates="https://example.com/del")

# ==== the path: percent-encoding =================================================================================

front("path %zz: Go's HTTP server answers 400", request("GET", "/%zz"), 400)
front("path lone %: Go's HTTP server answers 400", request("GET", "/%"), 400)
front("path %0 (one hex digit): Go's HTTP server answers 400", request("GET", "/%0"), 400)
caddy("path %00: Caddy answers 400", request("GET", "/%00"), 400)
caddy("path a%00b inside a slug: Caddy answers 400", request("GET", "/hx-fix%00ture"), 400)
front("api path %zz: Go's HTTP server answers 400", request("GET", "/api/links/%zz", key=KEY), 400)
caddy("api path %00: Caddy answers 400", request("GET", "/api/links/%00", key=KEY), 400)
get("path overlong UTF-8 %c0%af (a '/' in disguise) is no slug", "/%c0%af", 404)
get("path overlong UTF-8 ..%c0%af..%c0%afetc", "/..%c0%af..%c0%afetc%c0%afpasswd", 404)
get("path %ff is no slug", "/%ff", 404)
get("path %ed%a0%80 (UTF-8 surrogate) is no slug", "/%ed%a0%80", 404)
get("path %f8%88%80%80%80 (5-byte UTF-8) is no slug", "/%f8%88%80%80%80", 404)
get("path %c3%a4 (valid UTF-8, not the slug alphabet)", "/%c3%a4", 404)
api("api path overlong UTF-8 %c0%af with a key", "GET", "/api/links/%c0%af", 404)
api("api path overlong UTF-8 %c0%af without a key", "GET", "/api/links/%c0%af", 401, key=None)
api("api path %ff with a key", "GET", "/api/links/%ff", 404)
api("api path %ff: PATCH", "PATCH", "/api/links/%ff", 404, body=b"{}")
api("api path %ff: DELETE", "DELETE", "/api/links/%ff", 404)
api("api path %ff: stats", "GET", "/api/links/%ff/stats", 404)
api("api path %c3%28 (invalid UTF-8 pair)", "GET", "/api/links/%c3%28", 404)
api("api path raw byte 0xff", "GET", b"/api/links/\xff", 404)
api("api path %c3%a4 (valid UTF-8)", "GET", "/api/links/%c3%a4", 404)
get("path /%41bc is /Abc and redirects", "/%41bc", 302, checks=[location_is(ABC_URL)])
get("path /%41%62%63 all encoded redirects to Abc", "/%41%62%63", 302, checks=[location_is(ABC_URL)])
get("path /hx%2dfixture (lower-case hex) redirects", "/hx%2dfixture", 302, checks=[location_is(FIXTURE_URL)])
get("path /%2541bc is decoded once only", "/%2541bc", 404)
api("path /%61pi/links is /api/links: 401 without a key", "GET", "/%61pi/links", 401, key=None,
    checks=[no_link_list])
api("path /%61pi/links is /api/links: 200 with a key", "GET", "/%61pi/links", 200)
api("path /api/links%2fhx-fixture decodes to the link", "GET", "/api/links%2fhx-fixture", 200)
api("path /api/links/hx-fixture/stat%73 decodes to stats", "GET", "/api/links/hx-fixture/stat%73", 200)
get("path %0d%0a with a header after it: 404, nothing injected", "/%0d%0aX-Injected:%201", 404)
api("api path %0d%0aSet-Cookie: 404, nothing injected", "GET", "/api/links/%0d%0aSet-Cookie:%20a=b", 404)
get("path %09 (tab) is no slug", "/a%09b", 404)
get("path %20 (space) is no slug", "/a%20b", 404)
get("path raw UTF-8 bytes", b"/\xc3\xa4", 404)
get("path raw byte 0xff", b"/\xff", 404)
get("path raw backslash", "/a\\b", 404)
front("path raw space: Go's HTTP server answers 400", request("GET", "/a b"), 400)
front("path raw control byte 0x01: Go's HTTP server answers 400", request("GET", b"/\x01"), 400)
front("path raw DEL 0x7f: Go's HTTP server answers 400", request("GET", b"/\x7f"), 400)
front("path raw tab: Go's HTTP server answers 400", request("GET", b"/a\tb"), 400)
front("empty request target: Go's HTTP server answers 400", request("GET", b""), 400)
get("path with a raw #fragment is no slug", "/healthz#frag", 404)
get("absolute-form target for our own host", "https://@HOST@/healthz", 200)
front("absolute-form target for another host: Caddy has no such site (empty 200)",
      request("GET", "https://evil.example/healthz"), 200)
get("asterisk-form target on GET is not a path", "*", 400)
front("OPTIONS *: Go's HTTP server answers 200", request("OPTIONS", "*"), 200)
# Caddy hands hop the path "/", which now has a route (a domain's root): any other method is a 405
Case("CONNECT authority-form target", request("CONNECT", "localhost:443"), 405, allow="GET, HEAD")

# ==== the path: size =============================================================================================

get("path of 8 KiB", "/" + "a" * 8191, 404)
get("path of 64 KiB", "/" + "a" * 65535, 404)
get("path of 512 KiB", "/" + "a" * (512 * 1024), 404)
get("path of 1000 KiB (just under Go's header limit)", "/" + "a" * (1000 * 1024), 404)
front("path of 2 MiB: Go's HTTP server answers 431", request("GET", "/" + "a" * (2 * 1024 * 1024)), 431)
api("api path of 8 KiB with a key", "GET", "/api/links/" + "a" * 8192, 404)
api("api path of 64 KiB without a key", "GET", "/api/links/" + "a" * 65536, 401, key=None)
get("path of 32768 segments (64 KiB)", "/a" * 32768, 404)
get("path of 20000 percent-escapes", "/" + "%41" * 20000, 404)
api("stats path with 60 KiB more segments", "GET", "/api/links/hx-fixture/stats/" + "x" * 61440, 404)
get("slug of 64 characters (longest allowed, unknown)", "/" + "s" * 64, 404)
get("slug of 65 characters", "/" + "s" * 65, 404)

# ==== the path: dot segments (hop routes the path as sent; Caddy does not clean it) ===========================

api("dot: /api/../healthz without a key is under /api", "GET", "/api/../healthz", 401, key=None)
api("dot: /x/../api/links without a key lists nothing", "GET", "/x/../api/links", 404, key=None,
    checks=[no_link_list])
api("dot: /x/../api/links with a key is not normalised", "GET", "/x/../api/links", 404)
api("dot: /./api/links without a key lists nothing", "GET", "/./api/links", 404, key=None, checks=[no_link_list])
api("dot: /api/./links without a key", "GET", "/api/./links", 401, key=None)
api("dot: /api/./links with a key", "GET", "/api/./links", 404)
api("dot: /%2e%2e/api/links without a key", "GET", "/%2e%2e/api/links", 404, key=None, checks=[no_link_list])
api("dot: /api/links/%2e%2e with a key", "GET", "/api/links/%2e%2e", 404)
api("dot: /api/links/.. with a key", "GET", "/api/links/..", 404)
api("dot: /api/links/hx-fixture/.. with a key", "GET", "/api/links/hx-fixture/..", 404)
api("dot: /api/links/hx-bob/../hx-fixture with a key", "GET", "/api/links/hx-bob/../hx-fixture", 404)
get("dot: /../../../../etc/passwd", "/../../../../etc/passwd", 404)
get("dot: encoded %2e%2e%2f traversal", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404)
get("dot: /healthz/.", "/healthz/.", 404)
get("dot: /./healthz", "/./healthz", 404)
get("dot: /.", "/.", 404)
get("dot: /..", "/..", 404)
get("dot: /hx-fixture/..", "/hx-fixture/..", 404)
api("dot: //api/links without a key", "GET", "//api/links", 404, key=None, checks=[no_link_list])
get("dot: backslash traversal", "/..\\..\\etc\\passwd", 404)

# ==== the query string ===========================================================================================

MANY = "&".join("p%d=v%d" % (i, i) for i in range(5000))
api("query: 5000 unknown parameters are ignored", "GET", "/api/links?" + MANY, 200)
api("query: 50000 unknown parameters (440 KB) are ignored", "GET",
    "/api/links?" + "&".join("q%d=%d" % (i, i) for i in range(50000)), 200)
get("query: 5000 parameters on a redirect", "/hx-fixture?" + MANY, 302, checks=[location_is(FIXTURE_URL)])
get("query: %zz on a redirect", "/hx-fixture?x=%zz&%00", 302, checks=[location_is(FIXTURE_URL)])
api("query: limit twice", "GET", "/api/links?limit=1&limit=2", 400, field="limit")
api("query: limit 10000 times", "GET", "/api/links?" + "&".join(["limit=5"] * 10000), 400, field="limit")
api("query: limit twice among 5000 others", "GET", "/api/links?limit=1&" + MANY + "&limit=1", 400, field="limit")
api("query: cursor twice", "GET", "/api/links?cursor=a&cursor=b", 400, field="cursor")
api("query: cursor garbage", "GET", "/api/links?cursor=%21%21garbage", 400, field="cursor")
api("query: cursor empty", "GET", "/api/links?cursor=", 400, field="cursor")
api("query: cursor of 10 KiB", "GET", "/api/links?cursor=" + "A" * 10240, 400, field="cursor")
api("query: cursor %00", "GET", "/api/links?cursor=%00", 400, field="cursor")
api("query: cursor %zz", "GET", "/api/links?cursor=%zz", 400, field="cursor")
for label, value in [("0", "0"), ("201", "201"), ("-1", "-1"), ("abc", "abc"), ("1.5", "1.5"), ("empty", ""),
                     ("1e2", "1e2"), ("0x10", "0x10"), ("7 digits", "0000001"), ("+5", "%2B5"),
                     ("'1 ' (plus is a space)", "1+"), ("%zz", "%zz"), ("1%00", "1%00"),
                     ("23 digits", "9" * 23), ("no '='", None)]:
    target = "/api/links?limit" + ("" if value is None else "=" + value)
    api("query: limit " + label, "GET", target, 400, field="limit")
api("query: limit 200", "GET", "/api/links?limit=200", 200)
api("query: limit 1", "GET", "/api/links?limit=1", 200)
api("query: limit 0001 (6 characters)", "GET", "/api/links?limit=0001", 200)
api("query: limit %31 (encoded 1)", "GET", "/api/links?limit=%31", 200)
api("query: lim%69t=0 is limit", "GET", "/api/links?lim%69t=0", 400, field="limit")
api("query: LIMIT=0 is another parameter", "GET", "/api/links?LIMIT=0", 200)
api("query: limit=1;limit=2 (a semicolon is no separator)", "GET", "/api/links?limit=1;limit=2", 400,
    field="limit")
api("query: unknown parameter with %zz is ignored", "GET", "/api/links?foo=%zz", 200)
api("query: raw byte 0xff", "GET", b"/api/links?a=\xff", 200)
api("query: only ampersands", "GET", "/api/links?&&&&&&", 200)
api("query: a value of 100 KiB", "GET", "/api/links?x=" + "a" * 102400, 200)
for label, value, status in [("0", "0", 400), ("367", "367", 400), ("366", "366", 200), ("abc", "abc", 400),
                             ("twice", "1&days=2", 400), ("-1", "-1", 400)]:
    api("query: stats days " + label, "GET", "/api/links/hx-fixture/stats?days=" + value, status,
        field="days" if status == 400 else None)

# the stats API's parameters: each refused with a 400 that names it (and the limit it passed)
for label, query, field in [
        ("tz=../../etc/passwd", "tz=../../etc/passwd", "tz"),
        ("tz of 10 KiB", "tz=" + "A" * 10240, "tz"),
        ("tz with %00", "tz=UTC%00", "tz"),
        ("from after to", "from=2026-02-01&to=2026-01-01", "from"),
        ("ten years hourly", "from=2016-01-01&to=2025-12-31&granularity=hour", "from"),
        ("ten years daily", "from=2016-01-01&to=2025-12-31", "from"),
        ("from not a date", "from=yesterday", "from"),
        ("from 2026-02-30", "from=2026-02-30", "from"),
        ("to with junk after the time", "to=2026-01-01T00:00:00Zjunk", "to"),
        ("granularity=minute", "granularity=minute", "granularity"),
        ("bots=yes", "bots=yes", "bots"),
        ("days with from", "days=3&from=2026-01-01", "days")]:
    api("query: stats " + label, "GET", "/api/links/hx-fixture/stats?" + query, 400, field=field)
    api("query: owner stats " + label, "GET", "/api/stats?" + query, 400, field=field)
api("query: stats 31 days hourly", "GET",
    "/api/links/hx-fixture/stats?from=2026-01-01&to=2026-01-31&granularity=hour", 200)
api("query: stats as CSV", "GET", "/api/links/hx-fixture/stats", 200, headers=["Accept: text/csv"])

# ==== headers ====================================================================================================

get("header: one of 100 KiB", "/healthz", 200, headers=["X-Big: " + "b" * 102400])
get("header: one of 900 KiB", "/healthz", 200, headers=["X-Big: " + "b" * (900 * 1024)])
front("header: one of 2 MiB: Go's HTTP server answers 431",
      request("GET", "/healthz", ["X-Big: " + "b" * (2 * 1024 * 1024)]), 431)
get("header: 10000 different headers", "/healthz", 200, headers=["X-H%d: v" % i for i in range(10000)])
get("header: one header repeated 20000 times", "/healthz", 200, headers=["X-Rep: aaaa"] * 20000)
get("header: X-Request-Id repeated 1000 times", "/healthz", 200, headers=["X-Request-Id: abc"] * 1000, rid="gen")
front("header: name with a space: Go answers 400", request("GET", "/healthz", ["X Bad: 1"]), 400)
front("header: line without a colon: Go answers 400", request("GET", "/healthz", ["NoColonHere"]), 400)
front("header: name in UTF-8: Go answers 400", request("GET", "/healthz", [b"X-\xc3\xa4: 1"]), 400)
front("header: value with NUL: Go answers 400", request("GET", "/healthz", [b"X-Nul: a\x00b"]), 400)
front("header: value with a bare CR: Go answers 400", request("GET", "/healthz", [b"X-Cr: a\rb"]), 400)
get("header: obs-fold continuation line", "/healthz", 200, headers=["X-Fold: a", " b"])
Case("header: bare LF line endings", request("GET", "/healthz").replace(b"\r\n", b"\n"), 200)
front("header: no Host: Go answers 400", request("GET", "/healthz", host=None), 400)
front("header: two Host headers: Go answers 400", request("GET", "/healthz", ["Host: @HOST@"]), 400)
front("header: unknown Host: Caddy has no such site (empty 200)", request("GET", "/healthz", host="evil.example"),
      200)
front("HTTP/1.0 without Host: Caddy has no such site (empty 200)",
      request("GET", "/healthz", host=None, version="HTTP/1.0", close=False), 200)
front("HTTP/0.9 request line: Go answers 400", b"GET /healthz\r\n\r\n", 400)
front("HTTP/9.9: Go answers 505", request("GET", "/healthz", version="HTTP/9.9"), 505)
front("Expect: junk: Go answers 417", request("GET", "/healthz", ["Expect: junk"]), 417)
create("Expect: 100-continue on a create", {"url": "https://example.com/continue"}, 201,
       headers=["Expect: 100-continue"], creates="https://example.com/continue")
get("header: CR LF inside a value is two request headers, none echoed", "/healthz", 200,
    headers=["X-Foo: a", "Set-Cookie: injected=1", "X-Injected: 1"])
get("header: Referer of 100 KiB on a redirect", "/hx-fixture", 302,
    headers=["Referer: https://" + "r" * 102400 + ".example/"], checks=[location_is(FIXTURE_URL)])
get("header: Referer with raw bytes 0x80-0xff", "/hx-fixture", 302,
    headers=[b"Referer: http://\xff\xfe\x80/x"], checks=[location_is(FIXTURE_URL)])
get("header: Referer javascript:", "/hx-fixture", 302, headers=["Referer: javascript:alert(1)"],
    checks=[location_is(FIXTURE_URL)])
get("header: Referer %00 host", "/hx-fixture", 302, headers=["Referer: http://a%00b/"],
    checks=[location_is(FIXTURE_URL)])
# analytics (issue 13): what a visitor sends is classified and counted, never stored raw, never a 5xx
get("header: User-Agent of 8 KiB on a redirect", "/hx-fixture", 302,
    headers=["User-Agent: Mozilla/5.0 " + "u" * 8192], checks=[location_is(FIXTURE_URL)])
# control bytes in a header never reach hop: Go's HTTP server refuses them (tests/unit/test_ua.c has them)
front("header: User-Agent with control bytes: Go answers 400",
      request("GET", "/hx-fixture", [b"User-Agent: Mozilla/5.0 \x01\x02\x1b[31m\x7f (X11) Firefox/121.0"]), 400)
get("header: User-Agent with a tab on a redirect", "/hx-fixture", 302,
    headers=[b"User-Agent: Mozilla/5.0\t(X11)\tFirefox/121.0"], checks=[location_is(FIXTURE_URL)])
get("header: User-Agent of raw bytes 0x80-0xff", "/hx-fixture", 302,
    headers=[b"User-Agent: \xff\xfe\x80\xc3\x28 Mozilla/5.0"], checks=[location_is(FIXTURE_URL)])
get("header: empty User-Agent on a redirect", "/hx-fixture", 302, headers=["User-Agent:"],
    checks=[location_is(FIXTURE_URL)])
get("query: invalid UTF-8 and NUL in UTM values", "/hx-fixture?utm_source=%FF%FE&utm_medium=a%00b&utm_campaign=%C3",
    302, checks=[location_is(FIXTURE_URL)])
get("query: a UTM value of 100 KiB", "/hx-fixture?utm_campaign=" + "c" * 102400, 302,
    checks=[location_is(FIXTURE_URL)])
get("header: X-Forwarded-For junk", "/healthz", 200, headers=["X-Forwarded-For: ::::, \xff, <script>"])
api("header: Content-Type text/plain on a GET is ignored", "GET", "/api/links", 200, ct="text/plain")

# ==== Authorization ==============================================================================================

AUTH = "/api/links"
api("auth: no Authorization", "GET", AUTH, 401, key=None, checks=[no_link_list])
api("auth: valid key", "GET", AUTH, 200)
for label, value in [("scheme in lower case", "bearer @KEY@"), ("scheme in upper case", "BEARER @KEY@"),
                     ("scheme in mixed case", "bEaReR @KEY@"), ("two spaces", "Bearer  @KEY@"),
                     ("a tab", "Bearer\t@KEY@"), ("trailing spaces", "Bearer @KEY@   ")]:
    api("auth: " + label, "GET", AUTH, 200, key=None, headers=["Authorization: " + value])
api("auth: obs-fold between scheme and key", "GET", AUTH, 200, key=None,
    headers=["Authorization: Bearer", " @KEY@"])
for label, value in [("Basic", "Basic dXNlcjpwYXNz"), ("scheme only", "Bearer"), ("empty token", "Bearer "),
                     ("no space", "Bearer@KEY@"), ("key plus one character", "Bearer @KEY@x"),
                     ("key with '=' padding", "Bearer @KEY@=="), ("key in quotes", 'Bearer "@KEY@"'),
                     ("two credentials", "Bearer @KEY@, Basic eA=="), ("key repeated", "Bearer @KEY@ @KEY@"),
                     ("token of 10 KiB", "Bearer hop_" + "A" * 10240), ("token of 900 KiB", "Bearer " + "A" * 921600),
                     ("revoked key", "Bearer @REVOKED@"), ("key shape, unknown", "Bearer hop_" + "A" * 32),
                     ("prefix in upper case", "Bearer HOP_" + "A" * 32), ("only '='", "Bearer ====="),
                     ("token with a comma", "Bearer hop_AAAA,BBBB"), ("Digest", 'Digest username="a"')]:
    api("auth: " + label, "GET", AUTH, 401, key=None, headers=["Authorization: " + value], checks=[no_link_list])
api("auth: key with raw UTF-8", "GET", AUTH, 401, key=None,
    headers=[b"Authorization: Bearer hop_\xc3\xa4" + b"A" * 30], checks=[no_link_list])
api("auth: key with a raw byte 0xff after it", "GET", AUTH, 401, key=None,
    headers=[b"Authorization: Bearer @KEY@\xff"], checks=[no_link_list])
api("auth: two Authorization headers, both valid", "GET", AUTH, 401, key=None,
    headers=["Authorization: Bearer @KEY@", "Authorization: Bearer @KEY@"], checks=[no_link_list])
front("auth: NUL after the key: Go answers 400", request("GET", AUTH, [b"Authorization: Bearer @KEY@\x00"]), 400)
front("auth: bare CR inside the key: Go answers 400",
      request("GET", AUTH, [b"Authorization: Bearer @KEY@\rX-Injected: 1"]), 400)
front("auth: CR LF splits the key into a bad header line: Go answers 400",
      request("GET", AUTH, ["Authorization: Bearer", "@KEY@"]), 400)
api("auth: key in the query string only", "GET", "/api/links?access_token=@KEY@", 401, key=None)
api("auth: another owner's link is a 404", "GET", "/api/links/hx-bob", 404)
api("auth: no key on an unknown api path", "GET", "/api/nope", 401, key=None)
api("auth: no key on /api", "GET", "/api", 401, key=None)
api("auth: no key on /api/", "GET", "/api/", 401, key=None)
api("auth: /API/links is not the API", "GET", "/API/links", 404, key=None, checks=[no_link_list])
api("auth: no key and a garbage method", "FOO", "/api/links", 401, key=None)
api("auth: no key comes before 413 (2 MB body)", "POST", "/api/links", 401, key=None, body=b" " * 2000000)
api("auth: no key comes before 405", "PUT", "/api/links", 401, key=None, body=b"{}")

# ==== X-Request-Id ===============================================================================================

RID_ALL = "AZaz09._~:/+=-"
for label, value, want in [("plain", "abc-123", "abc-123"), ("every allowed character", RID_ALL, RID_ALL),
                           ("128 characters", "r" * 128, "r" * 128), ("129 characters", "r" * 129, "gen"),
                           ("10 KiB", "r" * 10240, "gen"), ("UTF-8", "r\u00e9sum\u00e9", "gen"),
                           ("a space", "a b", "gen"), ("%0d%0a", "abc%0d%0aX-Injected:%201", "gen"),
                           ("empty", "", "gen"), ("a comma", "a,b", "gen"), ("angle brackets", "<script>", "gen"),
                           ("quotes", '"q"', "gen"), ("a tab inside", "a\tb", "gen"),
                           ("raw bytes 0x80-0xff", b"\x80\xff", "gen")]:
    get("request id: " + label, "/healthz", 200, headers=[b"X-Request-Id: " + b(value)], rid=want)
get("request id: CR LF splits off a second header; the id is echoed, the header is not", "/healthz", 200,
    headers=["X-Request-Id: abc", "X-Injected: 1"], rid="abc")
get("request id: two headers are joined, so generated", "/healthz", 200,
    headers=["X-Request-Id: a", "X-Request-Id: b"], rid="gen")
get("request id: X_Request_Id (underscore) reaches hop as the same variable", "/healthz", 200,
    headers=["X_Request_Id: underscore"], rid="underscore")
front("request id: bare CR: Go answers 400", request("GET", "/healthz", [b"X-Request-Id: a\rb"]), 400)
api("request id: echoed on a 401", "GET", "/api/links", 401, key=None, headers=["X-Request-Id: on-401"],
    rid="on-401")
get("request id: echoed on a 404", "/nope-nope", 404, headers=["X-Request-Id: on-404"], rid="on-404")
create("request id: echoed on a 413", b" " * 70000, 413, headers=["X-Request-Id: on-413"], rid="on-413")
create("request id: echoed on a 422", {"url": "javascript:x"}, 422, headers=["X-Request-Id: on-422"], rid="on-422",
       field="url")

# ==== methods on every route =====================================================================================

ROUTES = [
    ("/healthz", "/healthz", None, 200, "GET, HEAD"),
    ("a link", "/hx-fixture", None, 302, "GET, HEAD, POST"),
    ("an unknown slug", "/no-such-slug", None, 404, "GET, HEAD, POST"),
    ("/api/links", "/api/links", KEY, 200, "POST, GET, HEAD"),
    ("/api/links/{slug}", "/api/links/hx-fixture", KEY, 200, "GET, HEAD, PATCH, DELETE"),
    ("/api/links/{slug}/stats", "/api/links/hx-fixture/stats", KEY, 200, "GET, HEAD"),
]
for rname, path, key, head_status, allow in ROUTES:
    allowed = set(allow.split(", "))
    for method in ["PUT", "DELETE", "POST", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "FOO", "put",
                   "M" * 32]:
        if method in allowed:
            continue
        mname = method if len(method) < 20 else "of 32 letters"
        api("method %s on %s" % (mname, rname), method, path, 405, key=key, allow=allow)
    # Caddy's FastCGI client upper-cases the method and then sends GET as POST: "get" reaches hop as POST
    # a POST to a short link is the password form: 405 (Allow: GET, HEAD) for a link without a password, 404
    # for no link
    as_post = {"/api/links": (415, None), "/hx-fixture": (405, "GET, HEAD"), "/no-such-slug": (404, None)}
    status, get_allow = as_post.get(path, (405, allow))
    api("method get (Caddy sends it as POST) on %s" % rname, "get", path, status, key=key, allow=get_allow)
    api("method HEAD on %s" % rname, "HEAD", path, head_status, key=key,
        checks=[location_is(FIXTURE_URL)] if head_status == 302 else [])
front("method with UTF-8: Go answers 400", request(b"G\xc3\x89T", "/healthz"), 400)
front("method of 33 letters: Caddy answers 405 itself", request("M" * 33, "/healthz"), 405)
front("method of 1000 letters: Caddy answers 405 itself", request("M" * 1000, "/api/links"), 405)
api("method PUT with a 2 MB body: 405 comes before 413", "PUT", "/api/links", 405, body=b"x" * 2000000,
    allow="POST, GET, HEAD")
api("method POST on a link with garbage: 405 before 400", "POST", "/api/links/hx-fixture", 405, body=b"\xff{",
    allow="GET, HEAD, PATCH, DELETE")
api("method DELETE on the unknown API path without a key", "DELETE", "/api/links/hx-fixture/x", 401, key=None)

# ==== Content-Type ===============================================================================================

GOOD = js({"url": "https://example.com/ct"})
for label, ct, status in [("missing", None, 415), ("text/plain", "text/plain", 415),
                          ("charset=latin1", "application/json; charset=latin1", 415),
                          ("charset=utf-16", "application/json; charset=utf-16", 415),
                          ("application/jsonx", "application/jsonx", 415),
                          ("application/json-patch+json", "application/json-patch+json", 415),
                          ("text/json", "text/json", 415), ("application/*", "application/*", 415),
                          ("multipart/form-data", "multipart/form-data; boundary=x", 415),
                          ("form-urlencoded", "application/x-www-form-urlencoded", 415), ("empty", "", 415),
                          ("charset without a value", "application/json; charset", 415),
                          ("charset utf-8 then latin1", "application/json; charset=utf-8; charset=latin1", 415),
                          ("a trailing comma", "application/json,", 415),
                          ("unclosed quote", 'application/json; charset="utf-8', 415),
                          ("charset=UTF-8", "application/json; charset=UTF-8", 201),
                          ('charset="utf-8"', 'application/json; charset="utf-8"', 201),
                          ("upper-case type", "APPLICATION/JSON", 201),
                          ("another parameter", "application/json; charset=utf-8; v=1", 201),
                          ("space before ';'", "application/json ; charset=utf-8", 201)]:
    raw = request("POST", "/api/links", [], GOOD, key=KEY, ct=ct)
    Case("content type: " + label, raw, status, creates="https://example.com/ct" if status == 201 else None)
create("content type: 415 comes before 400", b"{not json", 415, ct="text/plain")
create("content type: 413 comes before 415", b"x" * 70000, 413, ct="text/plain")

# ==== JSON =======================================================================================================


def nest(depth, inner=b"{}"):
    """An object nested DEPTH levels deep: {"a":{"a":...{}}}."""
    return b'{"a":' * (depth - 1) + inner + b"}" * (depth - 1)


create("json: 32 levels of objects is allowed (then 'a' is unknown)", nest(32), 422, field="a")
create("json: 33 levels of objects", nest(33), 400)
create("json: 33 levels of arrays in url", b'{"url":' + b"[" * 32 + b"]" * 32 + b"}", 400)
create("json: 1000 levels", b'{"a":' + b"[" * 999 + b"]" * 999 + b"}", 400)
create("json: 32000 levels (64000 bytes)", b'{"a":' + b"[" * 31990 + b"]" * 31990 + b"}", 400)
create("json: 65000 unclosed '[' within 64 KiB", b'{"a":' + b"[" * 65000, 400)
create("json: 100000 levels is over 64 KiB", b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}", 413)
U = b'"url":"https://example.com/n"'
for label, value in [("1e999999", b"1e999999"), ("-1e999999", b"-1e999999"), ("1e-999999", b"1e-999999"),
                     ("40 digits", b"1234567890123456789012345678901234567890"),
                     ("2^64+302", b"18446744073709551918"), ("2^63+302", b"9223372036854776110"),
                     ("-2^63", b"-9223372036854775808"), ("302.0", b"302.0"), ("3.02e2", b"3.02e2"),
                     ('"302"', b'"302"'), ("true", b"true"), ("-302", b"-302"), ("303", b"303"),
                     ("an object", b'{"code":302}'), ("an array", b"[302]")]:
    create("json: redirect " + label, b"{" + U + b',"redirect":' + value + b"}", 422, field="redirect")
create("json: redirect 301", b"{" + U + b',"redirect":301}', 201, creates="https://example.com/n", redirect=301)
create("json: redirect 308", b"{" + U + b',"redirect":308}', 201, creates="https://example.com/n", redirect=308)
for label, value in [("NaN", b"NaN"), ("Infinity", b"Infinity"), ("-Infinity", b"-Infinity"), ("nan", b"nan"),
                     ("leading zero 0302", b"0302"), ("+302", b"+302"), ("hex 0x12e", b"0x12e"), ("302.", b"302."),
                     (".5", b".5"), ("1e", b"1e"), ("--1", b"--1"), ("True", b"True"), ("undefined", b"undefined")]:
    create("json: " + label, b"{" + U + b',"redirect":' + value + b"}", 400)
create("json: UTF-8 BOM", b"\xef\xbb\xbf" + GOOD, 400)
create("json: UTF-16LE with BOM", b"\xff\xfe" + GOOD.decode().encode("utf-16-le"), 400)
create("json: UTF-16LE without BOM", GOOD.decode().encode("utf-16-le"), 400)
create("json: UTF-16BE with BOM", b"\xfe\xff" + GOOD.decode().encode("utf-16-be"), 400)
create("json: UTF-16BE without BOM", GOOD.decode().encode("utf-16-be"), 400)
create("json: UTF-32LE", GOOD.decode().encode("utf-32-le"), 400)
for label, raw_bytes in [("Latin-1 byte", b"\xe9"), ("overlong '/' c0 af", b"\xc0\xaf"),
                         ("overlong e0 80 af", b"\xe0\x80\xaf"), ("UTF-8 surrogate ed a0 80", b"\xed\xa0\x80"),
                         ("above U+10FFFF", b"\xf4\x90\x80\x80"), ("lone continuation byte", b"\x80"),
                         ("truncated sequence", b"\xe2\x82"), ("byte 0xff", b"\xff"), ("byte 0xfe", b"\xfe")]:
    create("json: invalid UTF-8, " + label, b'{"url":"https://example.com/' + raw_bytes + b'"}', 400)
create("json: valid UTF-8 in an unknown field's value", js({"url": "https://example.com/u", "x": "\u00e9"}), 422,
       field="x")
for label, tail in [("text", b" garbage"), ("a second object", b'{"url":"https://example.com/2"}'),
                    ("a NUL byte", b"\x00"), ("a comma", b","), ("a closing brace", b"}"), ("a BOM", b"\xef\xbb\xbf"),
                    ("form feed (not JSON whitespace)", b"\x0c"), ("a vertical tab", b"\x0b")]:
    create("json: trailing " + label, GOOD + tail, 400)
create("json: trailing JSON whitespace is fine", GOOD + b" \r\n\t\n", 201, creates="https://example.com/ct")
create("json: leading JSON whitespace is fine", b"\n\t \r" + GOOD, 201, creates="https://example.com/ct")
create("json: raw NUL inside the url string", b'{"url":"https://example.com/\x00"}', 400)
create("json: raw NUL between tokens", b'{"url":\x00"https://example.com/"}', 400)
create("json: raw tab inside a string", b'{"url":"https://example.com/\t"}', 400)
create("json: raw CR LF inside a string", b'{"url":"https://example.com/\r\nX-Injected: 1"}', 400)
create("json: escaped NUL in url", b'{"url":"https://example.com/\\u0000"}', 422, field="url")
create("json: escaped NUL in slug", b'{"url":"https://example.com/","slug":"a\\u0000b"}', 422, field="slug")
create("json: escaped NUL in expires_at", b'{"url":"https://example.com/","expires_at":"\\u0000"}', 422,
       field="expires_at")
create("json: escaped NUL in a key", b'{"url":"https://example.com/","u\\u0000rl":1}', 400)
create("json: escaped NUL in a nested key", b'{"url":"https://example.com/","x":{"\\u0000":1}}', 400)
create("json: duplicate url", b'{"url":"https://example.com/a","url":"https://example.com/b"}', 400)
create("json: duplicate url, escaped \\u0075rl",
       b'{"url":"https://example.com/a","\\u0075rl":"https://example.com/b"}', 400)
create("json: duplicate url, all escaped", b'{"\\u0075\\u0072\\u006c":"https://example.com/a","url":"x"}', 400)
create("json: duplicate slug", b'{"url":"https://example.com/a","slug":"a1","slug":"a2"}', 400)
create("json: duplicate key nested", b'{"url":"https://example.com/a","x":{"k":1,"k":2}}', 400)
create("json: duplicate key in an object in an array",
       b'{"url":"https://example.com/a","x":[1,{"k":1,"\\u006b":2}]}', 400)
create("json: duplicate key at depth 20", b'{"url":"https://example.com/a","x":' + nest(20, b'{"k":1,"k":1}') + b"}",
       400)
create("json: URL and url differ in case", b'{"url":"https://example.com/a","URL":"https://example.com/b"}', 422,
       field="URL")
ARR = b"[" + b"0," * 32000 + b"0]"
create("json: 32001-element array within 64 KiB", b'{"url":"https://example.com/a","x":' + ARR + b"}", 422,
       field="x")
create("json: 100000-element array is over 64 KiB", b'{"x":[' + b"0," * 99999 + b"0]}", 413)
create("json: 10000 empty objects in an array", b'{"x":[' + b"{}," * 9999 + b"{}]}", 422, field="x")
create("json: 3000 unknown fields", js(dict([("url", "https://example.com/a")] +
                                             [("f%d" % i, i) for i in range(3000)])), 422, field="f0")
create("json: a key of 60000 characters", js({"url": "https://example.com/a", "k" * 60000: 1}), 422)
create("json: a 60000-character url", js({"url": "https://example.com/" + "a" * 60000}), 422, field="url")
create("json: a string of 30000 \\u escapes", b'{"url":"' + b"\\u0041" * 10000 + b'"}', 422, field="url")
for label, body in [("empty body", b""), ("whitespace only", b" \n\t "), ("null", b"null"), ("an array", b"[]"),
                    ("a string", b'"https://example.com/"'), ("a number", b"302"), ("true", b"true"),
                    ("single quotes", b"{'url':'https://example.com/'}"), ("unquoted key", b'{url:"https://e.com/"}'),
                    ("a comment", b'{/* c */"url":"https://example.com/"}'),
                    ("trailing comma", b'{"url":"https://example.com/",}'), ("missing colon", b'{"url" "x"}'),
                    ("missing brace", b'{"url":"https://example.com/"'), ("only an opening brace", b"{"),
                    ("a bad escape \\x", b'{"url":"https://example.com/\\x41"}'),
                    ("a short \\u escape", b'{"url":"\\u00"}'), ("an unterminated string", b'{"url":"https://e'),
                    ("JSON5 hex key", b'{0x1:2}')]:
    create("json: " + label, body, 400)
create("json: empty object needs a url", b"{}", 422, field="url")
create("json: lone surrogate escape in url becomes U+FFFD", b'{"url":"https://example.com/\\ud800"}', 422,
       field="url")
create("json: escaped non-ASCII in url", b'{"url":"https://example.com/\\u00e9"}', 422, field="url")
create("json: raw DEL inside the url string", b'{"url":"https://example.com/\x7f"}', 422, field="url")
create("json: escaped slashes", b'{"url":"https:\\/\\/example.com\\/esc"}', 201, creates="https://example.com/esc")
create("json: url spelled with \\u escapes", b'{"url":"\\u0068ttps://example.com/u"}', 201,
       creates="https://example.com/u")
for label, value in [("a number", b"1"), ("an array", b'["https://example.com/"]'), ("an object", b'{"u":1}'),
                     ("null", b"null"), ("true", b"true")]:
    create("json: url is " + label, b'{"url":' + value + b"}", 422, field="url")
EXACT = b'{"url":"https://example.com/exact"}'
create("json: body of exactly 64 KiB", EXACT + b" " * (65536 - len(EXACT)), 201, creates="https://example.com/exact")
create("json: body of 64 KiB + 1", EXACT + b" " * (65537 - len(EXACT)), 413)
create("json: body of 2 MB (Caddy passes 1 MB of it on)", EXACT + b" " * 2000000, 413)
create("json: body of 5 MB", b" " * 5000000 + EXACT, 413)

# slugs, expiry
for label, slug in [("api", "api"), ("healthz", "healthz"), ("metrics", "metrics"), ("static", "static"),
                    ("_x", "_x"), ("65 characters", "s" * 65), ("empty", ""), ("a slash", "a/b"), ("dots", ".."),
                    ("UTF-8", "h\u00e9llo"), ("a space", "a b"), ("percent", "%41"), ("a newline", "a\nb")]:
    create("slug: " + label, {"url": "https://example.com/s", "slug": slug}, 422, field="slug")
create("slug: a number", b'{"url":"https://example.com/s","slug":7}', 422, field="slug")
create("slug: 64 characters", {"url": "https://example.com/s64", "slug": "S" * 64}, 201,
       creates="https://example.com/s64")
create("slug: null means generate one", {"url": "https://example.com/gen", "slug": None}, 201,
       creates="https://example.com/gen")
create("slug: taken is a 409", {"url": "https://example.com/s", "slug": "hx-fixture"}, 409)
create("slug: taken by another owner is a 409", {"url": "https://example.com/s", "slug": "hx-bob"}, 409)
create("slug: 'Api' differs from the reserved 'api'", {"url": "https://example.com/Api", "slug": "Api"}, 201,
       creates="https://example.com/Api")
EXPIRES_BAD = [
    ("in the past", "2020-01-01T00:00:00Z"), ("garbage", "soon"), ("30 February", "2099-02-30T00:00:00Z"),
    ("hour 24", "2099-01-01T24:00:00Z"), ("a number", 4102444800), ("no zone", "2099-01-01T00:00:00"),
]
for label, value in EXPIRES_BAD:
    create("expires_at: " + label, {"url": "https://example.com/e", "expires_at": value}, 422, field="expires_at")
create("expires_at: far future", {"url": "https://example.com/far", "expires_at": "9999-12-31T23:59:59Z"}, 201,
       creates="https://example.com/far")

# ==== URL rules ==================================================================================================

PORT_SELF = "https://localhost:@PORT@"  # this service's own site, as the request's Host names it
URL_BAD = [
    # CR, LF and other control characters (sent as JSON escapes, so the JSON itself is fine)
    ("escaped CR LF and a header", "https://example.com/a\r\nX-Injected: 1"),
    ("escaped CR LF Set-Cookie", "https://example.com/\r\nSet-Cookie: a=b"),
    ("escaped LF only", "https://example.com/a\nb"),
    ("escaped CR only", "https://example.com/a\rb"),
    ("escaped CR LF in the host", "https://exam\r\nple.com/"),
    ("a tab", "https://example.com/a\tb"),
    ("control byte 0x01", "https://example.com/\x01"),
    ("DEL", "https://example.com/\x7f"),
    ("escape 0x1b", "https://example.com/\x1b[31m"),
    ("form feed", "https://example.com/\x0c"),
    # spaces
    ("a space in the host", "https://exa mple.com/"),
    ("a space in the path", "https://example.com/a b"),
    ("a leading space", " https://example.com/"),
    ("a trailing space", "https://example.com/ "),
    ("a no-break space", "https://example.com/\u00a0"),
    # userinfo
    ("user and password", "https://user:pass@example.com/"),
    ("user", "https://user@example.com/"),
    ("an empty userinfo", "https://@example.com/"),
    ("userinfo lookalike", "https://example.com@evil.example/"),
    ("userinfo with an encoded @", "https://a%40b@example.com/"),
    # IP literals
    ("IPv6 with a zone", "http://[fe80::1%25eth0]/"),
    ("IPv6 unclosed", "http://[::1/"),
    ("IPv6 bad hex", "http://[gggg::1]/"),
    ("IPvFuture", "http://[v1.x]/"),
    ("IPv6 without brackets", "http://::1/"),
    # raw non-ASCII: international names go in as punycode
    ("raw IDN host", "https://b\u00fccher.example/"),
    ("raw IDN path", "https://example.com/b\u00fccher"),
    ("emoji host", "https://\U0001f600.example/"),
    ("fullwidth dot", "https://example\uff0ecom/"),
    ("right-to-left override", "https://example.com/\u202egnp.exe"),
    # schemes, in any letter case
    ("javascript:", "javascript:alert(1)"),
    ("JaVaScRiPt:", "JaVaScRiPt:alert(1)"),
    ("JAVASCRIPT:", "JAVASCRIPT:alert(1)"),
    ("javascript://", "javascript://example.com/%0aalert(1)"),
    ("data:", "data:text/html,<script>alert(1)</script>"),
    ("DaTa:", "DaTa:text/html;base64,PHNjcmlwdD4="),
    ("file:", "file:///etc/passwd"),
    ("FiLe:", "FiLe://localhost/etc/passwd"),
    ("vbscript:", "vbscript:msgbox(1)"),
    ("VbScRiPt:", "VbScRiPt:msgbox(1)"),
    ("ftp:", "ftp://example.com/"),
    ("mailto:", "mailto:a@example.com"),
    ("about:blank", "about:blank"),
    ("blob:", "blob:https://example.com/x"),
    ("http+unix:", "http+unix://%2Ftmp%2Fsock/"),
    ("httpx:", "httpx://example.com/"),
    # not absolute, or no host
    ("scheme-relative", "//example.com/x"),
    ("relative path", "/x"),
    ("bare host", "example.com"),
    ("http:/ one slash", "http:/example.com"),
    ("http:// alone", "http://"),
    ("https:/// no host", "https:///path"),
    # ports and length
    ("port 65536", "http://example.com:65536/"),
    ("port 0", "http://example.com:0/"),
    ("port of 20 digits", "http://example.com:99999999999999999999/"),
    ("port -1", "http://example.com:-1/"),
    ("port letters", "http://example.com:http/"),
    ("2049 bytes", "https://example.com/" + "a" * 2029),
    # not RFC 3986
    ("angle brackets", "https://example.com/<script>"),
    ("double quotes", 'https://example.com/"q"'),
    ("a backslash", "https://example.com/\\x"),
    ("a raw percent", "https://example.com/100%"),
    ("empty", ""),
    # this service's own short links (redirect loops)
    ("own short link", PORT_SELF + "/abc"),
    ("own short link, trailing slash", PORT_SELF + "/abc/"),
    ("own short link via dot segments", PORT_SELF + "/x/../abc"),
    ("own short link via %2e%2e", PORT_SELF + "/x/%2e%2e/abc"),
    ("own short link percent-encoded", PORT_SELF + "/%61bc"),
    ("own short link with a query", PORT_SELF + "/abc?x=1"),
    ("own short link with a fragment", PORT_SELF + "/abc#f"),
    ("own short link, host in capitals", "https://LOCALHOST:@PORT@/abc"),
    ("own short link, trailing dot in the host", "https://localhost.:@PORT@/abc"),
    ("own short link over http on the same port", "http://localhost:@PORT@/abc"),
    # a host must be a DNS name or an IP address, as a browser would take it
    ("escaped %0d%0a in the host", "https://ex%0d%0aample.com/"),
    ("escaped %00 in the host", "https://exa%00mple.com/"),
    ("a host label of 250 bytes", "https://" + "h" * 250 + ".example/"),
    ("a malformed IPv4 address", "http://256.0.0.1/"),
    ("a host that is a hyphen", "http://-/"),
    ("a host with a sub-delim", "http://a!b.example/"),
]
for label, url in URL_BAD:
    url_case("url: " + label, url, 422)
URL_GOOD = [
    ("escaped %0d%0a stays escaped in Location", "https://example.com/%0d%0aX-Injected:%201"),
    ("an encoded @ in the path", "https://example.com/%40evil.example"),
    ("IPv6 loopback", "http://[::1]/"),
    ("IPv6 with a port", "https://[2001:db8::1]:8443/x"),
    ("IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]/"),
    ("IPv4", "http://192.0.2.1/"),
    ("punycode IDN", "https://xn--bcher-kva.example/"),
    ("upper-case scheme and host", "HTTPS://EXAMPLE.COM/"),
    ("mixed-case scheme", "hTtP://example.com/"),
    ("port 65535", "http://example.com:65535/"),
    ("empty port", "http://example.com:/"),
    ("2048 bytes", "https://example.com/" + "a" * 2028),
    ("a host of four 63-byte labels", "https://" + ".".join(["h" * 63] * 3) + "." + "e" * 61 + "/"),
    ("a query and fragment", "https://example.com/?a=1&b=%20#x"),
    ("every RFC 3986 sub-delim", "https://example.com/!$&'()*+,;=:@-._~"),
    # this service's own host, but not one of its short links
    ("own host, the root", PORT_SELF + "/"),
    ("own host, the API", PORT_SELF + "/api/links"),
    ("own host, another port", "https://localhost:1/abc"),
    ("own host by address", "https://127.0.0.1:@PORT@/abc"),
]
for label, url in URL_GOOD:
    url_case("url: " + label, url, 201)

# ==== chunked bodies and Content-Length ==========================================================================

CHUNK_OK = js({"url": "https://example.com/chunked"})
create("chunked: a valid create", CHUNK_OK, 201, chunked=7, creates="https://example.com/chunked")
create("chunked: one-byte chunks", CHUNK_OK, 201, chunked=1, creates="https://example.com/chunked")
create("chunked: over 64 KiB", b'{"url":"https://example.com/c"' + b" " * 70000 + b"}", 413, chunked=4096)
create("chunked: over Caddy's 1 MB", b" " * 2000000, 413, chunked=65536)
create("chunked: exactly 64 KiB", EXACT + b" " * (65536 - len(EXACT)), 201, chunked=8192,
       creates="https://example.com/exact")
H = ["Host: @HOST@", "Authorization: Bearer @KEY@", "Content-Type: application/json", "Connection: close"]


def raw_post(extra, payload):
    return fill("POST /api/links HTTP/1.1\r\n" + "\r\n".join(H + extra) + "\r\n\r\n") + payload


TRAILER = js({"url": "https://example.com/trailer"})
Case("chunked: chunk extensions and a trailer",
     raw_post(["Transfer-Encoding: chunked"], b"5;ext=1\r\n" + TRAILER[:5] + b"\r\n%x\r\n" % (len(TRAILER) - 5) +
              TRAILER[5:] + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"), 201, creates="https://example.com/trailer")
Case("chunked: a bad chunk size reaches hop as an empty body",
     raw_post(["Transfer-Encoding: chunked"], b"zz\r\nabc\r\n0\r\n\r\n"), 400)
Case("chunked: a chunk size of 2^80 reaches hop as an empty body",
     raw_post(["Transfer-Encoding: chunked"], b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"), 400)
Case("chunked and Content-Length: chunked wins",
     raw_post(["Content-Length: 3", "Transfer-Encoding: chunked"], chunk(CHUNK_OK, 10)), 201,
     creates="https://example.com/chunked")
caddy("chunked: truncated, the client gives up: Caddy answers 499",
      raw_post(["Transfer-Encoding: chunked"], b"100\r\nabc"), 499, shut=True)
front("Transfer-Encoding gzip, chunked: Go answers 501",
      raw_post(["Transfer-Encoding: gzip, chunked"], chunk(CHUNK_OK, 10)), 501)
front("Transfer-Encoding identity: Go answers 501", raw_post(["Transfer-Encoding: identity"], CHUNK_OK), 501)
caddy("Content-Length larger than the body, the client gives up: Caddy answers 499",
      raw_post(["Content-Length: 100"], CHUNK_OK), 499, shut=True)
caddy("Content-Length of 2 MB, 30 bytes sent, the client gives up: Caddy answers 499",
      raw_post(["Content-Length: 2000000"], CHUNK_OK), 499, shut=True)
Case("Content-Length smaller than the body: hop reads only that much", raw_post(["Content-Length: 5"], CHUNK_OK), 400)
Case("Content-Length 0 with a body", raw_post(["Content-Length: 0"], CHUNK_OK), 400)
front("Content-Length -1: Go answers 400", raw_post(["Content-Length: -1"], CHUNK_OK), 400)
front("Content-Length abc: Go answers 400", raw_post(["Content-Length: abc"], CHUNK_OK), 400)
front("Content-Length +30: Go answers 400", raw_post(["Content-Length: +%d" % len(CHUNK_OK)], CHUNK_OK), 400)
front("Content-Length of 23 digits: Go answers 400", raw_post(["Content-Length: " + "9" * 23], CHUNK_OK), 400)
front("two different Content-Lengths: Go answers 400",
      raw_post(["Content-Length: %d" % len(CHUNK_OK), "Content-Length: 3"], CHUNK_OK), 400)
Case("two equal Content-Lengths", raw_post(["Content-Length: %d" % len(CHUNK_OK)] * 2, CHUNK_OK), 201,
     creates="https://example.com/chunked")
Case("Content-Length with leading zeros", raw_post(["Content-Length: 000%d" % len(CHUNK_OK)], CHUNK_OK), 201,
     creates="https://example.com/chunked")
Case("GET with a body", request("GET", "/healthz", body=b"hello"), 200)

# ==== PATCH and DELETE with hostile bodies =======================================================================

P = "/api/links/hx-patch"
api("patch: another owner's link with garbage is a 404 first", "PATCH", "/api/links/hx-bob", 404, body=b"\xff{{")
api("patch: unknown slug with garbage is a 404 first", "PATCH", "/api/links/no-such", 404, body=b"\xff{{")
api("patch: 33 levels", "PATCH", P, 400, body=nest(33))
api("patch: duplicate keys", "PATCH", P, 400, body=b'{"disabled":true,"disabled":false}')
api("patch: text/plain", "PATCH", P, 415, body=b"{}", ct="text/plain")
api("patch: over 64 KiB", "PATCH", P, 413, body=b"{}" + b" " * 70000)
api("patch: slug cannot change", "PATCH", P, 422, body=b'{"slug":"x"}', field="slug")
api("patch: url null", "PATCH", P, 422, body=b'{"url":null}', field="url")
api("patch: redirect null", "PATCH", P, 422, body=b'{"redirect":null}', field="redirect")
api("patch: disabled as a string", "PATCH", P, 422, body=b'{"disabled":"yes"}', field="disabled")
api("patch: url with escaped CR LF", "PATCH", P, 422, body=js({"url": "https://example.com/\r\nX-Injected: 1"}),
    field="url")
api("patch: url to our own short link", "PATCH", P, 422, body=js({"url": PORT_SELF + "/hx-patch"}), field="url")
api("patch: empty object changes nothing", "PATCH", P, 200, body=b"{}")
api("patch: a valid url", "PATCH", P, 200, body=js({"url": "https://example.com/patched"}),
    effect=("patch", "hx-patch", "https://example.com/patched"))
get("patch: the patched link redirects to its new url", "/hx-patch", 302,
    checks=[location_is("https://example.com/patched")])
api("delete: another owner's link is a 404", "DELETE", "/api/links/hx-bob", 404)
api("delete: an encoded slug /api/links/hx%2Ddel", "DELETE", "/api/links/hx%2Ddel", 204, effect=("delete", "hx-del"))
get("delete: the deleted link is gone", "/hx-del", 404)
api("delete: again is a 404", "DELETE", "/api/links/hx-del", 404)

# ==== link options (issue 11): hostile values of the new fields, and the password form =========================

FORM_CT = "application/x-www-form-urlencoded"
BROWSER = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def form(name, target, expect, body, ct=FORM_CT, headers=(), **kw):
    """POST /{slug} with a form body (bytes, sent as given)."""
    raw = request("POST", target, headers, body, ct=ct, chunked=kw.pop("chunked", None))
    return Case(name, raw, expect, **kw)


def is_page(resp):
    """An HTML page for a person, not problem JSON, with the page's strict headers."""
    if not resp.body.lower().startswith(b"<!doctype html>"):
        return "the body is not an HTML page: %r" % resp.body[:80]
    csp = resp.header("content-security-policy") or b""
    if b"default-src 'none'" not in csp or b"unsafe-inline" in csp:
        return "Content-Security-Policy %r" % csp
    if resp.header("cache-control") != b"no-store":
        return "Cache-Control %r, want no-store" % resp.header("cache-control")
    return None


OPT = "https://example.com/opt"
create("options: a protected link hx-pw", {"url": OPT, "slug": "hx-pw", "password": "hostile pass"}, 201)
create("options: password with a NUL after 8 characters", {"url": OPT, "password": "abcdefgh\u0000tail"}, 422,
       field="password")
create("options: password of 129 four-byte characters", {"url": OPT, "password": "\U0001F600" * 129}, 422,
       field="password")
create("options: password of 128 four-byte characters", {"url": OPT, "password": "\U0001F600" * 128}, 201)
create("options: password 7 characters", {"url": OPT, "password": "1234567"}, 422, field="password")
create("options: password an array", {"url": OPT, "password": ["12345678"]}, 422, field="password")
for label, value in [("0", b"0"), ("-1", b"-1"), ("2^63", b"9223372036854775808"), ("2^64", b"18446744073709551616"),
                     ("2^53", b"9007199254740992"), ("1e3", b"1e3"), ("1.0", b"1.0"), ("a string", b'"10"'),
                     ("true", b"true"), ("an object", b"{}"), ("-2^63", b"-9223372036854775808")]:
    create("options: max_visits " + label, b'{"url":"' + b(OPT) + b'","max_visits":' + value + b"}", 422,
           field="max_visits")
create("options: max_visits 2^53 - 1", b'{"url":"' + b(OPT) + b'","max_visits":9007199254740991}', 201)
create("options: forward_query null", {"url": OPT, "forward_query": None}, 422, field="forward_query")
create("options: forward_query 1", {"url": OPT, "forward_query": 1}, 422, field="forward_query")
create("options: targets.ios javascript:", {"url": OPT, "targets": {"ios": "javascript:alert(1)"}}, 422,
       field="targets.ios")
create("options: targets.android data:", {"url": OPT, "targets": {"android": "data:text/html,<script>x</script>"}},
       422, field="targets.android")
create("options: targets.ios with CR LF", {"url": OPT, "targets": {"ios": "https://example.com/\r\nX-Injected: 1"}},
       422, field="targets.ios")
create("options: targets.ios a number", {"url": OPT, "targets": {"ios": 5}}, 422, field="targets.ios")
create("options: targets.ios our own short link", {"url": OPT, "targets": {"ios": PORT_SELF + "/hx-pw"}}, 422,
       field="targets.ios")
create("options: targets __proto__", b'{"url":"' + b(OPT) + b'","targets":{"__proto__":"https://example.com/"}}',
       422, field="targets")
create("options: targets a string", {"url": OPT, "targets": "https://example.com/"}, 422, field="targets")
create("options: tags with a Cyrillic a", {"url": OPT, "tags": ["p\u0430ypal"]}, 422, field="tags",
       checks=[lambda r: None if "p\u0430ypal".encode() in r.body else "the error does not name the tag"])
create("options: tags in fullwidth letters", {"url": OPT, "tags": ["\uff54\uff41\uff47"]}, 422, field="tags")
create("options: a tag with a NUL", {"url": OPT, "tags": ["ab\u0000cd"]}, 422, field="tags")
create("options: a tag a number", {"url": OPT, "tags": ["a", 5]}, 422, field="tags")
create("options: a tag an array", {"url": OPT, "tags": [["a"]]}, 422, field="tags")
create("options: 11 tags", {"url": OPT, "tags": ["t%d" % i for i in range(11)]}, 422, field="tags")
create("options: a tag of 10 KiB", {"url": OPT, "tags": ["a" * 10240]}, 422, field="tags")
create("options: the same tag in two cases", {"url": OPT, "tags": ["Go", "gO"]}, 422, field="tags")
create("options: upper-case tags are folded", {"url": OPT, "tags": ["ZZ", "Aa"]}, 201,
       checks=[lambda r: None if b'"tags":["aa","zz"]' in r.body else "tags not folded and sorted: %r" % r.body])
create("options: title with a NUL", {"url": OPT, "title": "a\u0000b"}, 422, field="title")
create("options: title with NEL (C1)", {"url": OPT, "title": "a\u0085b"}, 422, field="title")
create("options: title of 201 characters", {"url": OPT, "title": "\u00e9" * 201}, 422, field="title")
create("options: expired_url javascript:", {"url": OPT, "expired_url": "javascript:alert(1)"}, 422,
       field="expired_url")
create("options: reuse null", {"url": OPT, "reuse": None}, 422, field="reuse")
api("options: reuse on PATCH", "PATCH", "/api/links/hx-pw", 422, body=js({"reuse": True}), field="reuse")
api("options: PATCH password of 7 characters", "PATCH", "/api/links/hx-pw", 422, body=js({"password": "1234567"}),
    field="password")

# the password form: at most 8 wrong passwords below, so the attempt limit (10) is never reached here
get("form: GET shows the form", "/hx-pw", 200, headers=[BROWSER], checks=[is_page])
form("form: %00 in the password", "/hx-pw", 401, b"password=hostile%00pass")
form("form: %00 after the right password", "/hx-pw", 401, b"password=hostile+pass%00")
form("form: a bad escape", "/hx-pw", 401, b"password=%zz")
form("form: no password field", "/hx-pw", 401, b"passwd=hostile+pass")
form("form: 4000-byte password", "/hx-pw", 401, b"password=" + b"a" * 4000)
form("form: 10 KiB body", "/hx-pw", 413, b"password=" + b"a" * 10240)
form("form: 10 KiB body, chunked", "/hx-pw", 413, b"password=" + b"a" * 10240, chunked=1024)
form("form: text/plain", "/hx-pw", 415, b"password=hostile+pass", ct="text/plain")
form("form: multipart", "/hx-pw", 415, b"password=hostile+pass", ct="multipart/form-data; boundary=x")
form("form: no content type (Caddy passes the form type on), wrong", "/hx-pw", 401, b"password=nope-nope", ct=None)
form("form: wrong, a browser gets the form again", "/hx-pw", 401, b"password=nope-nope-2", headers=[BROWSER],
     problem=False, checks=[is_page])
form("form: the right password", "/hx-pw", 303, b"password=hostile+pass", checks=[location_is(OPT)])
form("form: the right one chunked", "/hx-pw", 303, b"password=hostile+pass", chunked=3, checks=[location_is(OPT)])
form("form: an unknown slug", "/hx-nothing", 404, b"password=hostile+pass")
form("form: a reserved word", "/_hx", 404, b"password=hostile+pass")
form("form: a link without a password", "/hx-fixture", 405, b"password=x", allow="GET, HEAD")
form("form: /healthz", "/healthz", 405, b"password=x", allow="GET, HEAD")
form("form: /robots.txt", "/robots.txt", 405, b"password=x", allow="GET, HEAD")
get("form: a browser's 404 is a page", "/hx-nothing", 404, headers=[BROWSER], problem=False, checks=[is_page])
api("form: PATCH the password away", "PATCH", "/api/links/hx-pw", 200, body=js({"password": None}))
get("form: then GET redirects", "/hx-pw", 302, checks=[location_is(OPT)])
form("form: then POST is a 405", "/hx-pw", 405, b"password=hostile+pass", allow="GET, HEAD")
get("robots.txt", "/robots.txt", 200, checks=[body_lacks("Allow: /")])
