/* Unit tests for fcgi-app/promtext.c: the exact lines of the Prometheus text format, escaping of label values
 * and help text, and special values. */
#include "promtext.h"

#include "arena.h"
#include "buf.h"
#include "unit.h"

#include <math.h>
#include <string.h>

static struct arena *arena;
static struct buf b;

static void setup(void)
{
    arena = arena_new(1024);
    buf_init(&b, arena, 16);
}

static void teardown(void)
{
    arena_free(arena);
}

#define TEXT_IS(want) ck_assert_str_eq(buf_str(&b), (want))

START_TEST(family_lines)
{
    promtext_family(&b, "hop_x_total", "counter", "Things, with a \\ and a\nnewline and \"quotes\".");
    TEXT_IS("# HELP hop_x_total Things, with a \\\\ and a\\nnewline and \"quotes\".\n"
            "# TYPE hop_x_total counter\n");
}
END_TEST

START_TEST(samples)
{
    promtext_int(&b, "hop_up", NULL, 0, 1);
    const char *labels[] = {"route", "/api/links/:slug", "status", "2xx"};
    promtext_int(&b, "hop_requests_total", labels, 2, 1234567890123LL);
    promtext_int(&b, "hop_gauge", labels, 1, -5);
    TEXT_IS("hop_up 1\n"
            "hop_requests_total{route=\"/api/links/:slug\",status=\"2xx\"} 1234567890123\n"
            "hop_gauge{route=\"/api/links/:slug\"} -5\n");
}
END_TEST

START_TEST(label_values_escaped)
{
    const char *labels[] = {"v", "a\"b\\c\nd"};
    promtext_int(&b, "m", labels, 1, 0);
    TEXT_IS("m{v=\"a\\\"b\\\\c\\nd\"} 0\n");
}
END_TEST

START_TEST(doubles)
{
    const char *le[] = {"le", "+Inf"};
    promtext_double(&b, "d", NULL, 0, 0.00025);
    promtext_double(&b, "d", NULL, 0, 12.5);
    promtext_double(&b, "d", le, 1, INFINITY);
    promtext_double(&b, "d", NULL, 0, -INFINITY);
    promtext_double(&b, "d", NULL, 0, NAN);
    TEXT_IS("d 0.00025\nd 12.5\nd{le=\"+Inf\"} +Inf\nd -Inf\nd NaN\n");
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("promtext");
    TCase *tc = tcase_create("format");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, family_lines);
    tcase_add_test(tc, samples);
    tcase_add_test(tc, label_values_escaped);
    tcase_add_test(tc, doubles);
    suite_add_tcase(s, tc);
    return s;
}
