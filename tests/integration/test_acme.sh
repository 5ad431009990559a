#!/usr/bin/env bash
# The production Caddyfile, end to end with a real ACME issuance on loopback: Debian's pebble (an RFC 8555
# test CA) with pebble-challtestsrv as its DNS (every name is 127.0.0.1). Caddy runs caddy/Caddyfile as
# shipped, plus test-only global options (pebble as the CA, high ports on 127.0.0.1, admin off), obtains a
# certificate for the site by a real HTTP-01 or TLS-ALPN-01 challenge, and serves hop through it: /healthz,
# a create and its redirect, the security headers, gzip for JSON, /metrics and /_* unreachable, the static
# page at /, and HTTP redirected to HTTPS.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

DOMAIN=hop.test

prod_require pebble pebble-challtestsrv openssl

prod_init
prod_pg
export HOP_WORKERS=2
prod_pool
API_KEY=$(make_key acme) || prod_abort "hop keys create failed"

# ---- the ACME CA --------------------------------------------------------------------------------------------
if ! { P_ACME=$(prod_port) && P_PMGMT=$(prod_port) && P_DNS=$(prod_port) && P_CMGMT=$(prod_port) &&
  P_HTTP=$(prod_port) && P_HTTPS=$(prod_port) && P_ASK=$(prod_port); }; then
  prod_abort "not enough free ports"
fi
mkdir -p "$T/pebble"
# pebble's own HTTPS listener needs a certificate: a throwaway CA for it, which Caddy trusts (acme_ca_root)
make_pebble_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hop test CA for pebble" \
    -keyout "$T/pebble/ca.key" -out "$T/pebble/ca.pem" &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/pebble/key.pem" -out "$T/pebble/req.csr" &&
    openssl x509 -req -in "$T/pebble/req.csr" -CA "$T/pebble/ca.pem" -CAkey "$T/pebble/ca.key" -CAcreateserial \
      -days 2 -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n') -out "$T/pebble/cert.pem"
}
make_pebble_cert >>"$T/openssl.log" 2>&1 || prod_abort "openssl could not make pebble's certificate"
# httpPort and tlsPort: where pebble validates the challenges, that is Caddy's http_port and https_port
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
    "externalAccountBindingRequired": false
  }
}
EOF
prod_spawn challtestsrv pebble-challtestsrv -dns01 "127.0.0.1:$P_DNS" -management "127.0.0.1:$P_CMGMT" \
  -http01 "" -https01 "" -tlsalpn01 "" -defaultIPv4 127.0.0.1 -defaultIPv6 ""
prod_wait_log "$T/challtestsrv.log" 'Starting management server' 1 10 "$PROD_PID" ||
  prod_abort "pebble-challtestsrv did not start"
# no random sleeps before validation, no random nonce rejections: the test is about Caddy and the chain
prod_spawn pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
  pebble -config "$T/pebble/config.json" -dnsserver "127.0.0.1:$P_DNS"
prod_wait_log "$T/pebble.log" 'Listening on' 1 10 "$PROD_PID" || prod_abort "pebble did not start"

# ---- Caddy with the production Caddyfile ------------------------------------------------------------------
# The shipped file, with test-only global options put in front of its own: pebble as the CA, the ports,
# loopback only, no admin endpoint (other suites run Caddy at the same time).
awk -v opts="\tadmin off\n\tdefault_bind 127.0.0.1\n\thttp_port $P_HTTP\n\thttps_port $P_HTTPS\n\tacme_ca https://127.0.0.1:$P_ACME/dir\n\tacme_ca_root $T/pebble/ca.pem\n\temail ops@$DOMAIN\n\tstorage file_system $T/caddy-data" \
  '!done && /^\{$/ { print; print opts; done = 1; next } { print }' "$STACK_REPO/caddy/Caddyfile" >"$T/Caddyfile"
