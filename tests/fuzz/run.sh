#!/usr/bin/env bash
# Runs hop's libFuzzer targets (built by mk/fuzz.mk into build/fuzz/): fuzz for a bounded time, merge new
# coverage into the tree's corpus, or replay every corpus file and kept crash once as a regression test.
# Usage: run.sh fuzz|merge|replay TARGET...
set -euo pipefail

mode=${1:?usage: run.sh fuzz|merge|replay TARGET...}
shift
cd "$(dirname "$0")/../.."

tree=tests/fuzz
work=build/fuzz
seconds=${FUZZ_SECONDS:-60}
# A single input taking 10 s is a hang worth keeping; 2 GB of RSS is a leak or a blow-up worth keeping.
common=(-timeout=10 -rss_limit_mb=2048)
# Extra libFuzzer flags for `make fuzz`, e.g. FUZZ_FLAGS="-fork=1 -ignore_crashes=1" to go on past a known crash.
read -r -a extra <<<"${FUZZ_FLAGS:-}"
passed=0
failed=0

# Files a target replays: its corpus and its kept crashes (never README files).
inputs_of() {
  local t=$1
  find "$tree/corpus/$t" "$tree/crashes/$t" -maxdepth 1 -type f ! -name 'README*' ! -name '.*' 2>/dev/null |
    LC_ALL=C sort
}

dict_of() {
  local t=$1
  if [[ -f $tree/dict/$t.dict ]]; then
    echo "-dict=$tree/dict/$t.dict"
  fi
}

# The last value of a libFuzzer final-stats line ("stat::number_of_executed_units: 123").
stat_of() {
  local log=$1 name=$2
  sed -n "s/^stat::$name: *//p" "$log" | tail -n 1
}

fuzz_one() {
  local t=$1 log=$work/logs/$1.fuzz.log rc=0
  mkdir -p "$work/corpus/$t" "$work/logs" "$tree/crashes/$t"
  local dict before
  dict=$(dict_of "$t")
  before=$(find "$tree/crashes/$t" -type f | wc -l)
  echo "== fuzz $t for ${seconds}s (log: $log)"
  # New inputs go to the first directory (build/); the tree's corpus is read as seeds. Crashes, leaks,
  # timeouts and OOMs are written straight into the tree, where fuzz-replay keeps running them.
  # shellcheck disable=SC2086 # $dict is empty or one word
  "$work/$t" "${common[@]}" "${extra[@]}" $dict -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$tree/crashes/$t/" "$work/corpus/$t" "$tree/corpus/$t" >"$log" 2>&1 || rc=$?
  local execs rate corpus after
  execs=$(stat_of "$log" number_of_executed_units)
  rate=$(stat_of "$log" average_exec_per_sec)
  if [[ -z $execs ]]; then
    # -fork prints no final stats: take the last progress line ("#2591726: cov: ... exec/s 14168 ...").
    execs=$(sed -n 's/^#\([0-9]*\): .*/\1/p' "$log" | tail -n 1)
    rate=$(sed -n 's/^#[0-9]*: .* exec\/s \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
  fi
  corpus=$(find "$work/corpus/$t" -type f | wc -l)
  after=$(find "$tree/crashes/$t" -type f | wc -l)
  echo "$t: ${execs:-?} executions, ${rate:-?} exec/s, ${corpus} inputs in $work/corpus/$t"
  # With -fork and -ignore_crashes libFuzzer exits 0 after a crash: new files in crashes/ tell.
  if ((rc != 0 || after > before)); then
    echo "$t: FAILED (exit $rc, $((after - before)) new inputs in $tree/crashes/$t/):"
    grep -E '^(SUMMARY|property violated|==[0-9]+== ?ERROR|artifact_prefix|Test unit written)' "$log" |
      sort | uniq -c | head -n 12
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

merge_one() {
  local t=$1 log=$work/logs/$1.merge.log
  mkdir -p "$work/corpus/$t" "$work/logs" "$tree/corpus/$t"
  local before after
  before=$(find "$tree/corpus/$t" -type f | wc -l)
  # -merge=1 copies into the first directory only the inputs that add coverage to what it already has;
  # -use_counters=0 makes that new edges only (not new hit counts), which keeps the tree's corpus small.
  # A corpus input that now crashes is written under build/, never into the working directory.
  mkdir -p "$work/artifacts/$t"
  if "$work/$t" "${common[@]}" -artifact_prefix="$work/artifacts/$t/" -merge=1 -use_counters=0 "$tree/corpus/$t" "$work/corpus/$t" \
    >"$log" 2>&1; then
    after=$(find "$tree/corpus/$t" -type f | wc -l)
    echo "$t: corpus $before -> $after files, $(du -sh --apparent-size "$tree/corpus/$t" | cut -f1)B"
    passed=$((passed + 1))
  else
    echo "$t: merge FAILED (log: $log)"
    failed=$((failed + 1))
  fi
}

replay_one() {
  local t=$1 log=$work/logs/$1.replay.log
  mkdir -p "$work/logs" "$work/artifacts/$t"
  # libFuzzer writes a failing input out again: into build/, not the working directory or the tree.
  local files=() art=-artifact_prefix=$work/artifacts/$t/
  mapfile -t files < <(inputs_of "$t")
  local total=${#files[@]}
  if ((total == 0)); then
    # Without file arguments libFuzzer would start fuzzing; a target without seeds is a defect anyway.
    echo "$t: FAILED, no corpus in $tree/corpus/$t"
    failed=$((failed + 1))
    return
  fi
  # libFuzzer runs the files in order and stops at the first that fails, after printing "Running: FILE":
  # note that one and go on with the files after it.
  local bad=0 rest=("${files[@]}") last i
  while ((${#rest[@]} > 0)); do
    if "$work/$t" "${common[@]}" "$art" "${rest[@]}" >"$log" 2>&1; then
      break
    fi
    last=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
    echo "$t: FAILED on ${last:-?}"
    grep -E '^(SUMMARY|property violated)' "$log" | head -n 2 | sed 's/^/    /'
    bad=$((bad + 1))
    for i in "${!rest[@]}"; do
      if [[ ${rest[i]} == "$last" ]]; then
        break
      fi
    done
    if [[ -z $last || ${rest[i]} != "$last" ]]; then
      # no input named: count the rest as failed rather than loop (log: $log)
      bad=$((bad + ${#rest[@]} - 1))
      break
    fi
    rest=("${rest[@]:i+1}")
  done
  if ((bad == 0)); then
    echo "$t: $total inputs ok"
  else
    echo "$t: $((total - bad)) of $total inputs ok"
  fi
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

if (($# == 0)); then
  echo "run.sh: no targets given" >&2
  exit 2
fi
for t in "$@"; do
  if [[ ! -x $work/$t ]]; then
    echo "run.sh: $work/$t is not built (make fuzz-build)" >&2
    exit 2
  fi
  case $mode in
  fuzz) fuzz_one "$t" ;;
  merge) merge_one "$t" ;;
  replay) replay_one "$t" ;;
  *)
    echo "run.sh: unknown mode $mode" >&2
    exit 2
    ;;
  esac
done

case $mode in
replay) echo "fuzz-replay: $# targets; counts below are inputs" ;;
*) echo "fuzz $mode: counts below are targets" ;;
esac
echo "$passed passed, $failed failed"
((failed == 0))
