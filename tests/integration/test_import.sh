#!/usr/bin/env bash
# Integration test of `hop import` and `hop export` against a real PostgreSQL, with the pool and Caddy serving
# the imported links over HTTPS: hop's own CSV from tests/import/ with exact expectations (every refused line
# and its reason), idempotence, --dry-run, --on-conflict, the round trip into an empty database, and an
# import killed (SIGKILL) or cut off (its backend terminated) mid-way leaving whole batches only, finished by
# running it again while redirects keep being served.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

SAMPLES=$STACK_REPO/tests/import

# expect_eq NAME GOT WANT
expect_eq() {
  if [[ $2 == "$3" ]]; then
    ok "$1"
  else
    fail "$1" "got '$2', want '$3'"
  fi
}

# expect_file NAME FILE WANT: FILE holds exactly WANT.
expect_file() {
  local got
  got=$(cat "$2")
  if [[ $got == "$3" ]]; then
    ok "$1"
  else
    fail "$1" "$(diff <(printf '%s\n' "$3") <(printf '%s\n' "$got") | head -20 | tr '\n' '|')"
  fi
}

# run_import OUT ARGS...: hop import with stdout to OUT (the exit status in RC).
run_import() {
  local out=$1
  shift
  RC=0
  "$HOP_BIN" import "$@" >"$out" 2>"$out.err" || RC=$?
}

links_of() {
  psql_q "SELECT count(*) FROM links l JOIN owners o ON o.id = l.owner_id WHERE o.name = '$1'"
}

stack_start

# ---- hop's own CSV: a UTF-8 BOM, CRLF, quoted commas, quotes and line breaks, odd and refused slugs ------
run_import "$T/hop1" --from csv "$SAMPLES/hop.csv" --owner alice
expect_eq "hop.csv: exit status 0" "$RC" 0
expect_file "hop.csv: every refused line with its reason, and the summary" "$T/hop1" \
  'line 7: refused: slug "api" is reserved
line 8: refused: slugs starting with _ are reserved
line 9: refused: slug must be 1 to 64 characters from A-Z a-z 0-9 _ -
line 10: refused: url must be an absolute http or https URL
line 11: refused: url must not contain spaces; encode them as %20
line 12: refused: created_at: is not a date in this format
line 14: refused: slug must be 1 to 64 characters from A-Z a-z 0-9 _ -
line 13: refused: an earlier line of the file has the same slug
13 lines: 5 imported, 0 skipped, 0 renamed, 8 refused'
expect_eq "hop.csv: progress as plain lines when stderr is not a terminal" \
  "$(grep -c '^import: [0-9]* lines ([0-9]*%), [0-9]* lines/s, ETA' "$T/hop1.err")" 1
expect_eq "hop.csv: the links table holds the five" "$(links_of alice)" 5

API_KEY=$(make_key alice)
export API_KEY
req GET /api/links/spring
expect_status "imported link: GET 200" 200
expect_json "imported link: url, redirect, title, tags, creation time" \
  '[.url, .redirect, .title, (.tags|join(",")), .created_at] | join(" ")' \
  "https://example.com/spring-sale?utm_source=print&utm_medium=flyer 308 Spring sale, 20% off print,sale 2019-03-01T09:30:00Z"
expect_json "imported link: visits include the imported total" .visits 1520
expect_json "imported link: the imported part, labelled" .imported_visits 1520
req GET /api/links/spring/stats
expect_json "imported link: stats carry the imported total beside the series" .imported_visits 1520
req GET /api/links/dash-and_under
expect_json "imported link: a title's line break is one space; tags folded; every option kept" \
  '[.title, (.tags|join(",")), .max_visits, .forward_query, .targets.ios // .ios_url, .expired_url] | map(tostring) | join(" ")' \
  "Menu for the week docs,team-notes 100 true https://apps.apple.com/app/id1 https://example.com/gone"
