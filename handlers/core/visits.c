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
#include "db.h"
#include "db_links.h"
#include "log.h"
#include "metrics.h"
#include "visit_apply.h"
#include "visit_log.h"
#include "visit_sum.h"
#include "visit_window.h"
#include "visits_spool.h"
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
    AGG_SLOTS =
        8192, /* distinct keys the master holds while the database is away, without HOP_VISITS_MEMORY_KB */
    FINAL_TRIES = 25,
    FORGET_MAX = 64, /* confirmed batch ids told to PostgreSQL with the next batch */
    /* spool files replayed per tick: each is written while the master waits, so one at a time, and only
     * while the sums are light (the drain waits meanwhile, and under load the workers' tables would fill) */
    REPLAY_PER_TICK = 1,
    DOUBT_SPILL_MS = 5000, /* between attempts to spool a batch in doubt while the spool refuses it */
    ROLLUP_EVERY_MS = 3600 * 1000,
    UPKEEP_RETRY_MS = 10 * 1000, /* between attempts to close the ended days; after a failed roll-up */
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
static struct sum *sums;
static uint32_t *sum_index; /* sum number + 1 */
static size_t nsums, agg_slots, agg_index;
static long long sums_total; /* visits the sums hold */
/* A batch whose statement failed after it was sent may have committed: it is set aside with its id and sent
 * again exactly as it was (PostgreSQL then counts it once), or spooled with that id; the sums start afresh.
 * One at most: no new batch is sent while one is in doubt. */
static struct sum *doubt;
static size_t ndoubt;
static long long doubt_id, doubt_total, doubt_spill_ms;
/* The batch sent and not answered yet: PostgreSQL writes it while the master goes on draining the workers'
 * tables every tick (a synchronous write held the drain up for as long as PostgreSQL took, and a busy
 * database then filled the tables until visits were dropped). Its sums are kept until the answer: on a
 * failure they become the batch in doubt. At most one; no other statement meanwhile on the connection. */
static struct sum *flight;
static size_t nflight;
static long long flight_id, flight_total;
static struct sum *spare;            /* sums memory to reuse */
static long long forget[FORGET_MAX]; /* batches confirmed since the last statement */
static size_t nforget;
static char db_id[37];   /* the database's spool identity, "" until read */
static int lost_answers; /* the test seam: answers to throw away (HOP_TEST_VISITS_LOST_ANSWERS) */
static unsigned long long dropped_total;
/* The window (visit_window.h), with HOP_VISITS_WINDOW_MS: batches go to the log, and their sum, part by part,
 * to the counters. A part whose statement failed is rebuilt from its log rows that are left. */
static bool windowed;
static long long visit_seen_ms; /* when the last drain found visits */
static int m_counted = -1, m_written = -1, m_pending = -1, m_dropped = -1;
static int m_spooled = -1, m_replayed = -1, m_repeated = -1, m_spool_files = -1, m_spool_bytes = -1,
           m_spool_visits = -1, m_window = -1, m_applied = -1, m_adopted = -1, m_apply_us = -1;

