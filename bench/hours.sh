#!/usr/bin/env bash
# `make bench-hours`: what adding a part of the master's window to the hours costs PostgreSQL, per link-hour,
# as the schema stands and with other schemas beside it (issue 17). A throwaway PostgreSQL with hop's
# migrations, HOURS_LINKS links (default 1,000,000), and HOURS_ROUNDS parts (default 20) of HOURS_PART
# link-hours each (default 3,000) drawn by a Zipf distribution (s = 1.0) over the links, each link-hour with
# about HOURS_ENTRIES values (default 15) of a small vocabulary, as make bench-scale's visitors give. One pass
# first writes every link-hour of the parts, so each part then adds to rows that exist, as under steady load.
#
# Each VARIANT.sql given is applied to a copy of that database of its own (after the pass); the as-stored
# copy is made the same way. The parts go to every copy round by round, in an order that turns each round,
# so the machine's noise falls on all of them alike; each statement is timed by its backend's CPU
# (/proc/PID/schedstat), not by the clock. Prints, per copy: the median µs of CPU per link-hour, the median
# of its rounds' ratios to the as-stored copy's, VACUUM of the hours afterwards (its CPU), the hours' size
# and the share of updates that were HOT. Writes build/bench/hours.md (HOURS_OUT). About a minute and a half
# for the defaults.
#
#   bash bench/hours.sh [VARIANT.sql ...]      (HOP_BIN=build/hop by default; KEEP=1 keeps the temp dir)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

say() { echo "bench-hours: $*" >&2; }
die() {
  echo "bench-hours: $*" >&2
  exit 1
}
usage() {
  echo "usage: bench/hours.sh [VARIANT.sql ...]   (HOURS_LINKS, HOURS_PART, HOURS_ROUNDS, HOURS_ENTRIES; KEEP=1)" >&2
  exit 2
}
[[ ${1:-} == -h || ${1:-} == --help ]] && usage

