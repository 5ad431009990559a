/* The host's table of links, shared by every worker; see cache.h. The table itself (fcgi-app/shmtable.c)
 * knows nothing of links: this file keeps the policy (fresh, stale, the day of an outage, what NOTIFY and a
 * reconnect do) and turns the fields of a link the redirect reads into bytes and back.
 *
 * Links vary in size (a slug and a URL, or four URLs and a password hash), so the budget is split into four
 * tables of fixed-size slots, and a link lives in the smallest that holds it: most links take 192 bytes,
 * none takes more than 9 KiB, and no table needs an allocator. A lookup asks the smallest first. */
#include "cache.h"

#include "arena.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "db_domains.h"
#include "db_links.h"
#include "domains.h"
#include "log.h"
#include "metrics.h"
#include "shmtable.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    NCLASSES = 4,
    KEY_SLUG_MAX = 255, /* longer slugs are never links (64 at most): asked of PostgreSQL, never kept */
    VALUE_MAX = 9216 - SHMTABLE_SLOT_OVERHEAD,
    MARK_USED_UP = 1, /* PostgreSQL said this limited link has no visits left */
    FETCH_ARENA = 1024,
    TEST_MB = 4, /* mapped when no pool did (unit tests): room for thousands of links, quick to map */
};

/* Slot sizes and their shares of HOP_CACHE_MB (percent): short links are the many. */
static const size_t class_slot[NCLASSES] = {192, 512, 2048, 9216};
static const int class_share[NCLASSES] = {50, 30, 12, 8};

static struct shmtable *tables[NCLASSES];
static unsigned long listening_generation;

/* The fields of a link the redirect reads; strings follow in this order, each NUL-terminated. */
enum { S_URL, S_PASSWORD, S_IOS, S_ANDROID, S_EXPIRED, NSTRINGS };
enum { ABSENT = UINT16_MAX };
struct packed {
    int64_t id, expires_epoch, max_visits;
    int32_t redirect;
    uint8_t disabled, forward_query;
    uint16_t len[NSTRINGS]; /* ABSENT for NULL */
};

struct key {
    int64_t domain_id;
    char slug[KEY_SLUG_MAX];
};

/* The worker's copy of the last link looked up: *out of cache_lookup points here. */
static struct {
    struct link link;
    struct key key;
    size_t klen;
    char slug[KEY_SLUG_MAX + 1];
    _Alignas(8) unsigned char value[VALUE_MAX];
    bool keyed;   /* key is the last lookup's */
    bool used_up; /* the last lookup's link was marked used up */
} last;

enum source { FROM_CACHE, FROM_POSTGRES, FROM_STALE, NSOURCES };
static enum source last_source;
static int m_redirects[NSOURCES] = {-1, -1, -1};
static int m_evictions = -1;

int cache_metrics_define(void)
{
    static const char help[] =
        "Redirects answered, by where the link came from: the host's link table, PostgreSQL, "
        "or a stale copy while PostgreSQL could not be reached.";
    static const char *const labels[NSOURCES] = {"source=\"cache\"", "source=\"postgres\"",
                                                 "source=\"stale\""};
    for (int i = 0; i < NSOURCES; i++) {
        m_redirects[i] = metrics_define("hop_redirects_total", labels[i], METRICS_COUNTER, help);
        if (m_redirects[i] < 0)
            return -1;
    }
    m_evictions = metrics_define("hop_link_table_evictions_total", NULL, METRICS_COUNTER,
                                 "Links the host's link table dropped to make room (HOP_CACHE_MB is full).");
    return m_evictions < 0 ? -1 : 0;
}

void cache_count_redirect(void)
{
    metrics_add(m_redirects[last_source], 1);
}

static int map_tables(size_t mb, bool announce)
{
    size_t slots[NCLASSES];
    for (int c = 0; c < NCLASSES; c++) {
        tables[c] = shmtable_map(mb * 1024 * 1024 / 100 * (size_t)class_share[c], class_slot[c]);
        if (!tables[c]) {
            log_error("cannot map the link table", "mb=%zu", mb);
            return -1;
        }
        struct shmtable_stats st;
        shmtable_stats(tables[c], &st);
        slots[c] = st.slots;
    }
    if (!announce)
        return 0;
    log_info("link table mapped", "mb=%zu slots_192=%zu slots_512=%zu slots_2k=%zu slots_9k=%zu", mb,
             slots[0], slots[1], slots[2], slots[3]);
    if (clock_test_file())
        log_warn("TEST CLOCK IN USE: ages and expiry are shifted by the seconds in HOP_TEST_CLOCK_FILE; "
                 "never set it in production",
                 "file=%s", clock_test_file());
    return 0;
}

int cache_init(void)
{
    return map_tables(config_get()->cache_mb ? (size_t)config_get()->cache_mb : CACHE_MB_DEFAULT, true);
}

/* The unit tests use the cache without a pool: a small table is then mapped at first use, quietly. */
static void ensure_tables(void)
{
    if (!tables[0] && map_tables(TEST_MB, false) < 0)
        abort();
}

