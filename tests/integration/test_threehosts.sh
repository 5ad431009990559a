#!/usr/bin/env bash
# Three hosts in one test: three hop pools, each in a network namespace of its own (created here, joined to
# the root namespace by a veth pair with addresses of this test's own, 10.201.X.0/30), each speaking FastCGI
# over TCP to one Caddy in the root namespace that balances across them (round robin, passive health checks
# and retries: Caddy 2.6.2's active checks panic with the FastCGI transport), and one PostgreSQL, reached
# from every namespace through its Unix socket (a path: network namespaces do not separate those). Caddy
# also has one site per host (its own port), so that a request can be sent to one host on purpose.
# Pass: an edit made through one host (create, change, delete) is seen on the other two within 1 s; the
# visit totals are exact after load spread over the three; one host killed outright mid-load (a bounded wrk
# run) costs no failed request outside the second of the kill, at most those in flight in it, and its return
# is picked up; a pool refuses a wildcard or public listen address without HOP_LISTEN_PUBLIC=1, and closes a
# TCP peer that is not in FCGI_WEB_SERVER_ADDRS. Namespaces and veths are removed on every exit path.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

CONNS=16
LOAD_SECS=6
PORT=9000
HOSTS=(a b c)
declare -A NS=() VETH=() HOSTIP=() PEERIP=() PID=() SITE=()

# A missing `ip netns` (or no right to use it) is a failure with its reason, never a silent skip.
if ! command -v ip >/dev/null 2>&1; then
  fail "setup" "the ip command (iproute2) is missing: scripts/deps.sh installs it"
  finish
fi
probe=hop3probe$$
if ! ip netns add "$probe" 2>/tmp/hop3probe.$$; then
  fail "setup" "ip netns add failed (this test needs root or CAP_SYS_ADMIN and CAP_NET_ADMIN): $(cat /tmp/hop3probe.$$)"
  rm -f /tmp/hop3probe.$$
  finish
fi
ip netns del "$probe"
rm -f /tmp/hop3probe.$$

prod_init

# The namespaces and veths of this run; deleting a namespace deletes its end of the pair and with it the pair.
net_cleanup() {
  local h
  for h in "${HOSTS[@]}"; do
    [[ -n ${NS[$h]:-} ]] && ip netns del "${NS[$h]}" 2>/dev/null
    [[ -n ${VETH[$h]:-} ]] && ip link del "${VETH[$h]}" 2>/dev/null
  done
  return 0
}
trap 'prod_cleanup; net_cleanup' EXIT

# One free 10.201.X.0/30 per host: X not on any interface of the root namespace (another run's, say).
net_setup() {
  local h o tries
  o=$((RANDOM % 250))
  for h in "${HOSTS[@]}"; do
    for ((tries = 0; tries < 250; tries++)); do
      o=$(((o + 1) % 250))
      ip -o -4 addr show | grep -q " 10\.201\.$o\." || break
    done
    NS[$h]=hop3-$$-$h
    VETH[$h]=h3$$$h
    PEERIP[$h]=10.201.$o.1 # the root side: Caddy's source address towards the host
    HOSTIP[$h]=10.201.$o.2
    if ! {
      ip netns add "${NS[$h]}" &&
      ip link add "${VETH[$h]}" type veth peer name "${VETH[$h]}n" &&
      ip link set "${VETH[$h]}n" netns "${NS[$h]}" &&
      ip addr add "${PEERIP[$h]}/30" dev "${VETH[$h]}" &&
      ip link set "${VETH[$h]}" up &&
      ip -n "${NS[$h]}" link set lo up &&
      ip -n "${NS[$h]}" addr add "${HOSTIP[$h]}/30" dev "${VETH[$h]}n" &&
      ip -n "${NS[$h]}" link set "${VETH[$h]}n" up
    }; then
      prod_abort "could not set up namespace ${NS[$h]}"
    fi
  done
}

# in_ns HOST CMD...: run CMD in HOST's namespace (ip execs it: the pid is CMD's).
in_ns() {
  local h=$1
  shift
  ip netns exec "${NS[$h]}" "$@"
}

