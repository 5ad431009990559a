#!/usr/bin/env bash
# Keys an operator can manage, through Caddy over HTTPS against a real PostgreSQL: scopes (read, create, full)
# on every /api row of the route table in handlers/routes.c (403 naming both scopes, after 401 and 404/405,
# nothing changed by a refused request), one key revoked by its number while the owner's other keys keep
# working, `keys revoke NAME` still revoking them all, and `keys list` showing each key's scope and last use,
# which is written at the first use, then at most once a minute, and at a graceful stop.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

# one worker: the last use is written per key and worker, and with one the once-a-minute rule shows exactly
export HOP_WORKERS=1
stack_start
JSON=(-H 'Content-Type: application/json')

# create_key NAME [ARGS...]: `hop keys create NAME ARGS`; sets OUT (all of it) and NEWKEY (the last line)
create_key() {
  OUT=$("$HOP_BIN" keys create "$@" 2>&1) || {
    fail "hop keys create $*" "$OUT"
    NEWKEY=""
    return 0
  }
  NEWKEY=$(tail -n 1 <<<"$OUT")
}

# key_id KEYLINE: the key number `keys create` printed in OUT
key_id() {
  sed -n 's/^created key \([0-9]*\) .*/\1/p' <<<"$OUT"
}

# ---- creating keys with scopes -----------------------------------------------------------------------------
create_key alice
FULL=$NEWKEY
if [[ $OUT =~ ^created\ key\ [0-9]+\ \(scope\ full\)\ for\ owner\ alice ]]; then
  ok "keys create: full is the default, and the key's number is printed"
else
  fail "keys create: full is the default, and the key's number is printed" "$OUT"
fi
create_key alice --scope read
READ=$NEWKEY
READ_ID=$(key_id)
create_key alice --scope create
CREATE=$NEWKEY
[[ $OUT == *"(scope create)"* ]] && ok "keys create --scope create" || fail "keys create --scope create" "$OUT"
for bad in "--scope admin" "--scope" "--scope read extra" "--role read"; do
  rc=0
  # shellcheck disable=SC2086 # the words are the arguments
  out=$("$HOP_BIN" keys create alice $bad 2>&1) || rc=$?
  expect_eq "keys create alice $bad: usage error (exit 2)" "$rc" 2
done
[[ $out == *usage:* ]] && ok "a usage error shows the usage" || fail "a usage error shows the usage" "$out"

API_KEY=$FULL req POST /api/links "${JSON[@]}" --data-binary '{"url":"https://example.com/k","slug":"kept"}'
expect_status "a full key creates" 201

