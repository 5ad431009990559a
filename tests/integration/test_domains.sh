#!/usr/bin/env bash
# Many short domains (issue 12) end to end, through the production Caddyfile as shipped (its catch-all
# on-demand TLS site and the loopback site that forwards Caddy's `ask` to hop), with Caddy's local CA in
# place of ACME (test_acme_domains.sh does ACME against pebble): `hop domains` and its refusals, the first
# domain adopting the links made before it, slugs per domain, `domain` and `?domain=` in the API, root and
# not-found redirects, hostile Host headers, an unknown Host answered without PostgreSQL, and removal.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

MAIN=hop.test # HOP_DOMAIN: the site with the static page at /

prod_init
prod_pg
export HOP_WORKERS=2
prod_pool
API_KEY=$(make_key alice) || prod_abort "hop keys create failed"

if ! { P_HTTP=$(prod_port) && P_HTTPS=$(prod_port) && P_ASK=$(prod_port); }; then
  prod_abort "not enough free ports"
fi
# the shipped file, with test-only global options in front of its own: Caddy's local CA for every
# certificate (on-demand ones too), high ports on 127.0.0.1, no admin endpoint
awk -v opts="\tadmin off\n\tdefault_bind 127.0.0.1\n\thttp_port $P_HTTP\n\thttps_port $P_HTTPS\n\tlocal_certs\n\tskip_install_trust\n\tstorage file_system $T/caddy-data" \
  '!done && /^\{$/ { print; print opts; done = 1; next } { print }' "$STACK_REPO/caddy/Caddyfile" >"$T/Caddyfile"
grep -q local_certs "$T/Caddyfile" || prod_abort "could not add the test options to the Caddyfile"
prod_spawn caddy env HOP_DOMAIN="$MAIN" HOP_SOCKET="$SOCK" HOP_SITE_ROOT="$STACK_REPO/caddy/site" \
  HOP_ASK_PORT="$P_ASK" XDG_DATA_HOME="$T/caddy-xdg" XDG_CONFIG_HOME="$T/caddy-config" \
  caddy run --adapter caddyfile --config "$T/Caddyfile"
CADDY_PID=$PROD_PID
CACERT=$T/caddy-data/pki/authorities/local/root.crt

# on NAME METHOD PATH [curl args]: req to https://NAME:port, NAME resolving to 127.0.0.1 (SNI and Host NAME)
# a browser's User-Agent, so that the redirects below count as human visits (curl's own is a bot's)
BROWSER_UA='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
on() {
  local name=$1
  BASE=https://$name:$P_HTTPS
  req "$2" "$3" --resolve "$name:$P_HTTPS:127.0.0.1" -A "$BROWSER_UA" "${@:4}"
}
# create NAME JSON: POST /api/links on NAME's site
create() {
  on "$1" POST /api/links -H 'Content-Type: application/json' --data-binary "$2"
}
# hop_cli ARGS...: run `hop ARGS`; CLI_OUT is stdout and stderr, CLI_RC the exit status
hop_cli() {
  CLI_RC=0
  CLI_OUT=$("$HOP_BIN" "$@" 2>&1) || CLI_RC=$?
}
expect_cli() { # NAME RC REGEX: the last hop_cli exited RC and printed a line matching REGEX (ERE)
  if [[ $CLI_RC == "$2" ]] && grep -Eq -- "$3" <<<"$CLI_OUT"; then
    ok "$1"
  else
    fail "$1" "exit $CLI_RC, want $2; output: ${CLI_OUT//$'\n'/|}"
  fi
}
# location_of NAME PATH: "status location" of GET https://NAME/PATH
location_of() {
  on "$1" GET "$2"
  echo "$STATUS $(header location)"
}

for ((i = 0; i < 150; i++)); do
  [[ -f $CACERT ]] && on "$MAIN" GET /healthz && [[ $STATUS == 200 ]] && break
  _stack_alive "$CADDY_PID" || prod_abort "caddy exited at startup"
  sleep 0.1
