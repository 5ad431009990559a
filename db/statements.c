/* Every SQL statement of hop, in one table. Every statement that returns links returns
 * LINK_COLUMNS (link_columns.h). */
#include "statements.h"

#include "link_columns.h"

/* clang-format off */
/* The stats series over `source`, rows of (bucket, humans, bots) of the total dimension; see
 * STMT_STATS_SERIES_LINK. A row goes to the bucket that starts at date_trunc(hour or day, its start, zone).
 * For days that is the day that contains it (local dates never go back, and a day starts at its date's
 * midnight), found by a binary search of the days' starts (width_bucket) instead of a zone conversion per
 * row: a year of hours per day of a zone is 8,760 rows. Hours keep date_trunc: a zone whose offset changes
 * by half an hour (Lord Howe Island) starts its hours off the series' steps, and those rows match no bucket,
 * as before. */
#define STATS_SERIES(source)                                                                                 \
    "WITH p AS (SELECT coalesce($5::timestamptz, ($4::date + 1)::timestamp AT TIME ZONE $7, now()) AS t), "  \
    "q AS (SELECT coalesce($3::timestamptz, $2::date::timestamp AT TIME ZONE $7, "                            \
        "(((p.t - interval '1 microsecond') AT TIME ZONE $7)::date - ($6::int - 1))::timestamp AT TIME ZONE $7, " \
        "date_trunc('day', p.t - interval '1 microsecond' - interval '29 days', $7)) AS f, p.t FROM p), "     \
    "b AS (SELECT s AS lo, s + interval '1 hour' AS hi FROM q, generate_series(date_trunc('hour', q.f, $7), " \
        "q.t - interval '1 microsecond', interval '1 hour') s WHERE $8::boolean "                             \
        "UNION ALL SELECT d::date::timestamp AT TIME ZONE $7, (d::date + 1)::timestamp AT TIME ZONE $7 "       \
        "FROM q, generate_series((q.f AT TIME ZONE $7)::date, ((q.t - interval '1 microsecond') "              \
        "AT TIME ZONE $7)::date, interval '1 day') d WHERE NOT $8::boolean), "                                 \
    "a AS (SELECT CASE WHEN $8::boolean THEN date_trunc('hour', v.bucket, $7) "                                \
        "ELSE d.los[width_bucket(v.bucket, d.los)] END AS lo, sum(v.humans) AS h, sum(v.bots) AS b "          \
        "FROM " source " v, (SELECT array_agg(lo ORDER BY lo) AS los FROM b) d WHERE "                         \
        "v.bucket >= (SELECT min(lo) FROM b) AND v.bucket < (SELECT max(hi) FROM b) GROUP BY 1) "             \
    "SELECT to_char(b.lo AT TIME ZONE $7, 'YYYY-MM-DD\"T\"HH24:MI:SS'), "                                       \
    "extract(epoch FROM (b.lo AT TIME ZONE $7) - (b.lo AT TIME ZONE 'UTC'))::int, "                           \
    "extract(epoch FROM b.lo)::bigint, extract(epoch FROM b.hi)::bigint, coalesce(a.h, 0), coalesce(a.b, 0) " \
    "FROM b LEFT JOIN a ON a.lo = b.lo WHERE stats_no_workers() ORDER BY b.lo"

/* The first UTC day not yet closed (0016): the day tables hold the days before it, the hourly tables every
 * day since the horizon; as a date and as a day number (as a time: CLOSED_AT, link_columns.h). */
#define CLOSED_DAY "(SELECT c.day FROM visit_close c)"
#define CLOSED_DAYNUM "(SELECT c.day - date '1970-01-01' FROM visit_close c)"
/* The first and the end of the whole closed UTC days within [$2, $3) (epochs), as epochs and as dates: the
 * top lists read those days from a day table and only the hours before and after them (the days not closed
 * included) from an hourly one. */
#define FULL_LO  "(($2::bigint + 86399) / 86400 * 86400)"
#define DAYNUM_HI "least(($3::bigint / 86400)::int, " CLOSED_DAYNUM ")"
#define FULL_HI  "(" DAYNUM_HI "::bigint * 86400)"
#define DAY_LO   "(date '1970-01-01' + (($2::bigint + 86399) / 86400)::int)"
#define DAY_HI   "(date '1970-01-01' + " DAYNUM_HI ")"
#define DAYNUM_LO "(($2::bigint + 86399) / 86400)::int"
/* an hourly row's bucket `b` in the partial day at the start of [$2, $3), and at its end (two conditions,
 * each a range an index can take) */
#define EDGE_LO(b) b " >= to_timestamp($2::bigint) AND " b " < to_timestamp(least($3::bigint, " FULL_LO "))"
#define EDGE_HI(b)                                                                                           \
    b " >= to_timestamp(greatest($2::bigint, " FULL_LO ", " FULL_HI ")) AND " b " < to_timestamp($3::bigint)"
/* The top 20 of each dimension but the total over `source`, rows of (dim, value, humans, bots) of every
 * dimension, the total's included; $4: bots count too; $6 each dimension's none value (db_links.h's
 * visit_dim_none, by dim + 1). The master writes no row of a none value: it counts as the total less the
 * dimension's other values, added to the rows of it that older builds wrote. stats_no_workers() (0011):
 * planned without parallel workers, as the series. */
#define STATS_TOP(source)                                                                                    \
    "WITH src AS MATERIALIZED (" source "), "                                                                \
    "sums AS (SELECT dim, sum(humans) AS humans, sum(bots) AS bots FROM src GROUP BY dim), "                  \
    "rest AS (SELECT d.dim, ($6::text[])[d.dim + 1] AS value, t.humans - coalesce(k.humans, 0) AS humans, "    \
    "t.bots - coalesce(k.bots, 0) AS bots FROM generate_series(1, array_length($6::text[], 1) - 1) d(dim) "    \
    "CROSS JOIN (SELECT humans, bots FROM sums WHERE dim = 0) t LEFT JOIN sums k ON k.dim = d.dim) "          \
    "SELECT dim, value, n FROM (SELECT s.dim, s.value, "                                                      \
    "sum(s.humans) + CASE WHEN $4::boolean THEN sum(s.bots) ELSE 0 END AS n, "                                \
    "row_number() OVER (PARTITION BY s.dim ORDER BY sum(s.humans) + CASE WHEN $4::boolean "                   \
    "THEN sum(s.bots) ELSE 0 END DESC, s.value) AS r FROM (SELECT dim, value, humans, bots FROM src "        \
    "WHERE dim > 0 UNION ALL SELECT dim, value, humans, bots FROM rest) s "                                   \
    "GROUP BY s.dim, s.value) x WHERE r <= 20 AND n > 0 AND stats_no_workers() ORDER BY dim, r"
