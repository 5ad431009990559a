/* Every SQL statement of hop, in one table. Columns of a link are always returned in LINK_COLUMNS order. */
#include "statements.h"

/* RFC 3339 in UTC, formatted by the database so that C never parses timestamps */
#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define LINK_COLUMNS                                                                                         \
    "l.id, l.slug, l.url, l.redirect, " RFC3339("l.created_at") ", " RFC3339(                                \
        "l.expires_at") ", "                                                                                 \
                        "coalesce(extract(epoch FROM l.expires_at)::bigint, 0), l.disabled, "                \
                        "coalesce((SELECT sum(v.n) FROM visits v WHERE v.link_id = l.id), 0)"

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

    [STMT_PING] = {"ping", "SELECT 1", 0, STMT_APP},
    [STMT_LISTEN] = {"listen", "LISTEN hop_links", 0, STMT_APP},
    /* $1 slug, $2 owner id or NULL, $3 url, $4 redirect, $5 expires_at or NULL */
    [STMT_LINK_INSERT] = {"link_insert",
                          "WITH l AS (INSERT INTO links (slug, owner_id, url, redirect, expires_at) "
                          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING RETURNING *) "
                          "SELECT " LINK_COLUMNS " FROM l",
                          5, STMT_APP},
    /* the redirect's one round trip */
    [STMT_LINK_FIND] =
        {"link_find",
         "SELECT id, url, redirect, coalesce(extract(epoch FROM expires_at)::bigint, 0), disabled "
         "FROM links WHERE slug = $1",
         1, STMT_APP},
    [STMT_LINK_GET] = {"link_get",
                       "SELECT " LINK_COLUMNS " FROM links l WHERE l.slug = $1 AND l.owner_id = $2", 2,
                       STMT_APP},
    /* newest first; $2 is the id the previous page ended at (a keyset, so inserts never shift a page) */
    [STMT_LINK_LIST] = {"link_list",
                        "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 "
                        "AND ($2::bigint IS NULL OR l.id < $2) ORDER BY l.id DESC LIMIT $3",
                        3, STMT_APP},
    /* $3 url, $4 redirect, $7 disabled: NULL keeps the value; $5 says whether to set expires_at to $6 */
    [STMT_LINK_UPDATE] =
        {"link_update",
         "WITH l AS (UPDATE links SET url = coalesce($3, url), redirect = coalesce($4, redirect), "
         "expires_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE expires_at END, "
         "disabled = coalesce($7, disabled) "
         "WHERE slug = $1 AND owner_id = $2 RETURNING *) SELECT " LINK_COLUMNS " FROM l",
         7, STMT_APP},
    [STMT_LINK_DELETE] = {"link_delete", "DELETE FROM links WHERE slug = $1 AND owner_id = $2 RETURNING id",
                          2, STMT_APP},
    /* every UTC day of the window, oldest first, zeros included */
    [STMT_STATS_DAYS] = {"stats_days",
                         "SELECT to_char(d, 'YYYY-MM-DD'), coalesce(sum(v.n), 0) "
                         "FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($2::int - 1), "
                         "(now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d "
                         "LEFT JOIN visits v ON v.link_id = $1 AND v.day = d::date GROUP BY d ORDER BY d",
                         2, STMT_APP},
    [STMT_STATS_REFERRERS] = {"stats_referrers",
                              "SELECT host, sum(n) AS total FROM visits WHERE link_id = $1 "
                              "AND day > (now() AT TIME ZONE 'UTC')::date - $2::int "
                              "GROUP BY host ORDER BY total DESC, host LIMIT 20",
                              2, STMT_APP},
    /* $1 SHA-256 of the key, as bytea */
    [STMT_KEY_AUTH] = {"key_auth",
                       "SELECT owner_id, hash FROM api_keys WHERE hash = $1 AND revoked_at IS NULL", 1,
                       STMT_APP},
    [STMT_OWNER_UPSERT] = {"owner_upsert",
                           "INSERT INTO owners (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = "
                           "excluded.name RETURNING id",
                           1, STMT_APP},
    [STMT_KEY_INSERT] = {"key_insert", "INSERT INTO api_keys (owner_id, hash) VALUES ($1, $2)", 2, STMT_APP},
    [STMT_KEYS_LIST] =
        {"keys_list",
         "SELECT o.name, k.id, " RFC3339("k.created_at") ", " RFC3339(
             "k.revoked_at") " "
                             "FROM owners o JOIN api_keys k ON k.owner_id = o.id ORDER BY o.name, k.id",
         0, STMT_APP},
    [STMT_KEYS_REVOKE] =
        {"keys_revoke",
         "UPDATE api_keys SET revoked_at = now() FROM owners o WHERE api_keys.owner_id = o.id "
         "AND o.name = $1 AND api_keys.revoked_at IS NULL RETURNING api_keys.id",
         1, STMT_APP},
    /* $1 link ids, $2 days, $3 referrer hosts, $4 counts: one batch from the master; rows of links deleted
     * meanwhile are dropped by the join */
    [STMT_VISITS_ADD] = {"visits_add",
                         "INSERT INTO visits (link_id, day, host, n) "
                         "SELECT u.id, u.day, u.host, u.n FROM unnest($1::bigint[], $2::date[], $3::text[], "
                         "$4::bigint[]) AS u(id, day, host, n) JOIN links ON links.id = u.id "
                         "ON CONFLICT (link_id, day, host) DO UPDATE SET n = visits.n + excluded.n",
                         4, STMT_APP},
};
