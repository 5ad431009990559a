/* Every SQL statement of hop, in one table. Every statement that returns links returns
 * LINK_COLUMNS (link_columns.h). */
#include "statements.h"

#include "link_columns.h"

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
                            "0") " FROM links l "
                                 "WHERE coalesce(l.domain_id, 0) = $2 AND l.slug = $1",
                        2, STMT_APP},
    [STMT_LINK_GET] = {"link_get",
                       "SELECT " LINK_COLUMNS " FROM links l WHERE coalesce(l.domain_id, 0) = $3 "
                       "AND l.slug = $1 AND l.owner_id = $2",
                       3, STMT_APP},
    /* $1 owner, $2 url, $3 slug or NULL, $4 domain id (0: none): the newest live link on that domain (md5
     * because urls may outgrow a btree entry) */
    [STMT_LINK_REUSE] =
        {"link_reuse",
         "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 AND md5(l.url) = md5($2) "
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
    [STMT_LINK_LIST] = {"link_list",
                        "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 AND l.id < $2 "
                        "ORDER BY l.id DESC LIMIT $3",
                        3, STMT_APP},
    /* $3 the tags every link must carry (links_owner_tags) */
    [STMT_LINK_LIST_TAGGED] = {"link_list_tagged",
                               "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 AND l.id < $2 "
                               "AND l.tags @> $3::text[] ORDER BY l.id DESC LIMIT $4",
                               4, STMT_APP_REPLAN},
    /* $3 a LIKE pattern in lower case, on search_text: slug, url and title folded to lower case once,
     * when the link is written (0010), and indexed by links_owner_search. A q of 2 characters cannot use
     * that index and reads every one of the owner's links, so no per-row work is left but the match.
     * $4 tags as in link_list_tagged ('{}': any) */
    [STMT_LINK_SEARCH] = {"link_search",
                          "SELECT " LINK_COLUMNS " FROM links l WHERE l.owner_id = $1 AND l.id < $2 "
                          "AND l.search_text LIKE $3 "
                          "AND l.tags @> $4::text[] ORDER BY l.id DESC LIMIT $5",
                          5, STMT_APP_REPLAN},
    /* the owner's tags by name, each with the number of links that carry it */
    [STMT_TAGS_COUNT] = {"tags_count",
                         "SELECT t, count(*) FROM links l CROSS JOIN LATERAL unnest(l.tags) AS t "
                         "WHERE l.owner_id = $1 GROUP BY t ORDER BY t",
                         1, STMT_APP},
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
    /* $1 SHA-256 of the session id: its owner while it is unexpired and its key unrevoked */
    [STMT_SESSION_AUTH] =
        {"session_auth",
         "SELECT s.owner_id, " RFC3339(
             "s.expires_at") " FROM sessions s "
                             "JOIN api_keys k ON k.id = s.key_id "
                             "WHERE s.hash = $1 AND s.expires_at > now() AND k.revoked_at IS NULL",
         1, STMT_APP},
    [STMT_SESSION_DELETE] = {"session_delete", "DELETE FROM sessions WHERE hash = $1", 1, STMT_APP},
    /* $1 link ids, $2 days, $3 referrer hosts, $4 counts: one batch from the master; rows of links deleted
     * meanwhile are dropped by the join */
    [STMT_VISITS_ADD] = {"visits_add",
                         "INSERT INTO visits (link_id, day, host, n) "
                         "SELECT u.id, u.day, u.host, u.n FROM unnest($1::bigint[], $2::date[], $3::text[], "
                         "$4::bigint[]) AS u(id, day, host, n) JOIN links ON links.id = u.id "
                         "ON CONFLICT (link_id, day, host) DO UPDATE SET n = visits.n + excluded.n",
                         4, STMT_APP},
};
