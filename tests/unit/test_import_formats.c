/* Unit tests for handlers/core/import_formats.c: each service's dates and short links read as it writes
 * them, and what is not its form refused. */
#include "import_formats.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static long long date_of(const char *fmt, const char *s)
{
    long long t = -42;
    return import_format_named(fmt)->date(s, &t) < 0 ? -1 : t;
}

static const char *slug_of(const char *fmt, const char *s)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    import_format_named(fmt)->slug(buf);
    return buf;
}

START_TEST(formats_by_name)
{
    const char *names[] = {"bitly", "yourls", "shlink", "kutt", "csv"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_ptr_nonnull(import_format_named(names[i]));
        ck_assert_ptr_nonnull(strstr(import_format_names, names[i]));
    }
    ck_assert_ptr_null(import_format_named("Bitly"));
    ck_assert(import_format_named("kutt")->json);
    ck_assert(!import_format_named("bitly")->json);
}
END_TEST

START_TEST(bitly_dates)
{
    /* 2023-03-01T09:30:00Z is 1677663000 */
    ck_assert_int_eq(date_of("bitly", "2023-03-01T09:30:00+0000"), 1677663000);
    ck_assert_int_eq(date_of("bitly", "2023-03-01T04:30:00-0500"), 1677663000);
    ck_assert_int_eq(date_of("bitly", "2023-03-01T11:00:00+0130"), 1677663000);
    ck_assert_int_eq(date_of("bitly", "2023-03-01 09:30:00"), 1677663000);
    ck_assert_int_eq(date_of("bitly", "2023-03-01T09:30:00Z"), 1677663000);
    ck_assert_int_eq(date_of("bitly", "2023-03-01T09:30:00+00:00"), 1677663000);
    const char *bad[] = {"03/01/2023 09:30",
                         "2023-03-01",
                         "2023-03-01T09:30:00+000",
                         "2023-03-01T09:30:00+00000",
                         "2023-03-01T09:30:00+00a0",
                         "2023-02-30T09:30:00+0000",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(date_of("bitly", bad[i]) == -1, "accepted %s", bad[i]);
}
END_TEST

START_TEST(bitly_slugs)
{
    ck_assert_str_eq(slug_of("bitly", "https://bit.ly/3xYzAbC"), "3xYzAbC");
    ck_assert_str_eq(slug_of("bitly", "bit.ly/4kQwErT"), "4kQwErT");
    ck_assert_str_eq(slug_of("bitly", "brand.example/Spring-Launch/"), "Spring-Launch");
    ck_assert_str_eq(slug_of("bitly", "brand.example/first, brand.example/second"), "first");
    ck_assert_str_eq(slug_of("bitly", "3xYzAbC"), "3xYzAbC");
}
END_TEST

START_TEST(kutt_dates)
{
    /* JavaScript's toISOString, PostgreSQL's ISO time, and SQLite's zone-less UTC */
    ck_assert_int_eq(date_of("kutt", "2024-01-05T10:20:30.000Z"), 1704450030);
    ck_assert_int_eq(date_of("kutt", "2024-01-05T11:20:30+01:00"), 1704450030);
    ck_assert_int_eq(date_of("kutt", "2024-01-05 10:20:30"), 1704450030);
    ck_assert_int_eq(date_of("kutt", "Fri Jan 05 2024"), -1);
}
END_TEST

START_TEST(shlink_and_yourls)
{
    ck_assert_str_eq(slug_of("shlink", "https://s.test/x_y/"), "x_y");
    ck_assert_str_eq(slug_of("shlink", "Abc-1"), "Abc-1");
    ck_assert_int_eq(date_of("yourls", "2012-04-21 10:31:07"), 1335004267);
    ck_assert_int_eq(date_of("yourls", "2012-04-21T10:31:07Z"), -1);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("import_formats");
    TCase *tc = tcase_create("formats");
    tcase_add_test(tc, formats_by_name);
    tcase_add_test(tc, bitly_dates);
    tcase_add_test(tc, bitly_slugs);
    tcase_add_test(tc, kutt_dates);
    tcase_add_test(tc, shlink_and_yourls);
    suite_add_tcase(s, tc);
    return s;
}
