#!/usr/bin/env bash
# Integration test of the whole HTTP contract (API.md) over HTTPS through Caddy against a real PostgreSQL:
# keys and owners, every route and error row, list paging, PATCH, DELETE, stats, expiry, short_url with
# HOP_BASE_URL, malformed input (always a 4xx, never a 5xx), and that the links table ends up holding exactly
# what the valid requests made.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

JSON=(-H 'Content-Type: application/json')
RID_RE='^[A-Za-z0-9._~:/+=-]{1,128}$'
declare -A KEY=()  # owner name -> API key
declare -A WANT=() # slug -> "owner url": what the links table must hold at the end
FIVEXX=()          # requests answered with a 5xx (or not at all)
DB_DOWN=""         # set while the suite has stopped PostgreSQL: 503s are expected then
NREQ=0

# ---- helpers --------------------------------------------------------------------------------------------

BROWSER_UA='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
declare -A H=() # the last response's headers (lower-case names; the first of each), filled by call
LINK_RE='^\{"slug":"([A-Za-z0-9_-]+)","url":"([^"\\]*)",'

# call WHO METHOD PATH [curl args...]: req with owner WHO's key ("-": no key). Records any 5xx, and keeps WANT in
# step with what succeeded (201 on create, 200 on PATCH, 204 on DELETE).
call() {
  local who=$1 method=$2 path=$3 key="" slug url line name
  shift 3
  [[ $who == - ]] || key=${KEY[$who]}
  # public requests come from a browser: curl's own User-Agent is a bot's, which visits do not count
  if [[ $who == - ]]; then set -- -A "$BROWSER_UA" "$@"; fi
  API_KEY=$key req "$method" "$path" "$@"
  NREQ=$((NREQ + 1))
  # parsed here once, without a fork: jq and awk start-ups are most of this suite's CPU time
  H=()
  while IFS= read -r line; do
    [[ $line == *:* ]] || continue
    name=${line%%:*}
    name=${name,,}
    line=${line#*:}
    [[ -n ${H[$name]+set} ]] || H[$name]=${line#"${line%%[! ]*}"}
  done <"$HEADERS"
  if [[ $STATUS == 5* && ! ($STATUS == 503 && -n $DB_DOWN) || $STATUS == 000 ]]; then
    FIVEXX+=("$method $path -> $STATUS")
  fi
  case "$method $STATUS $path" in
  "POST 201 /api/links")
    if [[ $BODY =~ $LINK_RE ]]; then
      slug=${BASH_REMATCH[1]} url=${BASH_REMATCH[2]}
    else
      read -r slug url < <(jq -r '.slug + " " + .url' <<<"$BODY")
    fi
    WANT[$slug]="$who $url"
    ;;
  "PATCH 200 /api/links/"*)
    slug=${path#/api/links/}
    url=$(jq -r .url <<<"$BODY")
    WANT[$slug]="${WANT[$slug]%% *} $url"
    ;;
  "DELETE 204 /api/links/"*)
    unset "WANT[${path#/api/links/}]"
    ;;
  esac
}

# create WHO BODY [curl args...]: POST BODY to /api/links as WHO, as application/json unless args are given.
create() {
  local who=$1 body=$2
  shift 2
  (($# > 0)) || set -- "${JSON[@]}"
  call "$who" POST /api/links "$@" --data-binary "$body"
}

# patch WHO SLUG BODY [curl args...]
patch() {
  local who=$1 slug=$2 body=$3
  shift 3
  (($# > 0)) || set -- "${JSON[@]}"
  call "$who" PATCH "/api/links/$slug" "$@" --data-binary "$body"
}

# reason CODE: REASON is an ERE of the status's reason phrase(s) (RFC 9110 and the older names).
reason() {
  case $1 in
  400) REASON='Bad Request' ;;
  401) REASON='Unauthorized' ;;
  404) REASON='Not Found' ;;
  405) REASON='Method Not Allowed' ;;
  409) REASON='Conflict' ;;
  410) REASON='Gone' ;;
  413) REASON='Content Too Large|Payload Too Large' ;;
  415) REASON='Unsupported Media Type' ;;
  422) REASON='Unprocessable Content|Unprocessable Entity' ;;
  503) REASON='Service Unavailable' ;;
  *) REASON='.*' ;;
  esac
}
# A problem body exactly as hop writes it; a body in any other form is checked by jq instead.
PROBLEM_RE='^\{"type":"about:blank","title":"([^"\\]*)","status":([0-9]{3}),"detail":"([^"\\]|\\.)+"\}$'

