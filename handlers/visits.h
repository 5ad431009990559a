/* Visit counting without a write on the redirect's path: each worker appends visits to its own ring in
 * memory shared with the master; the master drains the rings, adds up, and writes one batch to PostgreSQL
 * every tick. A worker killed outright loses nothing it appended; a graceful stop flushes everything. */
#ifndef HOP_VISITS_H
#define HOP_VISITS_H

#include <stdbool.h>
#include <stddef.h>

enum { VISITS_HOST_MAX = 111 };

/* In the master before forking: maps one ring per worker slot. */
int visits_init(int nslots);
/* In a worker: appends to this slot's ring from now on. */
void visits_attach(int slot);
/* In a worker: counts one visit of link_id today (UTC) from referrer host (lower case, may be empty). */
void visits_add(long long link_id, const char *host, size_t host_len);
/* In the master: drains the rings and writes what was counted. final retries for a while (graceful stop). */
void visits_flush(bool final);
/* Visits dropped because a ring or the master's buffer was full (each drop is logged). */
unsigned long long visits_dropped(void);

#endif
