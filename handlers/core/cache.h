/* The worker's cache of the links the redirect serves: the one entry point the redirect calls, owning the
 * whole policy: kept correct by NOTIFY from the same transaction as every change (see
 * db/migrations/0001_init.sql), emptied whenever the connection that listens is reopened, bounded in age so
 * that a missed notification cannot live long, and still serving links it saw lately while PostgreSQL cannot
 * be reached. */
#ifndef HOP_CACHE_H
#define HOP_CACHE_H

#include <stdbool.h>

struct link;

enum cache_result {
    CACHE_FOUND,
    CACHE_NOT_FOUND,   /* PostgreSQL says there is no such link */
    CACHE_UNAVAILABLE, /* PostgreSQL cannot be asked and no recent copy is kept */
};

enum {
    CACHE_FRESH_MS = 300 * 1000, /* served without asking the database (NOTIFY keeps it right meanwhile) */
    CACHE_STALE_MS = 600 * 1000, /* still served while the database cannot be reached */
};

/* The link named slug on domain domain_id (0: none; slug's characters already checked): from the cache while
 * fresh, else from PostgreSQL, kept for next time. *out is valid until the next cache call. */
enum cache_result cache_lookup(long long domain_id, const char *slug, const struct link **out);
/* Brings the cache (and the domain list) in line with the connection: after a reconnect notifications may
 * have been missed, so both are dropped and the connection subscribed again; then the notifications
 * received are applied. With
 * read_socket, first reads what arrived on the connection's socket (the worker's poll loop); without it no
 * system call is made (the request path). */
void cache_sync(bool read_socket);
/* Forgets every entry. */
void cache_clear(void);
/* Registers the redirect counters before the pool forks: 0 or -1. */
int cache_metrics_define(void);
/* Counts one redirect answered with the link of the last cache_lookup, under where it came from: the cache,
 * PostgreSQL, or a stale copy served while PostgreSQL could not be asked. */
void cache_count_redirect(void);

#endif
