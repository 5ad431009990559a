# Library for integration tests: a throwaway PostgreSQL + `hop serve` + Caddy (HTTPS) stack in a temp dir,
# plus HTTP helpers (req) and test counters (ok/fail/expect_*/finish). Source it; see tests/integration/.
#
# Env in:  HOP_BIN (default <repo>/build/hop), HOP_WORKERS (default 3), KEEP=1 keeps the temp dir
#          (KEEP=failed: only when a test failed),
#          TMPDIR (where the temp dir goes; as root, where the postgres user cannot reach it, the cluster
#          goes to a folder of its own, see db/pgdev.sh); anything else (HOP_*) is passed on to hop.
#          API_KEY: when set, req sends "Authorization: Bearer $API_KEY" on /api paths (see make_key).
# Env out: T (temp dir), HOP_DB, BASE (https://localhost:PORT), CACERT, STACK_HOP_PID, STACK_CADDY_PID,
#          METRICS_BASE (http://127.0.0.1:PORT: the Caddyfile's loopback site for /metrics and /status).
# After req: STATUS (HTTP code, 000 if curl failed), BODY (text), HEADERS (file of the response headers).
# shellcheck shell=bash

STACK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HOP_BIN=${HOP_BIN:-$STACK_REPO/build/hop}
if [[ $HOP_BIN == */* && $HOP_BIN != /* ]]; then
  HOP_BIN=$PWD/$HOP_BIN
fi
T=""
BASE=""
CACERT=""
STATUS=""
BODY=""
HEADERS=""
STACK_HOP_PID=""
STACK_CADDY_PID=""
STACK_HOP_EXIT=""
STACK_REAPED=""
STACK_PG_STARTED=""
STACK_STOPPED=""
STACK_PASSED=0
STACK_FAILED=0
STACK_FAILED_NAMES=()

# ---- counters -------------------------------------------------------------------------------------------

ok() {
  STACK_PASSED=$((STACK_PASSED + 1))
  echo "ok   - $1"
}

fail() {
  STACK_FAILED=$((STACK_FAILED + 1))
  STACK_FAILED_NAMES+=("$1")
  echo "FAIL - $1: ${2:-}"
}

# Short description of the last response, for failure messages.
_stack_last() {
  local b=${BODY//$'\n'/ }
  ((${#b} > 300)) && b="${b:0:300}..."
  printf 'status %s, body: %s' "$STATUS" "$b"
}

expect_status() {
  local name=$1 want=$2
  if [[ $STATUS == "$want" ]]; then
    ok "$name"
  else
    fail "$name" "want status $want; got $(_stack_last)"
  fi
}

# expect_header NAME REGEX: some header line ("name: value", CR stripped) matches REGEX (ERE, any case).
expect_header() {
  local name=$1 re=$2
  if [[ -n $HEADERS && -f $HEADERS ]] && grep -Eiq -- "$re" "$HEADERS"; then
    ok "$name"
  else
    fail "$name" "no header matches /$re/; headers: $(tr '\n' '|' <"${HEADERS:-/dev/null}" 2>/dev/null)"
  fi
}

# expect_json NAME FILTER WANT: `jq -r FILTER` on BODY prints exactly WANT.
expect_json() {
  local name=$1 filter=$2 want=$3 got
  if ! got=$(jq -r "$filter" <<<"$BODY" 2>/dev/null); then
    fail "$name" "body is not JSON or filter $filter failed; $(_stack_last)"
  elif [[ $got == "$want" ]]; then
    ok "$name"
  else
    fail "$name" "$filter is '$got', want '$want'; $(_stack_last)"
  fi
}

# expect_header_is NAME HEADER WANT: the first HEADER of the last response is exactly WANT.
expect_header_is() {
  local name=$1 h=$2 want=$3 got
  got=$(header "$h")
  if [[ $got == "$want" ]]; then
    ok "$name"
  else
    fail "$name" "$h is '$got', want '$want'; $(_stack_last)"
  fi
}

# header NAME: the value of a header of the last response (first one), without CR.
header() {
  [[ -n $HEADERS && -f $HEADERS ]] || return 0
  awk -v n="$1" 'BEGIN { n = tolower(n) } {
      i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }' "$HEADERS"
}

# Print failed names, then "N passed, N failed" alone on the last line; exit nonzero on failure or no tests.
finish() {
  stack_stop
  if ((${#STACK_FAILED_NAMES[@]} > 0)); then
    echo "failed:"
    printf '  %s\n' "${STACK_FAILED_NAMES[@]}"
  fi
  echo "$STACK_PASSED passed, $STACK_FAILED failed"
  if ((STACK_FAILED > 0 || STACK_PASSED == 0)); then
    exit 1
  fi
  exit 0
}

# ---- HTTP ----------------------------------------------------------------------------------------------

# req METHOD PATH [curl args...]: a request to $BASE$PATH through Caddy, verifying TLS with $CACERT.
req() {
  local method=$1 path=$2
  shift 2
  local raw=$T/last.headers.raw body=$T/last.body
  local -a args=(-sS --cacert "$CACERT" --max-time 20 -D "$raw" -w '%{http_code}')
  HEADERS=$T/last.headers
  rm -f "$raw" "$body" "$HEADERS"
  if [[ -n ${API_KEY:-} && $path == /api* ]]; then
    args+=(-H "Authorization: Bearer $API_KEY")
  fi
  if [[ $method == HEAD ]]; then
    args+=(-I -o /dev/null)
  else
    args+=(-X "$method" -o "$body")
  fi
  STATUS=$(curl "${args[@]}" "$@" "$BASE$path" 2>"$T/last.curl") || STATUS=000
  [[ $STATUS =~ ^[0-9]{3}$ ]] || STATUS=000
  if [[ -f $raw ]]; then
    tr -d '\r' <"$raw" >"$HEADERS"
  else
    : >"$HEADERS"
  fi
  BODY=""
  if [[ -f $body ]]; then
    BODY=$(<"$body")
  fi
  if [[ $STATUS == 000 ]]; then
    BODY="(curl: $(tr '\n' ' ' <"$T/last.curl"))"
  fi
}

# ---- stack helpers ------------------------------------------------------------------------------------

# Lines in hop's log that report a dead worker.
worker_deaths() {
  local n
  n=$(grep -c 'msg="worker died"' "$T/hop.log" 2>/dev/null) || true
  echo "${n:-0}"
}

# stack_need_python NAME: python3 for the suites written in it (no __pycache__ left in the tree), or exit 1.
stack_need_python() {
  export PYTHONDONTWRITEBYTECODE=1
  command -v python3 >/dev/null 2>&1 && return 0
  echo "$1: python3 is missing (scripts/deps.sh installs it)" >&2
  exit 1
}

# make_key NAME: create an API key for owner NAME (`hop keys create`, key on the last line) and print it.
make_key() {
  "$HOP_BIN" keys create "$1" | tail -n 1
}

# stack_metric SAMPLE: the value of the sample of the pool's /metrics (the loopback site) that starts with
# SAMPLE: a family name, or a name with some of its labels ('name{a="b"'), adds up every sample it starts;
# empty when there is none.
stack_metric() {
  curl -sS --max-time 10 "$METRICS_BASE/metrics" |
    awk -v s="$1" 'index($0, s) == 1 && index(" ,{", substr($0, length(s) + 1, 1)) { v += $NF; found = 1 }
      END { if (found) printf "%d\n", v }'
}

# psql_q SQL: run SQL on the throwaway cluster and print the bare result.
psql_q() {
  psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB" -c "$1"
}

# table_locked TABLE MODE: a session holds TABLE's lock in MODE (LOCK TABLE's words: SHARE UPDATE EXCLUSIVE)
table_locked() {
  local word rest name=""
  for word in $2; do # pg_locks' name: ShareUpdateExclusiveLock
    rest=${word:1}
    name+=${word:0:1}${rest,,}
  done
  [[ $(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = '$1' AND l.mode = '${name}Lock' AND l.granted") == 1 ]]
}

# hold_lock TABLE MODE SECONDS LABEL: a session of its own holds TABLE in MODE (as a plain CREATE INDEX holds
# SHARE, VACUUM or ANALYZE SHARE UPDATE EXCLUSIVE) for up to SECONDS, HOLD_PID its psql, its output in
# $T/TABLE-lock.out; release_lock TABLE ends it sooner.
hold_lock() {
  psql -X -Atq -d "$HOP_DB" -c "SET lock_timeout = 0; BEGIN; LOCK TABLE $1 IN $2 MODE; SELECT pg_sleep($3); COMMIT;" \
    >"$T/$1-lock.out" 2>&1 &
  HOLD_PID=$!
  poll_until 5000 table_locked "$1" "$2" || fail "$4: the session holds $1" "$(cat "$T/$1-lock.out")"
}
release_lock() {
  psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%LOCK TABLE $1 IN %'
    AND pid <> pg_backend_pid()" >/dev/null
  wait "$HOLD_PID" 2>/dev/null || true
}

# lock_waiter PREFIX [DATABASE]: exactly one other session (of DATABASE, when given) waits for a lock while
# running a query that starts with PREFIX (a poll_until command).
lock_waiter() {
  [[ $(psql_q "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock'
    AND query LIKE '$1%' AND ('${2:-}' = '' OR datname = '${2:-}')") == 1 ]]
}

# True while PID is a live (not zombie) process.
_stack_alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}

# True when nothing listens on TCP 127.0.0.1:PORT.
_stack_port_free() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -z $(ss -Htln "sport = :$port" 2>/dev/null) ]] || return 1
  fi
  ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

_stack_abort() {
  fail "stack_start" "$1"
  local f
  for f in "$T/pgdev.log" "$T/migrate.log" "$T/hop.log" "$T/caddy.log"; do
    if [[ -s $f ]]; then
      echo "---- ${f##*/} (last 40 lines)"
      tail -n 40 "$f"
    fi
  done
  finish
}

