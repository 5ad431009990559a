/* Unit tests for fcgi-app/xalloc.c: the allocators return what they promise, and a failed allocation aborts
 * (in a forked test only: abort would end an unforked run, and ASan reports the huge size itself). */
#include "xalloc.h"
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(allocates)
{
    char *p = xmalloc(16);
    memset(p, 'a', 16);
    p = xrealloc(p, 4096);
    ck_assert_int_eq(p[15], 'a');
    free(p);
    int *z = xcalloc(64, sizeof(*z));
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(z[i], 0);
    free(z);
}
END_TEST

START_TEST(duplicates_strings)
{
    char *a = xstrdup("hop");
    char *b = xstrndup("hopping", 3);
    char *c = xstrndup("ho", 10);
    ck_assert_str_eq(a, "hop");
    ck_assert_str_eq(b, "hop");
    ck_assert_str_eq(c, "ho");
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(realloc_to_zero)
{
    void *p = xmalloc(8);
    free(xrealloc(p, 0)); /* NULL or a minimal block; either is fine, neither aborts */
}
END_TEST

START_TEST(failure_aborts)
{
    volatile size_t huge = SIZE_MAX - 64; /* volatile: the compiler must not see the call cannot succeed */
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDERR_FILENO); /* the expected fatal line is not news in the test's output */
    void *p = xmalloc(huge);
    free(p);
}
END_TEST

static int runs_forked(void)
{
    const char *f = getenv("CK_FORK");
    return !(f && strcmp(f, "no") == 0);
}

Suite *unit_suite(void)
{
    Suite *s = suite_create("xalloc");
    TCase *tc = tcase_create("xalloc");
    tcase_add_test(tc, allocates);
    tcase_add_test(tc, duplicates_strings);
    tcase_add_test(tc, realloc_to_zero);
#ifndef __SANITIZE_ADDRESS__
    if (runs_forked())
        tcase_add_test_raise_signal(tc, failure_aborts, SIGABRT);
#else
    (void)runs_forked;
    (void)failure_aborts;
#endif
    suite_add_tcase(s, tc);
    return s;
}
