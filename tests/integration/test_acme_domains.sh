#!/usr/bin/env bash
# Automatic HTTPS for every short domain, against a real ACME CA on loopback: Debian's pebble, with
# pebble-challtestsrv as the DNS (every name is 127.0.0.1), and caddy/Caddyfile as shipped plus test-only
# global options. `hop domains add a.test` is all it takes for a TLS handshake with SNI a.test to get a
# certificate from pebble (on demand, after Caddy asked hop); b.test, never added, gets none and pebble never
# sees an order for it; after `hop domains remove a.test` hop answers 404 at once, and Caddy refuses new
# handshakes when the certificate it keeps in memory is due for renewal (the ask is made again then). pebble
# issues certificates valid for PEBBLE_VALIDITY seconds here so that this is seconds, not the 60 days of a
# 90-day certificate.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

MAIN=hop.test
VALIDITY=${PEBBLE_VALIDITY:-30}

prod_require pebble pebble-challtestsrv openssl

prod_init
prod_pg
export HOP_WORKERS=2
prod_pool
API_KEY=$(make_key acme) || prod_abort "hop keys create failed"
"$HOP_BIN" domains add "$MAIN" >/dev/null || prod_abort "hop domains add $MAIN failed"

# ---- pebble, as in test_acme.sh, with short-lived certificates ------------------------------------------------
if ! { P_ACME=$(prod_port) && P_PMGMT=$(prod_port) && P_DNS=$(prod_port) && P_CMGMT=$(prod_port) &&
  P_HTTP=$(prod_port) && P_HTTPS=$(prod_port) && P_ASK=$(prod_port); }; then
  prod_abort "not enough free ports"
fi
mkdir -p "$T/pebble"
{
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hop test CA for pebble" \
    -keyout "$T/pebble/ca.key" -out "$T/pebble/ca.pem" &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/pebble/key.pem" -out "$T/pebble/req.csr" &&
    openssl x509 -req -in "$T/pebble/req.csr" -CA "$T/pebble/ca.pem" -CAkey "$T/pebble/ca.key" -CAcreateserial \
      -days 2 -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n') -out "$T/pebble/cert.pem"
} >>"$T/openssl.log" 2>&1 || prod_abort "openssl could not make pebble's certificate"
cat >"$T/pebble/config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$P_ACME",
    "managementListenAddress": "127.0.0.1:$P_PMGMT",
    "certificate": "$T/pebble/cert.pem",
    "privateKey": "$T/pebble/key.pem",
    "httpPort": $P_HTTP,
    "tlsPort": $P_HTTPS,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "certificateValidityPeriod": $VALIDITY
  }
}
EOF
prod_spawn challtestsrv pebble-challtestsrv -dns01 "127.0.0.1:$P_DNS" -management "127.0.0.1:$P_CMGMT" \
  -http01 "" -https01 "" -tlsalpn01 "" -defaultIPv4 127.0.0.1 -defaultIPv6 ""
prod_wait_log "$T/challtestsrv.log" 'Starting management server' 1 10 "$PROD_PID" ||
  prod_abort "pebble-challtestsrv did not start"
prod_spawn pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
  pebble -config "$T/pebble/config.json" -dnsserver "127.0.0.1:$P_DNS"
prod_wait_log "$T/pebble.log" 'Listening on' 1 10 "$PROD_PID" || prod_abort "pebble did not start"

awk -v opts="\tadmin off\n\tdefault_bind 127.0.0.1\n\thttp_port $P_HTTP\n\thttps_port $P_HTTPS\n\tacme_ca https://127.0.0.1:$P_ACME/dir\n\tacme_ca_root $T/pebble/ca.pem\n\temail ops@$MAIN\n\tstorage file_system $T/caddy-data" \
  '!done && /^\{$/ { print; print opts; done = 1; next } { print }' "$STACK_REPO/caddy/Caddyfile" >"$T/Caddyfile"
grep -q "acme_ca https" "$T/Caddyfile" || prod_abort "could not add the test options to the Caddyfile"
start_caddy() {
  prod_spawn caddy env HOP_DOMAIN="$MAIN" HOP_SOCKET="$SOCK" HOP_SITE_ROOT="$STACK_REPO/caddy/site" \
    HOP_ASK_PORT="$P_ASK" XDG_DATA_HOME="$T/caddy-xdg" XDG_CONFIG_HOME="$T/caddy-config" \
    caddy run --adapter caddyfile --config "$T/Caddyfile"
  CADDY_PID=$PROD_PID
}
start_caddy
prod_wait_log "$T/caddy.log" 'certificate obtained successfully' 1 30 "$CADDY_PID" ||
  prod_abort "Caddy obtained no certificate for $MAIN from pebble"
curl -fsS --cacert "$T/pebble/ca.pem" "https://127.0.0.1:$P_PMGMT/roots/0" -o "$T/pebble/root.pem" ||
  prod_abort "could not fetch pebble's root certificate"
