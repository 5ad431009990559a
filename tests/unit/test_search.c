/* Unit tests for handlers/search.c: q becomes a LIKE pattern that matches it literally, in lower case, and
 * anything that cannot be searched for is refused before it reaches PostgreSQL. */
#include "search.h"

#include "arena.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static void pattern_is(const char *q, const char *want)
{
    struct arena *a = arena_new(1024);
    const char *p = NULL;
    size_t n = 0;
    const char *why = search_pattern(a, q, &p, &n);
    ck_assert_msg(why == NULL, "refused %s: %s", q, why);
    ck_assert_str_eq(p, want);
    arena_free(a);
}

static void refused(const char *q)
{
    struct arena *a = arena_new(1024);
    const char *p = "untouched";
    size_t n = 0;
    const char *why = search_pattern(a, q, &p, &n);
    ck_assert_msg(why != NULL, "accepted %s as %s", q, p);
    ck_assert_msg(strncmp(why, "q ", 2) == 0, "detail does not name q: %s", why);
    ck_assert_str_eq(p, "untouched");
    arena_free(a);
}

START_TEST(plain_and_folded)
{
    pattern_is("ab", "%ab%");
    pattern_is("Summer Sale", "%summer sale%");
    pattern_is("https://EXAMPLE.com/A?b=C", "%https://example.com/a?b=c%");
    /* only A-Z fold, as lower() does under the "C" collation; other letters stay as written */
    pattern_is("\xC3\x9C"
               "ber",
               "%\xC3\x9C"
               "ber%");
    pattern_is("\xF0\x9F\x98\x80x", "%\xF0\x9F\x98\x80x%");
}
END_TEST

START_TEST(wildcards_literal)
{
    pattern_is("100%", "%100\\%%");
    pattern_is("a_b", "%a\\_b%");
    pattern_is("h \\", "%h \\\\%");
    pattern_is("%_\\", "%\\%\\_\\\\%");
}
END_TEST

START_TEST(length_in_characters)
{
    refused("");
    refused("a");
    refused("%");
    refused("\xC3\xA9"); /* one character of two bytes */
    pattern_is("\xC3\xA9\xC3\xA9", "%\xC3\xA9\xC3\xA9%");
    char q[SEARCH_Q_MAX + 2];
    memset(q, 'x', sizeof(q) - 1);
    q[SEARCH_Q_MAX + 1] = '\0';
    refused(q);
    q[SEARCH_Q_MAX] = '\0';
    struct arena *a = arena_new(1024);
    const char *p = NULL;
    size_t n = 0;
    ck_assert_ptr_null(search_pattern(a, q, &p, &n));
    ck_assert_uint_eq(strlen(p), SEARCH_Q_MAX + 2);
    ck_assert_uint_eq(n, SEARCH_Q_MAX);
    ck_assert_ptr_null(search_pattern(a, "\xC3\xA9\xC3\xA9", &p, &n));
    ck_assert_uint_eq(n, 2); /* characters, not bytes: below SEARCH_Q_TRIGRAM */
    arena_free(a);
}
END_TEST

START_TEST(controls_refused)
{
    refused("a\nb");
    refused("ab\t");
    refused("a\x7f");
    refused("a\xC2\x85");                   /* U+0085, a C1 control */
    pattern_is("a\xC2\xA0", "%a\xC2\xA0%"); /* U+00A0 is not one */
}
END_TEST

START_TEST(bad_utf8_refused)
{
    refused("ab\xFF");
    refused("a\xC0\xAF");         /* overlong '/' */
    refused("a\xE0\x80\xAF");     /* overlong */
    refused("a\xED\xA0\x80");     /* a surrogate */
    refused("a\xF4\x90\x80\x80"); /* past U+10FFFF */
    refused("a\xC3");             /* cut short */
    refused("a\xE2\x82");         /* cut short */
    refused("a\x80");             /* a lone continuation byte */
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("search");
    TCase *tc = tcase_create("search");
    tcase_add_test(tc, plain_and_folded);
    tcase_add_test(tc, wildcards_literal);
    tcase_add_test(tc, length_in_characters);
    tcase_add_test(tc, controls_refused);
    tcase_add_test(tc, bad_utf8_refused);
    suite_add_tcase(s, tc);
    return s;
}
