/* The columns of a link, named once: the select list every statement that returns a link uses and, beside
 * it, the enum by which the one decoder (db_links.c) reads a row. Change the two together. */
#ifndef HOP_LINK_COLUMNS_H
#define HOP_LINK_COLUMNS_H

enum link_col {
    LINK_COL_ID,
    LINK_COL_SLUG,
    LINK_COL_URL,
    LINK_COL_REDIRECT,
    LINK_COL_CREATED_AT,
    LINK_COL_EXPIRES_AT,
    LINK_COL_EXPIRES_EPOCH,
    LINK_COL_DISABLED,
    LINK_COL_VISITS,
    LINK_COL_BOT_VISITS,
    LINK_COL_IMPORTED_VISITS,
    LINK_COL_PASSWORD_HASH,
    LINK_COL_MAX_VISITS,
    LINK_COL_VISITS_USED,
    LINK_COL_FORWARD_QUERY,
    LINK_COL_IOS_URL,
    LINK_COL_ANDROID_URL,
    LINK_COL_TAGS,
    LINK_COL_TITLE,
    LINK_COL_EXPIRED_URL,
    LINK_COL_DOMAIN_ID,
    LINK_COL_DOMAIN,
    LINK_NCOLS
};

/* RFC 3339 in UTC, formatted by the database so that C never parses timestamps */
#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The visit totals, humans then bots: the day rows (visit_days keeps every closed day for ever) and the hours
 * of the days not closed yet (visit_hours, each link's hours; 0025). Humans include the total an
 * import brought (the one place that adds them). The redirect's lookup, which needs no totals, passes "0, 0".
 */
/* The start of the first UTC day not yet closed (0016): the day tables hold the days before it. */
#define CLOSED_AT "(SELECT c.day::timestamp AT TIME ZONE 'UTC' FROM visit_close c)"
#define LINK_OPEN_HOURS(col)                                                                                 \
    "coalesce((SELECT sum(v." col ") FROM visit_hours v WHERE v.link_id = l.id "                             \
    "AND v.bucket >= " CLOSED_AT "), 0)"
#define LINK_HUMANS                                                                                          \
    "(coalesce((SELECT sum(v.humans) FROM visit_days v WHERE v.link_id = l.id AND v.dim = 0), 0) "           \
    "+ " LINK_OPEN_HOURS("humans") " + l.imported_visits)"
#define LINK_VISITS                                                                                          \
    LINK_HUMANS ", (coalesce((SELECT sum(v.bots) FROM visit_days v WHERE v.link_id = l.id AND v.dim = 0), "  \
                "0) + " LINK_OPEN_HOURS("bots") ")"

/* clang-format off */
/* One line per column, in enum link_col order, read from the table (or CTE) aliased "l". */
#define LINK_COLUMNS_WITH(visits)                                       \
    "l.id, "                                                            \
    "l.slug, "                                                          \
    "l.url, "                                                           \
    "l.redirect, "                                                      \
    RFC3339("l.created_at") ", "                                        \
    RFC3339("l.expires_at") ", "                                        \
    "coalesce(extract(epoch FROM l.expires_at)::bigint, 0), "           \
    "l.disabled, "                                                      \
    visits ", " /* two columns: visits, bot_visits */                   \
    "l.imported_visits, "                                               \
    "l.password_hash, "                                                 \
    "coalesce(l.max_visits, 0), "                                       \
    "coalesce((SELECT c.used FROM link_claims c "                       \
        "WHERE c.link_id = l.id), 0), "                                 \
    "l.forward_query, "                                                 \
    "l.ios_url, "                                                       \
    "l.android_url, "                                                   \
    "array_to_string(l.tags, ','), "                                    \
    "l.title, "                                                         \
    "l.expired_url, "                                                   \
    "coalesce(l.domain_id, 0), "                                        \
    "(SELECT d.name FROM domains d WHERE d.id = l.domain_id)"
/* clang-format on */

#define LINK_COLUMNS LINK_COLUMNS_WITH(LINK_VISITS)

#endif
