#!/usr/bin/env bash
# The soak: SOAK_SECONDS (default 300) of mixed traffic through Caddy over HTTPS on loopback (redirects GET
# and HEAD, creates with custom and generated slugs, patches, deletes, gets, lists, stats) while faults are
# injected: a worker SIGKILLed every SOAK_SECONDS/10 s, one graceful pool restart (SIGHUP: the master
# re-executes itself on the same socket), and one PostgreSQL restart (pg_ctl -m fast, down 2 s).
# At the end it prints the requests sent, the answers by status and by kind, the visits counted against the
# redirects answered, the links stored against the creates acknowledged minus the deletes acknowledged, and the
# workers' private memory (RssAnon) at the start and at the end; it fails when any of those is off, or when an answer was not one
# its moment allows (503 only around the PostgreSQL restart, 502 at most one per kill, no unanswered request).
# Bounded: traffic stops after SOAK_SECONDS (and at most SOAK_MAX_BATCHES batches).
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

SOAK_SECONDS=${SOAK_SECONDS:-300}
SOAK_MAX_BATCHES=${SOAK_MAX_BATCHES:-100000}
export HOP_WORKERS=${HOP_WORKERS:-3}
((SOAK_SECONDS >= 20)) || {
  echo "soak: SOAK_SECONDS must be at least 20 (got $SOAK_SECONDS)" >&2
  exit 2
}
RUN_MS=$((SOAK_SECONDS * 1000))
KILL_EVERY_MS=$((RUN_MS / 10))   # 30 s in the default run
PG_DOWN_MS=2000                  # how long PostgreSQL stays down
PG_GRACE_MS=3000                 # after PostgreSQL is back, 503s are still allowed this long
MAXT=$((${HOP_READ_TIMEOUT:-10} + 20)) # curl --max-time: far above hop's read deadline
ANON_LIMIT_KB=1024
WARM_REQUESTS=500               # requests a worker serves before its memory is taken as the start
HOT=(hot0 hot1 hot2 hot3 hot4)  # links that are redirected to; never deleted, so their visits stay countable

# ---- the fault schedule (a background job; events are logged to $T/events.log as "ms what details") --------

# youngest_worker: the pool's most recently started worker, so that the oldest ones live through the run.
youngest_worker() {
  local p best="" best_t=-1 t
  for p in $(stack_pool_workers hop); do
    t=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$p/stat" 2>/dev/null) || continue
    [[ -n $t ]] || continue
    if ((t > best_t)); then
      best_t=$t
      best=$p
    fi
  done
  echo "$best"
}

# rss_sample FILE: "pid kib" for every worker of the pool (private anonymous memory, stack_worker_anon).
rss_sample() {
  local p
  for p in $(stack_pool_workers hop); do
    echo "$p $(stack_worker_anon "$p")"
  done >"$1"
}

ev() {
  echo "$(now_ms) $*" >>"$T/events.log"
}

