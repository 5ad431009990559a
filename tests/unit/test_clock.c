/* Unit tests for fcgi-app/clock.c: the clocks never go back and agree with each other; without
 * HOP_TEST_CLOCK_FILE the clocks of ages and expiry are the real ones, with it they move by its offset. */
#include "clock.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

START_TEST(monotonic)
{
    long long ms = clock_ms(), us = clock_us();
    for (int i = 0; i < 1000; i++) {
        long long ms2 = clock_ms(), us2 = clock_us();
        ck_assert_int_ge(ms2, ms);
        ck_assert_int_ge(us2, us);
        ms = ms2;
        us = us2;
    }
}
END_TEST

START_TEST(clocks_agree)
{
    long long ms = clock_ms();
    long long us = clock_us();
    long long coarse = clock_coarse_ms();
    /* the coarse clock lags by at most a tick (1 to 10 ms); allow for a busy machine */
    ck_assert_int_le(coarse, clock_ms());
    ck_assert_int_ge(coarse, ms - 100);
    ck_assert_int_ge(us / 1000, ms);
    ck_assert_int_le(us / 1000, ms + 100);
}
END_TEST

START_TEST(measures_a_sleep)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    long long t0 = clock_ms();
    nanosleep(&ts, NULL);
    ck_assert_int_ge(clock_ms() - t0, 20);
}
END_TEST

static void write_offset(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Last: the variable is read once per process, and under valgrind the tests share one. */
START_TEST(test_offset_moves_ages_and_expiry)
{
    if (!clock_test_file()) {
        ck_assert_int_le(clock_age_ms() - clock_coarse_ms(), 100);
        ck_assert_int_le(clock_wall_s() - (long long)time(NULL), 1);
    }
    char path[64];
    snprintf(path, sizeof(path), "/tmp/hop-clock-%d", (int)getpid());
    write_offset(path, "660\n");
    setenv("HOP_TEST_CLOCK_FILE", path, 1);
    if (clock_test_file()) { /* not when an earlier test in this process read the variable unset */
        ck_assert_str_eq(clock_test_file(), path);
        long long age = clock_age_ms() - clock_coarse_ms();
        ck_assert_int_ge(age, 660 * 1000 - 100);
        ck_assert_int_le(age, 660 * 1000 + 100);
        ck_assert_int_ge(clock_wall_s() - (long long)time(NULL), 659);
        /* read again at most once a second */
        write_offset(path, "-30\n");
        struct timespec ts = {.tv_sec = 1, .tv_nsec = 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        ck_assert_int_le(clock_wall_s() - (long long)time(NULL), -29);
        unlink(path);
        nanosleep(&ts, NULL);
        ck_assert_int_le(clock_age_ms() - clock_coarse_ms(), 100);
    }
    unlink(path);
    unsetenv("HOP_TEST_CLOCK_FILE");
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, monotonic);
    tcase_add_test(tc, clocks_agree);
    tcase_add_test(tc, measures_a_sleep);
    tcase_add_test(tc, test_offset_moves_ages_and_expiry);
    suite_add_tcase(s, tc);
    return s;
}
