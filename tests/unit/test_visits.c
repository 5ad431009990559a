/* Unit tests for handlers/core/visits.c: worker processes counting into their own slots of the shared tables
 * at once, for overlapping keys, while this process drains them as the master does and writes through the
 * fake db_visits_add. Totals must be exact: when a write fails and is retried, when a worker is killed in the
 * middle of counting, and when more keys arrive than the master can hold while the database is away. */
#include "visits.h"

#include "db.h"
#include "db_links.h"
#include "fake_clock.h"
#include "fake_db.h"
#include "ua.h"
#include "unit.h"
#include "visit_log.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SLOTS = 8, LINKS = 5 };

static const char *const hosts[] = {"", "example.com", "news.example"};
enum { NHOSTS = sizeof(hosts) / sizeof(hosts[0]) };

/* The tables are mapped once per process: under CK_FORK=no every test shares them (and the master's sums,
 * which visits.c allocates once), so each test leaves everything written. */
static void setup(void)
{
    static bool mapped;
    if (!mapped)
        ck_assert_int_eq(visits_init(SLOTS), 0);
    mapped = true;
    fake_db_reset();
}

/* A visit from host (every other dimension empty or unknown, a human): the key of most tests. */
static void add_host(long long link_id, const char *host)
{
    struct visit v;
    memset(&v, 0, sizeof(v));
    snprintf(v.host, sizeof(v.host), "%s", host);
    visits_add(link_id, &v);
}

/* Key k of the overlapping set every worker counts: LINKS links times NHOSTS hosts. */
static void add_key(int k)
{
    add_host(1 + k % LINKS, hosts[k % NHOSTS]);
}

/* Forks a worker on slot that counts n visits over keys 0..keys-1 in turn, then exits (or dies, with kill).
 */
static pid_t worker(int slot, int n, int keys, bool kill_self)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0)
        return pid;
    visits_attach(slot);
    for (int i = 0; i < n; i++)
        add_key(i % keys);
    if (kill_self)
        raise(SIGKILL);
    _exit(0);
}

static void reap(pid_t pid, int want_signal)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    if (want_signal)
        ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == want_signal, "worker status %#x", st);
    else
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker status %#x", st);
}

/* Flushes as the master's tick does until every worker has exited, then once more for the rest. */
static void flush_while_running(const pid_t *pids, int n)
{
    for (int live = n; live > 0;) {
        visits_flush(false);
        live = 0;
        for (int i = 0; i < n; i++)
            live += pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == 0;
        usleep(1000);
    }
    visits_flush(false);
}

START_TEST(concurrent_writers_exact)
{
    enum { WORKERS = 4, EACH = 30000, KEYS = LINKS * NHOSTS };
    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++)
        pids[w] = worker(w, EACH, KEYS, false);
    /* flush_while_running reaps them; their exit status is checked through the totals */
    flush_while_running(pids, WORKERS);
    ck_assert_int_eq(fake_db_visits_total(), (long long)WORKERS * EACH);
    for (int k = 0; k < KEYS; k++) {
        long long want = (long long)WORKERS * (EACH / KEYS);
        ck_assert_int_eq(fake_db_visits(1 + k % LINKS, hosts[k % NHOSTS]), want);
    }
    /* drained: another flush writes nothing more */
    unsigned long batches = fake_db_visit_batches();
    visits_flush(false);
    ck_assert_uint_eq(fake_db_visit_batches(), batches);
    ck_assert_int_eq(fake_db_visits_total(), (long long)WORKERS * EACH);
}
END_TEST