static int define_metrics(void)
{
    m_counted = metrics_define("hop_visits_counted_total", NULL, METRICS_COUNTER,
                               "Visits the workers counted into shared memory.");
    m_written = metrics_define("hop_visits_written_total", NULL, METRICS_COUNTER,
                               "Visits the master wrote to PostgreSQL.");
    m_pending = metrics_define("hop_visits_pending", NULL, METRICS_GAUGE,
                               "Visits the master holds that are not in the counters yet: not written (they "
                               "grow while PostgreSQL is away) or in its window (hop_visits_window).");
    m_window = metrics_define("hop_visits_window", NULL, METRICS_GAUGE,
                              "Visits written to the log that the master has not added to the counters yet "
                              "(HOP_VISITS_WINDOW_MS).");
    m_applied = metrics_define("hop_visits_applied_total", NULL, METRICS_COUNTER,
                               "Visits the master added to the counters from its window.");
    m_adopted = metrics_define("hop_visits_adopted_total", NULL, METRICS_COUNTER,
                               "Visits of log rows a master that died left, taken into this one's window.");
    m_apply_us = metrics_define("hop_visits_apply_pg_seconds_total", NULL, METRICS_SECONDS,
                                "PostgreSQL's time in the statements that added the window's parts to the "
                                "counters (under load about HOP_VISITS_PG_MS a second).");
    m_dropped = metrics_define("hop_visits_dropped_total", NULL, METRICS_COUNTER,
                               "Visits lost: a worker's table was full, the master's memory bound and the "
                               "spool were full or the spool unwritable, or a spool file was unreadable.");
    m_spooled = metrics_define("hop_visits_spooled_total", NULL, METRICS_COUNTER,
                               "Visits the master wrote to its spool on disk (PostgreSQL away).");
    m_replayed = metrics_define("hop_visits_replayed_total", NULL, METRICS_COUNTER,
                                "Visits read back from the spool and written to PostgreSQL.");
    m_repeated = metrics_define("hop_visit_batches_repeated_total", NULL, METRICS_COUNTER,
                                "Batches PostgreSQL had applied already (sent again after an answer was "
                                "lost): counted once.");
    m_spool_files = metrics_define("hop_visits_spool_files", NULL, METRICS_GAUGE,
                                   "Spool files waiting to be written to PostgreSQL.");
    m_spool_bytes =
        metrics_define("hop_visits_spool_bytes", NULL, METRICS_GAUGE, "Bytes of the spool files waiting.");
    m_spool_visits =
        metrics_define("hop_visits_spool_visits", NULL, METRICS_GAUGE, "Visits in the spool files waiting.");
    return m_dropped < 0 || m_spool_visits < 0 ? -1 : 0;
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
    const struct app_config *cfg = config_get();
    agg_slots = cfg->visits_mem_bytes ? (size_t)cfg->visits_mem_bytes / sizeof(struct sum) : AGG_SLOTS;
    if (agg_slots < 1)
        agg_slots = 1;
    for (agg_index = 2; agg_index < 2 * agg_slots;)
        agg_index *= 2;
    sums = xmalloc(agg_slots * sizeof(*sums));
    sum_index = xcalloc(agg_index, sizeof(*sum_index));
    lost_answers = cfg->test_lost_answers;
    windowed = cfg->visits_window_ms > 0;
    /* without a window of its own the master still adopts log rows (a pool switched to
     * HOP_VISITS_WINDOW_MS=0, a host beside windowed ones): they pass through the window's parts */
    vwin_init((size_t)cfg->visits_window_bytes);
    if (cfg->spool_dir)
        vspool_open(cfg->spool_dir, cfg->spool_max_bytes, sizeof(struct sum));
    if (define_metrics() < 0)
        return -1;
    vapply_init(m_applied, m_adopted, m_apply_us);
    return 0;
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
    free(doubt);
    sums = NULL;
    sum_index = NULL;
    doubt = NULL;
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
    size_t i = key_hash(k) & (agg_index - 1);
    for (; sum_index[i]; i = (i + 1) & (agg_index - 1)) {
        struct sum *s = &sums[sum_index[i] - 1];
        if (key_eq(&s->key, k)) {
            s->count += n;
            sums_total += n;
            return 0;
        }
    }
    if (nsums == agg_slots)
        return -1;
    sums_total += n;
    sums[nsums] = (struct sum){.key = *k, .count = n};
    sum_index[i] = (uint32_t)++nsums;
    return 0;
}

static void sums_clear(void)
{
    sums_total = 0;
    nsums = 0;
    memset(sum_index, 0, agg_index * sizeof(*sum_index));
}

static void forget_add(long long id)
{
    /* when the list is full, the ids in it are left to the 30-day prune: harmless, only less tidy */
    if (nforget == FORGET_MAX)
        nforget = 0;
    forget[nforget++] = id;
}

static void count_dropped(long long n)
{
    dropped_total += (unsigned long long)n;
    metrics_add(m_dropped, (unsigned long long)n);
}

