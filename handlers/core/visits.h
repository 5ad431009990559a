/* Visit counting without a write on the redirect's path. Each worker counts into its own tables of counters
 * in memory shared with the master, one counter per (link, UTC hour, the visit's tuple of dimension values:
 * human or bot, referrer host, country, device, browser, OS, UTM source/medium/campaign), so a popular link
 * costs one lookup and one atomic add per visit and no space. The master drains the counters every tick,
 * adds them up, explodes each tuple into one row per dimension and writes one batch to PostgreSQL. A worker
 * killed outright loses nothing it counted; a graceful stop flushes all. */
#ifndef HOP_VISITS_H
#define HOP_VISITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer text values (referrer host, UTM values) are counted under their first VISITS_VALUE_MAX bytes. */
enum { VISITS_VALUE_MAX = 63, VISITS_HOST_MAX = VISITS_VALUE_MAX };

enum visits_utm { VISITS_UTM_SOURCE, VISITS_UTM_MEDIUM, VISITS_UTM_CAMPAIGN, VISITS_NUTM };

/* One visit as counted: nothing here names a person. Zero it before filling it (it is compared bytewise);
 * an empty string is "none" (for the country: unknown). */
struct visit {
    uint8_t bot;
    uint8_t device, browser, os; /* ua.h's indices */
    char country[4];             /* ISO 3166-1 alpha-2, upper case */
    char host[VISITS_VALUE_MAX + 1];
    char utm[VISITS_NUTM][VISITS_VALUE_MAX + 1];
};

/* In the master before forking: maps the tables of every worker slot and registers the visit metrics. */
int visits_init(int nslots);
/* In a worker: counts into this slot's tables from now on. */
void visits_attach(int slot);
/* In a worker: counts one visit of link_id in this UTC hour. */
void visits_add(long long link_id, const struct visit *v);
/* In the master, every tick: drains the counters, lands the batch PostgreSQL was writing, sends the next one
 * when due, and about once an hour rolls hourly counts older than HOP_ANALYTICS_HOURLY_DAYS into daily ones
 * and closes the UTC days that ended. final (a graceful stop) waits for every answer and retries for a
 * while. */
void visits_flush(bool final);

#endif
