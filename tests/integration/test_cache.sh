#!/usr/bin/env bash
# The host's link table (handlers/core/cache.c over fcgi-app/shmtable.c) with the real parts: a pool of four
# workers, PostgreSQL, Caddy over HTTPS, and hop's clock moved by HOP_TEST_CLOCK_FILE.
# - One table for the host: a link one worker fetched serves every worker (hop_redirects_total by source).
# - NOTIFY: an edit is seen by every worker at once (the time is printed; the check allows 5 s, far below the
#   5 minutes an entry stays fresh without it).
# - A slug that answered 404 is served at once by every worker when created (no NOTIFY for inserts), 404 again
#   once deleted, and its new target when made again.
# - PostgreSQL stopped and the clock moved 11 minutes, 2 hours, 23 hours: links served keep redirecting with
#   their status, password form, expiry (by the moved clock) and targets; a limited link waits (503 with
#   Retry-After), a used-up one stays 410; workers replaced meanwhile serve the same (the domain list is kept
#   beside the links); a link last served more than 24 hours ago answers 503. PostgreSQL
#   back: fresh again, and an edit made meanwhile (while this pool could not hear it) is served.
# - Workers SIGKILLed in a loop while others serve and links are edited: nothing stuck, every link right after.
# - HOP_CACHE_MB=1 with 3,000 links: every redirect right, evictions counted in /metrics.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

export HOP_WORKERS=4
JSON=(-H 'Content-Type: application/json')
FORM=(-H 'Content-Type: application/x-www-form-urlencoded')
DESKTOP='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' # a person: uses up visits
IPHONE='Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'
KILLS=15    # workers SIGKILLed one after another
MANY=3000   # links for the tiny table
MAXT=20     # curl --max-time: a stuck table shows as a timeout

# The clock file lives outside $T (created by stack_start, after hop needs the variable); removed at exit.
CLK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hop-clock.XXXXXX")
export HOP_TEST_CLOCK_FILE=$CLK_DIR/offset
echo 0 >"$HOP_TEST_CLOCK_FILE"
stack_start
trap 'rm -rf "$CLK_DIR"; stack_stop' EXIT

# clock_at SECONDS: hop's ages and expiry move SECONDS ahead of real time (re-read within a second).
clock_at() {
  echo "$1" >"$HOP_TEST_CLOCK_FILE"
  sleep 1.2
}

scrape() {
  curl -sS --max-time 10 -o "$T/metrics.txt" "$METRICS_BASE/metrics" || : >"$T/metrics.txt"
}

# metric SAMPLE: the sum of the samples that start with SAMPLE in the last scrape (0 when none).
metric() {
  awk -v s="$1" 'index($0, s) == 1 && index(" ,{}", substr($0, length(s) + 1, 1)) { v += $NF }
    END { printf "%d\n", v }' "$T/metrics.txt"
}

# workers_used: the worker slots whose request counters moved since the scrape saved as $T/before.txt.
workers_used() {
  awk '/^hop_worker_requests_total\{/ { if (FILENAME ~ /before/) b[$1] = $NF; else if ($NF > b[$1]) n++ }
    END { print n + 0 }' "$T/before.txt" "$T/metrics.txt"
}

# check NAME DETAIL CMD...: a test that passes when CMD succeeds; DETAIL is printed when it fails.
check() {
  local name=$1 detail=$2
  shift 2
  if "$@"; then ok "$name"; else fail "$name" "$detail"; fi
}

create() {
  API_KEY=$KEY req POST /api/links "${JSON[@]}" --data-binary "$2"
  expect_status "$1" 201
}

patch() {
  API_KEY=$KEY req PATCH "/api/links/$1" "${JSON[@]}" --data-binary "$2"
  [[ $STATUS == 200 ]] || fail "PATCH $1" "$(_stack_last)"
}

# batch FILE N PATH...: N requests of each PATH through one curl (8 at a time); FILE gets
# "url status location" lines.
batch() {
  local out=$1 n=$2 i p
  shift 2
  for ((i = 0; i < n; i++)); do
    for p in "$@"; do
      echo "url = \"$BASE$p\""
      echo 'output = "/dev/null"'
    done
  done >"$T/batch.cfg"
  curl -s -Z --parallel-max 8 --cacert "$CACERT" --max-time "$MAXT" -w '%{url} %{http_code} %{redirect_url}\n' \
    -K "$T/batch.cfg" >"$out" 2>/dev/null || true
}

# answers PATH WANT [curl args]: PATH answers "status location" WANT.
answers() {
  local path=$1 want=$2
  shift 2
  req GET "$path" "$@"
  [[ "$STATUS $(header Location)" == "$want" ]]
}