# sleep_until MS: sleep until the wall clock reaches MS (milliseconds since the epoch).
sleep_until() {
  local left=$(($1 - $(now_ms)))
  ((left > 0)) || return 0
  sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

do_kill() {
  local victim t0 kids=() ms=""
  victim=$(youngest_worker)
  [[ -n $victim ]] || {
    ev kill-skipped "no worker found"
    return 0
  }
  t0=$(now_ms)
  kill -KILL "$victim" 2>/dev/null || true
  while (($(now_ms) - t0 < 5000)); do
    kids=()
    read -r -a kids <"/proc/$STACK_HOP_PID/task/$STACK_HOP_PID/children" || true
    if ((${#kids[@]} == HOP_WORKERS)) && [[ " ${kids[*]} " != *" $victim "* ]]; then
      ms=$(($(now_ms) - t0))
      break
    fi
    sleep 0.002
  done
  ev kill "victim=$victim replaced_ms=${ms:-never}"
}

do_reload() {
  local before t0 ms="" i
  before=$(grep -c 'msg=ready' "$T/hop.log" || true)
  t0=$(now_ms)
  ev reload-begin
  kill -HUP "$STACK_HOP_PID"
  for ((i = 0; i < 600; i++)); do
    if (($(grep -c 'msg=ready' "$T/hop.log" || true) > before)); then
      ms=$(($(now_ms) - t0))
      break
    fi
    sleep 0.05
  done
  ev reload "ready_ms=${ms:-never}"
  # The workers that will live through the rest of the run, once each has served WARM_REQUESTS requests of the
  # mix (a fresh worker has not touched its heap, its cache and libpq's buffers yet: that is not growth).
  local p n warm
  for ((i = 0; i < 150; i++)); do
    warm=1
    for p in $(stack_pool_workers hop); do
      n=$(grep -c "pid=$p msg=access" "$T/hop.log" || true)
      ((n >= WARM_REQUESTS)) || warm=""
    done
    [[ -n $warm ]] && break
    sleep 0.1
  done
  rss_sample "$T/rss.start"
  ev rss-start "$(tr '\n' ' ' <"$T/rss.start")"
}

do_pg_restart() {
  ev pg-stop-begin
  stack_pg_stop fast || ev pg-stop-failed
  ev pg-down
  sleep "$((PG_DOWN_MS / 1000)).$(printf '%03d' $((PG_DOWN_MS % 1000)))"
  ev pg-start-begin
  stack_pg_start || ev pg-start-failed
  ev pg-up
}

# events START_MS: the schedule, relative to START_MS: kills at 5 %, 15 %, ... 95 % of the run, the reload
# at 20 %, PostgreSQL at 50 %.
events() {
  local start=$1 at what k
  {
    for ((k = 0; k < 10; k++)); do
      echo "$((start + k * KILL_EVERY_MS + KILL_EVERY_MS / 2)) kill"
    done
    echo "$((start + RUN_MS * 20 / 100)) reload"
    echo "$((start + RUN_MS * 50 / 100)) pg"
  } | sort -n >"$T/schedule"
  while read -r at what; do
    sleep_until "$at"
    [[ -e $T/stop.events ]] && break
    case $what in
    kill) do_kill ;;
    reload) do_reload ;;
    pg) do_pg_restart ;;
    esac
  done <"$T/schedule"
  ev events-done
}

# ---- traffic: batches of requests, one curl (HTTP/2, 16 at a time) per batch -------------------------------

ALIVE=()        # slugs acknowledged created and not (acknowledged or maybe) deleted, oldest first
DELETED=()      # acknowledged deleted
REFUSED=()      # custom creates answered with something other than 201 that means "not made"
MAYBE=()        # creates and deletes whose answer was lost (502, 000): either outcome is allowed
GEN_MAYBE=0     # generated creates whose answer was lost (their slug is unknown)
CREATED=0       # 201s
DELETES_ACKED=0 # 204s
SENT=0
SEQ=0
PATCH_SEQ=0

# grp WRITEOUT: the options every request of a batch carries (a curl config group).
grp() {
  echo "cacert = \"$CACERT\""
  echo "max-time = $MAXT"
  printf 'write-out = "%s\\n"\n' "$1"
}

api_grp() {
  grp "$1"
  echo "header = \"Authorization: Bearer $API_KEY\""
}

# gen_batch: a curl config on stdout; BATCH_N requests; the delete targets leave ALIVE (into PENDING_DEL).
gen_batch() {
  local i s n=0 pick
  PENDING_DEL=()
  # 60 GET redirects (half with a Referer) and 4 HEAD
  grp "%{http_code} R -"
  for ((i = 0; i < 30; i++)); do
    echo "url = \"$BASE/${HOT[i % ${#HOT[@]}]}\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  echo next
  grp "%{http_code} R -"
  echo 'referer = "https://News.Example.org:8443/today"'
  for ((i = 0; i < 30; i++)); do
    echo "url = \"$BASE/${HOT[(i + 2) % ${#HOT[@]}]}\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  echo next
  grp "%{http_code} H -"
  echo head
  for ((i = 0; i < 4; i++)); do
    echo "url = \"$BASE/${HOT[i % ${#HOT[@]}]}\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  # 4 creates with a custom slug, 2 with a generated one
  for ((i = 0; i < 4; i++)); do
    SEQ=$((SEQ + 1))
    s=s$SEQ
    echo next
    api_grp "%{http_code} C $s"
    echo 'header = "Content-Type: application/json"'
    echo "data-binary = \"{\\\"url\\\":\\\"https://example.com/soak/$s?x=1\\\",\\\"slug\\\":\\\"$s\\\"}\""
    echo "url = \"$BASE/api/links\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  for ((i = 0; i < 2; i++)); do
    echo next
    api_grp "%{http_code} G %header{location}"
    echo 'header = "Content-Type: application/json"'
    echo "data-binary = \"{\\\"url\\\":\\\"https://example.com/soak/generated\\\"}\""
    echo "url = \"$BASE/api/links\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  # 2 deletes of the oldest links, when there are enough
  for ((i = 0; i < 2 && ${#ALIVE[@]} > 8; i++)); do
    s=${ALIVE[0]}
    ALIVE=("${ALIVE[@]:1}")
    PENDING_DEL+=("$s")
    echo next
    api_grp "%{http_code} D $s"
    echo 'request = "DELETE"'
    echo "url = \"$BASE/api/links/$s\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  # 2 patches (a new url) of live links, 1 patch of a hot link's redirect status, 1 get
  for ((i = 0; i < 2 && ${#ALIVE[@]} > 0; i++)); do
    pick=${ALIVE[RANDOM % ${#ALIVE[@]}]}
    PATCH_SEQ=$((PATCH_SEQ + 1))
    echo next
    api_grp "%{http_code} P $pick"
    echo 'header = "Content-Type: application/json"'
    echo 'request = "PATCH"'
    echo "data-binary = \"{\\\"url\\\":\\\"https://example.com/soak/patched/$PATCH_SEQ\\\"}\""
    echo "url = \"$BASE/api/links/$pick\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  local codes=(301 302 307 308)
  echo next
  api_grp "%{http_code} P ${HOT[SEQ % ${#HOT[@]}]}"
  echo 'header = "Content-Type: application/json"'
  echo 'request = "PATCH"'
  echo "data-binary = \"{\\\"redirect\\\":${codes[SEQ % 4]}}\""
  echo "url = \"$BASE/api/links/${HOT[SEQ % ${#HOT[@]}]}\""
  echo 'output = "/dev/null"'
  n=$((n + 1))
  if ((${#ALIVE[@]} > 0)); then
    echo next
    pick=${ALIVE[RANDOM % ${#ALIVE[@]}]}
    api_grp "%{http_code} O $pick"
    echo "url = \"$BASE/api/links/$pick\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  fi
  # 2 stats and 1 list
  for ((i = 0; i < 2; i++)); do
    echo next
    api_grp "%{http_code} S ${HOT[(SEQ + i) % ${#HOT[@]}]}"
    echo "url = \"$BASE/api/links/${HOT[(SEQ + i) % ${#HOT[@]}]}/stats?days=2\""
    echo 'output = "/dev/null"'
    n=$((n + 1))
  done
  echo next
  api_grp "%{http_code} L -"
  echo "url = \"$BASE/api/links?limit=20\""
  echo 'output = "/dev/null"'
  n=$((n + 1))
  BATCH_N=$n
}

# process_batch T0 T1: the answers of the batch into $T/results.log ("t0 t1 status kind slug"), and the
# bookkeeping of which links exist.
process_batch() {
  local t0=$1 t1=$2 code kind slug got=0 s
  local -A del_seen=()
  while read -r code kind slug; do
    [[ -n ${kind:-} ]] || continue
    got=$((got + 1))
    echo "$t0 $t1 $code $kind $slug" >>"$T/results.log"
    case $kind in
    C | G)
      [[ $kind == G ]] && slug=${slug##*/}
      case $code in
      201)
        CREATED=$((CREATED + 1))
        ALIVE+=("$slug")
        ;;
      502 | 000)
        if [[ $kind == C ]]; then MAYBE+=("$slug"); else GEN_MAYBE=$((GEN_MAYBE + 1)); fi
        ;;
      *) [[ $kind == C ]] && REFUSED+=("$slug") ;;
      esac
      ;;
    D)
      del_seen[$slug]=1
      case $code in
      204)
        DELETES_ACKED=$((DELETES_ACKED + 1))
        DELETED+=("$slug")
        ;;
      502 | 000) MAYBE+=("$slug") ;;
      *) ALIVE+=("$slug") ;; # not deleted (503): still there
      esac
      ;;
    esac
  done <"$T/batch.out"
  # a request without any line of output was not answered at all
  for ((s = got; s < BATCH_N; s++)); do
    echo "$t0 $t1 000 ? -" >>"$T/results.log"
  done
  for s in "${PENDING_DEL[@]}"; do
    [[ -n ${del_seen[$s]:-} ]] || MAYBE+=("$s")
  done
  SENT=$((SENT + BATCH_N))
}

# ---- the run ---------------------------------------------------------------------------------------------

stack_start
EVENTS_PID=""
stop_events() {
  if [[ -n $EVENTS_PID ]]; then
    touch "$T/stop.events"
    kill -TERM "$EVENTS_PID" 2>/dev/null || true
    wait "$EVENTS_PID" 2>/dev/null || true
    EVENTS_PID=""
  fi
}
trap 'stop_events; stack_stop' EXIT
API_KEY=$(make_key soak) || _stack_abort "hop keys create failed"
for s in "${HOT[@]}"; do
  req POST /api/links -H 'Content-Type: application/json' --data-binary "{\"url\":\"https://example.com/hot/$s\",\"slug\":\"$s\"}"
  [[ $STATUS == 201 ]] || _stack_abort "could not create $s: $(_stack_last)"
done
: >"$T/results.log"
: >"$T/events.log"
rss_sample "$T/rss.first"

echo "# soak: $SOAK_SECONDS s, $HOP_WORKERS workers, through Caddy at $BASE; a worker killed every $((KILL_EVERY_MS / 1000)) s," \
  "a reload (SIGHUP) at 20 %, PostgreSQL restarted at 50 %"
START_MS=$(now_ms)
END_MS=$((START_MS + RUN_MS))
events "$START_MS" &
EVENTS_PID=$!
batches=0
while (($(now_ms) < END_MS && batches < SOAK_MAX_BATCHES)); do
  batches=$((batches + 1))
  gen_batch >"$T/batch.cfg"
  t0=$(now_ms)
  curl -s -Z --parallel-max 16 -K "$T/batch.cfg" >"$T/batch.out" 2>>"$T/curl.err" || true
  process_batch "$t0" "$(now_ms)"
done
TRAFFIC_MS=$(($(now_ms) - START_MS))
# the schedule ends at 95 % of the run; wait for its last step, but not for ever
for ((i = 0; i < 300; i++)); do
  grep -q events-done "$T/events.log" && break
  sleep 0.1
done
stop_events
rss_sample "$T/rss.end"

# ---- the reckoning -----------------------------------------------------------------------------------------

echo "# soak: $batches batches in $TRAFFIC_MS ms"
echo "# events:"
awk -v s="$START_MS" '{ printf "#   %7.1f s  %s\n", ($1 - s) / 1000, substr($0, index($0, " ") + 1) }' "$T/events.log"

kills=$(grep -c ' kill victim=' "$T/events.log" || true)
pg_stop=$(awk '$2 == "pg-stop-begin" { print $1 }' "$T/events.log")
pg_up=$(awk '$2 == "pg-up" { print $1 }' "$T/events.log")
expect_eq "soak: 10 worker kills were made" "$kills" 10
if grep -Eq ' kill .*replaced_ms=never' "$T/events.log"; then
  fail "soak: every killed worker was replaced" "$(grep -E 'replaced_ms=never' "$T/events.log" | head -n 3 | tr '\n' '|')"
else
  ok "soak: every killed worker was replaced (the longest took $(grep -o 'replaced_ms=[0-9]*' "$T/events.log" | cut -d= -f2 | sort -n | tail -n 1) ms)"
fi
if grep -q ' reload ready_ms=[0-9]' "$T/events.log"; then
  ok "soak: the graceful restart (SIGHUP) came back ($(grep -o 'ready_ms=[0-9]*' "$T/events.log"))"
else
  fail "soak: the graceful restart (SIGHUP) came back" "$(grep reload "$T/events.log" | tr '\n' '|')"
fi
if [[ -n $pg_stop && -n $pg_up ]] && ! grep -q 'pg-.*-failed' "$T/events.log"; then
  ok "soak: PostgreSQL was restarted (down $((pg_up - pg_stop)) ms)"
else
  fail "soak: PostgreSQL was restarted" "$(grep pg- "$T/events.log" | tr '\n' '|')"
fi

# answers: by status, by kind; which were allowed when
echo "# soak: requests sent $SENT; answers by status: $(awk '{ c[$3]++ } END { for (k in c) printf "%s: %d, ", k, c[k] }' "$T/results.log" | sed 's/, $//')"
echo "# soak: by kind (R redirect GET, H HEAD, C create, G generated create, P patch, D delete, O get, S stats, L list):"
awk '{ c[$4 " " $3]++ } END { for (k in c) print k, c[k] }' "$T/results.log" | sort | awk '
  { if ($1 != last) { if (line) print line; line = "#   " $1 ":"; last = $1 } line = line " " $2 "=" $3 }
  END { if (line) print line }'
unanswered=$(awk '$3 == "000" { n++ } END { print n + 0 }' "$T/results.log")
expect_eq "soak: every request was answered (none timed out after $MAXT s or failed to connect)" "$unanswered" 0
n502=$(awk '$3 == 502 { n++ } END { print n + 0 }' "$T/results.log")
if ((n502 <= kills)); then
  ok "soak: 502s at most one per worker kill ($n502 for $kills kills)"
else
  fail "soak: 502s at most one per worker kill" "$n502 for $kills kills: $(awk '$3 == 502' "$T/results.log" | head -n 5 | tr '\n' '|')"
fi
# 503: only in a batch that overlaps the PostgreSQL restart (from its stop to PG_GRACE_MS after it is back)
n503_out=$(awk -v a="${pg_stop:-0}" -v b="$((${pg_up:-0} + PG_GRACE_MS))" '$3 == 503 && ($2 < a || $1 > b) { n++ } END { print n + 0 }' "$T/results.log")
n503_in=$(awk -v a="${pg_stop:-0}" -v b="$((${pg_up:-0} + PG_GRACE_MS))" '$3 == 503 && !($2 < a || $1 > b) { n++ } END { print n + 0 }' "$T/results.log")
echo "# soak: 503s around the PostgreSQL restart: $n503_in (expected: creates, patches, deletes, reads); elsewhere: $n503_out"
expect_eq "soak: no 503 away from the PostgreSQL restart" "$n503_out" 0
bad=$(awk '
  $3 == 502 || $3 == 503 || $3 == "000" { next }
  ($4 == "R" || $4 == "H") && $3 ~ /^30[1278]$/ { next }
  ($4 == "C" || $4 == "G") && $3 == 201 { next }
  $4 == "D" && $3 == 204 { next }
  ($4 == "P" || $4 == "O" || $4 == "S" || $4 == "L") && $3 == 200 { next }
  { c[$4 " " $3]++ }
  END { for (k in c) printf "%s: %d; ", k, c[k] }' "$T/results.log")
expect_eq "soak: every other answer is the success its request calls for" "$bad" ""
expect_eq "soak: no worker died except the ones killed" "$(worker_deaths)" "$kills"
if grep -q 'msg="visits dropped"\|visits lost at shutdown' "$T/hop.log"; then
  fail "soak: no visit dropped or lost (hop's log)" "$(grep -m 3 'visits dropped\|visits lost' "$T/hop.log" | tr '\n' '|')"
else
  ok "soak: no visit dropped or lost (hop's log)"
fi

# visits counted versus redirects answered (a redirect cut by a kill may have been counted: at most the
# redirects answered 502)
answered=$(awk '($4 == "R" || $4 == "H") && $3 ~ /^30[1278]$/ { n++ } END { print n + 0 }' "$T/results.log")
cut=$(awk '($4 == "R" || $4 == "H") && $3 == 502 { n++ } END { print n + 0 }' "$T/results.log")
hot_list=$(printf "'%s'," "${HOT[@]}")
visits_sum() {
  psql_q "SELECT coalesce(sum(v.humans + v.bots), 0) FROM visit_counts v JOIN links l ON l.id = v.link_id
    WHERE v.dim = 0 AND l.slug IN (${hot_list%,})"
}
for ((i = 0; i < 50; i++)); do
  v=$(visits_sum)
  ((v >= answered)) && break
  sleep 0.1
done
echo "# soak: visits counted $v, redirects answered $answered (redirects cut by a kill: $cut)"
if ((v >= answered && v <= answered + cut)); then
  ok "soak: visits counted = redirects answered ($v = $answered${cut:+, + at most $cut cut by kills})"
else
  fail "soak: visits counted = redirects answered" "visits $v, redirects answered $answered, cut by kills $cut"
fi

# links stored versus creates acknowledged minus deletes acknowledged
psql_q "SELECT l.slug FROM links l JOIN owners o ON o.id = l.owner_id WHERE o.name = 'soak'" | sort >"$T/stored"
printf '%s\n' "${HOT[@]}" "${ALIVE[@]}" | sed '/^$/d' | sort >"$T/expected"
printf '%s\n' "${MAYBE[@]}" | sed '/^$/d' | sort -u >"$T/maybe"
stored=$(wc -l <"$T/stored")
expected=$((${#HOT[@]} + CREATED - DELETES_ACKED))
echo "# soak: links stored $stored; creates acknowledged $CREATED - deletes acknowledged $DELETES_ACKED + ${#HOT[@]} made" \
  "before = $expected; answers lost at kills: ${#MAYBE[@]} custom creates/deletes, $GEN_MAYBE generated creates"
missing=$(comm -23 "$T/expected" "$T/stored" | comm -23 - "$T/maybe" | head -n 5 | paste -sd' ' -)
maybe_stored=$(comm -12 "$T/maybe" "$T/stored" | comm -23 - "$T/expected" | wc -l)
extra=$(comm -13 "$T/expected" "$T/stored" | comm -23 - "$T/maybe")
n_extra=$(grep -c . <<<"$extra" || true)
expect_eq "soak: every link acknowledged and not deleted is stored" "$missing" ""
if ((n_extra <= GEN_MAYBE)); then
  ok "soak: links stored = creates acknowledged - deletes acknowledged ($stored stored = $expected acknowledged + $((maybe_stored + n_extra)) whose answer a kill cut)"
else
  fail "soak: links stored = creates acknowledged - deletes acknowledged" "$n_extra stored links nobody was told about: $(head -n 5 <<<"$extra" | paste -sd' ' -)"
fi
refused_stored=$(printf '%s\n' "${REFUSED[@]}" | sed '/^$/d' | sort | comm -12 - "$T/stored" | head -n 5 | paste -sd' ' -)
expect_eq "soak: no create answered with an error made its link" "$refused_stored" ""
deleted_stored=$(printf '%s\n' "${DELETED[@]}" | sed '/^$/d' | sort | comm -12 - "$T/stored" | head -n 5 | paste -sd' ' -)
expect_eq "soak: no link acknowledged deleted is still stored" "$deleted_stored" ""

# worker private memory: the workers that lived from just after the reload to the end
echo "# soak: worker private memory, RssAnon (KiB) before the run: $(tr '\n' ' ' <"$T/rss.first"); after the reload: $(tr '\n' ' ' <"$T/rss.start" 2>/dev/null); at the end: $(tr '\n' ' ' <"$T/rss.end")"
growth=$(awk 'NR == FNR { s[$1] = $2; next } ($1 in s) && $2 != "" { g = $2 - s[$1]; n++; if (g > mx || n == 1) mx = g; print "#   worker " $1 ": " s[$1] " -> " $2 " KiB (" (g >= 0 ? "+" : "") g ")" > "/dev/stderr" }
  END { if (n) print n, mx; else print 0, 0 }' "$T/rss.start" "$T/rss.end" 2>"$T/rss.report") || growth="0 0"
cat "$T/rss.report"
mean() { awk '$2 != "" { s += $2; n++ } END { if (n) printf "%d", s / n; else print "?" }' "$1"; }
echo "# soak: pool mean RssAnon after the reload $(mean "$T/rss.start" 2>/dev/null) KiB, at the end $(mean "$T/rss.end") KiB"
if ((${growth% *} == 0)); then
  fail "soak: a worker lived through the run to compare its memory" "no worker sampled after the reload was still there at the end"
elif ((${growth#* } <= ANON_LIMIT_KB)); then
  ok "soak: worker private memory (RssAnon) growth at most $ANON_LIMIT_KB KiB (largest ${growth#* } KiB over ${growth% *} workers that lived through the run)"
else
  fail "soak: worker private memory (RssAnon) growth at most $ANON_LIMIT_KB KiB" "largest ${growth#* } KiB"
fi

finish