done
[[ $STATUS == 200 ]] || prod_abort "https://$MAIN/healthz did not answer 200 within 15 s"

# ---- before any domain: one namespace on any Host (an install that never adds a domain) --------------------
hop_cli domains list
expect_cli "list with no domains: says hop answers on any name" 0 '^\(none: hop answers on any host name'
create "$MAIN" '{"url":"https://example.com/before","slug":"sale"}'
expect_status "before domains: create sale" 201
expect_json "before domains: domain null" .domain null
for i in 1 2 3; do on "$MAIN" GET /sale >/dev/null; done
expect_eq "before domains: sale redirects" "$(location_of "$MAIN" /sale)" "302 https://example.com/before"
on "$MAIN" GET /api/links/sale
if poll_until 3000 bash -c "curl -sS --cacert '$CACERT' --resolve '$MAIN:$P_HTTPS:127.0.0.1' -H 'Authorization: Bearer $API_KEY' \
  https://$MAIN:$P_HTTPS/api/links/sale | jq -e '.visits == 4' >/dev/null"; then
  ok "before domains: 4 visits counted"
else
  fail "before domains: 4 visits counted" "$(_stack_last)"
fi
expect_eq "before domains: GET / on the main site is the static page" "$(on "$MAIN" GET / && echo "$STATUS ${BODY:0:15}")" "200 <!DOCTYPE html>"
# the catch-all site asks hop before it gets a certificate: no domain yet, so no certificate for go.test
if curl -sS -o /dev/null --max-time 10 --cacert "$CACERT" --resolve "go.test:$P_HTTPS:127.0.0.1" \
  "https://go.test:$P_HTTPS/healthz" 2>"$T/curl.err"; then
  fail "no domain yet: no certificate for go.test" "the handshake succeeded"
else
  ok "no domain yet: no certificate for go.test (curl: $(head -c 80 "$T/curl.err"))"
fi

# ---- hop domains add: refusals ---------------------------------------------------------------------------
hop_cli domains add 'bücher.test'
expect_cli "add: an IDN in Unicode is refused, the A-label form named" 2 'xn--'
hop_cli domains add go.test:8443
expect_cli "add: a port is refused" 2 'must not carry a port'
hop_cli domains add 1.2.3.4
expect_cli "add: an IPv4 address is refused" 2 'must not be an IP address'
hop_cli domains add a.0x7f
expect_cli "add: a name a browser reads as IPv4 (a.0x7f) is refused" 2 'must not be an IP address'
hop_cli domains add '[::1]'
expect_cli "add: an IPv6 literal is refused" 2 'must not be an IP address'
hop_cli domains add go.test.
expect_cli "add: a trailing dot is refused" 2 'must not end with a dot'
hop_cli domains add ''
expect_cli "add: an empty name is refused" 2 '1 to 253 characters'
hop_cli domains add "$(printf 'a%.0s' {1..250}).test"
expect_cli "add: 255 characters are refused" 2 '1 to 253 characters'
hop_cli domains add -go.test
expect_cli "add: a label starting with a hyphen is refused" 2 'labels of letters, digits and hyphens'
hop_cli domains add go_x.test
expect_cli "add: an underscore is refused" 2 'may only hold'
hop_cli domains add go.test --root-redirect not-a-url
expect_cli "add: a bad --root-redirect is refused" 2 'root-redirect'
hop_cli domains add go.test --frobnicate x
expect_cli "add: an unknown option is refused with the usage" 2 'usage: hop domains add'
hop_cli domains frob
expect_cli "domains: an unknown subcommand prints the usage" 2 'usage: hop domains add'
HOP_BASE_URL=https://$MAIN hop_cli domains add go.test
expect_cli "add: the first domain must be HOP_BASE_URL's host" 1 "add $MAIN first"
hop_cli domains list
expect_cli "refusals added nothing" 0 '^\(none'