/* The rows of n sums, as batch id, with the confirmed batches to forget. */
static void rows_build(const struct sum *rows, size_t n, long long id, struct visit_rows *b)
{
    vsum_rows(rows, n, id, b);
    b->forget = forget;
    b->nforget = nforget;
}

/* What PostgreSQL answered to batch id, sent or written, as the master acts on it. */
static int answered(int rc, long long id)
{
    if (rc == DB_OK || rc == DB_CONFLICT)
        nforget = 0;
    if (rc == DB_OK && lost_answers > 0) {
        /* the test seam: the batch committed, and the master acts as if the connection broke before the
         * answer came, as when PostgreSQL's backend is cut off right after COMMIT */
        lost_answers--;
        db_disconnect();
        log_warn("visit batch answer thrown away (HOP_TEST_VISITS_LOST_ANSWERS)", "batch=%lld", id);
        rc = DB_UNAVAILABLE;
    }
    if (rc == DB_CONFLICT) {
        metrics_add(m_repeated, 1);
        log_info("visit batch applied already", "batch=%lld", id);
    }
    return rc;
}

/* Writes n sums as batch id: to the log with the window, else to the counters; or sends them (send). The
 * log's statement takes the batch's id and the ids to forget, not its rows: those are built once, when the
 * batch has landed and joins the window (logged). */
static int put_batch(const struct sum *rows, size_t n, long long id, bool send)
{
    if (!windowed) {
        struct visit_rows b;
        rows_build(rows, n, id, &b);
        int rc = send ? db_visits_send(&b) : db_visits_add(&b);
        vwin_rows_free(&b);
        return rc;
    }
    long long writer = vapply_writer();
    unsigned char *enc;
    int off[VWIN_PARTS], len[VWIN_PARTS];
    size_t size = vlog_encode(rows, n, &enc, off, len);
    struct visit_log_enc e = {
        .data = enc, .size = size, .off = off, .len = len, .nparts = VWIN_PARTS, .writer = writer};
    struct visit_rows b = {.batch_id = id, .forget = forget, .nforget = nforget};
    int rc = send ? db_visits_log_send(&b, &e) : db_visits_log_add(&b, &e);
    free(enc);
    return rc;
}

/* A batch of n sums that PostgreSQL has (rc DB_OK or DB_CONFLICT): with the window, its rows join it. */
static void logged(const struct sum *rows, size_t n, long long id, int rc)
{
    if (!windowed || (rc != DB_OK && rc != DB_CONFLICT))
        return;
    struct visit_rows b;
    rows_build(rows, n, id, &b);
    vapply_take(&b, id);
    vwin_rows_free(&b);
}

/* Writes n sums as batch id and waits: DB_OK, DB_CONFLICT (PostgreSQL had it already: counted once), or a
 * failure, after which the batch may or may not have committed. */
static int write_rows(const struct sum *rows, size_t n, long long id)
{
    int rc = answered(put_batch(rows, n, id, false), id);
    logged(rows, n, id, rc);
    return rc;
}

/* A new sums memory, the spare one when there is one. */
static struct sum *sums_memory(void)
{
    struct sum *m = spare ? spare : xmalloc(agg_slots * sizeof(*sums));
    spare = NULL;
    return m;
}

static void doubt_clear(void)
{
    free(doubt);
    doubt = NULL;
    ndoubt = 0;
    doubt_id = doubt_total = 0;
}

/* Sends the batch in doubt again, and with spill (at most every DOUBT_SPILL_MS while the spool refuses it)
 * writes it to the spool when that fails: 0 when no batch is in doubt any more. */
static int resolve_doubt(bool spill)
{
    if (!doubt)
        return 0;
    if (db_connect() == DB_OK) {
        int rc = write_rows(doubt, ndoubt, doubt_id);
        if (rc == DB_OK || rc == DB_CONFLICT) {
            if (rc == DB_OK)
                metrics_add(m_written, (unsigned long long)doubt_total);
            forget_add(doubt_id);
            doubt_clear();
            return 0;
        }
    }
    long long now = clock_ms();
    if (!spill || now < doubt_spill_ms)
        return -1;
    if (vspool_write(doubt_id, db_id, doubt, ndoubt, doubt_total) < 0) {
        doubt_spill_ms = now + DOUBT_SPILL_MS;
        return -1;
    }
    metrics_add(m_spooled, (unsigned long long)doubt_total);
    log_info("visits spooled", "batch=%lld visits=%lld keys=%zu in_doubt=yes", doubt_id, doubt_total, ndoubt);
    doubt_clear();
    return 0;
}

