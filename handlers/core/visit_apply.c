/* The master's window at work (migration 0021): when a part goes to the hours, a part whose statement failed
 * rebuilt from its log rows, the log rows of masters that died adopted, and the writer id that tells this
 * master's log rows from a dead one's. See visit_apply.h. */
#include "visit_apply.h"

#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "visit_log.h"
#include "visit_sum.h"
#include "visit_window.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

enum {
    /* The window (HOP_VISITS_WINDOW_MS): a part is added to the counters when its oldest rows are this old
     * at least, and at most the window; in between, as long as its statement would take now (its rows, at
     * what a row took in its last statement) for every part, times 1000 / HOP_VISITS_PG_MS, so that adding
     * the parts takes PostgreSQL about HOP_VISITS_PG_MS a second whatever the load. */
    WINDOW_MIN_MS = 250,
    /* no visit came for this long: every part goes to the counters at once, so that a burst of visits is
     * in the stats soon after it ends, not a window later */
    WINDOW_IDLE_MS = 1000,
    /* log rows of masters that died (their writer's lock is gone), or of any master once older than three
     * windows and ADOPT_MARGIN_MS (a live master adds its own within one): looked for every ADOPT_EVERY_MS
     * (or window, if shorter), ADOPT_LIMIT at a time */
    ADOPT_EVERY_MS = 5 * 1000,
    ADOPT_LIMIT = 64,
    ADOPT_MARGIN_MS = 1000,
    /* a master without a window (HOP_VISITS_WINDOW_MS=0) ages log rows as one with the default would */
    ADOPT_WINDOW_OFF_MS = 60 * 1000,
    /* a part's statement gave up waiting for a lock on the hours (the master's statements wait 500 ms,
     * lifecycle.c): the window waits this long before its next, rather than asking at every tick */
    LOCKED_RETRY_MS = 2000,
};

static int m_applied = -1, m_adopted = -1, m_apply_us = -1;
static bool rebuild[VWIN_PARTS];
static double apply_row_ms[VWIN_PARTS]; /* what a row of the part took in its last statement, in PostgreSQL */
static long long adopt_ms;              /* the next look for log rows of masters that died */
static long long locked_until_ms;       /* no part goes to the hours before: the last met a lock */
static int applying = -1;            /* the part whose statement is in flight (instead of a batch), or -1 */
static long long writer_id;          /* this master's, in its log rows and held as an advisory lock */
static unsigned long writer_gen;     /* the connection (db_generation) that holds it, 0: none */
static long long unreadable_ids[64]; /* log rows that could not be read: logged once, then passed over */
static size_t nunreadable;

void vapply_init(int applied_metric, int adopted_metric, int apply_us_metric)
{
    m_applied = applied_metric;
    m_adopted = adopted_metric;
    m_apply_us = apply_us_metric;
}

/* Part's statement answered (rc; with DB_OK, pg_ms its time in PostgreSQL): its sum is in the counters, or
 * the part is rebuilt from what is left of its log rows (the statement may have committed). PostgreSQL's own
 * time, not the time until the master saw the answer: that waits for the master's next tick (100 ms), which
 * made a small part look as costly as a large one. */
static void window_done(int part, int rc, double pg_ms)
{
    if (rc != DB_OK) {
        rebuild[part] = true;
        if (rc == DB_LOCKED)
            locked_until_ms = clock_ms() + LOCKED_RETRY_MS;
        return;
    }
    size_t n = vwin_nrows(part);
    if (n > 0)
        apply_row_ms[part] = pg_ms / (double)n;
    log_debug("visits part added", "part=%d rows=%zu visits=%lld age_ms=%lld pg_ms=%.1f", part, n,
              vwin_part_visits(part), clock_ms() - vwin_first_ms(part), pg_ms);
    metrics_add(m_applied, (unsigned long long)vwin_part_visits(part));
    metrics_add(m_apply_us, (unsigned long long)(pg_ms * 1000.0));
    vwin_clear(part);
}

