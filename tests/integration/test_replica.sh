#!/usr/bin/env bash
# Integration test of a read replica (issue 17, HOP_DB_READ) over HTTPS through Caddy: a throwaway primary
# (tests/lib/stack.sh) and a streaming replica made from it with pg_basebackup -R, in a second cluster on its
# own Unix socket. List, tags, export and stats reads are answered by the replica (shown with replay paused:
# what is written on the primary behind hop's back is not seen); the owner who just wrote is answered by the
# primary until the replica has that write (read-your-writes); writes never reach the replica; a stopped
# replica costs no error (the primary answers, counted in /metrics), and reads go back to it when it returns.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

# shellcheck source=tests/lib/replica.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/replica.sh"

JSON=(-H 'Content-Type: application/json')

cleanup() {
  replica_cleanup
  stack_stop
}

READ_REPLICA='hop_postgres_replica_reads_total{answered_by="replica"}'
READ_BEHIND='hop_postgres_replica_reads_total{answered_by="primary",reason="behind"}'
READ_DOWN='hop_postgres_replica_reads_total{answered_by="primary",reason="unavailable"}'

stack_start
trap cleanup EXIT

# ---- the replica: pg_basebackup -R from the primary, its own socket ---------------------------------------
if replica_start 2>"$T/replica.err"; then
  ok "pg_basebackup -R makes a streaming replica of the primary, started on its own socket"
else
  fail "pg_basebackup -R makes a streaming replica of the primary, started on its own socket" "$(cat "$T/replica.err")"
  finish
fi
expect_eq "the replica is in recovery (a standby)" "$(rq 'SELECT pg_is_in_recovery()')" t
expect_eq "the primary streams to it" "$(psql_q "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" 1

# ---- the pool again, now with HOP_DB_READ --------------------------------------------------------------------
stack_pool_stop
stack_pool_start
KEY=$(make_key alice)
OWNER=$(psql_q "SELECT id FROM owners WHERE name = 'alice'")

API_KEY=$KEY req POST /api/links "${JSON[@]}" -d '{"url":"https://example.com/one","slug":"r1","tags":["a"]}'
expect_status "create through hop with HOP_DB_READ: 201 (writes go to the primary)" 201
API_KEY=$KEY req PATCH /api/links/r1 "${JSON[@]}" -d '{"title":"first"}'
expect_status "edit through hop: 200" 200
API_KEY=$KEY req POST /api/links "${JSON[@]}" -d '{"url":"https://example.com/gone","slug":"r-gone"}'
expect_status "create a link to delete: 201" 201
API_KEY=$KEY req DELETE /api/links/r-gone
expect_status "delete through hop: 204" 204
expect_eq "the write stamped its owner on the primary (read_lsn)" \
  "$(psql_q "SELECT count(*) FROM read_lsn WHERE owner_id = $OWNER")" 1

if poll_until 10000 replica_caught_up "$OWNER"; then
  ok "the replica replays the owner's writes (${POLL_MS} ms)"
else
  fail "the replica replays the owner's writes" "primary $(psql_q "SELECT lsn FROM read_lsn WHERE owner_id = $OWNER"), replica $(rq "SELECT lsn FROM read_lsn WHERE owner_id = $OWNER" 2>&1)"
fi
before=$(stack_metric "$READ_REPLICA")
API_KEY=$KEY req GET /api/links
expect_status "list: 200" 200
expect_json "list: the link, as edited" '[.links[] | select(.slug == "r1") | .title] | join(",")' first
API_KEY=$KEY req GET /api/tags
expect_status "tags: 200" 200
API_KEY=$KEY req GET '/api/links?q=one'
expect_status "search: 200" 200
API_KEY=$KEY req GET /api/links/r1/stats
expect_status "one link's stats: 200" 200
API_KEY=$KEY req GET /api/stats
expect_status "the owner's stats: 200" 200
API_KEY=$KEY req GET '/api/links/export?format=json'
expect_status "export: 200" 200
expect_json "export: the link" '[.[]? | .slug] | join(",")' r1
after=$(stack_metric "$READ_REPLICA")
if [[ -n $after ]] && ((after - ${before:-0} >= 8)); then
  ok "list, tags, search, stats and export were answered by the replica ($((after - ${before:-0})) reads)"