CACERT=$T/pebble/root.pem

# on NAME METHOD PATH [curl args]: req to https://NAME (resolving to 127.0.0.1), verified against pebble's root
on() {
  local name=$1
  BASE=https://$name:$P_HTTPS
  req "$2" "$3" --resolve "$name:$P_HTTPS:127.0.0.1" "${@:4}"
}
# issuer NAME: the issuer of the certificate Caddy presents for SNI NAME, empty when the handshake fails
issuer() {
  openssl s_client -connect "127.0.0.1:$P_HTTPS" -servername "$1" </dev/null 2>/dev/null |
    openssl x509 -noout -issuer 2>/dev/null || true
}
# handshake NAME: true when a TLS handshake with SNI NAME succeeds and verifies against pebble's root
handshake() {
  curl -sS -o /dev/null --max-time 10 --cacert "$CACERT" --resolve "$1:$P_HTTPS:127.0.0.1" \
    "https://$1:$P_HTTPS/healthz" 2>/dev/null
}
orders() { prod_count "$T/pebble.log" "$1"; }

# ---- a.test: added, then a certificate at the first handshake ----------------------------------------------
if handshake a.test; then
  fail "a.test before it is added: no certificate" "the handshake succeeded"
else
  ok "a.test before it is added: no certificate (the ask said no)"
fi
out=$("$HOP_BIN" domains add a.test 2>&1) || prod_abort "hop domains add a.test: $out"
sleep 0.3 # every worker re-reads the list on NOTIFY
t0=$EPOCHREALTIME
if handshake a.test; then
  ok "hop domains add a.test, then a handshake with SNI a.test verifies against pebble's root ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }') ms, issuance included)"
else
  fail "hop domains add a.test, then a handshake with SNI a.test succeeds" "$(grep -E '"level":"error"' "$T/caddy.log" | tail -n 2 | cut -c1-300 | tr '\n' '|')"
fi
iss=$(issuer a.test)
NOT_AFTER=$(openssl s_client -connect "127.0.0.1:$P_HTTPS" -servername a.test </dev/null 2>/dev/null |
  openssl x509 -noout -enddate 2>/dev/null | cut -d= -f2) || NOT_AFTER=""
NOT_AFTER=$(date -d "$NOT_AFTER" +%s 2>/dev/null) || NOT_AFTER=0
A_ORDERS=$(orders 'Value:"a\.test"')
if [[ $iss == *[Pp]ebble* ]]; then ok "a.test's certificate is pebble's ($iss)"; else fail "a.test's certificate is pebble's" "issuer '$iss'"; fi
if (($(prod_count "$T/hop.log" 'msg=access method="GET" path="/_hop/tls" status=200') >= 1)); then
  ok "Caddy asked hop (GET /_hop/tls: 200) before it ordered the certificate"
else
  fail "Caddy asked hop before it ordered the certificate" "no 200 for /_hop/tls in hop.log"
fi
on a.test POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/on-a","slug":"x","domain":"a.test"}'
expect_jeq "a link on a.test" '[.domain, .short_url]' "[\"a.test\",\"https://a.test:$P_HTTPS/x\"]"
sleep 0.2
on a.test GET /x
expect_eq "https://a.test/x redirects" "$STATUS $(header location)" "302 https://example.com/on-a"
on "$MAIN" GET /x
expect_status "https://$MAIN/x: a.test's link is no link of $MAIN's" 404

# ---- b.test: never added -------------------------------------------------------------------------------------
asks_before=$(prod_count "$T/hop.log" 'path="/_hop/tls" status=404')
if handshake b.test; then
  fail "b.test (never added): no certificate" "the handshake succeeded"
else
  ok "b.test (never added): the handshake fails"
fi
if (($(prod_count "$T/hop.log" 'path="/_hop/tls" status=404') > asks_before)); then
  ok "b.test: Caddy asked hop, hop said 404"
else
  fail "b.test: Caddy asked hop, hop said 404" "no 404 for /_hop/tls in hop.log"
fi
if (($(orders 'b\.test') == 0)) && ((A_ORDERS >= 1)); then
  ok "pebble saw no order for b.test (it validated a.test $A_ORDERS time(s), never named b.test)"
else
  fail "pebble saw no order for b.test" "pebble.log names b.test $(orders 'b\.test') times; a.test validations: $A_ORDERS"
fi
iss=$(issuer b.test)
expect_eq "b.test: no certificate at all" "$iss" ""

# ---- a.test removed ---------------------------------------------------------------------------------------------
out=$("$HOP_BIN" domains remove a.test --with-links 2>&1) || fail "hop domains remove a.test" "$out"
REMOVED=$EPOCHREALTIME
sleep 0.3
on a.test GET /x
expect_status "a.test removed: hop answers 404 at once (the certificate is still in Caddy's memory)" 404
expect_json "a.test removed: the 404 says why" .detail "this address is not one of this service's domains"
if handshake a.test; then
  ok "a.test removed: Caddy still presents the certificate it holds (it asks before issuance, not per handshake)"