START_TEST(failed_writes_lose_and_double_nothing)
{
    enum { KEYS = LINKS * NHOSTS };
    fake_db_fail_visits(3);
    reap(worker(0, 900, KEYS, false), 0);
    visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), 0);
    /* more visits while the master still holds the unwritten ones */
    reap(worker(1, 600, KEYS, false), 0);
    /* the batch that failed after it was sent may have committed: it is set aside and sent again as it was
     * (the same id, counted once by PostgreSQL) before the new visits go in a batch of their own */
    visits_flush(false);
    ck_assert_int_le(fake_db_visits_total(), 900);
    visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), 1500);
    ck_assert_uint_eq(fake_db_visit_batches(), 2);
    for (int k = 0; k < KEYS; k++)
        ck_assert_int_eq(fake_db_visits(1 + k % LINKS, hosts[k % NHOSTS]), 100);
    visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), 1500);
}
END_TEST

START_TEST(database_away_then_back)
{
    fake_db_fail(DB_UNAVAILABLE, 0);
    reap(worker(2, 1000, 7, false), 0);
    for (int i = 0; i < 5; i++)
        visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), 0);
    fake_db_fail(DB_OK, 0);
    visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), 1000);
}
END_TEST

START_TEST(final_flush_retries)
{
    fake_db_fail_visits(2);
    reap(worker(3, 500, 4, false), 0);
    visits_flush(true);
    ck_assert_int_eq(fake_db_visits_total(), 500);
    ck_assert_uint_eq(fake_db_visit_batches(), 1);
}
END_TEST

START_TEST(rows_of_a_batch_add_up)
{
    /* three hosts of one link, and one host of another: 4 sums, each the total, its host and its device
     * (every other dimension is none: no row); one row per value of a link and dimension is what PostgreSQL
     * gets, 12 exploded rows less 4 shared: 3 + 2 (two more hosts) for link 1, 3 for link 2 */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        visits_attach(5);
        add_host(1, "a.example");
        add_host(1, "b.example");
        add_host(1, "c.example");
        add_host(1, "c.example");
        add_host(2, "a.example");
        _exit(0);
    }
    reap(pid, 0);
    visits_flush(true);
    ck_assert_uint_eq(fake_db_visit_batches(), 1);
    ck_assert_uint_eq(fake_db_visit_rows(), 8);
    ck_assert_int_eq(fake_db_visits(1, NULL), 4);
    ck_assert_int_eq(fake_db_visits(1, "c.example"), 2);
    ck_assert_int_eq(fake_db_visits(2, "a.example"), 1);
    ck_assert_int_eq(fake_db_visits_total(), 5);
}
END_TEST

START_TEST(killed_worker_loses_nothing_counted)
{
    enum { KEYS = LINKS * NHOSTS };
    reap(worker(4, 777, KEYS, true), SIGKILL);
    /* its replacement takes over the slot, keys and counts included, and counts on */
    reap(worker(4, 223, KEYS, false), 0);
    visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), 1000);
}
END_TEST

START_TEST(killed_at_any_moment)
{
    /* the worker says how far it got after each visit; killed between the two, it counted one more */
    _Atomic long long *done =
        mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(done, MAP_FAILED);
    atomic_store(done, 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        visits_attach(5);
        for (long long i = 0;; i++) {
            add_key((int)(i % 9));
            atomic_store(done, i + 1);
        }
    }
    while (atomic_load(done) < 5000)
        visits_flush(false);
    kill(pid, SIGKILL);
    reap(pid, SIGKILL);
    visits_flush(false);
    long long counted = atomic_load(done), total = fake_db_visits_total();
    ck_assert_msg(total == counted || total == counted + 1, "worker got to %lld, %lld written", counted,
                  total);
    munmap((void *)done, sizeof(*done));
}
END_TEST

START_TEST(more_keys_than_master_holds)
{
    /* 12,000 keys: the worker moves to its other table past half of one, and while the database is away the
     * master's sums fill (8,192 keys) with the rest left counted in the tables until they are written */
    enum { KEYS = 12000 };
    fake_db_fail(DB_UNAVAILABLE, 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        visits_attach(6);
        for (int k = 0; k < KEYS; k++)
            add_host(1000 + k, "");
        _exit(0);
    }
    flush_while_running(&pid, 1);
    ck_assert_int_eq(fake_db_visits_total(), 0);
    fake_db_fail(DB_OK, 0);
    for (int i = 0; i < 4; i++)
        visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), KEYS);
    for (int k = 0; k < KEYS; k += 997)
        ck_assert_int_eq(fake_db_visits(1000 + k, ""), 1);
}
END_TEST