static int land(bool wait);

/* n sums holding total visits become the batch in doubt, under id: sent, and perhaps committed. No batch is
 * sent while one is in doubt, so there is none. */
static void make_doubt(struct sum *rows, size_t n, long long id, long long total)
{
    doubt = rows;
    ndoubt = n;
    doubt_id = id;
    doubt_total = total;
    doubt_spill_ms = 0;
}

/* The sums become the batch in doubt, under id. */
static void set_aside(long long id)
{
    make_doubt(sums, nsums, id, sums_total);
    sums = sums_memory();
    sums_clear();
}

/* Writes the sums and waits (a graceful stop): 0 when they are written (or empty). With none, a batch still
 * in doubt is sent again, so that it is settled within a write interval even when no visit follows it. */
static int write_sums(void)
{
    land(true); /* a failed answer leaves its batch in doubt, settled below */
    if (nsums == 0)
        return resolve_doubt(false);
    /* not connected: nothing is sent, so the sums stay open to new counts */
    if (resolve_doubt(false) < 0 || db_connect() != DB_OK)
        return -1;
    long long id = vsum_random_id();
    int rc = write_rows(sums, nsums, id);
    if (rc == DB_OK || rc == DB_CONFLICT) {
        if (rc == DB_OK)
            metrics_add(m_written, (unsigned long long)sums_total);
        sums_clear();
        forget_add(id);
        return 0;
    }
    set_aside(id);
    return -1;
}

/* Sends the sums as a new batch without waiting for PostgreSQL: 0 when they are on their way (the flight)
 * or empty, -1 when they could not be sent (then they are the batch in doubt, as after a failed write). A
 * batch in doubt is settled first, as write_sums does. Call with no batch in flight. */
static int send_sums(void)
{
    if (nsums == 0)
        return resolve_doubt(false);
    if (resolve_doubt(false) < 0 || db_connect() != DB_OK)
        return -1;
    long long id = vsum_random_id();
    int rc = put_batch(sums, nsums, id, true);
    if (rc != DB_OK) {
        set_aside(id);
        return -1;
    }
    flight = sums;
    nflight = nsums;
    flight_id = id;
    flight_total = sums_total;
    sums = sums_memory();
    sums_clear();
    return 0;
}

/* The answer to the batch in flight: DB_BUSY while it has not come (wait false), 0 when the batch was
 * written (or there was none), -1 when it failed: its sums are then the batch in doubt. */
static int land(bool wait)
{
    if (vapply_in_flight()) {
        double pg_ms = 0;
        int rc = db_visits_apply_result(wait, &pg_ms);
        if (rc == DB_BUSY)
            return DB_BUSY;
        vapply_landed(rc, pg_ms);
        return 0; /* a part that failed is rebuilt: no batch is in doubt */
    }
    if (!flight)
        return 0;
    int rc = db_visits_result(wait);
    if (rc == DB_BUSY)
        return DB_BUSY;
    rc = answered(rc, flight_id);
    logged(flight, nflight, flight_id, rc);
    if (rc == DB_OK || rc == DB_CONFLICT) {
        if (rc == DB_OK)
            metrics_add(m_written, (unsigned long long)flight_total);
        forget_add(flight_id);
        if (spare)
            free(flight);
        else
            spare = flight;
    } else {
        make_doubt(flight, nflight, flight_id, flight_total);
    }
    flight = NULL;
    nflight = 0;
    flight_id = flight_total = 0;
    return rc == DB_OK || rc == DB_CONFLICT ? 0 : -1;
}

