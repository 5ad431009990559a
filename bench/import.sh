#!/usr/bin/env bash
# `make bench-import`: generates a CSV of BENCH_IMPORT_LINES (1,000,000) links in hop's format (titles with
# quoted commas, tags, visit totals, creation times), imports it into a throwaway PostgreSQL and reports the
# rate and the importer's peak RSS. A measurement, not a test: it fails only if the import does.
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

start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$T/rss" "$HOP_BIN" import --from csv "$T/links.csv" --owner bench >"$T/out" 2>"$T/err"
end=$(date +%s.%N)
tail -n 1 "$T/out"
secs=$(echo "$end - $start" | bc -l)
printf 'bench-import: %d lines in %.1f s: %.0f lines/s; peak RSS of hop import %.1f MiB\n' "$LINES" "$secs" \
  "$(echo "$LINES / $secs" | bc -l)" "$(echo "$(cat "$T/rss") / 1024" | bc -l)"
echo "bench-import: links in the database: $(psql -X -Atq -d "$HOP_DB" -c 'SELECT count(*) FROM links')"