expect_answer() {
  local name=$1 path=$2 want=$3
  shift 3
  req GET "$path" "$@"
  expect_eq "$name" "$STATUS $(header Location)" "$want"
}

# all_are FILE N WANT: FILE (batch's output) holds exactly N answers "STATUS LOCATION" equal to WANT.
all_are() {
  local file=$1 n=$2 want=$3
  [[ $(grep -c " $want\$" "$file" || true) == "$n" ]]
}

KEY=$(make_key cache)

# ---- every worker up and listening, so that no worker's first connection makes the first entries old ------

workers_connected() {
  scrape
  (($(metric 'hop_postgres_connections{state="up"') >= HOP_WORKERS))
}
poll_until 10000 workers_connected ||
  fail "every worker connected" "$(grep hop_postgres_connections "$T/metrics.txt" | tr '\n' ' ')"
if grep -q 'TEST CLOCK IN USE' "$T/hop.log"; then
  ok "the test clock is announced in the log"
else
  fail "the test clock is announced in the log" "no TEST CLOCK line in hop.log"
fi

# ---- one table for the host ------------------------------------------------------------------------------

create "create warm" '{"url":"https://example.com/warm","slug":"warm"}'
scrape
cp "$T/metrics.txt" "$T/before.txt"
pg0=$(metric 'hop_redirects_total{source="postgres"')
c0=$(metric 'hop_redirects_total{source="cache"')
# one miss first (misses at the same instant in several workers each ask PostgreSQL: there is no waiting on
# another worker's question), then 40 at once over every worker
expect_answer "the first redirect" /warm "302 https://example.com/warm"
batch "$T/warm.out" 40 /warm
scrape
right=$(grep -c ' 302 https://example.com/warm$' "$T/warm.out" || true)
expect_eq "40 redirects of one link, all right" "$right" 40
expect_eq "one PostgreSQL lookup warms every worker" "$(($(metric 'hop_redirects_total{source="postgres"') - pg0))" 1
expect_eq "the other 40 from the table" "$(($(metric 'hop_redirects_total{source="cache"') - c0))" 40
used=$(workers_used)
check "the 40 were answered by several workers ($used)" "$used" test "$used" -ge 2

# ---- NOTIFY: an edit is seen by every worker --------------------------------------------------------------

all_new() {
  batch "$T/notify.out" 12 /warm
  all_are "$T/notify.out" 12 "302 https://example.com/warm-2"
}
scrape
cp "$T/metrics.txt" "$T/before.txt"
patch warm '{"url":"https://example.com/warm-2"}'
if poll_until 5000 all_new; then
  ok "an edit is served by every worker after ${POLL_MS} ms (NOTIFY)"
else
  fail "an edit is served by every worker" "$(sort "$T/notify.out" | uniq -c | tr '\n' ' ')"
fi
scrape
echo "# edit seen by every worker after ${POLL_MS} ms; $(workers_used) workers answered the checks"

# ---- a miss stores nothing: a new link needs no NOTIFY (0018_notify_changes.sql) ---------------------------

batch "$T/miss.out" 24 /fresh
check "a slug with no link answers 404 in every worker" "$(sort "$T/miss.out" | uniq -c | tr '\n' ' ')" \
  all_are "$T/miss.out" 24 "404 "
create "create the slug that answered 404" '{"url":"https://example.com/fresh-1","slug":"fresh"}'
# no poll: the link must be served at once, by whichever worker answers
batch "$T/miss.out" 24 /fresh
check "the new link is served at once by every worker" "$(sort "$T/miss.out" | uniq -c | tr '\n' ' ')" \
  all_are "$T/miss.out" 24 "302 https://example.com/fresh-1"
API_KEY=$KEY req DELETE /api/links/fresh
expect_status "delete it" 204
gone() {
  batch "$T/miss.out" 24 /fresh
  all_are "$T/miss.out" 24 "404 "
}
check "deleted: 404 in every worker (NOTIFY on delete)" "$(sort "$T/miss.out" | uniq -c | tr '\n' ' ')" \
  poll_until 5000 gone
create "the same slug again, another target" '{"url":"https://example.com/fresh-2","slug":"fresh"}'
batch "$T/miss.out" 24 /fresh
check "made again: its new target at once in every worker" "$(sort "$T/miss.out" | uniq -c | tr '\n' ' ')" \
  all_are "$T/miss.out" 24 "302 https://example.com/fresh-2"

# ---- a long outage, simulated by the clock ----------------------------------------------------------------

