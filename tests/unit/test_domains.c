/* Unit tests for handlers/core/domains.c's name check: what `hop domains add` accepts as a short domain. */
#include "domains.h"
#include "unit.h"

#include <string.h>

START_TEST(accepts_host_names)
{
    const char *good[] = {"sho.rt",    "go.acme.com", "a.test", "xn--bcher-kva.test",
                          "localhost", "a-b.c1.test", "x.0x7g", "1.example"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(domains_check_name(good[i]) == NULL, "refused %s: %s", good[i],
                      domains_check_name(good[i]));
}
END_TEST

/* each bad name, and a word its sentence must hold */
START_TEST(refuses_with_a_reason)
{
    const struct {
        const char *name, *why;
    } bad[] = {
        {"", "1 to 253"},
        {"go.test.", "end with a dot"},
        {"go.test:8443", "port"},
        {"Go.test", "lower case"},
        {"b\xc3\xbc"
         "cher.test",
         "xn--"},
        {"a_b.test", "may only hold"},
        {"a b.test", "may only hold"},
        {"1.2.3.4", "IP address"},
        {"10.1", "IP address"},
        {"a.0x7f", "IP address"},
        {"a.0X7F", "lower case"},
        {"[::1]", "IP address"},
        {"-a.test", "labels"},
        {"a..test", "labels"},
        {".test", "labels"},
        {"go.test/x", "may only hold"},
        {"user@go.test", "may only hold"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = domains_check_name(bad[i].name);
        ck_assert_msg(why != NULL, "accepted %s", bad[i].name);
        ck_assert_msg(strstr(why, bad[i].why) != NULL, "%s: \"%s\" does not say %s", bad[i].name, why,
                      bad[i].why);
    }
}
END_TEST

START_TEST(length_limit)
{
    char name[300];
    /* 63-character labels: four of them and the dots make 255 */
    memset(name, 'a', sizeof(name));
    for (int i = 63; i < 255; i += 64)
        name[i] = '.';
    name[253] = '\0';
    ck_assert_ptr_null(domains_check_name(name));
    name[253] = 'a';
    name[254] = '\0';
    ck_assert_ptr_nonnull(domains_check_name(name));
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("domains");
    TCase *tc = tcase_create("domains");
    tcase_add_test(tc, accepts_host_names);
    tcase_add_test(tc, refuses_with_a_reason);
    tcase_add_test(tc, length_limit);
    suite_add_tcase(s, tc);
    return s;
}