nlinks=${HOURS_LINKS:-1000000}
part=${HOURS_PART:-3000}
rounds=${HOURS_ROUNDS:-20}
entries=${HOURS_ENTRIES:-15}
hop=${HOP_BIN:-$repo/build/hop}
out=${HOURS_OUT:-$repo/build/bench/hours.md}
for v in "$nlinks" "$part" "$rounds" "$entries"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || die "HOURS_LINKS, HOURS_PART, HOURS_ROUNDS and HOURS_ENTRIES must be positive integers"
done
((nlinks >= 1000 && nlinks <= 5000000)) || die "HOURS_LINKS must be 1000..5000000"
((part <= 20000 && part * 2 <= nlinks)) || die "HOURS_PART must be at most 20000 and half of HOURS_LINKS"
((rounds >= 2 && rounds <= 100)) || die "HOURS_ROUNDS must be 2..100"
((entries <= 30)) || die "HOURS_ENTRIES must be 1..30 (the vocabulary has 30 values)"
((${#@} <= 6)) || die "at most 6 variants"
variants=(as-stored)
files=("")
for f in "$@"; do
  [[ -r $f ]] || die "$f: not a readable file"
  name=$(basename "$f" .sql)
  [[ $name =~ ^[A-Za-z0-9_.-]+$ && $name != as-stored ]] || die "$f: name the file with letters, digits, . _ -"
  for v in "${variants[@]}"; do [[ $v != "$name" ]] || die "$f: two variants named $name"; done
  variants+=("$name")
  files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
[[ -x $hop ]] || die "$hop not found (make build/hop)"
command -v psql >/dev/null || die "psql not found (make deps installs it)"

T=$(mktemp -d "${TMPDIR:-/tmp}/hop-hours.XXXXXX")
chmod 0711 "$T" # the postgres user must traverse it when we are root
pg_started=""
cleanup() {
  trap - EXIT
  set +e
  [[ -n $pg_started ]] && PGDEV_DIR=$T/pg db/pgdev.sh stop >>"$T/pgdev.log" 2>&1
  if [[ ${KEEP:-} == 1 ]]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_pg_start
# db_url NAME: the connection string of database NAME of this cluster
db_url() { echo "${HOP_DB/dbname=hop/dbname=$1}"; }
psql_in() { # DB ARGS...
  local db=$1
  shift
  psql -X -Atq -v ON_ERROR_STOP=1 -d "$(db_url "$db")" "$@"
}
"$hop" migrate >"$T/migrate.log" 2>&1 || die "hop migrate failed: $(tail -n 5 "$T/migrate.log")"

say "generating $nlinks links and $rounds parts of $part link-hours (about $entries values each)"
t0=$EPOCHREALTIME
psql_in hop -v n="$nlinks" -v part="$part" -v rounds="$rounds" -v e="$entries" <<'EOF' >"$T/gen.log" 2>&1 ||
-- the links' text-search indexes play no part in writing hours: dropped, so that the load is quick
SELECT format('DROP INDEX %s', indexrelid::regclass) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = 'links'::regclass AND am.amname = 'gin' \gexec
INSERT INTO owners (name) VALUES ('bench');
SET session_replication_role = replica;
INSERT INTO links (slug, owner_id, url)
SELECT 's' || i, (SELECT id FROM owners WHERE name = 'bench'), 'https://example.com/article/' || i
FROM generate_series(1, :n) AS i;
SET session_replication_role = DEFAULT;
-- 30 values over five dimensions (1 referrer, 2 country, 3 device, 4 browser, 5 OS)
CREATE TABLE bench_vocab (dim smallint, value text);
INSERT INTO bench_vocab
SELECT 1, unnest('{www.google.com,t.co,news.example.org,mastodon.social,www.reddit.com,lobste.rs,duckduckgo.com,example.net}'::text[])
UNION ALL SELECT 2, unnest('{US,DE,FR,GB,SE,JP,BR}'::text[])
UNION ALL SELECT 3, unnest('{desktop,mobile,tablet}'::text[])
UNION ALL SELECT 4, unnest('{Chrome,Firefox,Safari,Edge,"Samsung Internet",Opera}'::text[])
UNION ALL SELECT 5, unnest('{Windows,macOS,Linux,Android,iOS,ChromeOS}'::text[]);
-- each round's link-hours: the first :part distinct links of a Zipf draw (ids 1..n, rank = id)
CREATE TABLE bench_draws AS
SELECT r, id FROM (SELECT r, id, row_number() OVER (PARTITION BY r ORDER BY min(k)) AS k
                   FROM (SELECT r, k, least(:n, floor(exp(random() * ln(:n + 1.0))))::bigint AS id
                         FROM generate_series(1, :rounds) r, generate_series(1, 8 * :part) k) z
                   GROUP BY r, id) x
WHERE k <= :part;
-- round 0, the pass: every link-hour of the rounds once
INSERT INTO bench_draws SELECT DISTINCT 0, id FROM bench_draws;
CREATE TABLE bench_parts AS
SELECT d.r, array_agg(d.id ORDER BY d.id) AS ids,
  array_agg((extract(epoch FROM now())::bigint / 3600)::int ORDER BY d.id) AS hours,
  array_agg(1 + x.n ORDER BY d.id) AS th, array_agg(0::bigint ORDER BY d.id) AS tb,
  array_agg(x.dims ORDER BY d.id) AS dims, array_agg(x.vals ORDER BY d.id) AS vals,
  array_agg(x.hs ORDER BY d.id) AS hs, array_agg(x.bs ORDER BY d.id) AS bs
FROM bench_draws d CROSS JOIN LATERAL (
  SELECT count(*) AS n, coalesce(array_agg(v.dim), '{}')::text AS dims,
    coalesce(array_agg(v.value), '{}')::text AS vals, coalesce(array_agg(1), '{}')::text AS hs,
    coalesce(array_agg(0), '{}')::text AS bs
  FROM bench_vocab v WHERE random() < :e / 30.0 + 0 * d.id) x
GROUP BY d.r;
SELECT visit_hours_put(ids, hours, th, tb, dims, vals, hs, bs) FROM bench_parts WHERE r = 0;
EOF
  die "generation failed: $(tail -n 5 "$T/gen.log")"
# The links' lookups must be index-only, as on a database whose links autovacuum has seen: a VACUUM right
# after the load can leave their pages not all-visible (seen here), so it is repeated until they are.
for ((k = 0; k < 40; k++)); do
  psql_in hop -c "VACUUM ANALYZE" >/dev/null
  (($(psql_in hop -c "SELECT (relallvisible >= 0.95 * relpages)::int FROM pg_class WHERE relname = 'links'") == 1)) && break
  sleep 0.5
done
((k < 40)) || die "the links' pages did not become all-visible after 40 VACUUMs"
pass=$(psql_in hop -c "SELECT cardinality(ids) FROM bench_parts WHERE r = 0")
per_part=$(psql_in hop -c "SELECT round(avg(cardinality(ids))) FROM bench_parts WHERE r > 0")
avg_entries=$(psql_in hop -c "SELECT round(avg(cardinality(dims)), 1) FROM visit_hours")
gen_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
say "generated in $gen_s s: the pass wrote $pass link-hours ($avg_entries values each on average)"

# one copy per variant, each made from the database after the pass
for i in "${!variants[@]}"; do
  # autovacuum may still be in the database after the load: a copy waits for it to leave
  for ((k = 0; k < 60; k++)); do
    psql_in postgres -c "CREATE DATABASE v$i TEMPLATE hop" >/dev/null 2>"$T/copy.err" && break
    sleep 0.5
  done
  ((k < 60)) || die "copying the database failed: $(cat "$T/copy.err")"
  if [[ -n ${files[i]} ]]; then
    psql_in "v$i" -f "${files[i]}" >"$T/variant$i.log" 2>&1 ||
      die "${files[i]} failed: $(tail -n 5 "$T/variant$i.log")"
  fi
done

# cpu_of DB SQL: the CPU (ns) the backend spent on SQL, after a call of visit_hours_put on no rows (the
# session's plans are made by then, as a master's are)
cpu_of() {
  psql_in "$1" <<EOF
SELECT visit_hours_put('{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}');
SELECT pg_backend_pid() AS bp \gset
\setenv BP :bp
\o /dev/null
\! cut -d' ' -f1 /proc/\$BP/schedstat
$2;
\! cut -d' ' -f1 /proc/\$BP/schedstat
EOF
}
# ns_between: the difference of the two numbers cpu_of printed last
ns_between() { tail -n 2 | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }'; }

nv=${#variants[@]}
results=$T/results.tsv
: >"$results"
say "$rounds rounds over ${nv} database(s), turning the order each round"
for ((r = 1; r <= rounds; r++)); do
  for ((j = 0; j < nv; j++)); do
    i=$(((j + r) % nv))
    ns=$(cpu_of "v$i" "SELECT visit_hours_put(ids, hours, th, tb, dims, vals, hs, bs) FROM bench_parts WHERE r = $r" | ns_between)
    n=$(psql_in "v$i" -c "SELECT cardinality(ids) FROM bench_parts WHERE r = $r")
    printf '%s\t%d\t%s\t%s\n' "${variants[i]}" "$r" "$ns" "$n" >>"$results"
  done
done

mkdir -p "$(dirname "$out")"
{
  echo "# Adding a window's part to the hours (make bench-hours)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), hop $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs," \
    "$(psql_in hop -c "SHOW server_version" | cut -d' ' -f1 | sed 's/^/PostgreSQL /'). $nlinks links; $rounds parts of" \
    "$per_part link-hours after a pass over $pass, about $avg_entries values a row after the pass and $entries a part." \
    "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| schema | µs of CPU per link-hour (median of $rounds parts) | ÷ as stored (median of the parts' ratios) | VACUUM of the hours after (ms of CPU) | visit_hours with its indexes | HOT updates |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for i in "${!variants[@]}"; do
    v=${variants[i]}
    us=$(awk -F '\t' -v v="$v" '$1 == v { printf "%.2f\n", $3 / 1000 / $4 }' "$results" | median | xargs printf '%.2f')
    ratio=$(awk -F '\t' -v v="$v" '$1 == "as-stored" { base[$2] = $3 } $1 == v { mine[$2] = $3 }
      END { for (r in mine) if (base[r] > 0) printf "%.3f\n", mine[r] / base[r] }' "$results" | median | xargs printf '%.3f')
    vac=$(cpu_of "v$i" "VACUUM visit_hours, owner_hours" | ns_between)
    size=$(psql_in "v$i" -c "SELECT pg_size_pretty(pg_total_relation_size('visit_hours'))")
    hot=$(psql_in "v$i" -c "SELECT CASE WHEN n_tup_upd > 0 THEN round(100.0 * n_tup_hot_upd / n_tup_upd) || ' %' ELSE '-' END
      FROM pg_stat_user_tables WHERE relname = 'visit_hours'")
    printf '| %s | %s | %s | %.1f | %s | %s |\n' "$v" "$us" "$ratio" "$(awk -v n="$vac" 'BEGIN { print n / 1e6 }')" "$size" "$hot"
  done
  echo
  echo "Each part went to every copy in turn; a copy's statement is timed by its backend's CPU alone, so the"
  echo "figures leave out the WAL writer and autovacuum (the VACUUM column stands for the latter)."
} >"$out"
cat "$out"
say "written to $out"
