/* Unit tests for the master's window (HOP_VISITS_WINDOW_MS, handlers/core/visits.c and visit_window.c)
 * against the fake database's log: batches go to the log, parts go to the counters when due, and every visit
 * is counted exactly once when a statement fails before or after it committed, and when the log rows of a
 * master that died are adopted. */
#include "visits.h"

#include "config.h"
#include "db.h"
#include "db_links.h"
#include "fake_clock.h"
#include "fake_db.h"
#include "unit.h"
#include "visit_window.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SLOTS = 2, LINKS = 40 };

static void setup(void)
{
    static bool mapped;
    if (!mapped) {
        setenv("HOP_VISITS_WINDOW_MS", "60000", 1);
        setenv("HOP_VISITS_WRITE_MS", "0", 1);
        setenv("HOP_SPOOL_DIR", "off", 1);
        ck_assert_int_eq(config_load(), 0);
        ck_assert_int_eq(visits_init(SLOTS), 0);
    }
    mapped = true;
    fake_db_reset();
}

/* n visits from a worker on slot 0: link 1 + i % LINKS, from one of three hosts. */
static void count(int n)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        visits_attach(0);
        for (int i = 0; i < n; i++) {
            struct visit v;
            memset(&v, 0, sizeof(v));
            snprintf(v.host, sizeof(v.host), "h%d.example", i % 3);
            snprintf(v.country, sizeof(v.country), "FR");
            snprintf(v.utm[VISITS_UTM_SOURCE], sizeof(v.utm[0]), "%s", i % 2 ? "news" : "");
            v.bot = i % 5 == 0;
            visits_add(1 + i % LINKS, &v);
        }
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Ticks as the master does, the clock moved on by ms before each. */
static void ticks(int n, long long ms)
{
    for (int i = 0; i < n; i++) {
        fake_clock_advance(ms);
        visits_flush(false);
    }
}

START_TEST(batches_wait_in_the_log)
{
    count(1000);
    ticks(3, 10);
    /* logged, in parts by link, and not yet in the counters: the window is a minute */
    ck_assert_int_gt(fake_db_log_rows(), 1);
    ck_assert_int_eq(fake_db_visits_total(), 0);
    /* a part nothing joins for a while goes to the counters, one a tick */
    ticks(40, 2500);
    ck_assert_int_eq(fake_db_visits_total(), 1000);
    ck_assert_int_eq(fake_db_log_rows(), 0);
    ck_assert_int_eq(fake_db_visits(1, "h0.example"), 9);
    ck_assert_int_eq(fake_db_bots(1, VISIT_DIM_TOTAL, ""), 25);
    ck_assert_int_eq(fake_db_humans(2, VISIT_DIM_UTM_SOURCE, "news"), 25);
}
END_TEST

START_TEST(a_graceful_stop_adds_everything)
{
    count(500);
    ticks(2, 10);
    ck_assert_int_eq(fake_db_visits_total(), 0);
    count(300);
    visits_flush(true);
    ck_assert_int_eq(fake_db_visits_total(), 800);
    ck_assert_int_eq(fake_db_log_rows(), 0);
}
END_TEST

START_TEST(an_apply_that_failed_is_rebuilt_and_counted_once)
{
    count(600);
    ticks(2, 10);
    /* the first part's statement fails before it did anything, the next one's after it committed */
    fake_db_fail_applies(1, false);
    ticks(3, 2500);
    fake_db_fail_applies(1, true);
    ticks(3, 2500);
    count(400);
    visits_flush(true);
    ck_assert_int_eq(fake_db_visits_total(), 1000);
    ck_assert_int_eq(fake_db_log_rows(), 0);
    for (int l = 1; l <= LINKS; l++)
        ck_assert_int_eq(fake_db_visits(l, NULL), 1000 / LINKS);
}
END_TEST

START_TEST(a_rebuild_that_could_not_read_forgets_nothing)
{
    count(700);
    ticks(2, 10);
    /* every part's statement fails, and so do the first reads of what is left of their log rows: each part
     * keeps its sum and its log rows' ids until a read succeeds */
    fake_db_fail_applies(VWIN_PARTS, false);
    fake_db_fail_reads(VWIN_PARTS);
    ticks(4 * VWIN_PARTS, 2500);
    visits_flush(true);
    ck_assert_int_eq(fake_db_visits_total(), 700);
    ck_assert_int_eq(fake_db_log_rows(), 0);
}
END_TEST

