#!/usr/bin/env bash
# `make bench-instructions`: the instructions one hop worker executes for a cached redirect beside the
# do-nothing responder's (bench/trivial_fcgi.c), counted by valgrind's callgrind (issue 17's ceiling). A rate
# through Caddy moves by several percent between runs on a shared machine; an instruction count is the same
# for the same binaries and requests, so a change of a few hundred instructions in hop's own code shows.
#
# Each responder runs with one worker on its own socket, twice: once for INSTR_WARMUP requests (default 200)
# and once for INSTR_WARMUP + INSTR_REQUESTS (default 20,000), all of one link, sent by fcgi_load with a
# browser's User-Agent, 4 at a time. Callgrind counts only inside the request's functions (hop's accept_one;
# the responder's FCGX_Accept_r, FCGX_PutStr and FCGX_Finish_r), and the second run less the first is what
# INSTR_REQUESTS requests cost: start-up, the first lookup in PostgreSQL and other one-off work cancel out.
# Prints instructions per request for each, their ratio, and where hop's go; writes
# build/bench/instructions.md (INSTR_OUT). About a minute for the defaults. Instructions are not time: a
# system call counts as the few instructions of its wrapper, and cache misses not at all.
#
#   bash bench/instructions.sh      (HOP_BIN=build/hop; KEEP=1 keeps the temp dir)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

