#!/usr/bin/env bash
# Migration 0016 on a database with visits: its schema made by the migration files before it (applied as
# `hop migrate` applies them, each in a transaction and recorded), visit hours written through 0011's
# triggers (today, yesterday, last month, two owners, every dimension) and a day row no hour accounts for
# (what 0006 carried from the old visits table); then this binary migrates it. Every link's and owner's
# totals per dimension and value must be those of before, read as the stats read them (closed days from the
# day tables, today from the hours), every summary the sum of what it summarizes, and the lone day row an
# hour at today's midnight. Then, on a database of its own, a day's close and a batch for that day at the
# same instant, in both orders: the second waits for the first, and the day counts the batch once.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"
# shellcheck source=tests/lib/summaries.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/summaries.sh"

prod_init
export PGTZ=UTC # the dates below are UTC days, as hop's
prod_pg_start

# ---- the schema before 0016, from its files ---------------------------------------------------------------
psql_q "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
n=0
for f in "$STACK_REPO"/db/migrations/*.sql; do
  name=${f##*/}
  v=$((10#${name%%_*}))
  ((v < 16)) || continue
  { echo "BEGIN;"; cat "$f"; echo "INSERT INTO schema_migrations (version, name) VALUES ($v, '$name'); COMMIT;"; } |
    psql -X -q -v ON_ERROR_STOP=1 -d "$HOP_DB" >>"$T/old-schema.log" 2>&1 || prod_abort "applying $name failed"
  n=$((n + 1))
done
expect_eq "the migrations before 0016 applied from their files" "$(psql_q "SELECT count(*) FROM schema_migrations")" "$n"

# ---- visits written through 0011's triggers --------------------------------------------------------------
psql_q "INSERT INTO owners (name) VALUES ('alice'), ('bob')" >/dev/null
psql_q "INSERT INTO links (slug, owner_id, url) SELECT 'l' || i, 1 + i % 2, 'https://example.com/' || i
  FROM generate_series(1, 12) i" >/dev/null
# hours of today (up to the current one), yesterday and 40 days ago; one value per dimension but referrers,
# two of them
psql_q "INSERT INTO visit_counts (link_id, dim, bucket, hourly, value, humans, bots)
  SELECT l.id, d.dim, t.hour, true, d.value || CASE WHEN d.dim = 1 THEN (l.id % 2)::text ELSE '' END,
    1 + (l.id + extract(hour FROM t.hour)::int) % 3, l.id % 2
  FROM links l,
    (SELECT date_trunc('hour', now()) - make_interval(hours => h) AS hour FROM generate_series(0, 30) h
     UNION ALL SELECT date_trunc('day', now() - interval '40 days') + interval '5 hours') t,
    (VALUES (0, ''), (1, 'ref'), (2, 'FR'), (3, 'mobile'), (4, 'Safari'), (5, 'iOS'), (6, 'mail'), (7, ''),
      (8, '')) d(dim, value)" >/dev/null
# a day row for today that no hour accounts for (0006 carried such rows from the old table)
psql_q "INSERT INTO visit_days (link_id, owner_id, dim, day, value, humans, bots)
  SELECT id, owner_id, 1, (now() AT TIME ZONE 'UTC')::date, 'legacy.example', 4, 0 FROM links WHERE slug = 'l3';
  INSERT INTO owner_days (owner_id, dim, day, value, humans, bots)
  SELECT owner_id, 1, (now() AT TIME ZONE 'UTC')::date, 'legacy.example', 4, 0 FROM links WHERE slug = 'l3'" >/dev/null
today_rows=$(psql_q "SELECT count(*) FROM visit_days WHERE day = (now() AT TIME ZONE 'UTC')::date")
if ((today_rows > 0)); then ok "before: 0011's triggers wrote today's day rows ($today_rows)"; else fail "before: today's day rows" "none"; fi

# every link's totals per dimension and value over all time, as the day rows said before the migration
per_value_before=$(psql_q "SELECT link_id, dim, value, sum(humans), sum(bots) FROM visit_days
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
owner_before=$(psql_q "SELECT owner_id, dim, value, sum(humans), sum(bots) FROM owner_days
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")

# a link made by hand without an owner (0020 gives it one)
psql_q "INSERT INTO links (slug, url) VALUES ('orphan', 'https://example.com/orphan')" >/dev/null

# ---- this binary migrates it --------------------------------------------------------------------------------
if "$HOP_BIN" migrate >"$T/migrate.log" 2>&1; then ok "hop migrate applies 0016"; else fail "hop migrate" "$(tail -n 3 "$T/migrate.log" | tr '\n' '|')"; fi
expect_eq "0020: the link made without an owner belongs to the owner 'unowned'" \
  "$(psql_q "SELECT o.name FROM links l JOIN owners o ON o.id = l.owner_id WHERE l.slug = 'orphan'")" unowned
if psql_q "INSERT INTO links (slug, url) VALUES ('orphan2', 'https://example.com/orphan')" >"$T/orphan2.log" 2>&1; then
  fail "0020: a link without an owner is refused" "the insert went through"
elif grep -q 'null value in column "owner_id"' "$T/orphan2.log"; then
  ok "0020: a link without an owner is refused where it is made"
else
  fail "0020: a link without an owner is refused" "$(tr '\n' '|' <"$T/orphan2.log")"
fi
expect_eq "visit_close: today is the first open day" \
  "$(psql_q "SELECT day = (now() AT TIME ZONE 'UTC')::date FROM visit_close")" t
expect_eq "no day row from today on" \
  "$(psql_q "SELECT (SELECT count(*) FROM visit_days WHERE day >= (SELECT day FROM visit_close))
    + (SELECT count(*) FROM owner_days WHERE day >= (SELECT day FROM visit_close))")" 0
# closed days from the day tables and open days from the hours give every total of before
expect_eq "every link's totals per dimension and value: closed days plus open hours" \
  "$(psql_q "SELECT link_id, dim, value, sum(h), sum(b) FROM (
    SELECT link_id, dim, value, humans AS h, bots AS b FROM visit_days
    UNION ALL SELECT link_id, dim, value, humans, bots FROM visit_counts
      WHERE bucket >= (SELECT day FROM visit_close)::timestamp AT TIME ZONE 'UTC') x
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")" "$per_value_before"
expect_eq "every owner's totals per dimension and value: closed days plus open hours" \
  "$(psql_q "SELECT owner_id, dim, value, sum(h), sum(b) FROM (
    SELECT owner_id, dim, value, humans AS h, bots AS b FROM owner_days
    UNION ALL SELECT owner_id, dim, value, humans, bots FROM owner_hours
      WHERE bucket >= (SELECT day FROM visit_close)::timestamp AT TIME ZONE 'UTC') x
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")" "$owner_before"
expect_eq "the lone day row is an hour at today's midnight" \
  "$(psql_q "SELECT bucket = (now() AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC', humans
    FROM visit_counts WHERE value = 'legacy.example'")" "t|4"
# the summaries are the sums of what they summarize
summaries_exact " (after 0016)"
# a batch for today after the migration stays in the hours; one for a closed day reaches the day tables
psql_q "SELECT visit_hours_add(array_agg(id), array_agg((extract(epoch FROM now())::bigint / 3600)::int), '{0}', '{\"\"}', '{7}', '{0}')
  FROM links WHERE slug = 'l5'" >/dev/null
psql_q "SELECT visit_hours_add(array_agg(id), array_agg((extract(epoch FROM date_trunc('day', now() - interval '3 days') + interval '2 hours')::bigint / 3600)::int), '{0}', '{\"\"}', '{9}', '{0}')
  FROM links WHERE slug = 'l5'" >/dev/null
expect_eq "after: today's batch only in the hours, the closed day's in its day row" \
  "$(psql_q "SELECT (SELECT count(*) FROM visit_days WHERE day >= (SELECT day FROM visit_close)),
    (SELECT humans FROM visit_days d JOIN links l ON l.id = d.link_id WHERE l.slug = 'l5' AND d.dim = 0
      AND d.day = (now() AT TIME ZONE 'UTC')::date - 3)")" "0|9"


# ---- a close and a batch at the same instant (a database of their own, no visits yet) -------------------
# A batch holds visit_close FOR SHARE until it commits and a close takes it FOR UPDATE: whichever comes
# second waits, and the day's counts end up in the day tables exactly once either way.
psql_q "CREATE DATABASE race" >/dev/null
MAIN_DB=$HOP_DB
HOP_DB=$(PGDEV_DIR=$T/pg "$STACK_REPO/db/pgdev.sh" url | sed 's/dbname=[^ ]*/dbname=race/')
"$HOP_BIN" migrate >"$T/migrate-race.log" 2>&1 || prod_abort "hop migrate of the race database failed"
psql_q "INSERT INTO owners (name) VALUES ('carol'); INSERT INTO links (slug, owner_id, url)
  VALUES ('r', (SELECT id FROM owners), 'https://example.com/r')" >/dev/null
# two days ago is open again (no row holds it yet), and two batches for its noon hour, each 5 humans
psql_q "UPDATE visit_close SET day = (now() AT TIME ZONE 'UTC')::date - 2" >/dev/null
batch_sql="SELECT visit_hours_add(array_agg(id), array_agg((((now() AT TIME ZONE 'UTC')::date - 2 - date '1970-01-01') * 24 + 12)),
  '{0}', '{\"\"}', '{5}', '{0}') FROM links WHERE slug = 'r'"
sleeping() { # a session of this database (not this one) sleeps in the middle of its transaction
  [[ $(psql_q "SELECT count(*) FROM pg_stat_activity WHERE datname = 'race' AND pid <> pg_backend_pid()
    AND query = 'SELECT pg_sleep(3)' AND state = 'active'") == 1 ]]
}
# (1) the batch first: it has written its hour and holds the lock; the close waits for its commit, then sees it
psql -X -q -d "$HOP_DB" -c "BEGIN" -c "$batch_sql" -c "SELECT pg_sleep(3)" -c "COMMIT" >"$T/race-batch1.log" 2>&1 &
b1=$!
poll_until 5000 sleeping || fail "race 1: the batch holds its lock" "$(cat "$T/race-batch1.log")"
psql -X -Atq -d "$HOP_DB" -c "SELECT visit_close_days()" >"$T/race-close1.log" 2>&1 &
c1=$!
if poll_until 2000 lock_waiter "SELECT visit_close_days" race; then ok "race 1: the close waits for the batch in flight"; else fail "race 1: the close waits" "$(cat "$T/race-close1.log")"; fi
wait "$b1" "$c1" || fail "race 1: both ended" "$(cat "$T/race-batch1.log" "$T/race-close1.log")"
expect_eq "race 1: the close counted the batch it waited for" \
  "$(psql_q "SELECT humans FROM visit_days WHERE dim = 0")|$(psql_q "SELECT day = (now() AT TIME ZONE 'UTC')::date FROM visit_close")" "5|t"
# (2) the close first: the batch waits for its commit, then finds the day closed and adds to it itself
psql_q "UPDATE visit_close SET day = (now() AT TIME ZONE 'UTC')::date - 2;
  DELETE FROM visit_days; DELETE FROM owner_days; DELETE FROM visit_months; DELETE FROM owner_months;
  DELETE FROM owner_link_spans" >/dev/null
psql -X -q -d "$HOP_DB" -c "BEGIN" -c "SELECT visit_close_days()" -c "SELECT pg_sleep(3)" -c "COMMIT" >"$T/race-close2.log" 2>&1 &
c2=$!
poll_until 5000 sleeping || fail "race 2: the close holds its lock" "$(cat "$T/race-close2.log")"
psql -X -q -d "$HOP_DB" -c "$batch_sql" >"$T/race-batch2.log" 2>&1 &
b2=$!
if poll_until 2000 lock_waiter "SELECT visit_hours_add" race; then ok "race 2: the batch waits for the close in flight"; else fail "race 2: the batch waits" "$(cat "$T/race-batch2.log")"; fi
wait "$c2" "$b2" || fail "race 2: both ended" "$(cat "$T/race-close2.log" "$T/race-batch2.log")"
expect_eq "race 2: the day holds both batches once (the close's 5 and the late batch's 5)" \
  "$(psql_q "SELECT sum(humans) FROM visit_days WHERE dim = 0")/$(psql_q "SELECT sum(humans) FROM visit_counts WHERE dim = 0")" "10/10"
HOP_DB=$MAIN_DB

prod_finish
