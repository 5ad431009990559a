/* Monotonic clocks and the test-only offset for ages and expiry; see clock.h. */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { REREAD_MS = 1000 };

/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer, so the result is not checked. */
long long clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_coarse_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The environment is read once per process: a fork inherits the answer. */
static const char *test_file;
static int test_file_known;
static long long offset_ms, offset_read_at = -1;

const char *clock_test_file(void)
{
    if (!test_file_known) {
        const char *f = getenv("HOP_TEST_CLOCK_FILE");
        test_file = f && *f ? f : NULL;
        test_file_known = 1;
    }
    return test_file;
}

static long long read_offset_ms(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long long s = 0;
    if (fscanf(f, "%lld", &s) != 1)
        s = 0;
    fclose(f);
    return s * 1000;
}

/* Production pays one well-predicted branch: the file is only ever read when the variable is set. */
static long long test_offset_ms(long long now)
{
    const char *path = clock_test_file();
    if (!path)
        return 0;
    if (offset_read_at < 0 || now - offset_read_at >= REREAD_MS) {
        offset_ms = read_offset_ms(path);
        offset_read_at = now;
    }
    return offset_ms;
}

long long clock_age_ms(void)
{
    long long now = clock_coarse_ms();
    return now + test_offset_ms(now);
}

long long clock_wall_s(void)
{
    long long off = test_offset_ms(clock_coarse_ms());
    return (long long)time(NULL) + off / 1000;
}
