/* Unit tests for handlers/validate.c: slug alphabet and reserved words, URL screening and self-link
 * detection. */
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "unit.h"

static const char SLUG_CHARS[] = "slug must be 1 to 64 characters from A-Z a-z 0-9 _ -";
static const char URL_SCHEME[] = "url must be an absolute http or https URL";
static const char URL_PORT[] = "url port must be a number from 1 to 65535";
static const char URL_NO_HOST[] = "url must include a host name or IP address";
static const char URL_CONTROL[] = "url must not contain control characters such as tab, CR or LF";
static const char URL_SELF[] = "url must not point to one of this service's short links";
static const char URL_HOSTNAME[] =
    "url host must be a domain name of letters, digits and hyphens (punycode for international names)";
static const char URL_USERINFO[] = "url must not contain user information";
static const char URL_SYNTAX[] = "url is not a well-formed URI (RFC 3986)";

static const char BASE[] = "https://sho.rt";
static const char BASE_PORT[] = "https://localhost:8443";

/* Wrappers so a failure names the input rather than just a line number. */
static void slug_ok(const char *s)
{
    const char *d = validate_slug(s, strlen(s));
    ck_assert_msg(d == NULL, "slug \"%s\" rejected: %s", s, d);
}

static void slug_bad(const char *s, const char *want)
{
    const char *d = validate_slug(s, strlen(s));
    ck_assert_msg(d != NULL, "slug \"%s\" accepted", s);
    ck_assert_str_eq(d, want);
}

static void url_ok_base(const char *u, const char *base)
{
    const char *d = validate_url(u, strlen(u), base);
    ck_assert_msg(d == NULL, "url \"%s\" (base %s) rejected: %s", u, base ? base : "none", d);
}

static void url_bad_base(const char *u, const char *base, const char *want)
{
    const char *d = validate_url(u, strlen(u), base);
    ck_assert_msg(d != NULL, "url \"%s\" (base %s) accepted", u, base ? base : "none");
    ck_assert_str_eq(d, want);
}

static void url_ok(const char *u)
{
    url_ok_base(u, NULL);
    url_ok_base(u, BASE);
}

static void url_bad(const char *u, const char *want)
{
    url_bad_base(u, NULL, want);
    url_bad_base(u, BASE, want);
}

/* Builds "http://e.com/aaaa..." of exactly len bytes in a heap buffer sized to len, so ASan and valgrind
 * catch any read past the end (the validator must not rely on a terminator). */
static char *long_url(size_t len)
{
    static const char prefix[] = "http://e.com/";
    char *u = malloc(len);
    ck_assert_ptr_nonnull(u);
    memset(u, 'a', len);
    memcpy(u, prefix, sizeof(prefix) - 1);
    return u;
}

/* ---- slugs ---- */

START_TEST(slug_plain_ok)
{
    slug_ok("abc");
    slug_ok("a");
    slug_ok("A-b_9");
    slug_ok("-");
    slug_ok("x_");
}
END_TEST

START_TEST(slug_reserved_api)
{
    slug_bad("api", "slug \"api\" is reserved");
    ck_assert(!validate_slug_unreserved("api", 3));
}
END_TEST

START_TEST(slug_reserved_healthz)
{
    slug_bad("healthz", "slug \"healthz\" is reserved");
    ck_assert(!validate_slug_unreserved("healthz", 7));
}
END_TEST

START_TEST(slug_reserved_metrics)
{
    slug_bad("metrics", "slug \"metrics\" is reserved");
    ck_assert(!validate_slug_unreserved("metrics", 7));
}
END_TEST

START_TEST(slug_reserved_static)
{
    slug_bad("static", "slug \"static\" is reserved");
    ck_assert(!validate_slug_unreserved("static", 6));
}
END_TEST

START_TEST(slug_reserved_underscore)
{
    slug_bad("_", "slugs starting with _ are reserved");
    slug_bad("_x", "slugs starting with _ are reserved");
    slug_bad("__api", "slugs starting with _ are reserved");
    ck_assert(!validate_slug_unreserved("_internal", 9));
}
END_TEST

