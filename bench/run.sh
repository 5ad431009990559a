#!/usr/bin/env bash
# `make bench`: hop's throughput, latency, CPU per request by process and memory, beside the ceilings of the
# parts it stands on (Caddy alone, a trivial FastCGI responder, PostgreSQL alone), all measured in one run.
# Loopback and Unix sockets only; every load is bounded in time. Prints a markdown table and writes it to
# build/bench/results.md. Knobs: BENCH_SECONDS (per sample, default 4), BENCH_ROUNDS (default 3),
# BENCH_CONNS (default 64), BENCH_PG_CLIENTS (default 8), BENCH_WORKERS (default: hop's own default),
# BENCH_ONLY (a regex of cell names to run), KEEP=1 (keep the temp dir), HOP_BIN_BEFORE (another build of hop,
# e.g. of an earlier commit, served beside it on the same database for the *-before cells).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

secs=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-64}
pg_clients=${BENCH_PG_CLIENTS:-8}
only=${BENCH_ONLY:-}
hop=${HOP_BIN:-$repo/build/hop}
hop_before=${HOP_BIN_BEFORE:-}
load=$repo/build/bench/fcgi_load
triv=$repo/build/bench/trivial_fcgi
outdir=$repo/build/bench
nlinks=10000
clk_tck=$(getconf CLK_TCK)

for v in "$secs" "$rounds" "$conns" "$pg_clients"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || {
    echo "bench: BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNS and BENCH_PG_CLIENTS must be positive integers" >&2
    exit 2
  }
done
((secs <= 60 && rounds <= 10 && conns <= 1000)) || {
  echo "bench: at most 60 s per sample, 10 rounds and 1000 connections" >&2
  exit 2
}

# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: $*" >&2
  exit 1
}

pgbin=$(pg_config --bindir 2>/dev/null || true)
[[ -x $pgbin/pgbench ]] || pgbin=/usr/lib/postgresql/15/bin
for tool in wrk caddy psql curl strings "$pgbin/pgbench" "$hop" "$load" "$triv" $hop_before; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make deps, then make bench)"
done
have_h2load=""
if command -v h2load >/dev/null 2>&1; then
  have_h2load=1
else
  say "h2load not installed (Debian package nghttp2-client): the HTTP/2 cells are skipped"
fi
have_keys=""
if [[ $("$hop" --help 2>&1) == *"keys create"* ]]; then
  have_keys=1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hop-bench.XXXXXX")
chmod 0711 "$T" # the postgres user must traverse it when we are root
hop_pid=""
nv_pid=""
before_pid=""
dom_pid=""
triv_pid=""
caddy_pid=""
pg_started=""



# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
  trap - EXIT
  set +e
  stop_child "$caddy_pid"
  stop_child "$triv_pid"
  stop_child "$hop_pid"
  stop_child "$nv_pid"
  stop_child "$before_pid"
  stop_child "$dom_pid"
  [[ -n $pg_started ]] && PGDEV_DIR=$T/pg db/pgdev.sh stop >>"$T/pgdev.log" 2>&1
  if [[ ${KEEP:-} == 1 ]]; then
    say "kept $T"
  else
    [[ -L $T/pg ]] && PGDEV_DIR=$T/pg db/pgdev.sh reset >>"$T/pgdev.log" 2>&1
    rm -rf "$T"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


free_ports 5 30000 40000
port_hop=${ports[0]} port_triv=${ports[1]} port_resp=${ports[2]} port_http=${ports[3]} port_before=${ports[4]}

# ---- PostgreSQL, the key, 10,000 links ------------------------------------------------------------------