# ---- the first domain adopts the links made before it -----------------------------------------------------
HOP_BASE_URL=https://$MAIN hop_cli domains add HOP.Test
expect_cli "add: upper case is folded; the first domain is the default" 0 "^added $MAIN \(the default domain\)$"
expect_cli "add: the existing link moved to it" 0 "^1 existing link moved to $MAIN$"
hop_cli domains add hop.test
expect_cli "add: a domain twice is refused" 1 "$MAIN is already a domain"
hop_cli domains add go.test --root-redirect https://example.com/home
expect_cli "add go.test with a root redirect" 0 '^added go.test$'
hop_cli domains add acme.test --not-found-redirect https://example.com/nf
expect_cli "add acme.test with a not-found redirect" 0 '^added acme.test$'
hop_cli domains add xn--bcher-kva.test
expect_cli "add an IDN in its A-label form" 0 '^added xn--bcher-kva.test$'
hop_cli domains list
expect_cli "list: the default and its link" 0 "^$MAIN +yes +1 "
expect_cli "list: go.test's root redirect" 0 '^go.test +0 +https://example.com/home'
expect_cli "list: acme.test's not-found redirect" 0 '^acme.test +0 +- +https://example.com/nf$'

on "$MAIN" GET /api/links/sale
expect_jeq "adopted: same slug, url and visits, now on $MAIN" '[.slug, .url, .visits, .domain]' \
  "[\"sale\",\"https://example.com/before\",4,\"$MAIN\"]"
expect_eq "adopted: sale still redirects on $MAIN" "$(location_of "$MAIN" /sale)" "302 https://example.com/before"
expect_eq "GET / on the main site is still the static page" "$(on "$MAIN" GET / && echo "$STATUS ${BODY:0:15}")" "200 <!DOCTYPE html>"