req GET /api/links/MixedCase
expect_json "imported link: a time with an offset is stored in UTC" .created_at "2020-02-29T21:59:59Z"
API_KEY="" req GET /MixedCase
expect_status "a slug hop would not generate (case) redirects" 302
expect_header "it goes to the imported target" '^location: https://example.com/Case/Matters$'
API_KEY="" req GET "/$(printf 'a%.0s' {1..64})"
expect_status "a 64-character slug imported from a file answers (disabled there: 410)" 410
API_KEY="" req GET /locked
expect_status "a password hash comes across: the link answers its password form" 200
expect_eq "the form asks for the password" "$([[ ${BODY,,} == *password* ]] && echo yes)" yes
API_KEY="" req GET /api
expect_status "a reserved slug was not imported" 401

# ---- YOURLS: a yourls_url table dump (Excel quoting, a line break in a title, zone-less UTC times) ---------
run_import "$T/yourls" --from yourls "$SAMPLES/yourls.csv" --owner yo
expect_file "yourls.csv: refused lines and summary" "$T/yourls" \
  'line 4: refused: slug "healthz" is reserved
line 5: refused: url must be an absolute http or https URL
line 8: refused: created_at: is not a date in this format
6 lines: 3 imported, 0 skipped, 0 renamed, 3 refused'
"$HOP_BIN" export --owner yo --format json >"$T/yo.json"
expect_eq "yourls.csv: keyword, target, title, time in UTC and clicks come across" \
  "$(jq -r '.[] | [.slug, .url, .title // "-", .created_at, .visits] | join(" ")' "$T/yo.json")" \
  'ozh https://ozh.org/ Ozh, and his "blog" 2012-04-21T10:31:07Z 2041
Docs_v2 https://example.org/docs/v2?lang=en&x=1 - 2016-12-31T23:59:59Z 17
multi https://example.org/multi First line second line 2019-07-04T12:00:00Z 5'

# ---- Shlink: its web client's export (whole short URLs, | between tags, offsets, CRLF) -------------------
run_import "$T/shlink" --from shlink "$SAMPLES/shlink.csv" --owner sh
expect_file "shlink.csv: refused lines and summary" "$T/shlink" \
  'line 4: refused: slug "static" is reserved
line 5: refused: url must contain only ASCII; use punycode for international domain names and %XX escapes elsewhere
line 6: refused: tags must be 1 to 32 characters from a-z 0-9 - _
5 lines: 2 imported, 0 skipped, 0 renamed, 3 refused'
"$HOP_BIN" export --owner sh --format json >"$T/sh.json"
expect_eq "shlink.csv: short code from the short URL, tags, UTC time, visits" \
  "$(jq -r '.[] | [.slug, .url, .title // "-", (.tags | join(",")), .created_at, .visits] | join(" ")' "$T/sh.json")" \
  'Abc-1 https://example.net/a?b=c Launch, day one launch,two-words 2023-04-05T04:07:08Z 42
x_y https://example.net/xy -  2023-04-06T00:00:00Z 0'

# ---- Bitly: its links export (a BOM, CRLF, Excel quoting, +0000 offsets, custom back-halves or hashes) ------
run_import "$T/bitly" --from bitly "$SAMPLES/bitly.csv" --owner bit
expect_file "bitly.csv: refused lines and summary" "$T/bitly" \
  'line 7: refused: created_at: is not a date in this format
line 8: refused: url must be an absolute http or https URL
line 9: refused: url must not contain user information
line 10: refused: slug "api" is reserved
line 12: refused: slug must be 1 to 64 characters from A-Z a-z 0-9 _ -
line 11: refused: an earlier line of the file has the same slug
10 lines: 4 imported, 0 skipped, 0 renamed, 6 refused'
"$HOP_BIN" export --owner bit --format json >"$T/bit.json"
expect_eq "bitly.csv: the custom back-half (else the hash), target, title, tags, UTC time, engagements" \
  "$(jq -r '.[] | [.slug, .url, .title // "-", (.tags | join(",")), .created_at, .visits] | join(" ")' "$T/bit.json")" \
  'Spring-Launch https://shop.example.com/spring?utm_source=bitly&utm_medium=print Spring launch, 2023 print,spring-2023 2023-03-01T09:30:00Z 1520
4kQwErT https://example.com/no-title -  2023-03-03T04:59:59Z 0
menu_2023 https://example.com/menu Menu "special"  2023-03-03T08:00:00Z 7
first-back-half https://example.com/two Two lines team 2023-03-04T00:00:00Z 3'