else
  fail "a.test removed: Caddy still presents the certificate it holds" "the handshake failed at once"
fi
# In its last third of life Caddy tries to renew it at each handshake and asks hop first; told no, it keeps
# presenting the one it has until it expires. So handshakes for a removed name fail when its certificate
# expires: here VALIDITY seconds after issuance, with a 90-day certificate up to 90 days.
asks0=$(prod_count "$T/hop.log" 'path="/_hop/tls" status=404')
limit_ms=$(((VALIDITY + 10) * 1000))
if poll_until "$limit_ms" bash -c "! curl -sS -o /dev/null --max-time 5 --cacert '$CACERT' --resolve 'a.test:$P_HTTPS:127.0.0.1' https://a.test:$P_HTTPS/healthz 2>/dev/null"; then
  at=$EPOCHREALTIME
  ok "a.test removed: handshakes refused $(awk -v a="$REMOVED" -v b="$at" 'BEGIN { printf "%.1f", b - a }') s after the removal"
  if awk -v a="$at" -v n="$NOT_AFTER" 'BEGIN { exit !(a >= n - 2 && a <= n + 3) }'; then
    ok "a.test removed: refused when its certificate expired ($(awk -v a="$at" -v n="$NOT_AFTER" 'BEGIN { printf "%+.1f", a - n }') s from its notAfter), not before"
  else
    fail "a.test removed: refused when its certificate expired" "refused at $at, notAfter $NOT_AFTER"
  fi
else
  fail "a.test removed: handshakes refused within the certificate's life" "still served after $((limit_ms / 1000)) s"
fi
# the first refused renewal came with a third of the certificate's life left
first=$(grep '"server_name":"a.test".*certificate not allowed by ask endpoint' "$T/caddy.log" | head -n 1 |
  jq -r .remaining 2>/dev/null) || first=""
# Caddy does not always log the refusal (seen once in a make check under ASan): hop's own log of the ask is
# the proof that Caddy asked again; the time left is checked whenever Caddy logged it.
asks=$(prod_count "$T/hop.log" 'path="/_hop/tls" status=404')
if ((asks > asks0)) && { [[ -z $first ]] ||
  awk -v r="$first" -v v="$VALIDITY" 'BEGIN { exit !(r <= v / 3 + 0.5 && r >= v / 3 - 3) }'; }; then
  ok "a.test removed: Caddy asked hop again (${first:+with ${first%.*} s of ${VALIDITY} s left, }its renewal window), hop said 404"
else
  fail "a.test removed: Caddy asked hop again in the renewal window" "first refused renewal with '$first' s left; asks $asks0 -> $asks"
fi
expect_eq "a.test removed: pebble saw no new order for it" "$(orders 'Value:"a\.test"')" "$A_ORDERS"

# c.test: removed, then Caddy restarted with its storage as it is, then without c.test's certificate files
"$HOP_BIN" domains add c.test >/dev/null || fail "hop domains add c.test" "refused"
sleep 0.3
if handshake c.test; then
  ok "c.test added: certificate at the first handshake"
else
  fail "c.test added: certificate at the first handshake" "handshake failed"
fi
C_ORDERS=$(orders 'Value:"c\.test"')
"$HOP_BIN" domains remove c.test >/dev/null || fail "hop domains remove c.test" "refused"
restart_caddy() {
  prod_stop "$CADDY_PID" TERM 15
  start_caddy
  for ((i = 0; i < 100; i++)); do
    handshake "$MAIN" && return 0
    sleep 0.1
  done
  fail "Caddy restarted" "$MAIN did not answer within 10 s"
}
restart_caddy
# Caddy 2.6 loads a certificate it finds in storage without asking: restarting Caddy is not enough
if handshake c.test; then
  ok "c.test removed, Caddy restarted: the certificate in its storage is presented again"
else
  fail "c.test removed, Caddy restarted: the certificate in its storage is presented again" \
    "refused: Caddy now asks before loading from storage; update docs/OPERATIONS.md"
fi
rm -rf "$T/caddy-data/certificates/"*/c.test
restart_caddy
if handshake c.test; then
  fail "c.test's files removed from Caddy's storage, Caddy restarted: refused" "the handshake succeeded"
else
  ok "c.test's files removed from Caddy's storage, Caddy restarted: refused at once"
fi
expect_eq "c.test: one order at pebble, none after its removal" "$(orders 'Value:"c\.test"')" "$C_ORDERS"

prod_stop "$HOP_PID" TERM 15
if [[ $PROD_EXIT == 0 ]]; then ok "hop: SIGTERM: exit 0"; else fail "hop: SIGTERM: exit 0" "exit status $PROD_EXIT"; fi
prod_finish