# start_pool HOST N: the pool of HOST on its own address, serving Caddy's address only; waits for its Nth ready.
start_pool() {
  local h=$1
  prod_spawn "hop-$h" ip netns exec "${NS[$h]}" env HOP_LISTEN="${HOSTIP[$h]}:$PORT" \
    FCGI_WEB_SERVER_ADDRS="${PEERIP[$h]}" HOP_WORKERS=2 "$HOP_BIN" serve --no-migrate
  PID[$h]=$PROD_PID
  prod_wait_log "$T/hop-$h.log" 'msg=ready' "$2" 20 "$PROD_PID" || prod_abort "pool $h was not ready within 20 s"
}

# at HOST METHOD PATH [curl args]: req through Caddy's site for HOST alone ("lb": the balanced site).
at() {
  local h=$1 saved=$BASE
  shift
  BASE=https://localhost:${SITE[$h]}
  req "$@"
  BASE=$saved
}

net_setup
ok "three namespaces, each with its veth pair (${HOSTIP[a]}, ${HOSTIP[b]}, ${HOSTIP[c]})"
prod_pg

# ---- the listener's safety, with the real binary in a namespace of its own ------------------------------
refused=()
for spec in 0.0.0.0:9001 '[::]:9001' :9001 203.0.113.9:9001; do
  rc=0
  in_ns a env HOP_LISTEN="$spec" HOP_WORKERS=1 "$HOP_BIN" serve --no-migrate >>"$T/refuse.log" 2>&1 || rc=$?
  if ((rc == 0)) || ! grep -qF "msg=\"refusing to listen\" func=open_tcp listen=\"$spec\"" "$T/refuse.log"; then
    refused+=("$spec: exit $rc")
  fi
done
if ((${#refused[@]} == 0)); then
  ok "a pool refuses 0.0.0.0, ::, an empty host and a public address (exit 1, msg=\"refusing to listen\")"
else
  fail "a pool refuses wildcard and public listen addresses" "${refused[*]}; $(tail -n 2 "$T/refuse.log" | tr '\n' '|')"
fi
prod_spawn hop-public ip netns exec "${NS[a]}" env HOP_LISTEN=0.0.0.0:9001 HOP_LISTEN_PUBLIC=1 HOP_WORKERS=1 \
  "$HOP_BIN" serve --no-migrate
if prod_wait_log "$T/hop-public.log" 'msg=ready' 1 20 "$PROD_PID" &&
  grep -q 'level=warn .*msg="listening on a public address" listen="0.0.0.0:9001" address=wildcard' "$T/hop-public.log"; then
  ok "with HOP_LISTEN_PUBLIC=1 the same pool starts on 0.0.0.0, and logs a warning"
else
  fail "with HOP_LISTEN_PUBLIC=1 the pool starts on 0.0.0.0 and warns" "$(tail -n 3 "$T/hop-public.log" | tr '\n' '|')"
fi
prod_stop "$PROD_PID" TERM 15
expect_eq "the public pool: SIGTERM: exit 0" "$PROD_EXIT" 0

# ---- three pools, one Caddy ----------------------------------------------------------------------------
for h in "${HOSTS[@]}"; do
  start_pool "$h" 1
done
for h in "${HOSTS[@]}"; do
  SITE[$h]=$(prod_port) || prod_abort "no free port"
done
ups="${HOSTIP[a]}:$PORT ${HOSTIP[b]}:$PORT ${HOSTIP[c]}:$PORT"
fcgi_block='transport fastcgi {
			dial_timeout 1s
			read_timeout 30s
			write_timeout 30s
		}
		buffer_requests
		header_down -Status'
{
  cat <<EOF
{
	admin off
	skip_install_trust
	auto_https disable_redirects
	https_port {\$HOP_HTTPS_PORT}
}

https://localhost:{\$HOP_HTTPS_PORT} {
	bind 127.0.0.1
	tls internal
	reverse_proxy $ups {
		lb_policy round_robin
		lb_try_duration 3s
		lb_try_interval 50ms
		# passive checks only: Caddy 2.6.2's active checks panic with the FastCGI transport
		max_fails 3
		fail_duration 3s
		$fcgi_block
	}
}
EOF
  for h in "${HOSTS[@]}"; do
    cat <<EOF

https://localhost:${SITE[$h]} {
	bind 127.0.0.1
	tls internal
	reverse_proxy ${HOSTIP[$h]}:$PORT {
		$fcgi_block
	}
}
EOF
  done
} >"$T/Caddyfile.three"
prod_caddy "$T/Caddyfile.three"
API_KEY=$(make_key threehosts) || prod_abort "hop keys create failed"