/* Writes the sums to the spool: 0, or -1 (logged). */
static int spill_sums(void)
{
    if (nsums == 0)
        return 0;
    long long id = vsum_random_id();
    if (vspool_write(id, db_id, sums, nsums, sums_total) < 0)
        return -1;
    metrics_add(m_spooled, (unsigned long long)sums_total);
    log_info("visits spooled", "batch=%lld visits=%lld keys=%zu", id, sums_total, nsums);
    sums_clear();
    return 0;
}

/* The sums are full: written, else spooled, else dropped (counted and logged) so that the workers' tables
 * keep draining and counting goes on past the master's bound. 0 when there is room again. */
static int make_room(void)
{
    /* PostgreSQL still writing the last batch: the sums go to disk rather than hold the drain up (waiting,
     * the workers' tables fill in a few seconds under load and visits are dropped); the master waits for
     * the answer only when the spool refuses them */
    int landed = land(false);
    if (landed < 0)
        resolve_doubt(true);
    if (landed == DB_BUSY && spill_sums() == 0)
        return 0;
    if (landed == DB_BUSY && land(true) < 0)
        resolve_doubt(true);
    if (send_sums() == 0 || nsums == 0 || spill_sums() == 0)
        return 0;
    /* without a spool (HOP_SPOOL_DIR=off) the rest waits in the workers' tables, as before the spool */
    if (!config_get()->spool_dir)
        return -1;
    log_error("visits dropped", "visits=%lld reason=\"memory bound reached and the spool refused them\"",
              sums_total);
    count_dropped(sums_total);
    sums_clear();
    return 0;
}