# _stack_metrics_port PORT: sets METRICS_BASE to the first free port from PORT on (the loopback metrics site).
_stack_metrics_port() {
  local p=$1 i
  for ((i = 0; i < 200; i++)); do
    _stack_port_free "$p" && break
    p=$((p + 1))
  done
  METRICS_BASE=http://127.0.0.1:$p
  export METRICS_BASE
}

# Start the stack; on failure, record a failed test, print the logs and finish (exit 1).
stack_start() {
  local pgdir i port
  T=$(mktemp -d "${TMPDIR:-/tmp}/hop-it.XXXXXX")
  chmod 0711 "$T" # the postgres user must traverse it when we are root
  trap stack_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  trap 'exec >/dev/null 2>&1; exit 141' PIPE

  # PostgreSQL
  pgdir=$T/pg
  if ! PGDEV_DIR=$pgdir "$STACK_REPO/db/pgdev.sh" start >"$T/pgdev.log" 2>&1; then
    _stack_abort "db/pgdev.sh start failed"
  fi
  STACK_PG_STARTED=1
  HOP_DB=$(PGDEV_DIR=$pgdir "$STACK_REPO/db/pgdev.sh" url)
  export HOP_DB
  # the visit spool (issue 17) of this stack's pools, not the user's state directory
  export HOP_SPOOL_DIR=${HOP_SPOOL_DIR:-$T/spool}

  # hop
  [[ -x $HOP_BIN ]] || _stack_abort "$HOP_BIN is not an executable (build it first: make)"
  if ! "$HOP_BIN" migrate >"$T/migrate.log" 2>&1; then
    _stack_abort "$HOP_BIN migrate failed"
  fi
  : >"$T/hop.log"
  HOP_LISTEN=$T/hop.sock HOP_WORKERS=${HOP_WORKERS:-3} "$HOP_BIN" serve >"$T/hop.out" 2>"$T/hop.log" &
  STACK_HOP_PID=$!
  for ((i = 0; i < 100; i++)); do
    grep -q 'msg=ready' "$T/hop.log" && break
    _stack_alive "$STACK_HOP_PID" || _stack_abort "hop serve exited before it was ready"
    sleep 0.1
  done
  grep -q 'msg=ready' "$T/hop.log" || _stack_abort "hop serve did not log msg=ready within 10 s"

  # Caddy, on a free port (retrying if another test took it meanwhile)
  port=$((20000 + $$ % 10000))
  local attempt
  for ((attempt = 0; attempt < 5; attempt++)); do
    for ((i = 0; i < 200; i++)); do
      _stack_port_free "$port" && break
      port=$((port + 1))
      ((port < 30000)) || port=20000
    done
    _stack_metrics_port $((port + 10000))
    XDG_DATA_HOME=$T/caddy XDG_CONFIG_HOME=$T/caddy-config HOP_SOCKET=$T/hop.sock HOP_HTTPS_PORT=$port \
      HOP_METRICS_PORT=${METRICS_BASE##*:} HOP_APP_ROOT=${HOP_APP_ROOT:-$STACK_REPO/build/web} \
      caddy run --adapter caddyfile --config "$STACK_REPO/caddy/Caddyfile.dev" >"$T/caddy.log" 2>&1 &
    STACK_CADDY_PID=$!
    BASE=https://localhost:$port
    CACERT=$T/caddy/caddy/pki/authorities/local/root.crt
    export BASE CACERT
    for ((i = 0; i < 150; i++)); do
      if [[ -f $CACERT ]] && curl -fsS -o /dev/null --max-time 2 --cacert "$CACERT" "$BASE/healthz" 2>/dev/null; then
        return 0
      fi
      _stack_alive "$STACK_CADDY_PID" || break
      sleep 0.1
    done
    if _stack_alive "$STACK_CADDY_PID"; then
      _stack_abort "$BASE/healthz did not answer 2xx through Caddy within 15 s"
    fi
    wait "$STACK_CADDY_PID" || true
    STACK_CADDY_PID=""
    grep -q 'address already in use' "$T/caddy.log" || _stack_abort "caddy exited at startup"
    port=$((port + 1))
  done
  _stack_abort "no free port for Caddy"
}

# Wait up to $2 seconds for child $1 to exit; set STACK_REAPED to its exit status (or "timeout", after SIGKILL).
# Not in a subshell: only the parent shell can wait for its children.
_stack_reap() {
  local pid=$1 secs=$2 i rc=0
  for ((i = 0; i < secs * 10; i++)); do
    _stack_alive "$pid" || break
    sleep 0.1
  done
  if _stack_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    STACK_REAPED=timeout
    return 0
  fi
  wait "$pid" 2>/dev/null || rc=$?
  STACK_REAPED=$rc
}

# Stop hop (recording its exit status as a test), Caddy and the cluster; remove $T unless KEEP=1.
stack_stop() {
  [[ -z $STACK_STOPPED ]] || return 0
  STACK_STOPPED=1
  set +e # clean up as much as possible, whatever fails (this also runs as the EXIT trap)
  if [[ -n $STACK_HOP_PID ]]; then
    kill -TERM "$STACK_HOP_PID" 2>/dev/null
    _stack_reap "$STACK_HOP_PID" 10
    STACK_HOP_EXIT=$STACK_REAPED
  fi
  if [[ -n $STACK_CADDY_PID ]]; then
    kill -TERM "$STACK_CADDY_PID" 2>/dev/null
    _stack_reap "$STACK_CADDY_PID" 10
  fi
  if [[ -n $STACK_PG_STARTED ]]; then
    PGDEV_DIR=$T/pg "$STACK_REPO/db/pgdev.sh" stop >>"$T/pgdev.log" 2>&1 || echo "stack_stop: could not stop the cluster in $T/pg" >&2
  fi
  if [[ -n $STACK_HOP_PID ]]; then
    if [[ $STACK_HOP_EXIT == 0 ]]; then
      ok "hop serve exits 0 on SIGTERM"
    else
      fail "hop serve exits 0 on SIGTERM" "exit status: $STACK_HOP_EXIT; log tail: $(tail -n 5 "$T/hop.log" 2>/dev/null | tr '\n' '|')"
    fi
  fi
  if [[ -n $STACK_HOP_PID ]] && grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/hop.log" 2>/dev/null; then
    fail "no sanitizer reports in hop.log" "$(grep -Em 3 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/hop.log" | tr '\n' '|')"
  fi
  if ((STACK_FAILED > 0)) && [[ -s $T/hop.log ]]; then
    echo "---- hop.log (last 20 lines)"
    tail -n 20 "$T/hop.log"
  fi
  if [[ -n $T && -d $T ]]; then
    if [[ ${KEEP:-} == 1 || $STACK_FAILED -gt 0 && ${KEEP:-} == failed ]]; then
      echo "kept $T (logs: hop.log caddy.log pgdev.log)"
    else
      # When the postgres user could not reach $T (a TMPDIR under a 0700 folder, as root), $T/pg is a link to
      # the cluster's folder elsewhere (db/pgdev.sh): remove that too.
      if [[ -L $T/pg ]]; then
        PGDEV_DIR=$T/pg "$STACK_REPO/db/pgdev.sh" reset >>"$T/pgdev.log" 2>&1 || echo "stack_stop: could not remove the cluster $(readlink "$T/pg")" >&2
      fi
      rm -rf "$T"
    fi
  fi
}

