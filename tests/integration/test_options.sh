#!/usr/bin/env bash
# Integration test of the link options (issue 11) over HTTPS through Caddy against a real PostgreSQL: each new
# field on create, PATCH and read, each bad value a 422 naming its field, the password form and its guessing
# limit, the visit limit, query forwarding, app-store targets, reuse, expired_url, the HTML pages and robots.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

JSON=(-H 'Content-Type: application/json')
FORM=(-H 'Content-Type: application/x-www-form-urlencoded')
BROWSER=(-H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')
IPHONE='Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'
IPAD='Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'
ANDROID='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36'
DESKTOP='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'
FIVEXX=()

# r METHOD PATH [curl args...]: req, noting any 5xx or failed request.
r() {
  req "$@"
  if [[ $STATUS == 5* || $STATUS == 000 ]]; then
    FIVEXX+=("$1 $2 -> $STATUS")
  fi
}

# create NAME BODY: POST /api/links, expecting 201.
create() {
  r POST /api/links "${JSON[@]}" --data-binary "$2"
  expect_status "$1" 201
}

# bad NAME METHOD PATH BODY FIELD: a 422 whose errors name FIELD.
bad() {
  local name=$1 method=$2 path=$3 body=$4 field=$5
  r "$method" "$path" "${JSON[@]}" --data-binary "$body"
  if [[ $STATUS == 422 ]] && jq -e --arg f "$field" 'any(.errors[]; .field == $f)' <<<"$BODY" >/dev/null 2>&1; then
    ok "$name: 422 naming $field"
  else
    fail "$name: 422 naming $field" "$(_stack_last)"
  fi
}

# answers PATH WANT [curl args...]: GET PATH answers "STATUS LOCATION" exactly WANT (true/false, no test).
answers() {
  local path=$1 want=$2
  shift 2
  r GET "$path" "$@"
  [[ "$STATUS $(header Location)" == "$want" ]]
}

# follows NAME PATH WANT [curl args...]: within 1 s (a PATCH reaches every worker's cache), answers WANT.
follows() {
  local name=$1
  shift
  if poll_until 1000 answers "$@"; then
    ok "$name: '$2'"
  else
    fail "$name: '$2'" "got '$STATUS $(header Location)'; $(_stack_last)"
  fi
}

# stats_total_is SLUG N: today's visits of SLUG, humans and bots (curl is a bot), are N.
stats_total_is() {
  r GET "/api/links/$1/stats?days=1"
  [[ $(jq -r '.total + .bot_total' <<<"$BODY") == "$2" ]]
}

# no_external NAME: the HTML in BODY names no http(s) resource in src or href.
no_external() {
  if grep -Eiq '(src|href|action)[[:space:]]*=[[:space:]]*"?[[:space:]]*(https?:)?//' <<<"$BODY"; then
    fail "$1: no external resource" "$(grep -Eio '(src|href|action)=[^ >]*' <<<"$BODY" | head -3)"
  else
    ok "$1: no external resource"
  fi
}

# strict_page NAME STATUS: the last answer is an HTML page with STATUS and the strict headers.
strict_page() {
  local name=$1 want=$2 csp
  expect_status "$name: status" "$want"
  expect_header "$name: text/html" '^content-type: text/html'
  csp=$(header Content-Security-Policy)
  if [[ $csp == *"default-src 'none'"* && $csp != *unsafe-inline* && $csp != *unsafe-eval* ]]; then
    ok "$name: strict CSP without 'unsafe-inline'"
  else
    fail "$name: strict CSP without 'unsafe-inline'" "CSP '$csp'"
  fi
  expect_header_is "$name: Cache-Control" Cache-Control no-store
  expect_header_is "$name: X-Robots-Tag" X-Robots-Tag noindex
  no_external "$name"
}

stack_start
API_KEY=$(make_key options)

# ---- each field on create, read and PATCH ---------------------------------------------------------------
create "create with every option" '{"url":"https://example.com/all","slug":"all","password":"correct horse",
  "max_visits":5,"forward_query":true,"targets":{"ios":"https://apps.apple.com/app/id1","android":"https://play.google.com/store/apps/details?id=x"},
  "tags":["Zeta","alpha","mid-1_x"],"title":"Überschrift – ünïcode ✓","expired_url":"https://example.com/gone"}'
