#!/usr/bin/env bash
# Zero-downtime restart: bounded load through Caddy against a redirect while hop's master is sent SIGHUP
# three times (it stops its workers gracefully, writes the visit counts and re-executes itself on the same
# listen socket). Pass: no request failed, every reload came back, the visit count is exact. The requests
# sent and the longest stall are printed; timings never decide the result. Run with hop's own socket
# (HOP_LISTEN) and under systemd-socket-activate (which execs hop on the first connection: from then on
# hop holds the socket, and SIGHUP is the only restart that keeps it).
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

LOAD_SECS=${RESTART_LOAD_SECS:-6}
LOAD_CONNS=16
RELOADS=3

# restart_round LABEL LOG PID: the load, three reloads under it, the checks, then SIGTERM.
restart_round() {
  local label=$1 log=$2 pid=$3 slug i t0 ms stalls="" served visits n
  slug=$(prod_create "https://example.com/restart/${label// /-}")
  [[ -n $slug ]] || prod_abort "$label: could not create a link"

  prod_wrk_start "$BASE/$slug" "$LOAD_SECS" "$LOAD_CONNS"
  sleep 1
  for ((i = 1; i <= RELOADS; i++)); do
    t0=$EPOCHREALTIME
    kill -HUP "$pid"
    if ! prod_wait_log "$log" 'msg=ready' $((i + 1)) 20 "$pid"; then
      fail "$label: reload $i came back (msg=ready)" "$(tail -n 5 "$log" | tr '\n' '|')"
      break
    fi
    ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
    stalls+="${stalls:+, }$ms"
    if ((i == 1)) && [[ -n ${DEPLOY_BIN:-} ]]; then
      # a deploy: the new binary is written beside the old one and renamed over it; the next reload must
      # run the file now at that path, not the old image
      cp "$HOP_BIN" "$DEPLOY_BIN.new" && mv -f "$DEPLOY_BIN.new" "$DEPLOY_BIN"
      if [[ $(readlink "/proc/$pid/exe") == "$DEPLOY_BIN (deleted)" ]]; then
        ok "$label: after the binary was replaced, the running image shows as deleted"
      else
        fail "$label: after the binary was replaced, the running image shows as deleted" "exe: $(readlink "/proc/$pid/exe")"
      fi
    elif ((i == 2)) && [[ -n ${DEPLOY_BIN:-} ]]; then
      if [[ $(readlink "/proc/$pid/exe") == "$DEPLOY_BIN" ]]; then
        ok "$label: the reload after the replacement runs the new file"
      else
        fail "$label: the reload after the replacement runs the new file" "exe: $(readlink "/proc/$pid/exe")"
      fi
      # a broken deploy: what is now at the path cannot be executed; the next reload falls back to the
      # image that runs (/proc/self/exe) instead of taking the service down
      printf 'not a program\n' >"$DEPLOY_BIN.new" && mv -f "$DEPLOY_BIN.new" "$DEPLOY_BIN"
    fi
    sleep 0.8
  done
  if [[ -n ${DEPLOY_BIN:-} ]]; then
    if [[ $(readlink "/proc/$pid/exe") == "$DEPLOY_BIN (deleted)" ]] && _stack_alive "$pid"; then
      ok "$label: a reload with an unusable file at the path keeps the running image"
    else
      fail "$label: a reload with an unusable file at the path keeps the running image" "exe: $(readlink "/proc/$pid/exe" 2>&1)"
    fi
  fi
  prod_wrk_wait

  echo "$label: requests sent $WRK_REQS, failed $WRK_FAILED, longest stall ${WRK_MAX_MS} ms (slowest response)," \
    "SIGHUP to ready: ${stalls:-?} ms (polled every 50 ms); wrk socket errors: $WRK_ERRORS"
  if [[ $WRK_FAILED == 0 && $WRK_REQS -gt 0 ]]; then
    ok "$label: $WRK_REQS requests over $RELOADS reloads, 0 failed"
  else
    fail "$label: $WRK_REQS requests over $RELOADS reloads, 0 failed" "failed: $WRK_FAILED; $WRK_ERRORS; $(tail -n 5 "$WRK_OUT" | tr '\n' '|')"
  fi
  n=$(prod_count "$log" 'msg=reloading')
  if [[ $n == "$RELOADS" ]] && _stack_alive "$pid" && [[ $(prod_count "$log" 'msg=ready') == $((RELOADS + 1)) ]]; then
    ok "$label: $RELOADS reloads logged, each ready again, same pid"
  else
    fail "$label: $RELOADS reloads logged, each ready again, same pid" "reloading: $n, ready: $(prod_count "$log" 'msg=ready')"
  fi
  prod_expect_none "$label: no worker died, no reload failed" "$log" 'msg="worker died"|reload failed'

  # every redirect the pool served was counted once, across the reloads (each flushes before it execs)
  # (recounted each time: requests still in flight when wrk stopped finish meanwhile)
  visits=""
  for ((i = 0; i < 100; i++)); do
    served=$(prod_count "$log" "msg=access .*path=\"/$slug\" status=302")
    req GET "/api/links/$slug"
    # every visit, human or bot (curl's User-Agent is a bot's)
    visits=$(jq -r '(.visits + .bot_visits) // empty' <<<"$BODY" 2>/dev/null) || visits=""
    [[ $visits == "$served" ]] && break
    sleep 0.1
  done
  if [[ $visits == "$served" && $served -gt 0 ]]; then
    ok "$label: visits exact across the reloads ($visits)"
  else
    fail "$label: visits exact across the reloads" "API says '${visits}', the access log has $served redirects"
  fi

  prod_stop "$pid" TERM 15
  if [[ $PROD_EXIT == 0 ]]; then
    ok "$label: SIGTERM after the reloads: exit 0"
  else
    fail "$label: SIGTERM after the reloads: exit 0" "exit status $PROD_EXIT"
  fi
}