# ---- more pools, another Caddyfile, small checks (added for test_api, test_visits, test_twopools) ----------

declare -gA STACK_POOL_PIDS=() # extra pools (stack_pool_start NAME), by name

# expect_eq NAME GOT WANT: GOT is exactly WANT.
# run_script SCRIPT NAME WANT_EXIT [ENV...] -- [ARGS...]: bash SCRIPT (a path in the repository) with ENV and
# ARGS, at most 300 s, its output (stdout and stderr) in OUT; a check named NAME that it exits WANT_EXIT.
OUT=""
run_script() {
  local script=$1 name=$2 want=$3 envs=() rc=0
  shift 3
  while [[ $1 != -- ]]; do
    envs+=("$1")
    shift
  done
  shift
  OUT=$(cd "$STACK_REPO" && timeout 300 env "${envs[@]}" bash "$script" "$@" 2>&1) || rc=$?
  if [[ $rc == "$want" ]]; then
    ok "$name: exit $want"
  else
    fail "$name: exit $want" "exit $rc; output: $(tail -n 5 <<<"$OUT" | tr '\n' '|')"
  fi
}

expect_eq() {
  if [[ $2 == "$3" ]]; then
    ok "$1"
  else
    fail "$1" "got '$2', want '$3'"
  fi
}