expect_jeq "create: the answer carries every option" \
  '{p: .password_protected, m: .max_visits, l: .visits_left, f: .forward_query, t: .targets, g: .tags, ti: .title, e: .expired_url}' \
  '{"p":true,"m":5,"l":5,"f":true,"t":{"ios":"https://apps.apple.com/app/id1","android":"https://play.google.com/store/apps/details?id=x"},"g":["alpha","mid-1_x","zeta"],"ti":"Überschrift – ünïcode ✓","e":"https://example.com/gone"}'
expect_jeq "create: neither password nor its hash is answered" '[paths | map(tostring) | join(".") | select(test("password") and . != "password_protected")]' '[]'
r GET /api/links/all
expect_jeq "read: every option as created" '{p: .password_protected, m: .max_visits, l: .visits_left, f: .forward_query, g: .tags, e: .expired_url}' \
  '{"p":true,"m":5,"l":5,"f":true,"g":["alpha","mid-1_x","zeta"],"e":"https://example.com/gone"}'
expect_eq "read: no hash anywhere in the body" "$(grep -c 'argon2' <<<"$BODY" || true)" 0

create "create a plain link" '{"url":"https://example.com/plain","slug":"plain"}'
expect_jeq "plain: defaults" '{p: .password_protected, m: .max_visits, l: .visits_left, f: .forward_query, t: .targets, g: .tags, ti: .title, e: .expired_url}' \
  '{"p":false,"m":null,"l":null,"f":false,"t":{},"g":[],"ti":null,"e":null}'

r PATCH /api/links/all "${JSON[@]}" --data-binary '{"tags":["b"],"targets":{"android":"https://example.com/droid"}}'
expect_status "PATCH tags and targets" 200
expect_jeq "PATCH replaces tags and targets whole" '{g: .tags, t: .targets}' '{"g":["b"],"t":{"android":"https://example.com/droid"}}'
r PATCH /api/links/all "${JSON[@]}" --data-binary '{"max_visits":null,"targets":null,"title":null,"expired_url":null,"tags":[],"forward_query":false}'
expect_status "PATCH nulls" 200
expect_jeq "PATCH null clears each field" '{m: .max_visits, l: .visits_left, t: .targets, ti: .title, e: .expired_url, g: .tags, f: .forward_query, p: .password_protected}' \
  '{"m":null,"l":null,"t":{},"ti":null,"e":null,"g":[],"f":false,"p":true}'
r GET /api/links/all
expect_jeq "read after PATCH agrees" '{m: .max_visits, t: .targets, ti: .title, g: .tags, p: .password_protected}' '{"m":null,"t":{},"ti":null,"g":[],"p":true}'

