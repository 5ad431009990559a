#!/usr/bin/env bash
# Analytics benchmark (issue 13): storage per row, per link per active day and per million visits, and the
# stats API's times over data generated with SQL: one link with a year of hourly rows, and an owner with
# 10,000 links active for 30 days. Prints EXPLAIN ANALYZE of the statements and the timings beside the
# targets. A real stack (PostgreSQL, hop, Caddy over HTTPS) from tests/lib/stack.sh; loopback only; bounded
# (about a minute). Usage: bash bench/analytics.sh (HOP_BIN=build/hop by default).
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/stack.sh"

# keep a year of hourly rows (the roll-up would otherwise turn all but 30 days into daily rows)
export HOP_ANALYTICS_HOURLY_DAYS=400
export HOP_WORKERS=${HOP_WORKERS:-2}
RUNS=${BENCH_RUNS:-7}
stack_start
API_KEY=$(make_key bench)
OWNER=$(psql_q "SELECT id FROM owners WHERE name = 'bench'")
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/year","slug":"year"}'
YEAR=$(psql_q "SELECT id FROM links WHERE slug = 'year'")

t0=$(now_ms)
# one link, a year of hours, each hour 31 rows: the total, 5 referrers, 5 countries, 3 devices, 4 browsers, 4
# OSes and 3 values of each UTM field
psql_q "INSERT INTO visit_counts (link_id, dim, bucket, hourly, value, humans, bots)
  SELECT $YEAR, d.dim, h, true, d.value, 1 + (random() * 20)::int, (random() * 5)::int
  FROM generate_series(date_trunc('hour', now()) - interval '365 days', date_trunc('hour', now()), interval '1 hour') h,
  (VALUES (0, ''), (1, 'news.example.org'), (1, ''), (1, 't.co'), (1, 'mastodon.social'), (1, 'www.google.com'),
    (2, 'FR'), (2, 'DE'), (2, 'US'), (2, 'GB'), (2, 'unknown'), (3, 'desktop'), (3, 'mobile'), (3, 'tablet'),
    (4, 'Chrome'), (4, 'Safari'), (4, 'Firefox'), (4, 'Edge'), (5, 'Windows'), (5, 'iOS'), (5, 'Android'),
    (5, 'macOS'), (6, ''), (6, 'newsletter'), (6, 'mastodon'), (7, ''), (7, 'email'), (7, 'social'), (8, ''),
    (8, 'spring-sale'), (8, 'launch')) d(dim, value)"
# the owner's 10,000 links, each visited in one hour of each of the last 30 days, one value per dimension
psql_q "INSERT INTO links (slug, owner_id, url) SELECT 'b' || g, $OWNER, 'https://example.com/' || g
  FROM generate_series(1, 10000) g"
psql_q "INSERT INTO visit_counts (link_id, dim, bucket, hourly, value, humans, bots)
  SELECT l.id, d.dim, date_trunc('day', now()) - make_interval(days => k) + make_interval(hours => (l.id % 24)::int),
    true, d.value, 3, 1
  FROM links l, generate_series(0, 29) k,
  (VALUES (0, ''), (1, 't.co'), (2, 'FR'), (3, 'mobile'), (4, 'Safari'), (5, 'iOS'), (6, ''), (7, ''), (8, '')) d(dim, value)
  WHERE l.owner_id = $OWNER AND l.slug LIKE 'b%'"
psql_q "VACUUM ANALYZE visit_counts, visit_days, owner_hours, owner_days"
echo "# data generated in $(($(now_ms) - t0)) ms"

# ---- storage ------------------------------------------------------------------------------------------------
# size TABLE: "rows bytes" of TABLE, indexes included
size() { psql_q "SELECT count(*), pg_total_relation_size('$1') FROM $1" | tr '|' ' '; }
read -r rows bytes < <(size visit_counts)
read -r drows dbytes < <(size visit_days)
read -r orows obytes < <(size owner_days)
read -r hrows hbytes < <(size owner_hours)
per_row=$((bytes / rows)) per_day_row=$((dbytes / drows))
echo "storage: visit_counts $rows rows, $bytes bytes ($per_row per row); visit_days $drows rows, $dbytes bytes" \
  "($per_day_row per row); owner_hours $hrows rows, $hbytes bytes; owner_days $orows rows, $obytes bytes"
echo "  a link active in one hour of a day, one value per dimension (9 hour rows, 9 day rows):" \
  "$((9 * (per_row + per_day_row))) bytes per active day while hourly, $((9 * per_day_row)) after the roll-up" \
  "(plus its owner's summaries, shared by all of the owner's links)"