/* Takes every count of a table; returns -1 when no room could be made (what is left stays counted there). */
static int drain_table(struct table *tb)
{
    uint32_t used = atomic_load_explicit(&tb->used, memory_order_acquire);
    for (uint32_t c = 0; c < used; c++) {
        uint64_t n = atomic_exchange_explicit(&tb->counters[c].count, 0, memory_order_relaxed);
        if (!n || sum_add(&tb->counters[c].key, (long long)n) == 0)
            continue;
        if (make_room() < 0 || sum_add(&tb->counters[c].key, (long long)n) < 0) {
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

static void drain_all(void)
{
    long long before = sums_total;
    for (int s = 0; s < nslots; s++)
        drain_slot(s);
    if (sums_total != before)
        visit_seen_ms = clock_ms();
}

static long long pending(void)
{
    long long n = sums_total + doubt_total + flight_total;
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

static int replay_apply(long long id, const void *recs, size_t n, long long visits)
{
    int rc = write_rows(recs, n, id);
    if (rc != DB_OK && rc != DB_CONFLICT)
        return -1;
    if (rc == DB_OK)
        metrics_add(m_replayed, (unsigned long long)visits);
    log_info("visit spool file replayed", "batch=%lld visits=%lld repeated=%s", id, visits,
             rc == DB_CONFLICT ? "yes" : "no");
    return 0;
}

/* Spool files are written back once PostgreSQL answers, a few per tick. */
static void replay_spool(void)
{
    if (vspool_replayable() == 0 || db_connect() != DB_OK)
        return;
    /* the database's identity: spool files of another database are left alone */
    if (!db_id[0] && db_visits_spool_id(db_id) != DB_OK) {
        db_id[0] = '\0';
        return;
    }
    vspool_replay(db_id, REPLAY_PER_TICK, replay_apply, forget_add, count_dropped);
}

static void set_gauges(void)
{
    long long f, b, v;
    vspool_gauges(&f, &b, &v);
    long long window = vwin_visits();
    metrics_set(m_pending, sums_total + flight_total + doubt_total + window);
    metrics_set(m_window, window);
    metrics_set(m_spool_files, f);
    metrics_set(m_spool_bytes, b);
    metrics_set(m_spool_visits, v);
}

/* A graceful stop while the database is away: everything counted goes to the spool; what cannot is lost
 * (counted and logged). */
static void stop_to_spool(void)
{
    doubt_spill_ms = 0;
    resolve_doubt(true);
    for (int i = 0; i < FINAL_TRIES && (nsums || pending() > doubt_total); i++) {
        if (spill_sums() < 0)
            break;
        drain_all();
    }
    long long lost = pending();
    if (lost == 0)
        return;
    metrics_add(m_dropped, (unsigned long long)lost);
    log_error("visits lost at shutdown",
              "visits=%lld in_doubt=%lld reason=\"database unavailable and the spool refused them\"", lost,
              doubt_total);
}

static void maintain(void);

void visits_flush(bool final)
{
    static long long next_write_ms; /* 0: at the first tick */
    if (!sums)
        return;
    drain_all();
    /* the batch sent at an earlier tick: the tables were drained meanwhile, however long PostgreSQL takes */
    int landed = land(final);
    if (landed == DB_BUSY) {
        set_gauges();
        return;
    }
    if (landed < 0)
        resolve_doubt(true); /* sent again, or, with the database away, safer on disk */
    if (!final)
        maintain();
    /* PostgreSQL gets the sums less often than the tables are drained, as each batch has a price of its own
     * (the summaries' statement is planned for it) whatever its size; sooner when they fill up half of the
     * master's room. The window's statements go in the ticks between. */
    long long now = clock_ms();
    bool write_due = final || now >= next_write_ms || nsums >= agg_slots / 2;
    if (!final && landed == 0 && (!write_due || nsums == 0) && vapply_tick(now, visit_seen_ms)) {
        set_gauges();
        return;
    }
    if (!write_due) {
        set_gauges();
        return;
    }
    next_write_ms = now + config_get()->visits_write_ms;
    if (!final && landed == 0 && nsums < agg_slots / 4)
        replay_spool();
    int rc = final ? write_sums() : send_sums();
    if (rc < 0)
        resolve_doubt(true);
    set_gauges();
    if (!final)
        return;
    /* at a graceful stop, keep at it until every count is written, or the database stays away */
    for (int i = 0; i < FINAL_TRIES; i++) {
        drain_all();
        if (write_sums() == 0 && resolve_doubt(false) == 0 && pending() == 0 && vapply_all() == 0) {
            set_gauges();
            return;
        }
        usleep(200 * 1000);
    }
    stop_to_spool();
    set_gauges();
}

/* Days since 1970-01-01 as YYYY-MM-DD. */
static void day_text(long long day, char out[16])
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* A close that moved the first open day: operators see each day's summaries written, and how long the
 * statement took (it reads every hour of the days it closes). Two hosts that close at the same instant may
 * both log it: the second waited for the first. */
static void log_day_closed(long long from, long long to, long long ms)
{
    char a[16], b[16];
    day_text(from, a);
    day_text(to, b);
    log_info("visit days closed", "from=%s open=%s ms=%lld", a, b, ms);
}

/* About once an hour, rolls hourly counts older than HOP_ANALYTICS_HOURLY_DAYS into daily ones (a failure is
 * retried 10 s later), and closes the UTC days that ended: between batches, as nothing else may use
 * the connection while one is written. */
static void maintain(void)
{
    static long long due_ms;        /* 0: at the first tick */
    static long long close_ms;      /* the next attempt to close days */
    static long long open_day = -1; /* the first UTC day still open, as the database said (days since 1970) */
    /* a day's summaries are written once it is over (0016), by whichever host's master comes first: at start
     * and once this host's clock has reached a day the database still had open, until the database (whose
     * clock decides) has closed it; the roll-up below drops only hours of closed days, whatever this does */
    long long now = clock_ms();
    if (open_day < (long long)(time(NULL) / 86400) && now >= close_ms) {
        close_ms = now + UPKEEP_RETRY_MS;
        long long was, day;
        if (db_visits_close(&was, &day) == 0) {
            if (day > was)
                log_day_closed(was, day, clock_ms() - now);
            open_day = day;
        }
    }
    if (now < due_ms)
        return;
    /* a failure is tried again after a pause: behind a lock each try stops this loop for up to 500 ms */
    due_ms = now + (db_visits_rollup(config_get()->hourly_days) == 0 ? ROLLUP_EVERY_MS : UPKEEP_RETRY_MS);
}
