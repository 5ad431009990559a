#!/usr/bin/env bash
# Integration test of two hop pools (two `hop serve` on two sockets, one PostgreSQL) behind one Caddy with
# round-robin load balancing, as users scale out: what one pool changes (PATCH, disable, DELETE, a revoked key,
# a new link) the other serves within 1 s, and visits counted by both add up exactly.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

JSON=(-H 'Content-Type: application/json')
TIMES=()

# batch PATH N [curl args...]: N requests in a row through Caddy (round robin alternates the pools); BATCH holds
# one "status location" line per request.
batch() {
  local path=$1 n=$2 i
  shift 2
  local -a urls=()
  for ((i = 0; i < n; i++)); do urls+=(-o /dev/null "$BASE$path"); done
  BATCH=$(curl -sS --cacert "$CACERT" --max-time 20 -w '%{http_code} %header{location}\n' "$@" "${urls[@]}" 2>"$T/batch.err") || true
}

# all_are PATH N WANT [curl args...]: a batch of N on PATH all answered WANT ("status location").
BATCHES=0
all_are() {
  local path=$1 n=$2 want=$3
  shift 3
  BATCHES=$((BATCHES + 1))
  batch "$path" "$n" "$@"
  [[ $(grep -cxF -- "$want" <<<"$BATCH") == "$n" ]]
}

# seen_within NAME MS PATH WANT [curl args...]: poll batches of 20 until all answer WANT; then one more batch must
# too (no pool or worker lagging behind).
seen_within() {
  local name=$1 ms=$2 path=$3 want=$4
  shift 4
  BATCHES=0
  if poll_until "$ms" all_are "$path" 20 "$want" "$@"; then
    local took="$POLL_MS ms, batch $BATCHES"
    if all_are "$path" 20 "$want" "$@"; then
      ok "$name: 20 in a row answer '$want' within 1 s ($took)"
    else
      fail "$name: 20 in a row answer '$want' within 1 s" "a later batch: $(sort <<<"$BATCH" | uniq -c | tr -s ' ' | paste -sd, -)"
    fi
    TIMES+=("$name: $took;")
  else
    fail "$name: 20 in a row answer '$want' within 1 s" "after $POLL_MS ms: $(sort <<<"$BATCH" | uniq -c | tr -s ' ' | paste -sd, -)"
  fi
}

# access LOG PATH STATUS: how many access lines in LOG are for PATH with STATUS.
access() {
  local n
  n=$(grep -c "msg=access method=\"[A-Z]*\" path=\"$2\" status=$3 " "$T/$1" 2>/dev/null) || true
  echo "${n:-0}"
}

# both_served NAME PATH STATUS: each pool's access log has more PATH/STATUS lines than at the last mark.
MARK1=0 MARK2=0
mark() {
  MARK1=$(access hop.log "$1" "$2")
  MARK2=$(access hop2.log "$1" "$2")
}
# since_mark PATH STATUS: PATH/STATUS access lines of pool 1 and pool 2 since the mark.
since_mark() {
  local a b
  a=$(access hop.log "$1" "$2")
  b=$(access hop2.log "$1" "$2")
  echo "$((a - MARK1)) $((b - MARK2))"
}
both_served() {
  local name=$1 a b
  read -r a b < <(since_mark "$2" "$3")
  if ((a > 0 && b > 0)); then
    ok "$name: both pools answered (pool 1: $a, pool 2: $b)"
  else
    fail "$name: both pools answered" "pool 1: $a, pool 2: $b access lines for $2 status $3"
  fi
}

stack_start
stack_pool_start hop2
cat >"$T/Caddyfile.twopools" <<EOF
# Two hop pools behind one site, round robin; the FastCGI settings of caddy/Caddyfile.dev.
{
	admin off
	skip_install_trust
	auto_https disable_redirects
	https_port {\$HOP_HTTPS_PORT}
	servers {
		protocols h1 h2
	}
}

https://localhost:{\$HOP_HTTPS_PORT} {
	bind 127.0.0.1
	tls internal
	request_body {
		max_size 1MB
	}
	reverse_proxy unix/$T/hop.sock unix/$T/hop2.sock {
		lb_policy round_robin
		transport fastcgi {
			dial_timeout 3s
			read_timeout 30s
			write_timeout 30s
		}
		buffer_requests
		header_down -Status
	}
}
EOF
stack_caddy_run "$T/Caddyfile.twopools"
API_KEY=$(make_key pair)

# ---- create through the pair, follow from both ---------------------------------------------------------
mark /healthz 200
batch /healthz 10
both_served "healthz x10" /healthz 200
req POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.com/one","slug":"tp"}'
expect_status "create tp through the pair" 201
a=$(access hop.log /api/links 201)
b=$(access hop2.log /api/links 201)
expect_eq "the create was served by exactly one pool" "$((a + b))" 1
mark /tp 302
seen_within "follow tp" 1000 /tp "302 https://example.com/one"
both_served "follow tp" /tp 302

