/* The worker's cache of links for the redirect: kept correct by NOTIFY from the same transaction as every
 * change (see db/migrations/0001_init.sql), emptied whenever the connection that listens is reopened, and
 * bounded in age so that a missed notification cannot live long. */
#ifndef HOP_CACHE_H
#define HOP_CACHE_H

#include <stdbool.h>

enum {
    CACHE_FRESH_MS = 300 * 1000, /* served without asking the database (NOTIFY keeps it right meanwhile) */
    CACHE_STALE_MS = 600 * 1000, /* still served while the database cannot be reached */
};

struct cached_link {
    unsigned long long hash; /* of the slug; 0 marks a free entry */
    char *slug;              /* one allocation: the slug, its NUL, then the url */
    const char *url;
    long long id;
    long long expires_epoch;
    long long fetched_ms;
    int redirect;
    bool disabled;
};

/* The entry for slug, or NULL. */
const struct cached_link *cache_find(const char *slug);
void cache_store(long long id, const char *slug, const char *url, int redirect, long long expires_epoch,
                 bool disabled);
void cache_forget(const char *slug);
void cache_clear(void);

#endif
