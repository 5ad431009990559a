#!/usr/bin/env bash
# `make bench-replica`: what a read replica (HOP_DB_READ) and its read-your-writes cost (issue 17). Starts a
# throwaway primary, hop and Caddy (tests/lib/stack.sh) and a streaming replica (tests/lib/replica.sh), and
# measures, on one owner with REPLICA_LINKS links:
#   - in PostgreSQL alone (pgbench -M prepared, one client, REPLICA_SECONDS each): a list page of 50, and the
#     stamp lookup a replica read adds (read_lsn_owner) on the primary and on the replica;
#   - a link insert with and without the read_lsn stamp trigger (what every write pays, replica or not);
#   - end to end through Caddy over HTTPS (curl, one kept-alive connection, REPLICA_RUNS requests): a list
#     page without HOP_DB_READ, with it and the replica caught up, and with it while the owner's last write is
#     not replayed (replay paused: the primary answers after both lookups).
# Loopback and Unix sockets only; every load bounded by time or count. Knobs: REPLICA_LINKS (1000),
# REPLICA_SECONDS (5), REPLICA_RUNS (300), KEEP=1. Writes build/bench/replica.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
nlinks=${REPLICA_LINKS:-1000}
secs=${REPLICA_SECONDS:-5}
runs=${REPLICA_RUNS:-300}
if ! [[ $nlinks =~ ^[1-9][0-9]*$ && $secs =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] ||
  ((nlinks > 100000 || secs > 30 || runs > 2000)); then
  echo "bench-replica: REPLICA_LINKS must be 1..100000, REPLICA_SECONDS 1..30, REPLICA_RUNS 1..2000" >&2
  exit 2
fi
pgbin=$(pg_config --bindir 2>/dev/null || true)
[[ -x $pgbin/pgbench ]] || pgbin=/usr/lib/postgresql/15/bin
export HOP_WORKERS=${HOP_WORKERS:-2}
out=$repo/build/bench/replica.md
mkdir -p "$(dirname "$out")"

# shellcheck source=tests/lib/stack.sh
. tests/lib/stack.sh
# shellcheck source=tests/lib/replica.sh
. tests/lib/replica.sh
say() { echo "bench-replica: $*" >&2; }
cleanup() {
  replica_cleanup
  stack_stop >/dev/null
}
stack_start >&2
trap cleanup EXIT

key=$(make_key bench)
owner=$(psql_q "SELECT id FROM owners WHERE name = 'bench'")
psql_q "INSERT INTO links (slug, owner_id, url, title, tags)
        SELECT 'b' || i, $owner, 'https://example.com/item/' || i, 'Item ' || i, ARRAY['t' || i % 10]
        FROM generate_series(1, $nlinks) i" >/dev/null
psql_q "VACUUM ANALYZE links" >/dev/null

# ---- PostgreSQL alone -------------------------------------------------------------------------------------

# pg_us CONNINFO FILE: pgbench's average latency of FILE's transaction in microseconds.
pg_us() {
  "$pgbin/pgbench" -n -M prepared -c 1 -T "$secs" -f "$2" "$1" 2>>"$T/pgbench.err" |
    awk '/latency average/ { printf "%.0f\n", $4 * 1000 }'
}
# link_list from the binary; pgbench would read :MI and :SS as variables (the work is the same)
strings -n 6 "$HOP_BIN" >"$T/strings.txt"
grep -m 1 -E 'WHERE k\.owner_id = \$1 AND k\.id < \$2' "$T/strings.txt" |
  sed -e 's/HH24:MI:SS/HH24-MI-SS/g' -e "s/\$1/$owner/g" -e 's/\$2/9223372036854775807/g' -e 's/\$3/50/g' -e 's/$/;/' >"$T/list.sql"
[[ -s $T/list.sql ]] || {
  say "link_list not found in $HOP_BIN"
  exit 1
}
echo "SELECT lsn FROM read_lsn WHERE owner_id = $owner;" >"$T/lookup.sql"
psql_q "CREATE SEQUENCE bench_slug" >/dev/null
echo "INSERT INTO links (slug, owner_id, url) VALUES ('w' || nextval('bench_slug'), $owner, 'https://example.com/w');" >"$T/insert.sql"
# the stamp exists once the owner has written
psql_q "UPDATE links SET title = title WHERE slug = 'b1'" >/dev/null

replica_start || exit 1
poll_until 20000 replica_caught_up "$owner" || {
  say "the replica did not catch up"
  exit 1
}
say "PostgreSQL alone, ${secs} s per figure"
list_us=$(pg_us "$HOP_DB" "$T/list.sql")
lookup_us=$(pg_us "$HOP_DB" "$T/lookup.sql")
lookup_r_us=$(pg_us "$HOP_DB_READ" "$T/lookup.sql")
list_r_us=$(pg_us "$HOP_DB_READ" "$T/list.sql")
ins_on=$(pg_us "$HOP_DB" "$T/insert.sql")
psql_q "ALTER TABLE links DISABLE TRIGGER links_read_lsn_insert" >/dev/null
ins_off=$(pg_us "$HOP_DB" "$T/insert.sql")
psql_q "ALTER TABLE links ENABLE TRIGGER links_read_lsn_insert" >/dev/null
ins_on2=$(pg_us "$HOP_DB" "$T/insert.sql")
psql_q "ALTER TABLE links DISABLE TRIGGER links_read_lsn_insert" >/dev/null
ins_off2=$(pg_us "$HOP_DB" "$T/insert.sql")
psql_q "ALTER TABLE links ENABLE TRIGGER links_read_lsn_insert" >/dev/null
# the stamp trigger's own time inside single-link inserts: EXPLAIN ANALYZE in one session (its first run
# compiles the function and is left out), median of the rest
for ((i = 0; i < 51; i++)); do
  echo "EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO links (slug, owner_id, url) VALUES ('e' || nextval('bench_slug'), $owner, 'https://example.com/e');"
done >"$T/explain.sql"
psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB" -f "$T/explain.sql" >"$T/explain.json"
read -r trig_us exec_us < <(jq -s -r '[.[1:][] | .[0]] |
  [(map([.Triggers[] | select(."Trigger Name" == "links_read_lsn_insert") | .Time] | add * 1000) | sort | .[length / 2 | floor]),
   (map(."Execution Time" * 1000) | sort | .[length / 2 | floor])] | map(floor | tostring) | join(" ")' "$T/explain.json")
load_pg=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- end to end -------------------------------------------------------------------------------------------

# e2e: REPLICA_RUNS GET /api/links?limit=50 over one connection; prints "median p90" in ms.
e2e() {
  local cfg=$T/curl.cfg i
  : >"$cfg"
  for ((i = 0; i < runs; i++)); do
    printf 'url = "%s/api/links?limit=50"\noutput = "/dev/null"\n' "$BASE" >>"$cfg"
  done
  curl -sS --cacert "$CACERT" -H "Authorization: Bearer $key" -w '%{http_code} %{time_total}\n' -K "$cfg" >"$T/e2e.txt"
  if grep -vq '^200 ' "$T/e2e.txt"; then
    echo "bad: $(grep -vc '^200 ' "$T/e2e.txt") not 200"
    return 0
  fi
  awk '{ printf "%.3f\n", $2 * 1000 }' "$T/e2e.txt" | sort -n |
    awk '{ t[NR] = $1 } END { printf "%.2f / %.2f\n", t[int((NR + 1) / 2)], t[int(NR * 0.9)] }'
}
metric() {
  curl -sS --max-time 10 "$METRICS_BASE/metrics" |
    awk -v s="$1" 'index($0, s) == 1 { v += $NF } END { printf "%d\n", v }'
}
say "end to end, $runs requests per figure"
saved=$HOP_DB_READ
unset HOP_DB_READ
stack_pool_stop >/dev/null
stack_pool_start
e2e >/dev/null # warm: connections, prepared statements, Caddy's TLS session
e2e_primary=$(e2e)
export HOP_DB_READ=$saved
stack_pool_stop >/dev/null
stack_pool_start
e2e >/dev/null
# rounds alternate the replica caught up and behind, on the same pool, so that the machine's load moves both
e2e_replica="" e2e_behind="" by_replica=0 by_behind=0 w=0
for round in 1 2 3; do
  poll_until 20000 replica_caught_up "$owner" || say "round $round: the replica did not catch up"
  before=$(metric 'hop_postgres_replica_reads_total{answered_by="replica"}')
  e2e_replica+="$(e2e); "
  by_replica=$((by_replica + $(metric 'hop_postgres_replica_reads_total{answered_by="replica"}') - before))
  rq "SELECT pg_wal_replay_pause()" >/dev/null
  poll_until 5000 replica_paused || say "replay did not pause"
  w=$((w + 1))
  psql_q "UPDATE links SET title = 'x$w' WHERE slug = 'b2'" >/dev/null # the owner writes; the replica cannot have it
  before=$(metric 'hop_postgres_replica_reads_total{answered_by="primary",reason="behind"}')
  e2e_behind+="$(e2e); "
  by_behind=$((by_behind + $(metric 'hop_postgres_replica_reads_total{answered_by="primary",reason="behind"}') - before))
  rq "SELECT pg_wal_replay_resume()" >/dev/null
done
unset HOP_DB_READ
stack_pool_stop >/dev/null
stack_pool_start
e2e >/dev/null
e2e_primary+="; $(e2e)"
load_e2e=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# bench-replica: a read replica and read-your-writes ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "One owner with $nlinks links; PostgreSQL 15, primary and replica on this machine (db/pgdev.sh settings:"
  echo "fsync and synchronous_commit off). $(nproc) CPUs."
  echo
  echo "| figure | measured |"
  echo "| --- | ---: |"
  echo "| list page of 50 in PostgreSQL, primary / replica (pgbench, mean) | $list_us / $list_r_us µs |"
  echo "| stamp lookup (read_lsn_owner), primary / replica | $lookup_us / $lookup_r_us µs |"
  echo "| link insert with / without the stamp trigger (two rounds) | $ins_on, $ins_on2 / $ins_off, $ins_off2 µs |"
  echo "| the stamp trigger inside one insert / the whole insert, server side (EXPLAIN ANALYZE, median of 50) | $trig_us / $exec_us µs |"
  echo "| GET /api/links?limit=50 through Caddy, median / p90 ms: no HOP_DB_READ (before, after) | $e2e_primary |"
  echo "| the same, HOP_DB_READ, replica caught up, 3 rounds ($by_replica of $((3 * runs)) answered by it) | $e2e_replica |"
  echo "| the same, the owner's write not replayed, 3 rounds ($by_behind of $((3 * runs)) answered by the primary) | $e2e_behind |"
  echo
  echo "Load average: $load_pg (after PostgreSQL alone), $load_e2e (after end to end)."
} >"$out"
cat "$out"
