/* Unit tests for handlers/cursor.c: list cursors round-trip and nothing else decodes. */
#include "cursor.h"
#include "unit.h"

#include <stdlib.h>

START_TEST(round_trip)
{
    const long long ids[] = {1, 9, 10, 123456, 9223372036854775807LL};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char c[CURSOR_MAX];
        long long back = 0;
        cursor_encode(ids[i], c);
        ck_assert_int_eq(cursor_decode(c, &back), 0);
        ck_assert_int_eq(back, ids[i]);
    }
}
END_TEST

START_TEST(rejects_foreign)
{
    long long id = 0;
    const char *bad[] = {"",         "zzzz",    "djE6",
                         "djE6MA",   "djE6LTE", "djI6MQ",
                         "djE6MQ==", "djE6MQ!", "djE6MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx",
                         "djE6MR",   "dj E6MQ", "djE6MWE"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(cursor_decode(bad[i], &id) == -1, "accepted %s", bad[i]);
}
END_TEST

START_TEST(one_spelling)
{
    /* "djE6MQ" is v1:1; changing the unused low bits of its last character must not decode */
    long long id = 0;
    ck_assert_int_eq(cursor_decode("djE6MQ", &id), 0);
    ck_assert_int_eq(cursor_decode("djE6MR", &id), -1);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("cursor");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, rejects_foreign);
    tcase_add_test(tc, one_spelling);
    suite_add_tcase(s, tc);
    return s;
}