grep -q "acme_ca https" "$T/Caddyfile" || prod_abort "could not add the test options to the Caddyfile"
t0=$EPOCHREALTIME
P_METRICS=$(prod_port) || prod_abort "no free port for the metrics site"
prod_spawn caddy env HOP_DOMAIN="$DOMAIN" HOP_SOCKET="$SOCK" HOP_SITE_ROOT="$STACK_REPO/caddy/site" HOP_ASK_PORT="$P_ASK" HOP_METRICS_PORT="$P_METRICS" \
  XDG_DATA_HOME="$T/caddy-xdg" XDG_CONFIG_HOME="$T/caddy-config" \
  caddy run --adapter caddyfile --config "$T/Caddyfile"
CADDY_PID=$PROD_PID
if prod_wait_log "$T/caddy.log" 'certificate obtained successfully' 1 30 "$CADDY_PID"; then
  ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
  ok "Caddy obtained a certificate for $DOMAIN from pebble (${ms} ms from start)"
else
  fail "Caddy obtained a certificate for $DOMAIN from pebble" "$(grep -E '"level":"error"' "$T/caddy.log" | tail -n 3 | cut -c1-400 | tr '\n' '|')"
  prod_finish
fi
if grep -q 'set VALID by completed challenge' "$T/pebble.log" && grep -q 'served key authentication' "$T/caddy.log"; then
  ok "pebble validated a challenge that Caddy answered on its own ports ($(grep -m 1 -o 'validate w/ [A-Z-]*' "$T/pebble.log"))"
else
  fail "pebble validated a challenge that Caddy answered on its own ports" "$(grep -i 'valid' "$T/pebble.log" | tail -n 2 | tr '\n' '|')"
fi

# pebble makes a new root at every start: fetch it from its management API (served with our CA's cert)
curl -fsS --cacert "$T/pebble/ca.pem" "https://127.0.0.1:$P_PMGMT/roots/0" -o "$T/pebble/root.pem" ||
  prod_abort "could not fetch pebble's root certificate"
curl -fsS --cacert "$T/pebble/ca.pem" "https://127.0.0.1:$P_PMGMT/intermediates/0" -o "$T/pebble/intermediate.pem" || true
BASE=https://$DOMAIN:$P_HTTPS
CACERT=$T/pebble/root.pem
RESOLVE=("--resolve" "$DOMAIN:$P_HTTPS:127.0.0.1" "--resolve" "$DOMAIN:$P_HTTP:127.0.0.1")

# preq METHOD PATH [curl args]: req through the production site (the name resolves to 127.0.0.1)
preq() {
  req "$1" "$2" "${RESOLVE[@]}" "${@:3}"
}

# ---- through the production site ----------------------------------------------------------------------------
preq GET /healthz
expect_status "https://$DOMAIN/healthz: 200, the chain verified against pebble's root" 200
expect_json "/healthz body" '.status' ok
issuer=$(openssl s_client -connect "127.0.0.1:$P_HTTPS" -servername "$DOMAIN" </dev/null 2>/dev/null |
  openssl x509 -noout -issuer 2>/dev/null) || issuer=""
if [[ $issuer == *[Pp]ebble* ]]; then
  ok "the certificate served for $DOMAIN is pebble's ($issuer)"
else
  fail "the certificate served for $DOMAIN is pebble's" "issuer: '${issuer:-none}'"
fi
expect_header "HSTS" '^strict-transport-security: max-age=[0-9]+'
expect_header "X-Content-Type-Options" '^x-content-type-options: nosniff$'
expect_header "Referrer-Policy" '^referrer-policy: '
expect_header "Content-Security-Policy" "^content-security-policy: default-src 'none'"
expect_header "X-Frame-Options" '^x-frame-options: DENY$'
if grep -Eiq '^(server|status):' "$HEADERS"; then
  fail "no Server or Status header" "$(grep -Ei '^(server|status):' "$HEADERS" | tr '\n' '|')"
else
  ok "no Server or Status header"
fi

url='https://example.com/acme?q=1'
preq POST /api/links -H 'Content-Type: application/json' --data-binary "{\"url\":\"$url\"}"
expect_status "create through the production site: 201" 201
slug=$(jq -r '.slug // empty' <<<"$BODY" 2>/dev/null) || slug=""
expect_json "short_url on the site's name" '.short_url' "$BASE/$slug"
preq GET "/$slug"
expect_status "redirect: 302" 302
expect_header_is "redirect: Location" location "$url"
expect_header "redirect: HSTS too" '^strict-transport-security: '