START_TEST(slug_reserved_case_variants_allowed)
{
    slug_ok("API");
    slug_ok("Api");
    slug_ok("aPi");
    slug_ok("Healthz");
    slug_ok("METRICS");
    slug_ok("Static");
    ck_assert(validate_slug_unreserved("API", 3));
}
END_TEST

START_TEST(slug_reserved_prefix_or_suffix_allowed)
{
    slug_ok("apis");
    slug_ok("ap");
    slug_ok("xapi");
    slug_ok("static-files");
    slug_ok("a_");
    ck_assert(validate_slug_unreserved("apis", 4));
    /* Length is authoritative: a prefix of "api" is not "api". */
    ck_assert(validate_slug_unreserved("api", 2));
}
END_TEST

START_TEST(slug_len_64_ok)
{
    char s[VALIDATE_SLUG_MAX];
    memset(s, 'z', sizeof(s));
    ck_assert(validate_slug_chars(s, sizeof(s)));
    ck_assert_ptr_null(validate_slug(s, sizeof(s)));
}
END_TEST

START_TEST(slug_len_65_rejected)
{
    char s[VALIDATE_SLUG_MAX + 1];
    memset(s, 'z', sizeof(s));
    ck_assert(!validate_slug_chars(s, sizeof(s)));
    ck_assert_str_eq(validate_slug(s, sizeof(s)), SLUG_CHARS);
}
END_TEST

START_TEST(slug_empty_rejected)
{
    slug_bad("", SLUG_CHARS);
    ck_assert(!validate_slug_chars("", 0));
    ck_assert(!validate_slug_chars(NULL, 0));
    ck_assert_str_eq(validate_slug(NULL, 0), SLUG_CHARS);
    ck_assert(validate_slug_unreserved("", 0));
}
END_TEST

START_TEST(slug_slash_rejected)
{
    slug_bad("a/b", SLUG_CHARS);
}
END_TEST

START_TEST(slug_dot_rejected)
{
    slug_bad("a.b", SLUG_CHARS);
    slug_bad(".", SLUG_CHARS);
    slug_bad("..", SLUG_CHARS);
}
END_TEST

START_TEST(slug_space_rejected)
{
    slug_bad("a b", SLUG_CHARS);
    slug_bad(" ", SLUG_CHARS);
}
END_TEST

START_TEST(slug_non_ascii_rejected)
{
    slug_bad("\xc3\xa9", SLUG_CHARS); /* "é" in UTF-8 */
    slug_bad("caf\xc3\xa9", SLUG_CHARS);
}
END_TEST

START_TEST(slug_other_punctuation_rejected)
{
    slug_bad("a%20", SLUG_CHARS);
    slug_bad("a?b", SLUG_CHARS);
    slug_bad("a#b", SLUG_CHARS);
    slug_bad("a+b", SLUG_CHARS);
    slug_bad("a~b", SLUG_CHARS);
}
END_TEST

START_TEST(slug_embedded_nul_rejected)
{
    ck_assert(!validate_slug_chars("ab\0c", 4));
    ck_assert_str_eq(validate_slug("ab\0c", 4), SLUG_CHARS);
}
END_TEST

/* ---- URLs: accepted ---- */

START_TEST(url_http_ok)
{
    url_ok("http://example.com");
    url_ok("http://example.com/");
    url_ok("http://example.com/some/path");
}
END_TEST

START_TEST(url_https_ok)
{
    url_ok("https://example.com/a");
}
END_TEST

START_TEST(url_scheme_case_ok)
{
    url_ok("HTTPS://EXAMPLE.COM/a");
    url_ok("Http://example.com/a");
}
END_TEST

START_TEST(url_ipv4_ok)
{
    url_ok("http://192.0.2.1/x");
}
END_TEST

START_TEST(url_ipv6_ok)
{
    url_ok("http://[::1]:8080/");
    url_ok("https://[2001:db8::1]/a");
}
END_TEST