else
  fail "list, tags, search, stats and export were answered by the replica" "answered_by=replica went from '$before' to '$after'"
fi

# ---- replay paused: the replica's answers are the replica's -------------------------------------------------
rq "SELECT pg_wal_replay_pause()" >/dev/null
poll_until 5000 replica_paused || fail "replay pauses" "state $(rq "SELECT pg_get_wal_replay_pause_state()")"
R1=$(psql_q "SELECT id FROM links WHERE slug = 'r1'")
# Written on the primary behind hop's back: visits of r1 (no write of alice's links, so no stamp), and a link
# of alice's made by SQL with the triggers off (session_replication_role), as a restore or a manual fix would.
psql_q "SELECT visit_hours_add(ARRAY[$R1]::bigint[], ARRAY[(extract(epoch FROM now())::bigint / 3600)::int], '{0}', '{\"\"}', '{5}', '{0}')" >/dev/null
psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB" >/dev/null <<SQL
SET session_replication_role = replica;
INSERT INTO links (slug, owner_id, url) VALUES ('by-sql', $OWNER, 'https://example.com/sql');
SQL
expect_eq "the primary has the SQL link and the visits" \
  "$(psql_q "SELECT count(*) FROM links WHERE slug = 'by-sql'")/$(psql_q "SELECT sum(humans) FROM visit_counts WHERE link_id = $R1 AND dim = 0")" 1/5
before=$(stack_metric "$READ_REPLICA")
API_KEY=$KEY req GET /api/links
expect_status "paused: list 200" 200
expect_json "paused: the link made by SQL on the primary is not listed (the replica answered)" \
  '[.links[] | select(.slug == "by-sql")] | length' 0
expect_json "paused: r1's visits are the replica's (0, not the primary's 5)" \
  '[.links[] | select(.slug == "r1") | .visits] | add' 0
API_KEY=$KEY req GET '/api/links/r1/stats?days=1'
expect_status "paused: stats 200" 200
expect_json "paused: r1's stats are the replica's (no visits yet)" '[.series[].humans] | add' 0
after=$(stack_metric "$READ_REPLICA")
expect_eq "paused: both reads were the replica's" "$((${after:-0} - ${before:-0}))" 3

# the owner writes through hop: the next read must show it though the replica cannot have it
behind=$(stack_metric "$READ_BEHIND")
API_KEY=$KEY req POST /api/links "${JSON[@]}" -d '{"url":"https://example.com/two","slug":"r2"}'
expect_status "paused: create through hop 201" 201
API_KEY=$KEY req GET /api/links
expect_status "paused: list after the owner's write 200" 200
expect_json "read-your-writes: the owner's new link is listed (the primary answered)" \
  '[.links[] | select(.slug == "r2")] | length' 1
expect_json "the primary's answer has the SQL link too" '[.links[] | select(.slug == "by-sql")] | length' 1
API_KEY=$KEY req GET /api/links/r2/stats
expect_status "read-your-writes: the new link's stats 200" 200
API_KEY=$KEY req GET /api/stats
expect_status "read-your-writes: the owner's stats 200" 200
expect_json "read-your-writes: the owner's stats are the primary's (5 visits)" '[.series[].humans] | add' 5
behind_after=$(stack_metric "$READ_BEHIND")
if [[ -n $behind_after ]] && ((behind_after - ${behind:-0} >= 4)); then
  ok "the reads after the write were counted as behind ($((behind_after - ${behind:-0})))"
else
  fail "the reads after the write were counted as behind" "from '$behind' to '$behind_after'"
fi
# another owner, who wrote nothing since the pause, is still answered by the replica
BOB=$(make_key bob)
before=$(stack_metric "$READ_REPLICA")
API_KEY=$BOB req GET /api/links
expect_status "another owner's list 200" 200
expect_eq "another owner's read stays on the replica" "$(($(stack_metric "$READ_REPLICA") - ${before:-0}))" 1

rq "SELECT pg_wal_replay_resume()" >/dev/null
if poll_until 10000 replica_caught_up "$OWNER"; then
  ok "replay resumed: the replica catches up (${POLL_MS} ms)"
else
  fail "replay resumed: the replica catches up" "still behind"
