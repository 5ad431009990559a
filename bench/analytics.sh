#!/usr/bin/env bash
# Analytics benchmark (issue 13), `make bench-stats`: storage per row, per link per active day and per million
# visits, and the stats API's times over data generated with SQL: one link with a year of hourly rows, and an
# owner with 10,000 links active for 30 days. Prints each figure beside its target: the requests' times
# through Caddy (curl, median), the PostgreSQL time of their statements (EXPLAIN ANALYZE, median), the
# master's batch write, and the plans (EXPLAIN (ANALYZE, BUFFERS)) of the statements of the three figures. A
# real stack (PostgreSQL, hop, Caddy over HTTPS) from tests/lib/stack.sh; loopback only; bounded (about five
# minutes, most of it generating the data through visit_hours_add). Usage: bash bench/analytics.sh (HOP_BIN=build/hop by default; BENCH_RUNS).
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/stack.sh"

# keep a year of hourly rows (the roll-up would otherwise turn all but 30 days into daily rows)
export HOP_ANALYTICS_HOURLY_DAYS=400
export HOP_WORKERS=${HOP_WORKERS:-2}
RUNS=${BENCH_RUNS:-9}
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
stack_start
API_KEY=$(make_key bench)
OWNER=$(psql_q "SELECT id FROM owners WHERE name = 'bench'")
req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/year","slug":"year"}'
YEAR=$(psql_q "SELECT id FROM links WHERE slug = 'year'")

t0=$(now_ms)
# one link, a year of hours, each hour 31 rows: the total, 5 referrers, 5 countries, 3 devices, 4 browsers, 4
# OSes and 3 values of each UTM field
psql_q "SELECT visit_hours_add(array_agg($YEAR::bigint), array_agg((extract(epoch FROM h)::bigint / 3600)::int),
    array_agg(d.dim), array_agg(d.value), array_agg(1 + (random() * 20)::bigint), array_agg((random() * 5)::bigint))
  FROM generate_series(date_trunc('hour', now()) - interval '365 days', date_trunc('hour', now()), interval '1 hour') h,
  (VALUES (0, ''), (1, 'news.example.org'), (1, ''), (1, 't.co'), (1, 'mastodon.social'), (1, 'www.google.com'),
    (2, 'FR'), (2, 'DE'), (2, 'US'), (2, 'GB'), (2, 'unknown'), (3, 'desktop'), (3, 'mobile'), (3, 'tablet'),
    (4, 'Chrome'), (4, 'Safari'), (4, 'Firefox'), (4, 'Edge'), (5, 'Windows'), (5, 'iOS'), (5, 'Android'),
    (5, 'macOS'), (6, ''), (6, 'newsletter'), (6, 'mastodon'), (7, ''), (7, 'email'), (7, 'social'), (8, ''),
    (8, 'spring-sale'), (8, 'launch')) d(dim, value)"
# the owner's 10,000 links, each visited in one hour of each of the last 30 days, one value per dimension
psql_q "INSERT INTO links (slug, owner_id, url) SELECT 'b' || g, $OWNER, 'https://example.com/' || g
  FROM generate_series(1, 10000) g"
psql_q "SELECT visit_hours_add(array_agg(l.id), array_agg((extract(epoch FROM date_trunc('day', now())
    - make_interval(days => k) + make_interval(hours => (l.id % 24)::int))::bigint / 3600)::int),
  array_agg(d.dim), array_agg(d.value), array_agg(3::bigint), array_agg(1::bigint))
  FROM links l, generate_series(0, 29) k,
  (VALUES (0, ''), (1, 't.co'), (2, 'FR'), (3, 'mobile'), (4, 'Safari'), (5, 'iOS'), (6, ''), (7, ''), (8, '')) d(dim, value)
  WHERE l.owner_id = $OWNER AND l.slug LIKE 'b%'" >/dev/null
psql_q "VACUUM ANALYZE visit_hours, visit_days, owner_hours, owner_days, visit_months, owner_months, owner_link_spans"
echo "# data generated in $(($(now_ms) - t0)) ms"

