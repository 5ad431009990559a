# The analytics summaries checked against what they summarize, in PostgreSQL ($HOP_DB): shared by the suites
# that write visits (test_analytics.sh) and migrate them (test_migrate_days.sh). Source tests/lib/stack.sh
# first (expect_eq, psql_q).
# shellcheck shell=bash

# summaries_exact SUFFIX: six checks, each named with SUFFIX, that every summary is the sum of the rows it
# summarizes: each closed day of a link its hours, dimension by dimension, and no day after them; an owner's
# days its links' days; months and the owner's per-link spans (0011) likewise; the owner's hours its links'.
summaries_exact() {
  expect_eq "visit_days$1: each link's closed days add up to its hours, no open day" "$(psql_q "SELECT count(*) FROM (
    SELECT link_id, dim, (bucket AT TIME ZONE 'UTC')::date AS day, value, sum(humans) AS h, sum(bots) AS b
    FROM visit_counts WHERE bucket < (SELECT day FROM visit_close)::timestamp AT TIME ZONE 'UTC'
    GROUP BY 1, 2, 3, 4) v FULL JOIN visit_days d USING (link_id, dim, day, value)
    WHERE v.h IS DISTINCT FROM d.humans OR v.b IS DISTINCT FROM d.bots")" 0
  expect_eq "owner_days$1: each owner's days add up to its links' days" "$(psql_q "SELECT count(*) FROM (
    SELECT owner_id, dim, day, value, sum(humans) AS h, sum(bots) AS b FROM visit_days GROUP BY 1, 2, 3, 4) v
    FULL JOIN owner_days o USING (owner_id, dim, day, value)
    WHERE v.h IS DISTINCT FROM o.humans OR v.b IS DISTINCT FROM o.bots")" 0
  expect_eq "visit_months$1: each link's months add up to its days" "$(psql_q "SELECT count(*) FROM (
    SELECT link_id, dim, date_trunc('month', day::timestamp)::date AS month, value, sum(humans) AS h, sum(bots) AS b
    FROM visit_days GROUP BY 1, 2, 3, 4) v FULL JOIN visit_months m USING (link_id, dim, month, value)
    WHERE v.h IS DISTINCT FROM m.humans OR v.b IS DISTINCT FROM m.bots")" 0
  expect_eq "owner_months$1: each owner's months add up to its days" "$(psql_q "SELECT count(*) FROM (
    SELECT owner_id, dim, date_trunc('month', day::timestamp)::date AS month, value, sum(humans) AS h, sum(bots) AS b
    FROM owner_days GROUP BY 1, 2, 3, 4) v FULL JOIN owner_months m USING (owner_id, dim, month, value)
    WHERE v.h IS DISTINCT FROM m.humans OR v.b IS DISTINCT FROM m.bots")" 0
  expect_eq "owner_link_spans$1: each span of 2^k days adds up to the link's days" "$(psql_q "SELECT count(*) FROM (
    SELECT owner_id, k AS lvl, (day - date '1970-01-01') >> k AS span, link_id, sum(humans) AS h, sum(bots) AS b
    FROM visit_days, generate_series(1, 10) k WHERE dim = 0 GROUP BY 1, 2, 3, 4) v
    FULL JOIN owner_link_spans s USING (owner_id, lvl, span, link_id)
    WHERE v.h IS DISTINCT FROM s.humans OR v.b IS DISTINCT FROM s.bots")" 0
  expect_eq "owner_hours$1: each owner's hours add up to its links' hours, each under its link's owner" "$(psql_q "SELECT count(*) FROM (
    SELECT owner_id, dim, bucket, value, sum(humans) AS h, sum(bots) AS b FROM visit_counts GROUP BY 1, 2, 3, 4) v
    FULL JOIN owner_hours o USING (owner_id, dim, bucket, value)
    WHERE coalesce(v.h, 0) <> coalesce(o.humans, 0) OR coalesce(v.b, 0) <> coalesce(o.bots, 0)")+$(psql_q "SELECT count(*)
    FROM visit_hours v JOIN links l ON l.id = v.link_id WHERE l.owner_id <> v.owner_id")" 0+0
}
