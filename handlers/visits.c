/* Shared-memory visit rings and the master's batch writer; see visits.h. */
#include "visits.h"

#include "links.h"
#include "log.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { RING_SIZE = 2048, AGG_SIZE = 16384, FINAL_TRIES = 25 };

struct record {
    int64_t link_id;
    int32_t day;
    uint8_t host_len;
    char host[VISITS_HOST_MAX + 1];
};

/* One writer (the worker of the slot) and one reader (the master): head and tail are the only shared state.
 */
struct ring {
    _Atomic uint64_t head, tail, dropped;
    uint64_t dropped_seen; /* master's own: drops already logged */
    struct record rec[RING_SIZE];
};

struct agg_entry {
    int64_t link_id; /* 0: empty */
    int32_t day;
    long long count;
    char host[VISITS_HOST_MAX + 1];
};

static struct ring *rings;
static int nrings;
static struct ring *mine;

/* the master's sums, not yet written */
static struct agg_entry *agg;
static size_t *agg_used;
static size_t nagg;
static unsigned long long dropped_total;

int visits_init(int nslots)
{
    size_t size = sizeof(struct ring) * (size_t)nslots;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_error("cannot map the visit rings", "bytes=%zu", size);
        return -1;
    }
    rings = p;
    nrings = nslots;
    agg = calloc(AGG_SIZE, sizeof(*agg));
    agg_used = calloc(AGG_SIZE, sizeof(*agg_used));
    if (!agg || !agg_used) {
        log_error("out of memory", "%s", "");
        return -1;
    }
    return 0;
}

void visits_attach(int slot)
{
    mine = slot >= 0 && slot < nrings ? &rings[slot] : NULL;
    /* the master's private sums are not the worker's business */
    free(agg);
    free(agg_used);
    agg = NULL;
    agg_used = NULL;
}

void visits_add(long long link_id, const char *host, size_t host_len)
{
    if (!mine)
        return;
    uint64_t h = atomic_load_explicit(&mine->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&mine->tail, memory_order_acquire);
    if (h - t >= RING_SIZE) {
        atomic_fetch_add_explicit(&mine->dropped, 1, memory_order_relaxed);
        return;
    }
    struct record *r = &mine->rec[h % RING_SIZE];
    r->link_id = link_id;
    r->day = (int32_t)(time(NULL) / 86400);
    if (host_len > VISITS_HOST_MAX)
        host_len = VISITS_HOST_MAX;
    r->host_len = (uint8_t)host_len;
    memcpy(r->host, host, host_len);
    r->host[host_len] = '\0';
    atomic_store_explicit(&mine->head, h + 1, memory_order_release);
}

static uint64_t hash_key(int64_t id, int32_t day, const char *host)
{
    uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)day;
    for (const char *p = host; *p; p++)
        x = (x ^ (unsigned char)*p) * 0x100000001b3ULL;
    return x;
}

/* Adds one record to the sums; 0, or -1 when the buffer is full (the record stays in its ring). */
static int agg_add(const struct record *r)
{
    size_t mask = AGG_SIZE - 1, i = hash_key(r->link_id, r->day, r->host) & mask;
    for (size_t probes = 0; probes < AGG_SIZE; probes++, i = (i + 1) & mask) {
        struct agg_entry *e = &agg[i];
        if (e->link_id == 0) {
            /* keep a quarter free so that probing stays short */
            if (nagg >= AGG_SIZE * 3 / 4)
                return -1;
            e->link_id = r->link_id;
            e->day = r->day;
            memcpy(e->host, r->host, (size_t)r->host_len + 1);
            e->count = 0;
            agg_used[nagg++] = i;
        }
        if (e->link_id == r->link_id && e->day == r->day && strcmp(e->host, r->host) == 0) {
            e->count++;
            return 0;
        }
    }
    return -1;
}

static void drain_rings(void)
{
    for (int s = 0; s < nrings; s++) {
        struct ring *g = &rings[s];
        uint64_t h = atomic_load_explicit(&g->head, memory_order_acquire);
        uint64_t t = atomic_load_explicit(&g->tail, memory_order_relaxed);
        while (t < h && agg_add(&g->rec[t % RING_SIZE]) == 0)
            t++;
        atomic_store_explicit(&g->tail, t, memory_order_release);
        uint64_t d = atomic_load_explicit(&g->dropped, memory_order_relaxed);
        if (d != g->dropped_seen) {
            dropped_total += d - g->dropped_seen;
            log_error("visits dropped", "slot=%d dropped=%llu total=%llu", s,
                      (unsigned long long)(d - g->dropped_seen), dropped_total);
            g->dropped_seen = d;
        }
    }
}

static int write_batch(void)
{
    if (nagg == 0)
        return 0;
    long long *ids = malloc(nagg * sizeof(*ids)), *counts = malloc(nagg * sizeof(*counts));
    int *days = malloc(nagg * sizeof(*days));
    const char **hosts = malloc(nagg * sizeof(*hosts));
    int rc = -1;
    if (ids && counts && days && hosts) {
        for (size_t k = 0; k < nagg; k++) {
            struct agg_entry *e = &agg[agg_used[k]];
            ids[k] = e->link_id;
            days[k] = e->day;
            hosts[k] = e->host;
            counts[k] = e->count;
        }
        struct visit_batch b = {nagg, ids, days, hosts, counts};
        rc = db_visits_add(&b) == 0 ? 0 : -1;
    }
    if (rc == 0) {
        for (size_t k = 0; k < nagg; k++)
            agg[agg_used[k]].link_id = 0;
        nagg = 0;
    }
    free(ids);
    free(counts);
    free(days);
    free(hosts);
    return rc;
}

static bool rings_empty(void)
{
    for (int s = 0; s < nrings; s++) {
        if (atomic_load(&rings[s].head) != atomic_load(&rings[s].tail))
            return false;
    }
    return true;
}

void visits_flush(bool final)
{
    if (!agg)
        return;
    drain_rings();
    if (write_batch() < 0 && !final)
        return;
    /* at a graceful stop, keep at it until every ring is empty and written, or the database stays away */
    for (int i = 0; final && i < FINAL_TRIES; i++) {
        drain_rings();
        if (write_batch() == 0 && rings_empty())
            return;
        usleep(200 * 1000);
    }
    if (final) {
        long long lost = 0;
        for (size_t k = 0; k < nagg; k++)
            lost += agg[agg_used[k]].count;
        for (int s = 0; s < nrings; s++)
            lost += (long long)(atomic_load(&rings[s].head) - atomic_load(&rings[s].tail));
        log_error("visits lost at shutdown", "visits=%lld reason=\"database unavailable\"", lost);
    }
}

unsigned long long visits_dropped(void)
{
    return dropped_total;
}
