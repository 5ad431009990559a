#!/usr/bin/env bash
# `make bench-search`: finding links with 100,000 links for one owner (issue 11's targets: a q= search in
# <= 50 ms, a tag filter in <= 10 ms). Starts a throwaway PostgreSQL, hop and Caddy (tests/lib/stack.sh),
# generates the links with SQL, then prints, for each query: its plan (EXPLAIN ANALYZE of the SQL compiled
# into build/hop, planned the way hop plans it), its median and p95 in PostgreSQL alone (pgbench running
# that SQL the way hop sends it), and end to end through hop and Caddy over HTTPS (curl, one kept-alive
# connection). Loopback only; bounded by SEARCH_RUNS executions per query. Knobs: SEARCH_LINKS (100000),
# SEARCH_RUNS (30), KEEP=1 keeps the temp dir. Writes build/bench/search.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
nlinks=${SEARCH_LINKS:-100000}
runs=${SEARCH_RUNS:-30}
if ! [[ $nlinks =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || ((nlinks > 1000000 || runs > 200)); then
  echo "bench-search: SEARCH_LINKS must be 1..1000000 and SEARCH_RUNS 1..200" >&2
  exit 2
fi
pgbin=$(pg_config --bindir 2>/dev/null || true)
[[ -x $pgbin/pgbench ]] || pgbin=/usr/lib/postgresql/15/bin
export HOP_WORKERS=${HOP_WORKERS:-2}
out=$repo/build/bench/search.md

# shellcheck source=tests/lib/stack.sh
. tests/lib/stack.sh
say() { echo "bench-search: $*" >&2; }
stack_start >&2
psql_f() { psql -X -q -v ON_ERROR_STOP=1 -d "$HOP_DB" "$@"; }

# ---- data ----------------------------------------------------------------------------------------------

key=$(make_key bench)
make_key other >/dev/null
owner=$(psql_q "SELECT id FROM owners WHERE name = 'bench'")
other=$(psql_q "SELECT id FROM owners WHERE name = 'other'")
nother=$((nlinks / 5))
say "generating $nlinks links for one owner and $nother for another"
t0=$(now_ms)
# Hosts, sections, campaign queries, titles in several words (one not ASCII) and tags of every frequency:
# marketing 1/2, q1..q4 1/4 each, team-0..team-19 1/20 each, campaign-N 1/1500 each (on a third of the links),
# rare 1/10000. The other owner's links are the newest, so walking ids from the top passes them first.
# The notify trigger is off meanwhile: the pool need not drop 120,000 cache entries it never held.
psql_f -v owner="$owner" -v other="$other" -v n="$nlinks" -v n_other="$nother" <<'EOF'
ALTER TABLE links DISABLE TRIGGER links_notify;
INSERT INTO links (slug, owner_id, url, title, tags, created_at)
SELECT to_hex(i * 2654435761 % 4294967296) || 'k' || o.owner || 'n' || i,
       o.owner,
       'https://' || (ARRAY['example.com', 'shop.example.org', 'news.example.net', 'docs.example.io',
                            'blog.example.dev', 'www.acme.test', 'cdn.fabrikam.test'])[1 + i % 7]
         || '/' || (ARRAY['products', 'articles', 'guides', 'events', 'jobs', 'press'])[1 + i / 7 % 6]
         || '/' || substr(md5(i::text), 1, 12) || '/item-' || i
         || CASE WHEN i % 3 = 0 THEN '?utm_source=newsletter&utm_campaign=c' || i % 97 ELSE '' END,
       CASE WHEN i % 4 = 0 THEN NULL
            ELSE (ARRAY['Spring sale', 'Quarterly report', 'Conference talk', 'Recipe of the week',
                        'Release notes', 'We are hiring', 'Überblick für Kunden'])[1 + i % 7] || ' #' || i END,
       ARRAY(SELECT t FROM unnest(ARRAY[
               CASE WHEN i % 2 = 0 THEN 'marketing' END,
               'q' || (1 + i % 4),
               'team-' || (i % 20),
               CASE WHEN i % 3 = 0 THEN 'campaign-' || (i % 500) END,
               CASE WHEN i % 10000 = 7 THEN 'rare' END]) AS t
             WHERE t IS NOT NULL ORDER BY t COLLATE "C"),
       now() - make_interval(secs => o.n - i)
FROM (VALUES (:owner, :n), (:other, :n_other)) AS o(owner, n), generate_series(1, o.n) AS i;
ALTER TABLE links ENABLE TRIGGER links_notify;
VACUUM ANALYZE links;
EOF
say "generated in $((($(now_ms) - t0) / 1000)) s"
mid_id=$(psql_q "SELECT id FROM links WHERE owner_id = $owner ORDER BY id OFFSET $((nlinks / 2)) LIMIT 1")
# a cursor is base64url of "v1:<id>" without padding (handlers/cursor.c)
cursor_mid=$(printf 'v1:%s' "$mid_id" | base64 | tr '+/' '-_' | tr -d '=\n')

# ---- the statements, from the binary ---------------------------------------------------------------------

strings -n 6 "$HOP_BIN" >"$T/strings.txt"
stmt_sql() {
  grep -m 1 -E "$1" "$T/strings.txt" || {
    say "no statement matching /$1/ in $HOP_BIN"
    exit 1
  }
}
# shellcheck disable=SC2016 # $N are SQL parameters
sql_list=$(stmt_sql 'k\.id < \$2 ORDER BY k\.id DESC LIMIT \$3\)\) ORDER BY l\.id DESC LIMIT \$3$')
# shellcheck disable=SC2016
sql_tagged=$(stmt_sql 'l\.tags @> \$3::text\[\] ORDER BY l\.id DESC LIMIT \$4$')
# shellcheck disable=SC2016
sql_search=$(stmt_sql 'LIKE \$3 AND l\.tags @> \$4::text\[\] ORDER BY')
# shellcheck disable=SC2016
sql_short=$(stmt_sql 'link_search_short\(\$1::bigint')
# hop's session settings (STMT_SESSION_SETUP: set_config(name, value, false) on each connection as it
# opens), applied to the psql and pgbench sessions below too, so that they plan as hop's do
sql_session=$(stmt_sql "^SELECT set_config\\('[a-z_]+', '[^']*', false\\)$")
pg_session=$(sed -E "s/^SELECT set_config\\('([a-z_]+)', '([^']*)', false\\)$/-c \\1=\\2/" <<<"$sql_session")
export PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }$pg_session"
say "hop's session: $pg_session"

# name|statement|owner; before; then the statement's own parameters (SQL literals, ';' between)|path and query for hop|target ms
max=9223372036854775807
cases=(
  "list, first page|list|$owner; $max; 51|/api/links|"
  "list, a page at the middle (cursor)|list|$owner; $mid_id; 51|/api/links?cursor=$cursor_mid|"
  "tag marketing (1 in 2)|tagged|$owner; $max; '{marketing}'; 51|/api/links?tag=marketing|10"
  "tag team-7 (1 in 20)|tagged|$owner; $max; '{team-7}'; 51|/api/links?tag=team-7|10"
  "tag campaign-42 (1 in 1500)|tagged|$owner; $max; '{campaign-42}'; 51|/api/links?tag=campaign-42|10"
  "tag rare (1 in 10000)|tagged|$owner; $max; '{rare}'; 51|/api/links?tag=rare|10"
  "tags marketing + team-4|tagged|$owner; $max; '{marketing,team-4}'; 51|/api/links?tag=marketing&tag=team-4|10"
  "tag nope (none)|tagged|$owner; $max; '{nope}'; 51|/api/links?tag=nope|10"
  "q=example (every link)|search|$owner; $max; '%example%'; '{}'; 51|/api/links?q=example|50"
  "q=report (1 in 9)|search|$owner; $max; '%report%'; '{}'; 51|/api/links?q=report|50"
  "q=item-12345 (1 link)|search|$owner; $max; '%item-12345%'; '{}'; 51|/api/links?q=item-12345|50"
  "q=zzzz (none)|search|$owner; $max; '%zzzz%'; '{}'; 51|/api/links?q=zzzz|50"
  "q=ex (2 characters, many)|short|$owner; $max; '%ex%'; '{}'; 51|/api/links?q=ex|50"
  "q=qz (2 characters, none)|short|$owner; $max; '%qz%'; '{}'; 51|/api/links?q=qz|50"
  "q=report + tag team-3|search|$owner; $max; '%report%'; '{team-3}'; 51|/api/links?q=report&tag=team-3|50"
)

# ---- plans ---------------------------------------------------------------------------------------------

# hop runs link_list prepared (PQexecPrepared: after 5 runs PostgreSQL may switch to a generic plan) and
# link_search_short (a q of 2 characters: the walk in the function of 0015, whose plan auto_explain shows)
# prepared too, and link_list_tagged and link_search as unnamed statements planned with their values every time
# (STMT_APP_REPLAN: the same as plan_cache_mode = force_custom_plan). Each plan below is the one hop gets: the
# list's after 6 executions, the others custom; for a search and a rare tag, the generic plan an ordinary
# prepared statement would have switched to is shown too, as the reason for replanning.
explain() {
  local stmt=$1 params=$2 mode=$3
  psql -X -q -v ON_ERROR_STOP=1 -d "$HOP_DB" -At -f <(
    echo "PREPARE list AS $sql_list;"
    echo "PREPARE tagged AS $sql_tagged;"
    echo "PREPARE search AS $sql_search;"
    echo "PREPARE short AS $sql_short;"
    echo "SET plan_cache_mode = $mode;"
    # a q of 2 characters runs in the function link_search_short: its own plan is shown by auto_explain
    if [[ $stmt == short ]]; then
      echo "LOAD 'auto_explain';"
      echo "SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
      echo "SET auto_explain.log_analyze = on; SET auto_explain.log_timing = off; SET client_min_messages = log;"
    fi
    for i in 1 2 3 4 5 6; do echo "EXECUTE $stmt(${params//;/,}) \\g /dev/null"; done
    echo "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE $stmt(${params//;/,});"
  ) 2>&1 | sed 's/^/    /'
}

plans=$T/plans.md
: >"$plans"
for c in "${cases[@]}"; do
  IFS='|' read -r name stmt params path target <<<"$c"
  mode=auto
  [[ $stmt == list || $stmt == short ]] || mode=force_custom_plan
  {
    echo "### $name: $stmt ($mode, 7th execution)"
    echo
    explain "$stmt" "$params" "$mode"
    echo
    if [[ $name == "q=item-12345"* || $name == "q=example"* || $name == "tag rare"* ]]; then
      echo "### $name: the generic plan hop avoids (force_generic_plan)"
      echo
      explain "$stmt" "$params" force_generic_plan
      echo
    fi
  } >>"$plans"
done

# ---- timings -------------------------------------------------------------------------------------------

# median and p95 of the numbers (ms) on stdin
stats() {
  sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- -"; exit }
    m = int((NR + 1) / 2); p = int(NR * 0.95 + 0.999); if (p > NR) p = NR
    printf "%.2f %.2f\n", v[m], v[p] }'
}

