/* Typed queries on links and visits: handlers pass C values and get C values back, never SQL or PGresult. */
#ifndef HOP_DB_LINKS_H
#define HOP_DB_LINKS_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* A link as the API and the redirect see it (decoded from LINK_COLUMNS by one function). */
struct link {
    long long id;
    const char *slug, *url;
    int redirect;
    const char *created_at;  /* RFC 3339, UTC */
    const char *expires_at;  /* RFC 3339, UTC, or NULL for never */
    long long expires_epoch; /* 0 for never */
    bool disabled;
    long long visits;          /* humans; 0 from db_link_find, which does not add them up */
    long long bot_visits;      /* bots, beside visits */
    long long imported_visits; /* the part of visits an import brought (no date: not in any series) */
    const char *password_hash; /* NULL: no password; never leaves hop */
    long long max_visits;      /* 0: unlimited */
    long long visits_used;     /* visits counted against max_visits */
    bool forward_query;
    const char *ios_url, *android_url; /* NULL: none */
    const char **tags;                 /* sorted */
    size_t ntags;
    const char *title;       /* NULL: none */
    const char *expired_url; /* NULL: none */
    long long domain_id;     /* 0: no domain (the instance has none) */
    const char *domain;      /* its name, or NULL */
};

/* What a create sets, or what a change changes: for a change, NULL, 0 and false `set_` flags keep the
 * stored value; for a create they mean the default. */
struct link_fields {
    const char *slug; /* create only */
    const char *url;
    int redirect; /* 0: 302 on create */
    bool set_expires;
    const char *expires_at; /* RFC 3339; NULL (with set_expires): never */
    bool set_disabled, disabled;
    bool set_password;
    const char *password;      /* as given; the handler turns it into password_hash */
    const char *password_hash; /* with set_password; NULL clears */
    bool set_max_visits;
    long long max_visits; /* with set_max_visits; 0 clears */
    bool set_forward_query, forward_query;
    bool set_targets; /* the two are replaced together */
    const char *ios_url, *android_url;
    bool set_tags; /* replaced whole */
    const char **tags;
    size_t ntags;
    bool set_title;
    const char *title; /* with set_title; NULL clears */
    bool set_expired_url;
    const char *expired_url; /* with set_expired_url; NULL clears */
    bool reuse;              /* create: answer the owner's live link for the same url if there is one */
    const char *domain;      /* as given (create), NULL: the default; the handler resolves it */
    long long domain_id;     /* the domain the link is made on (create) or is on (change); 0: none */
};

/* The link the redirect serves, by domain (0: none) and slug, whoever owns it; strings in a. */
int db_link_find(struct arena *a, long long domain_id, const char *slug, struct link *out);
/* Inserts; owner_id 0 means none. DB_CONFLICT when the slug is taken. */
int db_link_create(struct arena *a, long long owner_id, const struct link_fields *f, struct link *out);
/* owner_id's newest live link (not disabled, expired or used up) to url, with that slug unless slug is
 * NULL: DB_OK, or DB_NOT_FOUND. */
int db_link_reuse(struct arena *a, long long owner_id, long long domain_id, const char *url, const char *slug,
                  struct link *out);
/* A link of owner_id by domain and slug (DB_NOT_FOUND for another owner's link, exactly as for none). */
int db_link_get(struct arena *a, long long domain_id, const char *slug, long long owner_id, struct link *out);
/* What a list keeps: the links that carry every one of tags (folded to lower case) and, when pattern is
 * not NULL, whose slug, url or title in lower case matches it (a LIKE pattern, its wildcards escaped by the
 * caller). */
struct link_filter {
    const char *const *tags;
    size_t ntags;
    const char *pattern;
    bool short_q; /* the q behind pattern has fewer than 3 characters: no trigram narrows it */
};
/* Up to limit links of owner_id that pass f (NULL: all), newest first, with ids below before_id (0: from
 * the newest). */
int db_link_list(struct arena *a, long long owner_id, const struct link_filter *f, long long before_id,
                 int limit, struct link **out, size_t *n);

struct tag_count {
    const char *tag;
    long long links;
};
/* Every tag of owner_id's links, by name, with the number of links that carry it. */
int db_tags_count(struct arena *a, long long owner_id, struct tag_count **out, size_t *n);
/* Changes what f sets on the link slug of f->domain_id; DB_NOT_FOUND when owner_id has no such link. */
int db_link_update(struct arena *a, const char *slug, long long owner_id, const struct link_fields *f,
                   struct link *out);
int db_link_delete(long long domain_id, const char *slug, long long owner_id);
/* Uses one visit of a limited link: DB_OK when granted, DB_NOT_FOUND when its visits are used up (or it is
 * gone, or no longer limited: the caller's copy is stale then, and NOTIFY is on its way). */
int db_link_claim(long long link_id);
/* Whether a limited link has a visit left, without using it: DB_OK or DB_NOT_FOUND. */
int db_link_has_visits_left(long long link_id);

/* Subscribes the connection to link changes (after every reconnect). */
int db_links_listen(void);