# ---- storage ------------------------------------------------------------------------------------------------
# size TABLE: "rows bytes" of TABLE, indexes included
size() { psql_q "SELECT count(*), pg_total_relation_size('$1') FROM $1" | tr '|' ' '; }
read -r rows bytes < <(size visit_hours)
read -r drows dbytes < <(size visit_days)
read -r mrows mbytes < <(size visit_months)
read -r srows sbytes < <(size owner_link_spans)
# an hour row's bytes: its tuple, its line pointer and its share of the indexes, for the 10,000 links' rows
# (the total and 8 values) and for the busy link's (the total and 30 values)
read -r small busy < <(psql_q "SELECT (SELECT avg(pg_column_size(v.*))::int FROM visit_hours v WHERE link_id <> $YEAR) + 4
  + pg_indexes_size('visit_hours') / count(*), (SELECT avg(pg_column_size(v.*))::int FROM visit_hours v
  WHERE link_id = $YEAR) + 4 + pg_indexes_size('visit_hours') / count(*) FROM visit_hours" | tr '|' ' ')
read -r orows obytes < <(size owner_days)
read -r hrows hbytes < <(size owner_hours)
read -r omrows ombytes < <(size owner_months)
per_day_row=$((dbytes / drows)) per_month_row=$((mbytes / mrows)) per_span=$((sbytes / srows))
echo "storage: visit_hours $rows rows, $bytes bytes ($small per row of 8 values, $busy of 30);" \
  "visit_days $drows rows, $dbytes bytes ($per_day_row per row); visit_months $mrows rows, $mbytes bytes" \
  "($per_month_row per row); owner_link_spans $srows rows, $sbytes bytes ($per_span per row);" \
  "owner_hours $hrows rows, $hbytes bytes; owner_days $orows rows, $obytes bytes; owner_months $omrows rows," \
  "$ombytes bytes"
# A link visited in one hour of a day, one value per dimension: an hour row while its hours are kept, 9 day
# rows, 9 month rows (shared by the month's active days) and one span per level 1..10 (shared by the active
# days of the span: about one per day for a link visited every day).
hourly=$small lone=$((9 * per_day_row + 9 * per_month_row + 10 * per_span))
daily=$((9 * per_day_row + 9 * per_month_row / 30 + per_span))
echo "  a link active in one hour of a day, one value per dimension: $((hourly + lone)) bytes per active day" \
  "while hourly and $lone after the roll-up when it is its month's only active day; $((hourly + daily)) and" \
  "$daily for a link visited every day (plus its owner's summaries, shared by all of the owner's links)"
echo "  a busy link, every hour, 31 values an hour: $((24 * busy + 31 * per_day_row + 31 * per_month_row / 30 + per_span))" \
  "bytes per day while hourly, $((31 * per_day_row + 31 * per_month_row / 30 + per_span)) bytes per day after the roll-up"
echo "  a million visits cost what their link-hours and distinct (dimension, value) entries cost, whatever the count"

# ---- timings through Caddy -----------------------------------------------------------------------------------
# seconds_median_ms: the median of the times in seconds on stdin, one a line, in ms
seconds_median_ms() {
  sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] * 1000}'
}
# median NAME TARGET_MS PATH: the median of RUNS requests' total times (curl, one kept-alive connection), beside the target
median() {
  local name=$1 target=$2 path=$3 i urls=() kept fresh
  # RUNS + 1 requests on one kept-alive connection, the first (which pays the TLS handshake) dropped, as
  # bench/search.sh measures; then RUNS requests each on a new connection (curl run anew), for comparison
  for ((i = 0; i <= RUNS; i++)); do urls+=(-o /dev/null "$BASE$path"); done
  kept=$(curl -sS --cacert "$CACERT" -H "Authorization: Bearer $API_KEY" -w '%{time_total}\n' "${urls[@]}" |
    tail -n +2 | seconds_median_ms)
  fresh=$(for ((i = 0; i < RUNS; i++)); do
    curl -sS -o /dev/null -w '%{time_total}\n' --cacert "$CACERT" -H "Authorization: Bearer $API_KEY" "$BASE$path"
  done | seconds_median_ms)
  printf '%-58s median %7s ms over %d runs (target <= %s ms; new connection each: %s ms; load %s)\n' "$name" \
    "$kept" "$RUNS" "$target" "$fresh" "$(cut -d' ' -f1 /proc/loadavg)"
}
from=$(date -u -d '365 days ago' +%F)
today=$(date -u +%F)
median "one link, a year of hourly data, per day" 20 "/api/links/year/stats?from=$from&to=$today"
median "one link, a year of hourly data, per day, bots=true" 20 "/api/links/year/stats?from=$from&to=$today&bots=true"
median "one link, a year of hourly data, per day of Europe/Paris" 20 "/api/links/year/stats?from=$from&to=$today&tz=Europe/Paris"
median "one link, the last 31 days per hour" 20 "/api/links/year/stats?granularity=hour&from=$(date -u -d '30 days ago' +%F)&to=$today"
median "GET /api/stats, owner of 10,001 links, last 30 days" 100 "/api/stats"
median "GET /api/stats, the same per day of Europe/Paris" 100 "/api/stats?tz=Europe/Paris"

