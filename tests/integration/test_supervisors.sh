#!/usr/bin/env bash
# The same binary under three supervisors, each serving real requests through Caddy over HTTPS: its own
# socket (HOP_LISTEN), a socket handed over by systemd-socket-activate (LISTEN_FDS, fd 3) and spawn-fcgi
# (fd 0). Under each: /healthz, a create and its redirect, a SIGHUP reload on the same socket, and a clean
# SIGTERM stop. Then the systemd units: `systemd-analyze verify` and the security rating threshold.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

# ---- the systemd units (no PID 1 needed) -----------------------------------------------------------------

# analyze_units: verify both units (as shipped, and with the remote-database drop-in) and rate the service.
# The units name /usr/local/bin/hop, which verify requires to exist: a copy of the units in $T points at
# $HOP_BIN instead, and MANPATH lets verify find Documentation=man:hop(1) in docs/.
analyze_units() {
  local u=$T/units out rc manflag=() rating name
  mkdir -p "$u/hop.service.d" "$T/man/man1"
  ln -s "$STACK_REPO/docs/hop.1" "$T/man/man1/hop.1"
  sed "s#/usr/local/bin/hop#$HOP_BIN#g" "$STACK_REPO/systemd/hop.service" >"$u/hop.service"
  cp "$STACK_REPO/systemd/hop.socket" "$u/hop.socket"
  if ! command -v man >/dev/null 2>&1; then
    echo "note: man is not installed, so verify cannot check Documentation=man:hop(1) (--man=no)"
    manflag=(--man=no)
  fi
  rc=0
  out=$(MANPATH=$T/man systemd-analyze verify "${manflag[@]}" "$u/hop.socket" "$u/hop.service" 2>&1) || rc=$?
  # verify exits 0 on unknown keys and only warns: any output is a failure too
  if [[ $rc == 0 && -z $out ]]; then
    ok "systemd-analyze verify hop.socket hop.service: clean"
  else
    fail "systemd-analyze verify hop.socket hop.service: clean" "rc=$rc: $out"
  fi

  rc=0
  out=$(systemd-analyze security --offline=yes --threshold=10 "$u/hop.service" 2>&1) || rc=$?
  rating=$(sed -n 's/.*Overall exposure level for hop.service: \([0-9.]*\).*/\1/p' <<<"$out")
  echo "security rating: hop.service ${rating:-?}"
  if [[ $rc == 0 && -n $rating ]]; then
    ok "systemd-analyze security hop.service <= 1.0 (rated $rating)"
  else
    fail "systemd-analyze security hop.service <= 1.0" "rc=$rc rating=${rating:-none}; $(grep '✗' <<<"$out" | head -n 5 | tr '\n' '|')"
  fi

  # the same with the remote-database drop-in (network back on for TCP to one address)
  cp "$STACK_REPO/systemd/hop-remote-db.conf" "$u/hop.service.d/"
  rc=0
  out=$(MANPATH=$T/man systemd-analyze verify "${manflag[@]}" "$u/hop.service" 2>&1) || rc=$?
  if [[ $rc == 0 && -z $out ]]; then
    ok "systemd-analyze verify hop.service + hop-remote-db.conf: clean"
  else
    fail "systemd-analyze verify hop.service + hop-remote-db.conf: clean" "rc=$rc: $out"
  fi
  rc=0
  out=$(systemd-analyze security --offline=yes --threshold=10 "$u/hop.service" 2>&1) || rc=$?
  rating=$(sed -n 's/.*Overall exposure level for hop.service: \([0-9.]*\).*/\1/p' <<<"$out")
  echo "security rating: hop.service with hop-remote-db.conf ${rating:-?}"
  if [[ $rc == 0 && -n $rating ]]; then
    ok "systemd-analyze security hop.service + remote-db drop-in <= 1.0 (rated $rating)"
  else
    fail "systemd-analyze security hop.service + remote-db drop-in <= 1.0" "rc=$rc rating=${rating:-none}"
  fi

  # for comparison (information only): Debian's own units for the other two parts of the stack
  for name in caddy.service postgresql@.service; do
    if [[ -f /lib/systemd/system/$name ]]; then
      rating=$(systemd-analyze security --offline=yes "/lib/systemd/system/$name" 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p') || true
      echo "security rating: Debian's $name ${rating:-?}"
    fi
  done

  # the socket: only root and the caddy group may connect, and the backlog is large
  local s=$STACK_REPO/systemd/hop.socket
  if grep -qx 'ListenStream=/run/hop/hop.sock' "$s" && grep -qx 'SocketMode=0660' "$s" &&
    grep -qx 'SocketGroup=caddy' "$s" && grep -qx 'SocketUser=root' "$s" && grep -Eqx 'Backlog=[0-9]{4,}' "$s"; then
    ok "hop.socket: /run/hop/hop.sock, root:caddy 0660, large backlog"
  else
    fail "hop.socket: /run/hop/hop.sock, root:caddy 0660, large backlog" "$(grep -E '^(Listen|Socket|Backlog)' "$s" | tr '\n' ' ')"
  fi
}

# ---- one supervisor ---------------------------------------------------------------------------------------

# serve_checks LABEL LOG PID: requests through Caddy, a SIGHUP reload, then SIGTERM.
# OWNS_SOCKET=1 when hop created the socket file itself (it must then remove it at the stop, and only then).
serve_checks() {
  local label=$1 log=$2 pid=$3 slug n target
  target="https://example.com/${label// /-}?x=1"
  req GET /healthz
  expect_status "$label: /healthz 200 through Caddy" 200
  expect_json "$label: /healthz body" '.status' ok
  if prod_wait_log "$log" 'msg=ready' 1 20 "$pid"; then
    ok "$label: the pool logged msg=ready"
  else
    fail "$label: the pool logged msg=ready" "$(tail -n 5 "$log" | tr '\n' '|')"
  fi
  if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$HOP_BIN")" ]]; then
    ok "$label: the supervisor's pid is now hop itself"
  else
    fail "$label: the supervisor's pid is now hop itself" "exe of $pid: $(readlink "/proc/$pid/exe" 2>&1)"
  fi

  slug=$(prod_create "$target")
  if [[ -n $slug ]]; then
    ok "$label: create 201"
  else
    fail "$label: create 201" "no slug came back for $target"
  fi
  req GET "/$slug"
  expect_status "$label: redirect 302" 302
  expect_header_is "$label: Location" location "$target"

  # SIGHUP: the master re-executes itself on the same socket and pid
  kill -HUP "$pid"
  if prod_wait_log "$log" 'msg=ready' 2 20 "$pid"; then
    ok "$label: SIGHUP: the new image is ready"
  else
    fail "$label: SIGHUP: the new image is ready" "$(tail -n 5 "$log" | tr '\n' '|')"
  fi
  n=$(prod_count "$log" 'msg=reloading')
  if [[ $n == 1 ]] && _stack_alive "$pid"; then
    ok "$label: SIGHUP: msg=reloading, same pid"
  else
    fail "$label: SIGHUP: msg=reloading, same pid" "reloading lines: $n; alive: $(_stack_alive "$pid" && echo yes || echo no)"
  fi
  if [[ -S $SOCK ]]; then
    ok "$label: SIGHUP: the socket file is still there"
  else
    fail "$label: SIGHUP: the socket file is still there" "$SOCK is gone"
  fi
  req GET "/$slug"
  expect_status "$label: redirect after the reload" 302

  prod_stop "$pid" TERM 15
  if [[ $PROD_EXIT == 0 ]]; then
    ok "$label: SIGTERM: exit 0"
  else
    fail "$label: SIGTERM: exit 0" "exit status $PROD_EXIT; $(tail -n 5 "$log" | tr '\n' '|')"
  fi
  if grep -q 'msg=stopped' "$log"; then
    ok "$label: SIGTERM: msg=stopped"
  else
    fail "$label: SIGTERM: msg=stopped" "$(tail -n 3 "$log" | tr '\n' '|')"
  fi
  prod_expect_none "$label: no worker died" "$log" 'msg="worker died"'
  if curl -s -o /dev/null --max-time 2 --unix-socket "$SOCK" http://hop/ 2>/dev/null; then
    fail "$label: after the stop nothing accepts on the socket" "a connection to $SOCK succeeded"
  else
    ok "$label: after the stop nothing accepts on the socket"
  fi
  if [[ $OWNS_SOCKET == 1 ]]; then
    if [[ ! -e $SOCK ]]; then
      ok "$label: hop removed the socket file it created (after a reload too)"
    else
      fail "$label: hop removed the socket file it created (after a reload too)" "$SOCK still exists"
    fi
  else
    if [[ -S $SOCK ]]; then
      ok "$label: hop left the supervisor's socket file alone"
    else
      fail "$label: hop left the supervisor's socket file alone" "$SOCK is gone"
    fi
  fi
  rm -f "$SOCK"
}