served=()
for h in "${HOSTS[@]}"; do
  at "$h" GET /healthz
  [[ $STATUS == 200 ]] && served+=("$h")
done
expect_eq "each host answers /healthz through its own site" "${served[*]}" "a b c"

# FCGI_WEB_SERVER_ADDRS: Caddy's address is served; the host's own address (a peer inside its namespace) is not
got_ok=$(python3 "$STACK_REPO/tests/lib/fcgi_raw.py" "${HOSTIP[a]}:$PORT" --uri /healthz --timeout 5 2>&1 | head -n 1)
got_no=$(in_ns a python3 "$STACK_REPO/tests/lib/fcgi_raw.py" "${HOSTIP[a]}:$PORT" --uri /healthz --timeout 5 2>&1 | head -n 1)
if [[ $got_ok == "status 200" && $got_no == dropped ]] &&
  grep -qF "msg=\"connection refused\" peer=\"${HOSTIP[a]}\"" "$T/hop-a.log"; then
  ok "FCGI_WEB_SERVER_ADDRS: the listed peer is served, another is closed unanswered and logged"
else
  fail "FCGI_WEB_SERVER_ADDRS" "listed peer: '$got_ok', other peer: '$got_no'"
fi

# ---- an edit through one host is seen on the others within 1 s -----------------------------------------
slug=three$RANDOM
at b GET "/$slug"
at c GET "/$slug"
expect_eq "before the create, hosts b and c answer 404 for /$slug (and may remember it)" "$STATUS" 404

at a POST /api/links -H 'Content-Type: application/json' --data-binary "{\"url\":\"https://example.com/v1\",\"slug\":\"$slug\"}"
expect_status "create /$slug through host a" 201

# seen HOST WANT_STATUS [LOCATION]: one request to HOST answers WANT (with that Location)
seen() {
  at "$1" GET "/$slug"
  [[ $STATUS == "$2" ]] || return 1
  [[ -z ${3:-} || $(header Location) == "$3" ]]
}
# propagate LABEL STATUS [LOCATION]: b and c both show it within 1000 ms of the edit's answer
propagate() {
  local h bad=""
  for h in b c; do
    if poll_until 1000 seen "$h" "$2" "${3:-}"; then
      echo "  host $h: ${POLL_MS} ms"
    else
      bad+=" $h: $(_stack_last), location $(header Location);"
    fi
  done
  if [[ -z $bad ]]; then ok "$1: seen on hosts b and c within 1 s"; else fail "$1: seen on hosts b and c within 1 s" "$bad"; fi
}
propagate "the create" 302 https://example.com/v1

at a PATCH "/api/links/$slug" -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/v2"}'
expect_status "change /$slug's target through host a" 200
propagate "the change of target" 302 https://example.com/v2

at a DELETE "/api/links/$slug"
expect_status "delete /$slug through host a" 204
propagate "the delete" 404

# ---- visit totals are exact across hosts ---------------------------------------------------------------
vslugs=()
for i in 1 2 3; do
  s=$(prod_create "https://example.com/visits/$i")
  [[ -n $s ]] && vslugs+=("$s")
done
expect_eq "3 links created through the balancer" "${#vslugs[@]}" 3
declare -A before=()
for h in "${HOSTS[@]}"; do
  before[$h]=$(prod_count "$T/hop-$h.log" 'msg=access method="GET" .* status=302')
done
# 900 requests (300 a link, interleaved), 32 at a time over HTTP/2; each answer's code and URL written out
{
  echo "cacert = \"$CACERT\""
  printf '%s\n' 'write-out = "%{http_code} %{url}\n"'
  for ((i = 0; i < 300; i++)); do
    for s in "${vslugs[@]}"; do
      echo "url = \"$BASE/$s\""
      echo 'output = "/dev/null"'
    done
  done
} >"$T/visits.cfg"
curl -sS --no-progress-meter -Z --parallel-max 32 -K "$T/visits.cfg" >"$T/visits.out" 2>"$T/visits.err" || true
spread=""
for h in "${HOSTS[@]}"; do
  spread+=" $h=$(($(prod_count "$T/hop-$h.log" 'msg=access method="GET" .* status=302') - before[$h]))"
