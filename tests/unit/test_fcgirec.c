/* Unit tests for fcgi-app/fcgirec.c: pair lengths on both sides of 128, the bound on a buffer, record
 * headers, and streams cut into records of at most FCGIREC_MAX bytes. */
#include "fcgirec.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

START_TEST(short_pair_one_byte_lengths)
{
    unsigned char buf[64];
    size_t len = 0;
    ck_assert_int_eq(fcgirec_param(buf, &len, sizeof(buf), "AB", 2, "xyz", 3), 0);
    const unsigned char want[] = {2, 3, 'A', 'B', 'x', 'y', 'z'};
    ck_assert_uint_eq(len, sizeof(want));
    ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(long_value_four_byte_length)
{
    static char value[300];
    memset(value, 'v', sizeof(value));
    unsigned char buf[512];
    size_t len = 0;
    ck_assert_int_eq(fcgirec_param(buf, &len, sizeof(buf), "N", 1, value, 127), 0);
    ck_assert_uint_eq(buf[1], 127); /* 127 still fits in one byte */
    len = 0;
    ck_assert_int_eq(fcgirec_param(buf, &len, sizeof(buf), "N", 1, value, 300), 0);
    const unsigned char head[] = {1, 0x80, 0, 0x01, 0x2c, 'N'};
    ck_assert_mem_eq(buf, head, sizeof(head));
    ck_assert_uint_eq(len, 1 + 4 + 1 + 300);
}
END_TEST

START_TEST(full_buffer_refused_unchanged)
{
    unsigned char buf[16];
    size_t len = 0;
    ck_assert_int_eq(fcgirec_param(buf, &len, sizeof(buf), "AB", 2, "cd", 2), 0);
    size_t before = len;
    ck_assert_int_eq(fcgirec_param(buf, &len, sizeof(buf), "NAME", 4, "value", 5), -1);
    ck_assert_uint_eq(len, before);
    size_t past = sizeof(buf) + 1; /* a length past the buffer is refused, not wrapped */
    ck_assert_int_eq(fcgirec_param(buf, &past, sizeof(buf), "", 0, "", 0), -1);
}
END_TEST

START_TEST(record_header)
{
    unsigned char p[32];
    const unsigned char c[3] = {'a', 'b', 'c'};
    ck_assert_uint_eq(fcgirec_record(p, FCGIREC_STDIN, c, 3), 11);
    const unsigned char want[] = {1, FCGIREC_STDIN, 0, 1, 0, 3, 0, 0, 'a', 'b', 'c'};
    ck_assert_mem_eq(p, want, sizeof(want));
    ck_assert_uint_eq(fcgirec_begin(p), FCGIREC_BEGIN_SIZE);
    const unsigned char begin[] = {1, FCGIREC_BEGIN_REQUEST, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    ck_assert_mem_eq(p, begin, sizeof(begin));
}
END_TEST

START_TEST(empty_stream_is_one_empty_record)
{
    unsigned char p[16];
    ck_assert_uint_eq(fcgirec_stream(p, FCGIREC_PARAMS, NULL, 0), 8);
    const unsigned char want[] = {1, FCGIREC_PARAMS, 0, 1, 0, 0, 0, 0};
    ck_assert_mem_eq(p, want, sizeof(want));
}
END_TEST

START_TEST(long_stream_cut_in_records)
{
    size_t n = 2 * FCGIREC_MAX + 5;
    unsigned char *content = malloc(n), *p = malloc(n + 8 * (n / FCGIREC_MAX + 2));
    ck_assert_ptr_nonnull(content);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        content[i] = (unsigned char)(i * 7);
    size_t o = fcgirec_stream(p, FCGIREC_STDIN, content, n);
    ck_assert_uint_eq(o, n + 4 * 8);
    size_t at = 0, got = 0;
    for (int r = 0; r < 4; r++) {
        size_t len = (size_t)p[at + 4] << 8 | p[at + 5];
        ck_assert_uint_eq(p[at + 1], FCGIREC_STDIN);
        ck_assert_uint_eq(len, r < 2 ? FCGIREC_MAX : r == 2 ? 5 : 0);
        ck_assert_mem_eq(p + at + 8, content + got, len);
        got += len;
        at += 8 + len;
    }
    ck_assert_uint_eq(got, n);
    free(content);
    free(p);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("fcgirec");
    TCase *tc = tcase_create("fcgirec");
    tcase_add_test(tc, short_pair_one_byte_lengths);
    tcase_add_test(tc, long_value_four_byte_length);
    tcase_add_test(tc, full_buffer_refused_unchanged);
    tcase_add_test(tc, record_header);
    tcase_add_test(tc, empty_stream_is_one_empty_record);
    tcase_add_test(tc, long_stream_cut_in_records);
    suite_add_tcase(s, tc);
    return s;
}
