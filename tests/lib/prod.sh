# Helpers for the production-shaped suites (supervisors, restart, scale-out, ACME): a throwaway PostgreSQL,
# hop under whichever supervisor a test starts, Caddy with a given Caddyfile on free ports, and bounded load
# through Caddy with wrk. Source tests/lib/stack.sh first (counters, req, finish), then this file.
#
# Env out: T, HOP_DB (after prod_pg), BASE and CACERT (after prod_caddy), PROD_PID (after prod_spawn),
#          PROD_EXIT (after prod_stop), WRK_* (after prod_wrk).
# shellcheck shell=bash
# shellcheck disable=SC2034 # PROD_EXIT, WRK_* and STACK_PG_STARTED are read by the suites and stack.sh

PROD_PIDS=()
PROD_PORTS=()
PROD_PID=""
PROD_EXIT=""

# prod_init: the temp dir and the traps; every process started with prod_spawn is stopped on exit.
prod_init() {
  T=$(mktemp -d "${TMPDIR:-/tmp}/hop-it.XXXXXX")
  chmod 0711 "$T" # the postgres user must traverse it when we are root
  trap prod_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  trap 'exec >/dev/null 2>&1; exit 141' PIPE
}

# prod_abort MESSAGE: record a failed test, show the logs, and finish.
prod_abort() {
  fail "setup" "$1"
  local f
  for f in "$T"/*.log; do
    if [[ -s $f ]]; then
      echo "---- ${f##*/} (last 30 lines)"
      tail -n 30 "$f"
    fi
  done
  prod_finish
}

# prod_require TOOL...: every TOOL is on PATH, or the suite fails at once saying who installs it.
prod_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "FAIL - $tool is not installed (scripts/deps.sh installs it)"
      echo "0 passed, 1 failed"
      exit 1
    }
  done
}

# prod_pool: `hop serve` on $T/hop.sock (SOCK), its master's pid in HOP_PID, ready within 20 s.
prod_pool() {
  SOCK=$T/hop.sock
  prod_spawn hop env HOP_LISTEN="$SOCK" "$HOP_BIN" serve
  HOP_PID=$PROD_PID
  prod_wait_log "$T/hop.log" 'msg=ready' 1 20 "$HOP_PID" || prod_abort "hop serve was not ready within 20 s"
}

# prod_taken_back LOG BEFORE TRIES: polls every 50 ms, at most TRIES times and while the wrk load lives,
# until LOG counts more 302 redirects than BEFORE (a restarted pool serving again); BACK_MS is how long that
# took, empty when it never did.
prod_taken_back() {
  local log=$1 before=$2 tries=$3 t0=$EPOCHREALTIME i
  BACK_MS=""
  for ((i = 0; i < tries; i++)); do
    if (($(prod_count "$log" 'msg=access method="GET" .* status=302') > before)); then
      BACK_MS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
      return 0
    fi
    _stack_alive "$WRK_PID" || return 0
    sleep 0.05
  done
}

# prod_failover_tally KILL_SEC: reads the wrk run's per-second counts around a kill at wall-clock second
# KILL_SEC (printing each) into BEFORE_BAD, WINDOW_BAD (the second of the kill), LATE_BAD and LATE_GOOD,
# and wrk's socket errors into SOCK_ERRS.
prod_failover_tally() {
  local kill_sec=$1 sec good bad
  BEFORE_BAD=0 WINDOW_BAD=0 LATE_BAD=0 LATE_GOOD=0
  while read -r _ sec _ good _ bad; do
    echo "  second $((sec - kill_sec)) from the kill: $good good, $bad failed"
    if ((sec < kill_sec)); then
      BEFORE_BAD=$((BEFORE_BAD + bad))
    elif ((sec == kill_sec)); then
      WINDOW_BAD=$bad
    else
      LATE_BAD=$((LATE_BAD + bad))
      LATE_GOOD=$((LATE_GOOD + good))
    fi
  done < <(grep '^second ' "$WRK_OUT")
  SOCK_ERRS=$(awk -F'[ ,]+' '/Socket errors:/ { print $5 + $7 + $9 + $11 }' "$WRK_OUT")
}

# prod_pg_start: a throwaway cluster in $T/pg, empty, HOP_DB pointing at it.
prod_pg_start() {
  if ! PGDEV_DIR=$T/pg "$STACK_REPO/db/pgdev.sh" start >"$T/pgdev.log" 2>&1; then
    prod_abort "db/pgdev.sh start failed"
  fi
  STACK_PG_STARTED=1
  HOP_DB=$(PGDEV_DIR=$T/pg "$STACK_REPO/db/pgdev.sh" url)
  export HOP_DB
}