/* Flushes until a flush writes nothing more (the master's sums hold 8,192 keys a flush). */
static void flush_all(void)
{
    for (int i = 0; i < 10; i++) {
        long long before = fake_db_visits_total();
        visits_flush(false);
        if (fake_db_visits_total() == before)
            return;
    }
    ck_abort_msg("flushes keep finding visits");
}

/* The visits visits.c logged as dropped (its tables full) in log, the text of its stderr. */
static long long dropped_in(const char *log)
{
    long long n = 0;
    for (const char *p = log; (p = strstr(p, "msg=\"visits dropped\"")); p++) {
        const char *d = strstr(p, " dropped=");
        ck_assert_ptr_nonnull(d);
        n += atoll(d + strlen(" dropped="));
    }
    return n;
}

START_TEST(switching_tables_under_drain)
{
    /* a stream of new keys makes the worker move between its tables every 8,192 keys while the master drains
     * without pause: a table may be emptied only once the worker has left it. A worker that outruns the
     * master fills its table and drops visits (logged, by design): those are counted from the log. */
    enum { VISITS = 120000, DISTINCT = 30000 };
    FILE *log = tmpfile();
    ck_assert_ptr_nonnull(log);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(log), STDERR_FILENO);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        visits_attach(0);
        for (int i = 0; i < VISITS; i++)
            add_host(100000 + i % DISTINCT, "");
        _exit(0);
    }
    while (waitpid(pid, NULL, WNOHANG) == 0)
        visits_flush(false);
    flush_all();
    dup2(saved, STDERR_FILENO);
    close(saved);
    char text[4096] = "";
    rewind(log);
    text[fread(text, 1, sizeof(text) - 1, log)] = '\0';
    fclose(log);
    ck_assert_int_eq(fake_db_visits_total() + dropped_in(text), VISITS);
}
END_TEST

START_TEST(no_slot_counts_nothing)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        visits_attach(SLOTS); /* out of range: the worker counts nothing rather than into another's slot */
        add_key(0);
        _exit(0);
    }
    reap(pid, 0);
    visits_flush(false);
    ck_assert_int_eq(fake_db_visits_total(), 0);
}
END_TEST