# expect_jeq NAME FILTER WANT: FILTER on BODY equals the JSON value WANT.
expect_jeq() {
  local got
  if jq -e --argjson w "$3" "($2) == \$w" <<<"$BODY" >/dev/null 2>&1; then
    ok "$1"
  else
    got=$(jq -c "$2" <<<"$BODY" 2>/dev/null) || got="(not JSON)"
    fail "$1" "$2 is ${got:0:400}, want ${3:0:400}; status $STATUS"
  fi
}

# _stack_pool_pid NAME: the PID of pool NAME ("hop" is the stack's own pool), empty when not running.
_stack_pool_pid() {
  if [[ $1 == hop ]]; then
    echo "$STACK_HOP_PID"
  else
    echo "${STACK_POOL_PIDS[$1]:-}"
  fi
}

_stack_ready_lines() {
  local n
  n=$(grep -c 'msg=ready' "$1" 2>/dev/null) || true
  echo "${n:-0}"
}

# stack_pool_start [NAME]: start a `hop serve` listening on $T/NAME.sock, its log appended to $T/NAME.log,
# and wait (10 s at most) for its msg=ready. NAME defaults to hop, the stack's own pool (to start it again
# after stack_pool_stop; the PID goes to STACK_HOP_PID). Settings for hop come from the caller's
# environment, e.g. `HOP_BASE_URL=https://sho.rt stack_pool_start`. On failure: finish (exit 1).
stack_pool_start() {
  local name=${1:-hop} before i pid
  [[ $name =~ ^[A-Za-z0-9_-]+$ ]] || _stack_abort "stack_pool_start: bad pool name '$name'"
  [[ -z $(_stack_pool_pid "$name") ]] || _stack_abort "stack_pool_start: pool $name is already running"
  touch "$T/$name.log"
  before=$(_stack_ready_lines "$T/$name.log")
  HOP_LISTEN=$T/$name.sock HOP_WORKERS=${HOP_WORKERS:-3} "$HOP_BIN" serve >>"$T/$name.out" 2>>"$T/$name.log" &
  pid=$!
  if [[ $name == hop ]]; then
    STACK_HOP_PID=$pid
  else
    STACK_POOL_PIDS[$name]=$pid
  fi
  for ((i = 0; i < 100; i++)); do
    (($(_stack_ready_lines "$T/$name.log") > before)) && return 0
    _stack_alive "$pid" || _stack_abort "pool $name: hop serve exited before it was ready (log: $name.log)"
    sleep 0.1
  done
  _stack_abort "pool $name: hop serve did not log msg=ready within 10 s (log: $name.log)"
}

