#!/usr/bin/env bash
# Integration test of finding links (issue 11) over HTTPS through Caddy against a real PostgreSQL: GET /api/links
# with tag (repeated, folded, bounded) and q (slug, url and title, case-insensitive, LIKE wildcards literal),
# combined with each other and with limit/cursor paging; another owner's links never appear; GET /api/tags
# counts and order; a PATCH that replaces tags is seen by both. Bad input is a 400 naming the parameter, never
# a 5xx.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

JSON=(-H 'Content-Type: application/json')
declare -A KEY=()
FIVEXX=()

# call WHO METHOD PATH [curl args...]: req with owner WHO's key; records any 5xx or no answer.
call() {
  local who=$1 method=$2 path=$3
  shift 3
  API_KEY=${KEY[$who]} req "$method" "$path" "$@"
  if [[ $STATUS == 5* || $STATUS == 000 ]]; then
    FIVEXX+=("$method $path $* -> $STATUS")
  fi
}

# make_link WHO JSON: POST /api/links; a failure here is a failed test (the rest would be meaningless).
make_link() {
  call "$1" POST /api/links "${JSON[@]}" -d "$2"
  [[ $STATUS == 201 ]] || fail "create $2" "$(_stack_last)"
}

# find WHO QUERY [curl args...]: GET /api/links?QUERY; the slugs found, newest first, in SLUGS.
SLUGS=""
find_links() {
  local who=$1 query=$2
  shift 2
  call "$who" GET "/api/links?$query" "$@"
  SLUGS=$(jq -r '[.links[].slug] | join(" ")' <<<"$BODY" 2>/dev/null) || SLUGS="(not JSON: $(_stack_last))"
}

# expect_found NAME WHO QUERY WANT [curl args...]: 200 and exactly the slugs WANT (space-separated, in order).
expect_found() {
  local name=$1 who=$2 query=$3 want=$4
  shift 4
  find_links "$who" "$query" "$@"
  if [[ $STATUS == 200 && $SLUGS == "$want" ]]; then
    ok "$name"
  else
    fail "$name" "want 200 with '$want'; got status $STATUS, slugs '$SLUGS'"
  fi
}

# expect_bad NAME WHO QUERY FIELD [curl args...]: a 400 problem whose errors name FIELD.
expect_bad() {
  local name=$1 who=$2 query=$3 field=$4 got
  shift 4
  call "$who" GET "/api/links?$query" "$@"
  got=$(jq -r '[.status, (.errors[0].field), (.detail | type)] | join(" ")' <<<"$BODY" 2>/dev/null) || got="(not JSON)"
  if [[ $STATUS == 400 && $got == "400 $field string" && $(header Content-Type) == application/problem+json* ]]; then
    ok "$name"
  else
    fail "$name" "want a 400 problem naming $field; got $(_stack_last)"
  fi
}

# pages WHO QUERY LIMIT: follows next_cursor from the first page to the last; every slug in PAGED, the
# number of pages in NPAGES.
PAGED=""
NPAGES=0
pages() {
  local who=$1 query=$2 limit=$3 cursor="" page
  PAGED="" NPAGES=0
  while ((NPAGES < 20)); do
    page="$query&limit=$limit"
    [[ -z $cursor ]] || page+="&cursor=$(jq -rn --arg c "$cursor" '$c | @uri')"
    find_links "$who" "$page"
    [[ $STATUS == 200 ]] || break
    NPAGES=$((NPAGES + 1))
    PAGED+="${PAGED:+ }$SLUGS"
    cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
    [[ -n $cursor ]] || break
  done
}

stack_start
KEY[alice]=$(make_key alice)
KEY[bob]=$(make_key bob)
KEY[carol]=$(make_key carol)

# ---- data: alice's links, oldest first (lists are newest first) ------------------------------------------

