/* Unit tests for fcgi-app/log.c: log_quote escaping and truncation at every small capacity, the level
 * switch, and log lines that no request value can split or forge. */
#include "log.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* after log.h on purpose: its level names must not clash with syslog's (LOG_DEBUG, LOG_INFO...) */
#include <syslog.h>
#include <unistd.h>

/* Quotes the whole literal (NULs included) with plenty of room and compares with want. */
static void quoted_is(const char *s, size_t len, const char *want)
{
    char out[512];
    size_t n = log_quote(out, sizeof(out), s, len);
    ck_assert_msg(strcmp(out, want) == 0, "wanted %s, got %s", want, out);
    ck_assert_uint_eq(n, strlen(want));
}

#define QUOTED_IS(lit, want) quoted_is((lit), sizeof(lit) - 1, (want))

/* Checks log_quote's promises for one input at one capacity, in a heap buffer of exactly cap bytes (so
 * ASan and valgrind see any overflow) and again in a larger one to see that nothing past cap is written. */
static void check_cap(const char *s, size_t len, size_t cap)
{
    char *out = malloc(cap ? cap : 1);
    ck_assert_ptr_nonnull(out);
    memset(out, 'Q', cap ? cap : 1);
    size_t n = log_quote(out, cap, s, len);
    if (cap == 0) {
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(out[0], 'Q'); /* nothing written at all */
        free(out);
        return;
    }
    size_t sl = strnlen(out, cap);
    ck_assert_msg(sl < cap, "cap %zu: not NUL-terminated", cap);
    ck_assert_uint_eq(n, sl);
    if (cap < 8) {
        ck_assert_uint_eq(n, 0);
    } else {
        ck_assert_uint_ge(n, 2);
        ck_assert_int_eq(out[0], '"');
        ck_assert_int_eq(out[n - 1], '"');
        /* every byte between the quotes is printable ASCII: nothing can break the line */
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(out[i] >= 0x20 && out[i] < 0x7f, "cap %zu: raw byte 0x%02x", cap,
                          (unsigned char)out[i]);
        /* a cut is marked, and never falls inside an escape */
        if (n >= 5 && memcmp(out + n - 4, "...\"", 4) == 0) {
            size_t body = n - 5;
            char *full = malloc(len * 4 + 8);
            ck_assert_ptr_nonnull(full);
            log_quote(full, len * 4 + 8, s, len);
            ck_assert_msg(strncmp(full, out, body + 1) == 0, "cap %zu: cut output is not a prefix", cap);
            free(full);
        }
    }
    free(out);

    /* the same call in a bigger buffer leaves the bytes past cap alone */
    char big[600];
    memset(big, 'Z', sizeof(big));
    log_quote(big, cap, s, len);
    for (size_t i = cap; i < sizeof(big); i++)
        ck_assert_msg(big[i] == 'Z', "cap %zu: byte %zu written", cap, i);
}

/* ---- escaping ---- */

START_TEST(quote_plain)
{
    QUOTED_IS("abc", "\"abc\"");
    QUOTED_IS("/api/links?x=1&y=2", "\"/api/links?x=1&y=2\"");
    QUOTED_IS("a b=c", "\"a b=c\"");
    QUOTED_IS("", "\"\"");
}
END_TEST

START_TEST(quote_quotes_and_backslash)
{
    QUOTED_IS("a\"b", "\"a\\\"b\"");
    QUOTED_IS("a\\b", "\"a\\\\b\"");
    QUOTED_IS("\"\\\"", "\"\\\"\\\\\\\"\"");
    QUOTED_IS("\\x0a", "\"\\\\x0a\"");
}
END_TEST