# visits counted by both pools' masters add up exactly
batch /tp 100
expect_eq "100 more follows: all 302" "$(grep -c '^302 ' <<<"$BATCH")" 100
a=$(access hop.log /tp 302)
b=$(access hop2.log /tp 302)
want_visits=$((a + b))
visits_are() {
  req GET /api/links/tp
  # every visit, human or bot (curl's User-Agent is a bot's)
  [[ $(jq -r '.visits + .bot_visits' <<<"$BODY") == "$1" ]]
}
if poll_until 2000 visits_are "$want_visits"; then
  ok "visits from both pools add up: $want_visits within 2 s ($POLL_MS ms)"
else
  fail "visits from both pools add up: $want_visits within 2 s" "$(_stack_last)"
fi
req GET /api/links/tp/stats?days=1
expect_json "stats total from both pools (humans + bots: curl is a bot)" '.total + .bot_total' "$want_visits"

# ---- changes through one pool, seen by every worker of both within 1 s -----------------------------------
# (every worker of both pools has tp cached by now: 120 follows over 6 workers)
req PATCH /api/links/tp "${JSON[@]}" --data-binary '{"url":"https://example.com/two"}'
expect_status "PATCH url through the pair" 200
mark /tp 302
seen_within "PATCH url" 1000 /tp "302 https://example.com/two"
both_served "after the PATCH" /tp 302

req PATCH /api/links/tp "${JSON[@]}" --data-binary '{"redirect":307}'
expect_status "PATCH redirect 307" 200
seen_within "PATCH redirect" 1000 /tp "307 https://example.com/two"

req PATCH /api/links/tp "${JSON[@]}" --data-binary '{"disabled":true}'
expect_status "PATCH disabled" 200
mark /tp 410
seen_within "disabled" 1000 /tp "410 "
both_served "disabled" /tp 410

req PATCH /api/links/tp "${JSON[@]}" --data-binary '{"disabled":false}'
seen_within "enabled again" 1000 /tp "307 https://example.com/two"

req DELETE /api/links/tp
expect_status "DELETE through the pair" 204
mark /tp 404
seen_within "DELETE" 1000 /tp "404 "
both_served "after the DELETE" /tp 404

# a slug both pools have just answered 404 for is served as soon as it is created again
req POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.com/three","slug":"tp"}'
expect_status "create tp again" 201
mark /tp 302
seen_within "created again" 1000 /tp "302 https://example.com/three"
both_served "created again" /tp 302
read -r a b < <(since_mark /tp 302)
own=$((a + b))
if poll_until 2000 visits_are "$own"; then
  ok "created again: only its own $own visits ($POLL_MS ms)"
else
  fail "created again: only its own $own visits" "$(_stack_last)"
fi

# the visit limit is exact across pools: 64 concurrent clients (one curl each, both pools in play) race for the
# last 10 visits of a limited link: exactly 10 redirects, every other answer a 410, none left. max_visits counts
# people, so every client sends a browser's User-Agent (curl's own is a bot's, which uses no visit up).
HUMAN='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
req POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.com/last","slug":"lim","max_visits":40}'
expect_status "create lim with max_visits 40" 201
batch /lim 30 -A "$HUMAN"
expect_eq "the first 30 visits of lim: 30 redirects" "$(grep -c '^302 ' <<<"$BATCH")" 30
mark /lim 410
racers=()
for ((i = 0; i < 64; i++)); do
  curl -sS --cacert "$CACERT" --max-time 20 -o /dev/null -o /dev/null -w '%{http_code}\n' -A "$HUMAN" "$BASE/lim" "$BASE/lim" \
    >"$T/race.$i" 2>>"$T/race.err" &
  racers+=($!)
done
wait "${racers[@]}" || true
got302=$(cat "$T"/race.* | grep -c '^302$') || true
got410=$(cat "$T"/race.* | grep -c '^410$') || true
expect_eq "64 clients x 2 on the last 10 visits: exactly 10 redirects" "$got302" 10
expect_eq "64 clients x 2 on the last 10 visits: the other 118 are 410" "$got410" 118
both_served "the race for the last visits" /lim 410
req GET /api/links/lim
expect_json "lim: visits_left 0 after the race" .visits_left 0
lim_humans_are() {
  req GET /api/links/lim
  [[ $(jq -r .visits <<<"$BODY") == "$1" ]]
}
if poll_until 2000 lim_humans_are 40; then
  ok "lim: 40 visits by people counted ($POLL_MS ms)"
else
  fail "lim: 40 visits by people counted" "$(_stack_last)"
fi

# a revoked key is refused by both pools within 1 s
auth=(-H "Authorization: Bearer $API_KEY")
seen_within "key works" 1000 /api/links "200 " "${auth[@]}"
out=$("$HOP_BIN" keys revoke pair 2>&1) || fail "keys revoke pair" "$out"
mark /api/links 401
seen_within "revoked key" 1000 /api/links "401 " "${auth[@]}"
both_served "revoked key" /api/links 401

# ---- nothing broke --------------------------------------------------------------------------------------
expect_eq "no worker died in pool 1" "$(worker_deaths)" 0
n=$(grep -c 'msg="worker died"' "$T/hop2.log") || true
expect_eq "no worker died in pool 2" "${n:-0}" 0
stack_pools_stop
echo "timings (change -> 20 in a row from both pools): ${TIMES[*]}"
finish