exp_at=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
create "create plain" '{"url":"https://example.com/plain","slug":"o-plain","redirect":301}'
create "create password" '{"url":"https://example.com/secret","slug":"o-pass","password":"correct horse"}'
create "create expiring" "{\"url\":\"https://example.com/exp\",\"slug\":\"o-exp\",\"expires_at\":\"$exp_at\"}"
create "create targets" '{"url":"https://example.com/t","slug":"o-targets","targets":{"ios":"https://apps.apple.com/app/id1"}}'
create "create limited" '{"url":"https://example.com/lim","slug":"o-lim","max_visits":100}'
create "create used up" '{"url":"https://example.com/used","slug":"o-used","max_visits":1}'
create "create idle" '{"url":"https://example.com/idle","slug":"o-idle"}'
create "create edited" '{"url":"https://example.com/before","slug":"o-edit"}'

served() {
  expect_answer "$1: plain" /o-plain "301 https://example.com/plain"
  expect_answer "$1: password form" /o-pass "200 " -H 'Accept: text/html'
  req POST /o-pass "${FORM[@]}" --data-binary 'password=correct+horse'
  expect_eq "$1: right password" "$STATUS $(header Location)" "303 https://example.com/secret"
  expect_answer "$1: iPhone target" /o-targets "302 https://apps.apple.com/app/id1" -A "$IPHONE"
  expect_answer "$1: other target" /o-targets "302 https://example.com/t"
  expect_answer "$1: edited link" /o-edit "302 https://example.com/before"
}
served "before"
expect_answer "before: expiring" /o-exp "302 https://example.com/exp"
expect_answer "before: limited" /o-lim "302 https://example.com/lim" -A "$DESKTOP"
expect_answer "before: used up, first visit" /o-used "302 https://example.com/used" -A "$DESKTOP"
expect_answer "before: used up" /o-used "410 " -A "$DESKTOP"
expect_answer "before: idle served once" /o-idle "302 https://example.com/idle"

