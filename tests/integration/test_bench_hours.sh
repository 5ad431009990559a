#!/usr/bin/env bash
# bench/hours.sh (make bench-hours) run small, so that the benchmark keeps working as the schema changes: its
# table has a row per schema, the as-stored one at ratio 1 with no HOT update (its indexes carry the counts),
# bench/hours/hot.sql's with most of its updates HOT, bench/hours/no-owner-hours.sql applied; bad settings and
# a variant that fails are refused with a message. No timing is checked.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

out=$(mktemp -d "${TMPDIR:-/tmp}/hop-bench-hours.XXXXXX")
trap 'rm -rf "$out"' EXIT
small=(HOURS_LINKS=20000 HOURS_PART=300 HOURS_ROUNDS=3 HOURS_OUT="$out/hours.md" HOP_BIN="$HOP_BIN")

# run NAME WANT_EXIT [ENV...] -- ARGS...: bench/hours.sh with ENV and ARGS, its output in OUT
run() { run_script bench/hours.sh "$@"; }
# row SCHEMA COLUMN: a cell of the written table (columns counted from 1 after the leading |)
row() { awk -F ' *[|] *' -v s="$1" -v c="$2" '$2 == s { print $(c + 1) }' "$out/hours.md"; }

run "two variants beside the schema as it stands" 0 "${small[@]}" -- bench/hours/hot.sql bench/hours/no-owner-hours.sql
expect_eq "the table: one row per schema, in order" \
  "$(awk -F ' *[|] *' '/^[|] [a-z]/ && $2 != "schema" { print $2 }' "$out/hours.md" | paste -sd,)" \
  "as-stored,hot,no-owner-hours"
expect_eq "as stored: its own ratio is 1" "$(row as-stored 3)" "1.000"
expect_eq "as stored: no update is HOT (both indexes carry the counts)" "$(row as-stored 6)" "0 %"
hot=$(row hot 6)
if [[ $hot =~ ^([0-9]+)\ %$ ]] && ((BASH_REMATCH[1] >= 50)); then
  ok "hot.sql: most updates are HOT ($hot)"
else
  fail "hot.sql: most updates are HOT" "got '$hot'"
fi
for s in as-stored hot no-owner-hours; do
  us=$(row "$s" 2) ratio=$(row "$s" 3)
  if [[ $us =~ ^[0-9]+\.[0-9]+$ && $ratio =~ ^[0-9]+\.[0-9]+$ ]] && awk -v u="$us" -v r="$ratio" 'BEGIN { exit !(u > 0 && r > 0) }'; then
    ok "$s: µs per link-hour and ratio measured ($us, $ratio)"
  else
    fail "$s: µs per link-hour and ratio measured" "got '$us' and '$ratio'"
  fi
done
expect_eq "the parts: 3 of up to 300 link-hours, after a pass" \
  "$(grep -c '3 parts of [0-9]* link-hours after a pass over [0-9]*' "$out/hours.md")" 1

run "HOURS_ROUNDS=1 is refused" 1 "${small[@]}" HOURS_ROUNDS=1 --
expect_eq "HOURS_ROUNDS=1: says why" "$(grep -c 'HOURS_ROUNDS must be 2..100' <<<"$OUT")" 1
run "a variant that is not there is refused" 1 "${small[@]}" -- "$out/missing.sql"
expect_eq "a missing variant: named" "$(grep -c "missing.sql: not a readable file" <<<"$OUT")" 1
echo "SELECT no_such_function();" >"$out/broken.sql"
run "a variant that fails is refused" 1 "${small[@]}" -- "$out/broken.sql"
expect_eq "a failing variant: its error shown" "$(grep -c 'broken.sql failed: .*no_such_function' <<<"$OUT")" 1
run "--help" 2 -- --help
expect_eq "--help: the usage" "$(grep -c '^usage: bench/hours.sh' <<<"$OUT")" 1

finish
