#!/usr/bin/env bash
# The FastCGI half of the hostile battery (issue 7): starts the stack with HOP_READ_TIMEOUT=1 (so the cases that
# leave a connection open cost a second each) and runs fcgi_socket.py straight at the pool's Unix socket. Ends
# with `N passed, N failed` alone on the last line.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/stack.sh
. "$HERE/../lib/stack.sh"

stack_need_python socket.sh

export HOP_READ_TIMEOUT=1
stack_start
KEY=$(make_key alice)

rc=0
HOSTILE_SOCKET=$T/hop.sock HOSTILE_LOG=$T/hop.log HOSTILE_MASTER=$STACK_HOP_PID HOSTILE_KEY=$KEY \
  HOSTILE_RESULT=$T/socket.json python3 "$HERE/fcgi_socket.py" || rc=$?

if [[ -s $T/socket.json ]]; then
  STACK_PASSED=$((STACK_PASSED + $(jq -r .passed "$T/socket.json")))
  STACK_FAILED=$((STACK_FAILED + $(jq -r '.failed | length' "$T/socket.json")))
  mapfile -t names < <(jq -r '.failed[]' "$T/socket.json")
  STACK_FAILED_NAMES+=("${names[@]}")
else
  fail "fcgi_socket.py ran to the end" "exit status $rc, no result file"
fi
finish