stack_pg_stop fast || fail "pg_ctl stop" "see $T/pgdev.log"
scrape
stale0=$(metric 'hop_redirects_total{source="stale"')
for at in 660:11min 7200:2h 82800:23h; do
  clock_at "${at%%:*}"
  served "down ${at#*:}"
  req GET /o-lim -A "$DESKTOP"
  expect_eq "down ${at#*:}: limited link waits" "$STATUS retry-after=$(header Retry-After)" "503 retry-after=1"
  expect_answer "down ${at#*:}: used up stays used up" /o-used "410 " -A "$DESKTOP"
  if [[ ${at#*:} == 11min ]]; then
    expect_answer "down 11min: expiring link still live" /o-exp "302 https://example.com/exp"
  else
    expect_answer "down ${at#*:}: expiring link expired by the moved clock" /o-exp "410 "
  fi
done
scrape
stale=$(($(metric 'hop_redirects_total{source="stale"') - stale0))
check "outage redirects counted as stale ($stale)" "$stale" test "$stale" -ge 15
# workers replaced during the outage start with nothing of their own: the table (and the domain list kept
# beside it) is the host's
four_workers() { (($(stack_pool_workers | wc -l) == HOP_WORKERS)); }
for p in $(stack_pool_workers); do kill -KILL "$p"; done
poll_until 10000 four_workers || fail "workers replaced during the outage" "$(stack_pool_workers | wc -l)"
expect_answer "down 23h: workers started during the outage serve the table" /o-plain "301 https://example.com/plain"
expect_answer "down 23h: and its password form" /o-pass "200 " -H 'Accept: text/html'
clock_at 90000
expect_answer "down 25h: served 2 h ago, still redirects" /o-plain "301 https://example.com/plain"
req GET /o-idle
expect_eq "down 25h: last served 25 h ago: 503" "$STATUS" 503

# an edit this pool cannot hear of: made straight in the database while hop's connections are down
stack_pg_start || fail "pg_ctl start" "see $T/pgdev.log"
psql_q "UPDATE links SET url = 'https://example.com/after' WHERE slug = 'o-edit'" >/dev/null
# hop reconnects within its retry interval; every entry is then old and fetched again
if poll_until 15000 answers /o-edit "302 https://example.com/after"; then
  ok "PostgreSQL back: an edit made meanwhile is served (${POLL_MS} ms)"
else
  fail "PostgreSQL back: edit made meanwhile served" "$(_stack_last)"
fi
expect_answer "back: idle link served again" /o-idle "302 https://example.com/idle"
expect_answer "back: expired stays expired" /o-exp "410 "
scrape
pg1=$(metric 'hop_redirects_total{source="postgres"')
expect_answer "back: plain" /o-plain "301 https://example.com/plain"
expect_answer "back: plain again" /o-plain "301 https://example.com/plain"
scrape
expect_eq "back: fetched afresh once, then from the table" "$(($(metric 'hop_redirects_total{source="postgres"') - pg1))" 1
clock_at 0

# ---- workers SIGKILLed while others serve and links change ------------------------------------------------

for i in $(seq 0 19); do
  create "create k$i" "{\"url\":\"https://example.com/k$i-0\",\"slug\":\"k$i\"}"
done
PATHS=()
for i in $(seq 0 19); do PATHS+=("/k$i"); done
rm -f "$T/stop.load"
(
  # editors: every link changes again and again, so that puts and removes keep running
  for ((n = 1; n <= 400; n++)); do
    [[ -e $T/stop.load ]] && break
    i=$((n % 20))
    curl -s -o /dev/null --cacert "$CACERT" --max-time "$MAXT" -X PATCH -H "Authorization: Bearer $KEY" \
      "${JSON[@]}" --data-binary "{\"url\":\"https://example.com/k$i-$n\"}" "$BASE/api/links/k$i" || true
  done
) &
editor=$!
(
  for ((n = 0; n < 200; n++)); do
    [[ -e $T/stop.load ]] && break
    batch "$T/kill.$n.out" 2 "${PATHS[@]}"
  done
) &
loader=$!
killed=0
for ((k = 0; k < KILLS; k++)); do
  sleep 0.$((RANDOM % 4 + 1))
  mapfile -t pids < <(stack_pool_workers)
  ((${#pids[@]})) || continue
  kill -KILL "${pids[RANDOM % ${#pids[@]}]}" 2>/dev/null && killed=$((killed + 1))
done
touch "$T/stop.load"
wait "$editor" "$loader" 2>/dev/null || true
echo "# $killed workers SIGKILLed under load; $(cat "$T"/kill.*.out 2>/dev/null | wc -l) redirects asked meanwhile"
hung=$(cat "$T"/kill.*.out 2>/dev/null | awk '$2 == "000"' | wc -l)
echo "# requests without an answer during the kills (the killed workers' own): $hung"
poll_until 10000 four_workers || fail "workers replaced" "$(stack_pool_workers | wc -l)"
want=$(psql_q "SELECT string_agg('$BASE/' || slug || ' 302 ' || url, E'\n' ORDER BY slug) FROM links WHERE slug ~ '^k[0-9]+$'")
every_right() {
  batch "$T/after.out" 3 "${PATHS[@]}"
  [[ $(sort -u "$T/after.out") == "$(sort <<<"$want")" ]]
}
if poll_until 5000 every_right; then
  ok "after $killed kills: every link answers its current address from every worker"
else
  fail "after kills: every link right" "$(diff <(sort -u "$T/after.out") <(sort <<<"$want") | head -5 | tr '\n' '|')"
fi
patch k1 '{"url":"https://example.com/k1-final"}'
check "after kills: an edit is still served" "see the last answer" poll_until 5000 answers /k1 "302 https://example.com/k1-final"

# ---- a tiny table: HOP_CACHE_MB=1, 3,000 links -----------------------------------------------------------

stack_pool_stop
HOP_CACHE_MB=1 stack_pool_start
psql_q "INSERT INTO links (slug, owner_id, url) SELECT 'm' || i, (SELECT id FROM owners WHERE name = 'cache'),
        'https://example.com/many/' || i FROM generate_series(1, $MANY) i" >/dev/null
MP=()
for ((i = 1; i <= MANY; i++)); do MP+=("/m$i"); done
batch "$T/many1.out" 1 "${MP[@]}"
batch "$T/many2.out" 1 "${MP[@]}"
right=$(cat "$T/many1.out" "$T/many2.out" | awk '{ n = $1; sub(/.*\/m/, "", n) } $2 == 302 && $3 == "https://example.com/many/" n' | wc -l)
expect_eq "HOP_CACHE_MB=1: every one of 2 x $MANY redirects right" "$right" $((2 * MANY))
scrape
ev=$(metric hop_link_table_evictions_total)
check "HOP_CACHE_MB=1: evictions counted ($ev)" "$ev" test "$ev" -gt 0
check "HOP_CACHE_MB=1 read" "no log line" grep -q 'msg="link table mapped" mb=1 ' "$T/hop.log"
if HOP_CACHE_MB=0 HOP_LISTEN=$T/bad.sock timeout 10 "$HOP_BIN" serve >/dev/null 2>"$T/bad.log"; then
  fail "HOP_CACHE_MB=0 refused" "it started"
else
  expect_eq "HOP_CACHE_MB=0 refused" "$(grep -c 'HOP_CACHE_MB=0 is not' "$T/bad.log")" 1
fi

finish