# prod_pg: the same, and the schema migrated.
prod_pg() {
  prod_pg_start
  [[ -x $HOP_BIN ]] || prod_abort "$HOP_BIN is not an executable (build it first: make)"
  "$HOP_BIN" migrate >"$T/migrate.log" 2>&1 || prod_abort "$HOP_BIN migrate failed"
}

# prod_port: print a TCP port on 127.0.0.1 that is free now and not handed out before by this suite.
prod_port() {
  local port=$((20000 + RANDOM % 20000)) i p taken
  for ((i = 0; i < 500; i++)); do
    taken=""
    for p in "${PROD_PORTS[@]}"; do
      [[ $p == "$port" ]] && taken=1
    done
    if [[ -z $taken ]] && _stack_port_free "$port"; then
      PROD_PORTS+=("$port")
      echo "$port"
      return 0
    fi
    port=$((port + 1))
    ((port < 40000)) || port=20000
  done
  return 1
}

# prod_spawn NAME CMD...: start CMD in the background, stdout+stderr to $T/NAME.log; PROD_PID is its pid.
prod_spawn() {
  local name=$1
  shift
  "$@" >>"$T/$name.log" 2>&1 &
  PROD_PID=$!
  PROD_PIDS+=("$PROD_PID")
}

# prod_count FILE REGEX: number of lines of FILE matching REGEX (ERE).
prod_count() {
  local n
  n=$(grep -Ec -- "$2" "$1" 2>/dev/null) || true
  echo "${n:-0}"
}

# prod_expect_none LABEL LOG ERE: ok when no line of LOG matches ERE, else fail showing the first three.
prod_expect_none() {
  if [[ $(prod_count "$2" "$3") == 0 ]]; then
    ok "$1"
  else
    fail "$1" "$(grep -Em 3 -- "$3" "$2" | tr '\n' '|')"
  fi
}

# prod_wait_log FILE REGEX COUNT SECS [PID]: wait until FILE has COUNT lines matching REGEX; false on time
# out, or as soon as PID (when given) has exited.
prod_wait_log() {
  local file=$1 re=$2 want=$3 secs=$4 pid=${5:-} i
  for ((i = 0; i < secs * 20; i++)); do
    (($(prod_count "$file" "$re") >= want)) && return 0
    if [[ -n $pid ]] && ! _stack_alive "$pid"; then
      (($(prod_count "$file" "$re") >= want)) && return 0
      return 1
    fi
    sleep 0.05
  done
  return 1
}

# prod_stop PID [SIGNAL] [SECS]: signal PID (default TERM), wait up to SECS (default 15) for it to exit;
# PROD_EXIT is its exit status, or "timeout" (it was then killed).
prod_stop() {
  local pid=$1 sig=${2:-TERM} secs=${3:-15}
  kill -s "$sig" "$pid" 2>/dev/null || true
  _stack_reap "$pid" "$secs"
  PROD_EXIT=$STACK_REAPED
}