# JSON is compressed (Caddy's encode skips bodies under 512 bytes: a list of links is larger)
for i in 1 2 3 4 5; do
  preq POST /api/links -H 'Content-Type: application/json' --data-binary "{\"url\":\"https://example.com/acme/list/$i\"}"
done
preq GET '/api/links?limit=10' -H 'Accept-Encoding: gzip' --compressed
expect_status "list: 200" 200
expect_header "JSON answered gzip-compressed" '^content-encoding: gzip$'
expect_json "the compressed JSON decodes" '.links | length' 6

# internal paths: Caddy answers 404 itself, hop never sees them
for p in /metrics /metrics/x /_debug /_; do
  before=$(prod_count "$T/hop.log" "msg=access .*path=\"$p\"")
  preq GET "$p"
  expect_status "$p: 404 from Caddy" 404
  expect_header "$p: problem JSON" '^content-type: application/problem\+json'
  if (($(prod_count "$T/hop.log" "msg=access .*path=\"$p\"") == before)); then
    ok "$p: never reached hop"
  else
    fail "$p: never reached hop" "hop logged a request for $p"
  fi
done

# answers Caddy gives by itself (handle_errors): a problem body, an id, and the site's headers; hop never
# sees the request. A path with %00 is refused by the FastCGI transport; a socket that cannot be dialled
# (moved aside for a moment, hop keeps listening) is a 502 after lb_try_duration (5 s).
before=$(prod_count "$T/hop.log" 'msg=access')
preq GET '/a%00b'
expect_status "a path with %00: 400 from Caddy" 400
expect_header "a path with %00: problem JSON" '^content-type: application/problem\+json'
expect_header "a path with %00: X-Request-Id" '^x-request-id: [A-Za-z0-9._~:/+=-]{1,128}$'
expect_json "a path with %00: problem fields" '(.title|type) == "string" and (.detail|type) == "string" and .status == 400' true
expect_header "a path with %00: HSTS too" '^strict-transport-security: '
expect_header "a path with %00: X-Content-Type-Options too" '^x-content-type-options: nosniff$'
if grep -Eiq '^server:' "$HEADERS"; then
  fail "a path with %00: no Server header" "$(grep -Ei '^server:' "$HEADERS")"
else
  ok "a path with %00: no Server header"
fi
if (($(prod_count "$T/hop.log" 'msg=access') == before)); then
  ok "a path with %00: never reached hop"
else
  fail "a path with %00: never reached hop" "hop logged it"
fi
mv "$SOCK" "$SOCK.away"
preq GET /healthz
mv "$SOCK.away" "$SOCK"
expect_status "hop's socket gone: 502 from Caddy" 502
expect_header "hop's socket gone: problem JSON" '^content-type: application/problem\+json'
expect_header "hop's socket gone: X-Request-Id" '^x-request-id: [A-Za-z0-9._~:/+=-]{1,128}$'
expect_json "hop's socket gone: problem fields" '.status' 502
preq GET /healthz
expect_status "the socket back: /healthz 200" 200

# the static page at /, from caddy/site
preq GET /
expect_status "/: 200" 200
expect_header "/: HTML" '^content-type: text/html'
if [[ $BODY == *"short-link service"* ]]; then
  ok "/: the fallback page"
else
  fail "/: the fallback page" "$(_stack_last)"
fi

# plain HTTP on the site's name is redirected to HTTPS
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 "${RESOLVE[@]}" "http://$DOMAIN:$P_HTTP/abc") || code=000
if [[ $code == "308 https://$DOMAIN:$P_HTTPS/abc" || $code == "308 https://$DOMAIN/abc" ]]; then
  ok "http:// redirects to https:// ($code)"
else
  fail "http:// redirects to https://" "got '$code'"
fi

prod_stop "$HOP_PID" TERM 15
if [[ $PROD_EXIT == 0 ]]; then ok "hop: SIGTERM: exit 0"; else fail "hop: SIGTERM: exit 0" "exit status $PROD_EXIT"; fi
prod_finish