prod_init
prod_pg
analyze_units
SOCK=$T/hop.sock
prod_caddy "$STACK_REPO/caddy/Caddyfile.dev" HOP_SOCKET="$SOCK"
API_KEY=$(make_key supervisors) || prod_abort "hop keys create failed"
export HOP_WORKERS=2

# 1. its own socket
echo "# own socket (HOP_LISTEN)"
prod_spawn hop-self env HOP_LISTEN="$SOCK" "$HOP_BIN" serve
prod_wait_log "$T/hop-self.log" 'msg=ready' 1 20 "$PROD_PID" || prod_abort "hop serve (HOP_LISTEN) was not ready within 20 s"
OWNS_SOCKET=1 serve_checks "own socket" "$T/hop-self.log" "$PROD_PID"

# 2. systemd-socket-activate: it holds the socket and execs hop at the first connection, which waits in the
# backlog meanwhile; the environment is only what -E passes.
echo "# systemd-socket-activate (LISTEN_FDS)"
prod_spawn hop-sa systemd-socket-activate -l "$SOCK" -E HOP_DB -E HOP_WORKERS -E ASAN_OPTIONS -E UBSAN_OPTIONS \
  "$HOP_BIN" serve
prod_wait_log "$T/hop-sa.log" 'Listening on' 1 10 "$PROD_PID" || prod_abort "systemd-socket-activate did not listen"
if [[ $(prod_count "$T/hop-sa.log" 'msg=') == 0 ]]; then
  ok "systemd-socket-activate: hop not started before the first connection"
