#!/usr/bin/env bash
# Slow clients cannot starve the pool. Through the shipped Caddyfile (buffer_requests), twice as many clients
# as workers each upload a create at 1 byte per second while redirects flow at full rate: no redirect fails.
# The same load against a copy of the Caddyfile without buffer_requests (and hop's read deadline far away)
# must stall the redirects, which shows the test can fail. Straight at the FastCGI socket: a body shorter
# than its CONTENT_LENGTH, or cut off, is never acted on, and a body slower than HOP_READ_TIMEOUT gets a 408
# (or the connection dropped) without creating anything.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

export HOP_WORKERS=${HOP_WORKERS:-2}
SLOW=$((2 * HOP_WORKERS))            # slow uploads at once
WINDOW=${SLOWCLIENTS_WINDOW:-5}      # seconds of redirect load while the uploads drip
SOCKET_TIMEOUT=3                     # HOP_READ_TIMEOUT of the pool the socket cases talk to
BIG_TIMEOUT=120                      # HOP_READ_TIMEOUT while Caddy is the only defence
SLOW_BODY='{"url":"http://a.io/s"}' # 23 bytes: 23 s at 1 byte per second
FLOOR=50                             # redirects the good configuration must serve in the window, at least
FCGI_RAW=(python3 "$STACK_REPO/tests/lib/fcgi_raw.py")

# links_with URL: how many links have this exact url.
links_with() {
  psql_q "SELECT count(*) FROM links WHERE url = '$1'"
}

# ---- straight at the FastCGI socket ---------------------------------------------------------------------

# raw ARGS...: one request at the pool's socket with the API key; RAW is its first output line.
raw() {
  RAW=$("${FCGI_RAW[@]}" "$T/hop.sock" --header "Authorization=Bearer $API_KEY" "$@" 2>&1 | head -n 1) || true
}