# stack_pool_stop [NAME]: SIGTERM pool NAME (default hop) and wait for it; records as tests that it exits 0
# and that its log holds no sanitizer report. Waits up to 40 s (hop's shutdown grace is 30 s).
stack_pool_stop() {
  local name=${1:-hop} pid
  pid=$(_stack_pool_pid "$name")
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  _stack_reap "$pid" 40
  if [[ $name == hop ]]; then
    STACK_HOP_PID=""
  else
    unset "STACK_POOL_PIDS[$name]"
  fi
  if [[ $STACK_REAPED == 0 ]]; then
    ok "pool $name: hop serve exits 0 on SIGTERM"
  else
    fail "pool $name: hop serve exits 0 on SIGTERM" "exit status: $STACK_REAPED; log tail: $(tail -n 5 "$T/$name.log" 2>/dev/null | tr '\n' '|')"
  fi
  if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/$name.log" 2>/dev/null; then
    fail "pool $name: no sanitizer reports in $name.log" "$(grep -Em 3 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/$name.log" | tr '\n' '|')"
  fi
}

# stack_pools_stop: stop every extra pool (not the stack's own); call it before finish.
stack_pools_stop() {
  local name
  for name in "${!STACK_POOL_PIDS[@]}"; do
    stack_pool_stop "$name"
  done
}