fi
before=$(stack_metric "$READ_REPLICA")
API_KEY=$KEY req GET /api/links
expect_json "resumed: the replica lists the owner's new link and the SQL one" \
  '[.links[] | select(.slug == "r2" or .slug == "by-sql")] | length' 2
expect_eq "resumed: the replica answered" "$(($(stack_metric "$READ_REPLICA") - ${before:-0}))" 1

# ---- writes never reach the replica ----------------------------------------------------------------------
API_KEY=$KEY req POST /api/links/bulk "${JSON[@]}" -d '{"links":[{"url":"https://example.com/b1"},{"url":"https://example.com/b2"}]}'
if [[ $STATUS == 2* ]]; then ok "bulk create with HOP_DB_READ: $STATUS"; else fail "bulk create with HOP_DB_READ" "$(_stack_last)"; fi
if grep -Eq 'ERROR|FATAL' "$R/log"; then
  fail "the replica logged no error (no write was sent to it)" "$(grep -Em 3 'ERROR|FATAL' "$R/log" | tr '\n' '|')"
else
  ok "the replica logged no error (no write was sent to it)"
fi
if grep -q 'read-only transaction' "$T/hop.log"; then
  fail "hop's log has no read-only error" "$(grep -m 2 'read-only transaction' "$T/hop.log")"
else
  ok "hop's log has no read-only error"
fi

# ---- the replica stopped: the primary answers, counted --------------------------------------------------
replica_stop
down=$(stack_metric "$READ_DOWN")
for p in /api/links /api/links /api/links /api/tags /api/stats /api/links/r1/stats; do
  API_KEY=$KEY req GET "$p"
  expect_status "replica stopped: GET $p 200" 200
done
expect_json "replica stopped: stats still answered" '.slug' r1
API_KEY=$KEY req GET /api/links
expect_json "replica stopped: the list is whole" '[.links[] | select(.slug == "r1" or .slug == "r2")] | length' 2
down_after=$(stack_metric "$READ_DOWN")
if [[ -n $down_after ]] && ((down_after - ${down:-0} >= 7)); then
  ok "replica stopped: every read counted as unavailable ($((down_after - ${down:-0})))"
else
  fail "replica stopped: every read counted as unavailable" "from '$down' to '$down_after'"
fi
if (($(stack_metric 'hop_postgres_replica_connections{state="down"}') >= 1)); then
  ok "replica stopped: hop_postgres_replica_connections{state=\"down\"} counts it"
else
  fail "replica stopped: hop_postgres_replica_connections{state=\"down\"} counts it" "$(stack_metric 'hop_postgres_replica_connections{state="down"}')"
fi
API_KEY=$KEY req POST /api/links "${JSON[@]}" -d '{"url":"https://example.com/three","slug":"r3"}'
expect_status "replica stopped: writes still work" 201
if command -v promtool >/dev/null 2>&1; then
  curl -sS --max-time 10 "$METRICS_BASE/metrics" >"$T/metrics.txt"
  if promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1; then
    ok "promtool check metrics: the replica's series are well formed"
  else
    fail "promtool check metrics: the replica's series are well formed" "$(head -n 5 "$T/promtool.out" | tr '\n' '|')"
  fi
fi

# ---- the replica back: reads go to it again ---------------------------------------------------------------
replica_restart || fail "the replica starts again" "$(tail -n 5 "$R/log" | tr '\n' '|')"
poll_until 10000 replica_answers || fail "the replica accepts connections again" "$(tail -n 5 "$R/log" | tr '\n' '|')"
poll_until 10000 replica_caught_up "$OWNER" || fail "the replica catches up after its restart" "still behind"
# each worker reconnects at its next read (at most one attempt per 200 ms): a few reads reach every worker
sleep 0.3
before=$(stack_metric "$READ_REPLICA")
for _ in 1 2 3 4 5 6; do
  API_KEY=$KEY req GET /api/links
done
expect_json "replica back: the list has the link made while it was down" '[.links[] | select(.slug == "r3")] | length' 1
after=$(stack_metric "$READ_REPLICA")
if [[ -n $after ]] && ((after - ${before:-0} >= 1)); then
  ok "replica back: reads are answered by it again ($((after - ${before:-0})) of 6)"
else
  fail "replica back: reads are answered by it again" "from '$before' to '$after'"
fi

finish
