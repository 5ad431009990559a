#!/usr/bin/env bash
# Integration test of analytics through Caddy over HTTPS: humans and bots apart (isbot list, preview
# fetchers, HEAD, empty User-Agent), each dimension (referrer, device, browser, OS, UTM) counted exactly,
# max_visits claimed by humans only, the stats API (from/to, granularity, tz with its DST days, zeros not
# gaps, top lists, bots=true, CSV, GET /api/stats with top links) and hostile input answered with a 400 that
# names the parameter, never a 5xx.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

export HOP_WORKERS=${HOP_WORKERS:-3}
FIREFOX='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
IPHONE='Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
CHROME_WIN='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
FIVEXX=0

# visit SLUG UA [curl args]: one GET of the short link from User-Agent UA, from 127.0.0.1 unless the args say
# otherwise; fails the suite on anything but 302.
visit() {
  local slug=$1 ua=$2
  shift 2
  API_KEY='' req GET "/$slug" -A "$ua" "${@:--4}"
  [[ $STATUS == 302 ]] || fail "visit /$slug from ${ua:0:40}" "$(_stack_last)"
}

# link_counts SLUG HUMANS BOTS: the link's visits and bot_visits (for poll_until).
link_counts() {
  req GET "/api/links/$1"
  [[ $(jq -r '"\(.visits) \(.bot_visits)"' <<<"$BODY") == "$2 $3" ]]
}

# top SLUG LIST [query]: the top list LIST of SLUG's stats as compact "value=visits" pairs, most first.
top() {
  req GET "/api/links/$1/stats?${3:-}"
  jq -r --arg l "$2" '[.top[$l][] | "\(.value)=\(.visits)"] | join(" ")' <<<"$BODY"
}

# bad_stats NAME QUERY PARAM: the stats of t1 with QUERY answer 400 naming PARAM in errors[].field.
bad_stats() {
  req GET "/api/links/t1/stats?$2"
  if [[ $STATUS == 400 && $(jq -r '[.errors[].field] | join(",")' <<<"$BODY") == "$3" ]]; then
    ok "$1: 400 naming $3 ($(jq -r .detail <<<"$BODY"))"
  else
    fail "$1: 400 naming $3" "$(_stack_last)"
  fi
  [[ $STATUS != 5* ]] || FIVEXX=$((FIVEXX + 1))
}

# a country database of our own: 127.0.0.1 is in NL, 127.0.0.3 in DE, 127.0.0.2 nowhere (Caddy listens on
# IPv4 loopback only; IPv6 lookups are in tests/unit/test_geo.c)
MMDB=$(mktemp --suffix=.mmdb)
trap 'rm -f "$MMDB"' EXIT
perl "$(dirname "${BASH_SOURCE[0]}")/../lib/make-mmdb.pl" "$MMDB" 127.0.0.1/32=NL 127.0.0.3/32=DE ::1/128=JP
export HOP_GEOIP_DB=$MMDB
stack_start
API_KEY=$(make_key analytics)

# ---- humans and bots, each dimension ---------------------------------------------------------------------
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/t","slug":"t1"}'
expect_status "create t1" 201
for _ in 1 2 3; do visit t1 "$FIREFOX" -e 'https://News.Example.org:8443/2024/01/post?id=7#c'; done
for _ in 1 2; do visit t1 "$IPHONE" --get -d utm_source=mastodon -d utm_medium=social -d utm_campaign=launch; done
visit t1 "$CHROME_WIN" --get -d 'utm_campaign=caf%C3%A9' -d 'utm_source=news%FFletter'
# bots: the isbot list, preview fetchers, a monitor, an empty User-Agent, HEAD from a browser's
for ua in 'Googlebot/2.1 (+http://www.google.com/bot.html)' 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' \
  'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)' 'WhatsApp/2.23.20.0 A' \
  'http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)' 'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)'; do
  visit t1 "$ua"