START_TEST(url_port_65535_ok)
{
    url_ok("http://example.com:65535/");
    url_ok("http://example.com:1/");
}
END_TEST

START_TEST(url_empty_port_ok)
{
    url_ok("http://example.com:/");
}
END_TEST

START_TEST(url_query_fragment_ok)
{
    url_ok("https://example.com/p?q=1&r=%20x#frag");
    url_ok("https://example.com?q");
    url_ok("https://example.com#f");
}
END_TEST

START_TEST(url_punycode_ok)
{
    url_ok("http://xn--bcher-kva.de/");
}
END_TEST

START_TEST(url_len_2048_ok)
{
    char *u = long_url(VALIDATE_URL_MAX);
    ck_assert_ptr_null(validate_url(u, VALIDATE_URL_MAX, NULL));
    ck_assert_ptr_null(validate_url(u, VALIDATE_URL_MAX, BASE));
    free(u);
}
END_TEST

/* ---- URLs: rejected ---- */

START_TEST(url_len_2049_rejected)
{
    char *u = long_url(VALIDATE_URL_MAX + 1);
    ck_assert_str_eq(validate_url(u, VALIDATE_URL_MAX + 1, NULL), "url must be at most 2048 bytes");
    free(u);
}
END_TEST

START_TEST(url_empty_rejected)
{
    url_bad("", "url must not be empty");
    ck_assert_str_eq(validate_url(NULL, 0, NULL), "url must not be empty");
}
END_TEST

START_TEST(url_port_65536_rejected)
{
    url_bad("http://example.com:65536/", URL_PORT);
    url_bad("http://example.com:99999999999999999999/", URL_PORT);
}
END_TEST

START_TEST(url_port_0_rejected)
{
    url_bad("http://example.com:0/", URL_PORT);
    url_bad("http://example.com:00000/", URL_PORT);
}
END_TEST

START_TEST(url_port_non_numeric_rejected)
{
    /* liburiparser refuses this before the port rule is reached. */
    url_bad("http://example.com:8a/", URL_SYNTAX);
}
END_TEST

START_TEST(url_relative_path_rejected)
{
    url_bad("/x", URL_SCHEME);
}
END_TEST

START_TEST(url_bare_domain_rejected)
{
    url_bad("example.com", URL_SCHEME);
    url_bad("//example.com/x", URL_SCHEME);
}
END_TEST

START_TEST(url_javascript_rejected)
{
    url_bad("javascript:alert(1)", URL_SCHEME);
}
END_TEST

START_TEST(url_javascript_mixed_case_rejected)
{
    url_bad("JavaScript:alert(1)", URL_SCHEME);
    url_bad("JAVASCRIPT:alert(1)", URL_SCHEME);
}
END_TEST

START_TEST(url_data_rejected)
{
    url_bad("data:text/html,x", URL_SCHEME);
}
END_TEST

START_TEST(url_file_rejected)
{
    url_bad("file:///etc/passwd", URL_SCHEME);
}
END_TEST

START_TEST(url_ftp_rejected)
{
    url_bad("ftp://example.com/", URL_SCHEME);
    url_bad("httpx://example.com/", URL_SCHEME);
}
END_TEST

START_TEST(url_no_host_rejected)
{
    url_bad("http://", URL_NO_HOST);
}
END_TEST

START_TEST(url_empty_host_with_path_rejected)
{
    url_bad("http:///path", URL_NO_HOST);
}
END_TEST

START_TEST(url_no_authority_rejected)
{
    url_bad("http:example.com", URL_NO_HOST);
    url_bad("https:/example.com", URL_NO_HOST);
}
END_TEST

START_TEST(url_ipfuture_rejected)
{
    url_bad("http://[v1.x]/", "url host must be a domain name, an IPv4 address or an IPv6 address");
}
END_TEST

