#!/usr/bin/env python3
"""Runs the hostile-input battery (cases.py) through Caddy over HTTPS against a running stack (run.sh starts it).

For every case: the exact status; never a 5xx from hop; X-Request-Id present and well-formed on every answer
from hop (echoed when the client's own was valid) and from Caddy's handle_errors (one hop never logged), and
absent on what Go's HTTP server answers by itself; a
problem+json body whose status is the HTTP status where one is due; no header injected into the response; a
201 stored exactly the URL sent, and its short link redirects with Location equal to it byte for byte; then no
worker died (the pool's own `msg="worker died"` lines), no worker holds more descriptors than before, hop's
access log shows no 5xx, and the pool still answers /healthz. At the end: the links table holds exactly what
the successful requests made, and no stored URL has a control character or a space.

Environment (set by run.sh): HOSTILE_BASE, HOSTILE_CACERT, HOSTILE_LOG (hop.log), HOSTILE_MASTER (pool pid),
HOSTILE_KEY, HOSTILE_KEY2, HOSTILE_REVOKED, HOSTILE_RESULT (file for the counts), HOP_DB; HOSTILE_ONLY (a
substring: run only the setup cases and those whose name holds it).
Prints a line per case, a histogram of statuses and `battery: N passed, N failed`; run.sh adds the counts
to its own and prints the suite's `N passed, N failed` last.
"""

import collections
import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases as C  # noqa: E402
from httpraw import Client  # noqa: E402

RID_RE = re.compile(rb"^[A-Za-z0-9._~:/+=-]{1,128}$")
INJECTED = ("x-injected", "set-cookie")
PROBLEM_CT = b"application/problem+json"