socket_cases() {
  local url body t0 ms
  url=https://example.com/socket-control
  body="{\"url\":\"$url\"}"
  raw --method POST --uri /api/links --content-type application/json --body "$body"
  expect_eq "socket: a whole create body straight at the socket is a 201 (the client works)" "$RAW" "status 201"
  expect_eq "socket: ... and made its link" "$(links_with "$url")" 1

  url=https://example.com/socket-truncated
  body="{\"url\":\"$url\"}"
  raw --method POST --uri /api/links --content-type application/json --body "$body" --content-length $((${#body} + 20))
  expect_eq "socket: a body 20 bytes shorter than CONTENT_LENGTH, then end of input: 400" "$RAW" "status 400"
  expect_eq "socket: ... and no link was made" "$(links_with "$url")" 0

  url=https://example.com/socket-cut
  body="{\"url\":\"$url\"}"
  raw --method POST --uri /api/links --content-type application/json --body "$body" \
    --content-length $((${#body} + 1)) --no-eof --close-after-body
  expect_eq "socket: a body one byte short, then the connection closed without end of input (client side)" "$RAW" closed
  raw --method POST --uri /api/links --content-type application/json --body "${body:0:10}" \
    --content-length ${#body} --no-eof --close-after-body
  expect_eq "socket: the first 10 bytes of a body, then the connection closed (client side)" "$RAW" closed
  sleep 0.5 # the worker notices the closed connection
  expect_eq "socket: ... neither cut-off request made a link" "$(links_with "$url")" 0

  url=https://example.com/socket-slow
  body="{\"url\":\"$url\"}"
  t0=$(now_ms)
  raw --method POST --uri /api/links --content-type application/json --body "$body" --drip 1 \
    --timeout $((SOCKET_TIMEOUT + 10))
  ms=$(($(now_ms) - t0))
  echo "# socket: a ${#body}-byte body at 1 byte/s with HOP_READ_TIMEOUT=$SOCKET_TIMEOUT: '$RAW' after $ms ms"
  if [[ $RAW == "status 408" || $RAW == dropped ]]; then
    ok "socket: a body slower than HOP_READ_TIMEOUT gets 408 or a dropped connection ($RAW)"
  else
    fail "socket: a body slower than HOP_READ_TIMEOUT gets 408 or a dropped connection" "got '$RAW' after $ms ms"
  fi
  sleep 0.5
  expect_eq "socket: ... and made no link" "$(links_with "$url")" 0
  raw --uri /healthz
  expect_eq "socket: the pool answers at the socket afterwards" "$RAW" "status 200"
}

# ---- slow uploads through Caddy -------------------------------------------------------------------------

SLOW_PIDS=()

# slow_start NAME: SLOW uploads of SLOW_BODY (a create) at 1 byte per second through Caddy, over HTTP/1.1
# with a Content-Length (curl sends what it reads from a pipe as it comes). Answers in $T/NAME.<i>.code.
slow_start() {
  local name=$1 i fifo
  SLOW_PIDS=()
  for ((i = 0; i < SLOW; i++)); do
    fifo=$T/$name.$i.fifo
    mkfifo "$fifo"
    curl --http1.1 -sS --cacert "$CACERT" --max-time 60 -o "$T/$name.$i.body" -w '%{http_code}\n' -X POST -T - \
      -H "Content-Length: ${#SLOW_BODY}" -H 'Transfer-Encoding:' -H 'Expect:' \
      -H 'Content-Type: application/json' -H "Authorization: Bearer $API_KEY" \
      "$BASE/api/links" <"$fifo" >"$T/$name.$i.code" 2>"$T/$name.$i.err" &
    SLOW_PIDS+=($!)
    (
      for ((k = 0; k < ${#SLOW_BODY}; k++)); do
        printf '%s' "${SLOW_BODY:k:1}"
        sleep 1
      done
    ) >"$fifo" &
    SLOW_PIDS+=($!)
  done
}

# slow_kill: stop the uploads and their writers (by PID), and reap them.
slow_kill() {
  local pid
  for pid in "${SLOW_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SLOW_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  SLOW_PIDS=()
}

# redirect_window: WINDOW seconds of redirects to /hot at full rate (wrk, 4 connections) plus a probe (curl,
# one request after another), each answer due within 2 s. Sets W_OK (3xx answers), W_ERR (other statuses,
# socket errors, time-outs and probes without an answer) and W_LINE (a summary). wrk counts a request that
# never completes nowhere, hence the probe.
redirect_window() {
  local out=$T/wrk.$RANDOM.out non errs detail probe_ok=0 probe_err=0 code end
  wrk -t1 -c4 -d"${WINDOW}s" --timeout 2s "$BASE/hot" >"$out" 2>&1 &
  local wrk_pid=$!
  end=$(($(now_ms) + WINDOW * 1000))
  while (($(now_ms) < end)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" --max-time 2 "$BASE/hot" 2>/dev/null) || true
    if [[ $code == 302 ]]; then
      probe_ok=$((probe_ok + 1))
    else
      probe_err=$((probe_err + 1))
    fi
  done
  wait "$wrk_pid" || true
  W_OK=$(awk '/requests in/ { print $1 }' "$out")
  non=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errs=$(awk -F'[ ,]+' '/Socket errors:/ { print $5 + $7 + $9 + $11 }' "$out")
  W_OK=$((${W_OK:-0} - ${non:-0}))
  detail=$( (grep -E 'Socket errors|Non-2xx' "$out" || true) | sed 's/^ *//' | paste -sd';' -)
  W_LINE="wrk: $W_OK redirects, $((${non:-0} + ${errs:-0})) errors${detail:+ ($detail)};"
  W_LINE+=" probe: $probe_ok redirects, $probe_err without an answer in 2 s"
  W_OK=$((W_OK + probe_ok))
  W_ERR=$((${non:-0} + ${errs:-0} + probe_err))
}

# ---- the run ---------------------------------------------------------------------------------------------

HOP_READ_TIMEOUT=$SOCKET_TIMEOUT stack_start
trap 'slow_kill; stack_stop' EXIT
API_KEY=$(make_key slowclients) || _stack_abort "hop keys create failed"
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/hot","slug":"hot"}'
expect_status "a link to redirect to" 201

echo "# straight at the FastCGI socket (HOP_READ_TIMEOUT=$SOCKET_TIMEOUT)"
socket_cases

# From here on hop's own deadline is far away: only Caddy's buffering can keep the pool free.
stack_pool_stop
HOP_READ_TIMEOUT=$BIG_TIMEOUT stack_pool_start hop

echo "# shipped Caddyfile (buffer_requests): $SLOW uploads at 1 byte/s, $HOP_WORKERS workers"
before=$(links_with http://a.io/s)
slow_start good
sleep 2
redirect_window
echo "# shipped Caddyfile: in ${WINDOW} s: $W_LINE"
if ((W_ERR == 0 && W_OK >= FLOOR)); then
  ok "buffer_requests: redirects flow while $SLOW uploads drip ($W_OK in ${WINDOW} s, 0 errors)"
else
  fail "buffer_requests: redirects flow while $SLOW uploads drip" "$W_LINE; want 0 errors and at least $FLOOR"
fi
GOOD_OK=$W_OK
for pid in "${SLOW_PIDS[@]}"; do
  wait "$pid" 2>/dev/null || true
done
SLOW_PIDS=()
codes=$(cat "$T"/good.*.code | paste -sd' ' -)
want=201
for ((i = 1; i < SLOW; i++)); do want+=" 201"; done
expect_eq "buffer_requests: every slow upload is answered 201 in the end" "$codes" "$want"
expect_eq "buffer_requests: ... and made its link" "$(($(links_with http://a.io/s) - before))" "$SLOW"

echo "# the same without buffer_requests (HOP_READ_TIMEOUT=$BIG_TIMEOUT)"
grep -q '^[[:space:]]*buffer_requests[[:space:]]*$' "$STACK_REPO/caddy/Caddyfile.dev" ||
  fail "caddy/Caddyfile.dev has a buffer_requests line" "the shipped Caddyfile does not buffer request bodies"
grep -v '^[[:space:]]*buffer_requests[[:space:]]*$' "$STACK_REPO/caddy/Caddyfile.dev" >"$T/Caddyfile.nobuffer"
stack_caddy_run "$T/Caddyfile.nobuffer"
before=$(links_with http://a.io/s)
mark=$(wc -l <"$T/hop.log")
slow_start bad
sleep 2
redirect_window
echo "# no buffer_requests: in ${WINDOW} s: $W_LINE"
slow_kill
if ((W_ERR > 0 && W_OK * 4 < GOOD_OK)); then # more errors than none, and under a quarter of the redirects
  ok "without buffer_requests the slow uploads stall the redirects ($W_LINE; $GOOD_OK with it)"
else
  fail "without buffer_requests the slow uploads stall the redirects" "$W_LINE; $GOOD_OK with buffer_requests: the test cannot tell the two apart"
fi
# the workers see each cut-off upload to its end (an answer or a dropped connection in hop's log)
seen_uploads() {
  (($(tail -n +"$((mark + 1))" "$T/hop.log" | grep -Ec 'method="POST" path="/api/links"|msg="request dropped"') >= SLOW))
}
poll_until 10000 seen_uploads || true
echo "# cut-off uploads in hop's log: $(tail -n +"$((mark + 1))" "$T/hop.log" | grep -Eo 'method="POST" path="/api/links" status=[0-9]+|msg="request dropped"' | sort | uniq -c | paste -sd, -)"
expect_eq "uploads cut off mid-body (Caddy streams them) made no link" "$(($(links_with http://a.io/s) - before))" 0
req GET /hot
expect_status "redirects flow again once the slow uploads are gone" 302
expect_eq "no worker died (hop's log)" "$(worker_deaths)" 0

finish
