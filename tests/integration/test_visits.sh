#!/usr/bin/env bash
# Integration test of visit counting under load, through Caddy over HTTPS (HTTP/2, one curl multiplexing 64
# requests at a time): N concurrent redirects are exactly N in `visits` and in stats within 2 s, nothing is
# lost across a graceful stop and restart of the pool, and a worker SIGKILLed mid-load loses nothing it counted.
# Humans (a browser's User-Agent) and bots (HEAD requests) are counted apart: visits and bot_visits.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

export HOP_WORKERS=${HOP_WORKERS:-4}
N=${VISITS_N:-3000} # per phase 1 and 4 (a multiple of 5); phases 2 and 3 send N/3
TOTAL=0             # 302s received so far from humans: what visits must say
BOTS=0              # 302s received so far from bots (HEAD): what bot_visits must say
declare -A BY=()    # Referer group -> 302s received so far
UA='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'

# load_cfg FILE N: a curl config of N requests for /pop in five equal groups, each tagged in the write-out:
# A: Referer with upper case and a port, B: another host, N: no Referer, G: an unparsable Referer,
# H: HEAD requests (bots, from the same browser User-Agent).
load_cfg() {
  local file=$1 per=$(($2 / 5)) g i
  for g in A B N G H; do
    [[ $g == A ]] || echo next
    echo "cacert = \"$CACERT\""
    echo "user-agent = \"$UA\""
    printf '%s\n' "write-out = \"$g %{http_code} %{http_version}\\n\""
    case $g in
    A) echo 'referer = "https://A.Example:8443/from?x=1"' ;;
    B) echo 'referer = "http://b.example/"' ;;
    G) echo 'referer = ":: not a url ::"' ;;
    H)
      echo 'referer = "https://h.example/"'
      echo 'head'
      ;;
    esac
    for ((i = 0; i < per; i++)); do
      echo "url = \"$BASE/pop\""
      echo 'output = "/dev/null"'
    done
  done >"$file"
}

# start_load NAME N: start the load in the background (LOAD_PID); results in $T/NAME.out.
start_load() {
  load_cfg "$T/$1.cfg" "$2"
  curl -sS --no-progress-meter -Z --parallel-max 64 -K "$T/$1.cfg" >"$T/$1.out" 2>"$T/$1.err" &
  LOAD_PID=$!
  LOAD_T0=$(now_ms)
}

# end_load NAME N: wait for the load; add its 302s to TOTAL and BY; check the answers; LOAD_MS, GOT302, OTHER.
end_load() {
  local name=$1 n=$2 g
  wait "$LOAD_PID" || true
  LOAD_MS=$(($(now_ms) - LOAD_T0))
  GOT302=$(awk '$2 == 302' "$T/$name.out" | wc -l)
  OTHER=$(awk '$2 != 302 {print $2}' "$T/$name.out" | sort | uniq -c | tr -s ' ' | paste -sd, -)
  for g in A B N G H; do
    BY[$g]=$((${BY[$g]:-0} + $(awk -v g="$g" '$1 == g && $2 == 302' "$T/$name.out" | wc -l)))
  done
  local bots
  bots=$(awk '$1 == "H" && $2 == 302' "$T/$name.out" | wc -l)
  TOTAL=$((TOTAL + GOT302 - bots))
  BOTS=$((BOTS + bots))
  expect_eq "$name: the load over HTTP/2" "$(awk '{print $3}' "$T/$name.out" | sort -u | paste -sd, -)" 2
  echo "# $name: $n requests in $LOAD_MS ms, $GOT302 302s${OTHER:+, others: $OTHER}"
}

# visits_are HUMANS [BOTS]: the link's visits and bot_visits (BOTS defaults to what was sent).
visits_are() {
  req GET /api/links/pop
  [[ $STATUS == 200 && $(jq -r '"\(.visits) \(.bot_visits)"' <<<"$BODY") == "$1 ${2:-$BOTS}" ]]
}

# check_counts NAME: visits reach TOTAL within 2 s of the load's end; then stats agree, host by host.
check_counts() {
  local name=$1
  if poll_until 2000 visits_are "$TOTAL"; then
    ok "$name: visits = $TOTAL, bot_visits = $BOTS within 2 s ($POLL_MS ms after the load ended)"
  else
    fail "$name: visits = $TOTAL, bot_visits = $BOTS within 2 s" "$(_stack_last)"
  fi
  TIMES+=("$name: $POLL_MS ms")
  req GET /api/links/pop/stats?days=1
  expect_json "$name: stats total" .total "$TOTAL"
  expect_json "$name: today's visits" '.days[-1].visits' "$TOTAL"
  expect_jeq "$name: stats referrers, host by host" '.referrers | sort_by(.host)' "$(
    jq -nc --argjson a "${BY[A]}" --argjson b "${BY[B]}" --argjson n "$((BY[N] + BY[G]))" \
      '[{host: "", visits: $n}, {host: "a.example", visits: $a}, {host: "b.example", visits: $b}]
        | map(select(.visits > 0))'
  )"
  expect_json "$name: referrers by count, then host" '.referrers == (.referrers | sort_by(-.visits, .host))' true
}