START_TEST(quote_control_chars)
{
    QUOTED_IS("\n", "\"\\x0a\"");
    QUOTED_IS("\r", "\"\\x0d\"");
    QUOTED_IS("\t", "\"\\x09\"");
    QUOTED_IS("\x01\x1f", "\"\\x01\\x1f\"");
    QUOTED_IS("\x7f", "\"\\x7f\"");
    QUOTED_IS("a\nlevel=error msg=forged", "\"a\\x0alevel=error msg=forged\"");
    QUOTED_IS("\x1b[31m", "\"\\x1b[31m\"");
}
END_TEST

START_TEST(quote_nul_and_len)
{
    QUOTED_IS("a\0b", "\"a\\x00b\"");
    /* len is authoritative: stop early, and never look for a terminator */
    char out[32];
    ck_assert_uint_eq(log_quote(out, sizeof(out), "abcdef", 3), 5);
    ck_assert_str_eq(out, "\"abc\"");
    char *raw = malloc(4);
    ck_assert_ptr_nonnull(raw);
    memcpy(raw, "wxyz", 4);
    log_quote(out, sizeof(out), raw, 4);
    ck_assert_str_eq(out, "\"wxyz\"");
    free(raw);
    ck_assert_uint_eq(log_quote(out, sizeof(out), NULL, 0), 2);
    ck_assert_str_eq(out, "\"\"");
}
END_TEST

START_TEST(quote_non_ascii)
{
    QUOTED_IS("\xc3\xa9", "\"\\xc3\\xa9\"");
    QUOTED_IS("caf\xc3\xa9!", "\"caf\\xc3\\xa9!\"");
    QUOTED_IS("\x80\xff", "\"\\x80\\xff\"");
}
END_TEST

/* ---- truncation ---- */

START_TEST(quote_truncates_long)
{
    char s[1000];
    memset(s, 'a', sizeof(s));
    char out[32];
    size_t n = log_quote(out, sizeof(out), s, sizeof(s));
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_uint_lt(n, sizeof(out));
    ck_assert_int_eq(out[0], '"');
    ck_assert(memcmp(out + n - 4, "...\"", 4) == 0);
    for (size_t i = 1; i < n - 4; i++)
        ck_assert_int_eq(out[i], 'a');
    /* it uses the room it has: at most the 3 bytes it keeps for the marker are left */
    ck_assert_uint_ge(n, sizeof(out) - 1 - 3);
}
END_TEST

START_TEST(quote_truncates_between_escapes)
{
    char s[100];
    memset(s, '\n', sizeof(s));
    for (size_t cap = 8; cap < 80; cap++) {
        char out[80];
        size_t n = log_quote(out, cap, s, sizeof(s));
        ck_assert_uint_lt(n, cap);
        ck_assert(memcmp(out + n - 4, "...\"", 4) == 0);
        /* whole \x0a groups only */
        size_t body = n - 5;
        ck_assert_msg(body % 4 == 0, "cap %zu: %s", cap, out);
        for (size_t i = 1; i + 4 <= 1 + body; i += 4)
            ck_assert(memcmp(out + i, "\\x0a", 4) == 0);
    }
}
END_TEST

START_TEST(quote_tiny_caps)
{
    char out[16];
    for (size_t cap = 1; cap < 8; cap++) {
        memset(out, 'Q', sizeof(out));
        ck_assert_uint_eq(log_quote(out, cap, "abc", 3), 0);
        ck_assert_int_eq(out[0], '\0');
        for (size_t i = 1; i < sizeof(out); i++)
            ck_assert_int_eq(out[i], 'Q');
    }
    memset(out, 'Q', sizeof(out));
    ck_assert_uint_eq(log_quote(out, 0, "abc", 3), 0);
    ck_assert_int_eq(out[0], 'Q');

    /* 8 is the smallest room for a value: a quote, something, "...", a quote and the NUL */
    ck_assert_uint_eq(log_quote(out, 8, "abcdef", 6), 7);
    ck_assert_str_eq(out, "\"ab...\"");
    ck_assert_uint_eq(log_quote(out, 8, "\n", 1), 5);
    ck_assert_str_eq(out, "\"...\"");
    ck_assert_uint_eq(log_quote(out, 8, "", 0), 2);
    ck_assert_str_eq(out, "\"\"");
}
END_TEST

