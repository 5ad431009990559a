#!/usr/bin/env bash
# bench-smoke: the FastCGI load generator (and the trivial responder) checked against a real pool, in seconds,
# so that `make bench` figures rest on a tool that counts right. Ends with "N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/stack.sh
source "$here/../tests/lib/stack.sh"
load=$STACK_REPO/build/bench/fcgi_load
triv=$STACK_REPO/build/bench/trivial_fcgi
for b in "$load" "$triv"; do
  [[ -x $b ]] || {
    echo "FAIL - $b is missing (make bench-tools)"
    echo "0 passed, 1 failed"
    exit 1
  }
done

stack_start
psql_q "INSERT INTO links (slug, url) VALUES ('smoke', 'https://example.com/smoke')" >/dev/null

# run_load NAME EXPECTED_EXIT ARGS...: run fcgi_load (bounded), keep its output in OUT.
OUT=""
run_load() {
  local name=$1 want=$2 rc=0
  shift 2
  OUT=$(timeout 30 "$load" "$@" 2>&1) || rc=$?
  if [[ $rc == "$want" ]]; then
    ok "$name: exit $want"
  else
    fail "$name: exit $want" "exit $rc; output: $(tr '\n' '|' <<<"$OUT")"
  fi
}
# expect_out NAME REGEX: the last output of fcgi_load matches REGEX.
expect_out() {
  if grep -Eq -- "$2" <<<"$OUT"; then
    ok "$1"
  else
    fail "$1" "no /$2/ in: $(tr '\n' '|' <<<"$OUT")"
  fi
}
access_lines() {
  local n
  n=$(grep -c "msg=access method=\"$1\" path=\"$2\" status=$3 " "$T/hop.log") || true
  echo "${n:-0}"
}

# 100 redirects, counted alike by the load generator and by hop's access log
before=$(access_lines GET /smoke 302)
run_load "100 redirects" 0 -a "$T/hop.sock" -n 100 -c 8 -d 20 -s -h localhost -p /smoke -e 302
expect_out "100 redirects: all 302" '^  status +302: 100$'
expect_out "100 redirects: RESULT line" '^RESULT requests=100 .* errors=0 unexpected=0$'
after=$(access_lines GET /smoke 302)
if ((after - before == 100)); then
  ok "hop logged the same 100 redirects"
else
  fail "hop logged the same 100 redirects" "access lines: $((after - before))"
fi

# a status other than the expected one is an error, and reported as such
run_load "404s expected" 0 -a "$T/hop.sock" -n 50 -c 4 -d 20 -p /nothing-here -e 404
expect_out "404s expected: all 404" '^  status +404: 50$'
run_load "404s when 302 expected fail" 1 -a "$T/hop.sock" -n 10 -c 2 -d 20 -p /nothing-here -e 302
expect_out "404s when 302 expected: counted unexpected" 'unexpected=10$'

# bodies and headers reach hop: 20 creates, then 20 rows in the database
key=$(make_key smoke)
printf '{"url": "https://example.com/smoke-created"}' >"$T/body.json"
run_load "20 creates" 0 -a "$T/hop.sock" -n 20 -c 4 -d 20 -s -h localhost -m POST -p /api/links -b "$T/body.json" \
  -H "Authorization: Bearer $key" -e 201
rows=$(psql_q "SELECT count(*) FROM links WHERE url = 'https://example.com/smoke-created'")
if [[ $rows == 20 ]]; then
  ok "20 creates made 20 links"
else
  fail "20 creates made 20 links" "rows: $rows"
fi
# a response over several STDOUT records (a list of 120 links, over libfcgi's 8 KiB stream buffer) parses
psql_q "INSERT INTO links (slug, owner_id, url) SELECT 'sm' || i, o.id, 'https://example.com/' || i
        FROM generate_series(1, 100) AS i, owners o WHERE o.name = 'smoke'" >/dev/null
run_load "list over several records" 0 -a "$T/hop.sock" -n 10 -c 2 -d 20 -s -p '/api/links?limit=200' \
  -H "Authorization: Bearer $key" -e 200
expect_out "list over several records: over 8 KiB each" ' ([89]|[1-9][0-9]+)\.[0-9] KiB of STDOUT per response'

# time-bounded run: stops by itself (the bound here is the timeout of run_load, not a timing check)
run_load "duration-bounded run" 0 -a "$T/hop.sock" -c 4 -d 1 -p /smoke -e 302
expect_out "duration-bounded run: no errors" 'errors=0 unexpected=0$'

# nothing listening: every request is a connect error, and the exit status says so
run_load "no server" 1 -a "$T/none.sock" -n 5 -c 1 -d 5 -p /smoke
expect_out "no server: connect errors counted" 'errors  +connect 5,'

# the trivial responder answers 302 to all, and stops on SIGTERM
"$triv" "$T/triv.sock" 2 2>"$T/triv.log" &
triv_pid=$!
for ((i = 0; i < 50; i++)); do
  [[ -S $T/triv.sock ]] && grep -q ready "$T/triv.log" && break
  sleep 0.1
done
run_load "trivial responder: 100 × 302" 0 -a "$T/triv.sock" -n 100 -c 8 -d 20 -p /x -e 302
kill -TERM "$triv_pid"
_stack_reap "$triv_pid" 5
if [[ $STACK_REAPED == 0 ]]; then
  ok "trivial responder exits 0 on SIGTERM"
else
  fail "trivial responder exits 0 on SIGTERM" "exit: $STACK_REAPED; log: $(tr '\n' '|' <"$T/triv.log")"
fi

finish
