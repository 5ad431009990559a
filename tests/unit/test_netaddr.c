/* Unit tests for fcgi-app/netaddr.c: which listen addresses pass without --listen-public, how a listen spec
 * splits, and the FCGI_WEB_SERVER_ADDRS peer allow-list. */
#include "netaddr.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

/* an address literal as a sockaddr of its family */
static const struct sockaddr *sa_of(const char *lit, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, lit, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else {
        ck_assert_int_eq(inet_pton(AF_INET6, lit, &v6->sin6_addr), 1);
        v6->sin6_family = AF_INET6;
    }
    return (const struct sockaddr *)ss;
}

static const struct {
    const char *addr;
    enum netaddr_class want;
} classes[] = {
    {"127.0.0.1", NETADDR_LOOPBACK},
    {"127.255.0.9", NETADDR_LOOPBACK},
    {"::1", NETADDR_LOOPBACK},
    {"::ffff:127.0.0.1", NETADDR_LOOPBACK},
    {"10.0.0.1", NETADDR_PRIVATE},
    {"10.201.3.2", NETADDR_PRIVATE},
    {"172.16.0.1", NETADDR_PRIVATE},
    {"172.31.255.254", NETADDR_PRIVATE},
    {"192.168.1.1", NETADDR_PRIVATE},
    {"100.64.0.1", NETADDR_PRIVATE},
    {"100.127.255.1", NETADDR_PRIVATE},
    {"169.254.1.1", NETADDR_PRIVATE},
    {"fd00::1", NETADDR_PRIVATE},
    {"fc12::1", NETADDR_PRIVATE},
    {"fe80::1", NETADDR_PRIVATE},
    {"febf::1", NETADDR_PRIVATE},
    {"::ffff:10.1.2.3", NETADDR_PRIVATE},
    {"0.0.0.0", NETADDR_WILDCARD},
    {"::", NETADDR_WILDCARD},
    {"::ffff:0.0.0.0", NETADDR_WILDCARD},
    {"8.8.8.8", NETADDR_PUBLIC},
    {"172.15.255.255", NETADDR_PUBLIC},
    {"172.32.0.1", NETADDR_PUBLIC},
    {"192.169.0.1", NETADDR_PUBLIC},
    {"100.128.0.1", NETADDR_PUBLIC},
    {"11.0.0.1", NETADDR_PUBLIC},
    {"126.255.255.255", NETADDR_PUBLIC},
    {"128.0.0.1", NETADDR_PUBLIC},
    {"2001:db8::1", NETADDR_PUBLIC},
    {"fec0::1", NETADDR_PUBLIC},
    {"::ffff:8.8.8.8", NETADDR_PUBLIC},
    {"::2", NETADDR_PUBLIC},
};

START_TEST(classify_each_range_and_its_edges)
{
    struct sockaddr_storage ss;
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        enum netaddr_class got = netaddr_classify(sa_of(classes[i].addr, &ss));
        ck_assert_msg(got == classes[i].want, "%s: got %s, want %s", classes[i].addr, netaddr_class_name(got),
                      netaddr_class_name(classes[i].want));
    }
}
END_TEST

START_TEST(unknown_family_is_never_trusted)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    ck_assert_int_eq(netaddr_classify((const struct sockaddr *)&un), NETADDR_PUBLIC);
}
END_TEST

START_TEST(listen_rule_without_and_with_the_flag)
{
    struct sockaddr_storage ss;
    const char *why = NULL;
    ck_assert(netaddr_listen_allowed(sa_of("127.0.0.1", &ss), false, &why));
    ck_assert(netaddr_listen_allowed(sa_of("10.201.0.2", &ss), false, &why));
    ck_assert(netaddr_listen_allowed(sa_of("fd00::2", &ss), false, &why));
    ck_assert_ptr_null(why);
    ck_assert(!netaddr_listen_allowed(sa_of("0.0.0.0", &ss), false, &why));
    ck_assert_ptr_nonnull(strstr(why, "wildcard"));
    why = NULL;
    ck_assert(!netaddr_listen_allowed(sa_of("::", &ss), false, &why));
    ck_assert_ptr_nonnull(strstr(why, "HOP_LISTEN_PUBLIC"));
    why = NULL;
    ck_assert(!netaddr_listen_allowed(sa_of("203.0.113.7", &ss), false, &why));
    ck_assert_ptr_nonnull(strstr(why, "public"));
    ck_assert(netaddr_listen_allowed(sa_of("0.0.0.0", &ss), true, &why));
    ck_assert(netaddr_listen_allowed(sa_of("203.0.113.7", &ss), true, &why));
}
END_TEST

