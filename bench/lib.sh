# Helpers shared by the benchmark scripts (bench/run.sh, scale.sh, hours.sh, instructions.sh): the median, a
# throwaway PostgreSQL, process liveness and stopping, free loopback ports, and what a process tree spent (CPU
# ticks from /proc/PID/stat) and holds (RSS and PSS from /proc/PID/smaps_rollup). Source it.
# shellcheck shell=bash

# the median of the numbers on stdin (0 when there are none)
median() { sort -n | awk '{ v[NR] = $1 } END { if (!NR) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench_pg_start: a throwaway PostgreSQL in $T/pg (db/pgdev.sh, run from the repository), HOP_DB exported for
# it, and pg_started set so that the caller's cleanup stops it. Uses the caller's say and die.
bench_pg_start() {
  say "starting a throwaway PostgreSQL in $T/pg"
  PGDEV_DIR=$T/pg db/pgdev.sh start >"$T/pgdev.log" 2>&1 || die "db/pgdev.sh start failed: $(tail -n 5 "$T/pgdev.log")"
  # shellcheck disable=SC2034 # the caller's cleanup reads it
  pg_started=1
  HOP_DB=$(PGDEV_DIR=$T/pg db/pgdev.sh url)
  export HOP_DB
}

alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}

# Stop one child of ours: SIGTERM, up to 10 s, then SIGKILL.
stop_child() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

port_free() {
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]; then
    return 1
  fi
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_ports N LO HI: N free loopback ports in [LO, HI) into the array `ports`, starting at a place this
# process's pid picks (so that two benchmarks at once start apart) and wrapping around.
free_ports() {
  local n=$1 lo=$2 hi=$3 p
  ports=()
  p=$((lo + $$ % (hi - lo)))
  while ((${#ports[@]} < n)); do
    ((p < hi)) || p=$lo
    port_free "$p" && ports+=("$p")
    p=$((p + 1))
  done
}

# CPU ticks (user + system) of a process tree: the root, the children it reaped, and its live children.
tree_ticks() {
  local root=$1 total=0 kids=() k line f
  [[ -n $root ]] || {
    echo 0
    return
  }
  read -r -a kids < <(cat /proc/"$root"/task/*/children 2>/dev/null | tr '\n' ' ') || true
  if read -r line <"/proc/$root/stat" 2>/dev/null; then
    read -r -a f <<<"${line##*) }"
    total=$((f[11] + f[12] + f[13] + f[14]))
  fi
  for k in "${kids[@]}"; do
    if read -r line <"/proc/$k/stat" 2>/dev/null; then
      read -r -a f <<<"${line##*) }"
      total=$((total + f[11] + f[12]))
    fi
  done
  echo "$total"
}

# "Rss Pss" in kB of a process tree (root and live children), from smaps_rollup.
tree_mem() {
  local root=$1 pids k kids=()
  pids=("$root")
  read -r -a kids < <(cat /proc/"$root"/task/*/children 2>/dev/null | tr '\n' ' ') || true
  for k in "${kids[@]}"; do pids+=("$k"); done
  for k in "${pids[@]}"; do cat "/proc/$k/smaps_rollup" 2>/dev/null; done |
    awk -v n="${#pids[@]}" '$1 == "Rss:" { r += $2 } $1 == "Pss:" { p += $2 } END { printf "%d %d %d\n", r, p, n }'
}

# bench_settle HOP SOCKET...: until every pool listening on one of the sockets (those that exist) holds no
# visit that is not in the counters yet (hop_visits_pending, asked with HOP status: the master's window
# included, whose parts go one a tick once the load stops), 30 s at most, so that a cell is charged the
# PostgreSQL work of its own visits, not the next cell's.
bench_settle() {
  local hop=$1 i sock p
  shift
  for ((i = 0; i < 300; i++)); do
    p=0
    for sock in "$@"; do
      [[ -S $sock ]] || continue
      p=$((p + $({ "$hop" status --metrics --socket "$sock" 2>/dev/null || true; } |
        awk '$1 == "hop_visits_pending" { n = $2 } END { print n + 0 }')))
    done
    ((p == 0)) && return 0
    sleep 0.1
  done
}

# What many different people send, for the analytics cells: User-Agents (browsers, phones, a tablet,
# link-preview fetchers and crawlers) and Referers with a path, or none.
bench_uas=(
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15'
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0'
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36'
  'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36'
  'Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'
  'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)'
  'Mastodon/4.3.2 (http.rb/5.2.0; +https://mastodon.social/)'
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
)
bench_refs=(
  '' ''
  'https://news.example.org/2026/12/a-long-article-about-things?ref=home#comments'
  'https://www.google.com/'
  'https://t.co/AbCdEf123'
  'https://mastodon.social/@someone/113456789012345678'
  'https://www.reddit.com/r/selfhosted/comments/abc123/a_post_title/'
)

# bench_visitors DIR: the visitors for fcgi_load -V. Writes DIR/visitors.mmdb, a country database for
# 10.1.0.0/16 .. 10.8.0.0/16 (10.9.0.0/16 stays unknown), and DIR/visitors.txt, one header set a line: a
# User-Agent, a Referer or none, and a client address. 12 × 7 × 9 = 756 lines.
bench_visitors() {
  local dir=$1 ua ref a
  perl "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/make-mmdb.pl" "$dir/visitors.mmdb" \
    10.1.0.0/16=US 10.2.0.0/16=DE 10.3.0.0/16=FR 10.4.0.0/16=GB 10.5.0.0/16=JP 10.6.0.0/16=BR \
    10.7.0.0/16=IN 10.8.0.0/16=NL || return 1
  for ua in "${bench_uas[@]}"; do
    for ref in "${bench_refs[@]}"; do
      for a in 1 2 3 4 5 6 7 8 9; do
        printf 'User-Agent: %s\tRemote-Addr: 10.%d.%d.%d' "$ua" "$a" $((RANDOM % 256)) $((1 + RANDOM % 254))
        [[ -z $ref ]] || printf '\tReferer: %s' "$ref"
        printf '\n'
      done
    done
  done >"$dir/visitors.txt"
}

# bench_visitors_lua: the same User-Agents and Referers for wrk, as a Lua function visitor() that returns
# the next request's headers (every pair in turn; through Caddy the client address is the loopback's).
bench_visitors_lua() {
  local x
  echo 'local uas = {'
  for x in "${bench_uas[@]}"; do printf '  "%s",\n' "$x"; done
  echo '}'
  echo 'local refs = {'
  for x in "${bench_refs[@]}"; do printf '  "%s",\n' "$x"; done
  cat <<'LUA'
}
local visits = 0
local function visitor()
  visits = visits + 1
  local h = {["User-Agent"] = uas[visits % #uas + 1]}
  local r = refs[math.floor(visits / #uas) % #refs + 1]
  if r ~= "" then h["Referer"] = r end
  return h
end
LUA
}

# bench_utm_paths IN OUT: each path of IN with one of four query strings (none, or UTM source, medium and
# campaign of a newsletter, a social post or an ad), the same choice for a path every run.
bench_utm_paths() {
  awk 'BEGIN { q[0] = ""; q[1] = "?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale"
               q[2] = "?utm_source=mastodon&utm_medium=social&utm_campaign=launch"
               q[3] = "?utm_source=google&utm_medium=cpc&utm_campaign=brand" }
       { print $0 q[NR % 4] }' "$1" >"$2"
}
