/* Shared-memory visit counters and the master's batch writer; see visits.h.
 *
 * Each worker slot has two tables. A worker appends a key the first time it sees it and then only adds to
 * its counter; the master takes counts with an atomic exchange, so neither ever waits for the other. Keys
 * are never removed from the table a worker is using: when it is half full the worker moves to the other
 * table, once the master has drained and emptied that one. Only the worker writes keys, only the master
 * empties a table, and only one the worker has said it left (TABLE_LEFT): the master cannot tell a table
 * the worker left from one it is just taking by looking at `active`, which it may read a moment too early. */
#include "visits.h"

#include "clock.h"
#include "config.h"
#include "db_links.h"
#include "log.h"
#include "metrics.h"
#include "ua.h"
#include "xalloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum {
    /* Room for a day's working set of keys (10,000 links spread evenly need 10,000): a table that cannot hold
     * it makes the worker switch tables over and over, each switch starting every key afresh, and under full
     * load that can outrun the master's drain. Pages are only touched as keys arrive. */
    TABLE_SLOTS = 16384,
    SWITCH_AT = TABLE_SLOTS / 2,  /* move to the other table from here on, when it is empty */
    INDEX_SIZE = 2 * TABLE_SLOTS, /* the worker's private hash index over a table, a power of two */
    AGG_SLOTS = 8192,             /* distinct keys the master holds while the database is away */
    AGG_INDEX = 2 * AGG_SLOTS,
    FINAL_TRIES = 25,
    ROLLUP_EVERY_MS = 3600 * 1000,
};

/* Compared and hashed bytewise: every key is zeroed before it is filled. */
struct key {
    int64_t link_id;
    int32_t hour; /* hours since 1970-01-01T00:00Z */
    int32_t unused;
    struct visit v;
};

struct counter {
    struct key key;
    _Atomic uint64_t count;
};

enum table_state {
    TABLE_IN_USE, /* the worker's, or about to be */
    TABLE_LEFT,   /* the worker has moved on and writes here no more: the master drains it and empties it */
    TABLE_EMPTY,  /* emptied by the master: the worker may take it */
};

struct table {
    _Atomic uint32_t used;  /* counters[0..used) hold keys; published with release */
    _Atomic uint32_t state; /* enum table_state */
    struct counter counters[TABLE_SLOTS];
};

struct slot {
    _Atomic uint32_t active; /* the table the worker counts into */
    _Atomic uint64_t dropped;
    uint64_t dropped_seen; /* the master's: drops already logged */
    struct table tables[2];
};

static struct slot *slots;
static int nslots;

/* the worker's own */
static struct slot *mine;
static uint16_t index_of[2][INDEX_SIZE]; /* counter number + 1, 0 for none */

/* the master's sums, not yet written */
struct sum {
    struct key key;
    long long count;
};
static struct sum *sums;
static uint32_t *sum_index; /* sum number + 1 */
static size_t nsums;
static long long sums_total; /* visits the sums hold */
static unsigned long long dropped_total;
static int m_counted = -1, m_written = -1, m_pending = -1, m_dropped = -1;

static int define_metrics(void)
{
    m_counted = metrics_define("hop_visits_counted_total", NULL, METRICS_COUNTER,
                               "Visits the workers counted into shared memory.");
    m_written = metrics_define("hop_visits_written_total", NULL, METRICS_COUNTER,
                               "Visits the master wrote to PostgreSQL.");
    m_pending = metrics_define(
        "hop_visits_pending", NULL, METRICS_GAUGE,
        "Visits the master holds that are not written yet (they grow while PostgreSQL is away).");
    m_dropped =
        metrics_define("hop_visits_dropped_total", NULL, METRICS_COUNTER,
                       "Visits lost: a worker's table was full, or PostgreSQL stayed away at shutdown.");
    return m_dropped < 0 ? -1 : 0;
}

_Static_assert(sizeof(struct key) % 8 == 0, "keys are hashed in 8-byte words");

static uint64_t key_hash(const struct key *k)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    const unsigned char *p = (const unsigned char *)k;
    for (size_t i = 0; i < sizeof(*k); i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        x = (x ^ w) * 0x100000001b3ULL;
        x ^= x >> 32;
    }
    return x ^ (x >> 29);
}

static bool key_eq(const struct key *a, const struct key *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

int visits_init(int n)
{
    size_t size = sizeof(struct slot) * (size_t)n;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_error("cannot map the visit counters", "bytes=%zu", size);
        return -1;
    }
    slots = p;
    nslots = n;
    for (int i = 0; i < n; i++)
        atomic_store(&slots[i].tables[1].state, TABLE_EMPTY);
    sums = xmalloc(AGG_SLOTS * sizeof(*sums));
    sum_index = xcalloc(AGG_INDEX, sizeof(*sum_index));
    return define_metrics();
}

/* The worker's index of a table, rebuilt from the table itself: a replacement worker takes over the
 * tables of the one that died, keys and all. */