# prod_children PID: the pids of PID's children.
prod_children() {
  local f
  for f in /proc/"$1"/task/*/children; do
    [[ -r $f ]] && cat "$f"
  done
  echo
}

# prod_caddy CADDYFILE [VAR=VALUE...]: run Caddy with CADDYFILE (env: HOP_HTTPS_PORT, XDG dirs in $T, and
# the VAR=VALUEs) on a free port; BASE and CACERT point at it (tls internal). Waits until it answers.
prod_caddy() {
  local file=$1 attempt port i code
  shift
  for ((attempt = 0; attempt < 5; attempt++)); do
    port=$(prod_port) || prod_abort "no free port for Caddy"
    # the Caddyfiles' loopback metrics site gets a port of its own too, so runs side by side never meet
    _stack_metrics_port $((port + 20000 > 65000 ? port - 15000 : port + 20000))
    env XDG_DATA_HOME="$T/caddy" XDG_CONFIG_HOME="$T/caddy-config" HOP_HTTPS_PORT="$port" \
      HOP_METRICS_PORT="${METRICS_BASE##*:}" "$@" \
      caddy run --adapter caddyfile --config "$file" >"$T/caddy.log" 2>&1 &
    STACK_CADDY_PID=$!
    BASE=https://localhost:$port
    CACERT=$T/caddy/caddy/pki/authorities/local/root.crt
    export BASE CACERT
    for ((i = 0; i < 150; i++)); do
      if [[ -f $CACERT ]]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CACERT" "$BASE/healthz" 2>/dev/null) || true
        [[ $code =~ ^[1-5][0-9][0-9]$ ]] && return 0
      fi
      _stack_alive "$STACK_CADDY_PID" || break
      sleep 0.1
    done
    _stack_alive "$STACK_CADDY_PID" && prod_abort "Caddy did not answer on $BASE within 15 s"
    wait "$STACK_CADDY_PID" || true
    STACK_CADDY_PID=""
    grep -q 'address already in use' "$T/caddy.log" || prod_abort "caddy exited at startup"
  done
  prod_abort "no free port for Caddy after 5 tries"
}

# prod_create URL: create a link through Caddy (API_KEY must be set); prints its slug, or nothing.
prod_create() {
  req POST /api/links -H 'Content-Type: application/json' --data-binary "{\"url\":\"$1\"}"
  if [[ $STATUS == 201 ]]; then
    jq -r '.slug // empty' <<<"$BODY" 2>/dev/null || true
  fi
}

# prod_wrk_start URL SECONDS CONNECTIONS [LUA]: bounded load with wrk (one thread) in the background;
# WRK_PID, and WRK_OUT its output. LUA: a wrk script (tests/lib/wrk_seconds.lua counts per second).
prod_wrk_start() {
  local script=()
  [[ -n ${4:-} ]] && script=(-s "$4")
  WRK_OUT=$T/wrk.$RANDOM.out
  wrk -t1 -c"$3" -d"${2}s" --timeout 20s "${script[@]}" "$1" >"$WRK_OUT" 2>&1 &
  WRK_PID=$!
  PROD_PIDS+=("$WRK_PID")
}

# prod_wrk_wait: wait for it; WRK_REQS (responses), WRK_FAILED (non-2xx/3xx responses plus socket errors),
# WRK_MAX_MS (the slowest response: the longest stall a client saw) and WRK_ERRORS (wrk's socket-error line).
prod_wrk_wait() {
  local out=$WRK_OUT non2xx errs
  wait "$WRK_PID" || true
  WRK_REQS=$(awk '/requests in/ { print $1 }' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errs=$(awk -F'[ ,]+' '/Socket errors:/ { print $5 + $7 + $9 + $11 }' "$out")
  WRK_FAILED=$((${non2xx:-0} + ${errs:-0}))
  WRK_ERRORS="none"
  if grep -q 'Socket errors:' "$out"; then
    WRK_ERRORS=$(grep 'Socket errors:' "$out" | sed 's/^ *//')
  fi
  # "Latency   1.20ms   0.40ms  45.01ms  90%": the fourth field is the maximum, with its unit
  WRK_MAX_MS=$(awk '$1 == "Latency" && NF >= 4 { v = $4; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
      m = (u == "us") ? v / 1000 : (u == "ms") ? v : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v;
      printf "%.1f", m; exit }' "$out")
  WRK_REQS=${WRK_REQS:-0}
  WRK_MAX_MS=${WRK_MAX_MS:-0}
  if [[ $WRK_REQS == 0 ]]; then
    echo "wrk output:" && cat "$out"
  fi
}

# prod_wrk URL SECONDS CONNECTIONS: the two above in one.
prod_wrk() {
  prod_wrk_start "$@"
  prod_wrk_wait
}

# prod_sanitizers: any sanitizer report in the logs of this suite is a failure.
prod_sanitizers() {
  local hits
  hits=$(grep -EhIs 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/*.log | head -n 3 | tr '\n' '|') || true
  if [[ -n $hits ]]; then
    fail "no sanitizer reports in the logs" "$hits"
  fi
}

# prod_kill_all: stop every process this suite started that is still alive (TERM, then KILL).
prod_kill_all() {
  local pid
  for pid in "${PROD_PIDS[@]}"; do
    if _stack_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      _stack_reap "$pid" 10
    fi
  done
  PROD_PIDS=()
}

prod_cleanup() {
  set +e
  prod_kill_all
  stack_stop
}

# prod_finish: stop what is left, check the logs for sanitizer reports, print the tally and exit.
prod_finish() {
  local f
  prod_kill_all
  if [[ -n $T && -d $T ]]; then
    prod_sanitizers
    if ((STACK_FAILED > 0)); then
      for f in "$T"/hop-*.log; do
        [[ -s $f ]] || continue
        echo "---- ${f##*/} (last 15 lines)"
        tail -n 15 "$f"
      done
    fi
  fi
  finish
}
