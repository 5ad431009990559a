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

# the header sets of -V carry client addresses: a country database of the test's own tells them apart
MMDB=$T/smoke.mmdb
perl "$here/../tests/lib/make-mmdb.pl" "$MMDB" 10.1.0.0/16=US 10.2.0.0/16=DE
export HOP_GEOIP_DB=$MMDB
stack_start
psql_q "INSERT INTO owners (name) VALUES ('smoke');
        INSERT INTO links (slug, owner_id, url) SELECT 'smoke', id, 'https://example.com/smoke' FROM owners" >/dev/null

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

# What a visitor sends reaches hop as sent: -H replaces the generator's default User-Agent (two params of one
# name would leave hop the first), and -V picks one header set a request, the client address included.
# counts_of SLUG: "dim:value:humans:bots" for each of the link's rows (none values have none: a bot's device
# is the total less the others); total_is SLUG N: its total is N.
counts_of() {
  psql_q "SELECT string_agg(c.dim || ':' || c.value || ':' || c.humans || ':' || c.bots, ' ' ORDER BY c.dim, c.value)
          FROM visit_counts c JOIN links l ON l.id = c.link_id WHERE l.slug = '$1'"
}
total_is() { [[ $(psql_q "SELECT coalesce(sum(c.humans + c.bots), 0) FROM visit_counts c JOIN links l ON l.id = c.link_id
                          WHERE l.slug = '$1' AND c.dim = 0") == "$2" ]]; }
psql_q "INSERT INTO links (slug, owner_id, url) SELECT s, o.id, 'https://example.com/' || s
        FROM owners o, unnest(ARRAY['smoke-ua', 'smoke-v']) s WHERE o.name = 'smoke'" >/dev/null
iphone='Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
run_load "-H User-Agent" 0 -a "$T/hop.sock" -n 10 -c 2 -d 20 -s -h localhost -p /smoke-ua -H "User-Agent: $iphone" -e 302
poll_until 5000 total_is smoke-ua 10 || true
got=$(counts_of smoke-ua)
if [[ " $got " == *" 3:mobile:10:0 "* && " $got " == *" 5:iOS:10:0 "* ]]; then
  ok "-H User-Agent: hop counted 10 human visits from an iPhone"
else
  fail "-H User-Agent: hop counted 10 human visits from an iPhone" "rows: $got"
fi
printf 'User-Agent: %s\tRemote-Addr: 10.1.2.3\tReferer: https://t.co/abc\n' "$iphone" >"$T/variants.txt"
printf 'User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\tRemote-Addr: 10.2.0.9\n' >>"$T/variants.txt"
run_load "-V two header sets" 0 -a "$T/hop.sock" -n 60 -c 4 -d 20 -s -h localhost -p /smoke-v -V "$T/variants.txt" -e 302
poll_until 5000 total_is smoke-v 60 || true
got=$(counts_of smoke-v)
humans=$(grep -Eo ' 2:US:[0-9]+:0 ' <<<" $got " | cut -d: -f3 | tr -d ' ')
bots=$(grep -Eo ' 2:DE:0:[0-9]+ ' <<<" $got " | cut -d: -f4 | tr -d ' ')
if [[ -n $humans && -n $bots ]] && ((humans > 0 && bots > 0 && humans + bots == 60)) &&
  [[ " $got " == *" 1:t.co:$humans:0 "* && " $got " == *" 3:mobile:$humans:0 "* && " $got " != *" 3:bot:"* ]]; then
  ok "-V: both header sets reached hop ($humans from an iPhone in US with a referrer, $bots from Googlebot in DE)"
else
  fail "-V: both header sets reached hop" "rows: $got"
fi
printf 'User-Agent has no colon\n' >"$T/bad-variants.txt"
run_load "-V with a malformed line" 2 -a "$T/hop.sock" -n 1 -c 1 -d 5 -p /smoke-v -V "$T/bad-variants.txt"
expect_out "-V with a malformed line: named" 'line 1 of the header set file is not valid'

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
