#!/usr/bin/env bash
# Faults with the real parts, under load through Caddy over HTTPS:
# - PostgreSQL stopped (pg_ctl -m fast, then -m immediate) and started again: /healthz answers 503 while it is
#   down, creates get 503, links served lately keep redirecting from the workers' caches, every request is
#   answered, no worker dies, service is back soon after PostgreSQL (the time is printed), and the visits made
#   during the outage are counted once it returns.
# - A worker SIGKILLed under load is replaced (the time is printed) and only its request in flight may fail.
# - The master SIGKILLed leaves no orphan workers.
# - SIGTERM under load: every request the pool took is answered, it exits 0, and every answered redirect's
#   visit is in the database after it stopped.
# Timings are printed; the only time bound that decides anything is a generous 5 s for the recovery.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

export HOP_WORKERS=${HOP_WORKERS:-3}
HOT=(hot0 hot1 hot2)                       # links every worker has served before each outage
MAXT=$((${HOP_READ_TIMEOUT:-10} + 15))     # curl --max-time: far above hop's read deadline, so a hang shows
OUTAGE_MS=${FAULTS_OUTAGE_MS:-2500}        # how long PostgreSQL stays down
RECOVERY_BOUND_MS=5000                     # generous: only so that the recovery check can fail
KILLS=3                                    # workers SIGKILLed one after another under load
EXPECT_VISITS=0                            # what the visits of the hot links must add up to
SUMMARY=()

# visits_sum: the visits of the hot links stored in the database.
visits_sum() {
  psql_q "SELECT coalesce(sum(v.humans + v.bots), 0) FROM visit_counts v JOIN links l ON l.id = v.link_id
          WHERE l.slug IN ('hot0', 'hot1', 'hot2') AND v.dim = 0"
}

visits_are() {
  [[ $(visits_sum 2>/dev/null) == "$1" ]]
}

# count302 FILE: answers 302 in a load file ("start_ms end_ms status" lines).
count302() {
  awk '$3 == 302 { n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0
}

# ---- load generators (background, bounded: they stop at $T/stop.load, after LOAD_MAX_S or a count) -------

LOAD_PIDS=()
LOAD_MAX_S=120

# The redirect batch: 24 requests over the hot links, 8 at a time over one HTTP/2 connection.
redirect_cfg() {
  local i s
  for ((i = 0; i < 8; i++)); do
    for s in "${HOT[@]}"; do
      echo "url = \"$BASE/$s\""
      echo 'output = "/dev/null"'
    done
  done >"$T/redir.cfg"
}

# redirect_load FILE: batches of redirects; one line per answer: "batch_start_ms batch_end_ms status".
redirect_load() {
  local out=$1 i t0 end=$(($(now_ms) + LOAD_MAX_S * 1000))
  for ((i = 0; i < 5000; i++)); do
    [[ -e $T/stop.load ]] && break
    (($(now_ms) < end)) || break
    t0=$(now_ms)
    curl -s -Z --parallel-max 8 --cacert "$CACERT" --max-time "$MAXT" -w '%{http_code}\n' -K "$T/redir.cfg" \
      >"$out.batch" 2>/dev/null || true
    awk -v a="$t0" -v b="$(now_ms)" '{ print a, b, $1 }' "$out.batch" >>"$out"
  done
}

# single_load FILE KIND: one request after another, KIND health (GET /healthz) or create (POST /api/links).
single_load() {
  local out=$1 kind=$2 i t0 code end=$(($(now_ms) + LOAD_MAX_S * 1000))
  for ((i = 0; i < 20000; i++)); do
    [[ -e $T/stop.load ]] && break
    (($(now_ms) < end)) || break
    t0=$(now_ms)
    if [[ $kind == health ]]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" --max-time "$MAXT" "$BASE/healthz") || true
    else
      code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" --max-time "$MAXT" \
        -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
        --data-binary "{\"url\":\"https://example.com/fault/$i\"}" "$BASE/api/links") || true
    fi
    echo "$t0 $(now_ms) ${code:-000}" >>"$out"
    sleep 0.02
  done
}

