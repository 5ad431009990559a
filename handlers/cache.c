/* A set-associative cache of links, private to the worker; see cache.h. Four ways per set keep a working
 * set of popular links from evicting each other the way a direct-mapped table would. */
#include "cache.h"

#include "clock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CACHE_SETS = 4096, CACHE_WAYS = 4 };

static struct cached_link entries[CACHE_SETS][CACHE_WAYS];

static unsigned long long slug_hash(const char *slug)
{
    unsigned long long h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)slug; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ? h : 1;
}

static struct cached_link *lookup(const char *slug, unsigned long long h)
{
    struct cached_link *set = entries[h % CACHE_SETS];
    for (int w = 0; w < CACHE_WAYS; w++) {
        if (set[w].hash == h && strcmp(set[w].slug, slug) == 0)
            return &set[w];
    }
    return NULL;
}

const struct cached_link *cache_find(const char *slug)
{
    return lookup(slug, slug_hash(slug));
}

static void drop(struct cached_link *e)
{
    free(e->slug);
    memset(e, 0, sizeof(*e));
}

void cache_store(long long id, const char *slug, const char *url, int redirect, long long expires_epoch,
                 bool disabled)
{
    unsigned long long h = slug_hash(slug);
    struct cached_link *e = lookup(slug, h);
    if (!e) {
        /* a free way, else the one fetched longest ago */
        struct cached_link *set = entries[h % CACHE_SETS];
        e = &set[0];
        for (int w = 0; w < CACHE_WAYS && e->hash; w++) {
            if (!set[w].hash || set[w].fetched_ms < e->fetched_ms)
                e = &set[w];
        }
    }
    size_t slen = strlen(slug), ulen = strlen(url);
    char *blob = malloc(slen + ulen + 2);
    if (!blob)
        return;
    memcpy(blob, slug, slen + 1);
    memcpy(blob + slen + 1, url, ulen + 1);
    drop(e);
    *e = (struct cached_link){.hash = h,
                              .slug = blob,
                              .url = blob + slen + 1,
                              .id = id,
                              .redirect = redirect,
                              .expires_epoch = expires_epoch,
                              .disabled = disabled,
                              .fetched_ms = clock_coarse_ms()};
}

void cache_forget(const char *slug)
{
    struct cached_link *e = lookup(slug, slug_hash(slug));
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