say() { echo "bench-instructions: $*" >&2; }
die() {
  echo "bench-instructions: $*" >&2
  exit 1
}
if [[ ${1:-} == -h || ${1:-} == --help || $# -gt 0 ]]; then
  echo "usage: bench/instructions.sh   (INSTR_REQUESTS, INSTR_WARMUP, INSTR_OUT, HOP_BIN; KEEP=1)" >&2
  exit 2
fi

requests=${INSTR_REQUESTS:-20000}
warmup=${INSTR_WARMUP:-200}
hop=${HOP_BIN:-$repo/build/hop}
load=$repo/build/bench/fcgi_load
triv=$repo/build/bench/trivial_fcgi
out=${INSTR_OUT:-$repo/build/bench/instructions.md}
if ! [[ $requests =~ ^[1-9][0-9]*$ ]] || ((requests < 100 || requests > 1000000)); then
  die "INSTR_REQUESTS must be an integer in 100..1000000"
fi
if ! [[ $warmup =~ ^[0-9]+$ ]] || ((warmup < 1 || warmup > 100000)); then
  die "INSTR_WARMUP must be an integer in 1..100000"
fi
[[ -x $hop ]] || die "$hop not found (make build/hop)"
[[ -x $load && -x $triv ]] || die "build/bench/fcgi_load and build/bench/trivial_fcgi not found (make bench-tools)"
for c in valgrind callgrind_annotate psql; do
  command -v "$c" >/dev/null || die "$c not found (scripts/deps.sh test installs it)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/hop-instr.XXXXXX")
chmod 0711 "$T" # the postgres user must traverse it when we are root
pg_started=""
pid=""
cleanup() {
  trap - EXIT
  set +e
  stop_child "$pid"
  [[ -n $pg_started ]] && PGDEV_DIR=$T/pg db/pgdev.sh stop >>"$T/pgdev.log" 2>&1
  if [[ ${KEEP:-} == 1 ]]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_pg_start
"$hop" migrate >"$T/migrate.log" 2>&1 || die "hop migrate failed: $(tail -n 5 "$T/migrate.log")"
psql -X -q -v ON_ERROR_STOP=1 -d "$HOP_DB" -c "INSERT INTO owners (name) VALUES ('bench');
  INSERT INTO links (slug, owner_id, url) SELECT 'popular', id, 'https://example.com/popular' FROM owners" \
  >>"$T/migrate.log" 2>&1 || die "cannot add the link: $(tail -n 3 "$T/migrate.log")"

ua='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'

# measure NAME N: NAME's responder under callgrind, N requests, then stopped; its worker's profile is
# $T/NAME.N.cg. The worker is the master's one child (callgrind follows the fork, a file per process).
measure() {
  local name=$1 n=$2 sock=$T/$1.sock log=$T/$1.$2.log i ready="" cmd toggles
  rm -f "$sock"
  if [[ $name == hop ]]; then
    # settings in valgrind's environment: valgrind does not follow an exec (of env, say)
    export HOP_WORKERS=1 HOP_NO_MIGRATE=1 HOP_LISTEN=$sock
    cmd=("$hop" serve)
    toggles=(--toggle-collect=accept_one)
  else
    cmd=("$triv" "$sock" 1)
    toggles=(--toggle-collect=FCGX_Accept_r --toggle-collect=FCGX_PutStr --toggle-collect=FCGX_Finish_r)
  fi
  valgrind -q --tool=callgrind --collect-atstart=no "${toggles[@]}" \
    --callgrind-out-file="$T/$name.$n.%p.cg" "${cmd[@]}" 2>"$log" &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    if grep -Eq 'msg=ready|: ready' "$log"; then
      ready=1
      break
    fi
    alive "$pid" || die "$name exited under valgrind: $(tail -n 5 "$log")"
    sleep 0.1
  done
  [[ -n $ready ]] || die "$name was not ready within 60 s under valgrind: $(tail -n 5 "$log")"
  local kids=()
  read -r -a kids < <(cat /proc/"$pid"/task/*/children 2>/dev/null | tr '\n' ' ') || true
  ((${#kids[@]} == 1)) || die "$name: ${#kids[@]} worker processes, not 1"
  local w=${kids[0]}
  "$load" -a "$sock" -n "$n" -c 4 -d 600 -p /popular -H "User-Agent: $ua" -e 302 >"$T/$name.$n.load" 2>&1 ||
    die "$name: not every request answered 302: $(tail -n 3 "$T/$name.$n.load")"
  stop_child "$pid"
  pid=""
  # the worker writes its profile as it exits, which may be after its master
  for ((i = 0; i < 100; i++)); do
    alive "$w" || break
    sleep 0.1
  done
  [[ -s $T/$name.$n.$w.cg ]] || die "$name: no profile of its worker (pid $w)"
  mv "$T/$name.$n.$w.cg" "$T/$name.$n.cg"
}

# total FILE: the instructions of the profile; fn FILE NAME: NAME's, inclusive (0 when it never ran)
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'; }
fn() {
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    awk -v f=":$2" '{
        for (i = 2; i <= NF; i++) {
          n = index($i, f)
          if (n && n + length(f) - 1 == length($i)) { gsub(",", "", $1); print $1; found = 1; exit }
        }
      } END { if (!found) print 0 }'
}
# per A B: instructions per request of the difference between the long run (B) and the warm-up's (A)
per() { awk -v a="$1" -v b="$2" -v n="$requests" 'BEGIN { printf "%.0f", (b - a) / n }'; }

for name in trivial hop; do
  say "$name: $warmup requests, then $((warmup + requests)), under callgrind"
  measure "$name" "$warmup"
  measure "$name" "$((warmup + requests))"
done

long=$((warmup + requests))
t_triv=$(per "$(total "$T/trivial.$warmup.cg")" "$(total "$T/trivial.$long.cg")")
t_hop=$(per "$(total "$T/hop.$warmup.cg")" "$(total "$T/hop.$long.cg")")
((t_triv > 0 && t_hop > 0)) || die "no instructions counted (trivial $t_triv, hop $t_hop)"

# hop's request, split by what it calls (inclusive: a function's line counts what it calls)
parts=(
  "FCGX_Accept_r|libfcgi: the params read and decoded (FCGX_Accept_r)"
  "req_init|the request parsed: params indexed, path and query (req_init)"
  "router_match|the route chosen (router_match)"
  "redirect_get|the redirect: the link, the visit counted, the answer's headers (redirect_get)"
  "resp_send|the answer's head written (resp_send)"
  "FCGX_Finish_r|libfcgi: the answer's records sent, the connection closed (FCGX_Finish_r)"
  "log_access|the access line (log_access)"
)

# row TEXT N: a line of the table of hop's parts
row() { echo "| $1 | $2 | $(awk -v a="$2" -v b="$t_hop" 'BEGIN { printf "%.1f %%", 100 * a / b }') |"; }

mkdir -p "$(dirname "$out")"
{
  echo "# Instructions per request (callgrind)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), hop $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(valgrind --version)," \
    "$requests requests after $warmup (fcgi_load -c 4 on each socket, one link, a browser's User-Agent), one worker each."
  echo
  echo "| responder | instructions per request |"
  echo "| --- | ---: |"
  echo "| trivial_fcgi (libfcgi, a constant 302) | $t_triv |"
  echo "| hop, a cached redirect | $t_hop |"
  echo "| hop ÷ trivial | $(awk -v a="$t_hop" -v b="$t_triv" 'BEGIN { printf "%.2f", a / b }') |"
  echo
  echo "Where hop's go (a function's line counts what it calls):"
  echo
  echo "| part of hop's request | instructions | share |"
  echo "| --- | ---: | ---: |"
  rest=$t_hop
  for p in "${parts[@]}"; do
    func=${p%%|*}
    v=$(per "$(fn "$T/hop.$warmup.cg" "$func")" "$(fn "$T/hop.$long.cg" "$func")")
    rest=$((rest - v))
    row "${p#*|}" "$v"
  done
  row "the rest: the accept, the request id, the metrics, the clock, the arena" "$rest"
} >"$out"
cat "$out"
say "written to $out"