# ---- PostgreSQL's time of each statement, and the plans --------------------------------------------------------
strings -n 6 "$HOP_BIN" >"$T/strings.txt"
# pg NAME RE PARAMS: the statement of hop's strings matching RE, prepared, run RUNS times with PARAMS: the
# median of its planning and execution time (EXPLAIN ANALYZE, TIMING OFF) in PG_MS, printed; its plan with
# buffers in $T/plan.txt. Planned as hop plans it: the one link's UTC days and top lists are STMT_APP_REPLAN
# (planned for their values on every run: force_custom_plan), the others prepared (after 5 runs PostgreSQL
# may switch to a generic plan).
pg() {
  local name=$1 re=$2 params=$3 sql i mode=auto
  case $name in series | "top lists" | "top lists paris") mode=force_custom_plan ;; esac
  sql=$(grep -m 1 -E "$re" "$T/strings.txt")
  [[ -n $sql ]] || {
    echo "no statement matches $re" >&2
    return 1
  }
  {
    echo "PREPARE s AS $sql;"
    echo "SET plan_cache_mode = $mode;"
    for ((i = 0; i < RUNS; i++)); do echo "EXPLAIN (ANALYZE, TIMING OFF) EXECUTE s($params);"; done
  } | psql -X -q -At -d "$HOP_DB" | awk '/^Planning Time/ {p = $3} /^Execution Time/ {print p + $3}' |
    sort -n >"$T/times.txt"
  PG_MS=$(awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}' "$T/times.txt")
  printf '  %-56s %8s ms (median of %d; load %s)\n' "$name" "$PG_MS" "$RUNS" "$(cut -d' ' -f1 /proc/loadavg)"
  psql -X -q -d "$HOP_DB" -c "PREPARE s AS $sql" -c "SET plan_cache_mode = $mode" \
    -c "EXPLAIN (ANALYZE, BUFFERS) EXECUTE s($params)" >"$T/plan.txt"
}
# figure NAME TARGET STATEMENT...: each statement ("name|re|params") with pg, then their sum beside the target
figure() {
  local name=$1 target=$2 sum=0 st n re p
  shift 2
  echo "$name (PostgreSQL's time, target <= $target ms for the request):"
  for st in "$@"; do
    IFS='|' read -r n re p <<<"$st"
    pg "$n" "$re" "$p"
    sum=$(awk -v a="$sum" -v b="$PG_MS" 'BEGIN {print a + b}')
    cp "$T/plan.txt" "$T/plan-${n//[^a-z0-9]/_}.txt"
  done
  printf '  %-56s %8s ms (target <= %s ms)\n' "together" "$sum" "$target"
}
# calibrate: a fixed amount of PostgreSQL CPU work, timed the same way, to scale the figures below by how busy
# the shared machine is (in one run after another, not against an idle machine)
calibrate() {
  psql -X -q -At -d "$HOP_DB" -c "EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM generate_series(1, 1000000)" |
    awk -v l="$(cut -d' ' -f1 /proc/loadavg)" '/^Execution Time/ {printf "calibration: count(*) of generate_series(1, 1000000) %s ms (load %s)\n", $3, l}'
}
calibrate
lo=$(date -u -d "$from" +%s)
hi=$(($(date -u -d "$today" +%s) + 86400))
month_lo=$((hi - 30 * 86400))
# (400: the hourly retention this run keeps, HOP_ANALYTICS_HOURLY_DAYS above)
# shellcheck disable=SC2016 # $N are SQL parameters
re_series_days='^WITH p AS \(SELECT coalesce.*FROM visit_days WHERE link_id = \$1 AND dim = 0 AND day < \(SELECT c\.day'
# shellcheck disable=SC2016
re_series_hours='^WITH p AS \(SELECT coalesce.*FROM visit_hours WHERE link_id = \$1'
# shellcheck disable=SC2016
re_top_link='^WITH src AS MATERIALIZED \(SELECT dim, value, humans, bots FROM visit_months WHERE link_id = \$1'
# shellcheck disable=SC2016
re_series_owner='^WITH p AS \(SELECT coalesce.*FROM owner_days WHERE owner_id = \$1 AND dim = 0 AND day < \(SELECT c\.day'
# shellcheck disable=SC2016
re_series_owner_hours='^WITH p AS \(SELECT coalesce.*FROM owner_hours WHERE owner_id = \$1'
# shellcheck disable=SC2016
re_top_owner='^WITH src AS MATERIALIZED \(SELECT dim, value, humans, bots FROM owner_months WHERE owner_id = \$1'
re_top_links='^WITH x AS \(SELECT t\.link_id'
# the top lists' $6: each dimension's none value (db_links.h's visit_dim_none)
none="'{\"\",\"\",unknown,bot,other,other,\"\",\"\",\"\"}'"
# Europe/Paris: the range's ends an hour before UTC midnight (the winter offset; the run's dates are not
# checked for summer time, so the top lists' edges may be two hours)
paris_lo=$(TZ=Europe/Paris date -d "$from 00:00" +%s)
paris_hi=$(TZ=Europe/Paris date -d "$(date -u -d "$today + 1 day" +%F) 00:00" +%s)
paris_mlo=$(TZ=Europe/Paris date -d "$(date -u -d "$today - 29 days" +%F) 00:00" +%s)
figure "one link, a year of hourly data, per UTC day" 20 \
  "series|$re_series_days|$YEAR, '$from', NULL, '$today', NULL, NULL, 'UTC', false" \
  "top lists|$re_top_link|$YEAR, $lo, $hi, false, 400, $none"
