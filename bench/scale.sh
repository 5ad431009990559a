#!/usr/bin/env bash
# `make bench-scale`: hop's costs at a million links, beside issue 17's targets, in one run. Generates the
# links with SQL (SCALE_LINKS, default 1,000,000, of which 100,000 belong to one owner), then measures:
# redirects through Caddy with requests spread over every link by a Zipf distribution (s = 1.0) against the
# one-link cell of the same run (target >= 0.95); PostgreSQL's CPU per redirect once warm (target <= 5 us),
# in those 6-s cells and over one visits window (a minute of load after a pass over the whole sample, so
# that each link-hour is written about once, as under steady load); the pool's PSS; cold start (a fresh pool
# and a restarted PostgreSQL) to full speed; the database's size per million links; the list at depth for
# the owner of 100,000 links (first, middle and last page by cursor, target <= 5 ms each); and PgBouncer
# (Debian's, 1.18) in front of PostgreSQL: which pool mode works with hop's per-connection prepared
# statements, connections per host, redirect and create rates against a direct connection in the same run.
# Loopback and Unix sockets only; every load is bounded in time.
# Knobs: SCALE_LINKS, SCALE_SECONDS (per sample, default 6), SCALE_ROUNDS (default 2), SCALE_CONNS (64),
# SCALE_WORKERS (hop's default when unset), SCALE_CACHE_MB (the pools' HOP_CACHE_MB, default 448: what a
# million links of this bench's length take; hop's default of 64 holds about 170,000), SCALE_WINDOW_KB (the
# pools' HOP_VISITS_WINDOW_KB; hop's default when unset), KEEP=1 keeps the temp dir. Writes
# build/bench/scale.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

nlinks=${SCALE_LINKS:-1000000}
secs=${SCALE_SECONDS:-6}
rounds=${SCALE_ROUNDS:-2}
conns=${SCALE_CONNS:-64}
nlist=100000
runs=30
hop=${HOP_BIN:-$repo/build/hop}
outdir=$repo/build/bench
clk_tck=$(getconf CLK_TCK)
for v in "$nlinks" "$secs" "$rounds" "$conns"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || {
    echo "bench-scale: SCALE_LINKS, SCALE_SECONDS, SCALE_ROUNDS and SCALE_CONNS must be positive integers" >&2
    exit 2
  }
done
((nlinks >= 2 * nlist && nlinks <= 5000000 && secs <= 30 && rounds <= 5 && conns <= 500)) || {
  echo "bench-scale: SCALE_LINKS 200000..5000000, at most 30 s per sample, 5 rounds, 500 connections" >&2
  exit 2
}