# ---- bad values: a 422 naming the field -----------------------------------------------------------------
C=/api/links
bad "password too short" POST $C '{"url":"https://example.com/","password":"short"}' password
bad "password of 129 characters" POST $C "{\"url\":\"https://example.com/\",\"password\":\"$(printf 'p%.0s' {1..129})\"}" password
bad "password with a NUL (\\u0000)" POST $C '{"url":"https://example.com/","password":"abcd\u0000efgh"}' password
bad "password with a NUL after 8 characters" POST $C '{"url":"https://example.com/","password":"abcdefgh\u0000tail"}' password
bad "password a number" POST $C '{"url":"https://example.com/","password":12345678}' password
bad "max_visits 0" POST $C '{"url":"https://example.com/","max_visits":0}' max_visits
bad "max_visits -1" POST $C '{"url":"https://example.com/","max_visits":-1}' max_visits
bad "max_visits 2^63" POST $C '{"url":"https://example.com/","max_visits":9223372036854775808}' max_visits
bad "max_visits a string" POST $C '{"url":"https://example.com/","max_visits":"10"}' max_visits
bad "max_visits 1.5" POST $C '{"url":"https://example.com/","max_visits":1.5}' max_visits
bad "forward_query a string" POST $C '{"url":"https://example.com/","forward_query":"yes"}' forward_query
bad "targets.ios javascript:" POST $C '{"url":"https://example.com/","targets":{"ios":"javascript:alert(1)"}}' targets.ios
bad "targets.android javascript:" POST $C '{"url":"https://example.com/","targets":{"android":"JavaScript:alert(1)"}}' targets.android
bad "targets with another key" POST $C '{"url":"https://example.com/","targets":{"windows":"https://example.com/"}}' targets
bad "targets an array" POST $C '{"url":"https://example.com/","targets":["https://example.com/"]}' targets
bad "tags not an array" POST $C '{"url":"https://example.com/","tags":"a"}' tags
bad "11 tags" POST $C '{"url":"https://example.com/","tags":["a","b","c","d","e","f","g","h","i","j","k"]}' tags
bad "a tag of 33 characters" POST $C "{\"url\":\"https://example.com/\",\"tags\":[\"$(printf 't%.0s' {1..33})\"]}" tags
bad "an empty tag" POST $C '{"url":"https://example.com/","tags":[""]}' tags
bad "a tag with a space" POST $C '{"url":"https://example.com/","tags":["a b"]}' tags
bad "tags twice after folding" POST $C '{"url":"https://example.com/","tags":["Dup","dup"]}' tags
r POST $C "${JSON[@]}" --data-binary '{"url":"https://example.com/","tags":["ok","pаypal"]}'
if [[ $STATUS == 422 ]] && jq -e 'any(.errors[]; .field == "tags" and (.detail | contains("pаypal")))' <<<"$BODY" >/dev/null; then
  ok "a tag with a Cyrillic а: 422 naming the tag"
else
  fail "a tag with a Cyrillic а: 422 naming the tag" "$(_stack_last)"
fi
bad "title of 201 characters" POST $C "{\"url\":\"https://example.com/\",\"title\":\"$(printf 'x%.0s' {1..201})\"}" title
bad "title with a control character" POST $C '{"url":"https://example.com/","title":"a\u0007b"}' title
bad "title with a C1 control" POST $C '{"url":"https://example.com/","title":"a\u0085b"}' title
bad "expired_url ftp:" POST $C '{"url":"https://example.com/","expired_url":"ftp://example.com/"}' expired_url
bad "reuse a string" POST $C '{"url":"https://example.com/","reuse":"true"}' reuse
bad "reuse on PATCH" PATCH $C/plain '{"reuse":true}' reuse
bad "PATCH max_visits 0" PATCH $C/plain '{"max_visits":0}' max_visits
bad "PATCH password too short" PATCH $C/plain '{"password":"1234567"}' password
r POST $C "${JSON[@]}" --data-binary '{"url":"https://example.com/","max_visits":0,"tags":"x","title":7}'
expect_jeq "several bad fields: each named once" '[.errors[].field] | sort' '["max_visits","tags","title"]'
r POST $C "${JSON[@]}" --data-binary '{"url":"https://example.com/","title":"exactly fine","tags":["UP","down"]}'
expect_status "title and upper-case tags" 201
expect_jeq "tags folded and sorted" .tags '["down","up"]'

# ---- the password form ----------------------------------------------------------------------------------
create "create a protected link" '{"url":"https://example.com/secret","slug":"pw","password":"open sesame!"}'
r GET /pw "${BROWSER[@]}"
strict_page "GET protected" 200
if grep -q '<label for="password"' <<<"$BODY" && grep -q 'id="password"' <<<"$BODY"; then
  ok "the form's input is labelled"
else
  fail "the form's input is labelled" "$BODY"