START_TEST(split_specs)
{
    char host[64], port[16];
    const char *why = NULL;
    ck_assert_int_eq(netaddr_split("127.0.0.1:9000", host, sizeof(host), port, sizeof(port), &why), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_str_eq(port, "9000");
    ck_assert_int_eq(netaddr_split("[::1]:9001", host, sizeof(host), port, sizeof(port), &why), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_str_eq(port, "9001");
    /* an empty host is kept empty: the caller treats it as the wildcard it is */
    ck_assert_int_eq(netaddr_split(":9000", host, sizeof(host), port, sizeof(port), &why), 0);
    ck_assert_str_eq(host, "");
    ck_assert_int_eq(netaddr_split("[]:9000", host, sizeof(host), port, sizeof(port), &why), 0);
    ck_assert_str_eq(host, "");
    ck_assert_int_eq(netaddr_split("localhost", host, sizeof(host), port, sizeof(port), &why), -1);
    ck_assert_int_eq(netaddr_split("localhost:", host, sizeof(host), port, sizeof(port), &why), -1);
    ck_assert_int_eq(netaddr_split("host.example.org:1", host, 8, port, sizeof(port), &why), -1);
    ck_assert_int_eq(netaddr_split("h:123456789012345678", host, sizeof(host), port, 8, &why), -1);
    ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(allow_list_parses_both_families)
{
    struct netaddr_allow al;
    const char *why = NULL;
    ck_assert_int_eq(netaddr_allow_parse(NULL, &al, &why), 0);
    ck_assert_int_eq(al.n, 0);
    ck_assert_int_eq(netaddr_allow_parse("  ", &al, &why), 0);
    ck_assert_int_eq(al.n, 0);
    ck_assert_int_eq(netaddr_allow_parse("10.201.0.1, 127.0.0.1 ,::1", &al, &why), 0);
    ck_assert_int_eq(al.n, 3);
    ck_assert_int_eq(netaddr_allow_parse("10.201.0.1,,127.0.0.1", &al, &why), -1);
    ck_assert_int_eq(netaddr_allow_parse("10.201.0.1,", &al, &why), -1);
    ck_assert_int_eq(netaddr_allow_parse("10.201.0.0/24", &al, &why), -1);
    ck_assert_int_eq(netaddr_allow_parse("web.example.org", &al, &why), -1);
    ck_assert_ptr_nonnull(why);
    char many[33 * 10 + 1] = "";
    for (int i = 0; i < 33; i++)
        strcat(many, i ? ",10.0.0.1" : "10.0.0.1");
    ck_assert_int_eq(netaddr_allow_parse(many, &al, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "32"));
}
END_TEST

START_TEST(allow_list_matches_exactly)
{
    struct netaddr_allow al;
    const char *why = NULL;
    struct sockaddr_storage ss;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    ck_assert_int_eq(netaddr_allow_parse("", &al, &why), 0);
    ck_assert(netaddr_allow_match(&al, sa_of("203.0.113.7", &ss)));
    ck_assert_int_eq(netaddr_allow_parse("10.201.0.1,fd00::5", &al, &why), 0);
    ck_assert(netaddr_allow_match(&al, sa_of("10.201.0.1", &ss)));
    /* a dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d */
    ck_assert(netaddr_allow_match(&al, sa_of("::ffff:10.201.0.1", &ss)));
    ck_assert(netaddr_allow_match(&al, sa_of("fd00::5", &ss)));
    ck_assert(!netaddr_allow_match(&al, sa_of("10.201.0.2", &ss)));
    ck_assert(!netaddr_allow_match(&al, sa_of("127.0.0.1", &ss)));
    ck_assert(!netaddr_allow_match(&al, sa_of("fd00::6", &ss)));
    /* a Unix socket peer has no address to check: its file mode is its guard */
    ck_assert(netaddr_allow_match(&al, (const struct sockaddr *)&un));
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("netaddr");
    TCase *tc = tcase_create("netaddr");
    tcase_add_test(tc, classify_each_range_and_its_edges);
    tcase_add_test(tc, unknown_family_is_never_trusted);
    tcase_add_test(tc, listen_rule_without_and_with_the_flag);
    tcase_add_test(tc, split_specs);
    tcase_add_test(tc, allow_list_parses_both_families);
    tcase_add_test(tc, allow_list_matches_exactly);
    suite_add_tcase(s, tc);
    return s;
}