say() { echo "bench-scale: $*" >&2; }
die() {
  echo "bench-scale: $*" >&2
  exit 1
}
pgbin=$(pg_config --bindir 2>/dev/null || true)
[[ -x $pgbin/postgres ]] || pgbin=/usr/lib/postgresql/15/bin
for tool in wrk caddy psql curl python3 pgbouncer runuser "$hop"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make deps installs what is missing)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/hop-scale.XXXXXX")
chmod 0711 "$T" # the postgres user must traverse it when we are root
hop_pid="" pgb_pool_pid="" tx_pool_pid="" caddy_pid="" pgb_pid="" pg_started=""
cleanup() {
  trap - EXIT
  set +e
  stop_child "$caddy_pid"
  stop_child "$hop_pid"
  stop_child "$pgb_pool_pid"
  stop_child "$tx_pool_pid"
  [[ -n $pgb_pid ]] && kill -TERM "$pgb_pid" 2>/dev/null
  [[ -n $pg_started ]] && PGDEV_DIR=$T/pg db/pgdev.sh stop >>"$T/pgdev.log" 2>&1
  if [[ ${KEEP:-} == 1 ]]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_ports 4 40000 49000
port_hop=${ports[0]} port_pgb=${ports[1]} port_tx=${ports[2]} port_bouncer=${ports[3]}
cache_mb=${SCALE_CACHE_MB:-448}
window_kb=${SCALE_WINDOW_KB:-}
[[ -z $window_kb || $window_kb =~ ^[1-9][0-9]*$ ]] || die "SCALE_WINDOW_KB must be a positive integer"
[[ $cache_mb =~ ^[1-9][0-9]*$ ]] || die "SCALE_CACHE_MB must be a positive integer"
workers_env=(HOP_CACHE_MB="$cache_mb")
[[ -n $window_kb ]] && workers_env+=(HOP_VISITS_WINDOW_KB="$window_kb")
[[ -n ${SCALE_WORKERS:-} ]] && workers_env+=(HOP_WORKERS="$SCALE_WORKERS")

# ---- PostgreSQL and the data ---------------------------------------------------------------------------

bench_pg_start
psql_q() { psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB" "$@"; }
"$hop" migrate >"$T/migrate.log" 2>&1 || die "hop migrate failed: $(tail -n 5 "$T/migrate.log")"
key=$("$hop" keys create bench | tail -n 1)
list_key=$("$hop" keys create lister | tail -n 1)
[[ $key == hop_* && $list_key == hop_* ]] || die "hop keys create did not print keys"
owner=$(psql_q -c "SELECT id FROM owners WHERE name = 'bench'")
lister=$(psql_q -c "SELECT id FROM owners WHERE name = 'lister'")
psql_q -c "VACUUM ANALYZE" >/dev/null
db_empty=$(psql_q -c "SELECT pg_database_size(current_database())")

say "generating $nlinks links ($nlist of them for one owner) with SQL"
t0=$EPOCHREALTIME
# The GIN indexes are built once after the load (the same definitions, read from the catalog), far faster
# than row by row. Slug s<rank>: the Zipf load asks
# for s1 most often. The lister's links are the oldest ids, the others' come after them.
psql -X -q -v ON_ERROR_STOP=1 -d "$HOP_DB" -v owner="$owner" -v lister="$lister" -v n="$nlinks" -v nl="$nlist" <<'EOF' >"$T/gen.log" 2>&1 || die "generation failed: $(tail -n 5 "$T/gen.log")"
\timing on
SET maintenance_work_mem = '256MB';
-- no per-row triggers while loading: neither the notify trigger (no pool runs yet) nor the foreign-key
-- checks (both owners exist)
SET session_replication_role = replica;
CREATE TEMP TABLE gin_defs AS
  SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
  WHERE i.indrelid = 'links'::regclass AND am.amname = 'gin';
SELECT format('DROP INDEX %s', name) FROM gin_defs \gexec
INSERT INTO links (slug, owner_id, url, created_at)
SELECT 's' || i, CASE WHEN i > :n - :nl THEN :lister ELSE :owner END,
       'https://example.com/article/' || i || '?ref=scale', now() - make_interval(secs => i)
FROM generate_series(:n, 1, -1) AS i;
INSERT INTO links (slug, owner_id, url) VALUES ('popular', :owner, 'https://example.com/popular');
SET session_replication_role = DEFAULT;
SELECT def FROM gin_defs \gexec
VACUUM ANALYZE;
EOF
gen_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
db_full=$(psql_q -c "SELECT pg_database_size(current_database())")
links_size=$(psql_q -c "SELECT pg_total_relation_size('links')")
mib_per_m() { awk -v b="$1" -v n="$nlinks" 'BEGIN { printf "%.0f", b / n * 1e6 / 1048576 }'; }
db_per_m=$(mib_per_m $((db_full - db_empty)))
links_per_m=$(mib_per_m "$links_size")
say "generated in $gen_s s; database +$db_per_m MiB per million links"

# The Zipf sample (s = 1.0 over ranks 1..nlinks, exact: the inverse of the cumulative weights), 200,000
# requests; rank k is slug s<k>.
python3 - "$nlinks" 200000 >"$T/zipf.txt" <<'EOF'
import bisect, random, sys
n, m = int(sys.argv[1]), int(sys.argv[2])
cum, t = [], 0.0
for k in range(1, n + 1):
    t += 1.0 / k
    cum.append(t)
rnd = random.Random(17)
out = [f"/s{bisect.bisect_left(cum, rnd.random() * t) + 1}" for _ in range(m)]
sys.stdout.write("\n".join(out) + "\n")
EOF
zipf_distinct=$(sort -u "$T/zipf.txt" | wc -l)
zipf_top=$(grep -cx '/s1' "$T/zipf.txt" || true)

# ---- pools, PgBouncer, Caddy ----------------------------------------------------------------------------

# start_pool NAME SOCKET [VAR=VALUE...]: a pool on SOCKET, its log in $T/NAME.log; START_PID is its pid.
# Returns 1 when it did not get ready.
START_PID=""
start_pool() {
  local name=$1 sock=$2 i
  shift 2
  : >"$T/$name.log"
  env "${workers_env[@]}" HOP_NO_MIGRATE=1 HOP_LISTEN="$sock" "$@" "$hop" serve >/dev/null 2>"$T/$name.log" &
  START_PID=$!
  for ((i = 0; i < 150; i++)); do
    grep -q 'msg=ready' "$T/$name.log" && return 0
    alive "$START_PID" || return 1
    sleep 0.1
  done
  return 1
}

# PgBouncer on a Unix socket only (listen_addr empty), one database entry per pool mode. It refuses to run as
# root: it runs as postgres, as the cluster does.
mkdir -p "$T/pgb"
cat >"$T/pgb/pgbouncer.ini" <<EOF
[databases]
hop_session = host=$T/pg dbname=hop user=postgres pool_mode=session
hop_tx = host=$T/pg dbname=hop user=postgres pool_mode=transaction

[pgbouncer]
listen_addr =
listen_port = $port_bouncer
unix_socket_dir = $T/pgb
auth_type = trust
auth_file = $T/pgb/users.txt
admin_users = postgres
max_client_conn = 500
default_pool_size = 40
logfile = $T/pgb/pgbouncer.log
pidfile = $T/pgb/pgbouncer.pid
EOF
echo '"postgres" ""' >"$T/pgb/users.txt"
chown -R postgres:postgres "$T/pgb"
runuser -u postgres -- pgbouncer -d "$T/pgb/pgbouncer.ini" >"$T/pgb/start.log" 2>&1 ||
  die "pgbouncer did not start: $(cat "$T/pgb/start.log")"
for ((i = 0; i < 50; i++)); do
  [[ -s $T/pgb/pgbouncer.pid ]] && break
  sleep 0.1
done
pgb_pid=$(cat "$T/pgb/pgbouncer.pid")
pgb_version=$(pgbouncer --version | head -n 1)
bouncer() { echo "host=$T/pgb port=$port_bouncer dbname=$1 user=postgres"; }
pgb_admin() { psql -X -At -F' ' -d "host=$T/pgb port=$port_bouncer dbname=pgbouncer user=postgres" -c "$1"; }

fastcgi_site() {
  cat <<EOF
https://127.0.0.1:$1 {
	bind 127.0.0.1
	tls internal
	reverse_proxy unix/$2 {
		transport fastcgi {
			dial_timeout 3s
			read_timeout 30s
			write_timeout 30s
		}
		buffer_requests
		header_down -Status
	}
}
EOF
}
{
  printf '{\n\tadmin off\n\tskip_install_trust\n\tauto_https disable_redirects\n}\n'
  fastcgi_site "$port_hop" "$T/hop.sock"
  fastcgi_site "$port_pgb" "$T/pgb.sock"
  fastcgi_site "$port_tx" "$T/tx.sock"
} >"$T/Caddyfile"
XDG_DATA_HOME=$T/caddy XDG_CONFIG_HOME=$T/caddy-config caddy run --adapter caddyfile --config "$T/Caddyfile" \
  >"$T/caddy.log" 2>&1 &
caddy_pid=$!
hop_url=https://127.0.0.1:$port_hop
pgb_url=https://127.0.0.1:$port_pgb
tx_url=https://127.0.0.1:$port_tx

# ---- wrk scripts ---------------------------------------------------------------------------------------

cat >"$T/done.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d errors=%d unexpected=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
EOF
# the Zipf sample as a Lua table, each request with the next of many visitors' User-Agents and Referers
# (bench/lib.sh), as the one-link cell, and each wrk thread's number (1, 2, ...)
sample_head() {
  bench_visitors_lua
  cat <<EOF
local paths = {}
for line in io.lines("$T/zipf.txt") do paths[#paths + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
EOF
}
# the Zipf sample, each thread from its own offset, in order (the order is already random)
zipf_head() {
  sample_head
  cat <<'EOF'
local i
function request()
  if not i then i = (id * 48271) % #paths end
  i = i % #paths + 1
  return wrk.format(nil, paths[i], visitor())
end
EOF
}
{ zipf_head; cat "$T/done.lua"; } >"$T/zipf.lua"
# the whole Zipf sample once, thread 1 the odd lines and thread 2 the even ones: every link of it in the table
{
  sample_head
  cat <<'EOF'
local i
function request()
  if not i then i = id end
  local p = paths[i] or paths[#paths]
  i = i + 2
  return wrk.format(nil, p, visitor())
end
function response()
  if i > #paths + 2 then wrk.thread:stop() end
end
EOF
  cat "$T/done.lua"
} >"$T/all.lua"
{
  bench_visitors_lua
  echo 'function request() return wrk.format(nil, "/popular", visitor()) end'
  cat "$T/done.lua"
} >"$T/one.lua"
# the same, counting answers per wall-clock second (for the cold start)
{
  zipf_head | sed 's/^function setup(thread)$/function setup_zipf(thread)/'
  cat <<'EOF'
local threads = {}
function setup(thread)
  setup_zipf(thread)
  table.insert(threads, thread)
end
function init(args)
  good = {}
end
function response(status, headers, body)
  if status == 302 then
    local t = os.time()
    good[t] = (good[t] or 0) + 1
  end
end
function done(summary, latency, requests)
  local g, list = {}, {}
  for _, thread in ipairs(threads) do
    for t, n in pairs(thread:get("good")) do g[t] = (g[t] or 0) + n end
  end
  for t in pairs(g) do table.insert(list, t) end
  table.sort(list)
  for _, t in ipairs(list) do io.write(string.format("second %d good %d\n", t, g[t])) end
end
EOF
} >"$T/cold.lua"
{
  echo 'wrk.method = "POST"'
  echo 'wrk.body = "{\"url\": \"https://example.com/created\"}"'
  echo 'wrk.headers["Content-Type"] = "application/json"'
  echo "wrk.headers[\"Authorization\"] = \"Bearer $key\""
  cat "$T/done.lua"
} >"$T/create.lua"

# ---- cold start to full speed ----------------------------------------------------------------------------

# A fresh pool (empty caches) on a PostgreSQL just restarted (its shared buffers empty; the kernel's page
# cache is not dropped), then the Zipf load for 12 s, counted per second.
PGDEV_DIR=$T/pg db/pgdev.sh stop >>"$T/pgdev.log" 2>&1
PGDEV_DIR=$T/pg db/pgdev.sh start >>"$T/pgdev.log" 2>&1 || die "PostgreSQL did not restart"
t0=$EPOCHREALTIME
start_pool hop "$T/hop.sock" HOP_DB="$HOP_DB application_name=hop-direct" ||
  die "the pool did not start: $(tail -n 3 "$T/hop.log")"
hop_pid=$START_PID
ready_ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
for ((i = 0; i < 150; i++)); do
  curl -ksS -o /dev/null --max-time 2 "$hop_url/healthz" 2>/dev/null && break
  alive "$caddy_pid" || die "caddy exited: $(tail -n 5 "$T/caddy.log")"
  sleep 0.1
done
code=$(curl -ksS -o /dev/null -w '%{http_code}' "$hop_url/s1") || true
[[ $code == 302 ]] || die "$hop_url/s1 answered $code, not 302"
say "cold start: Zipf load on a fresh pool and a restarted PostgreSQL, 12 s"
timeout -k 5 60 wrk -t2 -c"$conns" -d12s -s "$T/cold.lua" "$hop_url" >"$T/cold.out" 2>&1 || true
# full speed: the median of the last 4 whole seconds; reached at the first second >= 90 % of it
grep '^second ' "$T/cold.out" | sed '1d;$d' | awk '{ print $4 }' >"$T/cold.per_sec"
cold_first=$(head -n 1 "$T/cold.per_sec")
cold_full=$(tail -n 4 "$T/cold.per_sec" | median | awk '{ printf "%.0f", $1 }')
cold_reach=$(awk -v f="$cold_full" '$1 >= 0.9 * f { print NR; exit }' "$T/cold.per_sec")

# ---- redirects: Zipf over every link against one link, interleaved ------------------------------------

pg_pid() { head -n 1 "$T/pg/data/postmaster.pid"; }
# snapshot POOL_PID: "caddy pool pg" CPU ticks
snapshot() { echo "$(tree_ticks "$caddy_pid") $(tree_ticks "$1") $(tree_ticks "$(pg_pid)")"; }
results=$T/results.tsv
: >"$results"
# metric SOCKET SAMPLE: a sample of a pool's /metrics, asked over its socket (hop status --metrics), or empty
metric() {
  { "$hop" status --metrics --socket "$1" 2>/dev/null || true; } | awk -v s="$2" 'index($0, s) == 1 && !n++ { print $NF }'
}
# settle: every running pool's visits written (bench_settle)
settle() { bench_settle "$hop" "$T/hop.sock" "$T/pgb.sock"; }
# lookups: the direct pool's redirects answered from PostgreSQL so far (the link table's misses)
lookups() { metric "$T/hop.sock" 'hop_redirects_total{source="postgres"}' | awk '{ print $1 + 0 } END { if (!NR) print 0 }'; }
# cell NAME URL SCRIPT SECONDS [POOL_PID]: one wrk run; appends "name requests seconds p50 p99 errors caddy_us
# hop_us pg_us", hop_us being the CPU of the pool that served it (default: the direct one)
cell() {
  local name=$1 url=$2 script=$3 d=$4 pool=${5:-$hop_pid} b a line l0
  settle
  l0=$(lookups)
  b=$(snapshot "$pool")
  line=$(timeout -k 5 $((d + 30)) wrk -t2 -c"$conns" -d"${d}s" -s "$script" "$url" | grep '^RESULT') || line=""
  sleep 0.2
  settle
  a=$(snapshot "$pool")
  [[ $line == RESULT* ]] || line="RESULT requests=0 seconds=1 p50_us=0 p99_us=0 errors=1 unexpected=0"
  awk -v name="$name" -v b="$b" -v a="$a" -v tck="$clk_tck" -v line="$line" -v l="$(($(lookups) - l0))" 'BEGIN {
    split(line, f, /[ =]/); req = f[3]; s = f[5]; bad = f[11] + f[13]
    split(b, x, " "); split(a, y, " ")
    us = 1e6 / tck / (req ? req : 1)
    printf "%s\t%d\t%.2f\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t%.2f\n", name, req, s, f[7], f[9], bad,
      (y[1] - x[1]) * us, (y[2] - x[2]) * us, (y[3] - x[3]) * us, l * 1000 / (req ? req : 1) }' >>"$results"
}
say "warming up (Zipf, $secs s)"
cell warm "$hop_url" "$T/zipf.lua" "$secs"
for ((r = 1; r <= rounds; r++)); do
  say "round $r of $rounds: one link, Zipf"
  if ((r % 2)); then
    cell one-link "$hop_url" "$T/one.lua" "$secs"
    cell zipf "$hop_url" "$T/zipf.lua" "$secs"
  else
    cell zipf "$hop_url" "$T/zipf.lua" "$secs"
    cell one-link "$hop_url" "$T/one.lua" "$secs"
  fi
done
read -r hop_rss hop_pss hop_nproc <<<"$(tree_mem "$hop_pid")"
# One visits window: the 6-s cells above are each settled at their end, so each writes its link-hours as if
# the master's window were 6 s long. Here, after a pass over the whole sample (every link of it in the table;
# not measured), the Zipf load runs for a minute, the master's window (HOP_VISITS_WINDOW_MS, 60 s by default)
# holding its parts until they are due, and the cell is settled at its end as the others are: each of its
# link-hours is written about once, as under steady load.
steady_s=60
# every redirect the direct pool answered so far, whatever the link's source
redirects() {
  { "$hop" status --metrics --socket "$T/hop.sock" 2>/dev/null || true; } |
    awk '$1 ~ /^hop_redirects_total[{]/ { s += $NF } END { print s + 0 }'
}
say "one visits window: the whole Zipf sample once, then $steady_s s of Zipf load"
# wrk runs for its whole -d even once its threads stop: the pass ends when the pool has answered the sample
pass_start=$(redirects) pass_n=$(wc -l <"$T/zipf.txt") t0=$EPOCHREALTIME
timeout -k 5 150 wrk -t2 -c"$conns" -d120s -s "$T/all.lua" "$hop_url" >"$T/all.out" 2>&1 &
pass_wrk=$!
for ((i = 0; i < 1200; i++)); do
  (($(redirects) >= pass_start + pass_n)) && break
  alive "$pass_wrk" || break
  sleep 0.1
done
kill "$pass_wrk" 2>/dev/null || true
wait "$pass_wrk" 2>/dev/null || true
say "the pass: $(($(redirects) - pass_start)) redirects in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
cell zipf-window "$hop_url" "$T/zipf.lua" "$steady_s"
read -r win_rss win_pss win_nproc <<<"$(tree_mem "$hop_pid")"

# med NAME C: the median of column C (1-based) over the rows of cell NAME
med() { awk -F '\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$results" | median; }
# rate NAME: the median req/s of cell NAME
rate() { awk -F '\t' -v n="$1" '$1 == n { printf "%.0f\n", $2 / $3 }' "$results" | median | awk '{ printf "%.0f\n", $1 }'; }
one_rate=$(rate one-link)
zipf_rate=$(rate zipf)
ratio=$(awk -v a="$zipf_rate" -v b="$one_rate" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
zipf_pg=$(med zipf 9)
one_pg=$(med one-link 9)
window_pg=$(med zipf-window 9)
zipf_errs=$(awk -F '\t' '$1 == "zipf" || $1 == "one-link" || $1 == "zipf-window" { s += $6 } END { print s + 0 }' "$results")

# ---- the list at depth, for the owner of 100,000 links -------------------------------------------------

ids=$(psql_q -c "SELECT (SELECT id FROM links WHERE owner_id = $lister ORDER BY id OFFSET $((nlist / 2)) LIMIT 1),
                        (SELECT id FROM links WHERE owner_id = $lister ORDER BY id OFFSET 25 LIMIT 1)" -F' ')
read -r mid_id last_id <<<"$ids"
cursor() { printf 'v1:%s' "$1" | base64 | tr '+/' '-_' | tr -d '=\n'; }
# median and max of RUNS requests on one kept-alive connection (the first, which pays TLS, dropped), and the
# number of links on the page
list_time() {
  local path=$1 urls=() i before
  before=$(wc -l <"$T/hop.log")
  for ((i = 0; i <= runs; i++)); do urls+=(-o /dev/null "$hop_url$path"); done
  curl -ksS -H "Authorization: Bearer $list_key" -w '%{http_code} %{time_total}\n' "${urls[@]}" >"$T/curl.out"
  grep -qv '^200 ' "$T/curl.out" && say "$path answered $(grep -v '^200 ' "$T/curl.out" | head -n 1)"
  tail -n +2 "$T/curl.out" | awk '{ print $2 * 1000 }' | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.2f %.2f", v[int((NR + 1) / 2)], v[NR] }'
  # hop's own time (the access line's us=, from accept to the answer written), the same requests
  tail -n +$((before + 1)) "$T/hop.log" | grep 'path="/api/links" status=200' | tail -n +2 |
    sed -n 's/.* us=\([0-9]*\).*/\1/p' | median | awk '{ printf " %.2f", $1 / 1000 }'
  echo " $(curl -ksS -H "Authorization: Bearer $list_key" "$hop_url$path" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["links"]))' 2>/dev/null || echo '?')"
}
# PostgreSQL alone: the statement compiled into hop, its execution time by EXPLAIN ANALYZE (7th run)
strings -n 6 "$hop" >"$T/strings.txt"
# shellcheck disable=SC2016 # $N are SQL parameters
sql_list=$(grep -m 1 -E 'k\.id < \$2 ORDER BY k\.id DESC LIMIT \$3\)\) ORDER BY l\.id DESC LIMIT \$3$' "$T/strings.txt") || die "no list statement in $hop"
pg_list() {
  psql -X -q -At -d "$HOP_DB" -f <(
    echo "PREPARE list AS $sql_list;"
    for i in 1 2 3 4 5 6; do echo "EXECUTE list($lister, $1, 51) \\g /dev/null"; done
    echo "EXPLAIN (ANALYZE, COSTS OFF) EXECUTE list($lister, $1, 51);"
  ) >"$T/plan.$2"
  sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p' "$T/plan.$2"
}
max=9223372036854775807
declare -A list_http=() list_pg=()
list_http[first]=$(list_time /api/links)
list_http[middle]=$(list_time "/api/links?cursor=$(cursor "$mid_id")")
list_http[last]=$(list_time "/api/links?cursor=$(cursor "$last_id")")
list_pg[first]=$(pg_list "$max" first)
list_pg[middle]=$(pg_list "$mid_id" middle)
list_pg[last]=$(pg_list "$last_id" last)
list_index=$(grep -oE 'Index (Only )?Scan( Backward)? using [a-z_]+' "$T/plan.last" | head -n 1)

# ---- PgBouncer ------------------------------------------------------------------------------------------

say "PgBouncer: a pool through session mode, one through transaction mode"
start_pool pgb "$T/pgb.sock" HOP_DB="$(bouncer hop_session) application_name=hop-pgb-session" ||
  die "the pool through PgBouncer's session mode did not start: $(tail -n 3 "$T/pgb.log")"
pgb_pool_pid=$START_PID
tx_started=yes
if start_pool tx "$T/tx.sock" HOP_DB="$(bouncer hop_tx) application_name=hop-pgb-tx"; then
  tx_pool_pid=$START_PID
else
  tx_pool_pid=$START_PID
  tx_started="no ($(grep -m 1 'level=error' "$T/tx.log" | cut -c1-200))"
fi
workers=$(sed -n 's/.*msg=ready.*workers=\([0-9]*\).*/\1/p' "$T/hop.log" | head -n 1)
# transaction mode: 300 redirects spread over the links (most miss the cache and ask PostgreSQL) and 100
# creates, 8 at a time; what they answered and what the pool logged
tx_codes="" tx_errors=0
if [[ $tx_started == yes ]]; then
  {
    echo 'insecure'
    printf '%s\n' 'write-out = "%{http_code}\n"'
    head -n 300 "$T/zipf.txt" | sed "s|^|url = \"$tx_url|; s|\$|\"\noutput = \"/dev/null\"|"
    for ((i = 0; i < 100; i++)); do
      echo next
      echo 'insecure'
      printf '%s\n' 'write-out = "%{http_code}\n"'
      echo "url = \"$tx_url/api/links\""
      echo "header = \"Authorization: Bearer $key\""
      echo 'header = "Content-Type: application/json"'
      echo "data = \"{\\\"url\\\": \\\"https://example.com/tx/$i\\\"}\""
      echo 'output = "/dev/null"'
    done
  } >"$T/tx.cfg"
  curl -sS -Z --parallel-max 8 -K "$T/tx.cfg" >"$T/tx.out" 2>"$T/tx.err" || true
  tx_codes=$(sort "$T/tx.out" | uniq -c | awk '{ printf "%s%s × %s", sep, $1, $2; sep = ", " }')
  tx_errors=$(grep -c 'prepared statement .* does not exist' "$T/tx.log" || true)
fi
# what the pool logged, by kind: the errors' messages and how often each came
tx_sample=$(grep -E 'level=(error|warn)' "$T/tx.log" 2>/dev/null | grep -oE 'msg=("[^"]*"|[^ ]*)( func=[^ ]*)?( sqlstate=[^ ]*)?' |
  sort | uniq -c | sort -rn | head -n 4 | awk '{ $1 = $1 " ×"; print }' | paste -sd';' - || true)
tx_first=$(grep -m 1 -oE 'prepared statement [^ ]* does not exist' "$T/tx.log" || true)

# warm the session-mode pool as the direct one was warmed, then the four cells, interleaved
cell warm-pgb "$pgb_url" "$T/zipf.lua" "$secs" "$pgb_pool_pid"
for ((r = 1; r <= rounds; r++)); do
  say "PgBouncer round $r of $rounds: redirects (Zipf) and creates, direct and through session mode"
  cell zipf-direct "$hop_url" "$T/zipf.lua" "$secs"
  cell zipf-pgb "$pgb_url" "$T/zipf.lua" "$secs" "$pgb_pool_pid"
  cell create-direct "$hop_url/api/links" "$T/create.lua" "$secs"
  cell create-pgb "$pgb_url/api/links" "$T/create.lua" "$secs" "$pgb_pool_pid"
done
# connections: PgBouncer's clients and servers for the session-mode pool, against HOP_WORKERS + 1
pgb_clients=$(pgb_admin "SHOW CLIENTS" | awk '$3 == "hop_session"' | wc -l)
pgb_servers=$(pgb_admin "SHOW SERVERS" | awk '$3 == "hop_session"' | wc -l)
backends=$(psql_q -c "SELECT string_agg(application_name || ': ' || n, ', ' ORDER BY application_name)
                      FROM (SELECT application_name, count(*) AS n FROM pg_stat_activity
                            WHERE application_name LIKE 'hop-%' GROUP BY 1) c" 2>/dev/null || echo "?")

# ---- report --------------------------------------------------------------------------------------------

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<=") ? v <= t : v >= t; print ok ? "met" : "NOT met" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
r_zd=$(rate zipf-direct) r_zp=$(rate zipf-pgb) r_cd=$(rate create-direct) r_cp=$(rate create-pgb)
# the slots of the host's link table, from the pool's start line
link_table_slots() {
  grep -m 1 'msg="link table mapped"' "$T/hop.log" | grep -oE 'slots_[0-9a-z]+=[0-9]+' | tr '\n' ' ' | sed 's/ $//'
}
mkdir -p "$outdir"
{
  echo "# hop at scale (make bench-scale)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $("$hop" version), $(nproc) CPUs, $(caddy version | cut -d' ' -f1)," \
    "PostgreSQL $("$pgbin/postgres" --version | awk '{ print $3 }'), $pgb_version; ${workers:-?} hop workers," \
    "HOP_CACHE_MB=$cache_mb ($(link_table_slots)), HOP_VISITS_WINDOW_KB=${window_kb:-unset (hop default)}," \
    "wrk -t2 -c$conns, $rounds rounds of $secs s per cell, interleaved. $nlinks links generated in $gen_s s." \
    "Zipf sample: 200,000 requests over $nlinks ranks, $zipf_distinct distinct links, the first $zipf_top times." \
    "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| figure | measured | target | |"
  echo "| --- | ---: | ---: | --- |"
  echo "| redirect through Caddy, one link, req/s (median) | $one_rate | | |"
  echo "| redirect through Caddy, Zipf over $nlinks links, req/s (median) | $zipf_rate | | |"
  echo "| Zipf ÷ one link | $ratio | ≥ 0.95 | $(verdict "$ratio" 0.95 '>=') |"
  echo "| PostgreSQL CPU per redirect, Zipf, warm, $secs-s cells each settled at its end (µs) | $zipf_pg | ≤ 5 | $(verdict "$zipf_pg" 5 '<=') |"
  echo "| PostgreSQL CPU per redirect, Zipf, warm, one visits window: $steady_s s of load, then settled ($(rate zipf-window) req/s; link table lookups per 1000: $(med zipf-window 10)) (µs) | $window_pg | ≤ 5 | $(verdict "$window_pg" 5 '<=') |"
  echo "| PostgreSQL CPU per redirect, one link (µs) | $one_pg | | |"
  echo "| PostgreSQL lookups per 1000 redirects, Zipf, warm (the link table's misses; direct pool) | $(med zipf 10) | | |"
  echo "| link table evictions during the run | $(metric "$T/hop.sock" hop_link_table_evictions_total) | | |"
  echo "| hop CPU per redirect, Zipf / one link (µs) | $(med zipf 8) / $(med one-link 8) | | |"
  echo "| Caddy CPU per redirect, Zipf / one link (µs) | $(med zipf 7) / $(med one-link 7) | | |"
  echo "| p99 latency, Zipf / one link (ms) | $(awk -v a="$(med zipf 5)" -v b="$(med one-link 5)" 'BEGIN { printf "%.1f / %.1f", a / 1000, b / 1000 }') | | |"
  echo "| failed or non-302 answers in these cells | $zipf_errs | 0 | $(verdict "$zipf_errs" 0 '<=') |"
  echo "| pool PSS after the Zipf rounds ($hop_nproc processes; RSS $(mib "$hop_rss") MiB) | $(mib "$hop_pss") MiB | stated | |"
  echo "| pool PSS after the visits window ($win_nproc processes; RSS $(mib "$win_rss") MiB; the master's window holds up to HOP_VISITS_WINDOW_KB) | $(mib "$win_pss") MiB | stated | |"
  echo "| cold start: hop serve to msg=ready | $ready_ms ms | stated | |"
  echo "| cold start: first second of load / full speed (req/s) | $cold_first / $cold_full | stated | |"
  echo "| cold start: seconds of load until ≥ 90 % of full speed | $cold_reach | stated | |"
  echo "| database size per million links (whole database / links with its indexes) | $db_per_m / $links_per_m MiB | stated | |"
  for d in first middle last; do
    read -r h_med h_max h_hop h_n <<<"${list_http[$d]}"
    echo "| list, $d page ($h_n links): in hop (access log) / through Caddy, median (max) of $runs, ms | $h_hop / $h_med ($h_max) | ≤ 5 | $(verdict "$h_hop" 5 '<=') in hop, $(verdict "$h_med" 5 '<=') end to end |"
  done
  echo "| list in PostgreSQL alone (execution time), first / middle / last page, ms | ${list_pg[first]} / ${list_pg[middle]} / ${list_pg[last]} | | |"
  echo "| the list's plan, last page | $list_index | flat | |"
  echo
  echo "## PgBouncer ($pgb_version)"
  echo
  echo "| figure | direct | through PgBouncer, session mode | ratio |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| redirects, Zipf, req/s (median) | $r_zd | $r_zp | $(awk -v a="$r_zp" -v b="$r_zd" 'BEGIN { printf "%.2f", b ? a / b : 0 }') |"
  echo "| creates, req/s (median) | $r_cd | $r_cp | $(awk -v a="$r_cp" -v b="$r_cd" 'BEGIN { printf "%.2f", b ? a / b : 0 }') |"
  echo "| PostgreSQL CPU per create (µs) | $(med create-direct 9) | $(med create-pgb 9) | |"
  echo
  echo "- Session mode: the pool started and served; PgBouncer held $pgb_clients client and $pgb_servers server" \
    "connections for it ($workers workers + the master: HOP_WORKERS + 1 per host, one server connection per" \
    "client, for the client's life). PostgreSQL's backends by application_name: $backends."
  echo "- Transaction mode: pool started: $tx_started; 300 redirects spread over the links and 100 creates," \
    "8 at a time, answered: ${tx_codes:-nothing}; \"prepared statement does not exist\" in its log: $tx_errors" \
    "${tx_first:+(\"$tx_first\")}. Its warnings and errors by kind: ${tx_sample:-none}."
  echo
  echo "## Raw cells"
  echo
  echo "| cell | requests | s | p50 µs | p99 µs | failed | Caddy µs/req | hop µs/req | PostgreSQL µs/req | direct pool's lookups per 1000 |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk -F '\t' '{ printf "| %s |", $1; for (i = 2; i <= 10; i++) printf " %s |", $i; print "" }' "$results"
  echo
  echo "## Cold start, per second"
  echo
  grep '^second ' "$T/cold.out" | awk 'NR == 1 { t0 = $2 } { printf "%s%d: %d", sep, $2 - t0, $4; sep = ", " } END { print "" }'
  echo
  echo "## The list's plan, last page"
  echo
  sed 's/^/    /' "$T/plan.last"
} >"$T/scale.md"
cp "$T/scale.md" "$outdir/scale.md"
cat "$T/scale.md"
say "written to build/bench/scale.md"