# problem NAME CODE [FIELD]: the last response is a CODE problem (RFC 9457): the status, problem+json, type
# about:blank, title the reason phrase, the status field, a detail, an X-Request-Id; a 422 has a non-empty
# errors list; with FIELD, errors has an entry for FIELD.
problem() {
  local name=$1 code=$2 field=${3:-} ct res
  local -a why=()
  [[ $STATUS == "$code" ]] || why+=("status $STATUS")
  ct=${H[content-type]:-}
  [[ $ct == application/problem+json* ]] || why+=("content-type '$ct'")
  [[ ${H[x-request-id]:-} =~ $RID_RE ]] || why+=("no X-Request-Id")
  reason "$code"
  if [[ $code != 422 && -z $field && $BODY =~ $PROBLEM_RE ]]; then
    [[ ${BASH_REMATCH[2]} == "$code" && ${BASH_REMATCH[1]} =~ ^($REASON)$ ]] || why+=("not a $code problem body")
    res=""
  else
    # one jq run for all the body checks
    res=$(jq -r --argjson s "$code" --arg t "$REASON" --arg f "$field" '[
    (if .type == "about:blank" and (.title | test("^(" + $t + ")$")) and .status == $s and
        (.detail | type == "string" and length > 0) then empty else "not a \($s) problem body" end),
    (if $s != 422 or ((.errors | type) == "array" and (.errors | length) > 0 and
        all(.errors[]; (.field | type) == "string" and (.detail | type == "string" and length > 0)))
     then empty else "no errors list" end),
    (if $f == "" or any(.errors[]?; .field == $f) then empty else "errors does not name \($f)" end)
  ] | join("; ")' <<<"$BODY" 2>/dev/null) || res="body is not JSON"
  fi
  [[ -z $res ]] || why+=("$res")
  if ((${#why[@]} == 0)); then
    ok "$name: $code problem${field:+ naming $field}"
  else
    fail "$name: $code problem${field:+ naming $field}" "${why[*]}; $(_stack_last)"
  fi
}

# head_problem NAME CODE: a HEAD answered CODE with a problem content type (and no body).
head_problem() {
  local ct=${H[content-type]:-}
  if [[ $STATUS == "$2" && $ct == application/problem+json* && -z $BODY ]]; then
    ok "$1: HEAD $2 problem"
  else
    fail "$1: HEAD $2 problem" "status $STATUS, content-type '$ct'"
  fi
}

# bad WHO NAME CODE BODY [FIELD]: a create that must fail with a CODE problem (naming FIELD).
bad() {
  create "$1" "$4"
  problem "$2" "$3" "${5:-}"
}

# snap: status, content type and body of the last response, its request id blanked.
snap() {
  local rid=${H[x-request-id]:-} b=$BODY
  [[ -z $rid ]] || b=${b//"$rid"/<rid>}
  printf '%s|%s|%s' "$STATUS" "${H[content-type]:-}" "$b"
}

# link WHO SLUG: the link object as WHO sees it, compact, with sorted keys and without its visits (which
# the suite's own redirects change).
link() {
  call "$1" GET "/api/links/$2"
  jq -cS 'del(.visits, .bot_visits)' <<<"$BODY" 2>/dev/null || echo "(status $STATUS)"
}

# is_status CODE METHOD PATH [curl args]: a public request answered CODE (for poll_until).
is_status() {
  local code=$1
  shift
  call - "$@"
  [[ $STATUS == "$code" ]]
}

# redirects_to SLUG CODE URL: GET /SLUG answers CODE with Location URL (for poll_until).
redirects_to() {
  call - GET "/$1"
  [[ $STATUS == "$2" && ${H[location]:-} == "$3" ]]
}

# visits_are WHO SLUG N [BOTS]: the link's visits field is N (and bot_visits BOTS) (for poll_until).
visits_are() {
  call "$1" GET "/api/links/$2"
  [[ $(jq -r .visits <<<"$BODY" 2>/dev/null) == "$3" ]] || return 1
  [[ -z ${4:-} || $(jq -r .bot_visits <<<"$BODY" 2>/dev/null) == "$4" ]]
}

# insert_days "(link_id, day, host, n), ...": human visits in the first hour of each day written straight into
# the hours, as the total and referrer rows the master would write (visit_hours_add keeps the day summaries).
insert_days() {
  psql_q "SELECT visit_hours_add(array_agg(link_id), array_agg(hour), array_agg(d), array_agg(value), array_agg(n),
      array_agg(0::bigint))
    FROM (SELECT link_id::bigint, ((day::date - date '1970-01-01') * 24)::int AS hour, x.d,
            CASE WHEN x.d = 0 THEN '' ELSE host END AS value, sum(n)::bigint AS n
          FROM (VALUES $1) v(link_id, day, host, n) CROSS JOIN (VALUES (0), (1)) x(d) GROUP BY 1, 2, 3, 4) r" >/dev/null
}

# allow_set: the Allow header as a sorted comma-separated set.
allow_set() {
  header allow | tr -d ' ' | tr ',' '\n' | LC_ALL=C sort | paste -sd, -
}

rfc3339_in() {
  date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ
}

# ---- start ----------------------------------------------------------------------------------------------
stack_start
PORT=${BASE##*:}

# ---- keys on the command line ---------------------------------------------------------------------------
for who in alice bob carol lister; do
  KEY[$who]=$(make_key "$who")
  if [[ ${KEY[$who]} =~ ^hop_[A-Za-z0-9]{32}$ ]]; then
    ok "keys create $who: last line is hop_ + 32 base62"
  else
    fail "keys create $who: last line is hop_ + 32 base62" "'${KEY[$who]}'"
  fi
done
expect_eq "keys create: keys differ" "$(printf '%s\n' "${KEY[@]}" | sort -u | wc -l)" 4

# An expiring link early on, so that its wait overlaps the rest of the suite (checked near the end).
EXP1_AT=$(rfc3339_in '+5 seconds')
create alice "{\"url\":\"https://example.com/expiring\",\"slug\":\"exp1\",\"expires_at\":\"$EXP1_AT\"}"
expect_status "create with expires_at 5 s ahead: 201" 201
expect_json "create with expires_at: echoed" .expires_at "$EXP1_AT"
call - GET /exp1
expect_status "link before its expiry: 302" 302

# ---- authentication: 401 before anything else ----------------------------------------------------------
create alice '{"url":"https://example.com/alice-1","slug":"a1"}'
expect_status "alice creates a1" 201
A1_BEFORE=$(link alice a1)

# carol's key works, then is revoked: refused at once.
create carol '{"url":"https://example.com/carol-1","slug":"c1"}'
expect_status "carol creates c1" 201
CAROL_OLD=${KEY[carol]}
KEY[carol2]=$(make_key carol)
call carol2 GET /api/links/c1
expect_status "carol's second key sees carol's link" 200
if out=$("$HOP_BIN" keys revoke carol 2>&1); then
  ok "keys revoke carol: exit 0"
else
  fail "keys revoke carol: exit 0" "$out"
fi
t0=$(now_ms)
call carol GET /api/links
first=$STATUS
revoked_refused() {
  call carol GET /api/links
  [[ $STATUS == 401 ]]
}
if poll_until 1000 revoked_refused; then
  REVOKE_MS=$(($(now_ms) - t0))
  ok "revoked key refused within 1 s (first request after revoke: $first; refused after $REVOKE_MS ms)"
else
  REVOKE_MS="(never)"
  fail "revoked key refused within 1 s" "still $STATUS after $POLL_MS ms"
fi
call carol2 GET /api/links
expect_status "revoke revokes every key of the owner" 401
rc=0
"$HOP_BIN" keys revoke carol >/dev/null 2>&1 || rc=$?
expect_eq "keys revoke of an owner with no active key: exit 1" "$rc" 1
rc=0
"$HOP_BIN" keys revoke nobody >/dev/null 2>&1 || rc=$?
expect_eq "keys revoke of an unknown owner: exit 1" "$rc" 1
KEY[carol]=$(make_key carol)
call carol GET /api/links/c1
expect_status "a new key for carol sees carol's old link" 200

B62=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789
UNKNOWN_KEY=hop_
for ((i = 0; i < 32; i++)); do UNKNOWN_KEY+=${B62:RANDOM % 62:1}; done
KEY[unknown]=$UNKNOWN_KEY
KEY[revoked]=$CAROL_OLD

# Every route, known or not, any method: 401 with WWW-Authenticate: Bearer for each kind of bad credential.
AUTH_ROUTES=(
  "GET /api/links" "POST /api/links" "PUT /api/links" "HEAD /api/links" "GET /api/links/a1"
  "PATCH /api/links/a1" "DELETE /api/links/a1" "GET /api/links/a1/stats" "DELETE /api/nothing/here"
)
for cred in none basic unknown revoked; do
  for route in "${AUTH_ROUTES[@]}"; do
    method=${route%% *}
    path=${route#* }
    args=()
    [[ $method == POST || $method == PATCH || $method == PUT ]] && args=("${JSON[@]}" --data-binary '{"url":"https://example.com/x"}')
    case $cred in
    none) call - "$method" "$path" "${args[@]}" ;;
    basic) call - "$method" "$path" -H "Authorization: Basic $(printf 'alice:%s' "${KEY[alice]}" | base64 -w0)" "${args[@]}" ;;
    *) call "$cred" "$method" "$path" "${args[@]}" ;;
    esac
    if [[ $method == HEAD ]]; then
      expect_status "$cred key, $route: 401" 401
    else
      problem "$cred key, $route" 401
    fi
    expect_header "$cred key, $route: WWW-Authenticate: Bearer" '^www-authenticate: Bearer'
  done
done

# Malformed Authorization headers.
MALFORMED=(
  "Bearer"
  "Bearer "
  "Bearer hop_short"
  "Bearer ${KEY[alice]}x"
  "Bearer ${KEY[alice]} extra"
  "Bearer ${KEY[alice]:0:20}!${KEY[alice]:21}"
  "Token ${KEY[alice]}"
  "${KEY[alice]}"
)
for h in "${MALFORMED[@]}"; do
  call - GET /api/links -H "Authorization: $h"
  problem "malformed Authorization '${h//${KEY[alice]}/<key>}'" 401
  expect_header "malformed Authorization '${h//${KEY[alice]}/<key>}': WWW-Authenticate" '^www-authenticate: Bearer'
done

# 401 comes before the route, the body size, the content type and the JSON.
head -c $((64 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/big-spaces"
call - POST /api/links "${JSON[@]}" --data-binary "@$T/big-spaces"
problem "no key and a 64 KiB+1 body" 401
call - POST /api/links -H 'Content-Type: text/plain' --data-binary 'hello'
problem "no key and text/plain" 401
call unknown POST /api/links "${JSON[@]}" --data-binary '{"url":'
problem "unknown key and malformed JSON" 401

# The scheme name in any case.
for scheme in bearer BEARER BeArEr; do
  call - GET /api/links -H "Authorization: $scheme ${KEY[alice]}"
  expect_status "scheme '$scheme': 200" 200
done

expect_eq "a1 unchanged after every refused request" "$(link alice a1)" "$A1_BEFORE"

# ---- create ---------------------------------------------------------------------------------------------
URL1='https://example.com/a?b=c&d=%7E#frag'
create alice "{\"url\":\"$URL1\"}"
expect_status "create generated: 201" 201
G1=$(jq -r '.slug // empty' <<<"$BODY" 2>/dev/null) || G1=""
if [[ $G1 =~ ^[A-Za-z0-9]{7}$ ]]; then ok "create generated: 7 base62"; else fail "create generated: 7 base62" "'$G1'"; fi
expect_header_is "create generated: Location" location "/api/links/$G1"
expect_header "create generated: application/json" '^content-type: application/json'
expect_json "create generated: exactly the link fields" 'keys_unsorted | sort | join(",")' \
  "bot_visits,created_at,disabled,domain,expired_url,expires_at,forward_query,imported_visits,max_visits,password_protected,redirect,short_url,slug,tags,targets,title,url,visits,visits_left"
expect_json "create generated: url as given" .url "$URL1"
expect_json "create generated: short_url from Host" .short_url "$BASE/$G1"
expect_json "create generated: redirect 302, not disabled, 0 visits, no expiry" \
  '[.redirect, .disabled, .visits, .expires_at] | tostring' '[302,false,0,null]'
created=$(jq -r .created_at <<<"$BODY")
if [[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] &&
  (($(date -u -d "$created" +%s) - $(date +%s) < 300 && $(date +%s) - $(date -u -d "$created" +%s) < 300)); then
  ok "create generated: created_at RFC 3339 UTC, now"
else
  fail "create generated: created_at RFC 3339 UTC, now" "'$created'"
fi
call - GET "/$G1"
expect_status "follow generated: 302" 302
expect_header_is "follow generated: Location exactly as given" location "$URL1"
expect_header_is "follow generated: Cache-Control" cache-control "private, max-age=0"

create alice '{"url":"https://example.com/null-slug","slug":null}'
expect_status "slug null: 201" 201
expect_json "slug null: generated" '.slug | test("^[A-Za-z0-9]{7}$")' true

SLUG64=$(printf 'S%.0s' {1..63})-
create alice "{\"url\":\"https://example.com/64\",\"slug\":\"$SLUG64\"}"
expect_status "slug of 64 characters: 201" 201
call - GET "/$SLUG64"
expect_status "slug of 64 characters: follows" 302
bad alice "slug of 65 characters" 422 "{\"url\":\"https://example.com/65\",\"slug\":\"${SLUG64}x\"}" slug

create alice '{"url":"https://example.com/upper","slug":"CaseX"}'
expect_status "slug CaseX: 201" 201
create alice '{"url":"https://example.com/lower","slug":"casex"}'
expect_status "slug casex (case-sensitive, distinct): 201" 201
call - GET /CaseX
expect_header_is "CaseX follows to its own url" location https://example.com/upper
call - GET /casex
expect_header_is "casex follows to its own url" location https://example.com/lower

for code in 301 302 307 308; do
  create alice "{\"url\":\"https://example.com/r$code\",\"slug\":\"r$code\",\"redirect\":$code}"
  expect_status "redirect $code: 201" 201
  expect_json "redirect $code: in the link" .redirect "$code"
  call - GET "/r$code"
  expect_status "redirect $code: followed with $code" "$code"
  expect_header_is "redirect $code: Location" location "https://example.com/r$code"
  call - HEAD "/r$code"
  expect_status "redirect $code: HEAD $code" "$code"
done

FUT=$(rfc3339_in '+30 days')
create alice "{\"url\":\"https://example.com/fut\",\"slug\":\"fut1\",\"expires_at\":\"$FUT\"}"
expect_status "expires_at in 30 days: 201" 201
expect_json "expires_at in 30 days: echoed" .expires_at "$FUT"
create alice '{"url":"https://example.com/offset","slug":"fut2","expires_at":"2099-06-01T12:00:00+02:00"}'
expect_status "expires_at with an offset: 201" 201
expect_json "expires_at with an offset: given back in UTC" .expires_at 2099-06-01T10:00:00Z
create alice '{"url":"https://example.com/never","slug":"fut3","expires_at":null}'
expect_status "expires_at null: 201" 201
expect_json "expires_at null: null" .expires_at null

# taken slugs: by the same owner and by another (slugs are global and public)
create alice '{"url":"https://example.com/again","slug":"a1"}'
problem "custom slug taken by the same owner" 409
create bob '{"url":"https://example.com/again","slug":"a1"}'
problem "custom slug taken by another owner" 409
expect_eq "a1 unchanged by the 409s" "$(link alice a1)" "$A1_BEFORE"

# URL rules
URL2048="https://example.com/$(head -c 2028 /dev/zero | tr '\0' a)"
create alice "{\"url\":\"$URL2048\",\"slug\":\"u2048\"}"
expect_status "url of 2048 bytes: 201" 201
call - GET /u2048
expect_header_is "url of 2048 bytes: Location exact" location "$URL2048"
bad alice "url of 2049 bytes" 422 "{\"url\":\"${URL2048}b\"}" url
for u in 'HtTpS://Example.COM/Path?Q=1' 'HTTP://example.com' 'http://127.0.0.1:8080/x' 'http://[::1]:65535/v6' \
  'https://xn--bcher-kva.example/' 'https://example.com/a%20b?c=%22d%22' "https://localhost:$PORT/two/segments" \
  "https://localhost:$((PORT == 65535 ? PORT - 1 : PORT + 1))/other-port"; do
  create alice "{\"url\":\"$u\"}"
  expect_status "url '$u': 201" 201
  expect_json "url '$u': stored exactly" .url "$u"
  slug=$(jq -r '.slug // empty' <<<"$BODY")
  call - GET "/$slug"
  expect_header_is "url '$u': Location exactly as given" location "$u"
done
BAD_URLS=(
  'ftp://example.com/x' 'javascript:alert(1)' 'mailto:a@example.com' 'example.com/x' '//example.com/x'
  '/relative' 'http://' 'https:///path' 'http:/x' 'https://example.com:65536/' 'https://example.com:99999999999/'
  'https://bücher.example/' 'https://example.com/a b' 'https://example.com/a\tb' 'https://example.com/\r\nSet-Cookie: x=1'
  'https://example.com/\u0000' '' "https://localhost:$PORT/abc" "https://LOCALHOST:$PORT/abc"
  "https://localhost:$PORT/abc?x=1" "HTTPS://localhost:$PORT/a1"
)
for u in "${BAD_URLS[@]}"; do
  bad alice "url '$u'" 422 "{\"url\":\"$u\"}" url
done

# wrong types and unknown fields
bad alice "url: 1" 422 '{"url":1}' url
bad alice "url: null" 422 '{"url":null}' url
bad alice "url: []" 422 '{"url":["https://example.com"]}' url
bad alice "url: {}" 422 '{"url":{"href":"https://example.com"}}' url
bad alice "url missing" 422 '{"slug":"nourl"}' url
bad alice "empty object" 422 '{}' url
bad alice 'redirect: "302"' 422 '{"url":"https://example.com","redirect":"302"}' redirect
bad alice "redirect: 302.0" 422 '{"url":"https://example.com","redirect":302.0}' redirect
bad alice "redirect: 3.02e2" 422 '{"url":"https://example.com","redirect":3.02e2}' redirect
bad alice "redirect: 303" 422 '{"url":"https://example.com","redirect":303}' redirect
bad alice "redirect: true" 422 '{"url":"https://example.com","redirect":true}' redirect
bad alice "redirect: 2^64+302" 422 '{"url":"https://example.com","redirect":18446744073709551918}' redirect
bad alice "slug: 5" 422 '{"url":"https://example.com","slug":5}' slug
bad alice 'slug: ""' 422 '{"url":"https://example.com","slug":""}' slug
bad alice "slug with a dot" 422 '{"url":"https://example.com","slug":"a.b"}' slug
bad alice "slug with a slash" 422 '{"url":"https://example.com","slug":"a/b"}' slug
bad alice "slug with non-ASCII" 422 '{"url":"https://example.com","slug":"caf\u00e9"}' slug
bad alice "slug with NUL" 422 '{"url":"https://example.com","slug":"ab\u0000cd"}' slug
for r in api healthz metrics static _x _; do
  bad alice "reserved slug $r" 422 "{\"url\":\"https://example.com\",\"slug\":\"$r\"}" slug
done
bad alice "expires_at: 5" 422 '{"url":"https://example.com","expires_at":5}' expires_at
bad alice "expires_at in the past" 422 '{"url":"https://example.com","expires_at":"2020-01-01T00:00:00Z"}' expires_at
bad alice "expires_at not a date" 422 '{"url":"https://example.com","expires_at":"tomorrow"}' expires_at
bad alice "expires_at 30 February" 422 '{"url":"https://example.com","expires_at":"2099-02-30T00:00:00Z"}' expires_at
bad alice "expires_at without a zone" 422 '{"url":"https://example.com","expires_at":"2099-01-01T00:00:00"}' expires_at
bad alice "disabled on create (not a create field)" 422 '{"url":"https://example.com","disabled":false}' disabled
bad alice "unknown field colour" 422 '{"url":"https://example.com","colour":"red"}' colour
bad alice "unknown field, cased URL" 422 '{"URL":"https://example.com"}' URL
create alice '{"url":1,"redirect":"x","slug":"a b"}'
problem "three bad fields" 422
expect_json "three bad fields: errors name all three" '[.errors[].field] | sort | join(",")' redirect,slug,url

# body syntax: 400
bad alice "malformed JSON" 400 '{"url": "https://example.com"'
bad alice "trailing garbage" 400 '{"url":"https://example.com"} x'
bad alice "two objects" 400 '{"url":"https://example.com"}{"url":"https://example.com"}'
bad alice "empty body" 400 ''
bad alice "array" 400 '["https://example.com"]'
bad alice "string" 400 '"https://example.com"'
bad alice "null" 400 'null'
bad alice "number" 400 '42'
bad alice "single quotes" 400 "{'url':'https://example.com'}"
bad alice "trailing comma" 400 '{"url":"https://example.com",}'
bad alice "comment" 400 '{"url":"https://example.com"/* c */}'
bad alice "duplicate key" 400 '{"url":"https://a.example.com","url":"https://b.example.com"}'
bad alice "duplicate key, one escaped" 400 '{"url":"https://a.example.com","\u0075rl":"https://b.example.com"}'
bad alice "duplicate key in a nested object" 400 '{"url":"https://a.example.com","x":{"k":1,"k":2}}'
bad alice "duplicate key with a bad value (400 before 422)" 400 '{"url":1,"url":2}'
bad alice "invalid UTF-8 (0xff)" 400 $'{"url":"https://example.com/\xff"}'
bad alice "invalid UTF-8 (overlong /)" 400 $'{"url":"https://example.com/\xc0\xaf"}'
bad alice "invalid UTF-8 (surrogate)" 400 $'{"url":"https://example.com/\xed\xa0\x80"}'
bad alice "invalid UTF-8 (truncated)" 400 $'{"url":"https://example.com/\xe2\x82"}'
bad alice "invalid UTF-8 in a key" 400 $'{"url":"https://example.com/","\xfe":1}'
bad alice "invalid UTF-8 above U+10FFFF" 400 $'{"url":"https://example.com/","x":"\xf4\x90\x80\x80"}'
printf '{"url":"https://example.com/\0"}' >"$T/raw-nul.json"
create alice "@$T/raw-nul.json"
problem "raw NUL byte in a string" 400
OPEN31=$(printf '[%.0s' {1..31})
CLOSE31=$(printf ']%.0s' {1..31})
bad alice "nested 33 levels (object + 32 arrays)" 400 "{\"url\":\"https://example.com\",\"x\":[${OPEN31}]${CLOSE31}}"
bad alice "nested 32 levels (object + 31 arrays): not a 400" 422 "{\"url\":\"https://example.com\",\"x\":${OPEN31}${CLOSE31}}" x
deep_obj() {
  local n=$1 s='1' i
  for ((i = 1; i < n; i++)); do s="{\"a\":$s}"; done
  printf '{"url":"https://example.com","a":%s}' "$s"
}
bad alice "33 nested objects" 400 "$(deep_obj 33)"
bad alice "32 nested objects: not a 400" 422 "$(deep_obj 32)" a
bad alice "nested 5000 levels" 400 "{\"url\":\"https://example.com\",\"x\":$(printf '[%.0s' {1..5000})$(printf ']%.0s' {1..5000})}"
# Not defined closely by the contract, but never a 5xx: a lone surrogate escape, NUL in a key.
for b in '{"url":"https://example.com/\ud800"}' '{"url":"https://example.com","\u0000":1}' '{"url":"https://example.com","x":1e999999}'; do
  create alice "$b"
  if [[ $STATUS == 4* ]]; then ok "body $b: a 4xx ($STATUS)"; else fail "body $b: a 4xx" "$(_stack_last)"; fi
done

# content type: 415
for ct in 'text/plain' 'application/x-www-form-urlencoded' 'application/jsonx' 'application/json-patch+json' \
  'application/problem+json' 'application/json; charset=latin1' 'application/json; charset=utf8' 'json'; do
  create alice '{"url":"https://example.com/ct"}' -H "Content-Type: $ct"
  problem "content type '$ct'" 415
done
create alice '{"url":"https://example.com/ct"}' -H 'Content-Type:'
problem "no content type" 415
for ct in 'APPLICATION/JSON' 'application/json; charset=UTF-8' 'application/json;charset="utf-8"'; do
  create alice '{"url":"https://example.com/ct"}' -H "Content-Type: $ct"
  expect_status "content type '$ct' accepted: 201" 201
done

# body size: 64 KiB accepted, 64 KiB + 1 is a 413
body='{"url":"https://example.com/64k","slug":"body64k"}'
{
  printf '%s' "$body"
  head -c $((65536 - ${#body})) /dev/zero | tr '\0' ' '
} >"$T/64k.json"
expect_eq "64 KiB body file size" "$(wc -c <"$T/64k.json")" 65536
create alice "@$T/64k.json"
expect_status "body of exactly 64 KiB (padded with spaces): 201" 201
{
  cat "$T/64k.json"
  printf ' '
} >"$T/64k1.json"
create alice "@$T/64k1.json"
problem "body of 64 KiB + 1" 413
create alice "@$T/64k1.json" -H 'Content-Type: text/plain'
problem "body of 64 KiB + 1 as text/plain (413 before 415)" 413
create alice '{"url":' -H 'Content-Type: text/plain'
problem "malformed JSON as text/plain (415 before 400)" 415
head -c $((1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/1m.json"
create alice "@$T/1m.json"
problem "body of 1 MiB" 413
create alice "@$T/64k1.json" "${JSON[@]}" --http1.1 -H 'Transfer-Encoding: chunked'
problem "chunked body of 64 KiB + 1" 413
create alice '{"url":"https://example.com/chunked","slug":"chunked"}' "${JSON[@]}" --http1.1 -H 'Transfer-Encoding: chunked'
expect_status "small chunked body: 201" 201

# ---- routes and methods ---------------------------------------------------------------------------------
call alice PUT /api/links "${JSON[@]}" --data-binary "@$T/64k1.json"
problem "PUT /api/links with a big body (405 before 413)" 405
expect_header_is "PUT /api/links: Allow" allow "POST, GET, HEAD"
call alice DELETE /api/links
problem "DELETE /api/links" 405
expect_eq "DELETE /api/links: Allow" "$(allow_set)" "GET,HEAD,POST"
for m in POST PUT; do
  call alice "$m" /api/links/a1 "${JSON[@]}" --data-binary '{}'
  problem "$m /api/links/a1" 405
  expect_eq "$m /api/links/a1: Allow" "$(allow_set)" "DELETE,GET,HEAD,PATCH"
done
call alice PUT /api/links/nosuchlink "${JSON[@]}" --data-binary '{}'
problem "PUT /api/links/nosuchlink (405 whether or not it exists)" 405
call alice POST /api/links/a1/stats
problem "POST /api/links/a1/stats" 405
expect_eq "POST /api/links/a1/stats: Allow" "$(allow_set)" "GET,HEAD"
for p in /api /api/ /api/nothing /api/links/a1/extra /api/links/a1/stats/x /api/links//stats; do
  call alice GET "$p"
  problem "GET $p with a key" 404
done
call alice HEAD /api/links
expect_status "HEAD /api/links: 200" 200
call alice HEAD /api/links/a1
expect_status "HEAD /api/links/a1: 200" 200
call alice GET /api/links/a1
expect_status "GET /api/links/a1: 200" 200
expect_header "GET /api/links/a1: application/json" '^content-type: application/json'
expect_json "GET /api/links/a1: the link" '[.slug, .url, .short_url] | join(" ")' "a1 https://example.com/alice-1 $BASE/a1"
call alice GET /api/links/nosuch
problem "GET /api/links/nosuch" 404

# ---- public routes --------------------------------------------------------------------------------------
call - GET /later1
problem "unknown slug" 404
expect_header_is "unknown slug: Cache-Control" cache-control "private, max-age=0"
call - HEAD /later1
head_problem "unknown slug" 404
create alice '{"url":"https://example.com/later","slug":"later1"}'
if poll_until 1000 redirects_to later1 302 https://example.com/later; then
  ok "a slug that was a 404 redirects once created ($POLL_MS ms)"
else
  fail "a slug that was a 404 redirects once created" "$(_stack_last)"
fi
# a slug also takes POST (the password form); a link without a password refuses it
for ms in "DELETE a1" "PUT nosuchslug" "DELETE nosuchslug" "PATCH nosuchslug" "OPTIONS nosuchslug"; do
  m=${ms% *} s=${ms#* }
  call - "$m" "/$s"
  problem "$m /$s" 405
  expect_header_is "$m /$s: Allow" allow "GET, HEAD, POST"
done
call - POST /a1
problem "POST /a1 (no password)" 405
expect_header_is "POST /a1: Allow" allow "GET, HEAD"
call - POST /nosuchslug
problem "POST /nosuchslug" 404
for m in POST DELETE; do
  call - "$m" /healthz
  problem "$m /healthz" 405
  expect_header_is "$m /healthz: Allow" allow "GET, HEAD"
done
call - HEAD /healthz
expect_status "HEAD /healthz: 200" 200
call - GET /healthz
expect_jeq "GET /healthz: ok" . '{"status":"ok"}'
for s in metrics static _x; do
  call - GET "/$s"
  problem "GET /$s (reserved)" 404
done
call - GET /%61%31
expect_status "GET /%61%31 (percent-decoded a1): 302" 302

# ---- two owners: another owner's link is exactly a link that does not exist ------------------------------
A1_BEFORE=$(link alice a1)
# each pair: the request on alice's a1 and on a slug nobody has, both as bob
OWN_CASES=(
  "GET|"
  "GET|/stats"
  "GET|/stats?days=7"
  "GET|/stats?days=0"
  "HEAD|"
  "DELETE|"
  "PATCH|json:{\"url\":\"https://example.com/bob\"}"
  "PATCH|json:{}"
  "PATCH|json:{\"url\":1,\"slug\":\"x\"}"
  "PATCH|json:{\"url\":1"
  "PATCH|text:{\"url\":\"https://example.com/bob\"}"
  "PATCH|big"
)
for c in "${OWN_CASES[@]}"; do
  method=${c%%|*}
  rest=${c#*|}
  suffix="" args=()
  case $rest in
  json:*) args=("${JSON[@]}" --data-binary "${rest#json:}") ;;
  text:*) args=(-H 'Content-Type: text/plain' --data-binary "${rest#text:}") ;;
  big) args=("${JSON[@]}" --data-binary "@$T/64k1.json") ;;
  *) suffix=$rest ;;
  esac
  call bob "$method" "/api/links/a1$suffix" "${args[@]}"
  theirs=$(snap)
  if [[ $method == HEAD ]]; then
    expect_status "bob: $method alice's link: 404" 404
  else
    problem "bob: $method /api/links/a1$suffix ${rest:0:40}" 404
  fi
  call bob "$method" "/api/links/zz$suffix" "${args[@]}"
  missing=$(snap)
  expect_eq "bob: $method /api/links/a1$suffix ${rest:0:40} is exactly as for a missing slug" \
    "${theirs//a1/<s>}" "${missing//zz/<s>}"
done
expect_eq "a1 unchanged after bob's requests" "$(link alice a1)" "$A1_BEFORE"
call - GET /a1
expect_header_is "a1 still redirects to alice's url" location https://example.com/alice-1
call bob GET '/api/links?limit=200'
expect_json "bob's list does not show alice's links" '[.links[].slug] | index("a1")' null
call alice GET '/api/links?limit=200'
expect_json "alice's list shows a1" '[.links[].slug] | index("a1") != null' true
expect_json "alice's list shows no other owner's link" '[.links[].slug] | map(select(. == "c1")) | length' 0

# ---- list -----------------------------------------------------------------------------------------------
call lister GET /api/links
expect_status "empty list: 200" 200
expect_jeq "empty list: body" . '{"links":[],"next_cursor":null}'

# 120 links, made in order over one connection
NL=60
printf -v LNEWEST 'l%03d' "$NL"
cfg=$T/bulk.cfg
: >"$cfg"
for ((i = 1; i <= NL; i++)); do
  ((i == 1)) || echo next >>"$cfg"
  printf -v s 'l%03d' "$i"
  {
    echo "url = \"$BASE/api/links\""
    echo "cacert = \"$CACERT\""
    echo "header = \"Authorization: Bearer ${KEY[lister]}\""
    echo 'header = "Content-Type: application/json"'
    echo "data-binary = \"{\\\"url\\\":\\\"https://example.com/list/$s\\\",\\\"slug\\\":\\\"$s\\\"}\""
    echo 'output = "/dev/null"'
    printf '%s\n' 'write-out = "%{http_code}\n"'
  } >>"$cfg"
  WANT[$s]="lister https://example.com/list/$s"
done
codes=$(curl -sS -K "$cfg" 2>"$T/bulk.err" | sort | uniq -c | tr -s ' ' | paste -sd, -) || true
expect_eq "list: $NL creates in a row, all 201" "$codes" " $NL 201"
NREQ=$((NREQ + NL))
seq_slugs() { # seq_slugs FROM TO: lFROM..lTO, comma-separated, in that order
  local i out=()
  local step=1 s
  (($1 <= $2)) || step=-1
  for ((i = $1; i != $2 + step; i += step)); do
    printf -v s 'l%03d' "$i"
    out+=("$s")
  done
  local IFS=,
  echo "${out[*]}"
}
SLUGS='[.links[].slug] | join(",")'
call lister GET /api/links
expect_json "list default: 50 newest first" "$SLUGS" "$(seq_slugs "$NL" $((NL - 49)))"
expect_json "list default: next_cursor a string" '.next_cursor | type' string
expect_json "list items are whole links" \
  '[.links[] | keys | sort | join(",")] | unique | join(" ")' "bot_visits,created_at,disabled,domain,expired_url,expires_at,forward_query,imported_visits,max_visits,password_protected,redirect,short_url,slug,tags,targets,title,url,visits,visits_left"
expect_json "list item: short_url, url" '.links[0] | [.short_url, .url] | join(" ")' "$BASE/$LNEWEST https://example.com/list/$LNEWEST"
call lister GET '/api/links?limit=1'
expect_json "limit=1: the newest" "$SLUGS" "$LNEWEST"
call lister GET '/api/links?limit=200'
expect_json "limit=200: all $NL, newest first" "$SLUGS" "$(seq_slugs "$NL" 1)"
expect_json "limit=200: next_cursor null" .next_cursor null
call lister GET "/api/links?limit=$NL"
expect_json "limit=$NL (exactly all): next_cursor null" '[(.links | length), .next_cursor] | tostring' "[$NL,null]"
call lister GET "/api/links?limit=$((NL - 1))"
expect_json "limit=$((NL - 1)): that many and a cursor" '[(.links | length), (.next_cursor | type)] | tostring' "[$((NL - 1)),\"string\"]"
cur=$(jq -r .next_cursor <<<"$BODY")
call lister GET "/api/links?limit=$((NL - 1))&cursor=$(jq -rn --arg c "$cur" '$c | @uri')"
expect_json "limit=$((NL - 1)), page 2: the oldest, then null" "[($SLUGS), .next_cursor] | tostring" '["l001",null]'
call lister GET '/api/links?limit=5&foo=bar&limitx=3'
expect_json "unknown query parameters are ignored" "$SLUGS" "$(seq_slugs "$NL" $((NL - 4)))"
for q in limit=0 limit=201 limit=-1 limit=abc limit= limit=1.5 limit=1e2 'limit=+5' limit=99999999999999999999 \
  'limit=1&limit=2' 'limit=5&limit=5' limit=%20; do
  call lister GET "/api/links?$q"
  problem "list ?$q" 400 limit
done
for q in cursor=garbage cursor= "cursor=$cur&cursor=$cur" 'cursor=%00' 'cursor=!!!!' 'cursor=%C3%A9'; do
  call lister GET "/api/links?$q"
  problem "list ?${q:0:50}" 400 cursor
done

# page through with limit=7 while 2 links are added between pages: each of the 120 exactly once, in order
pages=0 seen=() cursor="" ins=0
while ((pages < 40)); do
  q='limit=7'
  [[ -z $cursor ]] || q+="&cursor=$(jq -rn --arg c "$cursor" '$c | @uri')"
  call lister GET "/api/links?$q"
  [[ $STATUS == 200 ]] || break
  pages=$((pages + 1))
  mapfile -t page < <(jq -r '.links[].slug' <<<"$BODY")
  seen+=("${page[@]}")
  cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
  [[ -n $cursor ]] || break
  for _ in 1 2; do
    ins=$((ins + 1))
    create lister "{\"url\":\"https://example.com/ins/$ins\",\"slug\":\"ins$ins\"}"
  done
done
expect_status "paging: last page 200" 200
expect_eq "paging under inserts: $(((NL + 6) / 7)) pages of 7" "$pages" $(((NL + 6) / 7))
expect_eq "paging under inserts: each link exactly once, newest first" "$(
  IFS=,
  echo "${seen[*]}"
)" "$(seq_slugs "$NL" 1)"
call lister GET '/api/links?limit=200'
expect_json "after the inserts: the inserted links come first" '[.links[0].slug, (.links | length)] | tostring' "[\"ins$ins\",$((NL + ins))]"
call alice GET '/api/links?limit=200'
expect_json "alice's list has none of lister's links" '[.links[].slug | select(test("^(l[0-9]{3}|ins[0-9]+)$"))] | length' 0

# ---- PATCH ----------------------------------------------------------------------------------------------
create alice '{"url":"https://example.com/p/1","slug":"p1"}'
expect_status "create p1" 201
call - GET /p1
expect_header_is "p1 follows" location https://example.com/p/1
P1=$(link alice p1)
patch alice p1 '{}'
expect_status "PATCH {}: 200" 200
expect_eq "PATCH {}: changes nothing" "$(jq -cS 'del(.visits, .bot_visits)' <<<"$BODY")" "$P1"
expect_eq "PATCH {}: stored link unchanged" "$(link alice p1)" "$P1"

patch alice p1 '{"url":"https://example.com/p/2"}'
expect_status "PATCH url: 200" 200
expect_json "PATCH url: the link as it is now" .url https://example.com/p/2
expect_eq "PATCH url: nothing else changed" "$(jq -cS 'del(.url, .visits, .bot_visits)' <<<"$BODY")" "$(jq -cS 'del(.url)' <<<"$P1")"
if poll_until 1000 redirects_to p1 302 https://example.com/p/2; then
  ok "PATCH url: redirect follows the new url within 1 s ($POLL_MS ms)"
else
  fail "PATCH url: redirect follows the new url within 1 s" "$(_stack_last); location $(header location)"
fi
patch alice p1 '{"redirect":308}'
expect_json "PATCH redirect 308" .redirect 308
if poll_until 1000 redirects_to p1 308 https://example.com/p/2; then ok "PATCH redirect: 308 seen ($POLL_MS ms)"; else fail "PATCH redirect: 308 seen" "$(_stack_last)"; fi
FUT2=$(rfc3339_in '+10 days')
patch alice p1 "{\"expires_at\":\"$FUT2\"}"
expect_json "PATCH expires_at: set" .expires_at "$FUT2"
expect_json "PATCH expires_at: redirect kept" .redirect 308
patch alice p1 '{"expires_at":null}'
expect_json "PATCH expires_at null: cleared" .expires_at null
expect_eq "PATCH expires_at null: stored" "$(link alice p1 | jq -r .expires_at)" null
patch alice p1 '{"disabled":true}'
expect_json "PATCH disabled true" .disabled true
if poll_until 1000 is_status 410 GET /p1; then ok "disabled link: 410 within 1 s ($POLL_MS ms)"; else fail "disabled link: 410 within 1 s" "$(_stack_last)"; fi
problem "disabled link" 410
expect_header_is "disabled link: Cache-Control" cache-control "private, max-age=0"
call - HEAD /p1
head_problem "disabled link" 410
expect_header_is "disabled link, HEAD: Cache-Control" cache-control "private, max-age=0"
patch alice p1 '{"disabled":false,"url":"https://example.com/p/3","redirect":301}'
expect_json "PATCH three fields at once" '[.disabled, .url, .redirect] | tostring' '[false,"https://example.com/p/3",301]'
if poll_until 1000 redirects_to p1 301 https://example.com/p/3; then ok "re-enabled link redirects ($POLL_MS ms)"; else fail "re-enabled link redirects" "$(_stack_last)"; fi

P1=$(link alice p1)
PBAD=(
  'slug|{"slug":"p2"}'
  'slug|{"slug":"p1"}'
  'url|{"url":null}'
  'redirect|{"redirect":null}'
  'disabled|{"disabled":null}'
  'disabled|{"disabled":"yes"}'
  'disabled|{"disabled":1}'
  'redirect|{"redirect":"302"}'
  'redirect|{"redirect":302.0}'
  'redirect|{"redirect":300}'
  'url|{"url":1}'
  'url|{"url":"ftp://example.com"}'
  "url|{\"url\":\"https://localhost:$PORT/p1\"}"
  'url|{"url":"https://example.com/\u0000"}'
  "url|{\"url\":\"${URL2048}b\"}"
  'expires_at|{"expires_at":"2020-01-01T00:00:00Z"}'
  'expires_at|{"expires_at":"soon"}'
  'expires_at|{"expires_at":false}'
  'colour|{"colour":"red"}'
  'redirect|{"url":"https://example.com/p/valid","redirect":"x"}'
  'disabled|{"url":"https://example.com/p/valid","disabled":"no"}'
)
for c in "${PBAD[@]}"; do
  f=${c%%|*}
  b=${c#*|}
  patch alice p1 "$b"
  problem "PATCH ${b:0:60}" 422 "$f"
done
expect_eq "bad PATCHes change nothing (not even their valid fields)" "$(link alice p1)" "$P1"
for b in '[]' '{"url":"https://example.com/x"' '{"disabled":true,"disabled":false}' $'{"url":"https://example.com/\xff"}' ''; do
  patch alice p1 "$b"
  problem "PATCH body '$b'" 400
done
patch alice p1 '{"disabled":true}' -H 'Content-Type: text/plain'
problem "PATCH as text/plain" 415
patch alice p1 '{"disabled":true}' -H 'Content-Type:'
problem "PATCH without a content type" 415
patch alice p1 "@$T/64k1.json"
problem "PATCH with 64 KiB + 1" 413
expect_eq "refused PATCHes change nothing" "$(link alice p1)" "$P1"
for args in "json" "text" "big" "bad"; do
  case $args in
  json) patch alice nosuchp '{"url":"https://example.com/x"}' ;;
  text) patch alice nosuchp '{}' -H 'Content-Type: text/plain' ;;
  big) patch alice nosuchp "@$T/64k1.json" ;;
  bad) patch alice nosuchp '{"url":' ;;
  esac
  problem "PATCH of a missing link ($args body): 404 first" 404
done

# ---- DELETE ---------------------------------------------------------------------------------------------
create alice '{"url":"https://example.com/d/1","slug":"d1"}'
D1_ID=$(psql_q "SELECT id FROM links WHERE slug = 'd1'")
call - GET /d1
call - GET /d1
call - HEAD /d1
if poll_until 2000 visits_are alice d1 2 1; then
  ok "d1: 2 visits (GET, GET; the HEAD is a bot's) visible within 2 s ($POLL_MS ms)"
else
  fail "d1: 2 visits visible within 2 s" "$(_stack_last)"
fi
expect_json "d1: the HEAD is a bot visit" .bot_visits 1
call alice DELETE /api/links/d1
expect_status "DELETE: 204" 204
expect_eq "DELETE: empty body" "$BODY" ""
expect_header "DELETE: X-Request-Id" '^x-request-id: [A-Za-z0-9._~:/+=-]{1,128}$'
call alice GET /api/links/d1
problem "GET after DELETE" 404
if poll_until 1000 is_status 404 GET /d1; then ok "redirect after DELETE: 404 within 1 s ($POLL_MS ms)"; else fail "redirect after DELETE: 404 within 1 s" "$(_stack_last)"; fi
problem "redirect after DELETE" 404
expect_header_is "redirect after DELETE: Cache-Control" cache-control "private, max-age=0"
call alice DELETE /api/links/d1
problem "DELETE again" 404
call alice GET /api/links/d1/stats
problem "stats after DELETE" 404
patch alice d1 '{}'
problem "PATCH after DELETE" 404
expect_eq "DELETE: its visit rows are gone" "$(psql_q "SELECT count(*) FROM visit_counts WHERE link_id = $D1_ID")" 0
create bob '{"url":"https://example.com/d/bob","slug":"d1"}'
expect_status "the deleted slug can be taken again (by another owner)" 201
expect_json "re-created: 0 visits" .visits 0
call bob GET /api/links/d1/stats
expect_json "re-created: stats total 0" .total 0
if poll_until 1000 redirects_to d1 302 https://example.com/d/bob; then ok "re-created: redirects to the new url ($POLL_MS ms)"; else fail "re-created: redirects to the new url" "$(_stack_last)"; fi
call alice GET /api/links/d1
problem "re-created by bob: alice does not see it" 404
if poll_until 2000 visits_are bob d1 1; then ok "re-created: 1 visit, only its own ($POLL_MS ms)"; else fail "re-created: 1 visit, only its own" "$(_stack_last)"; fi

# a link deleted while its visits are unwritten does not cost other links their visits
create alice '{"url":"https://example.com/d/2","slug":"d2"}'
create alice '{"url":"https://example.com/keep","slug":"keep"}'
call - GET /d2
call - GET /keep
call alice DELETE /api/links/d2
expect_status "delete d2 right after a visit" 204
if poll_until 2000 visits_are alice keep 1; then ok "keep's visit counted although d2 was deleted meanwhile ($POLL_MS ms)"; else fail "keep's visit counted although d2 was deleted meanwhile" "$(_stack_last)"; fi

# ---- stats ----------------------------------------------------------------------------------------------
create alice '{"url":"https://example.com/s/1","slug":"s1"}'
S1_ID=$(psql_q "SELECT id FROM links WHERE slug = 's1'")
for _ in 1 2 3; do call - GET /s1 -H 'Referer: https://Example.COM:8443/path?q=1'; done
for _ in 1 2; do call - GET /s1 -H 'Referer: http://a.example.org/'; done
call - GET /s1
call - GET /s1 -H 'Referer: ::not a url::'
call - HEAD /s1 -H 'Referer: https://B.example/x'
TODAY=$(date -u +%F)
stats_total() {
  call alice GET "/api/links/s1/stats?days=$1"
  [[ $(jq -r .total <<<"$BODY" 2>/dev/null) == "$2" ]]
}
s1_counted() { visits_are alice s1 7 1 && stats_total 1 7; }
if poll_until 2000 s1_counted; then ok "stats: 7 visits within 2 s ($POLL_MS ms)"; else fail "stats: 7 visits within 2 s" "$(_stack_last)"; fi
STATS_MS=$POLL_MS
expect_header "stats: application/json" '^content-type: application/json'
expect_json "stats days=1: today's fields stay (the analytics fields beside them)" \
  '[keys[] | select(IN("days", "referrers", "slug", "total"))] | sort | join(",")' "days,referrers,slug,total"
expect_json "stats days=1: slug" .slug s1
expect_jeq "stats days=1: one day, today" .days "[{\"date\":\"$TODAY\",\"visits\":7}]"
expect_jeq "stats days=1: referrers by count, then host; no Referer or unparsable under \"\"" .referrers \
  '[{"host":"example.com","visits":3},{"host":"","visits":2},{"host":"a.example.org","visits":2}]'
call alice GET /api/links/s1
expect_json "stats: visits on the link (humans)" .visits 7
expect_json "stats: the HEAD is a bot visit" .bot_visits 1
# window_dates N: the N dates of a window ending today, oldest first, as a JSON array
window_dates() {
  local i
  for ((i = $1 - 1; i >= 0; i--)); do echo "$TODAY -$i days"; done | date -u -f - +%F | jq -Rsc 'split("\n")[:-1]'
}
call alice GET /api/links/s1/stats
expect_json "stats default: 30 days" '.days | length' 30
expect_jeq "stats default: every date of the window, oldest first" '[.days[].date]' "$(window_dates 30)"
expect_jeq "stats default: zeros, then today's 7" '[.days[].visits]' "[$(printf '0,%.0s' {1..29})7]"
expect_json "stats default: total" .total 7
call alice GET '/api/links/s1/stats?days=366'
expect_jeq "stats days=366: 366 days ending today" '[.days[].date]' "$(window_dates 366)"
expect_json "stats days=366: total" .total 7
# older visits, written straight into the table: inside some windows and not others
insert_days "($S1_ID, (now() AT TIME ZONE 'UTC')::date - 5, 'old.example', 4),
  ($S1_ID, (now() AT TIME ZONE 'UTC')::date - 40, 'older.example', 6),
  ($S1_ID, (now() AT TIME ZONE 'UTC')::date - 366, 'ancient.example', 50)"
call alice GET '/api/links/s1/stats?days=5'
expect_json "days=5: today-5 outside" '[.total, (.referrers | map(.host) | index("old.example"))] | tostring' '[7,null]'
call alice GET '/api/links/s1/stats?days=6'
expect_json "days=6: today-5 inside, first day" '[.total, .days[0].visits, .days[0].date == "'"$(date -u -d "$TODAY -5 days" +%F)"'"] | tostring' '[11,4,true]'
expect_jeq "days=6: referrers over the window" '.referrers[0]' '{"host":"old.example","visits":4}'
call alice GET '/api/links/s1/stats?days=41'
expect_json "days=41: total" .total 17
expect_jeq "days=41: older.example first" '.referrers[0]' '{"host":"older.example","visits":6}'
call alice GET '/api/links/s1/stats?days=366'
expect_json "days=366: today-366 outside" '[.total, (.referrers | map(.host) | index("ancient.example"))] | tostring' '[17,null]'
call alice GET /api/links/s1
expect_json "the link's visits count every day" .visits 67
# top 20 of 25 hosts, ties by host
create alice '{"url":"https://example.com/s/2","slug":"s2"}'
S2_ID=$(psql_q "SELECT id FROM links WHERE slug = 's2'")
values=() topwant=()
for ((i = 1; i <= 25; i++)); do
  h=$(printf 'h%02d.example' $((26 - i)))
  n=$((i % 4 + 1))
  values+=("($S2_ID, (now() AT TIME ZONE 'UTC')::date - $((i % 3)), '$h', $n)")
  topwant+=("$n $h")
done
insert_days "$(
  IFS=,
  echo "${values[*]}"
)"
top=$(printf '%s\n' "${topwant[@]}" | LC_ALL=C sort -k1,1nr -k2,2 | head -n 20 | jq -Rsc 'split("\n")[:-1] | map(split(" ") | {host: .[1], visits: (.[0] | tonumber)})')
call alice GET /api/links/s2/stats
expect_jeq "stats: top 20 referrers by count, ties by host" .referrers "$top"
expect_json "stats: total over all 25 hosts" .total "$(printf '%s\n' "${topwant[@]}" | awk '{s += $1} END {print s}')"
for q in days=0 days=367 days=-1 days=abc days= days=1.5 days=1e1 'days=1&days=2' days=99999999999999999999; do
  call alice GET "/api/links/s1/stats?$q"
  problem "stats ?$q" 400 days
done
call alice GET '/api/links/s1/stats?days=3&other=1'
expect_json "stats: unknown parameters ignored" '.days | length' 3
call alice GET '/api/links/nosuch/stats?days=0'
problem "stats of a missing link with a bad days (404 first)" 404

# ---- expiry ---------------------------------------------------------------------------------------------
create alice '{"url":"https://example.com/e/2","slug":"e2"}'
call - GET /e2
expect_status "e2 redirects" 302
psql_q "UPDATE links SET expires_at = now() - interval '1 second' WHERE slug = 'e2'"
if poll_until 1000 is_status 410 GET /e2; then ok "expired (set in the database): 410 within 1 s ($POLL_MS ms)"; else fail "expired (set in the database): 410 within 1 s" "$(_stack_last)"; fi
problem "expired link" 410
expect_header_is "expired link: Cache-Control" cache-control "private, max-age=0"
call alice GET /api/links/e2
expect_status "expired link: its owner still sees it" 200
patch alice e2 '{"expires_at":null}'
expect_json "expired link: PATCH expires_at null" .expires_at null
if poll_until 1000 redirects_to e2 302 https://example.com/e/2; then ok "expiry cleared: redirects again ($POLL_MS ms)"; else fail "expiry cleared: redirects again" "$(_stack_last)"; fi

wait_s=$(($(date -u -d "$EXP1_AT" +%s) - $(date +%s) + 1))
((wait_s <= 0)) || sleep "$wait_s"
call - GET /exp1
problem "link past its expires_at (created 5 s ahead)" 410
expect_header_is "link past its expires_at: Cache-Control" cache-control "private, max-age=0"
call - HEAD /exp1
head_problem "link past its expires_at" 410
call alice GET /api/links/exp1
expect_json "expired link: still listed with its expires_at" .expires_at "$EXP1_AT"

# ---- short_url from HOP_BASE_URL (the pool restarted with it) ----------------------------------------------
stack_pool_stop hop
HOP_BASE_URL=https://sho.rt/ stack_pool_start hop
call alice GET /api/links/a1
expect_json "HOP_BASE_URL: short_url of an existing link" .short_url https://sho.rt/a1
create alice '{"url":"https://example.com/base","slug":"base1"}'
expect_json "HOP_BASE_URL: short_url of a new link" .short_url https://sho.rt/base1
call alice GET '/api/links?limit=3'
expect_json "HOP_BASE_URL: short_url in the list" '[.links[].short_url | startswith("https://sho.rt/")] | all' true
for u in https://sho.rt/abc https://SHO.RT/abc https://sho.rt:443/abc https://sho.rt./abc "https://localhost:$PORT/abc"; do
  bad alice "HOP_BASE_URL: url '$u' is one of our short links" 422 "{\"url\":\"$u\"}" url
done
for u in https://sho.rt/a/b https://sho.rt:8443/abc https://sho.rt/ https://www.sho.rt/abc; do
  create alice "{\"url\":\"$u\"}"
  expect_status "HOP_BASE_URL: url '$u' is not a short link: 201" 201
done
call - GET /a1
expect_header_is "after the restart: a1 still redirects" location https://example.com/alice-1

# ---- the database away: 503 with Retry-After, then back ----------------------------------------------------
PGDEV_DIR=$T/pg "$STACK_REPO/db/pgdev.sh" stop >>"$T/pgdev.log" 2>&1
DB_DOWN=1
call - GET /healthz
expect_status "database stopped: /healthz 503" 503
expect_jeq "database stopped: /healthz body" . '{"status":"unavailable"}'
expect_header "database stopped: /healthz Retry-After" '^retry-after: [0-9]+$'
call - HEAD /healthz
expect_status "database stopped: HEAD /healthz 503" 503
call alice GET /api/links
problem "database stopped: GET /api/links" 503
expect_header "database stopped: API Retry-After" '^retry-after: [0-9]+$'
create alice '{"url":"https://example.com/down"}'
problem "database stopped: create" 503
call - GET /never-seen-slug
problem "database stopped: a slug no worker knows (not a 404)" 503
expect_header "database stopped: redirect Retry-After" '^retry-after: [0-9]+$'
if PGDEV_DIR=$T/pg "$STACK_REPO/db/pgdev.sh" start >>"$T/pgdev.log" 2>&1; then
  ok "database started again"
else
  fail "database started again" "$(tail -n 5 "$T/pgdev.log" | tr '\n' '|')"
fi
if poll_until 10000 is_status 200 GET /healthz; then
  ok "database back: /healthz 200 ($POLL_MS ms)"
else
  fail "database back: /healthz 200 within 10 s" "$(_stack_last)"
fi
DB_DOWN=""
api_back() {
  call alice GET /api/links/a1
  [[ $STATUS == 200 ]]
}
if poll_until 5000 api_back; then ok "database back: the API answers again ($POLL_MS ms)"; else fail "database back: the API answers again" "$(_stack_last)"; fi
create alice '{"url":"https://example.com/back","slug":"back1"}'
expect_status "database back: create" 201
if poll_until 1000 redirects_to back1 302 https://example.com/back; then ok "database back: the new link redirects"; else fail "database back: the new link redirects" "$(_stack_last)"; fi

# ---- nothing broke --------------------------------------------------------------------------------------
expect_eq "no worker died" "$(worker_deaths)" 0
if ((${#FIVEXX[@]} == 0)); then
  ok "no 5xx in $NREQ requests"
else
  fail "no 5xx in $NREQ requests" "$(printf '%s; ' "${FIVEXX[@]}")"
fi
have=$(psql_q "SELECT l.slug || ' ' || o.name || ' ' || l.url FROM links l JOIN owners o ON o.id = l.owner_id" | LC_ALL=C sort)
expected=$(for s in "${!WANT[@]}"; do echo "$s ${WANT[$s]}"; done | LC_ALL=C sort)
if [[ $have == "$expected" ]]; then
  ok "links table holds exactly what the valid requests made ($(wc -l <<<"$expected") links)"
else
  fail "links table holds exactly what the valid requests made" "only in the table: $(comm -23 <(echo "$have") <(echo "$expected") | head -5 | tr '\n' '|') missing: $(comm -13 <(echo "$have") <(echo "$expected") | head -5 | tr '\n' '|')"
fi
if list=$("$HOP_BIN" keys list 2>&1); then ok "keys list: exit 0"; else fail "keys list: exit 0" "$list"; fi
expect_eq "keys list: header" "$(head -n 1 <<<"$list" | tr -s ' ')" "OWNER KEY SCOPE CREATED LAST_USED REVOKED"
leak=0
for k in "${KEY[@]}" "$CAROL_OLD"; do grep -qF -- "${k#hop_}" <<<"$list" && leak=1; done
grep -q 'hop_' <<<"$list" && leak=1
expect_eq "keys list: shows no key" "$leak" 0
expect_eq "keys list: every owner" "$(awk 'NR > 1 {print $1}' <<<"$list" | sort -u | paste -sd, -)" alice,bob,carol,lister
expect_eq "keys list: carol's two old keys revoked, one active" \
  "$(awk '$1 == "carol" {print ($NF == "active" ? "active" : "revoked")}' <<<"$list" | sort | uniq -c | tr -s ' ' | paste -sd, -)" \
  " 1 active, 2 revoked"
if grep -qF -- "${KEY[alice]#hop_}" "$T/hop.log" "$T/caddy.log"; then fail "no key in the logs" "found alice's key"; else ok "no key in the logs"; fi

echo "timings: revoked key refused after ${REVOKE_MS} ms; 8 visits in stats after ${STATS_MS} ms"
finish
