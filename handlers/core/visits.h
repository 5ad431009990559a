/* Visit counting without a write on the redirect's path. Each worker counts into its own tables of counters
 * in memory shared with the master, one counter per (link, UTC day, referrer host), so a popular link costs
 * one atomic add per visit and no space. The master drains the counters every tick, adds them up and writes
 * one batch to PostgreSQL. A worker killed outright loses nothing it counted; a graceful stop flushes all. */
#ifndef HOP_VISITS_H
#define HOP_VISITS_H

#include <stdbool.h>
#include <stddef.h>

/* Longer referrer host names are counted under their first VISITS_HOST_MAX bytes. */
enum { VISITS_HOST_MAX = 63 };

/* In the master before forking: maps the tables of every worker slot and registers the visit metrics. */
int visits_init(int nslots);
/* In a worker: counts into this slot's tables from now on. */
void visits_attach(int slot);
/* In a worker: counts one visit of link_id today (UTC) from referrer host (lower case, may be empty). */
void visits_add(long long link_id, const char *host, size_t host_len);
/* In the master: drains the counters and writes what was counted. final retries for a while (graceful stop).
 */
void visits_flush(bool final);

#endif