START_TEST(url_cr_lf_rejected)
{
    url_bad("http://example.com/a\r\nSet-Cookie:x", URL_CONTROL);
    url_bad("http://example.com/a\n", URL_CONTROL);
    url_bad("http://example.com/a\r", URL_CONTROL);
}
END_TEST

START_TEST(url_tab_rejected)
{
    url_bad("http://exa\tmple.com/", URL_CONTROL);
}
END_TEST

START_TEST(url_del_rejected)
{
    url_bad("http://example.com/\x7f", URL_CONTROL);
}
END_TEST

START_TEST(url_space_rejected)
{
    url_bad("http://example.com/a b", "url must not contain spaces; encode them as %20");
    url_bad(" http://example.com/", "url must not contain spaces; encode them as %20");
}
END_TEST

START_TEST(url_nul_rejected)
{
    static const char u[] = "http://example.com/\0evil";
    ck_assert_str_eq(validate_url(u, sizeof(u) - 1, NULL), "url must not contain NUL bytes");
    /* A trailing NUL counted in len is still a NUL inside the URL. */
    ck_assert_str_eq(validate_url("http://e.com", 13, NULL), "url must not contain NUL bytes");
}
END_TEST

START_TEST(url_raw_utf8_rejected)
{
    url_bad(
        "http://b\xc3\xbc"
        "cher.de",
        "url must contain only ASCII; use punycode for international domain names and %XX escapes elsewhere");
}
END_TEST

START_TEST(url_syntax_rejected)
{
    url_bad("http://example.com/<script>", URL_SYNTAX);
    url_bad("http://example.com/a\\b", URL_SYNTAX);
    url_bad("http://exa mple", "url must not contain spaces; encode them as %20");
    url_bad("http://example.com/%zz", URL_SYNTAX);
}
END_TEST

START_TEST(url_userinfo_rejected)
{
    url_bad("http://user:pass@example.com/", URL_USERINFO);
    url_bad("https://paypal.com@evil.example/", URL_USERINFO);
    url_bad("http://@example.com/", URL_USERINFO);
}
END_TEST

START_TEST(url_len_is_authoritative)
{
    /* Only the first 18 bytes are the URL; the rest must not be looked at. */
    ck_assert_ptr_null(validate_url("http://example.com junk", 18, NULL));
}
END_TEST

/* ---- URLs: self links ---- */

START_TEST(self_https_slug_rejected)
{
    url_bad_base("https://sho.rt/abc", BASE, URL_SELF);
    url_bad_base("https://sho.rt/ab-c_1", BASE, URL_SELF);
    url_bad_base("https://sho.rt/abc?x=1#f", BASE, URL_SELF);
}
END_TEST

START_TEST(self_trailing_slash_rejected)
{
    url_bad_base("https://sho.rt/abc/", BASE, URL_SELF);
}
END_TEST

START_TEST(self_http_upper_host_rejected)
{
    url_bad_base("http://SHO.RT/abc", BASE, URL_SELF);
}
END_TEST

START_TEST(self_explicit_443_rejected)
{
    url_bad_base("https://sho.rt:443/abc", BASE, URL_SELF);
    url_bad_base("http://sho.rt:80/abc", BASE, URL_SELF);
}
END_TEST

START_TEST(self_percent_encoded_rejected)
{
    url_bad_base("https://sho.rt/%61bc", BASE, URL_SELF);
    /* a percent-encoded host is refused before the self-link check even looks at it */
    url_bad_base("https://sh%6F.rt/abc", BASE, URL_HOSTNAME);
}
END_TEST