fi
r GET /pw
expect_status "GET protected without a browser Accept: still the form" 200
r HEAD /pw
expect_status "HEAD protected" 200

r POST /pw "${FORM[@]}" -H 'Accept: application/json' --data-binary 'password=wrong+one'
expect_status "wrong password (a program): 401" 401
expect_header "wrong password (a program): problem JSON" '^content-type: application/problem\+json'
expect_header "wrong password (a program): a challenge, as HTTP asks of a 401" '^www-authenticate: Form realm="short link"'
r POST /pw "${FORM[@]}" "${BROWSER[@]}" --data-binary 'password=wrong+two'
strict_page "wrong password (a browser)" 401
if grep -q 'role="alert"' <<<"$BODY" && grep -qi 'not right' <<<"$BODY"; then
  ok "wrong password (a browser): the form again with a message"
else
  fail "wrong password (a browser): the form again with a message" "$BODY"
fi
r POST /pw "${FORM[@]}" --data-binary 'password=open+sesame%00!'
expect_status "a password with %00 is wrong" 401
r POST /pw "${FORM[@]}" --data-binary 'password=open+sesame!%00'
expect_status "the right password with %00 after it is wrong" 401
r POST /pw "${FORM[@]}" --data-binary 'password=open+sesame%21&password=x'
expect_status "the right password (the first field counts): 303" 303
expect_header_is "the right password: Location the target" Location https://example.com/secret
expect_header_is "the right password: X-Robots-Tag" X-Robots-Tag noindex
if poll_until 3000 stats_total_is pw 1; then
  ok "one right password: exactly one visit in stats"
else
  fail "one right password: exactly one visit in stats" "$(_stack_last)"
fi
r POST /nosuchslug "${FORM[@]}" --data-binary 'password=open+sesame%21'
expect_status "POST to an unknown slug (a program): 404" 404
r POST /nosuchslug "${FORM[@]}" "${BROWSER[@]}" --data-binary 'password=whatever1'
expect_status "POST to an unknown slug (a browser): 404" 404
r POST /pw --data-binary "password=$(head -c 10240 /dev/zero | tr '\0' a)" "${FORM[@]}"
expect_status "a 10 KiB form body: 413" 413
# a POST without a content type: Caddy's FastCGI transport passes CONTENT_TYPE
# application/x-www-form-urlencoded when the client sent none, so hop reads it as the form it most likely is
# (hop alone answers 415 to a missing CONTENT_TYPE: tests/hostile covers that on the socket)
r POST /pw -H 'Content-Type:' --data-binary 'password=not+it+at+all'
expect_status "a form POST without a content type, wrong password: 401" 401
r POST /pw -H 'Content-Type:' --data-binary 'password=open+sesame%21'
expect_status "a form POST without a content type, right password: 303" 303
r POST /pw -H 'Content-Type: application/json' --data-binary '{"password":"open sesame!"}'
expect_status "a JSON POST: 415" 415
r POST /pw "${FORM[@]}" --data-binary ''
expect_status "an empty form: 401" 401
r POST /pw "${FORM[@]}" --data-binary 'password=%zz'
expect_status "a badly escaped form: 401" 401
r POST /plain "${FORM[@]}" --data-binary 'password=whatever1'
expect_status "POST to a link without a password: 405" 405
expect_header_is "405: Allow" Allow "GET, HEAD"

# guessing: the 10 wrong attempts of the window, the 11th refused, then the right one refused too (the lock is
# per link and client address: every request of this suite comes from 127.0.0.1)
create "create a link to guess" '{"url":"https://example.com/guess","slug":"guess","password":"the right one"}'
for i in 1 2 3 4 5 6 7 8 9 10; do
  r POST /guess "${FORM[@]}" --data-binary "password=wrong$i-wrong"
  [[ $STATUS == 401 ]] || fail "wrong attempt $i: 401" "$(_stack_last)"