# load_start NAME [all|double]: redirect load into $T/NAME.redir; with "all", also $T/NAME.health and
# $T/NAME.create; with "double", a second redirect loop into $T/NAME.redir2 (no gap between batches).
load_start() {
  rm -f "$T/stop.load"
  redirect_load "$T/$1.redir" &
  LOAD_PIDS+=($!)
  if [[ ${2:-} == double ]]; then
    redirect_load "$T/$1.redir2" &
    LOAD_PIDS+=($!)
  fi
  if [[ ${2:-} == all ]]; then
    single_load "$T/$1.health" health &
    LOAD_PIDS+=($!)
    single_load "$T/$1.create" create &
    LOAD_PIDS+=($!)
  fi
}

load_stop() {
  local pid
  ((${#LOAD_PIDS[@]} > 0)) || return 0
  touch "$T/stop.load"
  for pid in "${LOAD_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  LOAD_PIDS=()
}

# warm: redirect batches until every worker has served every hot link since this call (hop's access log),
# so that each holds them all in its cache. The 302s count toward EXPECT_VISITS.
warm() {
  local mark i p s missing
  mark=$(wc -l <"$T/hop.log")
  for ((i = 0; i < 40; i++)); do
    curl -s -Z --parallel-max 8 --cacert "$CACERT" --max-time "$MAXT" -w '%{http_code}\n' -K "$T/redir.cfg" \
      >"$T/warm.out" 2>/dev/null || true
    EXPECT_VISITS=$((EXPECT_VISITS + $(grep -c '^302$' "$T/warm.out" || true)))
    missing=0
    for p in $(stack_pool_workers hop); do
      for s in "${HOT[@]}"; do
        tail -n +"$((mark + 1))" "$T/hop.log" | grep -q "pid=$p msg=access method=\"GET\" path=\"/$s\" status=302" ||
          missing=$((missing + 1))
      done
    done
    ((missing == 0)) && return 0
  done
  return 1
}

# ---- PostgreSQL stopped and started again ----------------------------------------------------------------

pg_round() {
  local mode=$1 name=pg-$1 pids_before t_stop0 t_stop1 t_start0 t_start1 left code h_ms="" c_ms="" served
  local deadline bad
  EXPECT_VISITS=$(visits_sum) # this round's own count: an earlier failure does not carry over
  if warm; then
    ok "$mode: every worker has served every hot link (cached)"
  else
    fail "$mode: every worker has served every hot link (cached)" "not within 40 batches"
  fi
  pids_before=$(stack_pool_workers hop | sort | paste -sd' ' -)
  load_start "$name" all
  sleep 1

  t_stop0=$(now_ms)
  stack_pg_stop "$mode" || fail "$mode: pg_ctl stop -m $mode" "see $T/pgdev.log"
  t_stop1=$(now_ms)
  # while it is down: the answers themselves
  req GET /healthz
  expect_status "$mode, PostgreSQL down: /healthz is 503" 503
  expect_json "$mode, PostgreSQL down: /healthz says unavailable" .status unavailable
  expect_header "$mode, PostgreSQL down: /healthz has Retry-After" '^retry-after: [0-9]+$'
  req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/down"}'
  expect_status "$mode, PostgreSQL down: a create is 503" 503
  expect_header "$mode, PostgreSQL down: the 503 has Retry-After" '^retry-after: [0-9]+$'
  expect_header "$mode, PostgreSQL down: the 503 is problem JSON" '^content-type: application/problem\+json'
  req GET /hot0
  expect_status "$mode, PostgreSQL down: a link served lately still redirects (cache)" 302
  [[ $STATUS == 302 ]] && EXPECT_VISITS=$((EXPECT_VISITS + 1))
  left=$((OUTAGE_MS - ($(now_ms) - t_stop1)))
  ((left > 0)) && sleep "$(awk -v m="$left" 'BEGIN { printf "%.3f", m / 1000 }')"

  t_start0=$(now_ms)
  stack_pg_start || fail "$mode: pg_ctl start" "see $T/pgdev.log"
  t_start1=$(now_ms)
  # time from PostgreSQL accepting connections again to the first 200 on /healthz and the first 201 on create
  deadline=$((t_start1 + 10000))
  while [[ -z $h_ms || -z $c_ms ]] && (($(now_ms) < deadline)); do
    if [[ -z $h_ms ]]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" --max-time 2 "$BASE/healthz") || true
      [[ $code == 200 ]] && h_ms=$(($(now_ms) - t_start1))
    fi
    if [[ -z $c_ms ]]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" --max-time 2 -H "Authorization: Bearer $API_KEY" \
        -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/back"}' "$BASE/api/links") || true
      [[ $code == 201 ]] && c_ms=$(($(now_ms) - t_start1))
    fi
  done
  echo "# $mode: PostgreSQL down for $((t_start0 - t_stop1)) ms (pg_ctl stop took $((t_stop1 - t_stop0)) ms," \
    "start $((t_start1 - t_start0)) ms); after start returned: first /healthz 200 at ${h_ms:-never} ms," \
    "first 201 at ${c_ms:-never} ms"
  SUMMARY+=("$mode: health back ${h_ms:-never} ms, create back ${c_ms:-never} ms after pg_ctl start returned")
  if [[ -n $h_ms && -n $c_ms ]] && ((h_ms <= RECOVERY_BOUND_MS && c_ms <= RECOVERY_BOUND_MS)); then
    ok "$mode: /healthz 200 and a create 201 again within $((RECOVERY_BOUND_MS / 1000)) s of PostgreSQL's return"
  else
    fail "$mode: /healthz 200 and a create 201 again within $((RECOVERY_BOUND_MS / 1000)) s" "health ${h_ms:-never}, create ${c_ms:-never} ms"
  fi
  sleep 1
  load_stop

  # every request answered; what each kind got, and when (core outage: started after stop returned, ended
  # before start began)
  local f kind
  for kind in redir health create; do
    f=$T/$name.$kind
    echo "# $mode $kind: $(awk -v s="$t_stop1" -v e="$t_start0" '
        { n++; c[$3]++; if ($1 >= s && $2 <= e) { d++; dc[$3]++ } if ($2 - $1 > mx) mx = $2 - $1 }
        END { printf "%d answers (", n; sep = ""; for (k in c) { printf "%s%s: %d", sep, k, c[k]; sep = ", " }
              printf "); %d inside the outage (", d; sep = ""; for (k in dc) { printf "%s%s: %d", sep, k, dc[k]; sep = ", " }
              printf "); slowest %d ms", mx }' "$f")"
  done
  bad=$(awk '$3 == "000" { n++ } END { print n + 0 }' "$T/$name".{redir,health,create})
  expect_eq "$mode: every request was answered within ${MAXT} s (no hang)" "$bad" 0
  bad=$(awk '$3 != 302 { n++ } END { print n + 0 }' "$T/$name.redir")
  expect_eq "$mode: every redirect of a cached link was a 302, before, during and after the outage" "$bad" 0
  served=$(awk -v s="$t_stop1" -v e="$t_start0" '$1 >= s && $2 <= e && $3 == 302 { n++ } END { print n + 0 }' "$T/$name.redir")
  SUMMARY+=("$mode: $served redirects served while PostgreSQL was down")
  if ((served > 0)); then
    ok "$mode: $served redirects served from the caches while PostgreSQL was down"
  else
    fail "$mode: redirects served from the caches while PostgreSQL was down" "none inside the outage window"
  fi
  for kind in health create; do
    local want=200
    [[ $kind == create ]] && want=201
    f=$T/$name.$kind
    bad=$(awk -v w="$want" '$3 != w && $3 != 503 { print $3 }' "$f" | sort | uniq -c | paste -sd, -)
    expect_eq "$mode $kind: only $want or 503" "$bad" ""
    bad=$(awk -v s="$t_stop0" -v w="$want" '$2 < s && $3 != w { n++ } END { print n + 0 }' "$f")
    expect_eq "$mode $kind: all $want before the stop" "$bad" 0
    bad=$(awk -v s="$t_stop1" -v e="$t_start0" '$1 >= s && $2 <= e { n++; if ($3 != 503) b++ } END { print n + 0, b + 0 }' "$f")
    if [[ ${bad% *} -gt 0 && ${bad#* } == 0 ]]; then
      ok "$mode $kind: 503 throughout the outage (${bad% *} requests)"
    else
      fail "$mode $kind: 503 throughout the outage" "requests inside the outage, not 503: ${bad#* } of ${bad% *}"
    fi
  done
  expect_eq "$mode: no worker died or was replaced" "$(stack_pool_workers hop | sort | paste -sd' ' -)" "$pids_before"
  expect_eq "$mode: no 'worker died' in hop's log" "$(worker_deaths)" 0

  EXPECT_VISITS=$((EXPECT_VISITS + $(count302 "$T/$name.redir")))
  if poll_until 5000 visits_are "$EXPECT_VISITS"; then
    ok "$mode: visits = the $EXPECT_VISITS redirects answered so far ($POLL_MS ms after the load)"
  else
    fail "$mode: visits = the $EXPECT_VISITS redirects answered so far" "the database has $(visits_sum) after 5 s"
  fi
  SUMMARY+=("$mode: visits lost 0 expected, database $(visits_sum) for $EXPECT_VISITS redirects answered")
}

# ---- workers and master killed ---------------------------------------------------------------------------

# kill_workers: KILLS workers SIGKILLed one after another under redirect load.
kill_workers() {
  local k victim t0 fork_ms served_ms newpid kids p deaths0 fails v lo hi
  local -a old
  deaths0=$(worker_deaths)
  EXPECT_VISITS=$(visits_sum)
  load_start kill
  sleep 1
  for ((k = 1; k <= KILLS; k++)); do
    mapfile -t old < <(stack_pool_workers hop)
    victim=${old[0]}
    t0=$(now_ms)
    kill -KILL "$victim"
    # the master's children, read without forking, until the pool is whole again without the victim
    fork_ms="" newpid=""
    while (($(now_ms) - t0 < 5000)); do
      kids=()
      read -r -a kids <"/proc/$STACK_HOP_PID/task/$STACK_HOP_PID/children" || true # no newline: status 1
      if ((${#kids[@]} == HOP_WORKERS)) && [[ " ${kids[*]} " != *" $victim "* ]]; then
        fork_ms=$(($(now_ms) - t0))
        for p in "${kids[@]}"; do
          [[ " ${old[*]} " == *" $p "* ]] || newpid=$p
        done
        break
      fi
    done
    served_ms=""
    while [[ -n $newpid ]] && (($(now_ms) - t0 < 5000)); do
      if grep -q "pid=$newpid msg=access" "$T/hop.log"; then
        served_ms=$(($(now_ms) - t0))
        break
      fi
      sleep 0.005
    done
    echo "# kill $k: worker $victim SIGKILLed; new worker ${newpid:-none} forked after ${fork_ms:-never} ms," \
      "served its first request after ${served_ms:-never} ms"
    SUMMARY+=("worker kill $k: replaced (forked) in ${fork_ms:-never} ms, first request served by the new one at ${served_ms:-never} ms")
    if [[ -n $fork_ms ]]; then
      ok "kill $k: the SIGKILLed worker is replaced"
    else
      fail "kill $k: the SIGKILLed worker is replaced" "children: ${kids[*]}"
    fi
    if grep -Eq "msg=\"worker died\" (.* )?worker=$victim signal=SIGKILL" "$T/hop.log"; then
      ok "kill $k: the master logged the death of $victim (SIGKILL)"
    else
      fail "kill $k: the master logged the death of $victim (SIGKILL)" "$(grep 'worker died' "$T/hop.log" | tail -n 2 | tr '\n' '|')"
    fi
    sleep 0.7
  done
  load_stop
  fails=$(awk '$3 != 302 { n++ } END { print n + 0 }' "$T/kill.redir")
  echo "# kills: $(wc -l <"$T/kill.redir") redirects, $fails not 302 ($(awk '$3 != 302 { print $3 }' "$T/kill.redir" | sort | uniq -c | paste -sd, -))"
  SUMMARY+=("worker kills: $KILLS kills, $(wc -l <"$T/kill.redir") redirects, $fails failed")
  if ((fails <= KILLS)); then
    ok "$KILLS workers killed under load: at most one failed request each ($fails failed)"
  else
    fail "$KILLS workers killed under load: at most one failed request each" "$fails failed"
  fi
  expect_eq "the deaths logged are exactly the kills" "$(($(worker_deaths) - deaths0))" "$KILLS"
  # a visit is counted before its answer is written: a request killed in between is counted but failed
  lo=$((EXPECT_VISITS + $(count302 "$T/kill.redir")))
  hi=$((lo + fails))
  poll_until 5000 visits_are "$lo" || poll_until 1000 visits_are "$hi" || true
  v=$(visits_sum)
  if ((v >= lo && v <= hi)); then
    ok "worker kills: the killed workers lost no visit they counted ($v; answered $lo, failed $fails)"
  else
    fail "worker kills: the killed workers lost no visit they counted" "database $v, redirects answered $lo, failed $fails"
  fi
  EXPECT_VISITS=$v
}

# kill_master: the master SIGKILLed under load; its workers must go (PR_SET_PDEATHSIG).
kill_master() {
  local t0 ms="" p alive
  local -a kids
  load_start master
  sleep 0.5
  mapfile -t kids < <(stack_pool_workers hop)
  t0=$(now_ms)
  exec 3>&2 2>/dev/null # bash would report the master's "Killed" on its stderr
  kill -KILL "$STACK_HOP_PID"
  while (($(now_ms) - t0 < 5000)); do
    alive=0
    for p in "${kids[@]}"; do
      _stack_alive "$p" && alive=$((alive + 1))
    done
    if ((alive == 0)); then
      ms=$(($(now_ms) - t0))
      break
    fi
    sleep 0.005
  done
  wait "$STACK_HOP_PID" || true
  exec 2>&3 3>&-
  STACK_HOP_PID=""
  load_stop
  echo "# master SIGKILLed: its ${#kids[@]} workers gone after ${ms:-never (5 s)} ms"
  SUMMARY+=("master SIGKILL: all ${#kids[@]} workers gone in ${ms:-never} ms")
  if [[ -n $ms ]]; then
    ok "the master SIGKILLed leaves no orphan workers (all ${#kids[@]} gone)"
  else
    fail "the master SIGKILLed leaves no orphan workers" "still alive after 5 s: $(for p in "${kids[@]}"; do _stack_alive "$p" && echo -n "$p "; done)"
  fi
}

# term_under_load: SIGTERM to the pool under load; every request it took is answered and counted.
term_under_load() {
  local mark cmark base t0 client hop_served dropped others bad502
  mark=$(wc -l <"$T/hop.log")
  cmark=$(wc -l <"$T/caddy.log")
  stack_pool_start hop
  base=$(visits_sum)
  load_start term double
  sleep 1
  t0=$(now_ms)
  kill -TERM "$STACK_HOP_PID"
  _stack_reap "$STACK_HOP_PID" 40
  STACK_HOP_PID=""
  echo "# SIGTERM under load: the pool exited ($STACK_REAPED) after $(($(now_ms) - t0)) ms"
  expect_eq "SIGTERM under load: the pool exits 0" "$STACK_REAPED" 0
  sleep 0.3
  load_stop
  cat "$T/term.redir2" >>"$T/term.redir"
  client=$(count302 "$T/term.redir")
  hop_served=$(tail -n +"$((mark + 1))" "$T/hop.log" | grep -Ec 'msg=access method="GET" path="/hot[0-9]" status=302' || true)
  dropped=$(tail -n +"$((mark + 1))" "$T/hop.log" | grep -c 'msg="request dropped"' || true)
  others=$(awk '$3 != 302 { print $3 }' "$T/term.redir" | sort | uniq -c | paste -sd, -)
  echo "# SIGTERM under load: clients got $client 302s${others:+ and: $others}; hop logged $hop_served 302s, $dropped dropped"
  SUMMARY+=("SIGTERM under load: $client redirects answered, hop served $hop_served, dropped $dropped${others:+, other answers: $others}")
  expect_eq "SIGTERM under load: every redirect hop answered reached its client" "$client" "$hop_served"
  expect_eq "SIGTERM under load: no request hop took was dropped" "$dropped" 0
  # Caddy's reason for each 502: only "dialing backend" (the socket was gone: no connection was made)
  bad502=$(tail -n +"$((cmark + 1))" "$T/caddy.log" | grep '"status":5' | grep -vc '"msg":"dialing backend: ' || true)
  expect_eq "SIGTERM under load: every 502 is a connection Caddy could not make (Caddy's log)" "$bad502" 0
  if grep -q 'visits lost at shutdown' "$T/hop.log"; then
    fail "SIGTERM under load: no visits lost at shutdown" "$(grep -m1 'visits lost' "$T/hop.log")"
  else
    ok "SIGTERM under load: no visits lost at shutdown (hop's log)"
  fi
  expect_eq "SIGTERM under load: every answered redirect's visit is in the database after the stop" \
    "$(visits_sum)" $((base + client))
}

# ---- the run ---------------------------------------------------------------------------------------------

stack_start
trap 'load_stop; stack_stop' EXIT
API_KEY=$(make_key faults) || _stack_abort "hop keys create failed"
# The dev cluster runs with synchronous_commit off: an immediate stop (a crash, to PostgreSQL) then loses the
# last commits it had acknowledged, which would be counted against hop. Production runs with it on.
if ! psql_q "ALTER SYSTEM SET synchronous_commit = on" || ! psql_q "SELECT pg_reload_conf()" >/dev/null; then
  _stack_abort "could not turn synchronous_commit on"
fi
for s in "${HOT[@]}"; do
  req POST /api/links -H 'Content-Type: application/json' --data-binary "{\"url\":\"https://example.com/$s\",\"slug\":\"$s\"}"
  expect_status "create $s" 201
done
redirect_cfg

# FAULTS_PHASES picks phases (to reproduce one): pg-fast pg-immediate kill master term (term runs on a fresh
# pool of its own, so any subset works).
PHASES=" ${FAULTS_PHASES:-pg-fast pg-immediate kill master term} "
if [[ $PHASES == *" pg-fast "* ]]; then
  echo "# PostgreSQL stopped with -m fast under load, $HOP_WORKERS workers"
  pg_round fast
fi
if [[ $PHASES == *" pg-immediate "* ]]; then
  echo "# PostgreSQL stopped with -m immediate under load"
  pg_round immediate
fi
if [[ $PHASES == *" kill "* ]]; then
  echo "# $KILLS workers SIGKILLed under load"
  kill_workers
fi
if [[ $PHASES == *" master "* ]]; then
  echo "# the master SIGKILLed under load"
  kill_master
fi
if [[ $PHASES == *" term "* ]]; then
  echo "# SIGTERM under load"
  if [[ -n $STACK_HOP_PID ]]; then
    stack_pool_stop # term_under_load starts its own pool
  fi
  term_under_load
fi

echo "# figures:"
printf '#   %s\n' "${SUMMARY[@]}"
finish