/* $1..$8 of the statements that write visits added to the hours (0027's visit_hours_put), in their WHERE:
 * after the batch's row or the log's rows were taken, once. */
#define HOURS_ADD                                                                                            \
    "visit_hours_put($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], "         \
    "$7::text[], $8::text[]) >= 0"
/* The first UTC day whose hours are still kept: `days` (a parameter) days before today, the roll-up's cut
 * (HOP_ANALYTICS_HOURLY_DAYS). Before it only day rows remain. */
#define HORIZON(days) "(date_trunc('day', now() AT TIME ZONE 'UTC')::date - " days "::int)"
/* The first UTC day whose hours are read, and kept: the horizon, or the first day not closed when the master
 * has not closed the days before the horizon yet (the roll-up keeps the hours of a day until it is closed). */
#define HOURS_FROM(days) "least(" HORIZON(days) ", " CLOSED_DAY ")"
/* Rows of (bucket, humans, bots) of the total dimension of `col` = $1: the hours of `hours` from the horizon
 * ($N days) or the first day not closed, whichever is first, the days of `days` before it (at their UTC
 * midnight); `cond` the hours' condition for the total (owner_hours: "AND dim = 0 "; visit_hours, a
 * link's hourly totals, needs none). */
#define SERIES_ROWS(hours, days, col, n, cond)                                                               \
    "(SELECT bucket, humans, bots FROM " hours " WHERE " col " = $1 " cond "AND bucket >= " HOURS_FROM(n)   \
    "::timestamp AT TIME ZONE 'UTC' UNION ALL SELECT day::timestamp AT TIME ZONE 'UTC', humans, bots FROM "   \
    days " WHERE " col " = $1 AND dim = 0 AND day < " HOURS_FROM(n) ")"
/* The partial day at the end of [$2, $3) when it is before the horizon ($5 days) and so has no hours left:
 * its day row counts when its midnight is in the range. */
#define LAST_DAY_BEFORE_HORIZON                                                                              \
    "day = " DAY_HI " AND day < " HOURS_FROM("$5") " AND " FULL_HI " >= $2::bigint AND " FULL_HI " < $3::bigint"
/* The dimensions of the top lists, the total's included (STATS_TOP's none values are taken from it), as a
 * list, not a range: with dim = ANY the index descends once per dimension straight to the buckets asked;
 * with dim BETWEEN 1 AND 8 it read every bucket of those dimensions (a year of a link's hours) to find the
 * few of the partial days. */
#define TOP_DIMS "dim = ANY ('{0,1,2,3,4,5,6,7,8}'::smallint[])"
/* The first whole UTC month within [DAY_LO, DAY_HI) and the end of the last one (equal when none is whole):
 * the months between come from a month table, the days before and after them from a day table. */
#define MONTH_LO "least((date_trunc('month', (" DAY_LO " - 1)::timestamp) + interval '1 month')::date, " DAY_HI ")"
#define MONTH_HI "greatest(date_trunc('month', " DAY_HI "::timestamp)::date, " MONTH_LO ")"
/* Rows of (dim, value, humans, bots) of every dimension but the total over [$2, $3), for `col` = $1, as
 * [hours][days][months][days][hours]: whole UTC months from `months`, the other whole UTC days from `days`;
 * the hours of the partial days at either end from `hours`, or before the horizon ($5 days) the day whose
 * midnight is in the range. A month row is the sum of its day rows (the same triggers keep both). */
#define TOP_ROWS(hours, days, months, col)                                                                   \
    "SELECT dim, value, humans, bots FROM " months " WHERE " col " = $1 AND " TOP_DIMS " "                   \
    "AND month >= " MONTH_LO " AND month < " MONTH_HI " UNION ALL "                                           \
    "SELECT dim, value, humans, bots FROM " days " WHERE " col " = $1 AND " TOP_DIMS " "                     \
    "AND day >= " DAY_LO " AND day < " MONTH_LO " UNION ALL "                                                 \
    "SELECT dim, value, humans, bots FROM " days " WHERE " col " = $1 AND " TOP_DIMS " "                     \
    "AND day >= " MONTH_HI " AND day < " DAY_HI " UNION ALL "                                                 \
    "SELECT dim, value, humans, bots FROM " days " WHERE " col " = $1 AND " TOP_DIMS " "                     \
    "AND " LAST_DAY_BEFORE_HORIZON " UNION ALL "                                                              \
    "SELECT dim, value, humans, bots FROM " hours " WHERE " col " = $1 AND " TOP_DIMS " "                    \
    "AND bucket >= " HOURS_FROM("$5") "::timestamp AT TIME ZONE 'UTC' AND " EDGE_LO("bucket")               \
    " UNION ALL SELECT dim, value, humans, bots FROM " hours " WHERE " col " = $1 AND " TOP_DIMS " "         \
    "AND bucket >= " HOURS_FROM("$5") "::timestamp AT TIME ZONE 'UTC' AND " EDGE_HI("bucket")
/* Rows of (bucket, humans, bots) of the total dimension of `col` = $1: every closed UTC day of `days` at its
 * midnight, and the hours of `hours` after them (`cond` as in SERIES_ROWS): the whole series when its buckets
 * are UTC days. */
#define SERIES_DAYS(hours, days, col, cond)                                                                  \
    "(SELECT day::timestamp AT TIME ZONE 'UTC' AS bucket, humans, bots FROM " days " WHERE " col " = $1 "    \
    "AND dim = 0 AND day < " CLOSED_DAY " UNION ALL SELECT bucket, humans, bots FROM " hours " WHERE " col   \
    " = $1 " cond "AND bucket >= " CLOSED_AT ")"
/* clang-format on */

