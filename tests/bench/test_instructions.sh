#!/usr/bin/env bash
# bench/instructions.sh (make bench-instructions) run small, so that the count keeps working as hop changes:
# both responders counted, hop above the do-nothing responder (it parses, routes, looks up, counts and logs
# what the other does not), every part of hop's request counted and none above the whole, and bad settings
# refused with a message. No count is held to a bound: a library's new version moves them.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

out=$(mktemp -d "${TMPDIR:-/tmp}/hop-bench-instr.XXXXXX")
trap 'rm -rf "$out"' EXIT
small=(INSTR_REQUESTS=300 INSTR_WARMUP=20 INSTR_OUT="$out/instr.md" HOP_BIN="$HOP_BIN")

# run NAME WANT_EXIT [ENV...] -- ARGS...: bench/instructions.sh with ENV and ARGS, its output in OUT
run() { run_script bench/instructions.sh "$@"; }
# cell TEXT: the number in the row that begins with TEXT
cell() { awk -F ' *[|] *' -v t="$1" 'index($2, t) == 1 { print $3; exit }' "$out/instr.md"; }

run "300 requests of each responder" 0 "${small[@]}" --
triv=$(cell "trivial_fcgi") hop=$(cell "hop, a cached redirect")
if [[ $triv =~ ^[0-9]+$ && $hop =~ ^[0-9]+$ ]] && ((triv >= 1000 && triv <= 1000000)); then
  ok "the responder: counted ($triv a request)"
else
  fail "the responder: counted" "got '$triv' and '$hop'"
fi
if [[ $hop =~ ^[0-9]+$ ]] && ((hop > triv)); then
  ok "hop: counted, above the responder ($hop)"
else
  fail "hop: counted, above the responder" "got '$hop' against '$triv'"
fi
expect_eq "the ratio is hop's count over the responder's" "$(cell 'hop ÷ trivial')" \
  "$(awk -v a="${hop:-0}" -v b="${triv:-1}" 'BEGIN { printf "%.2f", a / b }')"
bad=""
for part in "libfcgi: the params" "the request parsed" "the route chosen" "the redirect:" "the answer's head" \
  "libfcgi: the answer's records" "the access line" "the rest:"; do
  v=$(cell "$part")
  [[ $v =~ ^[0-9]+$ ]] && ((v > 0 && v < ${hop:-0})) || bad+="$part='$v' "
done
expect_eq "every part of hop's request counted, each below the whole" "$bad" ""

run "INSTR_REQUESTS=50 is refused" 1 "${small[@]}" INSTR_REQUESTS=50 --
expect_eq "INSTR_REQUESTS=50: says why" "$(grep -c 'INSTR_REQUESTS must be an integer in 100..1000000' <<<"$OUT")" 1
run "INSTR_WARMUP=x is refused" 1 "${small[@]}" INSTR_WARMUP=x --
expect_eq "INSTR_WARMUP=x: says why" "$(grep -c 'INSTR_WARMUP must be an integer in 1..100000' <<<"$OUT")" 1
run "a hop that is not there is refused" 1 "${small[@]}" HOP_BIN="$out/no-hop" --
expect_eq "a missing hop: named" "$(grep -c "no-hop not found" <<<"$OUT")" 1
run "--help" 2 -- --help
expect_eq "--help: the usage" "$(grep -c '^usage: bench/instructions.sh' <<<"$OUT")" 1

finish