done
ok "10 wrong attempts: 401 each"
r POST /guess "${FORM[@]}" --data-binary 'password=wrong11-wrong'
expect_status "the 11th wrong attempt: 429" 429
retry=$(header Retry-After)
if [[ $retry =~ ^[0-9]+$ ]] && ((retry > 0 && retry <= 600)); then
  ok "429: Retry-After $retry s"
else
  fail "429: Retry-After within 600 s" "'$retry'"
fi
r POST /guess "${FORM[@]}" --data-binary 'password=the+right+one'
expect_status "the right password while locked: 429" 429
r POST /guess "${FORM[@]}" "${BROWSER[@]}" --data-binary 'password=the+right+one'
strict_page "429 for a browser" 429
r POST /pw "${FORM[@]}" --data-binary 'password=open+sesame%21'
expect_status "another link is not locked" 303

# one check at a time per address: 8 wrong passwords at once from one client hold one worker; the others are
# told to retry in a second (429) without hashing, and the right password still works afterwards
create "create a link to post at once" '{"url":"https://example.com/conc","slug":"conc","password":"the right one"}'
posters=()
for i in 1 2 3 4 5 6 7 8; do
  curl -sS --cacert "$CACERT" --max-time 20 -o /dev/null -w '%{http_code} %header{retry-after}\n' "${FORM[@]}" \
    --data-binary "password=wrong-at-once-$i" "$BASE/conc" >"$T/conc.$i" 2>>"$T/conc.err" &
  posters+=($!)
done
wait "${posters[@]}" || true
conc=$(cat "$T"/conc.* | sort | uniq -c | tr -s ' ' | paste -sd, -)
if ! grep -qv -e '^401 $' -e '^429 1$' "$T"/conc.* && grep -q '^401 $' "$T"/conc.* && grep -q '^429 1$' "$T"/conc.*; then
  ok "8 wrong passwords at once: 401 or 429 with Retry-After 1, some of each ($conc)"
else
  fail "8 wrong passwords at once: 401 or 429 with Retry-After 1, some of each" "$conc"
fi
r POST /conc "${FORM[@]}" --data-binary 'password=the+right+one'
expect_status "then the right password: 303" 303

# a protected link PATCHed to no password redirects on GET
r PATCH /api/links/pw "${JSON[@]}" --data-binary '{"password":null}'
expect_jeq "PATCH password null" .password_protected false
follows "GET after the password is cleared" /pw "302 https://example.com/secret"
r POST /pw "${FORM[@]}" --data-binary 'password=open+sesame%21'
expect_status "POST after the password is cleared: 405" 405
r PATCH /api/links/pw "${JSON[@]}" --data-binary '{"password":"a new one!"}'
expect_jeq "PATCH a new password" .password_protected true
follows "GET after a new password: the form" /pw "200 "

# ---- visit limit ----------------------------------------------------------------------------------------
create "create a link with max_visits 3" '{"url":"https://example.com/three","slug":"three","max_visits":3}'
r HEAD /three -A "$DESKTOP"
expect_status "HEAD of a limited link" 302
r HEAD /three -A "$DESKTOP"
r HEAD /three
codes=""
for i in 1 2 3; do
  r GET /three
  codes+="$STATUS "
done
expect_eq "a bot's GETs (curl's User-Agent) are redirected" "$codes" "302 302 302 "
codes=""
for i in 1 2 3 4; do
  r GET /three -A "$DESKTOP"
  codes+="$STATUS "