for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
  make_link alice "{\"slug\": \"page-$i\", \"url\": \"https://pages.example.com/p/$i\", \"title\": \"Paged item $i\", \"tags\": [\"paged\"]}"
done
make_link alice '{"slug": "alpha-one", "url": "https://example.com/shoes?size=42", "title": "Summer Sale", "tags": ["Shop", "summer"]}'
make_link alice '{"slug": "beta", "url": "https://docs.example.org/guide", "title": "User Guide", "tags": ["docs"]}'
make_link alice '{"slug": "gamma", "url": "https://example.net/100%25-off", "title": "Everything 100% off_now", "tags": ["shop"]}'
make_link alice '{"slug": "delta_x", "url": "https://example.com/a_b"}'
make_link alice '{"slug": "zeta", "url": "https://example.com/a-b", "title": "a-b and 100 percent"}'
make_link alice '{"slug": "epsilon", "url": "https://blog.example.com/post", "title": "Backslash \\ path, Überblick", "tags": ["summer", "docs"]}'
make_link bob '{"slug": "bob-shoes", "url": "https://example.com/shoes?size=43", "title": "Summer Sale", "tags": ["shop", "summer"]}'

# ---- tags ----------------------------------------------------------------------------------------------

expect_found "tag=shop: alice's two, newest first" alice "tag=shop" "gamma alpha-one"
expect_found "tag=shop&tag=summer: only the link with both" alice "tag=shop&tag=summer" "alpha-one"
expect_found "tag=summer&tag=docs: only the link with both" alice "tag=summer&tag=docs" "epsilon"
expect_found "tag=SHOP is folded to shop" alice "tag=SHOP" "gamma alpha-one"
expect_found "tag=Shop&tag=SUMMER folded" alice "tag=Shop&tag=SUMMER" "alpha-one"
expect_found "the same tag twice is that tag" alice "tag=docs&tag=docs" "epsilon beta"
expect_found "tag=nope: none" alice "tag=nope" ""
expect_json "tag=nope: next_cursor null" .next_cursor null
expect_found "tag=shop&tag=nope: none (every tag must be carried)" alice "tag=shop&tag=nope" ""
expect_found "tag=shop for bob: only bob's" bob "tag=shop" "bob-shoes"
expect_found "unknown parameters are ignored" alice "tag=docs&colour=red" "epsilon beta"
expect_bad "tag=bad! is a 400" alice "tag=bad%21" tag
expect_bad "an empty tag is a 400" alice "tag=" tag
expect_bad "tag= beside a good tag is a 400" alice "tag=shop&tag=" tag
expect_bad "a 33-character tag is a 400" alice "tag=$(printf 'a%.0s' {1..33})" tag
expect_bad "a Unicode look-alike tag is a 400" alice "tag=sh%D0%BEp" tag
expect_bad "a tag with a malformed escape is a 400" alice "tag=%zz" tag
expect_bad "a tag with a NUL byte is a 400" alice "tag=a%00b" tag
ten="tag=t0&tag=t1&tag=t2&tag=t3&tag=t4&tag=t5&tag=t6&tag=t7&tag=t8&tag=t9"
expect_found "10 tags are allowed" alice "$ten" ""
expect_bad "11 tags are a 400" alice "$ten&tag=t10" tag
expect_json "11 tags: the detail says at most 10" '.detail | test("at most 10")' true

# ---- q -------------------------------------------------------------------------------------------------

