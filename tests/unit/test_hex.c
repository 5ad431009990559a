/* Unit tests for fcgi-app/hex.c: every byte's digit value, and encoding round-trips through it. */
#include "hex.h"
#include "unit.h"

#include <string.h>

START_TEST(value_of_every_byte)
{
    for (int c = 0; c < 256; c++) {
        int want = -1;
        if (c >= '0' && c <= '9')
            want = c - '0';
        else if (c >= 'a' && c <= 'f')
            want = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            want = c - 'A' + 10;
        ck_assert_int_eq(hex_value((unsigned char)c), want);
    }
}
END_TEST

START_TEST(encode_lower_case_and_terminated)
{
    const unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff, 0x10};
    char out[2 * sizeof(in) + 1];
    memset(out, 'z', sizeof(out));
    hex_encode(in, sizeof(in), out);
    ck_assert_str_eq(out, "000fa5ff10");
}
END_TEST

START_TEST(encode_nothing)
{
    char out[1] = {'z'};
    hex_encode((const unsigned char *)"", 0, out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(round_trip_every_byte)
{
    unsigned char in[256];
    char out[2 * sizeof(in) + 1];
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    hex_encode(in, sizeof(in), out);
    ck_assert_uint_eq(strlen(out), 2 * sizeof(in));
    for (int i = 0; i < 256; i++) {
        int hi = hex_value((unsigned char)out[2 * i]), lo = hex_value((unsigned char)out[2 * i + 1]);
        ck_assert_int_eq(hi * 16 + lo, i);
    }
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("hex");
    TCase *tc = tcase_create("hex");
    tcase_add_test(tc, value_of_every_byte);
    tcase_add_test(tc, encode_lower_case_and_terminated);
    tcase_add_test(tc, encode_nothing);
    tcase_add_test(tc, round_trip_every_byte);
    suite_add_tcase(s, tc);
    return s;
}