static void index_rebuild(int t)
{
    memset(index_of[t], 0, sizeof(index_of[t]));
    struct table *tb = &mine->tables[t];
    uint32_t used = atomic_load_explicit(&tb->used, memory_order_acquire);
    for (uint32_t c = 0; c < used; c++) {
        size_t i = key_hash(&tb->counters[c].key) & (INDEX_SIZE - 1);
        while (index_of[t][i])
            i = (i + 1) & (INDEX_SIZE - 1);
        index_of[t][i] = (uint16_t)(c + 1);
    }
}

void visits_attach(int slot)
{
    mine = slot >= 0 && slot < nslots ? &slots[slot] : NULL;
    /* the master's sums are not the worker's business */
    free(sums);
    free(sum_index);
    sums = NULL;
    sum_index = NULL;
    if (mine) {
        /* a worker that died while switching left the other table taken but unused: count it as left */
        uint32_t o = 1 - atomic_load(&mine->active);
        uint32_t expect = TABLE_IN_USE;
        atomic_compare_exchange_strong(&mine->tables[o].state, &expect, TABLE_LEFT);
        index_rebuild(0);
        index_rebuild(1);
    }
}

/* Moves to the other table when it is empty; returns the table to count into. */
static uint32_t choose_table(void)
{
    uint32_t t = atomic_load_explicit(&mine->active, memory_order_relaxed);
    if (atomic_load_explicit(&mine->tables[t].used, memory_order_relaxed) < SWITCH_AT)
        return t;
    uint32_t o = 1 - t;
    if (atomic_load_explicit(&mine->tables[o].state, memory_order_acquire) != TABLE_EMPTY)
        return t;
    atomic_store_explicit(&mine->tables[o].state, TABLE_IN_USE, memory_order_relaxed);
    memset(index_of[o], 0, sizeof(index_of[o]));
    atomic_store_explicit(&mine->active, o, memory_order_relaxed);
    /* release: everything written to t happens before the master sees that t was left */
    atomic_store_explicit(&mine->tables[t].state, TABLE_LEFT, memory_order_release);
    return o;
}

void visits_add(long long link_id, const struct visit *v)
{
    if (!mine)
        return;
    struct key k;
    memset(&k, 0, sizeof(k));
    k.link_id = link_id;
    k.hour = (int32_t)(time(NULL) / 3600);
    k.v = *v;
    uint32_t t = choose_table();
    struct table *tb = &mine->tables[t];
    size_t i = key_hash(&k) & (INDEX_SIZE - 1);
    for (; index_of[t][i]; i = (i + 1) & (INDEX_SIZE - 1)) {
        struct counter *c = &tb->counters[index_of[t][i] - 1];
        if (key_eq(&c->key, &k)) {
            atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
            metrics_add(m_counted, 1);
            return;
        }
    }
    uint32_t used = atomic_load_explicit(&tb->used, memory_order_relaxed);
    if (used >= TABLE_SLOTS) {
        atomic_fetch_add_explicit(&mine->dropped, 1, memory_order_relaxed);
        metrics_add(m_dropped, 1);
        return;
    }
    metrics_add(m_counted, 1);
    struct counter *c = &tb->counters[used];
    c->key = k;
    atomic_store_explicit(&c->count, 1, memory_order_relaxed);
    index_of[t][i] = (uint16_t)(used + 1);
    atomic_store_explicit(&tb->used, used + 1, memory_order_release);
}

/* Adds n visits of k to the sums; -1 when they are full. */
static int sum_add(const struct key *k, long long n)
{
    size_t i = key_hash(k) & (AGG_INDEX - 1);
    for (; sum_index[i]; i = (i + 1) & (AGG_INDEX - 1)) {
        struct sum *s = &sums[sum_index[i] - 1];
        if (key_eq(&s->key, k)) {
            s->count += n;
            sums_total += n;
            return 0;
        }
    }
    if (nsums == AGG_SLOTS)
        return -1;
    sums_total += n;
    sums[nsums] = (struct sum){.key = *k, .count = n};
    sum_index[i] = (uint32_t)++nsums;
    return 0;
}

/* Takes every count of a table; returns -1 when the sums filled up (what is left stays counted there). */
static int drain_table(struct table *tb)
{
    uint32_t used = atomic_load_explicit(&tb->used, memory_order_acquire);
    for (uint32_t c = 0; c < used; c++) {
        uint64_t n = atomic_exchange_explicit(&tb->counters[c].count, 0, memory_order_relaxed);
        if (n && sum_add(&tb->counters[c].key, (long long)n) < 0) {
            atomic_fetch_add_explicit(&tb->counters[c].count, n, memory_order_relaxed);
            return -1;
        }
    }
    return 0;
}