done
API_KEY='' req GET /t1 -H 'User-Agent:'
expect_status "an empty User-Agent is answered" 302
API_KEY='' req HEAD /t1 -A "$FIREFOX"
expect_status "HEAD is answered" 302
if poll_until 3000 link_counts t1 6 8; then
  ok "t1: 6 humans and 8 bots (isbot list, 4 preview fetchers, a monitor, empty UA, HEAD) ($POLL_MS ms)"
else
  fail "t1: 6 humans and 8 bots" "$(_stack_last)"
fi
expect_eq "referrers: the host without port or path; ties by value" "$(top t1 referrers)" "=3 news.example.org=3"
expect_eq "devices" "$(top t1 devices)" "desktop=4 mobile=2"
expect_eq "browsers" "$(top t1 browsers)" "Firefox=3 Safari=2 Chrome=1"
expect_eq "operating systems" "$(top t1 operating_systems)" "Linux=3 iOS=2 Windows=1"
expect_eq "utm_source: percent-decoded; invalid UTF-8 dropped (none)" "$(top t1 utm_source)" "=4 mastodon=2"
expect_eq "utm_medium" "$(top t1 utm_medium)" "=4 social=2"
expect_eq "utm_campaign: UTF-8 kept" "$(top t1 utm_campaign)" "=3 launch=2 café=1"
expect_eq "countries: from HOP_GEOIP_DB" "$(top t1 countries)" "NL=6"
expect_eq "bots=true: bots count in the top lists too" "$(top t1 devices bots=true)" "bot=8 desktop=4 mobile=2"
req GET /api/links/t1/stats
expect_json "stats: total counts humans" .total 6
expect_json "stats: bot_total beside it" .bot_total 8
expect_json "stats: today's series bucket" '.series[-1] | "\(.humans) \(.bots)"' "6 8"
expect_json "stats: legacy days" '.days[-1].visits' 6
expect_json "stats: legacy referrers" '.referrers | map("\(.host)=\(.visits)") | join(" ")' "=3 news.example.org=3"
# every breakdown adds up to the total, in the database too
sums=$(psql_q "SELECT string_agg(DISTINCT (h::text || '/' || b::text), ',') FROM (SELECT dim, sum(humans) h, sum(bots) b
  FROM visit_counts v JOIN links l ON l.id = v.link_id WHERE l.slug = 't1' GROUP BY dim) x")
expect_eq "visit_counts: every dimension sums to the same humans/bots" "$sums" "6/8"
expect_eq "visit_counts: nine dimensions" "$(psql_q "SELECT count(DISTINCT dim) FROM visit_counts")" 9
expect_eq "no address and no User-Agent stored anywhere" \
  "$(psql_q "SELECT count(*) FROM visit_counts WHERE value LIKE '%Mozilla%' OR value LIKE '%127.0.0.1%' OR value LIKE '%::1%'")" 0

# ---- countries -----------------------------------------------------------------------------------------------
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/g","slug":"g1"}'
visit g1 "$FIREFOX" -4
visit g1 "$FIREFOX" --interface 127.0.0.3
visit g1 "$IPHONE" --interface 127.0.0.3
visit g1 "$FIREFOX" --interface 127.0.0.2
if poll_until 3000 link_counts g1 4 0; then ok "g1: 4 visits ($POLL_MS ms)"; else fail "g1: 4 visits" "$(_stack_last)"; fi
expect_eq "countries: each address looked up; an address the database lacks is unknown" "$(top g1 countries)" \
  "DE=2 NL=1 unknown=1"

# ---- max_visits counts humans only -----------------------------------------------------------------------
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/m","slug":"m1","max_visits":2}'
expect_status "create m1 with max_visits 2" 201
for ua in 'Twitterbot/1.0' 'facebookexternalhit/1.1' 'LinkedInBot/1.0' 'TelegramBot (like TwitterBot)' 'curl/8.5.0'; do
  visit m1 "$ua"
done
req GET /api/links/m1
expect_json "m1: five bots used no visit" .visits_left 2
visit m1 "$FIREFOX"
visit m1 "$IPHONE"
API_KEY='' req GET /m1 -A "$FIREFOX"
expect_status "m1: the third human finds it used up" 410
API_KEY='' req GET /m1 -A 'Twitterbot/1.0'
expect_status "m1: a bot finds it used up too (without claiming)" 410

