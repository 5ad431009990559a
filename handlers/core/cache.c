/* A set-associative cache of links, private to the worker; see cache.h. Four ways per set keep a working
 * set of popular links from evicting each other the way a direct-mapped table would. Each entry owns a
 * small arena the link is decoded into, so the cache never needs to know a link's fields. */
#include "cache.h"

#include "arena.h"
#include "clock.h"
#include "db.h"
#include "db_domains.h"
#include "db_links.h"
#include "domains.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

enum { CACHE_SETS = 4096, CACHE_WAYS = 4, ENTRY_ARENA = 256 };

struct entry {
    unsigned long long hash; /* of the domain and slug; 0 marks a free entry */
    struct arena *arena;     /* holds the link's strings */
    struct link link;
    long long fetched_ms;
};

static struct entry entries[CACHE_SETS][CACHE_WAYS];
static unsigned long listening_generation;

enum source { FROM_CACHE, FROM_POSTGRES, FROM_STALE, NSOURCES };
static enum source last_source;
static int m_redirects[NSOURCES] = {-1, -1, -1};

int cache_metrics_define(void)
{
    static const char help[] =
        "Redirects answered, by where the link came from: the worker's cache, PostgreSQL, "
        "or a stale copy while PostgreSQL could not be reached.";
    static const char *const labels[NSOURCES] = {"source=\"cache\"", "source=\"postgres\"",
                                                 "source=\"stale\""};
    for (int i = 0; i < NSOURCES; i++) {
        m_redirects[i] = metrics_define("hop_redirects_total", labels[i], METRICS_COUNTER, help);
        if (m_redirects[i] < 0)
            return -1;
    }
    return 0;
}

void cache_count_redirect(void)
{
    metrics_add(m_redirects[last_source], 1);
}

static unsigned long long slug_hash(long long domain_id, const char *slug)
{
    unsigned long long h = 1469598103934665603ULL ^ ((unsigned long long)domain_id * 0x9e3779b97f4a7c15ULL);
    for (const unsigned char *p = (const unsigned char *)slug; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ? h : 1;
}

static struct entry *find(long long domain_id, const char *slug, unsigned long long h)
{
    struct entry *set = entries[h % CACHE_SETS];
    for (int w = 0; w < CACHE_WAYS; w++) {
        if (set[w].hash == h && set[w].link.domain_id == domain_id && strcmp(set[w].link.slug, slug) == 0)
            return &set[w];
    }
    return NULL;
}

static void drop(struct entry *e)
{
    if (e->arena)
        arena_free(e->arena);
    memset(e, 0, sizeof(*e));
}

/* The entry to fill for slug: its own, a free way, else the one fetched longest ago. */
static struct entry *victim(long long domain_id, const char *slug, unsigned long long h)
{
    struct entry *e = find(domain_id, slug, h);
    if (e)
        return e;
    struct entry *set = entries[h % CACHE_SETS];
    e = &set[0];
    for (int w = 0; w < CACHE_WAYS && e->hash; w++) {
        if (!set[w].hash || set[w].fetched_ms < e->fetched_ms)
            e = &set[w];
    }
    return e;
}

static void forget(long long domain_id, const char *slug)
{
    struct entry *e = find(domain_id, slug, slug_hash(domain_id, slug));
    if (e)
        drop(e);
}

void cache_clear(void)
{
    for (size_t s = 0; s < CACHE_SETS; s++) {
        for (int w = 0; w < CACHE_WAYS; w++) {
            if (entries[s][w].hash)
                drop(&entries[s][w]);
        }
    }
}

/* "hop_links" says "domain id:slug" of a link that changed; "hop_domains" that the domain list did. */
static void on_notify(const char *channel, const char *payload)
{
    if (strcmp(channel, "hop_domains") == 0) {
        domains_invalidate();
        return;
    }
    char *colon;
    long long domain_id = strtoll(payload, &colon, 10);
    if (strcmp(channel, "hop_links") == 0 && *colon == ':')
        forget(domain_id, colon + 1);
}

void cache_sync(bool read_socket)
{
    if (db_generation() != listening_generation) {
        cache_clear();
        domains_invalidate();
        if (db_links_listen() == DB_OK && db_domains_listen() == DB_OK)
            listening_generation = db_generation();
    }
    db_consume(on_notify, read_socket);
}

/* Asks PostgreSQL for slug: the entry it now fills, or NULL with *rc saying why not. */
static struct entry *fetch(long long domain_id, const char *slug, unsigned long long h, int *rc)
{
    struct arena *a = arena_new(ENTRY_ARENA);
    struct link l;
    *rc = db_link_find(a, domain_id, slug, &l);
    if (*rc != DB_OK) {
        arena_free(a);
        return NULL;
    }
    struct entry *e = victim(domain_id, slug, h);
    drop(e);
    *e = (struct entry){.hash = h, .arena = a, .link = l, .fetched_ms = clock_coarse_ms()};
    return e;
}

enum cache_result cache_lookup(long long domain_id, const char *slug, const struct link **out)
{
    cache_sync(false);
    unsigned long long h = slug_hash(domain_id, slug);
    struct entry *e = find(domain_id, slug, h);
    long long age = e ? clock_coarse_ms() - e->fetched_ms : 0;
    if (!e || age > CACHE_FRESH_MS) {
        int rc;
        struct entry *fresh = fetch(domain_id, slug, h, &rc);
        if (rc == DB_NOT_FOUND) {
            forget(domain_id, slug);
            return CACHE_NOT_FOUND;
        }
        /* a link seen lately keeps working while the database is away; others cannot */
        if (!fresh && (!e || age > CACHE_STALE_MS))
            return CACHE_UNAVAILABLE;
        last_source = fresh ? FROM_POSTGRES : FROM_STALE;
        if (fresh)
            e = fresh;
    } else {
        last_source = FROM_CACHE;
    }
    *out = &e->link;
    return CACHE_FOUND;
}