say "starting a throwaway PostgreSQL in $T/pg"
PGDEV_DIR=$T/pg db/pgdev.sh start >"$T/pgdev.log" 2>&1 || {
  cat "$T/pgdev.log" >&2
  die "db/pgdev.sh start failed"
}
pg_started=1
HOP_DB=$(PGDEV_DIR=$T/pg db/pgdev.sh url)
export HOP_DB
psql_q() { psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB" "$@"; }
"$hop" migrate >"$T/migrate.log" 2>&1 || die "hop migrate failed: $(tail -n 5 "$T/migrate.log")"

key=""
owner=""
keyhash=""
if [[ -n $have_keys ]]; then
  key=$("$hop" keys create bench | tail -n 1)
  [[ $key == hop_* ]] || die "hop keys create did not print a key on its last line"
  owner=$(psql_q -c "SELECT id FROM owners WHERE name = 'bench'")
  keyhash=$(psql_q -c "SELECT encode(hash, 'hex') FROM api_keys WHERE owner_id = $owner")
else
  owner=$(psql_q -c "INSERT INTO owners (name) VALUES ('bench') RETURNING id")
fi
say "loading $nlinks links and one popular link"
psql_q -c "INSERT INTO links (slug, owner_id, url)
           SELECT (1000000 + i)::text, $owner, 'https://example.com/page/' || i || '?ref=bench'
           FROM generate_series(1, $nlinks) AS i;
           INSERT INTO links (slug, owner_id, url) VALUES ('popular', $owner, 'https://example.com/popular');
           ANALYZE links;"
popular_id=$(psql_q -c "SELECT id FROM links WHERE slug = 'popular'")
# A link with the options of issue 11 that cost the redirect something: the visitor's query forwarded and
# app-store targets chosen by User-Agent (when this build's schema has them).
have_ext=""
if [[ $(psql_q -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'links' AND column_name = 'ios_url'") == 1 ]]; then
  have_ext=1
  psql_q -c "INSERT INTO links (slug, owner_id, url, forward_query, ios_url, android_url)
             VALUES ('extended', $owner, 'https://example.com/landing?ref=bench', true,
                     'https://apps.apple.com/app/id000000001?pt=bench', 'https://play.google.com/store/apps/details?id=org.example.bench')"
fi
ext_path='/extended?utm_source=newsletter&utm_medium=email&utm_campaign=bench'
mobile_ua='Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
seq 1000001 $((1000000 + nlinks)) >"$T/slugs.txt"
sed 's|^|/|' "$T/slugs.txt" >"$T/paths.txt"
# the analytics cells: many visitors (browsers, phones, preview fetchers, crawlers; referrers; countries from a
# country database of the bench's own) and UTM values on some of the links
bench_visitors "$T" || die "could not write the visitors' country database (tests/lib/make-mmdb.pl)"
bench_utm_paths "$T/paths.txt" "$T/paths-real.txt"
printf '/popular\n%.0s' 1 2 3 4 >"$T/popular-4.txt"
bench_utm_paths "$T/popular-4.txt" "$T/popular-real.txt"

# ---- hop: time to ready, then the pool for the benchmark ------------------------------------------------

workers_env=(HOP_GEOIP_DB="$T/visitors.mmdb")
if [[ -n ${BENCH_WORKERS:-} ]]; then
  workers_env+=(HOP_WORKERS="$BENCH_WORKERS")
fi

# Start hop serve with stderr on a pipe and time it from the fork to its msg=ready line.
ready_ms=()
for ((r = 0; r < rounds; r++)); do
  rm -f "$T/ready.fifo"
  mkfifo "$T/ready.fifo"
  t0=$EPOCHREALTIME
  env "${workers_env[@]}" HOP_LISTEN="$T/hop.sock" "$hop" serve 2>"$T/ready.fifo" &
  pid=$!
  exec 4<"$T/ready.fifo"
  ok=""
  while IFS= read -r -t 10 -u 4 line; do
    if [[ $line == *msg=ready* ]]; then
      ok=1
      break
    fi
  done
  t1=$EPOCHREALTIME
  kill -TERM "$pid" 2>/dev/null || true
  cat <&4 >/dev/null || true
  exec 4<&-
  wait "$pid" || true
  [[ -n $ok ]] || die "hop serve did not log msg=ready within 10 s"
  ready_ms+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
done

: >"$T/hop.log"
env "${workers_env[@]}" HOP_LISTEN="$T/hop.sock" "$hop" serve 2>>"$T/hop.log" &
hop_pid=$!
for ((i = 0; i < 100; i++)); do
  grep -q 'msg=ready' "$T/hop.log" && break
  alive "$hop_pid" || die "hop serve exited: $(tail -n 5 "$T/hop.log")"
  sleep 0.1
done
workers=$(sed -n 's/.*msg=ready.*workers=\([0-9]*\).*/\1/p' "$T/hop.log" | head -n 1)
[[ $workers =~ ^[0-9]+$ ]] || die "hop serve did not log msg=ready workers=N within 10 s"

# A second pool with visit counting switched off (HOP_VISITS=off), to show what counting costs.
env "${workers_env[@]}" HOP_VISITS=off HOP_NO_MIGRATE=1 HOP_LISTEN="$T/hopnv.sock" "$hop" serve 2>"$T/hopnv.log" &
nv_pid=$!
for ((i = 0; i < 100; i++)); do
  grep -q 'msg=ready' "$T/hopnv.log" && break
  alive "$nv_pid" || die "hop serve (HOP_VISITS=off) exited: $(tail -n 5 "$T/hopnv.log")"
  sleep 0.1
done

# The same pool from another build (HOP_BIN_BEFORE), on the same database, for before/after cells in one run.
if [[ -n $hop_before ]]; then
  env "${workers_env[@]}" HOP_NO_MIGRATE=1 HOP_LISTEN="$T/hopb.sock" "$hop_before" serve 2>"$T/hopb.log" &
  before_pid=$!
  for ((i = 0; i < 100; i++)); do
    grep -q 'msg=ready' "$T/hopb.log" && break
    alive "$before_pid" || die "hop serve ($hop_before) exited: $(tail -n 5 "$T/hopb.log")"
    sleep 0.1
  done
fi

# Another pool on a database of its own with the same links on the default of four short domains (issue 12):
# the redirect's cost with domains beside the one without (direct-redirect-domains vs direct-redirect-popular).
psql_q -c "CREATE DATABASE hop_domains" >/dev/null
dom_db="$HOP_DB"
[[ $dom_db == *dbname=* ]] && dom_db=${dom_db/dbname=hop/dbname=hop_domains} || dom_db=${dom_db%/hop}/hop_domains
HOP_DB=$dom_db "$hop" migrate >>"$T/migrate.log" 2>&1 || die "hop migrate (hop_domains) failed"
HOP_DB=$dom_db psql_q -c "INSERT INTO owners (name) VALUES ('bench');
           INSERT INTO links (slug, owner_id, url)
           SELECT (1000000 + i)::text, 1, 'https://example.com/page/' || i || '?ref=bench'
           FROM generate_series(1, $nlinks) AS i;
           INSERT INTO links (slug, owner_id, url) VALUES ('popular', 1, 'https://example.com/popular');
           ANALYZE links;"
for d in go.bench.test a.bench.test b.bench.test c.bench.test; do
  HOP_DB=$dom_db "$hop" domains add "$d" >>"$T/migrate.log" 2>&1 || die "hop domains add $d failed"
done
HOP_DB=$dom_db env "${workers_env[@]}" HOP_NO_MIGRATE=1 HOP_LISTEN="$T/hopdom.sock" "$hop" serve 2>>"$T/hopdom.log" &
dom_pid=$!
for ((i = 0; i < 100; i++)); do
  grep -q 'msg=ready' "$T/hopdom.log" && break
  alive "$dom_pid" || die "hop serve (domains) exited: $(tail -n 5 "$T/hopdom.log")"
  sleep 0.1
done

# The trivial responder gets as many workers as hop has.
"$triv" "$T/triv.sock" "$workers" 2>"$T/triv.log" &
triv_pid=$!
for ((i = 0; i < 100; i++)); do
  grep -q ready "$T/triv.log" 2>/dev/null && break
  sleep 0.05
done
grep -q 'ready' "$T/triv.log" || die "trivial_fcgi did not start: $(cat "$T/triv.log")"

# ---- Caddy: hop, the trivial responder and `respond`, each on its own site ------------------------------

# The FastCGI sites are configured as caddy/Caddyfile.dev configures hop's.
fastcgi_site() {
  cat <<EOF
https://127.0.0.1:$1 {
	bind 127.0.0.1
	tls internal
	request_body {
		max_size 1MB
	}
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
  cat <<EOF
{
	admin off
	skip_install_trust
	auto_https disable_redirects
	servers {
		protocols h1 h2
	}
}
EOF
  fastcgi_site "$port_hop" "$T/hop.sock"
  fastcgi_site "$port_triv" "$T/triv.sock"
  [[ -z $hop_before ]] || fastcgi_site "$port_before" "$T/hopb.sock"
  # Caddy alone, answering what the redirect answers.
  for site in "https://127.0.0.1:$port_resp" "http://127.0.0.1:$port_http"; do
    cat <<EOF
$site {
	bind 127.0.0.1
	tls internal
	header Location https://example.com/popular
	respond 302
}
EOF
  done
} >"$T/Caddyfile"
sed -i "/^http:/,/^}/{/tls internal/d}" "$T/Caddyfile"

XDG_DATA_HOME=$T/caddy XDG_CONFIG_HOME=$T/caddy-config caddy run --adapter caddyfile --config "$T/Caddyfile" \
  >"$T/caddy.log" 2>&1 &
caddy_pid=$!
hop_url=https://127.0.0.1:$port_hop
for ((i = 0; i < 150; i++)); do
  curl -ksS -o /dev/null --max-time 2 "$hop_url/healthz" 2>/dev/null && break
  alive "$caddy_pid" || die "caddy exited: $(tail -n 5 "$T/caddy.log")"
  sleep 0.1
done

# ---- the cells ---------------------------------------------------------------------------------------

# wrk scripts: each prints one RESULT line when it is done.
cat >"$T/done.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d unexpected=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
EOF
cp "$T/done.lua" "$T/get.lua"
{
  echo "wrk.headers[\"User-Agent\"] = \"$mobile_ua\""
  cat "$T/done.lua"
} >"$T/mobile.lua"
{
  cat <<EOF
-- each wrk thread picks slugs at random from the $nlinks loaded links
local paths = {}
for line in io.lines("$T/paths.txt") do paths[#paths + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
end
function request()
  return wrk.format(nil, paths[math.random(#paths)])
end
EOF
  cat "$T/done.lua"
} >"$T/spread.lua"
if [[ -n $key ]]; then
  {
    echo "wrk.headers[\"Authorization\"] = \"Bearer $key\""
    cat "$T/done.lua"
  } >"$T/api.lua"
  {
    echo 'wrk.method = "POST"'
    echo 'wrk.body = "{\"url\": \"https://example.com/created\"}"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo "wrk.headers[\"Authorization\"] = \"Bearer $key\""
    cat "$T/done.lua"
  } >"$T/create.lua"
fi

# pgbench scripts from the statements compiled into hop (so they cannot drift from db/statements.c), with
# $N replaced by pgbench variables. Inside to_char's format, HH24:MI:SS would read as variables :MI and :SS;
# HH24-MI-SS costs the same.
strings -n 6 "$hop" >"$T/strings.txt"
stmt() {
  local re=$1 sql
  sql=$(grep -m 1 -E "$re" "$T/strings.txt") || die "no statement matching /$re/ in $hop"
  sql=${sql//HH24:MI:SS/HH24-MI-SS}
  shift
  local k
  for ((k = $#; k >= 1; k--)); do
    sql=${sql//\$$k/${!k}}
  done
  printf '%s;\n' "$sql"
}
# shellcheck disable=SC2016 # $N are SQL parameters
re_find='WHERE coalesce\(l\.domain_id, 0\) = \$2 AND l\.slug = \$1$'
re_auth='^SELECT owner_id, hash, id, scope FROM api_keys'
re_insert='^WITH l AS \(INSERT INTO links'
# shellcheck disable=SC2016 # $N are SQL parameters
re_get='AND l\.slug = \$1 AND l\.owner_id = \$2$'
# shellcheck disable=SC2016
re_list='ORDER BY l\.id DESC LIMIT \$3$'
# shellcheck disable=SC2016 # $N are SQL parameters
re_days='^WITH p AS \(SELECT coalesce.*FROM visit_hours WHERE link_id = \$1 AND bucket'
# shellcheck disable=SC2016
re_refs='^WITH src AS MATERIALIZED \(SELECT dim, value, humans, bots FROM visit_months WHERE link_id = \$1 AND'

{
  echo "\\set n random(1000001, $((1000000 + nlinks)))"
  stmt "$re_find" :n 0
} >"$T/pg-redirect.sql"
stmt '^SELECT 1$' >"$T/pg-healthz.sql"
if [[ -n $key ]]; then
  {
    stmt "$re_auth" :keyhash
    echo '\set r random(1, 999999999999)'
    # every option of the link left to its default
    stmt "$re_insert" :r :owner :url :redirect NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL 0
  } >"$T/pg-create.sql"
  {
    stmt "$re_auth" :keyhash
    stmt "$re_get" :slug :owner 0
  } >"$T/pg-get.sql"
  {
    stmt "$re_auth" :keyhash
    stmt "$re_list" :owner 9223372036854775807 51
  } >"$T/pg-list.sql"
  {
    stmt "$re_auth" :keyhash
    stmt "$re_get" :slug :owner 0
    stmt "$re_days" :linkid NULL NULL NULL NULL NULL "'UTC'" false 30
    stmt "$re_refs" :linkid "extract(epoch FROM now())::bigint - 2592000" "extract(epoch FROM now())::bigint" false 30 \
      "'{\"\",\"\",unknown,bot,other,other,\"\",\"\",\"\"}'"
  } >"$T/pg-stats.sql"
fi

# name|kind|app|what it runs|label
cells=(
  "respond-http|wrk|none|http://127.0.0.1:$port_http/popular get|Caddy respond, HTTP/1.1"
  "respond-https|wrk|none|https://127.0.0.1:$port_resp/popular get|Caddy respond, HTTPS"
  "trivial-https|wrk|triv|https://127.0.0.1:$port_triv/popular get|trivial FastCGI responder via Caddy, HTTPS"
  "redirect-popular|wrk|hop|$hop_url/popular get|hop redirect, one popular link"
  "redirect-spread|wrk|hop|$hop_url/ spread|hop redirect, $nlinks links"
  "healthz|wrk|hop|$hop_url/healthz get|hop GET /healthz"
)
if [[ -n $have_ext ]]; then
  # the plain link asked the same way (same query and User-Agent, which it ignores): the same bytes through
  # Caddy, so extended ÷ plain-mobile is what the options cost hop
  cells+=(
    "redirect-extended|wrk|hop|$hop_url$ext_path mobile|hop redirect, forward_query + app targets, iPhone"
    "redirect-plain-mobile|wrk|hop|$hop_url/popular?${ext_path#*\?} mobile|hop redirect, plain link, same query and iPhone"
  )
fi
if [[ -n $hop_before ]]; then
  cells+=("redirect-popular-before|wrk|hopb|https://127.0.0.1:$port_before/popular get|HOP_BIN_BEFORE redirect, one popular link")
fi
if [[ -n $key ]]; then
  cells+=(
    "create|wrk|hop|$hop_url/api/links create|hop POST /api/links"
    "get|wrk|hop|$hop_url/api/links/popular api|hop GET /api/links/{slug}"
    "list|wrk|hop|$hop_url/api/links api|hop GET /api/links (50)"
    "stats|wrk|hop|$hop_url/api/links/popular/stats api|hop GET /api/links/{slug}/stats"
  )
fi
if [[ -n $have_h2load ]]; then
  cells+=(
    "h2-respond|h2|none|https://127.0.0.1:$port_resp/popular|Caddy respond, HTTP/2 over TLS"
    "h2-trivial|h2|triv|https://127.0.0.1:$port_triv/popular|trivial responder via Caddy, HTTP/2"
    "h2-redirect-popular|h2|hop|$hop_url/popular|hop redirect via Caddy, HTTP/2"
  )
fi
cells+=(
  "direct-trivial|fcgi|triv|$T/triv.sock -p /popular|trivial responder, fcgi_load on its socket"
  "direct-redirect-popular|fcgi|hop|$T/hop.sock -p /popular|hop redirect, one link, fcgi_load on its socket"
  "direct-redirect-scraped|fcgiscrape|hop|$T/hop.sock -p /popular|the same, the pool's /metrics scraped every second"
  "direct-redirect-pinged|fcgiping|hop|$T/hop.sock -p /popular|the same, /robots.txt asked every second (the control)"
  "direct-redirect-spread|fcgi|hop|$T/hop.sock -u $T/paths.txt|hop redirect, $nlinks links, fcgi_load on its socket"
  "direct-nocount-popular|fcgi|hopnv|$T/hopnv.sock -p /popular|hop redirect, one link, counting off (HOP_VISITS=off), fcgi_load"
  "direct-redirect-domains|fcgi|hopdom|$T/hopdom.sock -h go.bench.test -p /popular|hop redirect, one link on the default of 4 domains, fcgi_load"
  "direct-redirect-real|fcgireal|hop|$T/hop.sock -u $T/popular-real.txt|hop redirect, one link, 756 visitors (UA, Referer path, country) × 4 UTM, full analytics"
  "direct-nocount-real|fcgireal|hopnv|$T/hopnv.sock -u $T/popular-real.txt|the same requests, counting off (HOP_VISITS=off)"
  "direct-spread-real|fcgireal|hop|$T/hop.sock -u $T/paths-real.txt|hop redirect, $nlinks links at random, 756 visitors, UTM on 3 links in 4, full analytics"
  "direct-nocount-spread-real|fcgireal|hopnv|$T/hopnv.sock -u $T/paths-real.txt|the same requests, counting off (HOP_VISITS=off)"
  "pg-redirect|pgb|pg|$T/pg-redirect.sql|PostgreSQL alone: the redirect's lookup"
  "pg-healthz|pgb|pg|$T/pg-healthz.sql|PostgreSQL alone: healthz's SELECT 1"
)
if [[ -n $have_ext ]]; then
  # the User-Agent has spaces: run_load adds it for a target ending in " +mobile"
  cells+=(
    "direct-redirect-extended|fcgi|hop|$T/hop.sock -p $ext_path +mobile|hop redirect, forward_query + app targets, iPhone, fcgi_load"
    "direct-redirect-plain-mobile|fcgi|hop|$T/hop.sock -p /popular?${ext_path#*\?} +mobile|hop redirect, plain link, same query and iPhone, fcgi_load"
  )
fi
if [[ -n $hop_before ]]; then
  cells+=(
    "direct-redirect-popular-before|fcgi|hopb|$T/hopb.sock -p /popular|HOP_BIN_BEFORE redirect, one link, fcgi_load on its socket"
    "direct-spread-real-before|fcgireal|hopb|$T/hopb.sock -u $T/paths-real.txt|HOP_BIN_BEFORE redirect, $nlinks links at random, 756 visitors, UTM on 3 links in 4"
  )
fi
if [[ -n $key ]]; then
  cells+=(
    "pg-create|pgb|pg|$T/pg-create.sql|PostgreSQL alone: key check + insert"
    "pg-get|pgb|pg|$T/pg-get.sql|PostgreSQL alone: key check + get"
    "pg-list|pgb|pg|$T/pg-list.sql|PostgreSQL alone: key check + list of 50"
    "pg-stats|pgb|pg|$T/pg-stats.sql|PostgreSQL alone: key check + get + series + top lists"
  )
fi
if [[ -n $only ]]; then
  kept=()
  for c in "${cells[@]}"; do
    [[ ${c%%|*} =~ $only ]] && kept+=("$c")
  done
  cells=("${kept[@]}")
  ((${#cells[@]} > 0)) || die "BENCH_ONLY=$only matches no cell"
fi

# Every target answers what its cell expects before anything is measured.
check_url() {
  local url=$1 want=$2 got
  shift 2
  got=$(curl -ksS -o "$T/check.body" -w '%{http_code}' --max-time 5 "$@" "$url" 2>&1) || true
  [[ $got == "$want" ]] || die "$url answered $got, not $want: $(head -c 300 "$T/check.body" 2>/dev/null)"
}
check_url "http://127.0.0.1:$port_http/popular" 302
check_url "https://127.0.0.1:$port_resp/popular" 302
check_url "https://127.0.0.1:$port_triv/popular" 302
check_url "$hop_url/popular" 302
check_url "$hop_url/1000001" 302
check_url "$hop_url/healthz" 200
if [[ -n $have_ext ]]; then
  check_url "$hop_url$ext_path" 302 -A "$mobile_ua"
  loc=$(curl -ksS -o /dev/null -A "$mobile_ua" -w '%{redirect_url}' "$hop_url$ext_path")
  [[ $loc == "https://apps.apple.com/app/id000000001?pt=bench&${ext_path#*\?}" ]] ||
    die "the extended link sent an iPhone to $loc, not the ios target with the visitor's query"
fi
[[ -z $hop_before ]] || check_url "https://127.0.0.1:$port_before/popular" 302
if [[ -n $key ]]; then
  auth=(-H "Authorization: Bearer $key")
  check_url "$hop_url/api/links" 201 "${auth[@]}" -H 'Content-Type: application/json' -d '{"url": "https://example.com/created"}'
  check_url "$hop_url/api/links/popular" 200 "${auth[@]}"
  check_url "$hop_url/api/links" 200 "${auth[@]}"
  check_url "$hop_url/api/links/popular/stats" 200 "${auth[@]}"
fi
"$load" -a "$T/hop.sock" -n 20 -c 4 -d 10 -s -h 127.0.0.1 -p /popular -e 302 >/dev/null ||
  die "fcgi_load against hop's socket did not get 20 × 302"
"$load" -a "$T/hop.sock" -n 20 -c 4 -d 10 -s -h 127.0.0.1 -u "$T/paths-real.txt" -V "$T/visitors.txt" -e 302 >/dev/null ||
  die "fcgi_load with the visitors' header sets did not get 20 × 302"
"$load" -a "$T/hopdom.sock" -n 20 -c 4 -d 10 -s -h go.bench.test -p /popular -e 302 >/dev/null ||
  die "fcgi_load against the pool with domains did not get 20 × 302"
"$load" -a "$T/triv.sock" -n 20 -c 4 -d 10 -p /popular -e 302 >/dev/null ||
  die "fcgi_load against the trivial responder did not get 20 × 302"

# ---- accounting --------------------------------------------------------------------------------------

# Our own reaped children: the load generators.
self_ticks() {
  local line f
  read -r line </proc/$$/stat
  read -r -a f <<<"${line##*) }"
  echo $((f[13] + f[14]))
}
pg_pid() { head -n 1 "$T/pg/data/postmaster.pid"; }
snapshot() {
  echo "$(tree_ticks "$caddy_pid") $(tree_ticks "$hop_pid") $(tree_ticks "$triv_pid") $(tree_ticks "$(pg_pid)") $(self_ticks) $(tree_ticks "$nv_pid") $(tree_ticks "$before_pid") $(tree_ticks "$dom_pid")"
}

bound=$((secs + 30))
# scrape_loop SOCKET SECONDS URI: one request for URI with the operator's param (HOP_METRICS) a second, from
# one process (tests/lib/fcgi_raw.py's client); exits 1 when an answer does not come.
scrape_loop() {
  python3 - "$@" <<'PY'
import socket, sys, time
sys.path.insert(0, "tests/lib")
from fcgi_raw import BEGIN_REQUEST, PARAMS, RESPONDER, STDIN, encode_params, read_answer, record
path, end, uri = sys.argv[1], time.monotonic() + float(sys.argv[2]), sys.argv[3].encode()
params = encode_params([(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", uri), (b"HOP_METRICS", b"1")])
while time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(record(BEGIN_REQUEST, bytes([0, RESPONDER, 0, 0, 0, 0, 0, 0])) + record(PARAMS, params)
              + record(PARAMS, b"") + record(STDIN, b""))
    out, ended, _ = read_answer(s, time.monotonic() + 5)
    s.close()
    if not ended:
        sys.exit("bench: a scrape got no answer")
    time.sleep(1)
PY
}

# Run one cell for D seconds; print its RESULT line.
run_load() {
  local kind=$1 what=$2 d=$3 url mode
  case $kind in
    wrk)
      url=${what% *} mode=${what##* }
      timeout -k 5 "$bound" wrk -t2 -c"$conns" -d"${d}s" -s "$T/$mode.lua" "$url" | grep '^RESULT'
      ;;
    h2)
      rm -f "$T/h2.log"
      local h2out
      h2out=$(timeout -k 5 "$bound" h2load -t2 -c"$conns" -m1 -D "$d" --log-file="$T/h2.log" "$what" 2>&1) || true
      h2_result "$h2out"
      ;;
    fcgi)
      local -a extra=()
      if [[ $what == *" +mobile" ]]; then
        what=${what% +mobile}
        extra=(-H "User-Agent: $mobile_ua")
      fi
      # a cell may name its own Host (-h)
      local -a host=(-h 127.0.0.1)
      [[ " $what " == *" -h "* ]] && host=()
      # shellcheck disable=SC2086 # the rest of $what is options
      timeout -k 5 "$bound" "$load" -a $what "${extra[@]}" -c "$conns" -t 2 -d "$d" -s "${host[@]}" | grep '^RESULT'
      ;;
    fcgireal)
      # as fcgi, with what visitors send: bench_visitors' header sets (User-Agent, Referer with a path, client
      # address), one at random a request (and UTM values in the paths of $what)
      # shellcheck disable=SC2086 # the rest of $what is options
      timeout -k 5 "$bound" "$load" -a $what -c "$conns" -t 2 -d "$d" -s -h 127.0.0.1 -V "$T/visitors.txt" |
        grep '^RESULT'
      ;;
    fcgiscrape | fcgiping)
      # what Prometheus does, over the same socket: the whole pool's /metrics once a second during the load,
      # from one long-lived process; fcgiping asks for /robots.txt instead, the control that shows what any
      # request once a second costs, so that the difference is the scrape's own
      local scraper
      scrape_loop "${what%% *}" "$((d + 2))" "$([[ $kind == fcgiscrape ]] && echo /metrics || echo /robots.txt)" &
      scraper=$!
      # shellcheck disable=SC2086
      timeout -k 5 "$bound" "$load" -a $what -c "$conns" -t 2 -d "$d" -s -h 127.0.0.1 | grep '^RESULT'
      kill "$scraper" 2>/dev/null || true
      wait "$scraper" 2>/dev/null || true
      ;;
    pgb)
      rm -f "$T"/pgb.*
      local pout
      pout=$(timeout -k 5 "$bound" "$pgbin/pgbench" -n -M prepared -c "$pg_clients" -j 2 -T "$d" -l --log-prefix="$T/pgb" \
        -D keyhash="\\x$keyhash" -D owner="$owner" -D url=https://example.com/created -D redirect=302 \
        -D slug=popular -D linkid="$popular_id" -f "$what" "$HOP_DB" 2>&1) || {
        say "pgbench failed: $(tail -n 3 <<<"$pout")"
        echo "RESULT requests=0 seconds=1 p50_us=0 p90_us=0 p99_us=0 max_us=0 errors=1 unexpected=0"
        return
      }
      local n failed
      n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$pout")
      failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$pout")
      # pgbench's duration is -T; the per-transaction log gives the latencies
      cat "$T"/pgb.* | awk '{ print $3 }' | sort -n | percentiles "${n:-0}" "$d" "${failed:-0}"
      ;;
  esac
}
# A RESULT line from sorted latencies (us) on stdin.
percentiles() {
  awk -v req="$1" -v s="$2" -v err="$3" '
    function at(p,    i) {
      i = int(NR * p + 0.5)
      return v[i < 1 ? 1 : i]
    }
    { v[NR] = $1 }
    END {
      if (NR == 0) {
        printf "RESULT requests=%d seconds=%s p50_us=0 p90_us=0 p99_us=0 max_us=0 errors=%d unexpected=0\n", req, s, err + (req == 0)
        exit
      }
      printf "RESULT requests=%d seconds=%s p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d unexpected=0\n",
        req, s, at(0.5), at(0.9), at(0.99), v[NR], err
    }'
}
# h2load: completed requests and duration from its summary, latencies from its log file.
h2_result() {
  local out=$1 s n failed unexp
  s=$(sed -n 's/^finished in \([0-9.]*\)s.*/\1/p' <<<"$out")
  n=$(sed -n 's/^requests: .* \([0-9]*\) done.*/\1/p' <<<"$out")
  failed=$(sed -n 's/^requests: .* \([0-9]*\) failed, \([0-9]*\) errored, \([0-9]*\) timeout.*/\1 \2 \3/p' <<<"$out")
  unexp=$(sed -n 's/^status codes: [0-9]* 2xx, [0-9]* 3xx, \([0-9]*\) 4xx, \([0-9]*\) 5xx.*/\1 \2/p' <<<"$out")
  read -r _ f2 f3 <<<"${failed:-0 0 0}"
  read -r u4 u5 <<<"${unexp:-0 0}"
  awk -F '\t' '$2 > 0 { print $3 }' "$T/h2.log" 2>/dev/null | sort -n |
    percentiles "${n:-0}" "${s:-$secs}" "$((f2 + f3))" | sed "s/unexpected=0/unexpected=$((u4 + u5))/"
}

results=$T/results.tsv
: >"$results"
: >"$T/hop.notes"

# settle: the counting pools' visits written (bench_settle)
settle() { bench_settle "$hop" "$T/hop.sock" "$T/hopb.sock" "$T/hopdom.sock"; }

# Measure one cell once: the load, and the CPU every process spent meanwhile, the visits it made written.
measure() {
  local cell=$1 round=$2 d=$3 name kind app what label before after line
  IFS='|' read -r name kind app what label <<<"$cell"
  settle
  before=$(snapshot)
  line=$(run_load "$kind" "$what" "$d") || line=""
  sleep 0.2 # let the last requests' processes finish their accounting
  settle
  after=$(snapshot)
  # keep hop's warnings and errors, drop the access lines so that the log stays small
  grep -v 'msg=access' "$T/hop.log" | head -n 200 | sed "s/^/[$name round $round] /" >>"$T/hop.notes" || true
  : >"$T/hop.log"
  # the same for the pool with domains: a log that grows by a line a request costs more than one kept short
  grep -v 'msg=access' "$T/hopdom.log" | head -n 200 | sed "s/^/[$name round $round, domains] /" >>"$T/hop.notes" || true
  : >"$T/hopdom.log"
  [[ $round == warm ]] && return 0
  if [[ $line != RESULT* ]]; then
    say "$name: no result"
    line="RESULT requests=0 seconds=1 p50_us=0 p90_us=0 p99_us=0 max_us=0 errors=1 unexpected=0"
  fi
  # shellcheck disable=SC2086
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$app" "$label" "${line#RESULT }" "$before" "$after" >>"$results"
}

ncells=${#cells[@]}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "cells: $ncells, rounds: $rounds, $secs s each (about $(((ncells * rounds * (secs * 10 + 6) / 10 + 70) / 60)) min)"
# hop's caches and Caddy's connections to it warm up before anything counts
say "warming up"
for c in "${cells[@]}"; do
  if [[ $c == *"|wrk|hop"* ]]; then
    measure "$c" warm 1
  fi
done
for ((r = 1; r <= rounds; r++)); do
  say "round $r of $rounds"
  # each round starts at another cell, so that no cell always runs right after the same neighbour
  for ((i = 0; i < ncells; i++)); do
    c=${cells[$(((i + (r - 1) * 3) % ncells))]}
    measure "$c" "$r" "$secs"
  done
done

# ---- memory ------------------------------------------------------------------------------------------

read -r hop_rss hop_pss hop_nproc <<<"$(tree_mem "$hop_pid")"
read -r triv_rss triv_pss triv_nproc <<<"$(tree_mem "$triv_pid")"
bin_size=$(stat -c %s "$hop")
strip -o "$T/hop.stripped" "$hop" 2>/dev/null && stripped_size=$(stat -c %s "$T/hop.stripped") || stripped_size=0
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
deaths=$(grep -c 'worker died' "$T/hop.notes" || true)
dropped=$(sed -n 's/.*msg="visits dropped".* total=\([0-9]*\).*/\1/p' "$T/hop.notes" | sort -n | tail -n 1)
warnings=$(grep -cE 'level=(warn|error|fatal)' "$T/hop.notes" || true)

# ---- report ------------------------------------------------------------------------------------------

mkdir -p "$outdir"
{
  echo "# hop benchmark"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $("$hop" version 2>/dev/null || echo "hop ?"), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
  echo "$(caddy version | cut -d' ' -f1), PostgreSQL $("$pgbin/postgres" --version | awk '{ print $3 }'), $workers hop workers;" \
    "$rounds rounds of $secs s per cell, interleaved; $conns connections (wrk -t2, h2load -t2 -m1, fcgi_load -t2);" \
    "pgbench -M prepared -c $pg_clients -j 2. The load generators share the machine's CPUs with everything else" \
    "(load average before the rounds: $load_before; after: $load_after)."
  echo
  awk -F '\t' -v tck="$clk_tck" -v conns="$conns" -f bench/report.awk "$results"
  echo
  echo "## Memory and start-up"
  echo
  echo "| what | value |"
  echo "| --- | ---: |"
  echo "| hop pool after the benchmark: RSS ($hop_nproc processes) | $((hop_rss / 1024)).$((hop_rss % 1024 * 10 / 1024)) MiB |"
  echo "| hop pool after the benchmark: PSS | $((hop_pss / 1024)).$((hop_pss % 1024 * 10 / 1024)) MiB |"
  echo "| trivial responder ($triv_nproc processes): RSS / PSS | $((triv_rss / 1024)).$((triv_rss % 1024 * 10 / 1024)) / $((triv_pss / 1024)).$((triv_pss % 1024 * 10 / 1024)) MiB |"
  echo "| build/hop size (with debug info) / stripped | $((bin_size / 1024)) KiB / $((stripped_size / 1024)) KiB |"
  echo "| hop serve start to msg=ready, median (min–max) of $rounds | $(printf '%s\n' "${ready_ms[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%s ms (%s–%s)", v[int((NR + 1) / 2)], v[1], v[NR] }') |"
  echo "| worker deaths / warnings and errors in hop's log during the run | $deaths / $warnings |"
  echo "| visits dropped by hop (logged as msg=\"visits dropped\": a worker's counter table was full) | ${dropped:-0} |"
} >"$T/results.md"
cp "$T/results.md" "$outdir/results.md"
cat "$T/results.md"
if [[ -s $T/hop.notes ]] && ((warnings > 0)); then
  say "hop's log had warnings (first 5):"
  grep -E 'level=(warn|error|fatal)' "$T/hop.notes" | head -n 5 >&2
fi
say "written to build/bench/results.md"