START_TEST(a_dead_masters_rows_are_adopted_once)
{
    count(400);
    ticks(2, 10);
    int rows = fake_db_log_rows();
    ck_assert_int_gt(rows, 0);
    /* the same rows again under another batch id: another master's, which died before adding them */
    fake_db_log_copy(77);
    fake_db_log_age();
    ticks(2, 31 * 1000);
    visits_flush(true);
    ck_assert_int_eq(fake_db_visits_total(), 800);
    ck_assert_int_eq(fake_db_log_rows(), 0);
}
END_TEST

START_TEST(an_unreadable_log_row_is_left_alone)
{
    static const unsigned char junk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    fake_db_log_put(99, 3, junk, sizeof(junk));
    fake_db_log_put(98, 4, junk, 0);
    fake_db_log_age();
    count(100);
    ticks(2, 31 * 1000);
    visits_flush(true);
    ck_assert_int_eq(fake_db_visits_total(), 100);
    /* both stay for an operator to look at; nothing was counted from them */
    ck_assert_int_eq(fake_db_log_rows(), 2);
}
END_TEST

/* With HOP_VISITS_PG_MS=pg_ms: how long (ms of the fake clock) the first part waits under steady visits, once
 * every part's statement took 20 ms in PostgreSQL; -1 when none went within the window's minute. */
static long long first_wait(const char *pg_ms)
{
    setenv("HOP_VISITS_PG_MS", pg_ms, 1);
    ck_assert_int_eq(config_load(), 0);
    fake_db_apply_ms(20);
    ticks(400, 10); /* what an earlier call left in the window goes first */
    long long before = fake_db_visits_total();
    count(1000);
    ticks(400, 10); /* idle after a second: every part goes, and what its statement took is learned */
    ck_assert_int_eq(fake_db_visits_total(), before + 1000);
    before += 1000;
    for (long long t = 100; t <= 60 * 1000; t += 100) {
        count(20);
        ticks(10, 10);
        if (fake_db_visits_total() > before)
            return t;
    }
    return -1;
}

START_TEST(a_part_waits_for_its_share_of_postgresql)
{
    /* a part waits 1000 / HOP_VISITS_PG_MS times what its statement takes, for each of the 16 parts: a fifth
     * of the share waits five times as long */
    long long fifty = first_wait("50"), ten = first_wait("10");
    unsetenv("HOP_VISITS_PG_MS");
    ck_assert_int_eq(config_load(), 0);
    ck_assert_int_gt(fifty, 250);
    ck_assert_int_gt(ten, 0);
    ck_assert_msg(ten >= 4 * fifty && ten <= 6 * fifty, "waited %lld ms at 10 ms/s, %lld at 50", ten, fifty);
}
END_TEST

/* ---- the window's rows: values kept once per part ---------------------------------------------------------
 */

/* One row of link (part 0 when a multiple of VWIN_PARTS), hour, dimension and value into b, at index i. */
static void put_row(struct visit_rows *b, size_t i, long long link, int hour, int dim, const char *value)
{
    b->link_id[i] = link;
    b->hour[i] = hour;
    b->dim[i] = dim;
    b->value[i] = value;
    b->humans[i] = 2;
    b->bots[i] = 1;
    b->n = i + 1;
}

/* Rows of part 0, one a batch (link 16 * (k + 1), hour 1000, dimension 4, value value(k)) until the window
 * says part 0 lacks room or max are in: how many went in. */
static size_t fill_part0(const char *(*value)(size_t k, char *buf), size_t max)
{
    struct visit_rows b;
    vwin_rows_alloc(&b, 1);
    size_t k = 0;
    for (; k < max; k++) {
        char buf[VISITS_VALUE_MAX + 1];
        put_row(&b, 0, 16 * ((long long)k + 1), 1000, 4, value(k, buf));
        if (vwin_lacks_room(&b) >= 0) {
            ck_assert_int_eq(vwin_lacks_room(&b), 0);
            break;
        }
        vwin_add(&b, 7, 1);
    }
    vwin_rows_free(&b);
    return k;
}

static const char *same_value(size_t k, char *buf)
{
    (void)k;
    (void)buf;
    return "Samsung Internet";
}

/* 60 characters of its own for each row */
static const char *long_value(size_t k, char *buf)
{
    snprintf(buf, VISITS_VALUE_MAX + 1, "%06u%s", (unsigned)(k % 1000000),
             "-utm-campaign-with-a-rather-long-name-of-its-own-xxxxxx");
    return buf;
}

