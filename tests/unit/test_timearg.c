/* Unit tests for handlers/timearg.c: the stats API's dates and RFC 3339 times, strictly. */
#include "timearg.h"
#include "unit.h"

START_TEST(accepts)
{
    struct timearg t;
    ck_assert_int_eq(timearg_parse("2026-03-29", &t), 0);
    ck_assert(t.is_date);
    ck_assert_int_eq(t.epoch, 1774742400LL);
    ck_assert_int_eq(timearg_parse("2024-02-29", &t), 0);
    ck_assert_int_eq(timearg_parse("2026-03-29T01:30:00Z", &t), 0);
    ck_assert(!t.is_date);
    ck_assert_int_eq(t.epoch, 1774742400LL + 5400);
    ck_assert_int_eq(timearg_parse("2026-03-29T01:30:00.123456+02:00", &t), 0);
    ck_assert_int_eq(t.epoch, 1774742400LL + 5400 - 7200);
    ck_assert_int_eq(timearg_parse("1970-01-01T00:00:00-05:30", &t), 0);
    ck_assert_int_eq(t.epoch, 19800);
}
END_TEST

START_TEST(refuses)
{
    const char *bad[] = {"",
                         "yesterday",
                         "2026-3-29",
                         "2026-02-29",
                         "2026-13-01",
                         "2026-04-31",
                         "1969-12-31",
                         "2026-03-29 10:00:00Z",
                         "2026-03-29T24:00:00Z",
                         "2026-03-29T10:60:00Z",
                         "2026-03-29T10:00:60Z",
                         "2026-03-29T10:00:00",
                         "2026-03-29T10:00:00z",
                         "2026-03-29T10:00:00.Z",
                         "2026-03-29T10:00:00.1234567Z",
                         "2026-03-29T10:00:00+24:00",
                         "2026-03-29T10:00:00+0200",
                         "2026-03-29T10:00:00Zjunk",
                         "../../etc/passwd",
                         "2026-03-29\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct timearg t;
        ck_assert_msg(timearg_parse(bad[i], &t) == -1, "accepted: %s", bad[i]);
    }
    struct timearg t;
    ck_assert_int_eq(timearg_parse(NULL, &t), -1);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("timearg");
    TCase *tc = tcase_create("timearg");
    tcase_add_test(tc, accepts);
    tcase_add_test(tc, refuses);
    suite_add_tcase(s, tc);
    return s;
}