/* Adds part's sum to the counters, its log rows taken out in the same statement, and waits: its db_rc. */
static int window_apply(int part)
{
    size_t nids;
    const long long *ids = vwin_ids(part, &nids);
    if (nids == 0)
        return DB_OK;
    struct visit_rows r;
    vwin_rows(part, &r);
    double pg_ms = 0;
    int rc = db_visits_apply(part, &r, ids, nids, &pg_ms);
    vwin_rows_free(&r);
    window_done(part, rc, pg_ms);
    return rc;
}

/* The same without waiting (land gives the answer), so that the workers' tables are drained meanwhile
 * however long PostgreSQL takes: 0 when sent. */
static int window_send(int part)
{
    size_t nids;
    const long long *ids = vwin_ids(part, &nids);
    struct visit_rows r;
    vwin_rows(part, &r);
    int rc = db_visits_apply_send(part, &r, ids, nids);
    vwin_rows_free(&r);
    if (rc != DB_OK) {
        rebuild[part] = true;
        return -1;
    }
    applying = part;
    return 0;
}

bool vapply_in_flight(void)
{
    return applying >= 0;
}

void vapply_landed(int rc, double pg_ms)
{
    int part = applying;
    applying = -1;
    window_done(part, rc, pg_ms);
}

/* A log row read back (a part rebuilt, or a dead master's adopted) joins the window, unless it cannot be read
 * or finds no room (then it is left in the log, for a later adoption). */
static void log_row_read(void *ctx, long long id, int part, const unsigned char *data, size_t len)
{
    (void)ctx;
    struct sum *rows;
    long long n = vlog_decode(part, data, len, &rows);
    if (n < 0) {
        log_error("visit log row unreadable", "batch=%lld part=%d", id, part);
        if (nunreadable < sizeof(unreadable_ids) / sizeof(unreadable_ids[0]))
            unreadable_ids[nunreadable++] = id;
        return;
    }
    struct visit_rows b;
    vsum_rows(rows, (size_t)n, id, &b);
    if (vwin_lacks_room(&b) < 0)
        vwin_add(&b, id, clock_ms());
    vwin_rows_free(&b);
    free(rows);
}

struct rebuilding {
    int part;
    bool cleared;
};

/* A log row read back for a part being rebuilt: the part is emptied before the first one joins it (the rows
 * come only once the whole answer is in: a failed read leaves the part as it was). */
static void rebuilt_row(void *ctx, long long id, int part, const unsigned char *data, size_t len)
{
    struct rebuilding *rb = ctx;
    if (!rb->cleared) {
        vwin_clear(rb->part);
        rb->cleared = true;
    }
    log_row_read(NULL, id, part, data, len);
}

/* Part's sum again from its log rows still there (those of an apply that committed are gone): 0, or -1 when
 * PostgreSQL could not be asked or did not answer (the part stays as it was, and is tried again at the next
 * tick: it must not forget a log row of its own that is still there). */
static int window_rebuild(int part)
{
    if (db_connect() != DB_OK)
        return -1;
    size_t nids;
    const long long *cur = vwin_ids(part, &nids);
    long long *ids = xmalloc((nids ? nids : 1) * sizeof(*ids));
    memcpy(ids, cur, nids * sizeof(*ids));
    struct rebuilding rb = {.part = part};
    int rc = db_visits_log_read(part, ids, nids, rebuilt_row, &rb);
    free(ids);
    if (rc != DB_OK)
        return -1;
    if (!rb.cleared)
        vwin_clear(part);
    rebuild[part] = false;
    return 0;
}

/* Log rows a master that died left (their writer's lock is gone, or they are older than any live master
 * keeps its own) join this one's window. */