START_TEST(a_repeated_value_is_kept_once)
{
    /* 1 MiB: about 65 KB a part. With each value inline (104 bytes a row) a part held 630 rows; with the
     * value kept once in the part's arena, about 60 bytes a row */
    vwin_init(1 << 20);
    size_t n = fill_part0(same_value, 100000);
    ck_assert_msg(n >= 1000 && n <= 1200, "part 0 took %zu rows of one value", n);
    ck_assert_int_eq(vwin_nrows(0), n);
    ck_assert(vwin_nearly_full(0));
    struct visit_rows r;
    vwin_rows(0, &r);
    ck_assert_int_eq(r.n, n);
    for (size_t i = 0; i < r.n; i++) {
        ck_assert_str_eq(r.value[i], "Samsung Internet");
        ck_assert_int_eq(r.link_id[i], 16 * ((long long)i + 1));
    }
    vwin_rows_free(&r);
}
END_TEST

START_TEST(distinct_long_values_fill_the_arena_first)
{
    /* 8 bytes of arena a row of room: rows of 61-byte values of their own stop the part at about an eighth of
     * its rows, nearly full at three quarters of that, and every value reads back whole */
    vwin_init(1 << 20);
    size_t nearly = 0, n = 0;
    struct visit_rows b;
    vwin_rows_alloc(&b, 1);
    for (;; n++) {
        char buf[VISITS_VALUE_MAX + 1];
        put_row(&b, 0, 16 * ((long long)n + 1), 1000, 4, long_value(n, buf));
        if (vwin_lacks_room(&b) >= 0)
            break;
        vwin_add(&b, 7, 1);
        if (!nearly && vwin_nearly_full(0))
            nearly = n + 1;
    }
    vwin_rows_free(&b);
    ck_assert_msg(n >= 120 && n <= 160, "part 0 took %zu rows of values of their own", n);
    ck_assert_msg(nearly >= n * 7 / 10 && nearly <= n * 8 / 10, "nearly full at %zu of %zu", nearly, n);
    struct visit_rows r;
    vwin_rows(0, &r);
    for (size_t i = 0; i < r.n; i++) {
        char want[VISITS_VALUE_MAX + 1];
        ck_assert_str_eq(r.value[i], long_value(i, want));
    }
    vwin_rows_free(&r);
    /* another part is not held up by part 0's values */
    vwin_rows_alloc(&b, 1);
    put_row(&b, 0, 17, 1000, 4, "x");
    ck_assert_int_eq(vwin_lacks_room(&b), -1);
    vwin_rows_free(&b);
}
END_TEST

START_TEST(rows_sum_and_a_cleared_part_starts_over)
{
    vwin_init(1 << 20);
    struct visit_rows b;
    vwin_rows_alloc(&b, 4);
    put_row(&b, 0, 32, 1000, 0, "");
    put_row(&b, 1, 32, 1000, 4, "Firefox");
    put_row(&b, 2, 32, 1000, 4, "Firefox");
    put_row(&b, 3, 32, 1001, 4, "Firefox");
    vwin_add(&b, 7, 1);
    vwin_add(&b, 8, 2);
    vwin_rows_free(&b);
    struct visit_rows r;
    vwin_rows(0, &r);
    ck_assert_int_eq(r.n, 3);
    ck_assert_str_eq(r.value[0], "");
    ck_assert_str_eq(r.value[1], "Firefox");
    ck_assert_int_eq(r.humans[1], 8);
    ck_assert_int_eq(r.bots[1], 4);
    ck_assert_int_eq(r.hour[2], 1001);
    ck_assert_int_eq(r.humans[2], 4);
    vwin_rows_free(&r);
    ck_assert_int_eq(vwin_part_visits(0), 6);
    vwin_clear(0);
    ck_assert_int_eq(vwin_nrows(0), 0);
    ck_assert_int_eq(fill_part0(long_value, 100000) > 100, 1);
    vwin_rows(0, &r);
    char want[VISITS_VALUE_MAX + 1];
    ck_assert_str_eq(r.value[0], long_value(0, want));
    vwin_rows_free(&r);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("visit_window");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, batches_wait_in_the_log);
    tcase_add_test(tc, a_graceful_stop_adds_everything);
    tcase_add_test(tc, an_apply_that_failed_is_rebuilt_and_counted_once);
    tcase_add_test(tc, a_rebuild_that_could_not_read_forgets_nothing);
    tcase_add_test(tc, a_dead_masters_rows_are_adopted_once);
    tcase_add_test(tc, an_unreadable_log_row_is_left_alone);
    tcase_add_test(tc, a_part_waits_for_its_share_of_postgresql);
    suite_add_tcase(s, tc);
    TCase *rows = tcase_create("rows");
    tcase_add_test(rows, a_repeated_value_is_kept_once);
    tcase_add_test(rows, distinct_long_values_fill_the_arena_first);
    tcase_add_test(rows, rows_sum_and_a_cleared_part_starts_over);
    suite_add_tcase(s, rows);
    return s;
}