prod_init
prod_pg
SOCK=$T/hop.sock
prod_caddy "$STACK_REPO/caddy/Caddyfile.dev" HOP_SOCKET="$SOCK"
API_KEY=$(make_key restart) || prod_abort "hop keys create failed"
export HOP_WORKERS=2

echo "# own socket (HOP_LISTEN); a new binary deployed before the second reload, an unusable one before the third"
mkdir -p "$T/bin"
cp "$HOP_BIN" "$T/bin/hop"
prod_spawn hop-self env HOP_LISTEN="$SOCK" "$T/bin/hop" serve
prod_wait_log "$T/hop-self.log" 'msg=ready' 1 20 "$PROD_PID" || prod_abort "hop serve was not ready within 20 s"
DEPLOY_BIN=$T/bin/hop restart_round "own socket" "$T/hop-self.log" "$PROD_PID"
if [[ ! -e $SOCK ]]; then
  ok "own socket: the socket file created before the reloads is removed at the stop"
else
  fail "own socket: the socket file created before the reloads is removed at the stop" "$SOCK still exists"
fi

echo "# systemd-socket-activate (LISTEN_FDS)"
prod_spawn hop-sa systemd-socket-activate -l "$SOCK" -E HOP_DB -E HOP_WORKERS -E ASAN_OPTIONS -E UBSAN_OPTIONS \
  "$HOP_BIN" serve
prod_wait_log "$T/hop-sa.log" 'Listening on' 1 10 "$PROD_PID" || prod_abort "systemd-socket-activate did not listen"
req GET /healthz # the first connection: systemd-socket-activate execs hop, the connection waits in the backlog
expect_status "systemd-socket-activate: the first request is served" 200
prod_wait_log "$T/hop-sa.log" 'msg=ready' 1 20 "$PROD_PID" || prod_abort "hop under systemd-socket-activate was not ready"
restart_round "systemd-socket-activate" "$T/hop-sa.log" "$PROD_PID"

prod_finish