class Run:
    def __init__(self):
        env = os.environ
        base = env["HOSTILE_BASE"]
        self.port = int(base.rsplit(":", 1)[1])
        self.client = Client("127.0.0.1", self.port, env["HOSTILE_CACERT"])
        self.log = env["HOSTILE_LOG"]
        self.master = int(env["HOSTILE_MASTER"])
        self.db = env["HOP_DB"]
        self.result_file = env["HOSTILE_RESULT"]
        self.passed = 0
        self.failed = []
        self.want = {}  # slug -> url the links table must hold at the end
        self.histogram = collections.Counter()
        self.deaths = 0  # worker deaths and 5xx answers in hop.log, as counted at the end of the last case
        self.fivexx = 0
        self.log_off = 0
        self.log_deaths = 0
        self.log_fivexx = 0
        self.log_rids = set()
        self.fds = None

    # ---- the pool's own evidence --------------------------------------------------------------------------------

    def scan_log(self):
        """Read what the pool logged since the last call: worker deaths, answers with a 5xx, request ids."""
        with open(self.log, "rb") as f:
            f.seek(self.log_off)
            data = f.read()
        end = data.rfind(b"\n") + 1  # whole lines only; the rest is read next time
        self.log_off += end
        for line in data[:end].splitlines():
            if b'msg="worker died"' in line:
                self.log_deaths += 1
            elif b"msg=access" in line:
                m = re.search(rb" status=(\d+) .* rid=(\S+)", line)
                if m:
                    self.log_rids.add(m.group(2))
                    if m.group(1).startswith(b"5"):
                        self.log_fivexx += 1

    def wait_logged(self, resp):
        """Wait (1 s at most) until the pool has logged the access line of RESP: the line is written after the
        answer is sent, and a 5xx must be charged to the request that caused it, not to a later one."""
        rid = resp.header("x-request-id")
        deadline = time.monotonic() + 1.0
        while rid is not None:
            self.scan_log()
            if rid in self.log_rids or time.monotonic() > deadline:
                return
            time.sleep(0.01)
        self.scan_log()

    def workers(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.master, self.master)) as f:
                return sorted(int(p) for p in f.read().split())
        except OSError:
            return []

    def fd_count(self):
        """{worker pid: open descriptors}."""
        out = {}
        for pid in self.workers():
            try:
                out[pid] = len(os.listdir("/proc/%d/fd" % pid))
            except OSError:
                pass
        return out

    def fd_growth(self):
        """Workers holding more descriptors than at the last check, after waiting up to 2 s for a closing
        connection to finish (libfcgi drains a peer for a moment after the answer); '' when none."""
        deadline = time.monotonic() + 2.0
        while True:
            now = self.fd_count()
            grown = {p: (self.fds.get(p), n) for p, n in now.items() if p in self.fds and n > self.fds[p]}
            if not grown or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        # workers that came or went, or grew, start a new baseline: one leak fails one case, not all after it
        self.fds = now
        return ", ".join("worker %d: %d -> %d descriptors" % (p, a, b) for p, (a, b) in grown.items())

    # ---- one case -----------------------------------------------------------------------------------------------

    def check_case(self, case, resp):
        """The problems with RESP as the answer to CASE (a list of strings)."""
        errs = []
        if resp.status is None:
            return ["no answer: %s; got %r" % (resp.error, resp.raw_head[:200])]
        if resp.status != case.expect:
            errs.append("status %d, want %d; body %r" % (resp.status, case.expect, resp.body[:300]))
        rid = resp.header("x-request-id")
        if case.front == "caddy":
            if rid is None or not RID_RE.match(rid):
                errs.append("X-Request-Id %r on an answer of Caddy's handle_errors" % (rid or b"")[:200])
            elif rid in self.log_rids:
                errs.append("hop logged X-Request-Id %r, where Caddy should have answered alone" % rid)
        elif case.front:
            if rid is not None:
                errs.append("hop answered (X-Request-Id %r) where the front end should have" % rid)
        else:
            if resp.status >= 500:
                errs.append("hop answered with a 5xx")
            if rid is None:
                errs.append("no X-Request-Id")
            elif not RID_RE.match(rid):
                errs.append("malformed X-Request-Id %r" % rid[:200])
            elif case.rid == "gen" and re.search(rb"(?im)^x-request-id:\s*" + re.escape(rid) + rb"\s*$",
                                                  case.raw):
                errs.append("X-Request-Id %r echoed, want a generated one" % rid[:200])
            elif case.rid not in (None, "gen") and rid != C.b(case.rid):
                errs.append("X-Request-Id %r, want %r" % (rid[:200], case.rid))
        for name, value in resp.headers:
            if name in INJECTED or name.startswith("x-injected"):
                errs.append("response carries an injected header %s: %r" % (name, value[:100]))
        if case.problem and resp.status == case.expect:
            errs += self.check_problem(case, resp)
        if case.allow is not None and resp.status == 405:
            got = set(m.strip() for m in (resp.header("allow") or b"").decode("latin-1").split(","))
            if got != set(case.allow.split(", ")):
                errs.append("Allow is %r, want %r" % (resp.header("allow"), case.allow))
        # the API's 401 asks for a Bearer key; the password form's 401 (POST /{slug}) asks for the form again
        api = case.raw.split(b" ", 2)[1].startswith(b"/api")
        if api and case.expect == 401 and resp.status == 401 and (resp.header("www-authenticate") or b"").lower() != b"bearer":
            errs.append("a 401 without WWW-Authenticate: Bearer")
        for check in case.checks:
            msg = check(resp)
            if msg:
                errs.append(msg)
        return errs

    def check_problem(self, case, resp):
        errs = []
        ct = resp.header("content-type") or b""
        if ct.split(b";")[0].strip().lower() != PROBLEM_CT:
            errs.append("Content-Type %r, want application/problem+json" % ct)
        if case.head:
            return errs
        try:
            p = json.loads(resp.body)
        except ValueError:
            return errs + ["the problem body is not JSON: %r" % resp.body[:200]]
        if not isinstance(p, dict):
            return errs + ["the problem body is not an object"]
        for k in ("type", "title", "detail"):
            if not isinstance(p.get(k), str) or not p.get(k):
                errs.append("problem %s missing or not a string" % k)
        if p.get("status") != resp.status:
            errs.append("problem status %r, HTTP status %d" % (p.get("status"), resp.status))
        if resp.status == 422 or case.field:
            e = p.get("errors")
            if not isinstance(e, list) or not e or not all(
                    isinstance(x, dict) and isinstance(x.get("field"), str) and isinstance(x.get("detail"), str)
                    for x in e):
                errs.append("problem errors missing or malformed: %r" % (e,))
            elif case.field and case.field not in [x["field"] for x in e]:
                errs.append("problem errors name %r, want %r among them" % ([x["field"] for x in e][:5], case.field))
        return errs

    def after_create(self, case, resp):
        """A 201 from POST /api/links: record the link, check it holds the URL sent and redirects to exactly it."""
        errs = []
        try:
            link = json.loads(resp.body)
            slug, url = link["slug"], link["url"]
        except (ValueError, KeyError, TypeError):
            return ["a 201 without a link object: %r" % resp.body[:200]]
        self.want[slug] = url
        if case.creates is None:
            return errs
        want = case.creates
        if url != want:
            errs.append("stored url %r, want %r" % (url, want))
        if link.get("redirect") != case.redirect:
            errs.append("redirect %r, want %r" % (link.get("redirect"), case.redirect))
        if (resp.header("location") or b"") != b"/api/links/" + slug.encode():
            errs.append("Location %r, want /api/links/%s" % (resp.header("location"), slug))
        follow = self.client.send(C.request("GET", "/" + slug))
        self.wait_logged(follow)
        if follow.status != case.redirect:
            errs.append("GET /%s: status %r, want %d (%s)" % (slug, follow.status, case.redirect, follow.error))
        elif follow.header("location") != want.encode("utf-8"):
            errs.append("GET /%s: Location %r, want exactly %r" % (slug, follow.header("location"), want))
        for name, _ in follow.headers:
            if name in INJECTED or name.startswith("x-injected"):
                errs.append("GET /%s: the redirect carries an injected header %s" % (slug, name))
        return errs

    def apply_effect(self, case, resp):
        if not case.effect or resp.status != case.expect:
            return
        if case.effect[0] == "patch":
            self.want[case.effect[1]] = case.effect[2]
        elif case.effect[0] == "delete":
            self.want.pop(case.effect[1], None)

    def pool_state(self):
        """Problems seen in the pool's own evidence since the last call."""
        errs = []
        grown = self.fd_growth()
        if grown:
            errs.append("descriptors leaked: " + grown)
        health = self.client.send(C.request("GET", "/healthz"))
        if health.status != 200:
            errs.append("afterwards /healthz answers %r (%s)" % (health.status, health.error))
        self.wait_logged(health)
        if self.log_deaths > self.deaths:
            errs.append("%d worker(s) died (hop.log)" % (self.log_deaths - self.deaths))
        if self.log_fivexx > self.fivexx:
            errs.append("hop's access log shows %d answer(s) with a 5xx" % (self.log_fivexx - self.fivexx))
        self.deaths, self.fivexx = self.log_deaths, self.log_fivexx
        return errs

    def record(self, name, errs):
        if errs:
            self.failed.append(name)
            print("FAIL - %s: %s" % (name, "; ".join(errs)), flush=True)
        else:
            self.passed += 1
            print("ok   - %s" % name, flush=True)

    def run_case(self, case):
        raw = case.raw
        resp = self.client.send(raw, head=case.head, shut_write=case.shut)
        self.wait_logged(resp)
        errs = self.check_case(case, resp)
        is_create = raw.startswith(b"POST /api/links ") or raw.startswith(b"POST /api/links?")
        if resp.status == 201 and is_create:
            errs += self.after_create(case, resp)
        self.apply_effect(case, resp)
        errs += self.pool_state()
        who = "front end" if case.front and (case.front == "caddy" or resp.header("x-request-id") is None) else "hop"
        self.histogram[(resp.status, who)] += 1
        self.record(case.name, errs)

    # ---- the end ------------------------------------------------------------------------------------------------

    def psql(self, sql):
        return subprocess.run(["psql", "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-d", self.db, "-c", sql],
                              check=True, capture_output=True, text=True).stdout.strip()

    def final_checks(self):
        rows = json.loads(self.psql("SELECT coalesce(json_object_agg(slug, url), '{}') FROM links"))
        missing = {s: u for s, u in self.want.items() if s not in rows}
        wrong = {s: (rows[s], u) for s, u in self.want.items() if s in rows and rows[s] != u}
        extra = {s: u for s, u in rows.items() if s not in self.want}
        errs = []
        if missing:
            errs.append("acknowledged but not stored: %r" % dict(list(missing.items())[:5]))
        if wrong:
            errs.append("stored with another url: %r" % dict(list(wrong.items())[:5]))
        if extra:
            errs.append("stored but never acknowledged: %r" % dict(list(extra.items())[:5]))
        self.record("database: links holds exactly the %d links the valid requests made (%d rows)"
                    % (len(self.want), len(rows)), errs)
        bad = self.psql("SELECT count(*) FROM links WHERE url ~ '[[:cntrl:] ]' OR url !~ '^[\\x21-\\x7e]+$'")
        self.record("database: no stored url holds a control character, a space or non-ASCII",
                    [] if bad == "0" else ["%s such rows" % bad])
        time.sleep(0.5)  # a death is logged by the master once it has reaped the worker
        self.scan_log()
        deaths, fivexx = self.log_deaths, self.log_fivexx
        self.record("the pool's log: no worker died over the whole run",
                    [] if deaths == 0 else ["%d worker(s) died" % deaths])
        self.record("the pool's log: no 5xx answer over the whole run",
                    [] if fivexx == 0 else ["%d access line(s) with a 5xx" % fivexx])

    def summary(self, seconds):
        print("---- answers by status (the battery's requests, not the follow-ups)")
        for status in sorted(set(s for s, _ in self.histogram), key=lambda s: (s is None, s or 0)):
            hop = self.histogram.get((status, "hop"), 0)
            fe = self.histogram.get((status, "front end"), 0)
            print("  %-5s %4d   (hop %d, Caddy/Go themselves %d)" % (status or "none", hop + fe, hop, fe))
        print("  cases: %d in %.1f s; 5xx from hop: %d; worker deaths: %d"
              % (sum(self.histogram.values()), seconds, self.fivexx, self.deaths))


def main():
    run = Run()
    only = os.environ.get("HOSTILE_ONLY", "")
    # the setup cases make the links the others lean on, so they always run
    todo = [c for c in C.CASES if only in c.name or c.name.startswith("setup:")]
    t0 = time.monotonic()
    run.client.send(C.request("GET", "/healthz"))
    run.scan_log()
    run.deaths, run.fivexx = run.log_deaths, run.log_fivexx
    run.fds = run.fd_count()
    for case in todo:
        run.run_case(case)
    if not only:
        run.final_checks()
    run.summary(time.monotonic() - t0)
    with open(run.result_file, "w") as f:
        json.dump({"passed": run.passed, "failed": run.failed}, f)
    if run.failed:
        print("failed:")
        for name in run.failed:
            print("  " + name)
    print("battery: %d passed, %d failed" % (run.passed, len(run.failed)))
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