/* Fills *k (*klen its length) for domain_id and slug: false when the slug is too long to be kept. */
static bool key_for(long long domain_id, const char *slug, struct key *k, size_t *klen)
{
    size_t n = strlen(slug);
    if (n > KEY_SLUG_MAX)
        return false;
    memset(k, 0, sizeof(*k));
    k->domain_id = domain_id;
    memcpy(k->slug, slug, n);
    *klen = offsetof(struct key, slug) + n;
    return true;
}

/* Fills last.key for domain_id and slug: false when the slug is too long to be kept. */
static bool make_key(long long domain_id, const char *slug)
{
    return key_for(domain_id, slug, &last.key, &last.klen);
}

static void forget_key(const struct key *k, size_t klen)
{
    for (int c = 0; c < NCLASSES; c++)
        shmtable_remove(tables[c], k, klen);
}

static void forget(long long domain_id, const char *slug)
{
    last.keyed = false;
    if (make_key(domain_id, slug))
        forget_key(&last.key, last.klen);
}

void cache_clear(void)
{
    ensure_tables();
    for (int c = 0; c < NCLASSES; c++)
        shmtable_clear(tables[c]);
}

/* "hop_links" says "domain id:slug" of a link that changed; "hop_domains" that the domain list did. Every
 * worker gets every notification and removes the entry from the one table: the first does the work. */
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
    ensure_tables();
    if (db_generation() != listening_generation) {
        /* this connection may have missed notifications, and a worker that stored an entry may have died
         * before its own connection told it the entry was old: nothing in the table is fresh any more, but
         * all of it may still serve while PostgreSQL is away */
        for (int c = 0; c < NCLASSES; c++)
            shmtable_new_epoch(tables[c]);
        domains_invalidate();
        if (db_links_listen() == DB_OK && db_domains_listen() == DB_OK)
            listening_generation = db_generation();
    }
    db_consume(on_notify, read_socket);
}

/* ---- a link into bytes and back ---- */

static size_t put_string(unsigned char *out, size_t at, size_t cap, const char *s, uint16_t *len)
{
    if (!s) {
        *len = ABSENT;
        return at;
    }
    size_t n = strlen(s);
    if (n >= ABSENT || at + n + 1 > cap)
        return cap + 1;
    memcpy(out + at, s, n + 1);
    *len = (uint16_t)n;
    return at + n + 1;
}

/* l's redirect fields into out: the length, or 0 when they do not fit. */
static size_t pack(const struct link *l, unsigned char *out, size_t cap)
{
    struct packed p = {.id = l->id,
                       .expires_epoch = l->expires_epoch,
                       .max_visits = l->max_visits,
                       .redirect = l->redirect,
                       .disabled = l->disabled,
                       .forward_query = l->forward_query};
    const char *strings[NSTRINGS] = {l->url, l->password_hash, l->ios_url, l->android_url, l->expired_url};
    size_t at = sizeof(p);
    for (int i = 0; i < NSTRINGS && at <= cap; i++)
        at = put_string(out, at, cap, strings[i], &p.len[i]);
    if (at > cap)
        return 0;
    memcpy(out, &p, sizeof(p));
    return at;
}

/* last.value (len bytes, from pack) into last.link, pointing into last.value; slug is the one looked up. */
static const struct link *unpack(size_t len, long long domain_id, const char *slug)
{
    struct packed p;
    memcpy(&p, last.value, sizeof(p));
    const char *strings[NSTRINGS];
    size_t at = sizeof(p);
    for (int i = 0; i < NSTRINGS; i++) {
        strings[i] = p.len[i] == ABSENT ? NULL : (const char *)last.value + at;
        at += p.len[i] == ABSENT ? 0 : (size_t)p.len[i] + 1;
    }
    (void)len;
    size_t n = strlen(slug);
    memcpy(last.slug, slug, n + 1);
    last.link = (struct link){.id = p.id,
                              .slug = last.slug,
                              .url = strings[S_URL],
                              .redirect = p.redirect,
                              .expires_epoch = p.expires_epoch,
                              .disabled = p.disabled,
                              .password_hash = strings[S_PASSWORD],
                              .max_visits = p.max_visits,
                              .forward_query = p.forward_query,
                              .ios_url = strings[S_IOS],
                              .android_url = strings[S_ANDROID],
                              .expired_url = strings[S_EXPIRED],
                              .domain_id = domain_id};
    return &last.link;
}

/* ---- the lookup ---- */

/* last.key's entry, copied into last.value, from the smallest table that has it: its table, or -1. */
static int table_get(struct shmtable_entry *e)
{
    for (int c = 0; c < NCLASSES; c++) {
        if (shmtable_get(tables[c], &last.key, last.klen, last.value, sizeof(last.value), e))
            return c;
    }
    return -1;
}

/* Keeps the link just packed into last.value (len bytes) in the smallest table it fits, and in no other. Not
 * kept while this worker does not listen: a change it would not hear of could leave an old copy. */