db_visits() {
  psql_q "SELECT coalesce(sum(v.humans), 0) || ' ' || coalesce(sum(v.bots), 0) FROM visit_counts v
    JOIN links l ON l.id = v.link_id WHERE l.slug = 'pop' AND v.dim = 0"
}

TIMES=()
stack_start
API_KEY=$(make_key visits)
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/popular","slug":"pop"}'
expect_status "create pop" 201

# ---- 1: N concurrent redirects ------------------------------------------------------------------------
start_load load1 "$N"
end_load load1 "$N"
expect_eq "load1: all $N answered 302" "$GOT302" "$N"
check_counts load1

# ---- 2: load, then at once a graceful stop: every counted visit is written -------------------------------
M=$(((N / 15) * 5))
start_load load2 "$M"
end_load load2 "$M"
expect_eq "load2: all $M answered 302" "$GOT302" "$M"
stack_pool_stop hop
expect_eq "load2: after a graceful stop the database holds every visit" "$(db_visits)" "$TOTAL $BOTS"
stack_pool_start hop
req GET /api/links/pop
expect_json "after the restart: visits" .visits "$TOTAL"

# ---- 3: more after the restart ----------------------------------------------------------------------------
start_load load3 "$M"
end_load load3 "$M"
expect_eq "load3: all $M answered 302" "$GOT302" "$M"
check_counts load3

# ---- 4: a worker SIGKILLed during the load ---------------------------------------------------------------
mapfile -t before < <(stack_pool_workers hop)
expect_eq "pool has $HOP_WORKERS workers" "${#before[@]}" "$HOP_WORKERS"
victim=${before[1]:-${before[0]}}
served_by_victim() {
  local n
  n=$(grep -c "pid=$victim msg=access method=\"[A-Z]*\" path=\"/pop\" status=302 " "$T/hop.log") || true
  echo "${n:-0}"
}
served_before=$(served_by_victim)
start_load load4 "$N"
# kill once some answers are in (curl writes its results in blocks, so this is at least a few hundred)
for ((i = 0; i < 200; i++)); do
  [[ -s $T/load4.out ]] && break
  _stack_alive "$LOAD_PID" || break
  sleep 0.01
done
during=0
_stack_alive "$LOAD_PID" && during=1
kill -KILL "$victim"
killed_after=$(wc -l <"$T/load4.out")
end_load load4 "$N"
expect_eq "load4: the worker was killed while the load ran" "$during" 1
served=$(($(served_by_victim) - served_before))
if ((served > 0)); then
  ok "load4: the killed worker had answered $served of this load's redirects"
else
  fail "load4: the killed worker had answered some of this load's redirects" "none in hop.log for pid $victim"
fi
echo "# load4: worker $victim killed after $killed_after answers had been written"
# The one request the killed worker had in hand may have been counted before its answer was lost (Caddy then
# answers 502); any other difference is a lost or doubled visit.
if poll_until 2000 visits_are "$TOTAL"; then
  ok "load4: visits = the 302s received ($TOTAL) within 2 s ($POLL_MS ms)"
  TIMES+=("load4: $POLL_MS ms")
elif [[ -n $OTHER ]] && visits_are "$((TOTAL + 1))"; then
  ok "load4: visits = the 302s received + the killed worker's request in hand (answered ${OTHER# })"
  TOTAL=$((TOTAL + 1))
elif [[ -n $OTHER ]] && visits_are "$TOTAL" "$((BOTS + 1))"; then
  ok "load4: bot_visits = the 302s received + the killed worker's HEAD in hand (answered ${OTHER# })"
  BOTS=$((BOTS + 1))
else
  fail "load4: visits = the 302s received ($TOTAL)" "$(_stack_last)"
