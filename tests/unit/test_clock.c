/* Unit tests for fcgi-app/clock.c: the clocks never go back and agree with each other. */
#include "clock.h"
#include "unit.h"

#include <time.h>

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

Suite *unit_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, monotonic);
    tcase_add_test(tc, clocks_agree);
    tcase_add_test(tc, measures_a_sleep);
    suite_add_tcase(s, tc);
    return s;
}