# ---- the stats API: ranges, granularity, zones, zeros ------------------------------------------------------
T1_ID=$(psql_q "SELECT id FROM links WHERE slug = 't1'")
# hourly rows around the Paris DST change of 2026-03-29 (02:00 local does not exist) and on 2026-10-25
psql_q "INSERT INTO visit_counts (link_id, dim, bucket, hourly, value, humans, bots)
  SELECT $T1_ID, d, t, true, CASE WHEN d = 0 THEN '' WHEN d = 2 THEN 'FR' ELSE 'x' END, 1, 2
  FROM unnest(ARRAY['2026-03-28 23:00Z', '2026-03-29 00:30Z', '2026-03-29 01:00Z', '2026-10-25 00:00Z',
    '2026-10-25 01:00Z']::timestamptz[]) t, generate_series(0, 8) d" >/dev/null
req GET '/api/links/t1/stats?from=2026-03-29&to=2026-03-29&granularity=hour&tz=Europe/Paris'
expect_status "hourly in Europe/Paris" 200
expect_json "DST spring day: 23 hours" '.series | length' 23
expect_json "DST spring day: 01:00+01:00 then 03:00+02:00" '[.series[1].start, .series[2].start] | join(" ")' \
  "2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00"
expect_json "DST spring day: hours hold their visits" '[.series[] | .humans] | add' 3
expect_json "from/to in UTC" '"\(.from) \(.to)"' "2026-03-28T23:00:00Z 2026-03-29T22:00:00Z"
req GET '/api/links/t1/stats?from=2026-10-25&to=2026-10-25&granularity=hour&tz=Europe/Paris'
expect_json "DST autumn day: 25 hours, 02:00 twice" '[(.series | length), ([.series[].start | select(startswith("2026-10-25T02"))] | length)] | join(" ")' "25 2"
req GET '/api/links/t1/stats?from=2026-03-27&to=2026-03-31&tz=Europe/Paris'
expect_json "daily in Europe/Paris: five days, zeros not gaps" '[.series[] | "\(.start)=\(.humans)"] | join(" ")' \
  "2026-03-27T00:00:00+01:00=0 2026-03-28T00:00:00+01:00=0 2026-03-29T00:00:00+01:00=3 2026-03-30T00:00:00+02:00=0 2026-03-31T00:00:00+02:00=0"
expect_json "top countries over the range" '.top.countries | map("\(.value)=\(.visits)") | join(" ")' "FR=3"
req GET '/api/links/t1/stats?from=2026-03-27&to=2026-03-31&tz=UTC'
expect_json "the same visits in UTC days" '[.series[] | .humans] | join(",")' "0,1,2,0,0"
req GET '/api/links/t1/stats?from=2026-03-29T00:00:00Z&to=2026-03-29T02:00:00Z&granularity=hour'
expect_json "RFC 3339 bounds, end exclusive" '[.series[] | "\(.start)=\(.humans)/\(.bots)"] | join(" ")' \
  "2026-03-29T00:00:00+00:00=1/2 2026-03-29T01:00:00+00:00=1/2"
req GET '/api/links/t1/stats?from=2026-03-29T00:00:00Z&to=2026-03-29T02:00:00Z&granularity=hour' -H 'Accept: text/csv'
expect_status "CSV" 200
expect_header "CSV: text/csv" '^content-type: text/csv'
expect_eq "CSV: the series" "$(tr -d '\r' <<<"$BODY")" "start,humans,bots
2026-03-29T00:00:00+00:00,1,2
2026-03-29T01:00:00+00:00,1,2"
req GET /api/links/t1/stats
expect_json "default: the last 30 days" '.series | length' 30
req GET '/api/links/t1/stats?granularity=hour&from=2026-03-01&to=2026-03-31'
expect_json "31 days hourly is allowed" '.series | length' 744

