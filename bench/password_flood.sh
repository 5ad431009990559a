#!/usr/bin/env bash
# make bench-password-flood: does a flood of wrong passwords starve the redirects of other links? Redirect
# rate of plain links through Caddy (HTTPS, loopback, wrk) alone; while one client floods cheap GETs of an
# unknown slug (the control); and while it posts wrong passwords as fast as it can, (a) to one protected link,
# (b) to 200 protected links in turn (the attempt limit is per link, so without the one-check-per-address rule
# every post would be hashed). Prints each rate and its ratio to the rate alone. A measurement, not a pass/fail
# test. Bounded: FLOOD_SECONDS (default 8) per phase, 4 phases plus a warm-up.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/stack.sh
source "$here/../tests/lib/stack.sh"

SECS=${FLOOD_SECONDS:-8}
CONNS=${FLOOD_CONNS:-8}
command -v wrk >/dev/null || {
  echo "password_flood: wrk is needed (apt-get install wrk)"
  exit 1
}

stack_start
API_KEY=$(make_key flood)
for i in $(seq 1 10); do
  req POST /api/links -H 'Content-Type: application/json' \
    --data-binary "{\"url\":\"https://example.com/plain$i\",\"slug\":\"plain$i\"}"
  [[ $STATUS == 201 ]] || { echo "create plain$i: $(_stack_last)"; exit 1; }
done
req POST /api/links -H 'Content-Type: application/json' \
  --data-binary '{"url":"https://example.com/locked","slug":"locked","password":"the right password"}'
[[ $STATUS == 201 ]] || { echo "create locked: $(_stack_last)"; exit 1; }
# 200 more protected links with the same hash, made in SQL so that setting them up costs no hashing
psql_q "INSERT INTO links (slug, url, password_hash, owner_id)
        SELECT 'locked' || g, url, password_hash, owner_id FROM links, generate_series(1, 200) g
        WHERE slug = 'locked'" >/dev/null

# Lua for wrk: plain links in turn (GET), or wrong passwords (POST) to one link or to links in turn.
cat >"$T/plain.lua" <<'EOF'
local n = 0
request = function()
  n = n % 10 + 1
  return wrk.format("GET", "/plain" .. n)
end
EOF
cat >"$T/miss.lua" <<'EOF'
request = function()
  return wrk.format("GET", "/no-such-link")
end
EOF
cat >"$T/flood_one.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "password=not-the-right-one"
request = function()
  return wrk.format(nil, "/locked")
end
EOF
cat >"$T/flood_many.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "password=not-the-right-one"
local n = 0
request = function()
  n = n % 200 + 1
  return wrk.format(nil, "/locked" .. n)
end
EOF

# rate FILE: requests/s from wrk's output; codes: its non-2xx/3xx count.
rate() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
bad() { awk '/Non-2xx or 3xx responses:/ {print $5}' "$1" | grep . || echo 0; }
wrk_plain() { timeout $((SECS + 20)) wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$T/plain.lua" "$BASE" >"$1" 2>&1; }
wrk_flood() { timeout $((SECS + 20)) wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$2" "$BASE" >"$1" 2>&1; }

echo "# hop workers: ${HOP_WORKERS:-3}; $(nproc) CPUs; $CONNS connections each; $SECS s per phase"
wrk_plain "$T/warm.out"
wrk_plain "$T/alone.out"
alone=$(rate "$T/alone.out")

# control: the same client sends cheap requests (GETs of a slug that does not exist) as fast as it can, so
# that what the password flood costs can be told from what any flood costs on these cores
wrk_flood "$T/flood0.out" "$T/miss.lua" &
fpid=$!
sleep 0.5
wrk_plain "$T/with0.out"
wait "$fpid" || true
with0=$(rate "$T/with0.out")

wrk_flood "$T/flood1.out" "$T/flood_one.lua" &
fpid=$!
sleep 0.5
wrk_plain "$T/with1.out"
wait "$fpid" || true
with1=$(rate "$T/with1.out")

wrk_flood "$T/floodN.out" "$T/flood_many.lua" &
fpid=$!
sleep 0.5
wrk_plain "$T/withN.out"
wait "$fpid" || true
withN=$(rate "$T/withN.out")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-58s %10s req/s  (non-3xx: %s)\n' "redirects of other links, alone" "$alone" "$(bad "$T/alone.out")"
printf '%-58s %10s req/s  (non-3xx: %s)  ratio %s\n' "  while one client floods GETs of an unknown slug (control)" "$with0" \
  "$(bad "$T/with0.out")" "$(ratio "$with0" "$alone")"
printf '%-58s %10s req/s\n' "  the control flood itself (404s)" "$(rate "$T/flood0.out")"
printf '%-58s %10s req/s  (non-3xx: %s)  ratio %s\n' "  while one client floods one protected link" "$with1" \
  "$(bad "$T/with1.out")" "$(ratio "$with1" "$alone")"
printf '%-58s %10s req/s  (401/429: %s)\n' "  the flood itself (one link: 10 hashed, then 429s)" "$(rate "$T/flood1.out")" "$(bad "$T/flood1.out")"
printf '%-58s %10s req/s  (non-3xx: %s)  ratio %s\n' "  while one client floods 200 protected links in turn" "$withN" \
  "$(bad "$T/withN.out")" "$(ratio "$withN" "$alone")"
printf '%-58s %10s req/s  (401/429: %s)\n' "  the flood itself (200 links: one check at a time, rest 429)" "$(rate "$T/floodN.out")" "$(bad "$T/floodN.out")"
hashed=$(grep -c 'method="POST" path="/locked[0-9]*" status=401' "$T/hop.log" || true)
limited=$(grep -c 'method="POST" path="/locked[0-9]*" status=429' "$T/hop.log" || true)
echo "# wrong passwords hashed: $hashed; refused without hashing (attempt limit, or a check under way for the address): $limited"
stack_stop