START_TEST(host_names)
{
    url_ok("https://example.com/");
    url_ok("https://a-b.example_x.com./");
    url_ok("https://xn--bcher-kva.de/");
    url_ok("http://10.0.0.1:8080/");
    url_ok("http://[::1]/");
    url_bad("https://exa%00mple.com/", URL_HOSTNAME);
    url_bad("https://ex%0d%0aample.com/", URL_HOSTNAME);
    url_bad("http://256.0.0.1/", URL_HOSTNAME);
    url_bad("http://1.2.3.4.5/", URL_HOSTNAME);
    url_bad("http://-/", URL_HOSTNAME);
    url_bad("http://-a.com/", URL_HOSTNAME);
    url_bad("http://a-.com/", URL_HOSTNAME);
    url_bad("http://a..com/", URL_HOSTNAME);
    url_bad("http://.a.com/", URL_HOSTNAME);
    url_bad("http://a.com../", URL_HOSTNAME);
    url_bad("http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/", URL_HOSTNAME);
    url_bad("http://a!b.com/", URL_HOSTNAME);
}
END_TEST

START_TEST(self_trailing_dot_host_rejected)
{
    url_bad_base("https://sho.rt./abc", BASE, URL_SELF);
}
END_TEST

START_TEST(self_dot_segments_rejected)
{
    url_bad_base("https://sho.rt/./abc", BASE, URL_SELF);
    url_bad_base("https://sho.rt/x/../abc", BASE, URL_SELF);
    url_bad_base("https://sho.rt/x/%2E%2e/abc", BASE, URL_SELF);
    url_bad_base("https://sho.rt/abc/x/..", BASE, URL_SELF);
    url_bad_base("https://sho.rt/../../abc", BASE, URL_SELF);
}
END_TEST

START_TEST(self_root_ok)
{
    url_ok_base("https://sho.rt/", BASE);
    url_ok_base("https://sho.rt", BASE);
    url_ok_base("https://sho.rt?q=1", BASE);
    url_ok_base("https://sho.rt/abc/..", BASE);
}
END_TEST

START_TEST(self_multi_segment_ok)
{
    url_ok_base("https://sho.rt/a/b", BASE);
    url_ok_base("https://sho.rt/abc//", BASE);
    url_ok_base("https://sho.rt//abc", BASE);
}
END_TEST

START_TEST(self_non_slug_segment_ok)
{
    url_ok_base("https://sho.rt/a.b", BASE);
    url_ok_base("https://sho.rt/a%2Fb", BASE);
}
END_TEST

START_TEST(self_other_port_ok)
{
    url_ok_base("https://sho.rt:8443/abc", BASE);
}
END_TEST

START_TEST(self_other_host_ok)
{
    url_ok_base("https://other.rt/abc", BASE);
    url_ok_base("https://sub.sho.rt/abc", BASE);
    url_ok_base("https://sho.rt.evil/abc", BASE);
}
END_TEST

START_TEST(self_no_base_ok)
{
    url_ok_base("https://sho.rt/abc", NULL);
}
END_TEST

START_TEST(self_base_with_port_rejected)
{
    url_bad_base("https://localhost:8443/x", BASE_PORT, URL_SELF);
    url_bad_base("http://LOCALHOST:8443/x/", BASE_PORT, URL_SELF);
}
END_TEST

START_TEST(self_base_with_port_default_ok)
{
    url_ok_base("https://localhost/x", BASE_PORT);
    url_ok_base("http://localhost/x", BASE_PORT);
    url_ok_base("https://localhost:443/x", BASE_PORT);
}
END_TEST

START_TEST(self_base_ipv6)
{
    url_bad_base("http://[0:0::1]:8080/abc", "http://[::1]:8080", URL_SELF);
    url_ok_base("http://[::2]:8080/abc", "http://[::1]:8080");
}
END_TEST