START_TEST(every_dimension_adds_up)
{
    /* visits that differ in every dimension, humans and bots: each dimension's rows add up to the total, and
     * humans and bots stay apart in each */
    enum { N = 600 };
    static const char *const countries[] = {"FR", "", "JP"};
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        visits_attach(7);
        for (int i = 0; i < N; i++) {
            struct visit v;
            memset(&v, 0, sizeof(v));
            v.bot = i % 4 == 0;
            v.device = v.bot ? UA_DEVICE_BOT : (uint8_t)(i % 3);
            v.browser = (uint8_t)(i % 2);
            v.os = (uint8_t)(i % 5 == 0);
            snprintf(v.country, sizeof(v.country), "%s", countries[i % 3]);
            snprintf(v.host, sizeof(v.host), "%s", hosts[i % NHOSTS]);
            snprintf(v.utm[VISITS_UTM_SOURCE], sizeof(v.utm[0]), "%s", i % 2 ? "news" : "");
            snprintf(v.utm[VISITS_UTM_CAMPAIGN], sizeof(v.utm[0]), "c%d", i % 7);
            visits_add(42, &v);
        }
        _exit(0);
    }
    reap(pid, 0);
    visits_flush(false);
    ck_assert_int_eq(fake_db_humans(42, VISIT_DIM_TOTAL, ""), N - N / 4);
    ck_assert_int_eq(fake_db_bots(42, VISIT_DIM_TOTAL, ""), N / 4);
    /* the visits of each dimension's none value, which get no row: a country not found, a bot's device, the
     * browser and OS not recognized, no UTM value */
    long long none[VISIT_NDIMS] = {
        [VISIT_DIM_REFERRER] = N / 3, [VISIT_DIM_COUNTRY] = N / 3, [VISIT_DIM_DEVICE] = N / 4,
        [VISIT_DIM_BROWSER] = N / 2,  [VISIT_DIM_OS] = N - N / 5,  [VISIT_DIM_UTM_SOURCE] = N / 2,
        [VISIT_DIM_UTM_MEDIUM] = N,
    };
    for (int d = VISIT_DIM_TOTAL; d < VISIT_NDIMS; d++) {
        ck_assert_int_eq(fake_db_dim_total(d) + none[d], N);
        if (d > VISIT_DIM_TOTAL)
            ck_assert_int_eq(
                fake_db_humans(42, d, visit_dim_none(d)) + fake_db_bots(42, d, visit_dim_none(d)), 0);
    }
    /* the names ua.c gives them */
    ck_assert_str_eq(visit_dim_none(VISIT_DIM_DEVICE), ua_device_name(UA_DEVICE_BOT));
    ck_assert_str_eq(visit_dim_none(VISIT_DIM_BROWSER), ua_browser_name(0));
    ck_assert_str_eq(visit_dim_none(VISIT_DIM_OS), ua_os_name(0));
    ck_assert_int_eq(fake_db_humans(42, VISIT_DIM_UTM_SOURCE, "news"), N / 2);
    ck_assert_int_eq(fake_db_humans(42, VISIT_DIM_BROWSER, NULL), N / 2);
}
END_TEST

/* With HOP_VISITS_WINDOW_MS=0 (this suite's setting: config_load is not called) the master writes no log,
 * but it adopts the rows of a master that had a window and died: a pool switched off the window, or one host
 * without it beside windowed ones, loses nothing. */
START_TEST(log_rows_are_adopted_without_a_window)
{
    struct sum s;
    memset(&s, 0, sizeof(s));
    s.key.link_id = 3;
    s.key.hour = 490000;
    snprintf(s.key.v.host, sizeof(s.key.v.host), "example.com");
    s.count = 7;
    unsigned char *enc;
    int off[VWIN_PARTS], len[VWIN_PARTS];
    vlog_encode(&s, 1, &enc, off, len);
    int p = vwin_part_of(3);
    fake_db_log_put(4242, p, enc + off[p], (size_t)len[p]);
    free(enc);
    fake_db_log_age();
    /* past the next look for orphans, whatever the tests before this one (CK_FORK=no) left it at */
    fake_clock_advance(10 * 1000);
    for (int i = 0; i < 5; i++)
        visits_flush(false);
    visits_flush(true);
    ck_assert_int_eq(fake_db_visits_total(), 7);
    ck_assert_int_eq(fake_db_log_rows(), 0);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("visits");
    TCase *tc = tcase_create("visits");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, concurrent_writers_exact);
    tcase_add_test(tc, failed_writes_lose_and_double_nothing);
    tcase_add_test(tc, database_away_then_back);
    tcase_add_test(tc, final_flush_retries);
    tcase_add_test(tc, rows_of_a_batch_add_up);
    tcase_add_test(tc, killed_worker_loses_nothing_counted);
    tcase_add_test(tc, killed_at_any_moment);
    tcase_add_test(tc, more_keys_than_master_holds);
    tcase_add_test(tc, switching_tables_under_drain);
    tcase_add_test(tc, no_slot_counts_nothing);
    tcase_add_test(tc, every_dimension_adds_up);
    tcase_add_test(tc, log_rows_are_adopted_without_a_window);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}
