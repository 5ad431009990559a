/* Unit tests for fcgi-app/log.c's journald side: the syslog priority prefix only when stderr is the journal
 * stream JOURNAL_STREAM names, and access lines turned off or sampled with every 5xx kept. */
#include "log.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* stderr goes to a temporary file while fn runs; with as_journal, JOURNAL_STREAM names that file. Returns
 * what was written (malloc'd). */
static char *capture(void (*fn)(void), const char *journal_stream, int as_journal)
{
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
    char js[64];
    if (as_journal) {
        struct stat st;
        ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
        snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        journal_stream = js;
    }
    if (journal_stream)
        setenv("JOURNAL_STREAM", journal_stream, 1);
    else
        unsetenv("JOURNAL_STREAM");
    log_detect_journal();
    fn();
    unsetenv("JOURNAL_STREAM");
    log_detect_journal();
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    long size = ftell(tmp);
    ck_assert_int_ge(size, 0);
    rewind(tmp);
    char *text = calloc(1, (size_t)size + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(fread(text, 1, (size_t)size, tmp), (size_t)size);
    fclose(tmp);
    return text;
}

static void emit_levels(void)
{
    log_set_level("debug");
    log_debug("d", "%s", "");
    log_info("i", "%s", "");
    log_warn("w", "%s", "");
    log_error("e", "%s", "");
    log_set_level("info");
}

START_TEST(journal_lines_carry_priority)
{
    char *text = capture(emit_levels, NULL, 1);
    ck_assert_msg(strstr(text, "<7>level=debug ") == text, "got: %s", text);
    ck_assert_ptr_nonnull(strstr(text, "\n<6>level=info "));
    ck_assert_ptr_nonnull(strstr(text, "\n<4>level=warn "));
    ck_assert_ptr_nonnull(strstr(text, "\n<3>level=error "));
    free(text);
}
END_TEST

START_TEST(plain_logfmt_elsewhere)
{
    /* no JOURNAL_STREAM, one naming another file, and garbage: no prefix at all */
    const char *streams[] = {NULL, "1:2", "not-a-stream", ""};
    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        char *text = capture(emit_levels, streams[i], 0);
        ck_assert_msg(strncmp(text, "level=debug ", 12) == 0, "stream %s: %s",
                      streams[i] ? streams[i] : "(unset)", text);
        ck_assert_ptr_null(strchr(text, '<'));
        free(text);
    }
}
END_TEST

/* ten access lines, the fifth a 500 */
static void emit_ten(void)
{
    for (int i = 1; i <= 10; i++)
        log_access("GET", "/x", 2, i == 5 ? 500 : 302, 10, "r");
}

static int lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

START_TEST(access_off_keeps_errors)
{
    log_set_access_every(0);
    char *text = capture(emit_ten, NULL, 0);
    log_set_access_every(1);
    ck_assert_int_eq(lines(text, "msg=access"), 1);
    ck_assert_int_eq(lines(text, "status=500"), 1);
    free(text);
}
END_TEST

START_TEST(access_sampled_one_in_n)
{
    log_set_access_every(3);
    char *text = capture(emit_ten, NULL, 0);
    log_set_access_every(1);
    /* nine 302s sampled one in three, and the 500 */
    ck_assert_int_eq(lines(text, "status=302"), 3);
    ck_assert_int_eq(lines(text, "status=500"), 1);
    free(text);
}
END_TEST

START_TEST(access_on_logs_every_line)
{
    log_set_access_every(1);
    char *text = capture(emit_ten, NULL, 0);
    ck_assert_int_eq(lines(text, "msg=access"), 10);
    free(text);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("logjournal");
    TCase *tc = tcase_create("journal");
    tcase_add_test(tc, journal_lines_carry_priority);
    tcase_add_test(tc, plain_logfmt_elsewhere);
    tcase_add_test(tc, access_off_keeps_errors);
    tcase_add_test(tc, access_sampled_one_in_n);
    tcase_add_test(tc, access_on_logs_every_line);
    suite_add_tcase(s, tc);
    return s;
}