# ---- GET /api/domains ------------------------------------------------------------------------------------
on "$MAIN" GET /api/domains
expect_status "GET /api/domains: 200" 200
expect_jeq "GET /api/domains: every domain by name, the default flagged, the redirects" '.' \
  "{\"domains\":[{\"name\":\"acme.test\",\"default\":false,\"root_redirect\":null,\"not_found_redirect\":\"https://example.com/nf\"},
   {\"name\":\"go.test\",\"default\":false,\"root_redirect\":\"https://example.com/home\",\"not_found_redirect\":null},
   {\"name\":\"$MAIN\",\"default\":true,\"root_redirect\":null,\"not_found_redirect\":null},
   {\"name\":\"xn--bcher-kva.test\",\"default\":false,\"root_redirect\":null,\"not_found_redirect\":null}]}"
API_KEY="" on "$MAIN" GET /api/domains
expect_status "GET /api/domains without a key: 401" 401

# ---- links per domain --------------------------------------------------------------------------------------
create go.test '{"url":"https://example.com/go-sale","slug":"sale","domain":"go.test"}'
expect_status "the same slug on another domain: 201" 201
expect_jeq "created on go.test: domain, short_url with the port the request came on" '[.domain, .short_url]' \
  "[\"go.test\",\"https://go.test:$P_HTTPS/sale\"]"
create "$MAIN" '{"url":"https://example.com/acme-only","slug":"only","domain":"acme.test"}'
expect_jeq "created on acme.test through another site: short_url on acme.test" '[.domain, .short_url]' \
  '["acme.test","https://acme.test/only"]'
create "$MAIN" '{"url":"https://example.com/default"}'
expect_json "no domain given: the default domain" .domain "$MAIN"
create "$MAIN" '{"url":"https://example.com/x","domain":"nope.test"}'
expect_status "an unknown domain: 422" 422
expect_jeq "an unknown domain: errors name the field and the domain" '[.errors[0].field, (.errors[0].detail | contains("\"nope.test\""))]' '["domain",true]'
create "$MAIN" '{"url":"https://example.com/x","domain":7}'
expect_status "a domain that is no string: 422" 422
create "$MAIN" "{\"url\":\"https://example.com/x\",\"domain\":\"$(printf 'a%.0s' {1..300})\"}"
expect_status "a domain of 300 bytes: 422" 422
create "$MAIN" '{"url":"https://example.com/x","domain":"GO.TEST"}'
expect_json "a domain in upper case is that domain" .domain go.test

sleep 0.2
expect_eq "$MAIN/sale: its own target" "$(location_of "$MAIN" /sale)" "302 https://example.com/before"
expect_eq "go.test/sale: another target" "$(location_of go.test /sale)" "302 https://example.com/go-sale"
expect_eq "acme.test/only: 302" "$(location_of acme.test /only)" "302 https://example.com/acme-only"
on go.test GET /only
expect_status "a link made on acme.test is a 404 on go.test" 404
expect_json "the 404 says no link has this slug" .detail "no link has this slug"
expect_eq "acme.test: an unknown slug is its not-found redirect" "$(location_of acme.test /nothing-here)" "302 https://example.com/nf"
expect_eq "go.test/: the root redirect" "$(location_of go.test /)" "302 https://example.com/home"
on go.test HEAD /
expect_status "HEAD go.test/: 302 too" 302
on acme.test GET /
expect_status "acme.test/ without a root redirect: 404" 404
expect_header "acme.test/: problem JSON" '^content-type: application/problem\+json'
on xn--bcher-kva.test GET /healthz
expect_status "the IDN domain gets a certificate and an answer" 200

# the no-self-link rule covers every domain: a short link to another short link would loop
for u in https://go.test/sale https://acme.test/only https://HOP.TEST/x http://xn--bcher-kva.test/y; do
  create "$MAIN" "{\"url\":\"$u\"}"
  expect_status "a link to $u (a short link of hop's): 422" 422
done
create "$MAIN" '{"url":"https://go.test/a/b"}'
expect_status "a link to a longer path on a domain is no short link: 201" 201

# reuse looks only at the domain asked for
create "$MAIN" '{"url":"https://example.com/go-sale","reuse":true,"domain":"acme.test"}'
expect_jeq "reuse on acme.test does not answer go.test's link" '[.domain, .slug != "sale"]' '["acme.test",true]'
create go.test '{"url":"https://example.com/go-sale","reuse":true,"domain":"go.test"}'
expect_jeq "reuse on go.test answers go.test's link" '[.domain, .slug]' '["go.test","sale"]'

# ?domain= on get, patch, stats, delete
on "$MAIN" GET /api/links/sale
expect_json "get without ?domain=: the default domain's" .url https://example.com/before
on "$MAIN" GET '/api/links/sale?domain=go.test'
expect_json "get ?domain=go.test: go.test's" .url https://example.com/go-sale
on "$MAIN" GET '/api/links/only'
expect_status "get a slug of acme.test without ?domain=: 404" 404
on "$MAIN" GET '/api/links/sale?domain=nope.test'
expect_status "get ?domain=unknown: 400" 400
expect_jeq "get ?domain=unknown: names the parameter and the domain" '[.errors[0].field, (.detail | contains("\"nope.test\""))]' '["domain",true]'
on "$MAIN" GET '/api/links/sale?domain=%ff%fe'
expect_jeq "get ?domain= of bytes that are no UTF-8: 400, the name not echoed" '[.status, .detail]' \
  '[400,"domain is not one of this service'"'"'s domains (GET /api/domains)"]'
create "$MAIN" '{"url":"https://example.com/x","domain":"bücher.test"}'
expect_jeq "create with a Unicode domain: 422 (the A-label is the name)" '[.status, .errors[0].field]' '[422,"domain"]'
on "$MAIN" GET '/api/links/sale?domain=go.test&domain=acme.test'
expect_status "get ?domain= twice: 400" 400
on "$MAIN" PATCH '/api/links/sale?domain=go.test' -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/go-sale-2"}'
expect_jeq "patch ?domain=go.test" '[.domain, .url]' '["go.test","https://example.com/go-sale-2"]'
on "$MAIN" PATCH '/api/links/sale?domain=nope.test' -H 'Content-Type: application/json' --data-binary '{}'
expect_status "patch ?domain=unknown: 400" 400
on "$MAIN" PATCH '/api/links/sale?domain=go.test' -H 'Content-Type: application/json' --data-binary '{"domain":"acme.test"}'
expect_status "patch cannot move a link to another domain: 422" 422
if poll_until 2000 bash -c "[[ \$(curl -sS -o /dev/null -w '%{redirect_url}' --cacert '$CACERT' --resolve 'go.test:$P_HTTPS:127.0.0.1' https://go.test:$P_HTTPS/sale) == https://example.com/go-sale-2 ]]"; then
  ok "go.test/sale follows the patch (${POLL_MS} ms)"
else
  fail "go.test/sale follows the patch" "still the old target after 2 s"
fi
expect_eq "$MAIN/sale is untouched by go.test's patch" "$(location_of "$MAIN" /sale)" "302 https://example.com/before"
sleep 2.2 # visits reach PostgreSQL within 2 s
on "$MAIN" GET '/api/links/sale/stats?domain=go.test&days=1'
go_total=$(jq -r .total <<<"$BODY" 2>/dev/null) || go_total=""
on "$MAIN" GET '/api/links/sale/stats?days=1'
main_total=$(jq -r .total <<<"$BODY" 2>/dev/null) || main_total=""
if [[ $go_total =~ ^[0-9]+$ && $main_total =~ ^[0-9]+$ ]] && ((go_total >= 1 && main_total >= 7 && go_total != main_total)); then
  ok "stats ?domain=: each domain's own visits (go.test $go_total, $MAIN $main_total)"
else
  fail "stats ?domain=: each domain's own visits" "go.test '$go_total', $MAIN '$main_total'"
fi
on "$MAIN" GET '/api/links/sale/stats?domain=nope.test'
expect_status "stats ?domain=unknown: 400" 400
on "$MAIN" DELETE '/api/links/sale?domain=nope.test'
expect_status "delete ?domain=unknown: 400" 400
on "$MAIN" DELETE '/api/links/sale?domain=go.test'
expect_status "delete ?domain=go.test: 204" 204
sleep 0.3
on go.test GET /sale
expect_status "go.test/sale deleted: 404" 404
expect_eq "$MAIN/sale survives go.test's delete" "$(location_of "$MAIN" /sale)" "302 https://example.com/before"

# ---- HOP_BASE_URL: the short_url of links on its host (in any case), the default domain ------------------------
prod_stop "$HOP_PID" TERM 15
if [[ $PROD_EXIT == 0 ]]; then
  ok "hop: SIGTERM before the restart with HOP_BASE_URL: exit 0"
else
  fail "hop: SIGTERM before the restart with HOP_BASE_URL: exit 0" "exit status $PROD_EXIT"
fi
prod_spawn hop env HOP_LISTEN="$SOCK" HOP_BASE_URL=https://HOP.Test/ "$HOP_BIN" serve
HOP_PID=$PROD_PID
prod_wait_log "$T/hop.log" 'msg=ready' 2 20 "$HOP_PID" || prod_abort "hop serve (HOP_BASE_URL) was not ready"
create go.test '{"url":"https://example.com/base-1"}'
expect_json "HOP_BASE_URL set: a link on its host has HOP_BASE_URL's short_url" .short_url "https://HOP.Test/$(jq -r .slug <<<"$BODY")"
create go.test '{"url":"https://example.com/base-2","domain":"go.test"}'
expect_json "HOP_BASE_URL set: a link on another domain, asked on it, keeps its port" .short_url "https://go.test:$P_HTTPS/$(jq -r .slug <<<"$BODY")"
create go.test '{"url":"https://hop.test:443/sale"}'
expect_status "HOP_BASE_URL set: a link to its host is a self-link: 422" 422

# ---- the TLS ask: only through the loopback site -----------------------------------------------------------
ask() { curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P_ASK$1" 2>/dev/null || echo 000; }
expect_eq "ask go.test: 200" "$(ask '/_hop/tls?domain=go.test')" 200
expect_eq "ask GO.TEST: 200" "$(ask '/_hop/tls?domain=GO.TEST')" 200
expect_eq "ask b.test (never added): 404" "$(ask '/_hop/tls?domain=b.test')" 404
expect_eq "ask 127.0.0.1: 404" "$(ask '/_hop/tls?domain=127.0.0.1')" 404
expect_eq "ask with no domain: 400" "$(ask '/_hop/tls')" 400
expect_eq "the ask site serves nothing else: /healthz 404" "$(ask /healthz)" 404
expect_eq "the ask site serves nothing else: /sale 404" "$(ask /sale)" 404
before=$(prod_count "$T/hop.log" 'msg=access .*path="/_hop/tls"')
for name in "$MAIN" go.test; do
  on "$name" GET '/_hop/tls?domain=go.test'
  expect_status "public $name/_hop/tls: 404 from Caddy" 404
done
if (($(prod_count "$T/hop.log" 'msg=access .*path="/_hop/tls"') == before)); then
  ok "/_hop/tls through the public sites never reached hop"
else
  fail "/_hop/tls through the public sites never reached hop" "hop logged it"
fi
if curl -sS -o /dev/null --max-time 10 --cacert "$CACERT" --resolve "b.test:$P_HTTPS:127.0.0.1" \
  "https://b.test:$P_HTTPS/healthz" 2>"$T/curl.err"; then
  fail "b.test (never added): no certificate" "the handshake succeeded"
else
  ok "b.test (never added): no certificate, the handshake fails"
fi

# ---- hostile Host headers through Caddy, on go.test's TLS connection ---------------------------------------
create go.test '{"url":"https://example.com/go-h","slug":"h","domain":"go.test"}'
create "$MAIN" '{"url":"https://example.com/idn","slug":"h","domain":"xn--bcher-kva.test"}'
sleep 0.2
deaths=$(worker_deaths)
# host_case NAME HOST WANT: GET /h with that Host (HTTP/1.1, so the header goes as given); WANT: a status,
# or "404|400" when either is sane (Go's own checks answer 400 before Caddy)
host_case() {
  local name=$1 host=$2 want=$3 hdr
  if [[ -z $host ]]; then hdr='Host;'; else hdr="Host: $host"; fi
  BASE=https://go.test:$P_HTTPS
  req GET /h --http1.1 --resolve "go.test:$P_HTTPS:127.0.0.1" -H "$hdr"
  if [[ $STATUS =~ ^($want)$ ]]; then
    ok "Host $name: $STATUS$( [[ $STATUS == 302 ]] && echo " $(header location)")"
  else
    fail "Host $name" "want $want; got $(_stack_last)"
  fi
  if [[ $STATUS == 302 && $(header location) != https://example.com/go-h ]]; then
    fail "Host $name: go.test's link" "location $(header location)"
  fi
}
host_case "empty" "" 404
host_case "of 300 bytes" "$(printf 'a%.0s' {1..300})" 404
host_case "go.test with a port" "go.test:1234" 302
host_case "go.test with a trailing dot" "go.test." 302
host_case "GO.TEST in upper case" "GO.TEST" 302
host_case "Go.Test:443 mixed case and a port" "Go.Test:443" 302
host_case "an IPv4 address" "127.0.0.1" 404
host_case "an IPv6 literal" "[::1]:$P_HTTPS" 404
host_case "a Unicode name: Go refuses a Host that is not ASCII" "bücher.test" 400
host_case "a name that is no domain" "evil.example" 404
host_case "two dots at the end" "go.test.." 404
host_case "a domain as a suffix" "xgo.test" 404
host_case "a domain as a prefix" "go.test.evil.example" 404
BASE=https://go.test:$P_HTTPS
req GET /h --http1.1 --resolve "go.test:$P_HTTPS:127.0.0.1" -H 'Host: xn--bcher-kva.test'
expect_eq "Host xn--bcher-kva.test: the IDN domain's own link" "$STATUS $(header location)" "302 https://example.com/idn"

# The same Hosts straight at hop's socket, byte for byte, as any web server in front might pass HTTP_HOST
# (Caddy refuses some of them itself): hop's own answer for each, with fcgi_socket.py's records.
stack_need_python test_domains.sh
fcgi_host() { # NAME HOST WANT ("STATUS LOCATION", or "STATUS" for no Location)
  local got
  got=$(FH_HOST=$2 FH_SOCK=$SOCK FH_DIR=$STACK_REPO/tests/hostile python3 -c '
import os, sys
sys.path.insert(0, os.environ["FH_DIR"])
import fcgi_socket as f
host = os.environb[b"FH_HOST"]
pairs = [(k, host if k == "HTTP_HOST" else v) for k, v in f.env("GET", "/h")]
o = f.talk(os.environ["FH_SOCK"], [(f.begin() + f.params(pairs) + f.stream(f.STDIN, b""), 0)])
loc = [l.split(b":", 1)[1].strip() for l in o.stdout().split(b"\r\n") if l.lower().startswith(b"location:")]
print(o.status(), *(x.decode() for x in loc))' 2>&1)
  expect_eq "HTTP_HOST $1 at the socket" "$got" "$3"
}
fcgi_host "empty" "" 404
fcgi_host "of 300 bytes" "$(printf 'a%.0s' {1..300})" 404
fcgi_host "of 254 bytes ending in go.test" "$(printf 'a%.0s' {1..246}).go.test" 404
fcgi_host "go.test with a port" "go.test:8443" "302 https://example.com/go-h"
fcgi_host "go.test with an empty port" "go.test:" "302 https://example.com/go-h"
fcgi_host "go.test with a trailing dot" "go.test." "302 https://example.com/go-h"
fcgi_host "go.test with a trailing dot and a port" "go.test.:443" "302 https://example.com/go-h"
fcgi_host "GO.TEST in upper case" "GO.TEST" "302 https://example.com/go-h"
fcgi_host "an IPv4 address" "127.0.0.1" 404
fcgi_host "an IPv4 address with a port" "127.0.0.1:$P_HTTPS" 404
fcgi_host "an IPv6 literal" "[::1]" 404
fcgi_host "a Unicode name in UTF-8" "bücher.test" 404
fcgi_host "the Unicode name of the IDN domain, in upper case" "BÜCHER.TEST" 404
fcgi_host "bytes that are no UTF-8" "$(printf 'go\xff\xfe.test')" 404
fcgi_host "a control character" "$(printf 'go.test\x01')" 404
fcgi_host "a dot alone" "." 404
fcgi_host "the IDN domain's A-label" "xn--bcher-kva.test" "302 https://example.com/idn"
expect_eq "hostile Hosts: no worker died" "$(worker_deaths)" "$deaths"
if grep -Eq 'status=5[0-9][0-9]' "$T/hop.log"; then
  fail "hostile Hosts: no 5xx from hop" "$(grep -Em 2 'status=5[0-9][0-9]' "$T/hop.log" | tr '\n' '|')"
else
  ok "hostile Hosts: no 5xx from hop"
fi

# ---- an unknown Host costs no query: with PostgreSQL stopped it is still a 404 ------------------------------
for i in 1 2 3 4 5 6; do on go.test GET /h >/dev/null; on evil.test GET /h >/dev/null 2>&1 || true; done
stack_pg_stop fast || prod_abort "could not stop PostgreSQL"
codes=""
for i in 1 2 3 4 5 6 7 8; do
  BASE=https://go.test:$P_HTTPS
  req GET /h --http1.1 --resolve "go.test:$P_HTTPS:127.0.0.1" -H 'Host: evil.example'
  codes+="$STATUS "
done
expect_eq "PostgreSQL down: an unknown Host is still a 404, 8 of 8" "$codes" "404 404 404 404 404 404 404 404 "
on go.test GET /never-seen-slug
expect_status "PostgreSQL down: a slug hop must look up is a 503 (the database is really down)" 503
stack_pg_start || prod_abort "could not start PostgreSQL again"
if poll_until 5000 bash -c "[[ \$(curl -sS -o /dev/null -w '%{http_code}' --cacert '$CACERT' --resolve 'go.test:$P_HTTPS:127.0.0.1' https://go.test:$P_HTTPS/h) == 302 ]]"; then
  ok "PostgreSQL back: go.test/h redirects again"
else
  fail "PostgreSQL back: go.test/h redirects again" "not within 5 s"
fi

# ---- hop domains remove ------------------------------------------------------------------------------------
hop_cli domains remove nope.test
expect_cli "remove: not a domain" 1 'nope.test is not a domain'
hop_cli domains remove go.test.
expect_cli "remove: a bad name is refused like add" 2 'must not end with a dot'
hop_cli domains remove acme.test --frobnicate
expect_cli "remove: an unknown option prints the usage" 2 'usage:'
hop_cli domains remove acme.test
expect_cli "remove: refused while links use it, says how many and how" 1 '^hop: 2 links use acme.test; .*--with-links'
on acme.test GET /only
expect_status "refused: acme.test/only still redirects" 302
hop_cli domains remove ACME.test --with-links
expect_cli "remove --with-links: says how many links it deleted" 0 '^removed acme.test and its 2 links$'
sleep 0.3
expect_eq "ask acme.test after its removal: 404" "$(ask '/_hop/tls?domain=acme.test')" 404
# its certificate stays in Caddy's cache (the ask is made before issuance only), but hop no longer answers
on acme.test GET /only
expect_status "acme.test removed: a request that still reaches hop is a 404" 404
expect_json "acme.test removed: the 404 says why" .detail "this address is not one of this service's domains"
on "$MAIN" GET '/api/links/only?domain=acme.test'
expect_status "acme.test removed: ?domain=acme.test is a 400" 400
expect_eq "acme.test removed: its links are gone from the database" "$(psql_q "SELECT count(*) FROM links WHERE url LIKE 'https://example.com/acme-only%'")" 0

hop_cli domains remove "$MAIN"
expect_cli "remove the default: refused while links use it" 1 "links use $MAIN"
hop_cli domains remove "$MAIN" --with-links
expect_cli "remove the default --with-links" 0 "^removed $MAIN and its [0-9]+ links?$"
expect_cli "remove the default: the oldest domain left becomes the default" 0 '^go.test is now the default domain$'
hop_cli domains list
expect_cli "list: go.test is the default now" 0 '^go.test +yes '
sleep 0.3
on go.test GET /api/links/h
expect_json "get without ?domain=: now go.test's" .url https://example.com/go-h
hop_cli domains remove go.test --with-links
hop_cli domains remove xn--bcher-kva.test --with-links
expect_cli "remove the last domain" 0 '^removed xn--bcher-kva.test'
hop_cli domains list
expect_cli "no domains left: one namespace on any name again" 0 '^\(none'
sleep 0.3
create "$MAIN" '{"url":"https://example.com/after","slug":"after"}'
expect_jeq "no domains left: a new link has no domain, HOP_BASE_URL's short_url" '[.domain, .short_url]' '[null,"https://HOP.Test/after"]'
expect_eq "no domains left: $MAIN/after redirects" "$(location_of "$MAIN" /after)" "302 https://example.com/after"
BASE=https://$MAIN:$P_HTTPS
req GET /after --http1.1 --resolve "$MAIN:$P_HTTPS:127.0.0.1" -H 'Host: anything.example'
expect_eq "no domains left: any Host answers" "$STATUS $(header location)" "302 https://example.com/after"

expect_eq "no worker died in the whole suite" "$(worker_deaths)" 0
prod_stop "$HOP_PID" TERM 15
if [[ $PROD_EXIT == 0 ]]; then ok "hop: SIGTERM: exit 0"; else fail "hop: SIGTERM: exit 0" "exit status $PROD_EXIT"; fi
prod_finish