# ---- Kutt: its API's answers appended page after page (no newline between), banned and guarded links -------
run_import "$T/kutt" --from kutt "$SAMPLES/kutt.json" --owner ku
expect_file "kutt.json: refused links and summary" "$T/kutt" \
  'link 4: refused: the link has a password in Kutt, whose API does not give it out: not imported unprotected
link 6: refused: slug must be 1 to 64 characters from A-Z a-z 0-9 _ -
link 7: refused: url must contain only ASCII; use punycode for international domain names and %XX escapes elsewhere
8 links: 5 imported, 0 skipped, 0 renamed, 3 refused'
"$HOP_BIN" export --owner ku --format json >"$T/ku.json"
expect_eq "kutt.json: address, target, description, UTC times (SQLite's zone-less expiry too), banned, visits" \
  "$(jq -r '.[] | [.slug, .url, .title // "-", .created_at, .expires_at // "-", .disabled, .visits] | map(tostring) | join(" ")' "$T/ku.json")" \
  'Launch-2024 https://example.org/launch?ref=kutt&x=1 Launch, "day one" second line 2024-01-05T10:20:30Z - false 314
aB3dEf https://example.org/plain - 2024-01-06T00:00:00Z - false 0
until-2031 https://example.org/later Expires (SQLite'"'"'s form) 2024-01-07T08:00:00Z 2031-06-30T12:00:00Z false 12
banned_one https://example.org/malware Banned by an admin 2024-01-09T00:00:00Z - true 99
halfpast https://example.org/half 😀 emoji title 2024-01-12T10:30:00Z 2030-01-01T00:00:00Z false 2'
API_KEY="" req GET /banned_one
expect_status "kutt.json: a link Kutt banned answers 410 here" 410
run_import "$T/kutt2" --from kutt "$SAMPLES/kutt.json" --owner ku
expect_eq "kutt.json again: nothing new" "$(tail -n 1 "$T/kutt2")" "8 links: 0 imported, 5 skipped, 0 renamed, 3 refused"
printf '{"data":[{"address":"cut1","target":"https://example.org/c"}]}\n{"data":[{"address":"cut2",' >"$T/cut.json"
run_import "$T/cutj" --from kutt "$T/cut.json" --owner kc
expect_eq "kutt: a file cut inside a page: status 1, the pages before it imported" \
  "$RC $(grep -c 'the file ends inside a JSON value' "$T/cutj.err") $(links_of kc)" "1 1 1"

# ---- idempotence, dry run, conflicts ------------------------------------------------------------------
run_import "$T/hop2" --from csv "$SAMPLES/hop.csv" --owner alice
expect_eq "the same import again imports nothing" "$(tail -n 1 "$T/hop2")" \
  "13 lines: 0 imported, 5 skipped, 0 renamed, 8 refused"
expect_eq "the same import again: still five links" "$(links_of alice)" 5

run_import "$T/dry" --from csv "$SAMPLES/hop.csv" --owner bob --on-conflict rename --dry-run
expect_eq "--dry-run: reports the renames" "$(grep -c ': renamed: the slug is taken; imported as ' "$T/dry")" 5
expect_eq "--dry-run: the summary says so" "$(tail -n 1 "$T/dry")" \
  "dry run (nothing written): 13 lines: 0 imported, 0 skipped, 5 renamed, 8 refused"
expect_eq "--dry-run: nothing written" "$(links_of bob)" 0

run_import "$T/skip" --from csv "$SAMPLES/hop.csv" --owner bob
expect_eq "--on-conflict skip (the default): another owner's slugs are skipped, each said" \
  "$(grep -c ': skipped: the slug is taken by another link$' "$T/skip") $(tail -n 1 "$T/skip")" \
  "5 13 lines: 0 imported, 5 skipped, 0 renamed, 8 refused"
run_import "$T/fail" --from csv "$SAMPLES/hop.csv" --owner bob --on-conflict fail
expect_eq "--on-conflict fail: each taken slug is a refused line, the rest goes on" \
  "$(grep -c ': refused: the slug is taken by another link: --on-conflict fail$' "$T/fail") $(tail -n 1 "$T/fail")" \
  "5 13 lines: 0 imported, 0 skipped, 0 renamed, 13 refused"
