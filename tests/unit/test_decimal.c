/* Unit tests for fcgi-app/decimal.c: zero, one digit, every power of ten and its neighbours, and 2^64 - 1,
 * each against snprintf's digits. */
#include "decimal.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static void check_digits(unsigned long long v)
{
    char want[32], got[DECIMAL_MAX + 1];
    snprintf(want, sizeof(want), "%llu", v);
    memset(got, 'z', sizeof(got));
    size_t n = decimal_u64(got, v);
    ck_assert_uint_eq(n, strlen(want));
    got[n] = '\0';
    ck_assert_str_eq(got, want);
}

START_TEST(zero_and_one_digit)
{
    for (unsigned long long v = 0; v < 10; v++)
        check_digits(v);
}
END_TEST

START_TEST(powers_of_ten_and_neighbours)
{
    unsigned long long p = 10;
    for (int i = 1; i < 20; i++, p *= 10) {
        check_digits(p - 1);
        check_digits(p);
        check_digits(p + 1);
    }
}
END_TEST

START_TEST(largest)
{
    check_digits(~0ULL);
    check_digits(~0ULL - 1);
}
END_TEST

START_TEST(writes_no_more_than_its_digits)
{
    char out[DECIMAL_MAX + 1];
    memset(out, 'z', sizeof(out));
    ck_assert_uint_eq(decimal_u64(out, 302), 3);
    ck_assert_int_eq(out[3], 'z');
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("decimal");
    TCase *tc = tcase_create("decimal");
    tcase_add_test(tc, zero_and_one_digit);
    tcase_add_test(tc, powers_of_ten_and_neighbours);
    tcase_add_test(tc, largest);
    tcase_add_test(tc, writes_no_more_than_its_digits);
    suite_add_tcase(s, tc);
    return s;
}
