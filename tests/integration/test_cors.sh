#!/usr/bin/env bash
# CORS for the origins the operator lists (HOP_CORS_ORIGINS), through Caddy over HTTPS: a browser's preflight
# answered before authentication with only the path's methods and the headers the API reads, the listed origin
# echoed (with Vary: Origin) on every /api answer, 401s included, nothing for other origins or for the
# redirects, no credentials ever, "*" answered as "*", and none of it when no origin is listed (the default).
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

export HOP_WORKERS=2
export HOP_CORS_ORIGINS="https://app.example, http://localhost:3000"
stack_start
KEY=$(make_key cors)
API_KEY=$KEY req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/c","slug":"c1"}'
expect_status "a link" 201

# preflight PATH METHOD ORIGIN: the browser's OPTIONS, without a key
preflight() {
  req OPTIONS "$1" -H "Origin: $3" -H "Access-Control-Request-Method: $2" \
    -H 'Access-Control-Request-Headers: authorization, content-type'
}

no_credentials() {
  if [[ -n $(header Access-Control-Allow-Credentials) ]]; then
    fail "$1: never Access-Control-Allow-Credentials" "$(header Access-Control-Allow-Credentials)"
  else
    ok "$1: never Access-Control-Allow-Credentials"
  fi
}

preflight /api/links POST https://app.example
expect_status "preflight POST /api/links from a listed origin: 204 before authentication" 204
expect_header_is "preflight: the origin echoed" Access-Control-Allow-Origin https://app.example
expect_header_is "preflight: only the path's methods" Access-Control-Allow-Methods "POST, GET, HEAD"
expect_header_is "preflight: only the headers the API reads" Access-Control-Allow-Headers "Authorization, Content-Type, X-Request-Id"
expect_header "preflight: Vary names Origin" '^vary: .*Origin'
expect_header "preflight: cached by the browser for a while" '^access-control-max-age: 600$'
expect_header "preflight: X-Request-Id as on every answer" '^x-request-id: .+'
no_credentials "preflight"
preflight /api/links/c1 DELETE http://localhost:3000
expect_status "preflight DELETE /api/links/{slug} from the second origin: 204" 204
expect_header_is "preflight: the link's methods" Access-Control-Allow-Methods "GET, HEAD, PATCH, DELETE"
expect_header_is "preflight: the second origin echoed" Access-Control-Allow-Origin http://localhost:3000
preflight /api/links POST https://evil.example
expect_status "preflight from an origin not listed: 403" 403
expect_eq "preflight from an origin not listed: no Allow-Origin" "$(header Access-Control-Allow-Origin)" ""
expect_json "preflight from an origin not listed: a problem that says why" '.detail | test("HOP_CORS_ORIGINS")' true
preflight /api/links POST https://app.example.evil
expect_status "an origin that only starts like a listed one: 403" 403
preflight /api/nothing GET https://app.example
expect_status "preflight to a path that does not exist: 404" 404
req OPTIONS /api/links
expect_status "OPTIONS that is no preflight still needs a key (401)" 401
API_KEY=$KEY req OPTIONS /api/links
expect_status "OPTIONS with a key: 405 with Allow" 405

API_KEY=$KEY req GET /api/links/c1 -H 'Origin: https://app.example'
expect_status "GET with a key from a listed origin" 200
expect_header_is "the answer carries the origin" Access-Control-Allow-Origin https://app.example
expect_header "and Vary: Origin" '^vary: Origin$'
expect_header "and the headers a page may read" '^access-control-expose-headers: Location, Retry-After, X-Request-Id$'
no_credentials "an answer"
req GET /api/links -H 'Origin: https://app.example'
expect_status "a 401 to a listed origin" 401
expect_header_is "a 401 carries the origin too, so the page can read why" Access-Control-Allow-Origin https://app.example
API_KEY=$KEY req GET /api/links -H 'Origin: https://evil.example'
expect_status "an origin not listed: the API answers as ever (the browser hides it)" 200
expect_eq "an origin not listed: no Allow-Origin" "$(header Access-Control-Allow-Origin)" ""
expect_header "an origin not listed: Vary: Origin all the same" '^vary: Origin$'
req GET /c1 -H 'Origin: https://app.example'
expect_status "a redirect" 302
expect_eq "a redirect carries no CORS header" "$(header Access-Control-Allow-Origin)" ""

# "*": any origin, answered with "*" and never with credentials
stack_pool_stop
HOP_CORS_ORIGINS='*' stack_pool_start
preflight /api/links POST https://anywhere.example
expect_status "HOP_CORS_ORIGINS=*: preflight 204" 204
expect_header_is "HOP_CORS_ORIGINS=*: Allow-Origin *" Access-Control-Allow-Origin '*'
no_credentials "HOP_CORS_ORIGINS=*"

# none listed (the default): no CORS at all, and a preflight is refused before authentication
stack_pool_stop
HOP_CORS_ORIGINS='' stack_pool_start
preflight /api/links POST https://app.example
expect_status "no origins listed: a preflight is a 403" 403
API_KEY=$KEY req GET /api/links -H 'Origin: https://app.example'
expect_eq "no origins listed: no CORS header, no Vary" "$(header Access-Control-Allow-Origin)$(header Vary)" ""

for bad in "https://app.example/" "app.example" "https://APP.example" "https://a.example/path" "ftp://a.example"; do
  rc=0
  out=$(HOP_CORS_ORIGINS=$bad "$HOP_BIN" serve --check 2>&1) || rc=$?
  if [[ $rc == 2 && $out == *HOP_CORS_ORIGINS* ]]; then
    ok "HOP_CORS_ORIGINS=$bad is refused with the reason"
  else
    fail "HOP_CORS_ORIGINS=$bad is refused with the reason" "exit $rc: $out"
  fi
done
finish
