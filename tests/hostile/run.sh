#!/usr/bin/env bash
# The hostile-input battery through the real Caddy over HTTPS (issue 7): starts the stack once (stack.sh: a
# throwaway PostgreSQL, the pool, Caddy), makes the keys the cases use, and runs every case in cases.py with
# hostile.py, which checks each answer, the pool's own log and the links table (see its header). Ends with
# `N passed, N failed` alone on the last line. HOSTILE_ONLY=substring runs only the matching cases.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/stack.sh
. "$HERE/../lib/stack.sh"

stack_need_python run.sh

stack_start

KEY=$(make_key alice)
KEY2=$(make_key bob)
REVOKED=$(make_key carol)
"$HOP_BIN" keys revoke carol >/dev/null
for k in "$KEY" "$KEY2" "$REVOKED"; do
  [[ $k =~ ^hop_[A-Za-z0-9]+$ ]] || {
    fail "hop keys create prints a key" "got '$k'"
    finish
  }
done

rc=0
HOSTILE_BASE=$BASE HOSTILE_CACERT=$CACERT HOSTILE_LOG=$T/hop.log HOSTILE_MASTER=$STACK_HOP_PID \
  HOSTILE_KEY=$KEY HOSTILE_KEY2=$KEY2 HOSTILE_REVOKED=$REVOKED HOSTILE_RESULT=$T/hostile.json \
  python3 "$HERE/hostile.py" || rc=$?

if [[ -s $T/hostile.json ]]; then
  passed=$(jq -r .passed "$T/hostile.json")
  STACK_PASSED=$((STACK_PASSED + passed))
  STACK_FAILED=$((STACK_FAILED + $(jq -r '.failed | length' "$T/hostile.json")))
  mapfile -t names < <(jq -r '.failed[]' "$T/hostile.json")
  STACK_FAILED_NAMES+=("${names[@]}")
else
  fail "hostile.py ran to the end" "exit status $rc, no result file"
fi
finish