expect_found "q matches a slug" alice "q=alpha" "alpha-one"
expect_found "q matches a slug, case-insensitively" alice "q=BETA" "beta"
expect_found "q matches a url" alice "q=shoes" "alpha-one"
expect_found "q matches a url's query" alice "q=size%3D42" "alpha-one"
expect_found "q matches a title, case-insensitively" alice "q=sUMMER+sALE" "alpha-one"
expect_found "q matches across slug, url and title (newest first)" alice "q=guide" "beta"
expect_found "q of 2 characters" alice "q=gu" "beta"
expect_found "q with non-ASCII text" alice "q=%C3%9Cberb" "epsilon"
# a q of 2 characters walks the owner's links (link_search_short, 0015) instead of the trigram index
expect_found "q of 2 characters with no match" alice "q=qz" ""
expect_found "q of 2 characters, one of them multi-byte" alice "q=%C3%9Cb" "epsilon"
expect_found "q of 2 characters and a tag" alice "q=gu&tag=docs" "beta"
expect_found "q of 2 characters and a tag with no common link" alice "q=gu&tag=shop" ""
expect_found "q of 2 characters for bob: only bob's" bob "q=sh" "bob-shoes"
expect_found "q never matches across two fields" alice "q=beta+https" ""
expect_found "q=%: 100% is literal" alice "" "gamma" -G --data-urlencode "q=100%"
expect_found "q=%%: % is not a wildcard" alice "" "" -G --data-urlencode "q=%%"
expect_found "q=__: _ is not a wildcard" alice "" "" -G --data-urlencode "q=__"
expect_found "q=a_b: _ matches only _" alice "" "delta_x" -G --data-urlencode "q=a_b"
# shellcheck disable=SC1003 # the backslash is the text searched for
expect_found "q ending in a backslash is literal" alice "" "epsilon" -G --data-urlencode 'q=h \'
expect_found "q=\\_: the backslash is literal too" alice "" "" -G --data-urlencode 'q=\_'
expect_found "q for bob: only bob's" bob "q=shoes" "bob-shoes"
expect_found "q cannot find another owner's slug" alice "q=bob-shoes" ""
expect_found "q with no match" alice "q=nothing-like-this" ""
expect_bad "q of 1 character is a 400" alice "q=a" q
expect_json "q of 1 character: the detail says 2" '.detail | test("2 to 2048")' true
expect_bad "q of 1 multi-byte character is a 400" alice "q=%C3%A9" q
expect_bad "an empty q is a 400" alice "q=" q
expect_bad "q given twice is a 400" alice "q=ab&q=cd" q
expect_bad "q with a control character is a 400" alice "q=a%0Ab" q
expect_bad "q with a NUL byte is a 400" alice "q=ab%00" q
expect_bad "q that is not UTF-8 is a 400" alice "q=ab%FF" q
expect_bad "q with an overlong UTF-8 sequence is a 400" alice "q=a%C0%AF" q
expect_bad "q of 2049 characters is a 400" alice "q=$(printf 'x%.0s' {1..2049})" q
expect_found "q of 2048 characters is searched" alice "q=$(printf 'x%.0s' {1..2048})" ""
expect_bad "a bad tag beside a good q is a 400 naming tag" alice "q=guide&tag=%21" tag

# ---- q and tags together, and paging -------------------------------------------------------------------