static void table_put(size_t len, const struct shmtable_stamp *stamps, long long now)
{
    if (listening_generation != db_generation())
        return;
    int c = 0;
    while (c < NCLASSES && last.klen + len > shmtable_item_max(tables[c]))
        c++;
    if (c == NCLASSES)
        return;
    for (int o = 0; o < NCLASSES; o++) {
        if (o != c)
            shmtable_remove(tables[o], &last.key, last.klen);
    }
    if (shmtable_put(tables[c], &last.key, last.klen, last.value, len, now, stamps[c]) == SHMTABLE_EVICTED)
        metrics_add(m_evictions, 1);
}

/* Asks PostgreSQL for the link, packs it into last.value and keeps it: its packed length, or 0 with *rc
 * saying why not (a link too large to keep is served, not kept: *rc is DB_OK and the length nonzero). */
static size_t fetch(long long domain_id, const char *slug, bool keep, long long now, int *rc)
{
    struct shmtable_stamp stamps[NCLASSES];
    for (int c = 0; c < NCLASSES; c++)
        stamps[c] = shmtable_stamp(tables[c], &last.key, last.klen);
    /* packed aside first: on any failure last.value still holds the old copy, which may serve as stale */
    static _Alignas(8) unsigned char packed[VALUE_MAX];
    struct arena *a = arena_new(FETCH_ARENA);
    struct link l;
    *rc = db_link_find(a, domain_id, slug, &l);
    size_t len = *rc == DB_OK ? pack(&l, packed, sizeof(packed)) : 0;
    arena_free(a);
    if (*rc == DB_OK && !len)
        *rc = DB_ERROR; /* longer than any link the API accepts */
    if (len)
        memcpy(last.value, packed, len);
    if (len && keep)
        table_put(len, stamps, now);
    return len;
}

enum cache_result cache_lookup(long long domain_id, const char *slug, const struct link **out)
{
    cache_sync(false);
    bool keep = make_key(domain_id, slug);
    last.keyed = keep;
    long long now = clock_age_ms();
    struct shmtable_entry e = {0};
    int c = keep ? table_get(&e) : -1;
    last.used_up = c >= 0 && (e.marks & MARK_USED_UP);
    if (c >= 0 && e.current && now - e.stored_ms <= CACHE_FRESH_MS) {
        shmtable_touch(tables[c], &e, now);
        last_source = FROM_CACHE;
        *out = unpack(e.len, domain_id, slug);
        return CACHE_FOUND;
    }
    /* the entry (if any) was copied into last.value: a failed fetch below may overwrite it only on success */
    size_t held = c >= 0 ? e.len : 0;
    int rc;
    size_t len = fetch(domain_id, slug, keep, now, &rc);
    if (rc == DB_NOT_FOUND) {
        if (keep)
            forget_key(&last.key, last.klen);
        return CACHE_NOT_FOUND;
    }
    if (rc == DB_OK) {
        last.used_up = false;
        last_source = FROM_POSTGRES;
        *out = unpack(len, domain_id, slug);
        return CACHE_FOUND;
    }
    /* a link served in the last day keeps working while the database is away, however long; others cannot */
    if (c < 0 || now - e.used_ms > CACHE_STALE_MS)
        return CACHE_UNAVAILABLE;
    shmtable_touch(tables[c], &e, now);
    last_source = FROM_STALE;
    *out = unpack(held, domain_id, slug);
    return CACHE_FOUND;
}

/* ---- values that are not links, under names of their own (a domain id no link has) ---- */

enum { BLOB_DOMAIN = -1 };

void cache_blob_put(const char *name, const void *val, size_t len)
{
    ensure_tables();
    struct key k;
    size_t klen;
    if (!key_for(BLOB_DOMAIN, name, &k, &klen))
        return;
    int c = 0;
    while (c < NCLASSES && klen + len > shmtable_item_max(tables[c]))
        c++;
    for (int o = 0; o < NCLASSES; o++) {
        if (o != c)
            shmtable_remove(tables[o], &k, klen);
    }
    if (c < NCLASSES)
        shmtable_put(tables[c], &k, klen, val, len, clock_age_ms(), shmtable_stamp(tables[c], &k, klen));
}

bool cache_blob_get(const char *name, void *buf, size_t cap, size_t *len)
{
    ensure_tables();
    struct key k;
    size_t klen;
    if (!key_for(BLOB_DOMAIN, name, &k, &klen))
        return false;
    struct shmtable_entry e;
    for (int c = 0; c < NCLASSES; c++) {
        if (shmtable_get(tables[c], &k, klen, buf, cap, &e)) {
            shmtable_touch(tables[c], &e, clock_age_ms());
            *len = e.len;
            return true;
        }
    }
    return false;
}

bool cache_used_up(void)
{
    return last.used_up;
}

void cache_note_used_up(void)
{
    if (!last.keyed)
        return;
    for (int c = 0; c < NCLASSES; c++)
        shmtable_mark(tables[c], &last.key, last.klen, MARK_USED_UP);
}
