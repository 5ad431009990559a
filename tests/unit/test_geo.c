/* Unit tests for handlers/core/geo.c against a database written by tests/lib/make-mmdb.pl: IPv4 and IPv6
 * lookups, addresses the database lacks, text that is not an address, no database at all. */
#include "geo.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string.h>

static char path[32];

static void setup(void)
{
    strcpy(path, "/tmp/hop-test-geo-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "perl tests/lib/make-mmdb.pl %s 192.0.2.0/24=FR 2001:db8::/32=br 198.51.100.0/24=X1 >/dev/null",
             path);
    ck_assert_msg(system(cmd) == 0,
                  "make-mmdb.pl failed (run from the repository; libmaxmind-db-writer-perl)");
    ck_assert_int_eq(geo_init(path), 0);
}

static void teardown(void)
{
    geo_close();
    unlink(path);
}

static const char *country(const char *addr)
{
    static char out[4];
    geo_country(addr, out, sizeof(out));
    return out;
}

START_TEST(lookups)
{
    ck_assert_str_eq(country("192.0.2.77"), "FR");
    ck_assert_str_eq(country("2001:db8:1::5"), "BR");
    ck_assert_str_eq(country("203.0.113.1"), "");
    ck_assert_str_eq(country("2001:db9::1"), "");
    /* a code that is not two letters is no country */
    ck_assert_str_eq(country("198.51.100.1"), "");
}
END_TEST

START_TEST(not_addresses)
{
    const char *bad[] = {"",        "localhost", "192.0.2", "192.0.2.1.5", "192.0.2.1:80", "[2001:db8::1]",
                         "../../x", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_str_eq(country(bad[i]), "");
}
END_TEST

START_TEST(no_database)
{
    geo_close();
    ck_assert_int_eq(geo_init(NULL), 0);
    ck_assert_str_eq(country("192.0.2.77"), "");
    ck_assert_int_eq(geo_init("/nonexistent.mmdb"), -1);
    ck_assert_str_eq(country("192.0.2.77"), "");
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("geo");
    TCase *tc = tcase_create("geo");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lookups);
    tcase_add_test(tc, not_addresses);
    tcase_add_test(tc, no_database);
    suite_add_tcase(s, tc);
    return s;
}
