#!/usr/bin/env bash
# A migration behind another session's lock. A migration that waited for a table's lock as long as it took
# (behind a long transaction, pg_dump or an index being built) held every statement on that table queued
# behind it, the running pools' too. Each attempt now waits at most 2 s, is rolled back and tried again a
# second later; past HOP_MIGRATE_LOCK_MS it gives up, says which migration, and applies nothing of it.
# 0029 only replaces a function and sets statistics on visit_hours, so forgetting its record makes it run
# again as it did, and its ALTER TABLE waits for a session holding visit_hours in SHARE UPDATE EXCLUSIVE
# mode (as VACUUM, ANALYZE or CREATE INDEX CONCURRENTLY hold it).
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

prod_init
prod_pg
expect_eq "every migration applied" "$(psql_q "SELECT count(*) FROM schema_migrations")" \
  "$(find "$STACK_REPO/db/migrations" -name '[0-9]*.sql' | wc -l)"

forget_0029() { psql_q "DELETE FROM schema_migrations WHERE version = 29" >/dev/null; }
recorded_0029() { psql_q "SELECT count(*) FROM schema_migrations WHERE version = 29"; }
# hold SECONDS: a session holds visit_hours in SHARE UPDATE EXCLUSIVE mode for SECONDS; release ends it
hold() { hold_lock visit_hours "SHARE UPDATE EXCLUSIVE" "$1" "held $1 s"; }
release() { release_lock visit_hours; }
# migrate LOG [VAR=VALUE...]: hop migrate with those settings; RC its exit status, MS its time
migrate() {
  local log=$1 t0
  shift
  t0=$(now_ms)
  RC=0
  env "$@" "$HOP_BIN" migrate >"$T/$log" 2>&1 || RC=$?
  MS=$(($(now_ms) - t0))
}
retries() { grep -c 'msg="migration waited too long for a lock" name=0029_hours_forget_and_sample.sql' "$T/$1" || true; }

# ---- 1: a lock held for 4 s: tried again until it goes -----------------------------------------------------
forget_0029
hold 4
migrate wait.log
if [[ $RC == 0 ]] && ((MS >= 2500 && MS < 15000)); then
  ok "held 4 s: hop migrate waits it out and succeeds (${MS} ms)"
else
  fail "held 4 s: hop migrate succeeds" "exit $RC after ${MS} ms: $(tail -n 3 "$T/wait.log" | tr '\n' '|')"
fi
n=$(retries wait.log)
if ((n >= 1 && n <= 3)); then
  ok "held 4 s: each attempt gave up after 2 s and said so ($n times)"
else
  fail "held 4 s: each attempt gave up after 2 s and said so" "$n times: $(grep -v 'migration applied' "$T/wait.log" | tail -n 3 | tr '\n' '|')"
fi
expect_eq "held 4 s: 0029 recorded again" "$(recorded_0029)" 1
release

# ---- 2: a lock held past the bound: given up, named, nothing applied; applied once it goes -------------------
forget_0029
hold 60
migrate give-up.log HOP_MIGRATE_LOCK_MS=5000
if [[ $RC == 1 ]] && ((MS < 12000)); then
  ok "held past HOP_MIGRATE_LOCK_MS=5000: hop migrate exits 1 (${MS} ms)"
else
  fail "held past the bound: hop migrate exits 1" "exit $RC after ${MS} ms"
fi
expect_eq "held past the bound: the migration named, with what to look for" \
  "$(grep -c 'msg="migration could not have its locks" func=apply name=0029_hours_forget_and_sample.sql attempts=[0-9]* waited_ms=[0-9]* hint="another session holds a table it changes' "$T/give-up.log" || true)" 1
expect_eq "held past the bound: nothing of it recorded" "$(recorded_0029)" 0
expect_eq "held past the bound: no migration failed for another reason" "$(grep -c 'msg="migration failed"' "$T/give-up.log" || true)" 0
prod_spawn serve env HOP_MIGRATE_LOCK_MS=3000 HOP_LISTEN="$T/hop.sock" "$HOP_BIN" serve
for ((i = 0; i < 200; i++)); do
  _stack_alive "$PROD_PID" || break
  sleep 0.1
done
if ! _stack_alive "$PROD_PID"; then
  ok "held past the bound: hop serve does not start"
else
  fail "held past the bound: hop serve does not start" "still running after 20 s"
  kill -KILL "$PROD_PID" 2>/dev/null || true
fi
expect_eq "held past the bound: hop serve says why" "$(grep -c 'migration could not have its locks' "$T/serve.log" || true)" 1
release
migrate after.log
expect_eq "once the lock is gone: hop migrate applies it" "$RC $(recorded_0029) $(grep -c 'msg="migration applied" name=0029' "$T/after.log" || true)" "0 1 1"

# ---- 3: HOP_MIGRATE_LOCK_MS=0 waits as long as the lock takes, as before ------------------------------------
forget_0029
hold 3
migrate unbounded.log HOP_MIGRATE_LOCK_MS=0
expect_eq "HOP_MIGRATE_LOCK_MS=0: one attempt that waits, and succeeds" "$RC $(retries unbounded.log) $(recorded_0029)" "0 0 1"
release

# ---- 4: the setting out of its range is refused, the range named ---------------------------------------------
for bad in -1 86400001 soon; do
  migrate bad.log HOP_MIGRATE_LOCK_MS="$bad"
  if [[ $RC != 0 ]] && grep -q "HOP_MIGRATE_LOCK_MS=$bad is not a whole number from 0 to 86400000" "$T/bad.log"; then
    ok "HOP_MIGRATE_LOCK_MS=$bad refused, the range named"
  else
    fail "HOP_MIGRATE_LOCK_MS=$bad refused, the range named" "exit $RC: $(head -n 2 "$T/bad.log" | tr '\n' '|')"
  fi
done
prod_finish
