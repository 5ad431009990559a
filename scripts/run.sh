#!/usr/bin/env bash
# Runs hop for development (what `make run` calls after building): dev PostgreSQL, `hop serve` and Caddy on
# https://localhost:${HOP_HTTPS_PORT:-8443}, in the foreground until Ctrl-C/SIGTERM, then stops what it started.
set -euo pipefail

t0=$EPOCHREALTIME
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

hop=${HOP_BIN:-$repo/build/hop}
port=${HOP_HTTPS_PORT:-8443}
run=$repo/.run
sock=$run/hop.sock
caddy_data=$repo/.caddy
cacert=$caddy_data/caddy/pki/authorities/local/root.crt
base=https://localhost:$port

hop_pid=""
caddy_pid=""
db_started=""

say() { echo "run.sh: $*"; }
die() {
  echo "run.sh: $*" >&2
  exit 1
}

# True while PID is a live (not zombie) process.
alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}

# shellcheck disable=SC2317 # stop_child and cleanup run from the EXIT trap
# Stop one child: SIGTERM, up to 10 s, then SIGKILL.
stop_child() {
  local name=$1 pid=$2 i rc=0
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    say "$name (pid $pid) did not stop within 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  if ((rc != 0)); then
    say "$name exited with status $rc"
  fi
}

# shellcheck disable=SC2317
# Stop what this script started: Caddy, hop, any other job (one started just before the signal, whose PID
# was not recorded yet), then the dev database when this run started it. More INT/TERM signals are ignored
# meanwhile: stopped by `timeout`, a supervisor or a CI job, make run gets SIGTERM twice (once with its
# process group, once more from make, which passes a SIGTERM on to its children, a moment later). The second
# used to land after cleanup had reset the traps and kill this script half-way, leaving whatever it had not
# stopped yet running (Caddy on the port, or hop and the dev database): 3 of 10 group stops with the old
# script, every stop with a second SIGTERM 20 ms after the first; tests/integration/test_anywhere.sh tries both.
cleanup() {
  trap '' INT TERM
  trap - EXIT
  set +e
  local pid
  [[ -n $caddy_pid ]] && stop_child caddy "$caddy_pid"
  [[ -n $hop_pid ]] && stop_child hop "$hop_pid"
  for pid in $(jobs -p); do
    stop_child "job $pid" "$pid"
  done
  rm -f "$run/hop.pid"
  if [[ -n $db_started ]]; then
    db/pgdev.sh stop
  fi
}

[[ -x $hop ]] || die "$hop does not exist: build it first (make)"
[[ -f $repo/build/web/index.html ]] || die "the web page is not built: make web"

# True when nothing listens on TCP port $1 of the loopback.
port_free() {
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]; then
    return 1
  fi
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if ! port_free "$port"; then
  {
    echo "run.sh: port $port is already taken, so Caddy cannot serve $base."
    if command -v ss >/dev/null 2>&1; then
      ss -Htlnp "sport = :$port" 2>/dev/null | sed 's/^/  /'
    fi
    echo "  stop whatever holds it, or pick another port: HOP_HTTPS_PORT=9443 make run"
  } >&2
  exit 1
fi

mkdir -p "$run" "$caddy_data"
if [[ -f $run/hop.pid ]] && alive "$(cat "$run/hop.pid")"; then
  die "hop is already running from this checkout (pid $(cat "$run/hop.pid")); stop it first"
fi
rm -f "$sock"

# Installed before anything is started; the signal traps ignore further signals from their first command on.
trap cleanup EXIT
trap 'trap "" INT TERM; exit 130' INT
trap 'trap "" INT TERM; exit 143' TERM

# Background jobs get their own process groups, so a Ctrl-C (SIGINT to the terminal's process group) or a
# SIGTERM to make's process group reaches only this script (and make), which then stops hop and Caddy in
# order with SIGTERM.
set -m

# PostgreSQL. The start runs to its end even when a signal comes meanwhile (it then stops the cluster in
# cleanup): a pg_ctl killed half-way could leave a postmaster that no pid file names yet.
if ! db/pgdev.sh status >/dev/null 2>&1; then
  db_started=1
fi
(
  trap '' INT TERM
  exec db/pgdev.sh start
)
HOP_DB=$(db/pgdev.sh url)
export HOP_DB

"$hop" migrate

# hop: its log goes to the terminal and to .run/hop.log.
: >"$run/hop.log"
# tee ignores INT/TERM so that it outlives hop's last log lines (it ends when hop closes its stderr).
HOP_LISTEN=$sock "$hop" serve 2> >(
  trap '' INT TERM
  exec tee -a "$run/hop.log" >&2
) &
hop_pid=$!
echo "$hop_pid" >"$run/hop.pid"
for ((i = 0; i < 100; i++)); do
  grep -q 'msg=ready' "$run/hop.log" && break
  alive "$hop_pid" || die "hop serve exited before it was ready (log: $run/hop.log)"
  sleep 0.1
done
grep -q 'msg=ready' "$run/hop.log" || die "hop serve did not log msg=ready within 10 s (log: $run/hop.log)"

# Caddy: its (JSON) log goes to .run/caddy.log.
XDG_DATA_HOME=$caddy_data XDG_CONFIG_HOME=$caddy_data/config HOP_SOCKET=$sock HOP_HTTPS_PORT=$port \
  HOP_APP_ROOT=$repo/build/web caddy run --adapter caddyfile --config "$repo/caddy/Caddyfile.dev" >"$run/caddy.log" 2>&1 &
caddy_pid=$!
ready=""
for ((i = 0; i < 150; i++)); do
  if [[ -f $cacert ]] && curl -fsS -o /dev/null --max-time 2 --cacert "$cacert" "$base/healthz" 2>/dev/null; then
    ready=1
    break
  fi
  alive "$caddy_pid" || break
  sleep 0.1
done
if [[ -z $ready ]]; then
  tail -n 20 "$run/caddy.log" >&2
  die "$base/healthz did not answer through Caddy within 15 s (log: $run/caddy.log)"
fi

# A fresh API key for this session's examples (keys of earlier sessions stay valid: hop keys list).
key=$("$hop" keys create dev | tail -n 1)

t1=$EPOCHREALTIME
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
cat <<EOF

hop is ready at $base (in $elapsed s)
  open the web page and sign in with the key below: $base/_hop/app/
    (Caddy's local CA signs the certificate: trust $cacert in the browser, or accept its warning once)
  an API key for owner "dev" (make more with: HOP_DB='$HOP_DB' $hop keys create NAME):
    $key
  create a link:
    curl --cacert $cacert -H 'Authorization: Bearer $key' -H 'content-type: application/json' \\
      -d '{"url":"https://example.com"}' $base/api/links
  follow it (SLUG from the answer above):
    curl --cacert $cacert -i $base/SLUG
  database: db/pgdev.sh psql    logs: $run/hop.log, $run/caddy.log
  Ctrl-C stops $(if [[ -n $db_started ]]; then echo "hop, Caddy and the dev database"; else echo "hop and Caddy (the dev database was already running: db/pgdev.sh stop)"; fi).

EOF

# Wait in the foreground until a signal, or until hop or Caddy exits on its own.
set +e
wait -n "$hop_pid" "$caddy_pid"
rc=$?
set -e
if ! alive "$hop_pid"; then
  say "hop exited (status $rc); stopping"
  wait "$hop_pid" 2>/dev/null || true
  hop_pid=""
elif ! alive "$caddy_pid"; then
  say "caddy exited (status $rc; log: $run/caddy.log); stopping"
  wait "$caddy_pid" 2>/dev/null || true
  caddy_pid=""
fi
exit 1