done
echo "redirects served by host:$spread"
if [[ $spread =~ a=[1-9].*b=[1-9].*c=[1-9] ]]; then
  ok "the load was spread over the three hosts"
else
  fail "the load was spread over the three hosts" "$spread"
fi
# links_visits: every link's visits, people and bots (curl is a bot), from the API equal the 302s its URL received
links_visits() {
  local s want
  VISITS_GOT=""
  for s in "${vslugs[@]}"; do
    want=$(awk -v u="$BASE/$s" '$1 == 302 && $2 == u' "$T/visits.out" | wc -l)
    req GET "/api/links/$s"
    VISITS_GOT+=" $s: $(jq -r ".visits + .bot_visits" <<<"$BODY" 2>/dev/null) of $want;"
    [[ $(jq -r ".visits + .bot_visits" <<<"$BODY" 2>/dev/null) == "$want" ]] || return 1
  done
}
total302=$(awk '$1 == 302' "$T/visits.out" | wc -l)
if poll_until 5000 links_visits; then
  ok "visit totals exact across hosts: $total302 redirects, each link's visits equal its 302s (${POLL_MS} ms)"
else
  fail "visit totals exact across hosts" "$VISITS_GOT (of $total302 302s; others: $(awk '$1 != 302' "$T/visits.out" | head -n 3 | tr '\n' '|'))"
fi

# ---- one host killed mid-load, and its return -----------------------------------------------------------
# One continuous wrk run through the balancer; host b dies at the start of a wall-clock second (+50 ms), so
# that wrk's per-second counts split into the second of the kill and the others (see test_scaleout.sh).
prod_wrk_start "$BASE/${vslugs[0]}" "$LOAD_SECS" "$CONNS" "$STACK_REPO/tests/lib/wrk_seconds.lua"
sleep 1.2
sleep "$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", 1.05 - (t - int(t)) }')"
kill_sec=${EPOCHREALTIME%.*}
read -r -a victims <<<"${PID[b]} $(prod_children "${PID[b]}" | tr '\n' ' ')"
kill -KILL "${victims[@]}" 2>/dev/null || true # master and workers at once, as a crashed host
{ _stack_reap "${PID[b]}" 5; } 2>/dev/null
echo "killed host b (pids ${victims[*]}) at second $kill_sec"
sleep 1
back_before=$(prod_count "$T/hop-b.log" 'msg=access method="GET" .* status=302')
start_pool b 2
prod_taken_back "$T/hop-b.log" "$back_before" 80
if [[ -n $BACK_MS ]]; then
  ok "the restarted host b is taken back under load (after ${BACK_MS} ms)"
else
  fail "the restarted host b is taken back under load" "host b served no redirect while the load lasted"
fi
prod_wrk_wait
prod_failover_tally "$kill_sec"
echo "fail-over: $WRK_REQS requests in $LOAD_SECS s, slowest ${WRK_MAX_MS} ms; failed: $BEFORE_BAD before the kill," \
  "$WINDOW_BAD in its second, $LATE_BAD after; socket errors: $WRK_ERRORS"
if ((WRK_REQS > 0 && BEFORE_BAD == 0 && LATE_BAD == 0 && LATE_GOOD > 0 && ${SOCK_ERRS:-0} == 0)); then
  ok "host killed mid-load: 0 failed outside the second of the kill ($LATE_GOOD good after it)"
else
  fail "host killed mid-load: 0 failed outside the second of the kill" \
    "before: $BEFORE_BAD, after: $LATE_BAD of $((LATE_GOOD + LATE_BAD)), socket errors: ${SOCK_ERRS:-0}"
fi
if ((WINDOW_BAD <= CONNS)); then
  ok "host killed mid-load: at most the requests in flight failed in its second ($WINDOW_BAD)"
else
  fail "host killed mid-load: at most the requests in flight failed in its second" "$WINDOW_BAD failed"
fi
for h in "${HOSTS[@]}"; do
  prod_stop "${PID[$h]}" TERM 15
  expect_eq "host $h: SIGTERM: exit 0" "$PROD_EXIT" 0
done

prod_finish