/* The dimensions of the hours (visit_hours.dims, 0025); stored as numbers, so only ever append. */
enum visit_dim {
    VISIT_DIM_TOTAL,
    VISIT_DIM_REFERRER,
    VISIT_DIM_COUNTRY,
    VISIT_DIM_DEVICE,
    VISIT_DIM_BROWSER,
    VISIT_DIM_OS,
    VISIT_DIM_UTM_SOURCE,
    VISIT_DIM_UTM_MEDIUM,
    VISIT_DIM_UTM_CAMPAIGN,
    VISIT_NDIMS
};
/* Each dimension's value for "none" (no referrer, no UTM value, an unknown country, a bot's device, a browser
 * or OS not recognized). Its rows are not written: a dimension's none count is its total less the values
 * written, as the stats read it (STMT_STATS_TOP_*), so a visit that carries no referrer and no UTM values
 * costs five rows fewer. Rows of these values written before (by older builds) are read the same way. */
static inline const char *visit_dim_none(int dim)
{
    switch (dim) {
    case VISIT_DIM_COUNTRY:
        return "unknown";
    case VISIT_DIM_DEVICE:
        return "bot";
    case VISIT_DIM_BROWSER:
    case VISIT_DIM_OS:
        return "other";
    default:
        return "";
    }
}

/* Rows of counts for the hours, n of each, one per key (link, hour, dimension, value), in any order: the
 * statement sends each link-hour's rows as one element (0027's visit_hours_put), and keeps rows of the
 * same key as two entries of its hour. */
struct visit_rows {
    size_t n;
    long long *link_id;
    int *hour; /* hours since 1970-01-01T00:00Z */
    int *dim;  /* enum visit_dim */
    const char **value;
    long long *humans, *bots;
    long long batch_id;      /* recorded with the rows, in the same statement: a batch is counted once */
    const long long *forget; /* ids of batches that will never be sent again, nforget of them */
    size_t nforget;
};
/* Adds a batch of counts in one statement: DB_OK, DB_CONFLICT when the batch's id was applied already
 * (nothing was added), or a failure. */
int db_visits_add(const struct visit_rows *b);
/* The same without waiting for PostgreSQL (db_internal.h's db_send): DB_OK when sent, else a failure with
 * nothing executed. Nothing else may use the connection until db_visits_result has answered. */
int db_visits_send(const struct visit_rows *b);
/* db_visits_add's answer to the batch sent: DB_BUSY while it has not arrived (wait false). */
int db_visits_result(bool wait);
/* With the master's window (HOP_VISITS_WINDOW_MS, migration 0021): a batch written to the log instead of the
 * counters (b for its id and the ids to forget), in parts: data holds the parts' encodings one after the
 * other, off and len say where each is (nparts of them), writer is the master's (db_visits_writer).
 * Answered by db_visits_result as db_visits_send's batch is. */
struct visit_log_enc {
    const unsigned char *data;
    size_t size;
    const int *off, *len;
    int nparts;
    long long writer;
};
int db_visits_log_send(const struct visit_rows *b, const struct visit_log_enc *e);
int db_visits_log_add(const struct visit_rows *b, const struct visit_log_enc *e);
/* Holds writer as a session advisory lock on this connection: DB_OK, DB_NOT_FOUND when another session
 * holds it, or a failure. */
int db_visits_writer(long long writer);
/* A part's sum added to the counters with the log rows it sums (ids) taken out, in one statement: DB_OK,
 * else nothing was done (DB_ERROR too when a log row was gone) or, the connection lost, it is unknown. With
 * DB_OK, *pg_ms is what the statement took in PostgreSQL, in milliseconds. */
int db_visits_apply(int part, const struct visit_rows *rows, const long long *ids, size_t nids,
                    double *pg_ms);
/* The same sent without waiting, as db_visits_send; its answer from db_visits_apply_result (DB_BUSY while it
 * has not arrived). */
int db_visits_apply_send(int part, const struct visit_rows *rows, const long long *ids, size_t nids);
int db_visits_apply_result(bool wait, double *pg_ms);
/* Calls fn for each log row of part among ids still there (a failed apply's part is rebuilt from them), or
 * with age_ms > 0 (part ignored), for up to limit rows older than that which none of ids names. */
typedef void (*db_log_row_fn)(void *ctx, long long id, int part, const unsigned char *data, size_t len);
int db_visits_log_read(int part, const long long *ids, size_t nids, db_log_row_fn fn, void *ctx);
int db_visits_orphans(long long age_ms, const long long *ids, size_t nids, int limit, db_log_row_fn fn,
                      void *ctx);
/* The database's spool identity (migration 0013), 36 characters and a NUL: DB_OK or a failure. */
int db_visits_spool_id(char out[37]);
/* Closes the UTC days that ended by the database's clock: their hours added to the day, month and span
 * summaries (migration 0016). DB_OK with the first day open before (*was) and after (*open_day), in days
 * since 1970-01-01, or a failure: DB_LOCKED when a lock it needs was held for more than 500 ms. */
int db_visits_close(long long *was, long long *open_day);
/* Rolls hourly counts of days that ended more than days days ago into daily counts (UTC days); DB_LOCKED as
 * db_visits_close. */
int db_visits_rollup(int days);

#endif