static void drain_slot(int s)
{
    struct slot *sl = &slots[s];
    for (uint32_t t = 0; t < 2; t++) {
        struct table *tb = &sl->tables[t];
        /* read before draining: a table already left is then drained to its last count */
        bool left = atomic_load_explicit(&tb->state, memory_order_acquire) == TABLE_LEFT;
        if (drain_table(tb) < 0)
            break;
        if (left) {
            atomic_store_explicit(&tb->used, 0, memory_order_relaxed);
            atomic_store_explicit(&tb->state, TABLE_EMPTY, memory_order_release);
        }
    }
    uint64_t d = atomic_load_explicit(&sl->dropped, memory_order_relaxed);
    if (d != sl->dropped_seen) {
        dropped_total += d - sl->dropped_seen;
        log_error("visits dropped", "slot=%d dropped=%llu total=%llu", s,
                  (unsigned long long)(d - sl->dropped_seen), dropped_total);
        sl->dropped_seen = d;
    }
}

/* The rows of one sum, one per dimension (db_links.h's enum visit_dim): every dimension's rows add up to
 * the total. Text values are NUL-terminated within their key. */
static void explode(const struct sum *s, struct visit_rows *b)
{
    const struct visit *v = &s->key.v;
    const char *values[VISIT_NDIMS] = {
        [VISIT_DIM_TOTAL] = "",
        [VISIT_DIM_REFERRER] = v->host,
        [VISIT_DIM_COUNTRY] = v->country[0] ? v->country : "unknown",
        [VISIT_DIM_DEVICE] = ua_device_name(v->device),
        [VISIT_DIM_BROWSER] = ua_browser_name(v->browser),
        [VISIT_DIM_OS] = ua_os_name(v->os),
        [VISIT_DIM_UTM_SOURCE] = v->utm[VISITS_UTM_SOURCE],
        [VISIT_DIM_UTM_MEDIUM] = v->utm[VISITS_UTM_MEDIUM],
        [VISIT_DIM_UTM_CAMPAIGN] = v->utm[VISITS_UTM_CAMPAIGN],
    };
    for (int d = 0; d < VISIT_NDIMS; d++) {
        size_t k = b->n++;
        b->link_id[k] = s->key.link_id;
        b->hour[k] = s->key.hour;
        b->dim[k] = d;
        b->value[k] = values[d];
        b->humans[k] = v->bot ? 0 : s->count;
        b->bots[k] = v->bot ? s->count : 0;
    }
}

static int write_batch(void)
{
    if (nsums == 0)
        return 0;
    size_t rows = nsums * VISIT_NDIMS;
    struct visit_rows b = {
        .link_id = xmalloc(rows * sizeof(long long)),
        .hour = xmalloc(rows * sizeof(int)),
        .dim = xmalloc(rows * sizeof(int)),
        .value = xmalloc(rows * sizeof(char *)),
        .humans = xmalloc(rows * sizeof(long long)),
        .bots = xmalloc(rows * sizeof(long long)),
    };
    for (size_t k = 0; k < nsums; k++)
        explode(&sums[k], &b);
    int rc = db_visits_add(&b) == 0 ? 0 : -1;
    if (rc == 0) {
        metrics_add(m_written, (unsigned long long)sums_total);
        sums_total = 0;
        nsums = 0;
        memset(sum_index, 0, AGG_INDEX * sizeof(*sum_index));
    }
    free(b.link_id);
    free(b.hour);
    free(b.dim);
    free(b.value);
    free(b.humans);
    free(b.bots);
    return rc;
}

static void drain_all(void)
{
    for (int s = 0; s < nslots; s++)
        drain_slot(s);
}

static long long pending(void)
{
    long long n = 0;
    for (size_t k = 0; k < nsums; k++)
        n += sums[k].count;
    for (int s = 0; s < nslots; s++) {
        for (int t = 0; t < 2; t++) {
            struct table *tb = &slots[s].tables[t];
            uint32_t used = atomic_load(&tb->used);
            for (uint32_t c = 0; c < used; c++)
                n += (long long)atomic_load(&tb->counters[c].count);
        }
    }
    return n;
}

void visits_flush(bool final)
{
    if (!sums)
        return;
    drain_all();
    int rc = write_batch();
    metrics_set(m_pending, sums_total);
    if (rc < 0 && !final)
        return;
    /* at a graceful stop, keep at it until every count is written, or the database stays away */
    for (int i = 0; final && i < FINAL_TRIES; i++) {
        drain_all();
        if (write_batch() == 0 && pending() == 0)
            return;
        usleep(200 * 1000);
    }
    if (final) {
        long long lost = pending();
        metrics_add(m_dropped, (unsigned long long)lost);
        log_error("visits lost at shutdown", "visits=%lld reason=\"database unavailable\"", lost);
    }
}

void visits_rollup(void)
{
    static long long due_ms; /* 0: at the first tick */
    long long now = clock_ms();
    if (!sums || now < due_ms)
        return;
    if (db_visits_rollup(config_get()->hourly_days) == 0)
        due_ms = now + ROLLUP_EVERY_MS;
}
