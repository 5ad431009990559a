#!/usr/bin/env bash
# Integration test over HTTPS through Caddy: create links, redirects, routing, problem JSON for bad input,
# request ids, and that no bad input kills a worker or leaves a row behind (the HTTP contract, API.md).
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

JSON=(-H 'Content-Type: application/json')
RID_RE='^x-request-id: [A-Za-z0-9._~:/+=-]{1,128}$'
creates=0

# Count a successful create.
created() {
  if [[ $STATUS == 201 ]]; then
    creates=$((creates + 1))
  fi
}

expect_rid() {
  expect_header "$1: has X-Request-Id" "$RID_RE"
}

# expect_problem NAME CODE: status CODE, problem JSON whose status field is CODE, with type/title/detail.
expect_problem() {
  local name=$1 code=$2
  expect_status "$name: status $code" "$code"
  expect_header "$name: problem content type" '^content-type: application/problem\+json'
  expect_json "$name: problem fields" \
    '(.type|type) == "string" and (.title|type) == "string" and (.detail|type) == "string" and .status == '"$code" true
  expect_rid "$name"
}

# bad NAME CODE BODY [FIELD] [curl args...]: POST BODY to /api/links, expect a CODE problem (and errors[0].field).
bad() {
  local name=$1 code=$2 body=$3 field=${4:-}
  shift 3
  (($# > 0)) && shift
  if (($# == 0)); then
    set -- "${JSON[@]}"
  fi
  req POST /api/links "$@" --data-binary "$body"
  created
  expect_problem "$name" "$code"
  if [[ -n $field ]]; then
    expect_json "$name: errors[0].field" '.errors[0].field' "$field"
  fi
}

stack_start
# the API needs a key; the API suite covers authentication itself
API_KEY=$(make_key skeleton)

# ---- health ---------------------------------------------------------------------------------------------
req GET /healthz
expect_status "healthz: 200" 200
expect_json "healthz: body" '.status' ok
expect_header "healthz: JSON" '^content-type: application/json'
expect_rid "healthz"

# ---- create with a generated slug ----------------------------------------------------------------------
url1='https://example.com/a?b=c&d=%7E'
req POST /api/links "${JSON[@]}" --data-binary "{\"url\":\"$url1\"}"
created
expect_status "create: 201" 201
slug1=$(jq -r '.slug // empty' <<<"$BODY" 2>/dev/null) || slug1=""
if [[ $slug1 =~ ^[A-Za-z0-9]{7}$ ]]; then
  ok "create: slug is 7 base62 characters"
else
  fail "create: slug is 7 base62 characters" "slug '$slug1'"
fi
expect_header_is "create: Location" location "/api/links/$slug1"
expect_header "create: JSON content type" '^content-type: application/json'
expect_json "create: fields" 'keys | sort | join(",")' \
  "bot_visits,created_at,disabled,domain,expired_url,expires_at,forward_query,imported_visits,max_visits,password_protected,redirect,short_url,slug,tags,targets,title,url,visits,visits_left"
expect_json "create: url as given" '.url' "$url1"
expect_json "create: redirect 302" '.redirect' 302
expect_json "create: short_url" '.short_url' "$BASE/$slug1"
expect_json "create: created_at RFC 3339 UTC" '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$")' true
expect_json "create: expires_at null" 'has("expires_at") and .expires_at == null' true
expect_json "create: disabled false" '.disabled' false
expect_json "create: visits 0" '.visits' 0
expect_rid "create"

# A charset parameter of utf-8 (any case) is fine.
req POST /api/links -H 'Content-Type: application/json; charset=UTF-8' --data-binary '{"url":"http://example.org"}'
created
expect_status "create: charset=UTF-8 accepted" 201

# ---- custom slugs --------------------------------------------------------------------------------------
req POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.org/custom","slug":"my-Link_1"}'
created
expect_status "custom slug: 201" 201
expect_json "custom slug: slug" '.slug' my-Link_1
expect_header_is "custom slug: Location" location /api/links/my-Link_1
expect_json "custom slug: short_url" '.short_url' "$BASE/my-Link_1"

req POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.org/other","slug":"my-Link_1"}'
created
expect_problem "custom slug taken" 409

req POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.net/abc","slug":"Abc"}'
created
expect_status "custom slug Abc: 201" 201

# ---- redirects -----------------------------------------------------------------------------------------
req GET "/$slug1"
expect_status "GET slug: 302" 302
expect_header_is "GET slug: exact Location" location "$url1"
expect_header_is "GET slug: Cache-Control" cache-control "private, max-age=0"
expect_rid "GET slug"

req HEAD "/$slug1"
expect_status "HEAD slug: 302" 302
expect_header_is "HEAD slug: exact Location" location "$url1"
expect_header_is "HEAD slug: Cache-Control" cache-control "private, max-age=0"
if [[ -z $BODY ]]; then ok "HEAD slug: empty body"; else fail "HEAD slug: empty body" "$(_stack_last)"; fi

req GET /my-Link_1
expect_status "GET custom slug: 302" 302
expect_header_is "GET custom slug: Location" location https://example.org/custom

req GET /%41bc
expect_status "GET /%41bc: 302 (percent-decoded to Abc)" 302
expect_header_is "GET /%41bc: Location" location https://example.net/abc

req GET /abc
expect_problem "GET /abc (slugs are case-sensitive)" 404

# ---- unknown slug, methods -----------------------------------------------------------------------------
req GET /nosuchslug
expect_problem "unknown slug" 404
expect_header_is "unknown slug: Cache-Control" cache-control "private, max-age=0"

req HEAD /nosuchslug
expect_status "HEAD unknown slug: 404" 404

# POST /{slug} is a protected link's password form: a link without a password is a 405, no link a 404
req POST "/$slug1"
expect_problem "POST slug without a password" 405
expect_header_is "POST slug without a password: Allow" allow "GET, HEAD"

# POST /{slug} is the password form: an unknown slug is a 404 like GET
req POST /nosuchslug
expect_problem "POST unknown slug" 404

req PUT /nosuchslug
expect_problem "PUT unknown slug" 405
expect_header_is "PUT unknown slug: Allow" allow "GET, HEAD, POST"

req DELETE /healthz
expect_status "DELETE /healthz: 405" 405
expect_header_is "DELETE /healthz: Allow" allow "GET, HEAD"

# ---- request ids ---------------------------------------------------------------------------------------
# one the worker makes: its random prefix, then its count in hex without leading zeros, one more each request
# (every worker of the pool keeps its own count, so two requests are compared only by their form)
for i in 1 2; do
  req GET /healthz
  rid=$(header x-request-id)
  if [[ $rid =~ ^[0-9a-f]{8}-[1-9a-f][0-9a-f]{0,15}$ ]]; then
    ok "request id $i: made as PREFIX-COUNT"
  else
    fail "request id $i: made as PREFIX-COUNT" "x-request-id '$rid'"
  fi
done

own='abc-123._~:/+=XYZ'
req GET /healthz -H "X-Request-Id: $own"
expect_header_is "request id: own one echoed" x-request-id "$own"

req GET /healthz -H 'X-Request-Id: bad id!<x>'
rid=$(header x-request-id)
if [[ $rid =~ ^[A-Za-z0-9._~:/+=-]{1,128}$ && $rid != 'bad id!<x>' ]]; then
  ok "request id: bad one replaced"
else
  fail "request id: bad one replaced" "x-request-id '$rid'"
fi

req GET /healthz -H "X-Request-Id: $(printf 'r%.0s' {1..129})"
rid=$(header x-request-id)
if [[ $rid =~ ^[A-Za-z0-9._~:/+=-]{1,128}$ ]]; then
  ok "request id: 129 characters replaced"
else
  fail "request id: 129 characters replaced" "x-request-id '$rid'"
fi

# Answers Caddy gives by itself, hop never seeing the request, carry a problem body and an id too
# (caddy/Caddyfile.dev's handle_errors): the FastCGI transport refuses a path with %00 (an empty 400 without
# it), and a socket Caddy cannot dial is a 502 (the socket moved aside for a moment; hop keeps listening).
before=$(grep -c 'msg=access' "$T/hop.log" || true)
req GET '/a%00b'
expect_problem "a path with %00, refused by Caddy" 400
req HEAD '/a%00b'
expect_status "HEAD a path with %00: status 400" 400
expect_rid "HEAD a path with %00"
if [[ $(grep -c 'msg=access' "$T/hop.log" || true) == "$before" ]]; then
  ok "a path with %00 never reached hop"
else
  fail "a path with %00 never reached hop" "hop logged $(grep 'msg=access' "$T/hop.log" | tail -n 1)"
fi
mv "$T/hop.sock" "$T/hop.sock.away"
req GET /healthz
mv "$T/hop.sock.away" "$T/hop.sock"
expect_problem "hop's socket gone: 502 from Caddy" 502
req GET /healthz
expect_status "the socket back: /healthz 200 again" 200

# ---- bad input -----------------------------------------------------------------------------------------
bad "malformed JSON" 400 '{"url": "https://example.com"'
bad "JSON array, not an object" 400 '["https://example.com"]'
bad "JSON string, not an object" 400 '"https://example.com"'
bad "duplicate key" 400 '{"url":"https://a.example.com","url":"https://b.example.com"}'
bad "nested 40 deep" 400 "{\"url\":\"https://example.com\",\"x\":$(printf '[%.0s' {1..40})$(printf ']%.0s' {1..40})}"
bad "invalid UTF-8" 400 $'{"url":"https://example.com/\xff"}'
bad "content type text/plain" 415 '{"url":"https://example.com"}' "" -H 'Content-Type: text/plain'
bad "charset=latin1" 415 '{"url":"https://example.com"}' "" -H 'Content-Type: application/json; charset=latin1'

big=$T/big.json
prefix='{"url":"https://example.com/?q='
{
  printf '%s' "$prefix"
  head -c $((70000 - ${#prefix} - 2)) /dev/zero | tr '\0' a
  printf '"}'
} >"$big"
req POST /api/links "${JSON[@]}" --data-binary "@$big"
created
expect_problem "oversize body ($(wc -c <"$big") bytes)" 413

bad "slug with a space" 422 '{"url":"https://example.com","slug":"a b"}' slug
bad "slug with a dot" 422 '{"url":"https://example.com","slug":"a.b"}' slug
bad "slug of 65 characters" 422 "{\"url\":\"https://example.com\",\"slug\":\"$(printf 'x%.0s' {1..65})\"}" slug
bad "empty slug" 422 '{"url":"https://example.com","slug":""}' slug
for reserved in api healthz metrics static _x; do
  bad "reserved slug $reserved" 422 "{\"url\":\"https://example.com\",\"slug\":\"$reserved\"}" slug
done
bad "javascript: URL" 422 '{"url":"javascript:alert(1)"}' url
bad "relative URL" 422 '{"url":"/just/a/path"}' url
bad "URL with a space" 422 '{"url":"https://example.com/a b"}' url
bad "URL with NUL" 422 '{"url":"https://example.com/\u0000"}' url
bad "url missing" 422 '{"slug":"nourl"}' url
bad "unknown field" 422 '{"url":"https://example.com","colour":"red"}'
bad "url not a string" 422 '{"url":42}' url

# ---- nothing broke -------------------------------------------------------------------------------------
deaths=$(worker_deaths)
if [[ $deaths == 0 ]]; then ok "no worker died"; else fail "no worker died" "$deaths worker deaths in hop.log"; fi

req GET "/$slug1"
expect_status "after bad input: generated slug still redirects" 302
req GET /my-Link_1
expect_status "after bad input: custom slug still redirects" 302

rows=$(psql_q 'SELECT count(*) FROM links' 2>&1) || true
if [[ $rows == "$creates" ]]; then
  ok "links rows = successful creates ($creates)"
else
  fail "links rows = successful creates ($creates)" "SELECT count(*) FROM links: $rows"
fi

finish