echo "  a busy link, every hour, 31 rows an hour: $((744 * per_row + 31 * per_day_row)) bytes per day while hourly," \
  "$((31 * per_day_row)) bytes per day after the roll-up"
echo "  a million visits cost what their distinct (hour, dimension, value) rows cost, whatever the count:" \
  "from $((9 * (per_row + per_day_row))) bytes (all in one hour, one value each) to" \
  "$((744 * per_row + 31 * per_day_row)) bytes (every hour of a day with the busy profile;" \
  "$((31 * per_day_row)) after the roll-up)"

# ---- timings through Caddy -----------------------------------------------------------------------------------
# median NAME TARGET_MS PATH: the median of RUNS requests' total times (curl), beside the target
median() {
  local name=$1 target=$2 path=$3 i times=()
  for ((i = 0; i < RUNS; i++)); do
    times+=("$(curl -sS -o /dev/null -w '%{time_total}' --cacert "$CACERT" -H "Authorization: Bearer $API_KEY" "$BASE$path")")
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] * 1000}')
  printf '%-58s median %7s ms over %d runs (target <= %s ms)\n' "$name" "$med" "$RUNS" "$target"
}
from=$(date -u -d '365 days ago' +%F)
today=$(date -u +%F)
median "one link, a year of hourly data, per day" 20 "/api/links/year/stats?from=$from&to=$today"
median "one link, a year of hourly data, per day, bots=true" 20 "/api/links/year/stats?from=$from&to=$today&bots=true"
median "one link, a year of hourly data, per day of Europe/Paris" 20 "/api/links/year/stats?from=$from&to=$today&tz=Europe/Paris"
median "one link, the last 31 days per hour" 20 "/api/links/year/stats?granularity=hour&from=$(date -u -d '30 days ago' +%F)&to=$today"
median "GET /api/stats, owner of 10,001 links, last 30 days" 100 "/api/stats"
median "GET /api/stats, the same per day of Europe/Paris" 100 "/api/stats?tz=Europe/Paris"

# ---- EXPLAIN ANALYZE of the statements, from the strings compiled into hop ------------------------------------
strings -n 6 "$HOP_BIN" >"$T/strings.txt"
explain() {
  local name=$1 re=$2 params=$3 sql
  sql=$(grep -m 1 -E "$re" "$T/strings.txt")
  echo "---- EXPLAIN ANALYZE: $name"
  psql -X -q -d "$HOP_DB" -c "PREPARE s AS $sql" -c "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) EXECUTE s($params)" |
    grep -E 'Execution Time|Planning Time|^ *(->|[A-Z])' | awk '/Time:/ || n++ < 30'
}
lo=$(date -u -d "$from" +%s)
hi=$(($(date -u -d "$today" +%s) + 86400))
# shellcheck disable=SC2016 # $N are SQL parameters
# (400: the hourly retention this run keeps, HOP_ANALYTICS_HOURLY_DAYS above)
explain "series, one link, a year per UTC day" '^WITH p AS \(SELECT coalesce.*FROM visit_days WHERE link_id = \$1 AND dim = 0\)' \
  "$YEAR, '$from', NULL, '$today', NULL, NULL, 'UTC', false"
# shellcheck disable=SC2016
explain "series, one link, a year per day of Europe/Paris" '^WITH p AS \(SELECT coalesce.*FROM visit_counts WHERE link_id = \$1' \
  "$YEAR, '$from', NULL, '$today', NULL, NULL, 'Europe/Paris', false, 400"
# shellcheck disable=SC2016
explain "top lists, one link, a year" '^SELECT dim, value, n FROM .*FROM visit_days WHERE link_id = \$1' \
  "$YEAR, $lo, $hi, false, 400"
# shellcheck disable=SC2016
explain "series, owner of 10,001 links, 30 UTC days" '^WITH p AS \(SELECT coalesce.*FROM owner_days WHERE owner_id = \$1 AND dim = 0\)' \
  "$OWNER, NULL, NULL, NULL, NULL, NULL, 'UTC', false"
# shellcheck disable=SC2016
explain "top lists, owner, 30 days" '^SELECT dim, value, n FROM .*FROM owner_days WHERE owner_id = \$1' \
  "$OWNER, $((hi - 30 * 86400)), $hi, false, 400"
explain "top links, owner, 30 days" '^SELECT l\.slug, \(SELECT d\.name' "$OWNER, $((hi - 30 * 86400)), $hi, false, 400"

finish
