#!/usr/bin/env bash
# `make bench-import`: generates a CSV of BENCH_IMPORT_LINES (1,000,000) links in hop's format (titles with
# quoted commas, tags, visit totals, creation times), imports it into a throwaway PostgreSQL and reports the
# rate and the importer's peak RSS, the CPU time of hop import and of PostgreSQL (a figure the other loads of a
# shared machine disturb far less than the elapsed time), and the load average before and after. A
# measurement, not a test: it fails only if the import does.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOP_BIN=${HOP_BIN:-$REPO/build/hop}
LINES=${BENCH_IMPORT_LINES:-1000000}
T=$(mktemp -d "${TMPDIR:-/tmp}/hop-bench-import.XXXXXX")
chmod 0711 "$T"
cleanup() {
  PGDEV_DIR=$T/pg "$REPO/db/pgdev.sh" stop >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

PGDEV_DIR=$T/pg "$REPO/db/pgdev.sh" start >"$T/pg.log" 2>&1
HOP_DB=$(PGDEV_DIR=$T/pg "$REPO/db/pgdev.sh" url)
export HOP_DB
"$HOP_BIN" migrate >/dev/null 2>&1

awk -v n="$LINES" 'BEGIN {
  print "slug,url,title,created_at,tags,visits"
  for (i = 1; i <= n; i++)
    printf "s%07d,https://example.com/articles/%d?ref=import,\"Article %d, part %d\",2024-%02d-%02dT%02d:%02d:00Z,\"news,t%d\",%d\r\n", \
      i, i, i, i % 9, i % 12 + 1, i % 28 + 1, i % 24, i % 60, i % 50, i % 1000
}' >"$T/links.csv"
echo "bench-import: $(wc -l <"$T/links.csv") lines, $(du -m "$T/links.csv" | cut -f1) MiB in $T/links.csv"

# CPU seconds of the cluster so far: the postmaster and its live processes, and the backends it has reaped
# (an import's backend ends with its connection, and its time then counts in the postmaster's cutime/cstime)
pg_cpu() {
  local pm t=0 p
  pm=$(head -n 1 "$T/pg/data/postmaster.pid")
  for p in "$pm" $(pgrep -P "$pm"); do
    t=$((t + $(awk '{ print $14 + $15 + ($1 == pm ? $16 + $17 : 0) }' pm="$pm" "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

# The import's backends end after hop import does; one reaped between the reads of pg_cpu would be counted
# nowhere, so the count waits until the postmaster has as many children as before the import (at most 10 s).
children() { pgrep -c -P "$(head -n 1 "$T/pg/data/postmaster.pid")" || true; }
settle() {
  local i
  for ((i = 0; i < 200; i++)); do
    (($(children) <= children_before)) && return 0
    sleep 0.05
  done
  echo "bench-import: the import's backends are still running; PostgreSQL's CPU below is short" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
children_before=$(children)
cpu_before=$(pg_cpu)
start=$(date +%s.%N)
/usr/bin/time -f '%M %U %S' -o "$T/rss" "$HOP_BIN" import --from csv "$T/links.csv" --owner bench >"$T/out" 2>"$T/err"
end=$(date +%s.%N)
settle
cpu_after=$(pg_cpu)
tail -n 1 "$T/out"
secs=$(echo "$end - $start" | bc -l)
read -r rss user sys <"$T/rss"
printf 'bench-import: %d lines in %.1f s (target <= 30 s): %.0f lines/s; peak RSS of hop import %.1f MiB\n' \
  "$LINES" "$secs" "$(echo "$LINES / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
printf 'bench-import: CPU: hop import %.1f s, PostgreSQL %.1f s; load average %s before, %s after\n' \
  "$(echo "$user + $sys" | bc -l)" "$(echo "($cpu_after - $cpu_before) / $(getconf CLK_TCK)" | bc -l)" \
  "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench-import: links in the database: $(psql -X -Atq -d "$HOP_DB" -c 'SELECT count(*) FROM links')"