START_TEST(self_base_misconfigured)
{
    url_bad_base("https://example.com/", "sho.rt", "the service's public base URL is misconfigured");
    url_bad_base("https://example.com/", "https://", "the service's public base URL is misconfigured");
    url_bad_base("https://example.com/", "https://sho.rt:0",
                 "the service's public base URL is misconfigured");
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *slug = tcase_create("slug");
    TCase *url = tcase_create("url");
    TCase *self = tcase_create("self_link");

    tcase_add_test(slug, slug_plain_ok);
    tcase_add_test(slug, slug_reserved_api);
    tcase_add_test(slug, slug_reserved_healthz);
    tcase_add_test(slug, slug_reserved_metrics);
    tcase_add_test(slug, slug_reserved_static);
    tcase_add_test(slug, slug_reserved_underscore);
    tcase_add_test(slug, slug_reserved_case_variants_allowed);
    tcase_add_test(slug, slug_reserved_prefix_or_suffix_allowed);
    tcase_add_test(slug, slug_len_64_ok);
    tcase_add_test(slug, slug_len_65_rejected);
    tcase_add_test(slug, slug_empty_rejected);
    tcase_add_test(slug, slug_slash_rejected);
    tcase_add_test(slug, slug_dot_rejected);
    tcase_add_test(slug, slug_space_rejected);
    tcase_add_test(slug, slug_non_ascii_rejected);
    tcase_add_test(slug, slug_other_punctuation_rejected);
    tcase_add_test(slug, slug_embedded_nul_rejected);
    suite_add_tcase(s, slug);

    tcase_add_test(url, url_http_ok);
    tcase_add_test(url, url_https_ok);
    tcase_add_test(url, url_scheme_case_ok);
    tcase_add_test(url, url_ipv4_ok);
    tcase_add_test(url, url_ipv6_ok);
    tcase_add_test(url, url_port_65535_ok);
    tcase_add_test(url, url_empty_port_ok);
    tcase_add_test(url, url_query_fragment_ok);
    tcase_add_test(url, url_punycode_ok);
    tcase_add_test(url, url_len_2048_ok);
    tcase_add_test(url, url_len_2049_rejected);
    tcase_add_test(url, url_empty_rejected);
    tcase_add_test(url, url_port_65536_rejected);
    tcase_add_test(url, url_port_0_rejected);
    tcase_add_test(url, url_port_non_numeric_rejected);
    tcase_add_test(url, url_relative_path_rejected);
    tcase_add_test(url, url_bare_domain_rejected);
    tcase_add_test(url, url_javascript_rejected);
    tcase_add_test(url, url_javascript_mixed_case_rejected);
    tcase_add_test(url, url_data_rejected);
    tcase_add_test(url, url_file_rejected);
    tcase_add_test(url, url_ftp_rejected);
    tcase_add_test(url, url_no_host_rejected);
    tcase_add_test(url, url_empty_host_with_path_rejected);
    tcase_add_test(url, url_no_authority_rejected);
    tcase_add_test(url, url_ipfuture_rejected);
    tcase_add_test(url, url_cr_lf_rejected);
    tcase_add_test(url, url_tab_rejected);
    tcase_add_test(url, url_del_rejected);
    tcase_add_test(url, url_space_rejected);
    tcase_add_test(url, url_nul_rejected);
    tcase_add_test(url, url_raw_utf8_rejected);
    tcase_add_test(url, url_syntax_rejected);
    tcase_add_test(url, url_userinfo_rejected);
    tcase_add_test(url, url_len_is_authoritative);
    suite_add_tcase(s, url);

    tcase_add_test(self, self_https_slug_rejected);
    tcase_add_test(self, self_trailing_slash_rejected);
    tcase_add_test(self, self_http_upper_host_rejected);
    tcase_add_test(self, self_explicit_443_rejected);
    tcase_add_test(self, self_percent_encoded_rejected);
    tcase_add_test(self, host_names);
    tcase_add_test(self, self_trailing_dot_host_rejected);
    tcase_add_test(self, self_dot_segments_rejected);
    tcase_add_test(self, self_root_ok);
    tcase_add_test(self, self_multi_segment_ok);
    tcase_add_test(self, self_non_slug_segment_ok);
    tcase_add_test(self, self_other_port_ok);
    tcase_add_test(self, self_other_host_ok);
    tcase_add_test(self, self_no_base_ok);
    tcase_add_test(self, self_base_with_port_rejected);
    tcase_add_test(self, self_base_with_port_default_ok);
    tcase_add_test(self, self_base_ipv6);
    tcase_add_test(self, self_base_misconfigured);
    suite_add_tcase(s, self);

    return s;
}