done
expect_eq "exactly 3 redirects for a person, then 410 (HEADs and bots used none)" "$codes" "302 302 302 410 "
expect_header "410: problem JSON" '^content-type: application/problem\+json'
expect_json "410: says why" .detail "this link has been visited as many times as its owner allowed"
r GET /three "${BROWSER[@]}" -A "$DESKTOP"
strict_page "410 used up, for a browser" 410
r HEAD /three
expect_status "HEAD of a used-up link: 410" 410
r GET /three
expect_status "a bot's GET of a used-up link: 410" 410
r GET /api/links/three
expect_json "visits_left 0" .visits_left 0
r PATCH /api/links/three "${JSON[@]}" --data-binary '{"max_visits":4}'
expect_json "PATCH max_visits 4: one left" .visits_left 1
follows "raising max_visits reopens" /three "302 https://example.com/three" -A "$DESKTOP"
r GET /three -A "$DESKTOP"
expect_status "then used up again" 410
r PATCH /api/links/three "${JSON[@]}" --data-binary '{"max_visits":null}'
follows "no limit: redirects again" /three "302 https://example.com/three"

# expired_url: 302 there, no visit, for used-up, disabled and expired links
create "create used-up with expired_url" '{"url":"https://example.com/one","slug":"once","max_visits":1,"expired_url":"https://example.com/sorry"}'
r GET /once -A "$DESKTOP"
expect_status "once: the one visit" 302
r GET /once
expect_eq "once used up: 302 to expired_url" "$STATUS $(header Location)" "302 https://example.com/sorry"
expect_header_is "the 302 to expired_url: X-Robots-Tag" X-Robots-Tag noindex
r PATCH /api/links/plain "${JSON[@]}" --data-binary '{"disabled":true,"expired_url":"https://example.com/off"}'
follows "disabled with expired_url" /plain "302 https://example.com/off"
r PATCH /api/links/plain "${JSON[@]}" --data-binary '{"expired_url":null}'
follows "disabled without expired_url: 410" /plain "410 "
r GET /plain "${BROWSER[@]}"
strict_page "410 disabled, for a browser" 410
create "create one that expires soon" "{\"url\":\"https://example.com/soon\",\"slug\":\"soon\",\"expires_at\":\"$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)\",\"expired_url\":\"https://example.com/late\"}"
sleep 2.2
follows "expired with expired_url" /soon "302 https://example.com/late"
expect_eq "expired_url answers of soon and plain: no visit recorded" "$(psql_q "SELECT count(*) FROM visit_counts v JOIN links l ON l.id = v.link_id WHERE l.slug IN ('soon','plain')")" 0
if poll_until 3000 stats_total_is once 1; then
  ok "once: only the real visit counted, not the expired_url ones"
else
  fail "once: only the real visit counted" "$(_stack_last)"
fi

# ---- forward_query --------------------------------------------------------------------------------------
create "fq: a target without a query" '{"url":"https://example.com/a","slug":"fqa","forward_query":true}'
create "fq: a target with a query and a fragment" '{"url":"https://example.com/b?x=1#frag","slug":"fqb","forward_query":true}'
create "fq: a target with a fragment" '{"url":"https://example.com/c#top","slug":"fqc","forward_query":true}'
create "fq: off" '{"url":"https://example.com/d?k=v","slug":"fqd"}'
answers "/fqa?utm_source=news&x=%41+b" x || true
expect_eq "fq: appended as sent" "$STATUS $(header Location)" "302 https://example.com/a?utm_source=news&x=%41+b"
answers "/fqb?y=2" x || true
expect_eq "fq: after the target's own, before the fragment" "$STATUS $(header Location)" "302 https://example.com/b?x=1&y=2#frag"
answers "/fqc?y=2" x || true
expect_eq "fq: before the fragment" "$STATUS $(header Location)" "302 https://example.com/c?y=2#top"
answers "/fqa?" x || true
expect_eq "fq: an empty visitor query" "$STATUS $(header Location)" "302 https://example.com/a"
answers "/fqa" x || true
expect_eq "fq: no visitor query" "$STATUS $(header Location)" "302 https://example.com/a"
answers "/fqd?y=2" x || true
expect_eq "fq off: the visitor's query ignored" "$STATUS $(header Location)" "302 https://example.com/d?k=v"
long=$(head -c 8300 /dev/zero | tr '\0' q)
r GET "/fqa?q=$long"
expect_status "fq: past 8 KiB: 414" 414
expect_header "414: problem JSON" '^content-type: application/problem\+json'
r GET "/fqa?q=$long" "${BROWSER[@]}"
strict_page "414 for a browser" 414
r GET "/fqd?q=$long"
expect_status "fq off: a long query is ignored" 302