START_TEST(quote_every_cap)
{
    static const char *const inputs[] = {
        "",
        "a",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "\"\\\"\\\"\\\"\\\"\\\"\\",
        "\n\r\t\x01\x7f\xff\xc3\xa9\n\r\t\x01\x7f\xff\xc3\xa9",
        "mixed \"q\" \\ \n and \xe2\x82\xac more text to overflow small buffers",
    };
    char long_input[300];
    for (size_t i = 0; i < sizeof(long_input); i++)
        long_input[i] = (char)(i % 3 == 0 ? '\n' : i % 3 == 1 ? 'x' : '"');

    for (size_t cap = 0; cap <= 64; cap++) {
        for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++)
            check_cap(inputs[k], strlen(inputs[k]), cap);
        check_cap(long_input, sizeof(long_input), cap);
    }
    check_cap(long_input, sizeof(long_input), 599);
}
END_TEST

START_TEST(quote_exact_fit_boundaries)
{
    /* a value is never cut when it fits together with the room kept for a "..." marker: two quotes, the
     * NUL and three bytes */
    char s[64], out[128];
    memset(s, 'b', sizeof(s));
    for (size_t len = 0; len <= 60; len++) {
        size_t cap = len + 6 < 8 ? 8 : len + 6;
        size_t n = log_quote(out, cap, s, len);
        ck_assert_msg(n == len + 2, "len %zu in cap %zu: %s", len, cap, out);
        ck_assert_int_eq(out[len + 1], '"');
    }
}
END_TEST

/* ---- levels and lines ---- */

START_TEST(levels)
{
    ck_assert_int_eq(log_set_level("debug"), 0);
    ck_assert(log_enabled(LOG_LEVEL_DEBUG));
    ck_assert_int_eq(log_set_level("warn"), 0);
    ck_assert(!log_enabled(LOG_LEVEL_INFO));
    ck_assert(log_enabled(LOG_LEVEL_WARN));
    ck_assert(log_enabled(LOG_LEVEL_ERROR));
    ck_assert_int_eq(log_set_level("error"), 0);
    ck_assert(!log_enabled(LOG_LEVEL_WARN));
    ck_assert(log_enabled(LOG_LEVEL_FATAL));
    ck_assert_int_eq(log_set_level("bogus"), -1);
    ck_assert_int_eq(log_set_level("DEBUG"), -1);
    ck_assert_int_eq(log_set_level("fatal"), -1);
    ck_assert_int_eq(log_set_level(""), -1);
    ck_assert(!log_enabled(LOG_LEVEL_WARN)); /* a bad name changes nothing */
    ck_assert_int_eq(log_set_level("info"), 0);
    ck_assert(log_enabled(LOG_LEVEL_INFO));
    ck_assert(!log_enabled(LOG_LEVEL_DEBUG));
}
END_TEST

/* The application may use syslog beside log.h: syslog's own macros keep their meaning and ours theirs. A
 * clash of names would already fail to compile this file. */
START_TEST(levels_beside_syslog)
{
    ck_assert_int_eq(LOG_DEBUG, 7);
    ck_assert_int_eq(LOG_ERR, 3);
    ck_assert_int_lt(LOG_LEVEL_DEBUG, LOG_LEVEL_FATAL);
    ck_assert_int_eq(log_set_level("warn"), 0);
    ck_assert(!log_enabled(LOG_LEVEL_INFO));
    ck_assert(log_enabled(LOG_LEVEL_ERROR));
    ck_assert_int_eq(log_set_level("info"), 0);
}
END_TEST