run_import "$T/ren" --from csv "$SAMPLES/hop.csv" --owner bob --on-conflict rename
expect_eq "--on-conflict rename: written under new slugs" "$(tail -n 1 "$T/ren") $(links_of bob)" \
  "13 lines: 0 imported, 0 skipped, 5 renamed, 8 refused 5"
run_import "$T/ren2" --from csv "$SAMPLES/hop.csv" --owner bob --on-conflict rename
expect_eq "--on-conflict rename twice: the renamed links are recognised" "$(tail -n 1 "$T/ren2") $(links_of bob)" \
  "13 lines: 0 imported, 5 skipped, 0 renamed, 8 refused 5"

# ---- export, and the round trip into an empty database ------------------------------------------------
# one visit counted by hop on top of the imported 1520 (a browser: curl would count as a bot)
API_KEY="" req GET /spring -A "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
sleep 2.5
"$HOP_BIN" export --owner alice >"$T/alice.csv"
"$HOP_BIN" export --owner alice --format json >"$T/alice.json"
expect_eq "export csv: a header and five links" "$(grep -c '^"' "$T/alice.csv") $(head -n 1 "$T/alice.csv" | tr -d '\r')" \
  "5 slug,url,domain,redirect,created_at,expires_at,disabled,visits,imported_visits,password_hash,max_visits,forward_query,ios_url,android_url,tags,title,expired_url"
expect_eq "export json: the visit total and the imported part" \
  "$(jq -r '.[] | select(.slug == "spring") | "\(.visits) \(.imported_visits)"' "$T/alice.json")" "1521 1520"
expect_eq "export: the owner's own links only" "$(jq -r '[.[].slug] | sort | join(" ")' "$T/alice.json")" \
  "MixedCase aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa dash-and_under locked spring"

psql_q "CREATE DATABASE roundtrip" >/dev/null
RT_DB="$HOP_DB dbname=roundtrip"
HOP_DB=$RT_DB "$HOP_BIN" migrate >/dev/null 2>&1
HOP_DB=$RT_DB run_import "$T/rt" --from csv "$T/alice.csv" --owner alice
expect_eq "round trip: all five imported" "$(tail -n 1 "$T/rt")" "5 lines: 5 imported, 0 skipped, 0 renamed, 0 refused"
HOP_DB=$RT_DB "$HOP_BIN" export --owner alice --format json >"$T/rt.json"
# the same links, field for field; hop's own count of 1 becomes part of the imported total
expect_eq "round trip: the same links, every field" \
  "$(jq -S 'map(del(.imported_visits))' "$T/rt.json" | md5sum)" "$(jq -S 'map(del(.imported_visits))' "$T/alice.json" | md5sum)"
expect_eq "round trip: visits come across as imported totals" \
  "$(jq -r '.[] | select(.slug == "spring") | "\(.visits) \(.imported_visits)"' "$T/rt.json")" "1521 1521"

# ---- a large import interrupted, then finished -----------------------------------------------------------
BIG=$T/big.csv
awk 'BEGIN { print "slug,url,title,visits"; for (i = 1; i <= 150000; i++) printf "big%d,https://example.com/p/%d,Page %d,%d\n", i, i, i, i % 7 }' >"$BIG"