static void window_adopt(long long now)
{
    if (now < adopt_ms)
        return;
    long long window = config_get()->visits_window_ms;
    if (window <= 0)
        window = ADOPT_WINDOW_OFF_MS;
    adopt_ms = now + (window < ADOPT_EVERY_MS ? window : ADOPT_EVERY_MS);
    static long long own[4096];
    long long n = vwin_all_ids(own, sizeof(own) / sizeof(own[0]) - nunreadable);
    memcpy(own + n, unreadable_ids, nunreadable * sizeof(*own));
    n += (long long)nunreadable;
    long long before = vwin_visits();
    long long age = 3 * window + ADOPT_MARGIN_MS;
    if (db_visits_orphans(age, own, (size_t)n, ADOPT_LIMIT, log_row_read, NULL) != DB_OK)
        return;
    long long got = vwin_visits() - before;
    if (got > 0) {
        metrics_add(m_adopted, (unsigned long long)got);
        log_info("visits adopted",
                 "visits=%lld reason=\"log rows of a master that stopped before adding them\"", got);
    }
}

/* The part to add to the counters now, or -1. A part waits from its oldest rows what its statement would
 * take now for each part, times 1000 / HOP_VISITS_PG_MS, within [WINDOW_MIN_MS, HOP_VISITS_WINDOW_MS],
 * unless it is nearly full or no visit came for WINDOW_IDLE_MS; the part waiting longest goes first. The
 * estimate grows with the part: the statement's last time alone made a part that had few rows then (the
 * first of an hour, of a start) go again soon with many. */
static int window_due(long long now, long long seen_ms)
{
    int due = -1;
    long long oldest = 0, max_ms = config_get()->visits_window_ms;
    double share = 1000.0 / config_get()->visits_pg_ms;
    bool idle = now - seen_ms >= WINDOW_IDLE_MS;
    for (int p = 0; p < VWIN_PARTS; p++) {
        long long first = vwin_first_ms(p);
        if (first == 0)
            continue;
        long long wait = (long long)(share * VWIN_PARTS * apply_row_ms[p] * (double)vwin_nrows(p));
        wait = wait < WINDOW_MIN_MS ? WINDOW_MIN_MS : wait > max_ms ? max_ms : wait;
        bool ripe = idle || now - first >= wait || vwin_nearly_full(p);
        if (ripe && (due < 0 || first < oldest)) {
            due = p;
            oldest = first;
        }
    }
    return due;
}

bool vapply_tick(long long now, long long seen_ms)
{
    if (now < locked_until_ms)
        return false;
    for (int p = 0; p < VWIN_PARTS; p++) {
        if (rebuild[p]) {
            window_rebuild(p);
            return false;
        }
    }
    if (db_connect() != DB_OK)
        return false;
    window_adopt(now);
    int p = window_due(now, seen_ms);
    return p >= 0 && window_send(p) == 0;
}

int vapply_all(void)
{
    int rc = 0;
    for (int p = 0; p < VWIN_PARTS; p++) {
        if (rebuild[p] && window_rebuild(p) < 0) {
            rc = -1;
            continue;
        }
        int applied = window_apply(p);
        if (applied == DB_LOCKED) {
            /* the lock may last minutes, past systemd's stop timeout: the rows wait in the log instead */
            log_warn("visits left to the next master", "visits=%lld reason=\"a lock on the hours\"",
                     vwin_visits());
            return 0;
        }
        if (applied != DB_OK)
            rc = -1;
    }
    return rc;
}

void vapply_take(const struct visit_rows *b, long long id)
{
    for (int tries = 0; tries < VWIN_PARTS && clock_ms() >= locked_until_ms; tries++) {
        int p = vwin_lacks_room(b);
        if (p < 0)
            break;
        if (window_apply(p) != DB_OK)
            break;
    }
    if (vwin_lacks_room(b) >= 0) {
        log_warn("visit batch left to adoption", "batch=%lld reason=\"no room in the window\"", id);
        return;
    }
    vwin_add(b, id, clock_ms());
}

long long vapply_writer(void)
{
    unsigned long gen = db_generation();
    if (writer_gen == gen)
        return writer_id;
    if (writer_id == 0)
        writer_id = vsum_random_id();
    int rc = db_visits_writer(writer_id);
    if (rc == DB_OK)
        writer_gen = gen;
    else if (rc == DB_NOT_FOUND)
        writer_id = vsum_random_id(); /* another session holds that id: take another, held next time */
    return writer_id;
}
