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
    long long visits; /* 0 from db_link_find, which does not add them up */
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
};

/* The link the redirect serves, by slug, whoever owns it; strings in a. */
int db_link_find(struct arena *a, const char *slug, struct link *out);
/* Inserts; owner_id 0 means none. DB_CONFLICT when the slug is taken. */
int db_link_create(struct arena *a, long long owner_id, const struct link_fields *f, struct link *out);
/* A link of owner_id by slug (DB_NOT_FOUND for another owner's link, exactly as for none). */
int db_link_get(struct arena *a, const char *slug, long long owner_id, struct link *out);
/* Up to limit links of owner_id, newest first, with ids below before_id (0: from the newest). */
int db_link_list(struct arena *a, long long owner_id, long long before_id, int limit, struct link **out,
                 size_t *n);
/* Changes what f sets; DB_NOT_FOUND when owner_id has no such link. */
int db_link_update(struct arena *a, const char *slug, long long owner_id, const struct link_fields *f,
                   struct link *out);
int db_link_delete(const char *slug, long long owner_id);

struct day_count {
    const char *date; /* YYYY-MM-DD */
    long long visits;
};
struct host_count {
    const char *host;
    long long visits;
};
struct link_stats {
    struct day_count *days;
    size_t ndays;
    struct host_count *referrers;
    size_t nreferrers;
    long long total;
};
/* Visits of link_id over the last `days` UTC days (today included): every day, and the top 20 hosts. */
int db_link_stats(struct arena *a, long long link_id, int days, struct link_stats *out);

/* Subscribes the connection to link changes (after every reconnect). */
int db_links_listen(void);

struct visit_batch {
    size_t n;
    const long long *link_id;
    const int *day; /* days since 1970-01-01, UTC */
    const char *const *host;
    const long long *count;
};
/* Adds a batch of counts in one statement. */
int db_visits_add(const struct visit_batch *b);

#endif
