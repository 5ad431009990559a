/* A direct-mapped cache of links, private to the worker; see cache.h. */
#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CACHE_SLOTS = 4096 };

static struct cached_link slots[CACHE_SLOTS];

long long cache_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct cached_link *slot_for(const char *slug)
{
    unsigned long long h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)slug; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return &slots[h % CACHE_SLOTS];
}

const struct cached_link *cache_find(const char *slug)
{
    struct cached_link *e = slot_for(slug);
    return e->url && strcmp(e->slug, slug) == 0 ? e : NULL;
}

static void drop(struct cached_link *e)
{
    free(e->url);
    memset(e, 0, sizeof(*e));
}

void cache_store(long long id, const char *slug, const char *url, int redirect, long long expires_epoch,
                 bool disabled)
{
    if (strlen(slug) >= sizeof(((struct cached_link *)0)->slug))
        return;
    struct cached_link *e = slot_for(slug);
    char *copy = strdup(url);
    if (!copy)
        return;
    drop(e);
    e->id = id;
    snprintf(e->slug, sizeof(e->slug), "%s", slug);
    e->url = copy;
    e->redirect = redirect;
    e->expires_epoch = expires_epoch;
    e->disabled = disabled;
    e->fetched_ms = cache_now_ms();
}

void cache_forget(const char *slug)
{
    struct cached_link *e = slot_for(slug);
    if (e->url && strcmp(e->slug, slug) == 0)
        drop(e);
}

void cache_clear(void)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (slots[i].url)
            drop(&slots[i]);
    }
}