fi
req GET /api/links/pop/stats?days=1
expect_json "load4: stats total = visits" .total "$TOTAL"
expect_eq "load4: exactly one worker died" "$(worker_deaths)" 1
respawned() {
  mapfile -t now < <(stack_pool_workers hop)
  ((${#now[@]} == HOP_WORKERS)) && ! printf '%s\n' "${now[@]}" | grep -qx "$victim"
}
if poll_until 5000 respawned; then ok "load4: the killed worker was replaced ($POLL_MS ms)"; else fail "load4: the killed worker was replaced" "workers: $(stack_pool_workers hop | paste -sd' ')"; fi
before_last=$((TOTAL + BOTS))
start_load load5 100
end_load load5 100
expect_eq "after the kill: 100 more redirects answered 302" "$GOT302" 100
if poll_until 2000 visits_are "$TOTAL"; then ok "after the kill: visits = $TOTAL ($POLL_MS ms)"; else fail "after the kill: visits = $TOTAL" "$(_stack_last)"; fi
expect_eq "after the kill: 100 more counted" "$((TOTAL + BOTS - before_last))" 100

if grep -Eq 'visits (dropped|lost)' "$T/hop.log"; then
  fail "no visit dropped or lost" "$(grep -Em 3 'visits (dropped|lost)' "$T/hop.log" | tr '\n' '|')"
else
  ok "no visit dropped or lost (hop.log)"
fi
echo "timings (load end -> visits exact): ${TIMES[*]}"
# ---- 5: many distinct referrer hosts: each worker's counter table fills and it moves to its second table ---
# 6000 visits from 3000 hosts (each host twice) are more keys than one table holds before it switches.
req POST /api/links -H 'content-type: application/json' -d '{"url":"https://example.com/many","slug":"many"}'
expect_status "many hosts: created" 201
{
  echo "cacert = \"$CACERT\""
  printf '%s\n' 'write-out = "%{http_code}\n"'
  echo "user-agent = \"$UA\""
  for ((i = 0; i < 3000; i++)); do
    for r in 1 2; do
      echo "url = \"$BASE/many\""
      echo "referer = \"https://h$i.example/$r\""
      echo 'output = "/dev/null"'
      echo next
      echo "cacert = \"$CACERT\""
      printf '%s\n' 'write-out = "%{http_code}\n"'
      echo "user-agent = \"$UA\""
    done
  done
  echo "url = \"$BASE/healthz\""
  echo 'output = "/dev/null"'
} >"$T/many.cfg"
curl -sS --no-progress-meter -Z --parallel-max 64 -K "$T/many.cfg" >"$T/many.out" 2>"$T/many.err" || true
many=$(grep -c '^302$' "$T/many.out" || true)
expect_eq "many hosts: every redirect answered 302" "$many" 6000
many_exact() {
  req GET /api/links/many/stats?days=1
  [[ $STATUS == 200 && $(jq -r '.total' <<<"$BODY") == "$many" ]]
}
if poll_until 5000 many_exact; then ok "many hosts: stats total is exactly $many (${POLL_MS} ms)"; else fail "many hosts: stats total" "$BODY"; fi
expect_eq "many hosts: 3000 distinct hosts stored" "$(psql_q "SELECT count(DISTINCT value) FROM visit_counts v JOIN links l ON l.id = v.link_id WHERE l.slug = 'many' AND v.dim = 1")" 3000
expect_eq "many hosts: each host counted twice" "$(psql_q "SELECT count(*) FROM (SELECT value FROM visit_counts v JOIN links l ON l.id = v.link_id WHERE l.slug = 'many' AND v.dim = 1 GROUP BY value HAVING sum(humans) <> 2) x")" 0
expect_eq "many hosts: nothing dropped" "$(grep -c 'msg="visits dropped"' "$T/hop.log" || true)" 0

# ---- 5b: a batch PostgreSQL takes long to write does not stop the counting ---------------------------------
# A session holds visit_hours in SHARE mode, so the master's next batch waits on the lock. The master sends
# a batch and goes on draining the workers' tables while it waits (a master that waited in the statement
# drained nothing meanwhile, and a busy database filled the tables until visits were dropped): what arrives
# meanwhile shows in hop_visits_pending, and everything is in the database once the lock goes.
pending_metric() {
  "$HOP_BIN" status --metrics --socket "$T/hop.sock" 2>/dev/null | awk '$1 == "hop_visits_pending" { print $2 }'
}
pending_is() { [[ $(pending_metric) == "$1" ]]; }
batch_waits() {
  [[ $(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND (query LIKE '%visit_batches%' OR query LIKE '%visit_log_take%')") == 1 ]]
}
req GET /api/links/pop
slow_before=$(jq -r '.visits' <<<"$BODY")
psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB" -c "BEGIN; LOCK TABLE visit_hours IN SHARE MODE; SELECT pg_sleep(6); COMMIT;" \
  >"$T/slow-lock.out" 2>&1 &
slow_psql=$!
sleep 0.3
slow_cfg() {
  local n=$1 i
  for ((i = 0; i < n; i++)); do
    echo "cacert = \"$CACERT\""
    echo "user-agent = \"$UA\""
    printf '%s\n' 'write-out = "%{http_code}\n"'
    echo "url = \"$BASE/pop\""
    echo 'output = "/dev/null"'
    ((i == n - 1)) || echo next
  done
}
slow_cfg 200 >"$T/slow1.cfg"
slow_cfg 300 >"$T/slow2.cfg"
curl -sS --no-progress-meter -Z --parallel-max 16 -K "$T/slow1.cfg" >"$T/slow1.out" 2>&1 || true
if poll_until 5000 batch_waits; then
  ok "slow batch: the master's batch waits on the lock (${POLL_MS} ms)"
  curl -sS --no-progress-meter -Z --parallel-max 16 -K "$T/slow2.cfg" >"$T/slow2.out" 2>&1 || true
  slow_302=$(cat "$T/slow1.out" "$T/slow2.out" | grep -c '^302$' || true)
  expect_eq "slow batch: 500 redirects answered while the batch waits" "$slow_302" 500
  if poll_until 3000 pending_is 500; then
    ok "slow batch: the master drained the later 300 while the batch waited (hop_visits_pending 500, ${POLL_MS} ms)"
  else
    fail "slow batch: the master drains while the batch waits" "hop_visits_pending $(pending_metric), want 500; the batch still waits: $(batch_waits && echo yes || echo no)"
  fi
else
  fail "slow batch: the master's batch waits on the lock" "$(psql_q "SELECT wait_event_type, query FROM pg_stat_activity" | tr '\n' '|')"
fi
wait "$slow_psql" || true
TOTAL=$((TOTAL + 500))
if poll_until 5000 visits_are "$TOTAL"; then
  ok "slow batch: all 500 counted once the lock is gone (visits $TOTAL, ${POLL_MS} ms)"
else
  fail "slow batch: all 500 counted" "before $slow_before; $(_stack_last)"
fi
expect_eq "slow batch: nothing dropped" "$(grep -c 'msg="visits dropped"' "$T/hop.log" || true)" 0

# ---- 6: HOP_VISITS_WRITE_MS and HOP_VISITS_PG_MS out of their ranges are refused at start ------------------
for bad in HOP_VISITS_WRITE_MS=10001/0-10000 HOP_VISITS_WRITE_MS=-1/0-10000 HOP_VISITS_WRITE_MS=soon/0-10000 \
  HOP_VISITS_PG_MS=0/1-1000 HOP_VISITS_PG_MS=1001/1-1000 HOP_VISITS_PG_MS=5%/1-1000; do
  setting=${bad%/*} range=${bad#*/}
  if env "$setting" HOP_LISTEN="$T/bad.sock" timeout 10 "$HOP_BIN" serve >/dev/null 2>"$T/bad.log"; then
    fail "$setting refused" "it started"
  else
    expect_eq "$setting refused, the range named" \
      "$(grep -c "$setting is not a whole number from ${range%-*} to ${range#*-}" "$T/bad.log")" 1
  fi
done

# ---- 7: a delete chosen as a deadlock's victim is run again ----------------------------------------------
# A link's delete locks the link's row and then the owner's summary rows; a transaction that takes them the
# other way round (the owner's row, then the link's as a foreign key's check does) deadlocks with it, and
# PostgreSQL aborts one of the two (CI saw a 500 for a delete in test_threehosts).
# A session plays the batch write's part: it holds the owner's read_lsn row, waits until the delete queues
# behind it, then asks for the link's row. With its own deadlock_timeout far above the server's, the delete
# is the victim, and hop must run it again (and wait for the session's commit) rather than answer 500.
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/d","slug":"dead1"}'
expect_status "deadlock: create dead1" 201
dead_owner=$(psql_q "SELECT owner_id FROM links WHERE slug = 'dead1'")
dead_link=$(psql_q "SELECT id FROM links WHERE slug = 'dead1'")
psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB" >"$T/deadlock.out" 2>&1 <<SQL &
BEGIN;
SET LOCAL deadlock_timeout = '60s';
SELECT 'locked' FROM read_lsn WHERE owner_id = $dead_owner FOR UPDATE;
DO \$\$ BEGIN
  FOR i IN 1..800 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid());
    PERFORM pg_sleep(0.025);
  END LOOP;
END \$\$;
SELECT 'shared' FROM links WHERE id = $dead_link FOR KEY SHARE;
COMMIT;
SQL
dead_psql=$!
session_waits() {
  [[ $(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'DO %pg_locks%' AND pid <> pg_backend_pid()") == 1 ]]
}
if poll_until 10000 session_waits; then
  retries_before=$(grep -c 'msg="statement retried"' "$T/hop.log" || true)
  failed_before=$(grep -c 'msg="statement failed"' "$T/hop.log" || true)
  req DELETE /api/links/dead1
  expect_status "deadlock: the delete that PostgreSQL aborted is run again and succeeds" 204
  wait "$dead_psql" || true
  expect_eq "deadlock: the session got the link's row first and committed" "$(tr '\n' ' ' <"$T/deadlock.out")" "locked shared "
  expect_eq "deadlock: the link is gone" "$(psql_q "SELECT count(*) FROM links WHERE slug = 'dead1'")" 0
  retried=$(grep 'msg="statement retried"' "$T/hop.log" | tail -n +$((retries_before + 1)) | grep -c 'name=link_delete sqlstate=40P01' || true)
  # once, or more when the retry takes the link's row before the session that waited for it wakes: then the
  # two deadlock again, and the retry is again the victim (seen once on a loaded machine)
  expect_eq "deadlock: hop logged the retry with its SQLSTATE" "$((retried >= 1))" 1
  expect_eq "deadlock: no statement failed" "$(grep -c 'msg="statement failed"' "$T/hop.log" || true)" "$failed_before"
else
  fail "deadlock: the session holding the owner's row is waiting" "$(cat "$T/deadlock.out")"
  kill "$dead_psql" 2>/dev/null || true
fi

# ---- 7: a master killed outright leaves its window in the log, and a master adopts it ----------------------
# A session holds visit_hours in SHARE mode, and the pool's sessions give up a lock wait after 300 ms
# (lock_timeout for the database), so the master's statements that add its window keep failing (each part is
# rebuilt from the log and tried again) while its batches still reach the log. Once the window holds every
# visit, the master is SIGKILLed: the advisory lock that said it was alive goes with its connection. The pool
# started again adopts the log rows (a dead writer's, older than 2 s; with the default window of a minute
# it would wait three minutes otherwise), and every answered redirect is counted once.
req POST /api/links -H 'content-type: application/json' -d '{"url":"https://example.com/adopt","slug":"adopt"}'
expect_status "adoption: created" 201
req POST /api/links -H 'content-type: application/json' -d '{"url":"https://example.com/adopt-first","slug":"adopt-first"}'
expect_status "adoption: created adopt-first" 201
stack_pool_stop hop
psql_q "ALTER DATABASE $(psql_q "SELECT current_database()") SET lock_timeout = '300ms'" >/dev/null
stack_pool_start hop
# The master connects after msg=ready, and the roll-up it runs then writes visit_hours: the lock below,
# taken first, held up its start (before the prepares waited at most 100 ms for a lock, it kept the master
# from connecting at all: nothing logged, the 200 visits pending). So the lock waits until a visit of another
# link has gone all the way to the hours, and the window is empty again.
window_is() {
  [[ $("$HOP_BIN" status --metrics --socket "$T/hop.sock" 2>/dev/null | awk '$1 == "hop_visits_window" { print $2 }') == "$1" ]]
}
first_counted() {
  req GET /api/links/adopt-first
  [[ $STATUS == 200 && $(jq -r '.visits + .bot_visits' <<<"$BODY") == 1 ]] && window_is 0
}
curl -sS -o /dev/null --cacert "$CACERT" -A "$UA" "$BASE/adopt-first" || true
poll_until 10000 first_counted || fail "adoption: the master is connected (a visit of adopt-first counted)" "$BODY"
# redirects N SLUG LABEL: N redirects of SLUG, up to 16 at a time, all of them answered 302
redirects() {
  local i
  {
    for ((i = 0; i < $1; i++)); do
      echo "cacert = \"$CACERT\""
      echo "user-agent = \"$UA\""
      printf '%s\n' 'write-out = "%{http_code}\n"'
      echo "url = \"$BASE/$2\""
      echo 'output = "/dev/null"'
      ((i == $1 - 1)) || echo next
    done
  } >"$T/$2.cfg"
  curl -sS --no-progress-meter -Z --parallel-max 16 -K "$T/$2.cfg" >"$T/$2.out" 2>&1 || true
  expect_eq "$3: $1 redirects answered" "$(grep -c '^302$' "$T/$2.out" || true)" "$1"
}
# visits_are SLUG N: the API gives SLUG's visits (bots' included) as N; added_visits SLUG: what the hours hold
visits_are() {
  req GET "/api/links/$1"
  [[ $STATUS == 200 && $(jq -r '.visits + .bot_visits' <<<"$BODY") == "$2" ]]
}
added_visits() {
  psql_q "SELECT coalesce(sum(humans + bots), 0) FROM visit_counts v JOIN links l ON l.id = v.link_id WHERE l.slug = '$1' AND v.dim = 0"
}
hold_lock visit_hours SHARE 60 adoption
redirects 200 adopt adoption
if poll_until 10000 window_is 200; then
  ok "adoption: all 200 in the log and the master's window, not added (${POLL_MS} ms)"
else
  fail "adoption: all 200 in the window" "$("$HOP_BIN" status --metrics --socket "$T/hop.sock" 2>/dev/null | grep -E '^hop_visits_(window|pending|written)' | tr '\n' ' ')"
fi
kill -KILL "$STACK_HOP_PID"
_stack_reap "$STACK_HOP_PID" 10
STACK_HOP_PID=""
release_lock visit_hours
psql_q "ALTER DATABASE $(psql_q "SELECT current_database()") RESET lock_timeout" >/dev/null
expect_eq "adoption: nothing was added by the master killed" "$(added_visits adopt)" 0
adopt_log_from=$(($(wc -l <"$T/hop.log") + 1))
stack_pool_start hop
if poll_until 15000 visits_are adopt 200; then
  ok "adoption: the next master adopted the log rows: visits 200 (${POLL_MS} ms)"
else
  fail "adoption: visits 200" "$BODY; log rows: $(psql_q "SELECT count(*) FROM visit_log")"
fi
# rows written less than 2 s before the kill are not a dead writer's yet at the new master's first look: they
# come at its next one, 5 s later, so the 200 may be logged in two lines
expect_eq "adoption: logged, the lines adding up to 200" "$(tail -n +"$adopt_log_from" "$T/hop.log" |
  grep -o 'msg="visits adopted" visits=[0-9]*' | awk -F= '{ s += $NF } END { print s + 0 }')" 200
expect_eq "adoption: the log is empty" "$(psql_q "SELECT count(*) FROM visit_log")" 0

# ---- 9: a pool started behind a lock that blocks writes answers redirects ------------------------------------
# Preparing a statement that writes a table takes the table's lock as running it does, and a connection
# prepares every statement as it opens: behind a plain CREATE INDEX on links (a SHARE lock), a pool that
# started could not connect, and answered nothing. The prepares now wait 100 ms for a lock; the statements
# that could not have it are prepared when first run, once the lock is gone.
stack_pool_stop hop
hold_lock links SHARE 60 "locked start"
locked_from=$(($(wc -l <"$T/hop.log") + 1))
stack_pool_start hop
req GET /adopt
expect_status "locked start: a redirect is answered while links is locked" 302
# every connection of the pool (its workers' and its master's) leaves it
deferred_everywhere() {
  [[ $(tail -n +"$locked_from" "$T/hop.log" | grep -c 'msg="statement prepared on first use" name=link_insert reason="a lock on its table"' || true) == \
    $(($(stack_pool_workers hop | wc -w) + 1)) ]]
}
if poll_until 10000 deferred_everywhere; then
  ok "locked start: every connection leaves the link insert for its first run (${POLL_MS} ms)"
else
  fail "locked start: every connection leaves the link insert for its first run" "$(grep -c 'name=link_insert' "$T/hop.log")"
fi
release_lock links
req POST /api/links -H 'content-type: application/json' -d '{"url":"https://example.com/after-lock","slug":"after-lock"}'
expect_status "locked start: once the lock is gone, a create prepares the insert and succeeds" 201
expect_eq "locked start: the insert prepared on its first run" \
  "$(tail -n +"$locked_from" "$T/hop.log" | grep -c 'msg="statement prepared" name=link_insert' || true)" 1
expect_eq "locked start: nothing failed" "$(tail -n +"$locked_from" "$T/hop.log" | grep -c 'msg="statement failed"' || true)" 0

# ---- 10: the master's upkeep behind a lock: its loop goes on, and nothing is lost ---------------------------
# The master rolls old hours up at its first tick and every hour after, in its own loop, which also drains the
# workers' counters, reaps and respawns workers and answers systemd's watchdog. Behind a lock on visit_hours
# (a plain CREATE INDEX, a LOCK TABLE) the roll-up waited as long as the lock lasted, and the loop with it. It
# now waits at most 500 ms, logs why, and is tried again 10 s later (before any visit: a part of the window
# sent meanwhile waits for the lock, and no upkeep runs while it is in flight); the visits of the meantime
# reach the hours once the lock is gone.
req POST /api/links -H 'content-type: application/json' -d '{"url":"https://example.com/upkeep","slug":"upkeep"}'
expect_status "upkeep: created" 201
stack_pool_stop hop
hold_lock visit_hours SHARE 60 upkeep
upkeep_from=$(($(wc -l <"$T/hop.log") + 1))
stack_pool_start hop
upkeep_waits() { # N: the roll-up gave up on the lock N times since the pool started
  [[ $(tail -n +"$upkeep_from" "$T/hop.log" | grep -c 'msg="statement waited too long for a lock" name=visits_rollup' || true) == "$1" ]]
}
if poll_until 10000 upkeep_waits 1; then
  upkeep_first_ms=$(now_ms)
  ok "upkeep: the roll-up gives up on the lock, and says so (${POLL_MS} ms)"
else
  fail "upkeep: the roll-up gives up on the lock" "$(tail -n +"$upkeep_from" "$T/hop.log" | grep -v msg=access | tail -n 5 | tr '\n' '|')"
fi
victim=$(stack_pool_workers hop | head -n 1)
kill -KILL "$victim"
replaced() {
  local w
  w=$(stack_pool_workers hop)
  [[ $(wc -w <<<"$w") == "${HOP_WORKERS:-3}" && " $(tr '\n' ' ' <<<"$w") " != *" $victim "* ]]
}
if poll_until 5000 replaced; then
  ok "upkeep: meanwhile the master replaces a worker killed (${POLL_MS} ms)"
else
  fail "upkeep: meanwhile the master replaces a worker killed" "workers: $(stack_pool_workers hop | tr '\n' ' ')"
fi
if poll_until 15000 upkeep_waits 2; then
  gap=$(($(now_ms) - ${upkeep_first_ms:-0}))
  if ((gap >= 8000)); then
    ok "upkeep: tried again after 10 s, not at every tick (${gap} ms later)"
  else
    fail "upkeep: tried again after 10 s, not at every tick" "the second wait ${gap} ms after the first"
  fi
else
  fail "upkeep: tried again after 10 s" "$(tail -n +"$upkeep_from" "$T/hop.log" | grep -c 'name=visits_rollup' || true) waits"
fi
redirects 50 upkeep "upkeep: behind the lock"
release_lock visit_hours
if poll_until 30000 visits_are upkeep 50; then
  ok "upkeep: once the lock is gone, all 50 visits counted (${POLL_MS} ms)"
else
  fail "upkeep: all 50 visits counted" "$BODY"
fi
expect_eq "upkeep: nothing failed" "$(tail -n +"$upkeep_from" "$T/hop.log" | grep -c 'msg="statement failed"' || true)" 0

# ---- 11: a graceful stop behind a lock ends at once, and the next master counts what it left ---------------
# Behind a lock on visit_hours, the part of the window sent to the hours waited as long as the lock lasted, and
# a graceful stop waited for its answer: until the lock went, or systemd killed the master after 40 s. Every
# statement of the master now waits at most 500 ms for a lock; a part that gave up is tried again 2 s later,
# and at a stop the window's rows stay in the log, where the next master adopts them.
req POST /api/links -H 'content-type: application/json' -d '{"url":"https://example.com/stoplock","slug":"stoplock"}'
expect_status "stop behind a lock: created" 201
hold_lock visit_hours SHARE 60 "stop behind a lock"
stoplock_from=$(($(wc -l <"$T/hop.log") + 1))
redirects 40 stoplock "stop behind a lock"
if poll_until 10000 window_is 40; then
  ok "stop behind a lock: the 40 visits are in the log and the window, not added (${POLL_MS} ms)"
else
  fail "stop behind a lock: the 40 visits in the window" "$("$HOP_BIN" status --metrics --socket "$T/hop.sock" 2>/dev/null | grep -E '^hop_visits_(window|pending)' | tr '\n' ' ')"
fi
apply_waits() { # the window's statements that gave up on the lock since the section began
  tail -n +"$stoplock_from" "$T/hop.log" | grep -c 'msg="statement waited too long for a lock" name=visits_apply' || true
}
apply_gave_up() { (($(apply_waits) >= 1)); }
if poll_until 10000 apply_gave_up; then
  ok "stop behind a lock: a part's statement gives up on the lock after 500 ms, and says so (${POLL_MS} ms)"
else
  fail "stop behind a lock: a part's statement gives up on the lock" "$(tail -n +"$stoplock_from" "$T/hop.log" | grep -v msg=access | tail -n 5 | tr '\n' '|')"
fi
waits_before=$(apply_waits)
sleep 5
waits=$(($(apply_waits) - waits_before))
if ((waits >= 1 && waits <= 4)); then
  ok "stop behind a lock: the window tries again every 2 s or so, not at every tick ($waits times in 5 s)"
else
  fail "stop behind a lock: the window tries again every 2 s or so" "$waits times in 5 s"
fi
stop_t0=$(now_ms)
stack_pool_stop hop
stop_ms=$(($(now_ms) - stop_t0))
if ((stop_ms < 10000)); then
  ok "stop behind a lock: the pool stops while the lock is held (${stop_ms} ms)"
else
  fail "stop behind a lock: the pool stops while the lock is held" "${stop_ms} ms"
fi
expect_eq "stop behind a lock: the master says what it left, and why" \
  "$(tail -n +"$stoplock_from" "$T/hop.log" | grep -c 'msg="visits left to the next master" visits=40 reason="a lock on the hours"' || true)" 1
expect_eq "stop behind a lock: nothing was added meanwhile" "$(added_visits stoplock)" 0
release_lock visit_hours
stack_pool_start hop
if poll_until 20000 visits_are stoplock 40; then
  ok "stop behind a lock: the next master adopts the 40 visits (${POLL_MS} ms)"
else
  fail "stop behind a lock: the next master adopts the 40 visits" "$BODY; log rows: $(psql_q "SELECT count(*) FROM visit_log")"
fi
expect_eq "stop behind a lock: the log is empty" "$(psql_q "SELECT count(*) FROM visit_log")" 0
expect_eq "stop behind a lock: nothing failed" "$(tail -n +"$stoplock_from" "$T/hop.log" | grep -c 'msg="statement failed"' || true)" 0

# ---- 12: writes behind a lock do not take the redirects down -----------------------------------------------
# A plain CREATE INDEX on links (a SHARE lock) blocks every write of links for as long as it builds. A worker
# whose create waited for it served nothing else: with as many creates as workers, no redirect was answered
# until the lock went. A statement of a worker now waits at most 2 s for a lock (or the database's
# lock_timeout, when shorter), and its request answers 503 with Retry-After.
req GET /stoplock
expect_status "writes behind a lock: the link is served before" 302
hold_lock links SHARE 60 "writes behind a lock"
locked_writes_from=$(($(wc -l <"$T/hop.log") + 1))
nworkers=$(stack_pool_workers hop | wc -w)
creates=$((2 * nworkers))
create_pids=()
for ((i = 0; i < creates; i++)); do
  curl -sS --cacert "$CACERT" --max-time 30 -D "$T/locked-create-$i.h" -o "$T/locked-create-$i.body" -w '%{http_code}' \
    -H "Authorization: Bearer $API_KEY" -H 'content-type: application/json' \
    -d "{\"url\":\"https://example.com/locked-$i\"}" "$BASE/api/links" >"$T/locked-create-$i.status" 2>&1 &
  create_pids+=($!)
done
sleep 0.5
t0=$(now_ms)
status=$(curl -sS --cacert "$CACERT" --max-time 20 -o /dev/null -w '%{http_code}' "$BASE/stoplock" 2>&1) || true
redirect_ms=$(($(now_ms) - t0))
if [[ $status == 302 ]] && ((redirect_ms < 10000)); then
  ok "writes behind a lock: a redirect is answered while $creates creates wait for the lock (${redirect_ms} ms)"
else
  fail "writes behind a lock: a redirect is answered while $creates creates wait" "status $status after ${redirect_ms} ms"
fi
wait "${create_pids[@]}" 2>/dev/null || true
answered_503=0
with_retry=0
for ((i = 0; i < creates; i++)); do
  [[ $(cat "$T/locked-create-$i.status") == 503 ]] && answered_503=$((answered_503 + 1))
  grep -qi '^retry-after: 1' "$T/locked-create-$i.h" 2>/dev/null && with_retry=$((with_retry + 1))
done
expect_eq "writes behind a lock: every create answers 503" "$answered_503" "$creates"
expect_eq "writes behind a lock: each with Retry-After" "$with_retry" "$creates"
expect_eq "writes behind a lock: the problem says why" "$(jq -r .detail "$T/locked-create-0.body" 2>/dev/null)" \
  "the database is busy with another session's change; try again shortly"
expect_eq "writes behind a lock: each wait logged" \
  "$(tail -n +"$locked_writes_from" "$T/hop.log" | grep -c 'msg="statement waited too long for a lock" name=link_insert' || true)" "$creates"
release_lock links
req POST /api/links -H 'content-type: application/json' -d '{"url":"https://example.com/after-locked-writes"}'
expect_status "writes behind a lock: once the lock is gone, a create succeeds" 201
expect_eq "writes behind a lock: nothing failed" "$(tail -n +"$locked_writes_from" "$T/hop.log" | grep -c 'msg="statement failed"' || true)" 0
finish