# ---- targets --------------------------------------------------------------------------------------------
create "create with app-store targets" '{"url":"https://example.com/web","slug":"app","targets":{"ios":"https://apps.apple.com/app/id42","android":"https://play.google.com/store/apps/details?id=h"}}'
answers /app x -A "$IPHONE" || true
expect_eq "iPhone: the ios target" "$STATUS $(header Location)" "302 https://apps.apple.com/app/id42"
answers /app x -A "$IPAD" || true
expect_eq "iPad: the ios target" "$STATUS $(header Location)" "302 https://apps.apple.com/app/id42"
answers /app x -A "$ANDROID" || true
expect_eq "Android: the android target" "$STATUS $(header Location)" "302 https://play.google.com/store/apps/details?id=h"
answers /app x -A "$DESKTOP" || true
expect_eq "desktop: url" "$STATUS $(header Location)" "302 https://example.com/web"
answers /app x -A '' || true
expect_eq "no User-Agent: url" "$STATUS $(header Location)" "302 https://example.com/web"
create "ios target only" '{"url":"https://example.com/web2","slug":"app2","targets":{"ios":"https://apps.apple.com/app/id7"}}'
answers /app2 x -A "$ANDROID" || true
expect_eq "Android without an android target: url" "$STATUS $(header Location)" "302 https://example.com/web2"

# ---- reuse ----------------------------------------------------------------------------------------------
create "reuse: none live yet: 201" '{"url":"https://example.com/reused","reuse":true}'
first=$(jq -r .slug <<<"$BODY")
r POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.com/reused","reuse":true}'
expect_status "reuse: the existing live link: 200" 200
expect_json "reuse: the same slug" .slug "$first"
create "without reuse: another link" '{"url":"https://example.com/reused"}'
r PATCH "/api/links/$first" "${JSON[@]}" --data-binary '{"disabled":true}'
r POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.com/reused","reuse":true}'
if [[ $STATUS == 200 && $(jq -r .slug <<<"$BODY") != "$first" ]] || [[ $STATUS == 201 ]]; then
  ok "reuse: a disabled link is not reused ($STATUS)"
else
  fail "reuse: a disabled link is not reused" "$(_stack_last)"
fi
create "reuse: only a disabled one: 201" '{"url":"https://example.com/reused-off","slug":"roff"}'
r PATCH /api/links/roff "${JSON[@]}" --data-binary '{"disabled":true}'
r POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.com/reused-off","reuse":true}'
expect_status "reuse when the only one is disabled: 201" 201

# ---- robots ---------------------------------------------------------------------------------------------
r GET /robots.txt
expect_status "robots.txt" 200
expect_header "robots.txt: text/plain" '^content-type: text/plain'
if grep -qx 'Disallow: /' <<<"$BODY" && grep -qx 'User-agent: \*' <<<"$BODY"; then
  ok "robots.txt disallows everything"
else
  fail "robots.txt disallows everything" "$BODY"
fi
r GET /nosuchslug "${BROWSER[@]}"
strict_page "404 for a browser" 404
r GET /nosuchslug
expect_header "404 for a program: problem JSON" '^content-type: application/problem\+json'
r GET /api/links/nosuchslug "${BROWSER[@]}"
expect_header "the API answers JSON even to a browser" '^content-type: application/problem\+json'
answers /fqa x || true
expect_header_is "redirects carry X-Robots-Tag" X-Robots-Tag noindex

# ---- nothing broke --------------------------------------------------------------------------------------
expect_eq "no 5xx and no failed request" "${FIVEXX[*]:-}" ""
expect_eq "no worker died" "$(worker_deaths)" 0
finish
