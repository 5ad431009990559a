/* Unit tests for handlers/core/visitor.c: the Referer's host without uriparser, UTM values decoded, bounded
 * at a character boundary, and dropped when they are not clean UTF-8 text. */
#include "visitor.h"
#include "unit.h"

#include <string.h>

static const char *host(const char *ref)
{
    static char out[VISITS_VALUE_MAX + 1];
    visitor_referrer_host(ref, out, sizeof(out));
    return out;
}

START_TEST(referrer_hosts)
{
    ck_assert_str_eq(host("https://A.Example:8443/from?x=1"), "a.example");
    ck_assert_str_eq(host("http://b.example/"), "b.example");
    ck_assert_str_eq(host("https://news.example.org/2024/01/a-long/path/with?query=1&b=2#frag"),
                     "news.example.org");
    ck_assert_str_eq(host("https://user:pw@c.example/x"), "c.example");
    ck_assert_str_eq(host("https://d.example?q"), "d.example");
    ck_assert_str_eq(host("http://[2001:db8::1]:80/"), "[2001:db8::1]");
    ck_assert_str_eq(host("android-app://com.slack/"), "com.slack");
    ck_assert_str_eq(host(":: not a url ::"), "");
    ck_assert_str_eq(host("/relative/path"), "");
    ck_assert_str_eq(host("https:///nohost"), "");
    ck_assert_str_eq(host("https://bad host/"), "");
    ck_assert_str_eq(host("https://\xc3\xa9.example/"), "");
    ck_assert_str_eq(host(""), "");
    ck_assert_str_eq(host(NULL), "");
}
END_TEST

START_TEST(long_host_is_cut)
{
    char ref[300] = "https://";
    memset(ref + 8, 'h', 200);
    strcpy(ref + 208, ".example/");
    ck_assert_uint_eq(strlen(host(ref)), VISITS_VALUE_MAX);
}
END_TEST

static const char *utm(const char *query, const char *name)
{
    static char out[VISITS_VALUE_MAX + 1];
    visitor_query_value(query, name, out, sizeof(out));
    return out;
}

START_TEST(utm_values)
{
    const char *q = "a=1&utm_source=news%20letter&utm_medium=email+blast&utm_campaign=caf%C3%A9";
    ck_assert_str_eq(utm(q, "utm_source"), "news letter");
    ck_assert_str_eq(utm(q, "utm_medium"), "email blast");
    ck_assert_str_eq(utm(q, "utm_campaign"), "caf\xc3\xa9");
    ck_assert_str_eq(utm("xutm_source=a&utm_sourcex=b", "utm_source"), "");
    ck_assert_str_eq(utm("utm_source=", "utm_source"), "");
    ck_assert_str_eq(utm(NULL, "utm_source"), "");
    ck_assert_str_eq(utm("utm_source=a&utm_source=b", "utm_source"), "a");
}
END_TEST

START_TEST(utm_hostile)
{
    /* invalid UTF-8, overlong forms, surrogates, control bytes, NUL and broken escapes: dropped */
    const char *bad[] = {"utm_source=%FF%FE", "utm_source=%C0%AF", "utm_source=%ED%A0%80", "utm_source=a%0Ab",
                         "utm_source=a%00b",  "utm_source=%zz",    "utm_source=%C3",       "utm_source=%7F"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(strcmp(utm(bad[i], "utm_source"), "") == 0, "kept: %s", bad[i]);
}
END_TEST

START_TEST(utm_cut_at_a_character)
{
    /* 40 two-byte characters (80 bytes) keep 31 whole ones: 62 bytes, never half of one */
    char q[512] = "utm_campaign=";
    for (int i = 0; i < 40; i++)
        strcat(q, "%C3%A9");
    const char *v = utm(q, "utm_campaign");
    ck_assert_uint_eq(strlen(v), 62);
    /* 1000 plain bytes keep 63 */
    char big[1100] = "utm_source=";
    memset(big + 11, 'x', 1000);
    big[1011] = '\0';
    ck_assert_uint_eq(strlen(utm(big, "utm_source")), VISITS_VALUE_MAX);
    /* a long value cut inside an escape or a character is still kept, whole characters only */
    char q2[1100] = "utm_source=";
    for (int i = 0; i < 100; i++)
        strcat(q2, "%E2%82%AC");
    ck_assert_uint_eq(strlen(utm(q2, "utm_source")), 63);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("visitor");
    TCase *tc = tcase_create("visitor");
    tcase_add_test(tc, referrer_hosts);
    tcase_add_test(tc, long_host_is_cut);
    tcase_add_test(tc, utm_values);
    tcase_add_test(tc, utm_hostile);
    tcase_add_test(tc, utm_cut_at_a_character);
    suite_add_tcase(s, tc);
    return s;
}