/* Runs fn with stderr sent to a temporary file and returns what it wrote (malloc'd). */
static char *capture_stderr(void (*fn)(void))
{
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
    fn();
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    fseek(tmp, 0, SEEK_END);
    long size = ftell(tmp);
    ck_assert_int_ge(size, 0);
    rewind(tmp);
    char *text = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(text);
    size_t got = fread(text, 1, (size_t)size, tmp);
    text[got] = '\0';
    fclose(tmp);
    return text;
}

static void emit_access(void)
{
    log_set_level("info");
    const char path[] = "/a\nlevel=error msg=forged \"x\"";
    log_access("GET", path, sizeof(path) - 1, 302, 1234, "rid-1");
}

/* a path of 1,000 bytes that quote to 4,000: the line keeps its fields after the cut path */
static void emit_access_long_path(void)
{
    static char path[1000];
    memset(path, '\x01', sizeof(path));
    log_set_level("info");
    log_access("POST", path, sizeof(path), 503, -1, "r-ff");
}

static void emit_filtered(void)
{
    log_set_level("warn");
    log_info("hidden", "k=%d", 1);
    log_access("GET", "/", 1, 200, 1, "r");
    log_warn("shown", "k=%d", 2);
    log_set_level("info");
}

static void emit_error_and_space(void)
{
    log_set_level("info");
    log_error("two words", "%s", "");
    log_info("plain", "%s", "");
}

static void emit_long(void)
{
    static char big[5000];
    memset(big, 'v', sizeof(big) - 1);
    log_set_level("info");
    log_info("long", "k=%s", big);
    log_info("after", "k=%d", 1);
}

/* bytes written to stderr so far (capture_stderr's file) */
static long written(void)
{
    return (long)lseek(STDERR_FILENO, 0, SEEK_CUR);
}

static long held_before_release, after_warn, after_many;

static void emit_held(void)
{
    log_set_level("info");
    log_hold();
    log_info("one", "k=%d", 1);
    log_access("GET", "/x", 2, 302, 5, "r1");
    held_before_release = written();
    log_warn("urgent", "k=%d", 2); /* written at once, after what was held */
    after_warn = written();
    log_info("three", "k=%d", 3);
    log_release();
    log_info("free", "k=%d", 4); /* not held any more */
}

static void emit_many_held(void)
{
    log_set_level("info");
    log_hold();
    for (int i = 0; i < 100; i++)
        log_access("GET", "/a-path-of-some-length", 22, 302, i, "0123456789abcdef-1");
    after_many = written();
    log_release();
}

START_TEST(held_lines_written_at_release_warnings_at_once)
{
    char *text = capture_stderr(emit_held);
    ck_assert_int_eq(held_before_release, 0);
    int pid = (int)getpid();
    char want[512];
    int n = snprintf(want, sizeof(want),
                     "level=info pid=%d msg=one k=1\n"
                     "level=info pid=%d msg=access method=\"GET\" path=\"/x\" status=302 us=5 rid=r1\n"
                     "level=warn pid=%d msg=urgent k=2\n",
                     pid, pid, pid);
    ck_assert_int_eq(after_warn, n);
    snprintf(want + n, sizeof(want) - (size_t)n,
             "level=info pid=%d msg=three k=3\nlevel=info pid=%d msg=free k=4\n", pid, pid);
    ck_assert_str_eq(text, want);
    free(text);
}
END_TEST

START_TEST(held_lines_go_out_in_whole_lines_of_at_most_4k)
{
    char *text = capture_stderr(emit_many_held);
    /* 100 lines of about 100 bytes: some went out before the release, each write whole lines */
    ck_assert_int_gt(after_many, 0);
    ck_assert_int_lt(after_many, (long)strlen(text));
    ck_assert_int_eq(text[after_many - 1], '\n');
    int lines = 0;
    for (const char *p = text; (p = strstr(p, "msg=access")) != NULL; p++)
        lines++;
    ck_assert_int_eq(lines, 100);
    ck_assert_ptr_nonnull(strstr(text, " us=99 rid=0123456789abcdef-1\n"));
    free(text);
}
END_TEST