# stack_pool_workers [NAME]: the PIDs of the pool's worker processes (the master's children), one a line.
stack_pool_workers() {
  local pid
  pid=$(_stack_pool_pid "${1:-hop}")
  [[ -n $pid ]] || return 0
  { tr ' ' '\n' <"/proc/$pid/task/$pid/children"; } 2>/dev/null | grep -E '^[0-9]+$' || true
}

# stack_caddy_run CADDYFILE: replace the stack's Caddy by one running CADDYFILE on the same port, with the same
# local CA (so CACERT stays valid) and the env the dev Caddyfile gets (HOP_SOCKET, HOP_HTTPS_PORT); waits up
# to 15 s for $BASE/healthz to answer 2xx. On failure: finish (exit 1).
stack_caddy_run() {
  local file=$1 port=${BASE##*:} i
  if [[ -n $STACK_CADDY_PID ]]; then
    kill -TERM "$STACK_CADDY_PID" 2>/dev/null || true
    _stack_reap "$STACK_CADDY_PID" 10
    STACK_CADDY_PID=""
  fi
  XDG_DATA_HOME=$T/caddy XDG_CONFIG_HOME=$T/caddy-config HOP_SOCKET=$T/hop.sock HOP_HTTPS_PORT=$port \
    HOP_METRICS_PORT=${METRICS_BASE##*:} caddy run --adapter caddyfile --config "$file" >>"$T/caddy.log" 2>&1 &
  STACK_CADDY_PID=$!
  for ((i = 0; i < 150; i++)); do
    if curl -fsS -o /dev/null --max-time 2 --cacert "$CACERT" "$BASE/healthz" 2>/dev/null; then
      return 0
    fi
    _stack_alive "$STACK_CADDY_PID" || _stack_abort "caddy exited at startup with $file"
    sleep 0.1
  done
  _stack_abort "$BASE/healthz did not answer 2xx through Caddy ($file) within 15 s"
}

# now_ms: wall-clock milliseconds (no fork).
now_ms() {
  local t=${EPOCHREALTIME/./}
  echo $((10#$t / 1000))
}

# poll_until MS CMD [ARGS...]: run CMD now and then every 100 ms until it succeeds (status 0) or MS milliseconds
# have passed; POLL_MS is the time it took. Returns CMD's last status. CMD must not record tests itself.
POLL_MS=0
poll_until() {
  local limit=$1 start
  shift
  start=$(now_ms)
  while :; do
    if "$@"; then
      POLL_MS=$(($(now_ms) - start))
      return 0
    fi
    POLL_MS=$(($(now_ms) - start))
    ((POLL_MS < limit)) || return 1
    sleep 0.1
  done
}

# ---- PostgreSQL stopped and started under a running pool (added for test_faults and the soak) -------------

# stack_pg_ctl ARGS...: pg_ctl on the stack's cluster ($T/pg/data), as the postgres user when we are root
# (as db/pgdev.sh runs it).
stack_pg_ctl() {
  local bindir pg
  bindir=$(pg_config --bindir 2>/dev/null) || true
  [[ -n $bindir && -x $bindir/pg_ctl ]] || bindir=/usr/lib/postgresql/15/bin
  pg=$(readlink -f "$T/pg") # the cluster's own folder, when $T/pg links to it (db/pgdev.sh)
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$bindir/pg_ctl" -D "$pg/data" "$@")
  else
    "$bindir/pg_ctl" -D "$pg/data" "$@"
  fi
}

# stack_pg_stop MODE: stop the stack's PostgreSQL with `pg_ctl -m MODE` (smart, fast or immediate) and wait
# until it is down. Output goes to $T/pgdev.log.
stack_pg_stop() {
  stack_pg_ctl -m "$1" -w -t 30 stop >>"$T/pgdev.log" 2>&1
}

# stack_pg_start: start the stack's PostgreSQL again and wait until it accepts connections.
stack_pg_start() {
  stack_pg_ctl -l "$(readlink -f "$T/pg")/log" -w -t 30 start >>"$T/pgdev.log" 2>&1
}

# stack_worker_anon PID: the private anonymous memory of process PID in KiB (RssAnon: heap, stacks, private
# mappings; what a leak grows), empty when it is gone. The memory a worker shares with its pool (RssShmem:
# the host's link table, the visit counters, bounded by their settings) and file pages are left out: a
# worker's VmRSS grows as it touches more of the shared link table, without leaking anything.
stack_worker_anon() {
  awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status" 2>/dev/null || true
}