# SIGKILL once the first batch is in
"$HOP_BIN" import --from csv "$BIG" --owner big >"$T/kill.out" 2>"$T/kill.err" &
pid=$!
for ((i = 0; i < 300; i++)); do
  (($(links_of big) > 0)) && break
  sleep 0.05
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
# the killed client's backend may still be merging a batch: it rolls that back when it finds the client gone
for ((i = 0; i < 600; i++)); do
  [[ $(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%import_rows%' AND state <> 'idle' AND pid <> pg_backend_pid()") == 0 ]] && break
  sleep 0.05
done
n=$(links_of big)
expect_eq "SIGKILL mid-import: whole batches of 50,000 only ($n links)" "$((n % 50000 == 0 && n > 0 && n < 150000))" 1

# the import's connection cut off by the server while a batch is in flight: held there by another session's
# uncommitted row with the last batch's slug, so that the test never races the import (only a wait on that
# transaction counts: the other batch's backend may be waiting a moment to extend a file); redirects keep
# being served meanwhile
# (another owner's row: one of big's own would also hold big's read_lsn row, which every batch of the import
# stamps, and catch the first batch instead of the last)
psql_q "INSERT INTO owners (name) VALUES ('locker')" >/dev/null
psql -X -q -d "$HOP_DB" -c "BEGIN; INSERT INTO links (slug, owner_id, url) SELECT 'big150000', id, 'https://example.com/x' FROM owners WHERE name = 'locker'; SELECT pg_sleep(60);" >/dev/null 2>&1 &
locker=$!
"$HOP_BIN" import --from csv "$BIG" --owner big >"$T/cut.out" 2>"$T/cut.err" &
pid=$!
cut=0
for ((i = 0; i < 400; i++)); do
  cut=$(psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%import_rows%' AND wait_event = 'transactionid' AND pid <> pg_backend_pid()")
  ((cut > 0)) && break
  sleep 0.05
done
served=0
for ((i = 0; i < 5; i++)); do
  API_KEY="" req GET /spring
  [[ $STATUS == 302 || $STATUS == 308 ]] && served=$((served + 1))
done
rc=0
wait "$pid" || rc=$?
psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$locker" 2>/dev/null || true
expect_eq "the import was caught with a batch in flight" "$cut" 1
n=$(links_of big)
expect_eq "backend terminated: the import stops with status 1 and says how to finish" \
  "$rc $(grep -c 'run the same import again to finish' "$T/cut.err")" "1 1"
expect_eq "backend terminated: whole batches only (the first two)" "$n" 100000
expect_eq "redirects are served while imports run" "$served" 5

run_import "$T/finish" --from csv "$BIG" --owner big
expect_eq "re-running finishes the job" "$RC $(links_of big)" "0 150000"
expect_eq "re-running: what was in is skipped, the rest imported" \
  "$(tail -n 1 "$T/finish")" "150000 lines: $((150000 - n)) imported, $n skipped, 0 renamed, 0 refused"
expect_eq "imported visit totals summed" \
  "$(psql_q "SELECT sum(imported_visits) FROM links WHERE slug LIKE 'big%'")" \
  "$(awk 'BEGIN { s = 0; for (i = 1; i <= 150000; i++) s += i % 7; print s }')"

# ---- two batches merging at once with the same slug -------------------------------------------------------
# A first batch of 50,000 lines whose last slug is also the first of a short second batch, with another url:
# with --jobs 2 (the default) the second batch writes it long before the first gets there, so the first
# loses the race, merges that line again once the second committed, and reports it as taken by another
# link; nothing is refused and nothing is written twice. --jobs 1 keeps the earlier line, as one connection
# always did.
race_file() { # race_file PREFIX FILE
  awk -v p="$1" 'BEGIN { print "slug,url"
    for (i = 1; i < 50000; i++) printf "%s%d,https://example.com/r/%d\n", p, i, i
    printf "%srace,https://example.com/first\n", p
    printf "%srace,https://example.com/second\n", p
    for (i = 1; i <= 9; i++) printf "%sx%d,https://example.com/x/%d\n", p, i, i }' >"$2"
}
race_file ra "$T/race2.csv"
run_import "$T/race2" --from csv "$T/race2.csv" --owner racer
expect_eq "jobs 2: every line accounted for, nothing refused" "$RC $(tail -n 1 "$T/race2")" \
  "0 50010 lines: 50009 imported, 1 skipped, 0 renamed, 0 refused"
expect_eq "jobs 2: the first batch lost the race and merged its line again" \
  "$(grep -c 'lines merged again.*lines=1' "$T/race2.err" || true)" 1
expect_eq "jobs 2: the line that lost is reported as taken, the other one's url kept" \
  "$(grep -c . "$T/race2" || true) $(head -n 1 "$T/race2") $(psql_q "SELECT url FROM links WHERE slug = 'rarace'")" \
  "2 line 50001: skipped: the slug is taken by another link https://example.com/second"
expect_eq "jobs 2: every link once" "$(links_of racer)" 50009
race_file rb "$T/race1.csv"
run_import "$T/race1" --from csv "$T/race1.csv" --owner racer --jobs 1
expect_eq "jobs 1: the earlier line is kept" \
  "$RC $(head -n 1 "$T/race1") $(psql_q "SELECT url FROM links WHERE slug = 'rbrace'")" \
  "0 line 50002: skipped: the slug is taken by another link https://example.com/first"
for bad in 0 9 two; do
  run_import "$T/jobs" --from csv "$T/race1.csv" --owner racer --jobs "$bad"
  expect_eq "--jobs $bad: exit 2, the range named" "$RC $(grep -c 'jobs is a whole number from 1 to 8' "$T/jobs.err")" "2 1"
done

# ---- POST /api/links/bulk: one result per item, in order, in one transaction ------------------------------
req POST /api/links/bulk -H 'Content-Type: application/json' \
  -d '{"links":[{"url":"https://example.com/b1","slug":"bulk-one","tags":["a"]},{"url":"nope"},{"url":"https://example.com/x","slug":"spring"},{"url":"https://example.com/b2"},{"url":"https://example.com/b3","slug":"bulk-one"}]}'
expect_status "bulk: 200" 200
expect_json "bulk: a result per item, in order" '[.results[].status] | map(tostring) | join(" ")' "201 422 409 201 409"
expect_json "bulk: the 201-style link" '.results[0].link | "\(.slug) \(.url) \(.tags | join(","))"' "bulk-one https://example.com/b1 a"
expect_json "bulk: the 422-style problem names the field" '.results[1].errors[0].field' url
expect_json "bulk: a generated slug" '.results[3].link.slug | test("^[A-Za-z0-9]{7}$")' true
expect_eq "bulk: the made links are there" "$(links_of alice)" 7
req POST /api/links/bulk -H 'Content-Type: application/json' -d "{\"links\":[$(printf '{"url":"https://example.com/n"},%.0s' {1..1000}){\"url\":\"https://example.com/n\"}]}"
expect_status "bulk: more than 1,000 items is a 422" 422
expect_eq "bulk: ... and nothing is made" "$(links_of alice)" 7
req POST /api/links/bulk -H 'Content-Type: application/json' -d '{"links":[]}'
expect_status "bulk: no items is a 422" 422
req POST /api/links/bulk -H 'Content-Type: application/json' \
  -d "{\"links\":[$(printf '{"url":"https://example.com/p","password":"long enough"},%.0s' {1..10}){\"url\":\"https://example.com/p\",\"password\":\"long enough\"}]}"
expect_jeq "bulk: 11 passwords in one request is a 422 naming links" '[.status, .errors[0].field]' '[422,"links"]'
expect_eq "bulk: ... and nothing is made" "$(links_of alice)" 7

# ---- GET /api/links/export: streamed, the owner's own links, the same text as hop export ----------------
req GET /api/links/export
expect_status "GET /api/links/export: 200" 200
expect_header "export: CSV" '^content-type: text/csv'
expect_eq "export over HTTP: the same CSV as hop export" "$(md5sum <"$T/last.body" | cut -d' ' -f1)" \
  "$("$HOP_BIN" export --owner alice | md5sum | cut -d' ' -f1)"
req GET '/api/links/export?format=json'
expect_json "export json over HTTP: alice's links only" '[.[].slug] | length' 7
req GET '/api/links/export?format=xml'
expect_status "export: an unknown format is a 400" 400
API_KEY=$(make_key big) req GET '/api/links/export?format=json'
expect_json "export: 150,000 links stream through one worker" 'length' 150000
big_pids=$(pgrep -P "$STACK_HOP_PID" | tr '\n' ' ')
big_rss=0
for p in $big_pids; do
  r=$(awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
  ((r > big_rss)) && big_rss=$r
done
# ASan keeps up to 256 MiB of freed memory in quarantine and adds its shadow: its bound is wider, and named
rss_max=65536
[[ $HOP_BIN == *-san ]] && rss_max=$((640 * 1024))
expect_eq "export: no worker's peak RSS reached $((rss_max / 1024)) MiB while streaming (${big_rss} KiB)" "$((big_rss < rss_max))" 1

# ---- bad invocations and files -------------------------------------------------------------------------
run_import "$T/bad" --from nosuch "$BIG" --owner x
expect_eq "unknown format: status 2" "$RC" 2
printf 'name,target\nx,https://example.com\n' >"$T/nohdr.csv"
run_import "$T/bad" --from csv "$T/nohdr.csv" --owner x
expect_eq "a file without a slug column: status 2 and the reason" "$RC $(grep -c 'has no slug column' "$T/bad.err")" "2 1"
: >"$T/empty.csv"
run_import "$T/bad" --from csv "$T/empty.csv" --owner x
expect_eq "an empty file: status 2 and the reason" "$RC $(grep -c 'is empty' "$T/bad.err")" "2 1"
printf 'slug,url,title,password_hash\nu1,https://example.com/u,\xff\xfe,\nu2,https://example.com/u2,,$argon2id$\xe9\n' >"$T/utf8.csv"
run_import "$T/utf8" --from csv "$T/utf8.csv" --owner x
expect_file "bytes that are not UTF-8 are refused lines, never a failed batch" "$T/utf8" \
  'line 2: refused: title is not UTF-8 text
line 3: refused: password_hash: is not a hash hop wrote
2 lines: 0 imported, 0 skipped, 0 renamed, 2 refused'
printf 'slug,url,tags\ntg1,https://example.com/t,"Zeta,alpha,zeta,null,Alpha"\ntg2,https://example.com/t2," , "\n' >"$T/tags.csv"
run_import "$T/tags" --from csv "$T/tags.csv" --owner tg
expect_eq "tags: folded, sorted and distinct as hop keeps them; a tag named null stays a tag; none: empty" \
  "$("$HOP_BIN" export --owner tg --format json | jq -c '[.[] | .tags]')" '[["alpha","null","zeta"],[]]'
printf 'slug,url\nok1,https://example.com/1\n"open,https://example.com/2\n' >"$T/open.csv"
run_import "$T/open" --from csv "$T/open.csv" --owner x
expect_eq "an unclosed quote at the end: the line before it is imported" "$(links_of x)" 1

# ---- domains: each line's own (an export's domain column, Kutt's domain), or --domain for all -------------
"$HOP_BIN" domains add s.example >/dev/null # the first: the default, adopting every link so far
"$HOP_BIN" domains add go.example >/dev/null
run_import "$T/kd" --from kutt "$SAMPLES/kutt.json" --owner kd
expect_eq "kutt with domains: a slug another owner has on the default domain is skipped" \
  "$(tail -n 1 "$T/kd")" "8 links: 1 imported, 4 skipped, 0 renamed, 3 refused"
expect_eq "kutt with domains: Kutt's domain kept (go.example), its own domain's links on the default" \
  "$("$HOP_BIN" export --owner kd --format json | jq -r '.[] | "\(.slug) \(.domain)"')" "halfpast go.example"
run_import "$T/bd" --from bitly "$SAMPLES/bitly.csv" --owner bd --domain go.example
expect_eq "--domain go.example: every line there, beside the same slugs on s.example" \
  "$(tail -n 1 "$T/bd") $("$HOP_BIN" export --owner bd --format json | jq -r '[.[].domain] | unique | join(",")')" \
  "10 lines: 4 imported, 0 skipped, 0 renamed, 6 refused go.example"
run_import "$T/nd" --from bitly "$SAMPLES/bitly.csv" --owner bd --domain nosuch.example
expect_eq "--domain unknown: status 1 and the reason" "$RC $(grep -c 'no such domain' "$T/nd.err")" "1 1"
printf 'slug,url,domain\nsame,https://example.com/1,s.example\nsame,https://example.com/2,go.example\nsame,https://example.com/3,nosuch.example\nsame,https://example.com/4,\n' >"$T/dom.csv"
run_import "$T/dom" --from csv "$T/dom.csv" --owner dm
expect_file "csv with a domain column: one slug on two domains; an unknown domain refused; empty: the default" "$T/dom" \
  'line 4: refused: domain: no such domain here (add it with hop domains add, or give --domain)
line 5: refused: an earlier line of the file has the same slug
4 lines: 2 imported, 0 skipped, 0 renamed, 2 refused'
"$HOP_BIN" export --owner dm >"$T/dm.csv"
run_import "$T/dm2" --from csv "$T/dm.csv" --owner dm
expect_eq "an export with domains imported again: each link recognised on its domain" "$(tail -n 1 "$T/dm2")" \
  "2 lines: 0 imported, 2 skipped, 0 renamed, 0 refused"

finish
