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

/* What may run on a read replica (HOP_DB_READ) only reads, and names its owner or link in $1 (db.c). */
START_TEST(replica_statements_only_read)
{
    static const char *const writes[] = {"INSERT", "UPDATE", "DELETE", "CREATE", "COPY", "LISTEN"};
    for (int i = 0; i < STMT_COUNT; i++) {
        const struct stmt *s = &stmt_table[i];
        if (s->read == STMT_PRIMARY)
            continue;
        ck_assert_msg(strncmp(s->sql, "SELECT ", 7) == 0 || strncmp(s->sql, "WITH ", 5) == 0,
                      "%s: not a SELECT", s->name);
        ck_assert_msg(s->nparams >= 1, "%s: no $1 to name the owner", s->name);
        for (size_t w = 0; w < sizeof(writes) / sizeof(writes[0]); w++)
            ck_assert_msg(!strstr(s->sql, writes[w]), "%s: has %s", s->name, writes[w]);
    }
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("statements");
    TCase *tc = tcase_create("statements");
    tcase_add_test(tc, param_counts_match_the_sql);
    tcase_add_test(tc, names_are_unique);
    tcase_add_test(tc, replica_statements_only_read);
    suite_add_tcase(s, tc);
    return s;
}