START_TEST(access_line_cannot_be_forged)
{
    char *text = capture_stderr(emit_access);
    char want[256];
    snprintf(want, sizeof(want),
             "level=info pid=%d msg=access method=\"GET\" path=\"/a\\x0alevel=error msg=forged \\\"x\\\"\" "
             "status=302 us=1234 rid=rid-1\n",
             (int)getpid());
    ck_assert_str_eq(text, want);
    free(text);
}
END_TEST

START_TEST(access_line_path_cut_fields_kept)
{
    char *text = capture_stderr(emit_access_long_path);
    char head[64];
    snprintf(head, sizeof(head), "level=info pid=%d msg=access method=\"POST\" path=\"\\x01", (int)getpid());
    ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "line: %s", text);
    /* the path takes at most 600 bytes, quotes included */
    const char *p = strstr(text, " path=") + 6, *end = strstr(p, "...\" status=503 us=-1 rid=r-ff\n");
    ck_assert_ptr_nonnull(end);
    ck_assert_uint_le((size_t)(end - p) + 4, 600);
    ck_assert_uint_ge((size_t)(end - p) + 4, 590);
    ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);
    free(text);
}
END_TEST

START_TEST(level_filters_lines)
{
    char *text = capture_stderr(emit_filtered);
    char want[128];
    snprintf(want, sizeof(want), "level=warn pid=%d msg=shown k=2\n", (int)getpid());
    ck_assert_str_eq(text, want);
    free(text);
}
END_TEST

START_TEST(error_names_func_and_message_with_space_is_quoted)
{
    char *text = capture_stderr(emit_error_and_space);
    char want[256];
    int pid = (int)getpid();
    snprintf(want, sizeof(want),
             "level=error pid=%d msg=\"two words\" func=emit_error_and_space\nlevel=info pid=%d msg=plain\n",
             pid, pid);
    ck_assert_str_eq(text, want);
    free(text);
}
END_TEST

START_TEST(long_line_cut_and_terminated)
{
    char *text = capture_stderr(emit_long);
    char *nl = strchr(text, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_uint_le((size_t)(nl - text) + 1, 2048);
    char want[64];
    snprintf(want, sizeof(want), "level=info pid=%d msg=after k=1\n", (int)getpid());
    ck_assert_str_eq(nl + 1, want);
    free(text);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("log");
    TCase *esc = tcase_create("escape");
    TCase *cut = tcase_create("truncate");
    TCase *lines = tcase_create("lines");

    tcase_add_test(esc, quote_plain);
    tcase_add_test(esc, quote_quotes_and_backslash);
    tcase_add_test(esc, quote_control_chars);
    tcase_add_test(esc, quote_nul_and_len);
    tcase_add_test(esc, quote_non_ascii);
    suite_add_tcase(s, esc);

    tcase_add_test(cut, quote_truncates_long);
    tcase_add_test(cut, quote_truncates_between_escapes);
    tcase_add_test(cut, quote_tiny_caps);
    tcase_add_test(cut, quote_every_cap);
    tcase_add_test(cut, quote_exact_fit_boundaries);
    tcase_set_timeout(cut, 60);
    suite_add_tcase(s, cut);

    tcase_add_test(lines, levels);
    tcase_add_test(lines, levels_beside_syslog);
    tcase_add_test(lines, access_line_cannot_be_forged);
    tcase_add_test(lines, access_line_path_cut_fields_kept);
    tcase_add_test(lines, level_filters_lines);
    tcase_add_test(lines, error_names_func_and_message_with_space_is_quoted);
    tcase_add_test(lines, long_line_cut_and_terminated);
    tcase_add_test(lines, held_lines_written_at_release_warnings_at_once);
    tcase_add_test(lines, held_lines_go_out_in_whole_lines_of_at_most_4k);
    suite_add_tcase(s, lines);

    return s;
}
