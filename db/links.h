/* Typed queries on links and visits: handlers pass C values and get C values back, never SQL or PGresult. */
#ifndef HOP_DB_LINKS_H
#define HOP_DB_LINKS_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

struct link {
    long long id;
    const char *slug, *url;
    int redirect;
    const char *created_at;  /* RFC 3339, UTC */
    const char *expires_at;  /* RFC 3339, UTC, or NULL for never */
    long long expires_epoch; /* 0 for never */
    bool disabled;
    long long visits;
};

/* The fields the redirect needs (id, url, redirect, expires_epoch, disabled); strings in a. */
int db_link_find(struct arena *a, const char *slug, struct link *out);
/* Inserts; owner_id 0 means none, expires_at NULL means never. DB_CONFLICT when the slug is taken. */
int db_link_create(struct arena *a, long long owner_id, const char *slug, const char *url, int redirect,
                   const char *expires_at, struct link *out);
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