expect_found "q and tag combine" alice "q=example&tag=summer" "epsilon alpha-one"
expect_found "q and two tags combine" alice "q=example&tag=summer&tag=docs" "epsilon"
expect_found "q and tag with no common link" alice "q=guide&tag=shop" ""
want_pages="page-12 page-11 page-10 page-09 page-08 page-07 page-06 page-05 page-04 page-03 page-02 page-01"
pages alice "q=paged+item" 5
expect_eq "q, limit=5: 3 pages" "$NPAGES" 3
expect_eq "q, limit=5: every match once, newest first" "$PAGED" "$want_pages"
pages alice "q=p%2F" 5
expect_eq "q of 2 characters, limit=5: 3 pages" "$NPAGES" 3
expect_eq "q of 2 characters, limit=5: every match once, newest first" "$PAGED" "$want_pages"
pages alice "tag=paged" 5
expect_eq "tag, limit=5: 3 pages" "$NPAGES" 3
expect_eq "tag, limit=5: every match once, newest first" "$PAGED" "$want_pages"
pages alice "q=pages.example&tag=PAGED" 4
expect_eq "q and tag, limit=4: 3 pages" "$NPAGES" 3
expect_eq "q and tag, limit=4: every match once, newest first" "$PAGED" "$want_pages"
pages alice "q=item+1" 1
expect_eq "q, limit=1: one page per match" "$PAGED" "page-12 page-11 page-10"
# a link made between two pages is newer than the cursor: the next page neither shows it nor repeats one
find_links alice "tag=paged&limit=6"
first=$SLUGS
cur=$(jq -r .next_cursor <<<"$BODY")
make_link alice '{"slug": "page-13", "url": "https://pages.example.com/p/13", "tags": ["paged"]}'
find_links alice "tag=paged&limit=6&cursor=$(jq -rn --arg c "$cur" '$c | @uri')"
expect_eq "tag paging is stable under an insert" "$first $SLUGS" "$want_pages"
expect_bad "a bad cursor with a tag is a 400 naming cursor" alice "tag=paged&cursor=junk" cursor
expect_bad "a bad limit with q is a 400 naming limit" alice "q=paged&limit=0" limit

# ---- GET /api/tags -------------------------------------------------------------------------------------

call alice GET /api/tags
expect_status "GET /api/tags: 200" 200
expect_jeq "alice's tags, by name, with counts" . \
  '{"tags":[{"tag":"docs","links":2},{"tag":"paged","links":13},{"tag":"shop","links":2},{"tag":"summer","links":2}]}'
expect_header "GET /api/tags: Cache-Control no-store" '^cache-control: no-store'
call bob GET /api/tags
expect_jeq "bob's tags only" . '{"tags":[{"tag":"shop","links":1},{"tag":"summer","links":1}]}'
call carol GET /api/tags
expect_jeq "an owner without links has no tags" . '{"tags":[]}'
KEY[nobody]=""
call nobody GET /api/tags
expect_status "GET /api/tags without a key: 401" 401
call alice POST /api/tags "${JSON[@]}" -d '{}'
expect_status "POST /api/tags: 405" 405
expect_header "POST /api/tags: Allow" '^allow: GET, HEAD'

# ---- PATCH replaces tags whole ---------------------------------------------------------------------------

call alice PATCH /api/links/alpha-one "${JSON[@]}" -d '{"tags": ["DOCS", "new-tag"]}'
expect_jeq "PATCH tags: answered sorted and folded" .tags '["docs","new-tag"]'
expect_found "after PATCH: tag=shop no longer finds it" alice "tag=shop" "gamma"
expect_found "after PATCH: tag=docs finds it (by id, not by change)" alice "tag=docs" "epsilon beta alpha-one"
expect_found "after PATCH: tag=new-tag" alice "tag=new-tag" "alpha-one"
call alice GET /api/tags
expect_jeq "after PATCH: the counts follow" . \
  '{"tags":[{"tag":"docs","links":3},{"tag":"new-tag","links":1},{"tag":"paged","links":13},{"tag":"shop","links":1},{"tag":"summer","links":1}]}'
call alice PATCH /api/links/alpha-one "${JSON[@]}" -d '{"tags": []}'
expect_found "after PATCH to no tags: tag=new-tag finds none" alice "tag=new-tag" ""
call alice GET /api/tags
expect_json "a tag no link carries is gone from /api/tags" '[.tags[].tag] | index("new-tag")' null
call alice PATCH /api/links/epsilon "${JSON[@]}" -d '{"title": "Renamed"}'
expect_found "after PATCH of a title: q finds the new one" alice "q=renamed" "epsilon"
expect_found "after PATCH of a title: not the old one" alice "q=backslash" ""

# ---- no 5xx, no dead worker ------------------------------------------------------------------------------

expect_eq "no request got a 5xx or no answer" "${FIVEXX[*]:-}" ""
expect_eq "no worker died" "$(worker_deaths)" 0
finish