# ---- every /api row of the route table, with each scope -------------------------------------------------------
# scope_rank METHOD: what the method needs (0 read, 1 create, 2 full)
scope_rank() {
  case $1 in
  GET | HEAD) echo 0 ;;
  POST) echo 1 ;;
  *) echo 2 ;;
  esac
}
mapfile -t ROWS < <(sed -n 's/^ *{"\([A-Z]*\)", "\(\/api[^"]*\)",.*/\1 \2/p' "$STACK_REPO/handlers/routes.c")
((${#ROWS[@]} >= 6)) && ok "the route table has ${#ROWS[@]} /api rows to check" ||
  fail "the route table's /api rows are found" "${ROWS[*]}"
n=0
for row in "${ROWS[@]}"; do
  method=${row%% *} pattern=${row#* }
  need=$(scope_rank "$method")
  # signing in and out of the web page needs a live key of any scope (the session then acts with that scope)
  [[ $pattern == /api/session ]] && need=0
  for scope in read create full; do
    case $scope in read) key=$READ rank=0 ;; create) key=$CREATE rank=1 ;; full) key=$FULL rank=2 ;; esac
    n=$((n + 1))
    # a link of its own for each try, so that a DELETE or PATCH allowed here changes nothing else
    API_KEY=$FULL req POST /api/links "${JSON[@]}" --data-binary "{\"url\":\"https://example.com/$n\",\"slug\":\"s$n\"}"
    path=${pattern//:slug/s$n}
    body=()
    [[ $method == POST || $method == PATCH ]] && body=("${JSON[@]}" --data-binary '{"url":"https://example.com/changed"}')
    API_KEY=$key req "$method" "$path" "${body[@]}"
    if ((rank < need)); then
      want=$(scope_rank "$method")
      names=(read create full)
      if [[ $STATUS == 403 && $BODY == *"has the $scope scope"* && $BODY == *"the ${names[$want]} scope"* ]] &&
        [[ $(header Content-Type) == application/problem+json* ]]; then
        ok "$method $pattern with a $scope key: 403 naming the ${names[$want]} scope"
      else
        fail "$method $pattern with a $scope key: 403" "$(_stack_last)"
      fi
      got=$(psql_q "SELECT url FROM links WHERE slug = 's$n'")
      expect_eq "$method $pattern refused: the link is unchanged" "$got" "https://example.com/$n"
    elif [[ $STATUS == 403 || $STATUS == 401 || $STATUS == 5* || $STATUS == 000 ]]; then
      fail "$method $pattern with a $scope key is allowed" "$(_stack_last)"
    else
      ok "$method $pattern with a $scope key is allowed ($STATUS)"
    fi
  done
done

# the order of the checks: 401 before 403, and 404/405 before it
req DELETE /api/links/kept
expect_status "no key: 401 before any scope" 401
API_KEY=$READ req DELETE /api/links
expect_status "a read key, a method the path does not take: 405" 405
API_KEY=$READ req POST /api/nothing "${JSON[@]}" --data-binary '{}'
expect_status "a read key, a path that does not exist: 404" 404

# ---- revoking one key by its number -------------------------------------------------------------------------
out=$("$HOP_BIN" keys revoke --key "$READ_ID" 2>&1) || fail "keys revoke --key $READ_ID" "$out"
expect_eq "keys revoke --key ID names the key and its owner" "$out" "revoked key $READ_ID of owner alice"
API_KEY=$READ req GET /api/links
expect_status "the revoked key: 401 at once" 401
API_KEY=$FULL req GET /api/links/kept
expect_status "the owner's other keys keep working" 200
for args in "--key $READ_ID" "--key 999999"; do
  rc=0
  # shellcheck disable=SC2086
  out=$("$HOP_BIN" keys revoke $args 2>&1) || rc=$?
  expect_eq "keys revoke $args (revoked already, or none): exit 1" "$rc:$([[ $out == *"no active key"* ]] && echo says)" 1:says
done
for args in "--key abc" "--key 0" "--key -3" "--key"; do
  rc=0
  # shellcheck disable=SC2086
  "$HOP_BIN" keys revoke $args >/dev/null 2>&1 || rc=$?
  expect_eq "keys revoke $args: usage error (exit 2)" "$rc" 2
done

# ---- keys list: scope and last use --------------------------------------------------------------------------
list=$("$HOP_BIN" keys list)
expect_eq "keys list: header" "$(head -n 1 <<<"$list" | tr -s ' ')" "OWNER KEY SCOPE CREATED LAST_USED REVOKED"
expect_eq "keys list: each key's scope" "$(awk '$1 == "alice" { print $3 }' <<<"$list" | paste -sd, -)" full,read,create
expect_eq "keys list: the revoked key" "$(awk -v id="$READ_ID" '$2 == id { print ($NF == "active") ? "active" : "revoked" }' <<<"$list")" revoked
if grep -qF -- "${FULL#hop_}" <<<"$list"; then fail "keys list shows no key" "found one"; else ok "keys list shows no key"; fi

create_key bob --scope read
BOB=$NEWKEY
BOB_ID=$(key_id)
list=$("$HOP_BIN" keys list)
expect_eq "a key never used: LAST_USED never" "$(awk -v id="$BOB_ID" '$2 == id { print $5 }' <<<"$list")" never
API_KEY=$BOB req GET /api/links
expect_status "bob's read key lists" 200
last_used() {
  psql_q "SELECT coalesce(extract(epoch FROM last_used_at)::bigint::text, '') FROM api_keys WHERE id = $BOB_ID"
}
has_last_use() {
  [[ -n $(last_used) ]]
}
if poll_until 3000 has_last_use; then
  ok "the first use is written within ${POLL_MS} ms"
else
  fail "the first use is written soon" "last_used_at still empty"
fi
first=$(last_used)
list=$("$HOP_BIN" keys list)
if [[ $(awk -v id="$BOB_ID" '$2 == id { print $5 }' <<<"$list") =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]{8}Z$ ]]; then
  ok "keys list shows the last use"
else
  fail "keys list shows the last use" "$(grep bob <<<"$list")"
fi
sleep 2
for ((i = 0; i < 5; i++)); do API_KEY=$BOB req GET /api/links; done
sleep 1.5
expect_eq "later uses within the minute are not written per request" "$(last_used)" "$first"
stack_pool_stop
later=$(last_used)
if [[ -n $later ]] && ((later >= first + 2)); then
  ok "a graceful stop writes the last use it held ($((later - first)) s after the first)"
else
  fail "a graceful stop writes the last use it held" "first $first, now '$later'"
fi
stack_pool_start

# ---- keys revoke NAME still revokes every key ---------------------------------------------------------------
out=$("$HOP_BIN" keys revoke alice 2>&1) || fail "keys revoke alice" "$out"
expect_eq "keys revoke NAME revokes the owner's remaining keys" "$out" "revoked 2 keys of owner alice"
API_KEY=$FULL req GET /api/links
expect_status "alice's full key after keys revoke alice: 401" 401
API_KEY=$CREATE req GET /api/links
expect_status "alice's create key after keys revoke alice: 401" 401
API_KEY=$BOB req GET /api/links
expect_status "bob is not touched" 200
[[ $(grep -c 'msg="worker died"' "$T/hop.log") == 0 ]] && ok "no worker died" || fail "no worker died" "$(worker_deaths)"
finish