figure "one link, a year of hourly data, per day of Europe/Paris" 20 \
  "series paris|$re_series_hours|$YEAR, '$from', NULL, '$today', NULL, NULL, 'Europe/Paris', false, 400" \
  "top lists paris|$re_top_link|$YEAR, $paris_lo, $paris_hi, false, 400, $none"
figure "GET /api/stats, owner of 10,001 links, last 30 UTC days" 100 \
  "owner series|$re_series_owner|$OWNER, NULL, NULL, NULL, NULL, NULL, 'UTC', false" \
  "owner top lists|$re_top_owner|$OWNER, $month_lo, $hi, false, 400, $none" \
  "top links|$re_top_links|$OWNER, $month_lo, $hi, false, 400"
figure "GET /api/stats, the same per day of Europe/Paris" 100 \
  "owner series paris|$re_series_owner_hours|$OWNER, NULL, NULL, NULL, NULL, NULL, 'Europe/Paris', false, 400" \
  "owner top lists paris|$re_top_owner|$OWNER, $paris_mlo, $paris_hi, false, 400, $none" \
  "top links paris|$re_top_links|$OWNER, $paris_mlo, $paris_hi, false, 400"
for n in top_lists series_paris top_links top_links_paris; do
  echo "---- EXPLAIN (ANALYZE, BUFFERS): $n"
  grep -vE '^ *(Planning:|Buffers: shared hit=[0-9]+$)' "$T/plan-$n.txt" | cut -c1-220 | awk 'NR <= 60 || /Time:/'
