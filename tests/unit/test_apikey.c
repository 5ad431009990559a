/* Unit tests for handlers/apikey.c: the Authorization header, key shape, key generation and hashing. */
#include "apikey.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

START_TEST(bearer_forms)
{
    char tok[64];
    ck_assert_int_eq(apikey_parse_bearer("Bearer abc", tok, sizeof(tok)), 0);
    ck_assert_str_eq(tok, "abc");
    ck_assert_int_eq(apikey_parse_bearer("bearer  abc  ", tok, sizeof(tok)), 0);
    ck_assert_str_eq(tok, "abc");
    ck_assert_int_eq(apikey_parse_bearer("BEARER\tab-c._~+/==", tok, sizeof(tok)), 0);
    ck_assert_str_eq(tok, "ab-c._~+/==");
}
END_TEST

START_TEST(bearer_rejects)
{
    char tok[8];
    const char *bad[] = {NULL,          "",           "Bearer",           "Bearer ",
                         "Basic abc",   "Bearerabc",  "Bearer a b",       "Bearer a\r\nX: y",
                         "Bearer \xff", "Bearer a=b", "Bearer abcdefghij"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(apikey_parse_bearer(bad[i], tok, sizeof(tok)) == -1, "accepted case %zu", i);
}
END_TEST

START_TEST(key_shape)
{
    char key[APIKEY_LEN + 1];
    apikey_new(key);
    ck_assert(apikey_shape(key));
    ck_assert_int_eq(strncmp(key, "hop_", 4), 0);
    char other[APIKEY_LEN + 1];
    apikey_new(other);
    ck_assert_str_ne(key, other);
    ck_assert(!apikey_shape("hop_short"));
    ck_assert(!apikey_shape("pop_0123456789abcdef0123456789abcdef"));
    ck_assert(!apikey_shape("hop_0123456789abcdef0123456789abcde-"));
    ck_assert(apikey_shape("hop_0123456789abcdef0123456789abcdeF"));
}
END_TEST

START_TEST(hash_is_sha256)
{
    unsigned char h[32];
    apikey_hash("abc", h);
    /* FIPS 180-2 test vector */
    static const unsigned char want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                           0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                           0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    ck_assert_mem_eq(h, want, 32);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_add_test(tc, bearer_forms);
    tcase_add_test(tc, bearer_rejects);
    tcase_add_test(tc, key_shape);
    tcase_add_test(tc, hash_is_sha256);
    suite_add_tcase(s, tc);
    return s;
}