const struct stmt stmt_table[STMT_COUNT] = {
    [STMT_BEGIN] = {"begin", "BEGIN", 0, STMT_MIGRATE_BOOT},
    [STMT_COMMIT] = {"commit", "COMMIT", 0, STMT_MIGRATE_BOOT},
    [STMT_ROLLBACK] = {"rollback", "ROLLBACK", 0, STMT_MIGRATE_BOOT},
    /* one migrator at a time, whichever host it runs on */
    [STMT_MIG_LOCK] = {"mig_lock", "SELECT pg_advisory_lock(7274670)", 0, STMT_MIGRATE_BOOT},
    [STMT_MIG_UNLOCK] = {"mig_unlock", "SELECT pg_advisory_unlock(7274670)", 0, STMT_MIGRATE_BOOT},
    [STMT_MIG_TABLE] = {"mig_table",
                        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                        "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                        0, STMT_MIGRATE_BOOT},
    [STMT_MIG_APPLIED] = {"mig_applied", "SELECT version FROM schema_migrations ORDER BY version", 0,
                          STMT_MIGRATE},
    [STMT_MIG_RECORD] = {"mig_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                         STMT_MIGRATE},
    /* a migration's lock waits, for its transaction alone (migrate.c): $1 ms */
    [STMT_MIG_LOCK_WAIT] = {"mig_lock_wait", "SELECT set_config('lock_timeout', $1, true)", 1, STMT_MIGRATE},

    [STMT_PING] = {"ping", "SELECT 1", 0, STMT_APP},
    /* Work that must not stop behind another session's lock for long waits at most $1 for one (db.c), then
     * the database's own lock_timeout is back, or the process's bound. A new connection prepares every
     * statement, and preparing one that writes a table takes that table's lock as running it would: behind a
     * lock that blocks writes (a plain CREATE INDEX), a pool that started could not connect at all, and
     * served nothing; the prepares wait 100 ms, and a statement that could not have its lock is prepared when
     * first run. Then every statement of the pool waits at most a bound of its process's
     * (db_bound_lock_waits), or the database's own when shorter: a worker stuck behind a lock serves no
     * redirect, and the master's loop drains the workers' counters, reaps workers and answers the watchdog.
     */
    [STMT_LOCK_WAIT] = {"lock_wait", "SELECT set_config('lock_timeout', $1, false)", 1, STMT_CONNECT},
    [STMT_LOCK_WAIT_DONE] = {"lock_wait_done", "RESET lock_timeout", 0, STMT_CONNECT},
    /* the process's bound ($1 ms), or the database's own lock_timeout (reset_val, in ms) when shorter */
    [STMT_LOCK_WAIT_BOUND] = {"lock_wait_bound",
                              "SELECT set_config('lock_timeout', CASE WHEN reset_val::bigint BETWEEN 1 AND "
                              "$1::bigint THEN reset_val ELSE ($1::bigint)::text END, false) "
                              "FROM pg_settings WHERE name = 'lock_timeout'",
                              1, STMT_CONNECT},
    /* Run once on each application connection as it opens. No parallel query: hop's statements are
     * short and many workers run them at once, so PostgreSQL's parallel workers only compete with them for
     * the same cores; a 2-character search at 100,000 links took 126 ms in parallel and 63 ms without
     * (make bench-search). A setting of the session, not of the connection string, so that PgBouncer, which
     * refuses the `options` startup parameter, passes it. */
    [STMT_SESSION_SETUP] = {"session_setup",
                            "SELECT set_config('max_parallel_workers_per_gather', '0', false)", 0, STMT_APP},
    [STMT_LISTEN] = {"listen", "LISTEN hop_links", 0, STMT_APP},
    [STMT_LISTEN_DOMAINS] = {"listen_domains", "LISTEN hop_domains", 0, STMT_APP},
    [STMT_DOMAINS_LIST] =
        {"domains_list",
         "SELECT d.id, d.name, d.is_default, d.root_redirect, d.not_found_redirect, "
         "(SELECT count(*) FROM links l WHERE l.domain_id = d.id) FROM domains d ORDER BY d.name",
         0, STMT_APP},
    /* The first domain becomes the default and adopts the links made while there was none, in the same
     * statement (slugs and visits stay: the rows are the same). */
    [STMT_DOMAIN_ADD] =
        {"domain_add",
         "WITH d AS (INSERT INTO domains (name, is_default, root_redirect, not_found_redirect) "
         "VALUES ($1, NOT EXISTS (SELECT 1 FROM domains WHERE is_default), $2, $3) "
         "ON CONFLICT (name) DO NOTHING RETURNING id, is_default), "
         "m AS (UPDATE links SET domain_id = d.id FROM d WHERE links.domain_id IS NULL "
         "AND d.is_default RETURNING 1) "
         "SELECT d.is_default, (SELECT count(*) FROM m) FROM d",
         3, STMT_APP},
    /* $2: also delete its links. No row: no such domain, or links use it and $2 is false. */
    [STMT_DOMAIN_REMOVE] = {"domain_remove",
                            "WITH gone AS (DELETE FROM links WHERE $2::boolean AND domain_id = "
                            "(SELECT id FROM domains WHERE name = $1) RETURNING 1), "
                            "d AS (DELETE FROM domains WHERE name = $1 AND ($2::boolean OR NOT EXISTS "
                            "(SELECT 1 FROM links l WHERE l.domain_id = domains.id)) RETURNING is_default) "
                            "SELECT (SELECT count(*) FROM gone), d.is_default FROM d",
                            2, STMT_APP},
    /* after the default is removed, the oldest domain left takes its place */
    [STMT_DOMAIN_NEW_DEFAULT] =
        {"domain_new_default",
         "UPDATE domains SET is_default = true WHERE id = (SELECT min(id) FROM domains) "
         "AND NOT EXISTS (SELECT 1 FROM domains WHERE is_default) RETURNING name",
         0, STMT_APP},
    /* link_insert and link_update take the same parameters (db_links.c's link_params): $1 slug, $2 owner id
     * or NULL, $3 url, $4 redirect, $5 whether expires_at is given, $6 expires_at, $7 disabled, $8/$9
     * password_hash, $10/$11 max_visits, $12 forward_query, $13/$14/$15 targets (ios, android), $16 tags,
     * $17/$18 title, $19/$20 expired_url, $21 the domain id (0: none; update: where the link is). A "whether"
     * flag and its value set a column that may be cleared; elsewhere NULL means "keep" (update) or "the
     * default" (insert). */
    [STMT_LINK_INSERT] =
        {"link_insert",
         "WITH l AS (INSERT INTO links (slug, owner_id, url, redirect, expires_at, disabled, "
         "password_hash, max_visits, forward_query, ios_url, android_url, tags, title, "
         "expired_url, domain_id) "
         "VALUES ($1, $2, $3, coalesce($4::int, 302), "
         "CASE WHEN $5::boolean THEN $6::timestamptz END, coalesce($7::boolean, false), "
         "CASE WHEN $8::boolean THEN $9 END, CASE WHEN $10::boolean THEN $11::bigint END, "
         "coalesce($12::boolean, false), CASE WHEN $13::boolean THEN $14 END, "
         "CASE WHEN $13::boolean THEN $15 END, coalesce($16::text[], '{}'), "
         "CASE WHEN $17::boolean THEN $18 END, CASE WHEN $19::boolean THEN $20 END, "
         "nullif($21::bigint, 0)) "
         "ON CONFLICT ((coalesce(domain_id, 0)), slug) DO NOTHING RETURNING *) "
         "SELECT " LINK_COLUMNS " FROM l",
         21, STMT_APP},
    /* the redirect's one round trip: no visit total */
    [STMT_LINK_FIND] = {"link_find",
                        "SELECT " LINK_COLUMNS_WITH(
                            "0, 0") " FROM links l "
                                    "WHERE coalesce(l.domain_id, 0) = $2 AND l.slug = $1",
                        2, STMT_APP},
    [STMT_LINK_GET] = {"link_get",
                       "SELECT " LINK_COLUMNS " FROM links l WHERE coalesce(l.domain_id, 0) = $3 "
                       "AND l.slug = $1 AND l.owner_id = $2",
                       3, STMT_APP},
    /* $1 owner, $2 url, $3 slug or NULL, $4 domain id (0: none): the newest live link on that domain (by the
     * url's hash, links_owner_url: urls may outgrow a btree entry) */
    [STMT_LINK_REUSE] =
        {"link_reuse",
         "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 "
         "AND hashtextextended(l.url, 0) = hashtextextended($2, 0) "
         "AND l.url = $2 AND ($3::text IS NULL OR l.slug = $3) AND coalesce(l.domain_id, 0) = $4 "
         "AND NOT l.disabled "
         "AND (l.expires_at IS NULL OR l.expires_at > now()) AND (l.max_visits IS NULL OR "
         "coalesce((SELECT c.used FROM link_claims c WHERE c.link_id = l.id), 0) < l.max_visits) "
         "ORDER BY l.id DESC LIMIT 1",
         4, STMT_APP},
    /* One visit of a limited link: the row lock of the upsert orders concurrent claims on every host, and
     * the limit is read from the link as it is now. No row: used up (or no longer limited). */
    [STMT_LINK_CLAIM] = {"link_claim",
                         "INSERT INTO link_claims AS c (link_id, used) SELECT l.id, 1 FROM links l "
                         "WHERE l.id = $1 AND l.max_visits >= 1 "
                         "ON CONFLICT (link_id) DO UPDATE SET used = c.used + 1 "
                         "WHERE c.used < (SELECT l.max_visits FROM links l WHERE l.id = $1) RETURNING c.used",
                         1, STMT_APP},
    /* whether a limited link has visits left, without using one (HEAD, bots) */
    [STMT_LINK_CLAIMED] = {"link_claimed",
                           "SELECT coalesce((SELECT c.used FROM link_claims c WHERE c.link_id = l.id), 0) "
                           "< l.max_visits FROM links l WHERE l.id = $1 AND l.max_visits >= 1",
                           1, STMT_APP},
    /* Finding links: one statement per shape (the plain list, a tag filter, a search), so that each has a
     * plan that fits it; an "$n IS NULL OR" would leave a generic plan unable to use the index it needs.
     * The filters are planned on every run (STMT_APP_REPLAN): a common tag is found fastest by walking the
     * owner's newest links, a rare one through links_owner_tags, and only the values tell which (bench/
     * search.sh shows both plans). Newest first; $2 is the id the previous page ended at (a keyset, so
     * inserts never shift a page), the largest bigint for the first page. */
    /* The page's ids come first, from links_owner_id alone (an index-only scan), then their rows: written as
     * "owner_id = $1 AND id < $2 ORDER BY id DESC", PostgreSQL walked links_pkey backwards and filtered by
     * owner, which reads every newer link of every other owner first: 860 ms for the first page of an owner
     * whose 100,000 links are older than 100,000 others' (make bench-scale), 0.6 ms this way at any depth. */
    [STMT_LINK_LIST] = {"link_list",
                        "SELECT " LINK_COLUMNS
                        " FROM links l WHERE l.id = ANY (ARRAY(SELECT k.id FROM links k "
                        "WHERE k.owner_id = $1 AND k.id < $2 ORDER BY k.id DESC LIMIT $3)) "
                        "ORDER BY l.id DESC LIMIT $3",
                        3, STMT_APP, STMT_READ_OWNER},
    /* $3 the tags every link must carry (links_owner_tags) */
    [STMT_LINK_LIST_TAGGED] = {"link_list_tagged",
                               "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 AND l.id < $2 "
                               "AND l.tags @> $3::text[] ORDER BY l.id DESC LIMIT $4",
                               4, STMT_APP_REPLAN, STMT_READ_OWNER},
    /* $3 a LIKE pattern in lower case, on search_text: slug, url and title folded to lower case once,
     * when the link is written (0010), and indexed by links_owner_search. A q of 2 characters cannot use
     * that index and reads every one of the owner's links, so no per-row work is left but the match.
     * $4 tags as in link_list_tagged ('{}': any) */
    [STMT_LINK_SEARCH] = {"link_search",
                          "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 AND l.id < $2 "
                          "AND l.search_text LIKE $3 "
                          "AND l.tags @> $4::text[] ORDER BY l.id DESC LIMIT $5",
                          5, STMT_APP_REPLAN, STMT_READ_OWNER},
    /* a q of 2 characters, which no trigram narrows: the walk over the owner's links newest first, with the
     * planner settings it needs, is the function link_search_short (0015); the same parameters as
     * link_search. Not replanned: the function's plan does not depend on the values. */
    [STMT_LINK_SEARCH_SHORT] =
        {"link_search_short",
         "SELECT " LINK_COLUMNS " FROM links l WHERE l.id = ANY (ARRAY(SELECT "
         "link_search_short($1::bigint, $2::bigint, $3::text, $4::text[], $5::bigint))) "
         "ORDER BY l.id DESC LIMIT $5",
         5, STMT_APP, STMT_READ_OWNER},
    /* the owner's tags by name, each with the number of links that carry it */
    [STMT_TAGS_COUNT] = {"tags_count",
                         "SELECT t, count(*) FROM links l CROSS JOIN LATERAL unnest(l.tags) AS t "
                         "WHERE l.owner_id = $1 GROUP BY t ORDER BY t",
                         1, STMT_APP, STMT_READ_OWNER},
    [STMT_LINK_UPDATE] =
        {"link_update",
         "WITH l AS (UPDATE links SET url = coalesce($3, url), redirect = coalesce($4::int, redirect), "
         "expires_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE expires_at END, "
         "disabled = coalesce($7::boolean, disabled), "
         "password_hash = CASE WHEN $8::boolean THEN $9 ELSE password_hash END, "
         "max_visits = CASE WHEN $10::boolean THEN $11::bigint ELSE max_visits END, "
         "forward_query = coalesce($12::boolean, forward_query), "
         "ios_url = CASE WHEN $13::boolean THEN $14 ELSE ios_url END, "
         "android_url = CASE WHEN $13::boolean THEN $15 ELSE android_url END, "
         "tags = coalesce($16::text[], tags), "
         "title = CASE WHEN $17::boolean THEN $18 ELSE title END, "
         "expired_url = CASE WHEN $19::boolean THEN $20 ELSE expired_url END "
         "WHERE coalesce(domain_id, 0) = $21 AND slug = $1 AND owner_id = $2 RETURNING *) "
         "SELECT " LINK_COLUMNS " FROM l",
         21, STMT_APP},
    [STMT_LINK_DELETE] =
        {"link_delete",
         "DELETE FROM links WHERE coalesce(domain_id, 0) = $3 AND slug = $1 AND owner_id = $2 "
         "RETURNING id",
         3, STMT_APP},
    /* The stats series: $1 a link id or an owner id (STATS_LINK/STATS_OWNER), $2/$3 from as a date or a time,
     * $4/$5 to as a date (its day included) or a time, $6 days (from today - $6 + 1), $7 the zone, $8 hourly.
     * Each bucket: its start as local time and UTC offset, its bounds as epochs, humans, bots; every bucket
     * of the range, zeros included. Days follow the zone's midnights (23 or 25 hours across a DST change);
     * hours step by an hour from the zone's hour, so none repeats or goes missing. */
    [STMT_STATS_SERIES_LINK] = {"stats_series_link",
                                STATS_SERIES(SERIES_ROWS("visit_hours", "visit_days", "link_id", "$9", "")),
                                9, STMT_APP, STMT_READ_LINK},
    /* Days of UTC (tz=UTC, granularity=day): whole days from the day tables, $1..$8 as above. Planned for
     * its values on every run, as the link's top lists below: over a year of one link, the generic plan
     * PostgreSQL switched to after 5 runs took 16 ms, a plan for the values 1.8-2.9 ms with its planning
     * (bench/analytics.sh's data). */
    [STMT_STATS_SERIES_LINK_DAYS] = {"stats_series_link_days",
                                     STATS_SERIES(SERIES_DAYS("visit_hours", "visit_days", "link_id", "")), 8,
                                     STMT_APP_REPLAN, STMT_READ_LINK},
    [STMT_STATS_SERIES_OWNER_DAYS] = {"stats_series_owner_days",
                                      STATS_SERIES(SERIES_DAYS("owner_hours", "owner_days", "owner_id",
                                                               "AND dim = 0 ")),
                                      8, STMT_APP, STMT_READ_OWNER},
    /* The same for every link of owner $1, from the owner's summaries. */
    [STMT_STATS_SERIES_OWNER] = {"stats_series_owner",
                                 STATS_SERIES(SERIES_ROWS("owner_hours", "owner_days", "owner_id", "$9",
                                                          "AND dim = 0 ")),
                                 9, STMT_APP, STMT_READ_OWNER},
    /* The top 20 values of every dimension but the total over [$2, $3) (epochs); $4: bots count too; $5 the
     * hourly retention; $6 the none values (STATS_TOP). The link's are planned for their values on every run:
     * the generic plan took 13-16 ms over a year, whether bots count or not and in any zone, a plan for the
     * values 1.2-2.9 ms. */
    [STMT_STATS_TOP_LINK] = {"stats_top_link",
                             STATS_TOP(TOP_ROWS("visit_counts", "visit_days", "visit_months", "link_id")), 6,
                             STMT_APP_REPLAN, STMT_READ_LINK},
    [STMT_STATS_TOP_OWNER] = {"stats_top_owner",
                              STATS_TOP(TOP_ROWS("owner_hours", "owner_days", "owner_months", "owner_id")), 6,
                              STMT_APP, STMT_READ_OWNER},
    /* The owner's 20 most visited links over [$2, $3); $4: bots count too; $5 the hourly retention. The whole
     * UTC days as the fewest spans of 2^k days that tile them (stats_spans, at most two per level): single
     * days from visit_days (an index-only scan of the owner's totals), longer spans from owner_link_spans, so
     * a link is a few rows whatever the range; the ends' hours from visit_hours. Ties by slug: only the
     * links that reach the 20th count are looked up for it. */
    [STMT_STATS_TOP_LINKS] =
        {"stats_top_links",
         "WITH x AS (SELECT t.link_id, sum(t.humans) + CASE WHEN $4::boolean THEN sum(t.bots) ELSE 0 END AS "
         "n "
         "FROM (SELECT v.link_id, v.humans, v.bots FROM stats_spans(" DAYNUM_LO ", " DAYNUM_HI ") s "
         "CROSS JOIN LATERAL (SELECT d.link_id, d.humans, d.bots FROM visit_days d WHERE s.lvl = 0 "
         "AND d.owner_id = $1 AND d.dim = 0 AND d.day = date '1970-01-01' + s.span UNION ALL "
         "SELECT p.link_id, p.humans, p.bots FROM owner_link_spans p WHERE s.lvl > 0 AND p.owner_id = $1 "
         "AND p.lvl = s.lvl AND p.span = s.span OFFSET 0) v UNION ALL "
         "SELECT link_id, humans, bots FROM visit_days WHERE owner_id = $1 AND dim = 0 "
         "AND " LAST_DAY_BEFORE_HORIZON " UNION ALL "
         "SELECT link_id, humans, bots FROM visit_hours WHERE owner_id = $1 "
         "AND bucket >= " HOURS_FROM("$5") "::timestamp AT TIME ZONE 'UTC' AND " EDGE_LO(
             "bucket") " UNION ALL "
                       "SELECT link_id, humans, bots FROM visit_hours WHERE owner_id = $1 "
                       "AND bucket >= " HOURS_FROM("$5") "::timestamp AT TIME ZONE 'UTC' AND " EDGE_HI(
                           "bucket") ") t "
                                     "GROUP BY t.link_id), "
                                     "top AS (SELECT x.link_id, x.n FROM x WHERE x.n > 0 "
                                     "AND x.n >= (SELECT min(c.n) FROM (SELECT n FROM x ORDER BY n DESC "
                                     "LIMIT 20) c)) "
                                     "SELECT y.slug, (SELECT d.name FROM domains d WHERE d.id = "
                                     "y.domain_id), y.n "
                                     "FROM (SELECT l.slug, l.domain_id, top.n FROM top JOIN links l ON l.id "
                                     "= top.link_id "
                                     "ORDER BY top.n DESC, l.slug LIMIT 20) y ORDER BY y.n DESC, y.slug",
         5, STMT_APP, STMT_READ_OWNER},
    /* the zones tz= may name (each worker reads them once) */
    [STMT_TZ_NAMES] = {"tz_names", "SELECT name FROM pg_timezone_names ORDER BY name COLLATE \"C\"", 0,
                       STMT_APP},
    /* $1 SHA-256 of the key, as bytea */
    [STMT_KEY_AUTH] =
        {"key_auth", "SELECT owner_id, hash, id, scope FROM api_keys WHERE hash = $1 AND revoked_at IS NULL",
         1, STMT_APP},
    [STMT_OWNER_UPSERT] = {"owner_upsert",
                           "INSERT INTO owners (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = "
                           "excluded.name RETURNING id",
                           1, STMT_APP},
    [STMT_KEY_INSERT] = {"key_insert",
                         "INSERT INTO api_keys (owner_id, hash, scope) VALUES ($1, $2, $3) RETURNING id", 3,
                         STMT_APP},
    [STMT_KEYS_LIST] =
        {"keys_list",
         "SELECT o.name, k.id, k.scope, " RFC3339("k.created_at") ", " RFC3339("k.last_used_at") ", " RFC3339(
             "k.revoked_at") " FROM owners o JOIN api_keys k ON k.owner_id = o.id ORDER BY o.name, k.id",
         0, STMT_APP},
    [STMT_KEYS_REVOKE] =
        {"keys_revoke",
         "UPDATE api_keys SET revoked_at = now() FROM owners o WHERE api_keys.owner_id = o.id "
         "AND o.name = $1 AND api_keys.revoked_at IS NULL RETURNING api_keys.id",
         1, STMT_APP},
    /* $1 SHA-256 of the key the session is made from, $2 SHA-256 of the session id, $3 its lifetime in
     * seconds. Nothing is made for an unknown or revoked key; expired sessions of anyone are swept here, so
     * the table holds live sessions and the ones of the last lifetime at most. */
    [STMT_SESSION_CREATE] = {"session_create",
                             "WITH gone AS (DELETE FROM sessions WHERE expires_at < now()) "
                             "INSERT INTO sessions (hash, key_id, owner_id, expires_at) "
                             "SELECT $2, k.id, k.owner_id, now() + make_interval(secs => $3::int) "
                             "FROM api_keys k WHERE k.hash = $1 AND k.revoked_at IS NULL "
                             "RETURNING owner_id, " RFC3339("expires_at"),
                             3, STMT_APP},
    /* $1 SHA-256 of the session id: its owner while it is unexpired and its key unrevoked, and that key's
     * number and scope (a session acts with the key it was made from) */
    [STMT_SESSION_AUTH] =
        {"session_auth",
         "SELECT s.owner_id, " RFC3339(
             "s.expires_at") ", s.key_id, k.scope FROM sessions s "
                             "JOIN api_keys k ON k.id = s.key_id "
                             "WHERE s.hash = $1 AND s.expires_at > now() AND k.revoked_at IS NULL",
         1, STMT_APP},
    [STMT_SESSION_DELETE] = {"session_delete", "DELETE FROM sessions WHERE hash = $1", 1, STMT_APP},
    /* One batch from the master, one element per link and hour: $1 link ids, $2 hours since the epoch, $3
     * humans and $4 bots in all, and the dimensions' values as array literals: $5 dimensions, $6 values, $7
     * humans, $8 bots. visit_hours_put (0027) adds them to the hours and drops the links deleted meanwhile.
     * $9 is the batch's id, recorded in the same statement (so the same transaction): a batch sent again
     * after its first commit landed adds nothing, and the result's one row says 0. $10 are ids of batches
     * that will never be sent again (forgotten), and ids older than 30 days are pruned (a master killed
     * before it could confirm them). */
    [STMT_VISITS_ADD] =
        {"visits_add",
         "WITH batch AS (INSERT INTO visit_batches (id) VALUES ($9::bigint) ON CONFLICT (id) DO NOTHING "
         "RETURNING id), "
         "confirmed AS (DELETE FROM visit_batches WHERE id = ANY($10::bigint[]) AND id <> $9::bigint), "
         "expired AS (DELETE FROM visit_batches WHERE applied_at < now() - interval '30 days') "
         "SELECT count(*) FROM batch WHERE " HOURS_ADD,
         10, STMT_APP},
    /* One batch into the log (0021) instead of the counters, with HOP_VISITS_WINDOW_MS: $1 the batch's id,
     * recorded in visit_batches as STMT_VISITS_ADD records it (a batch sent again adds nothing), $2 its
     * parts' encodings one after the other, $3 and $4 where each part's starts (0-based) and its length,
     * part by part (0 for a part it has no rows of); $5 as STMT_VISITS_ADD's $10; $6 the master's writer id
     * (STMT_VISITS_WRITER). */
    [STMT_VISITS_LOG] =
        {"visits_log",
         "WITH batch AS (INSERT INTO visit_batches (id) VALUES ($1::bigint) ON CONFLICT (id) DO NOTHING "
         "RETURNING id), "
         "confirmed AS (DELETE FROM visit_batches WHERE id = ANY($5::bigint[]) AND id <> $1::bigint), "
         "expired AS (DELETE FROM visit_batches WHERE applied_at < now() - interval '30 days'), "
         "logged AS (INSERT INTO visit_log (id, part, writer, data) "
         "SELECT b.id, t.p - 1, $6::bigint, substring($2::bytea FROM t.o + 1 FOR t.n) "
         "FROM batch b, unnest($3::int[], $4::int[]) WITH ORDINALITY AS t(o, n, p) WHERE t.n > 0) "
         "SELECT count(*) FROM batch",
         6, STMT_APP},
    /* A part's sum ($1..$8 as STMT_VISITS_ADD's) added to the hours, and the log rows it sums ($9, of
     * part $10) deleted, in one statement: visit_log_take undoes it all when one of them is gone. Answers
     * the rows taken and the microseconds the statement took in PostgreSQL (its select list is computed
     * after its WHERE), which the master's share of PostgreSQL is measured in. */
    [STMT_VISITS_APPLY] = {"visits_apply",
                           "WITH taken AS (SELECT visit_log_take($9::bigint[], $10::int) AS n) SELECT n, "
                           "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1e6)::bigint "
                           "FROM taken WHERE " HOURS_ADD,
                           10, STMT_APP},
    /* The log rows of part $1 among ids $2 that are still there: a master rebuilds a part's sum from them
     * after its statement failed. */
    [STMT_VISITS_LOG_READ] =
        {"visits_log_read", "SELECT id, data FROM visit_log WHERE part = $1::int AND id = ANY($2::bigint[])",
         2, STMT_APP},
    /* Log rows that none of ids $2 (the master's own) names, whose writer holds no advisory lock (its master
     * is gone: its connection would hold it) and that are older than 2 s, or older than $1 ms whatever their
     * writer (a master alive but stuck). At most $3. */
    [STMT_VISITS_ORPHANS] =
        {"visits_orphans",
         "SELECT l.id, l.part, l.data FROM visit_log l "
         "WHERE NOT (l.id = ANY($2::bigint[])) AND (l.written_at < now() - $1::bigint * interval '1 "
         "millisecond' "
         "OR (l.written_at < now() - interval '2 seconds' AND NOT EXISTS (SELECT 1 FROM pg_locks k "
         "WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1 "
         "AND ((k.classid::bigint << 32) | k.objid::bigint) = l.writer))) "
         "ORDER BY l.written_at, l.id, l.part LIMIT $3::int",
         3, STMT_APP},
    /* The master's writer id ($1) held for as long as its connection lives (taken again after a reconnect):
     * whether a log row's master is alive. */
    [STMT_VISITS_WRITER] = {"visits_writer", "SELECT pg_try_advisory_lock($1::bigint)", 1, STMT_APP},
    /* The hours of days that ended more than $1 days ago are dropped, the links' and the owners', in one
     * statement, if those days are closed: the day tables hold them, and readers take days from them before
     * that cut and hours after it, so they see each visit once. */
    [STMT_VISITS_ROLLUP] = {"visits_rollup",
                            "WITH owner_old AS (DELETE FROM owner_hours WHERE bucket < " HOURS_FROM(
                                "$1") "::timestamp AT TIME ZONE 'UTC') "
                                      "DELETE FROM visit_hours WHERE bucket < " HOURS_FROM(
                                          "$1") "::timestamp AT TIME ZONE 'UTC'",
                            1, STMT_APP},
    /* The UTC days that ended are closed (0016's visit_close_days): their hours added to the day, month and
     * span summaries. Returns the first open day before (as this statement's snapshot saw it) and after, in
     * days since 1970-01-01. */
    [STMT_VISITS_CLOSE] = {"visits_close",
                           "SELECT c.day - date '1970-01-01', visit_close_days() - date '1970-01-01' "
                           "FROM visit_close c",
                           0, STMT_APP},
    /* Import (db_import.c): each batch is COPYed as data into this session's staging table, then merged by
     * one set-based statement, in one transaction; the table empties itself at the end of each. */
    [STMT_IMPORT_STAGING] =
        {"import_staging",
         "CREATE TEMP TABLE IF NOT EXISTS import_rows (line bigint NOT NULL, "
         "slug text COLLATE \"C\" NOT NULL, url text NOT NULL, title text, "
         "created_epoch bigint, tags text[] COLLATE \"C\", visits bigint, redirect smallint, "
         "expires_epoch bigint, disabled boolean, password_hash text, max_visits bigint, "
         "forward_query boolean, ios_url text, android_url text, expired_url text, "
         "domain_id bigint NOT NULL) "
         "ON COMMIT DELETE ROWS",
         0, STMT_IMPORT},
    /* The import's own connection: no JIT (compiling the merge cost about 0.15 s a batch, more than it
     * saved), and commits that do not wait for the WAL flush: a crash may lose the last batches reported
     * done, which the same import run again brings in (it skips what is there). */
    [STMT_IMPORT_SESSION] = {"import_session",
                             "SELECT set_config('jit', 'off', false), "
                             "set_config('synchronous_commit', 'off', false)",
                             0, STMT_IMPORT},
    [STMT_IMPORT_COPY] = {"import_copy",
                          "COPY import_rows (line, slug, url, title, created_epoch, tags, visits, redirect, "
                          "expires_epoch, disabled, password_hash, max_visits, forward_query, ios_url, "
                          "android_url, expired_url, domain_id) FROM STDIN",
                          0, STMT_IMPORT},
    /* $1 owner id, $2 'skip', 'rename' or 'fail'; each staged line names its domain (0: none) and brings its
     * tags sorted and distinct. A line's state: duplicate (an earlier line of the batch has the slug on that
     * domain), present (the owner already has this slug, or a rename of it, to the same url there: imported
     * before), taken (by another link), new. One probe of links_domain_slug per line, as a LATERAL ... LIMIT
     * 1 so that no plan reads all of links. Only the lines NOT written under their own slug come back, in
     * order, with the slug written under if any (the caller counts the rest as imported): a first import
     * sends back and matches nothing. A rename adds "-" and 6 hex digits. */
    [STMT_IMPORT_MERGE] =
        {"import_merge",
         "WITH f AS (SELECT domain_id, slug, min(line) AS first FROM import_rows GROUP BY domain_id, slug), "
         "c AS (SELECT r.*, CASE WHEN r.line <> f.first THEN 'duplicate' "
         "WHEN l.owner_id = $1 AND l.url = r.url THEN 'present' "
         "WHEN $2 = 'rename' AND EXISTS (SELECT 1 FROM links x WHERE x.owner_id = $1 "
         "AND hashtextextended(x.url, 0) = hashtextextended(r.url, 0) AND x.url = r.url "
         "AND coalesce(x.domain_id, 0) = r.domain_id "
         "AND left(x.slug, -7) = left(r.slug, 57) AND substr(x.slug, length(x.slug) - 6, 1) = '-') "
         "THEN 'present' WHEN l.found THEN 'taken' ELSE 'new' END AS state "
         "FROM import_rows r JOIN f ON f.domain_id = r.domain_id AND f.slug = r.slug "
         "LEFT JOIN LATERAL (SELECT true AS found, l.owner_id, l.url FROM links l "
         "WHERE coalesce(l.domain_id, 0) = r.domain_id AND l.slug = r.slug LIMIT 1) l ON true), "
         "t AS (SELECT c.*, CASE WHEN c.state = 'taken' THEN left(c.slug, 57) || '-' || "
         "substr(md5(random()::text || c.line), 1, 6) ELSE c.slug END AS target FROM c "
         "WHERE c.state = 'new' OR (c.state = 'taken' AND $2 = 'rename')), "
         "ins AS (INSERT INTO links (slug, owner_id, url, redirect, created_at, expires_at, disabled, "
         "password_hash, max_visits, forward_query, ios_url, android_url, tags, title, expired_url, "
         "domain_id, imported_visits) "
         "SELECT t.target, $1, t.url, coalesce(t.redirect, 302), "
         "coalesce(to_timestamp(t.created_epoch), now()), to_timestamp(t.expires_epoch), "
         "coalesce(t.disabled, false), t.password_hash, t.max_visits, coalesce(t.forward_query, false), "
         "t.ios_url, t.android_url, coalesce(t.tags, '{}'), t.title, t.expired_url, "
         "nullif(t.domain_id, 0), coalesce(t.visits, 0) FROM t ORDER BY t.line "
         "ON CONFLICT ((coalesce(domain_id, 0)), slug) DO NOTHING RETURNING domain_id, slug) "
         "SELECT c.line, c.state, NULL::text, false FROM c "
         "WHERE c.state IN ('duplicate', 'present') OR (c.state = 'taken' AND $2 <> 'rename') "
         "UNION ALL SELECT t.line, t.state, t.target, ins.slug IS NOT NULL FROM t "
         "LEFT JOIN ins ON ins.slug = t.target AND coalesce(ins.domain_id, 0) = t.domain_id "
         "WHERE ins.slug IS NULL OR t.state = 'taken' ORDER BY 1",
         2, STMT_IMPORT},
    /* Before a batch's lines that lost a race are merged again ($1: their line numbers): the rest of the
     * staged lines are done with. The race is most often with the import's other connection, whose batch
     * held the same slug; the merge run again sees that batch committed and says present or taken. */
    [STMT_IMPORT_KEEP] = {"import_keep", "DELETE FROM import_rows WHERE line <> ALL ($1::bigint[])", 1,
                          STMT_IMPORT},
    /* Export: $1 owner, $2 the id the previous page ended at, $3 page size; oldest first, so that an
     * import of the file makes the links in the same order. Visits: the human total (LINK_HUMANS) and the
     * part of it an import brought. */
    [STMT_EXPORT_PAGE] =
        {"export_page",
         "SELECT l.id, l.slug, l.url, (SELECT d.name FROM domains d WHERE d.id = l.domain_id), "
         "l.redirect, " RFC3339("l.created_at") ", " RFC3339(
             "l.expires_at") ", l.disabled, " LINK_HUMANS ", l.imported_visits, "
                             "l.password_hash, l.max_visits, l.forward_query, l.ios_url, "
                             "l.android_url, array_to_string(l.tags, ','), l.title, "
                             "l.expired_url FROM links l WHERE l.owner_id = $1 AND l.id > $2 "
                             "ORDER BY l.id LIMIT $3",
         3, STMT_APP, STMT_READ_OWNER},
    [STMT_OWNER_ID] = {"owner_id", "SELECT id FROM owners WHERE name = $1", 1, STMT_APP},
    /* a bulk create is one transaction on a worker's connection */
    [STMT_TX_BEGIN] = {"tx_begin", "BEGIN", 0, STMT_APP},
    [STMT_TX_COMMIT] = {"tx_commit", "COMMIT", 0, STMT_APP},
    [STMT_TX_ROLLBACK] = {"tx_rollback", "ROLLBACK", 0, STMT_APP},
    /* one key by the number keys list shows; no row: no such key, or revoked already */
    [STMT_KEY_REVOKE_ID] =
        {"key_revoke_id",
         "UPDATE api_keys SET revoked_at = now() FROM owners o WHERE api_keys.owner_id = o.id "
         "AND api_keys.id = $1 AND api_keys.revoked_at IS NULL RETURNING o.name",
         1, STMT_APP},
    /* $1 key ids, $2 seconds since the epoch: a worker's batch of last uses; a later one never goes back */
    [STMT_KEYS_TOUCH] = {"keys_touch",
                         "UPDATE api_keys k SET last_used_at = greatest(k.last_used_at, to_timestamp(u.t)) "
                         "FROM unnest($1::bigint[], $2::bigint[]) AS u(id, t) WHERE k.id = u.id",
                         2, STMT_APP},
    /* Read-your-writes (db.c, 0014_read_lsn.sql): the stamp of the owner's last change, asked of the primary
     * and then of the replica; the replica may answer once its stamp has reached the primary's. */
    [STMT_READ_LSN_OWNER] = {"read_lsn_owner", "SELECT lsn FROM read_lsn WHERE owner_id = $1", 1, STMT_APP},
    /* the same for a link id: its owner's stamp (no row: no such link there yet, or an owner never stamped)
     */
    [STMT_READ_LSN_LINK] = {"read_lsn_link",
                            "SELECT w.lsn FROM links l JOIN read_lsn w ON w.owner_id = l.owner_id "
                            "WHERE l.id = $1",
                            1, STMT_APP},
    /* the database's own id, written into spool files (migration 0013) */
    [STMT_VISITS_SPOOL_ID] = {"visits_spool_id", "SELECT id FROM visit_spool_identity LIMIT 1", 0, STMT_APP},
};