# ---- GET /api/stats --------------------------------------------------------------------------------------
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/u","slug":"t2"}'
visit t2 "$FIREFOX"
poll_until 3000 link_counts t2 1 0 || true
req GET /api/stats
expect_status "GET /api/stats" 200
expect_json "owner: total over every link" .total 13
expect_json "owner: top links" '.links | map("\(.slug)=\(.visits)") | join(" ")' "t1=6 g1=4 m1=2 t2=1"
expect_json "owner: top devices" '.top.devices | map("\(.value)=\(.visits)") | join(" ")' "desktop=9 mobile=4"
other=$(make_key stranger)
API_KEY=$other req GET /api/stats
expect_json "another owner sees none of it" '"\(.total) \(.links | length)"' "0 0"

# ---- hostile input: a 400 naming the parameter ------------------------------------------------------------
bad_stats "tz=../../etc/passwd" 'tz=../../etc/passwd' tz
bad_stats "tz=Mars/Olympus" 'tz=Mars/Olympus' tz
bad_stats "tz twice" 'tz=UTC&tz=UTC' tz
bad_stats "tz of 300 bytes" "tz=$(printf 'A%.0s' {1..300})" tz
bad_stats "tz with a NUL" 'tz=UTC%00' tz
bad_stats "from after to" 'from=2026-03-02&to=2026-03-01' from
bad_stats "ten years hourly" 'from=2016-01-01&to=2025-12-31&granularity=hour' from
bad_stats "32 days hourly" 'from=2026-03-01&to=2026-04-01&granularity=hour' from
bad_stats "four years daily" 'from=2020-01-01&to=2023-12-31' from
bad_stats "from not a date" 'from=yesterday' from
bad_stats "February 30" 'from=2026-02-30' from
bad_stats "an hour of 24" 'from=2026-02-01T24:00:00Z' from
bad_stats "a time without a zone" 'to=2026-02-01T10:00:00' to
bad_stats "granularity=minute" 'granularity=minute' granularity
bad_stats "bots=yes" 'bots=yes' bots
bad_stats "days with from" 'days=3&from=2026-01-01' days
req GET "/api/links/t1/stats?from=2026-03-01&to=2026-03-02&tz=$(printf 'Europe/Paris%.0s' {1..1000})"
expect_status "a 12 KB tz" 400
# hostile User-Agents and UTM values: answered, counted, bounded
big=$(head -c 8192 /dev/zero | tr '\0' 'a')
visit t2 "Mozilla/5.0 (Windows NT 10.0) $big"
# control bytes never get past Caddy (a 400 over HTTP/1.1); a tab and bytes above 0x7f do, and are only bytes
API_KEY='' req GET /t2 --http1.1 -A "$(printf 'Mozilla/5.0 \001\002\003\177 (X11; Linux x86_64) Firefox/121.0')"
expect_status "control bytes in the User-Agent: Caddy's 400" 400
visit t2 "$(printf 'Mozilla/5.0 \t\xff\xfe\x80 (X11; Linux x86_64) Firefox/121.0')"
visit t2 "$FIREFOX" --get -d 'utm_source=%C0%AF' -d 'utm_medium=%ED%A0%80' -d "utm_campaign=$(head -c 3000 /dev/zero | tr '\0' 'c')"
visit t2 "$FIREFOX" --get -d 'utm_source=%00' -d 'utm_medium=a%0Db'
if poll_until 3000 link_counts t2 5 0; then ok "hostile requests counted as humans ($POLL_MS ms)"; else fail "hostile requests counted" "$(_stack_last)"; fi
expect_eq "UTM values: invalid UTF-8, NUL and CR dropped; 3000 bytes cut to 63" \
  "$(psql_q "SELECT string_agg(dim || ':' || length(value), ',' ORDER BY dim, length(value)) FROM visit_counts v JOIN links l ON l.id = v.link_id WHERE l.slug = 't2' AND dim BETWEEN 6 AND 8")" \
  "6:0,7:0,8:0,8:63"
expect_eq "no 5xx for hostile input" "$FIVEXX" 0
expect_eq "no worker died" "$(worker_deaths)" 0

finish