done
# ---- the master's batch write ----------------------------------------------------------------------------
# One batch of the owner's first 1,000 links, each with 9 rows (one value per dimension) in an hour that has
# none yet (inserts), then the same batch again (appended): what the master writes every 100 ms under load. A
# batch of another hour goes first, so that the two measured run as on the master's connection, with the
# statement planned (0026). Run last: the rolled-back rows leave dead index entries the reads above would step
# over. Each run in a transaction rolled back.
# (visits_add records the batch's id in the same statement, 0013: each execution below gets its own id)
add_sql=$(grep -m 1 -E '^WITH batch AS \(INSERT INTO visit_batches' "$T/strings.txt")
[[ -n $add_sql ]] || {
  echo "bench-stats: the visit batch statement is not in $HOP_BIN" >&2
  exit 1
}
# the statement's elements (0027): one per link-hour, its values as array literals
b_ids=$(psql_q "SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM links WHERE owner_id = $OWNER AND slug LIKE 'b%'
  ORDER BY id LIMIT 1000) l")
b_n=$(($(tr -cd ',' <<<"$b_ids" | wc -c) + 1))
b_rows="'$b_ids', array_fill(HOUR, ARRAY[$b_n]), array_fill(3::bigint, ARRAY[$b_n]), array_fill(1::bigint, ARRAY[$b_n]),
  array_fill('{1,2,3,4,5,6,7,8}'::text, ARRAY[$b_n]), array_fill('{t.co,FR,mobile,Safari,iOS,\"\",\"\",\"\"}'::text, ARRAY[$b_n]),
  array_fill('{3,3,3,3,3,3,3,3}'::text, ARRAY[$b_n]), array_fill('{1,1,1,1,1,1,1,1}'::text, ARRAY[$b_n])"
b_hour=$(($(date -u +%s) / 3600 + 1))
# flush_ms: "insert_ms update_ms" of one run of the batch: the CPU time of the PostgreSQL backend (from /proc,
# as the machine is shared: wall time measures the neighbours)
tck=$(getconf CLK_TCK)
flush_ms() {
  {
    echo "BEGIN;"
    echo "PREPARE add AS $add_sql;"
    echo "EXECUTE add(${b_rows/HOUR/$((b_hour + 1))}, 1, '{}') \\g /dev/null"
    echo "SELECT pg_backend_pid() AS pid \\gset"
    echo "\\setenv BENCH_PG_PID :pid"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BENCH_PG_PID/stat"
    for batch in 2 3; do
      echo "EXECUTE add(${b_rows/HOUR/$b_hour}, $batch, '{}') \\g /dev/null"
      echo "\\! awk '{print \$14 + \$15}' /proc/\$BENCH_PG_PID/stat"
    done
    echo "ROLLBACK;"
  } | psql -X -q -At -v ON_ERROR_STOP=1 -d "$HOP_DB" |
    awk -v t="$tck" '{c[NR] = $1} END {if (NR == 3) printf "%d %d\n", (c[2] - c[1]) * 1000 / t, (c[3] - c[2]) * 1000 / t}'
}
ins=() upd=()
for ((i = 0; i < RUNS; i++)); do
  read -r a b < <(flush_ms)
  [[ -n $b ]] || {
    echo "bench-stats: the batch write failed (above)" >&2
    exit 1
  }
  ins+=("$a") upd+=("$b")
done
new_ins=$(printf '%s\n' "${ins[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
new_upd=$(printf '%s\n' "${upd[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
# the figures of the build before 0025 (one row per value), from this script on this machine, 2026-12-07
echo "batch write, $b_n links of 9 rows each (PostgreSQL CPU, median of $RUNS, load $(cut -d' ' -f1 /proc/loadavg)): new hour" \
  "$new_ins ms, the same hour again $new_upd ms (before 0025: 270 and 150 ms)"

calibrate
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

finish