else
  fail "systemd-socket-activate: hop not started before the first connection" "$(head -n 3 "$T/hop-sa.log" | tr '\n' '|')"
fi
OWNS_SOCKET=0 serve_checks "systemd-socket-activate" "$T/hop-sa.log" "$PROD_PID"
if grep -q 'source=systemd fd=3' "$T/hop-sa.log"; then
  ok "systemd-socket-activate: hop used the inherited fd 3"
else
  fail "systemd-socket-activate: hop used the inherited fd 3" "$(grep -m 2 listening "$T/hop-sa.log" | tr '\n' '|')"
fi

# 3. spawn-fcgi -n: it binds the socket and execs hop with the socket as fd 0.
echo "# spawn-fcgi (fd 0)"
prod_spawn hop-spawn spawn-fcgi -n -s "$SOCK" -M 0660 -b 4096 -- "$HOP_BIN" serve
prod_wait_log "$T/hop-spawn.log" 'msg=ready' 1 20 "$PROD_PID" || prod_abort "hop under spawn-fcgi was not ready within 20 s"
OWNS_SOCKET=0 serve_checks "spawn-fcgi" "$T/hop-spawn.log" "$PROD_PID"
if [[ $(prod_count "$T/hop-spawn.log" 'source=stdin fd=0') == 2 ]]; then
  ok "spawn-fcgi: hop used fd 0, before and after the reload"
else
  fail "spawn-fcgi: hop used fd 0, before and after the reload" "$(grep listening "$T/hop-spawn.log" | tr '\n' '|')"
fi

prod_finish
