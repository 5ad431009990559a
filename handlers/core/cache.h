/* The host's table of the links the redirect serves, in memory shared by every worker (one copy per host; a
 * link one worker asked PostgreSQL for serves them all), and the one entry point the redirect calls, owning
 * the whole policy: kept correct by NOTIFY from the same transaction as every change (see
 * db/migrations/0001_init.sql), not trusted as fresh after any worker's connection is reopened, bounded in
 * age so that a missed notification cannot live long, and still serving every link served in the last day
 * while PostgreSQL cannot be reached, however long that lasts. Sized in bytes by HOP_CACHE_MB. */
#ifndef HOP_CACHE_H
#define HOP_CACHE_H

#include <stdbool.h>
#include <stddef.h>

struct link;

enum cache_result {
    CACHE_FOUND,
    CACHE_NOT_FOUND,   /* PostgreSQL says there is no such link */
    CACHE_UNAVAILABLE, /* PostgreSQL cannot be asked and the link was not served in the last day */
};

enum {
    CACHE_FRESH_MS = 300 * 1000, /* served without asking the database (NOTIFY keeps it right meanwhile) */
    /* while the database cannot be reached, a link served within this long is still served (and each
     * redirect counts as served: a link in use keeps working through an outage of any length) */
    CACHE_STALE_MS = 24 * 3600 * 1000,
    CACHE_MB_DEFAULT = 64, /* HOP_CACHE_MB: about 170,000 short links (README, "Configuration") */
};

/* In the master before the pool forks: maps the table (HOP_CACHE_MB); 0, or -1 logged. Also says loudly when
 * the test clock (HOP_TEST_CLOCK_FILE) is in use. */
int cache_init(void);
/* The link named slug on domain domain_id (0: none; slug's characters already checked): from the table while
 * fresh, else from PostgreSQL, kept for next time. *out is valid until the next cache call. */
enum cache_result cache_lookup(long long domain_id, const char *slug, const struct link **out);
/* Brings the cache (and the domain list) in line with the connection: after a reconnect notifications may
 * have been missed, so nothing kept is fresh any more (it may still serve while PostgreSQL is away), the
 * domain list is dropped and the connection subscribed again; then the notifications received are applied.
 * With read_socket, first reads what arrived on the connection's socket (the worker's poll loop); without it
 * no system call is made (the request path). */
void cache_sync(bool read_socket);
/* Forgets every entry (of every worker). */
void cache_clear(void);
/* Registers the redirect and link-table counters before the pool forks: 0 or -1. */
int cache_metrics_define(void);
/* Counts one redirect answered with the link of the last cache_lookup, under where it came from: the table,
 * PostgreSQL, or a stale copy served while PostgreSQL could not be asked. */
void cache_count_redirect(void);
/* Whether the link of the last cache_lookup is known to have no visits left (PostgreSQL said so since it was
 * last fetched): while PostgreSQL is away, such a link answers as used up rather than unavailable. */
bool cache_used_up(void);
/* Records that PostgreSQL said the link of the last cache_lookup has no visits left. */
void cache_note_used_up(void);
/* A value that is not a link, kept for the host under name (the last domain list read, for a worker that
 * starts while PostgreSQL is away): stored as is, replacing any; got into buf (at most cap bytes), true when
 * there is one and it fits. */
void cache_blob_put(const char *name, const void *val, size_t len);
bool cache_blob_get(const char *name, void *buf, size_t cap, size_t *len);

#endif
