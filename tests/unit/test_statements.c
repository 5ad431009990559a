/* Unit tests for db/statements.c: every statement declares exactly the parameters its SQL uses, so a
 * parameter added to the SQL but not to the count (or the other way round) fails here, not at run time. */
#include "statements.h"
#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* The highest $n in sql (0 when it has none). */
static int highest_param(const char *sql)
{
    int high = 0;
    for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$')) {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (end > p + 1 && n > high)
            high = (int)n;
    }
    return high;
}

START_TEST(param_counts_match_the_sql)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        const struct stmt *s = &stmt_table[i];
        ck_assert_msg(s->name && s->sql, "statement %d is not declared", i);
        ck_assert_msg(highest_param(s->sql) == s->nparams, "%s: the SQL uses $1..$%d, the table says %d",
                      s->name, highest_param(s->sql), s->nparams);
    }
}
END_TEST

START_TEST(names_are_unique)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        for (int j = i + 1; j < STMT_COUNT; j++)
            ck_assert_msg(strcmp(stmt_table[i].name, stmt_table[j].name) != 0, "%s twice",
                          stmt_table[i].name);
    }
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("statements");
    TCase *tc = tcase_create("statements");
    tcase_add_test(tc, param_counts_match_the_sql);
    tcase_add_test(tc, names_are_unique);
    suite_add_tcase(s, tc);
    return s;
}