# pgbench -n -c 1 -t RUNS+1 of one statement: -M prepared for the list, as hop runs it, and -M extended
# (unnamed, planned with the values each time) for the two it replans. Latencies from the transaction log.
pg_time() {
  local stmt=$1 params=$2 sql mode=prepared x i=0
  case $stmt in
    list) sql=$sql_list ;;
    tagged) sql=$sql_tagged mode=extended ;;
    search) sql=$sql_search mode=extended ;;
    short) sql=$sql_short ;;
  esac
  sql=${sql//HH24:MI:SS/HH24-MI-SS} # pgbench would read :MI and :SS as variables; the work is the same
  local -a defs=() vals=()
  IFS=';' read -r -a vals <<<"$params"
  for x in "${vals[@]}"; do
    i=$((i + 1))
    x=${x# }
    x=${x#\'}
    x=${x%\'}
    defs+=(-D "p$i=$x")
    sql=${sql//\$$i/:p$i}
  done
  printf '%s;\n' "$sql" >"$T/pg.sql"
  rm -f "$T"/pgl.*
  timeout -k 5 300 "$pgbin/pgbench" -n -M "$mode" -c 1 -t "$((runs + 1))" -l --log-prefix="$T/pgl" "${defs[@]}" \
    -f "$T/pg.sql" "$HOP_DB" >"$T/pgbench.out" 2>&1 || {
    say "pgbench failed: $(tail -n 3 "$T/pgbench.out")"
    echo "- -"
    return
  }
  # the first run pays the new connection's catalog lookups, as curl's first pays the handshake: dropped
  cat "$T"/pgl.* | tail -n +2 | awk '{ printf "%.3f\n", $3 / 1000 }' | stats
}

# curl, RUNS + 1 requests on one connection (the first, which pays the TLS handshake, is dropped).
http_time() {
  local path=$1 urls=() i
  for ((i = 0; i <= runs; i++)); do urls+=(-o /dev/null "$BASE$path"); done
  curl -sS --cacert "$CACERT" -H "Authorization: Bearer $key" -w '%{http_code} %{time_total}\n' \
    "${urls[@]}" >"$T/curl.out"
  if grep -qv '^200 ' "$T/curl.out"; then
    say "$path answered $(grep -v '^200 ' "$T/curl.out" | head -n 1)"
  fi
  tail -n +2 "$T/curl.out" | awk '{ printf "%.3f\n", $2 * 1000 }' | stats
}

say "timing ${#cases[@]} queries, $runs runs each, in PostgreSQL and through hop"
table=$T/table.md
{
  echo "| query | found | PostgreSQL median / p95 ms | hop via Caddy, HTTPS: median / p95 ms | target | met |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
} >"$table"
for c in "${cases[@]}"; do
  IFS='|' read -r name stmt params path target <<<"$c"
  found=$(curl -sS --cacert "$CACERT" -H "Authorization: Bearer $key" "$BASE$path" | jq '.links | length')
  read -r pg_med pg_p95 <<<"$(pg_time "$stmt" "$params")"
  read -r h_med h_p95 <<<"$(http_time "$path")"
  met=""
  if [[ -n $target ]]; then
    met=$(awk -v a="$pg_p95" -v b="$h_p95" -v t="$target" 'BEGIN { print (a <= t && b <= t) ? "yes" : (a <= t ? "in PostgreSQL" : "**no**") }')
    target="≤ $target ms"
  fi
  echo "| $name | $found | $pg_med / $pg_p95 | $h_med / $h_p95 | $target | $met |" >>"$table"
done
tags_ms=$(for ((i = 0; i < 5; i++)); do
  curl -sS --cacert "$CACERT" -H "Authorization: Bearer $key" -o /dev/null -w '%{time_total}\n' "$BASE/api/tags"
done | awk '{ printf "%.3f\n", $1 * 1000 }' | stats)

mkdir -p "$(dirname "$out")"
{
  echo "# hop: finding links"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $("$HOP_BIN" version 2>/dev/null || echo "hop ?"), $(nproc) CPUs, PostgreSQL" \
    "$("$pgbin/postgres" --version | awk '{ print $3 }'), $HOP_WORKERS hop workers; $nlinks links for one owner and" \
    "$nother for another; $runs runs per query, one client (load average $(cut -d' ' -f1-3 /proc/loadavg))."
  echo "A page is limit=50 (hop asks for 51 to know whether there is a next one). \"met\": both p95s within the target."
  echo
  cat "$table"
  echo
  echo "GET /api/tags ($(psql_q "SELECT count(DISTINCT t) FROM links, unnest(tags) t WHERE owner_id = $owner") tags" \
    "over $nlinks links), through hop: median / p95 of 5: ${tags_ms/ / / } ms (no target)."
  echo
  echo "## Plans"
  echo
  cat "$plans"
} >"$T/search.md"
cp "$T/search.md" "$out"
cat "$T/search.md"
say "written to build/bench/search.md"
stack_stop >/dev/null
