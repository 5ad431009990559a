/* The clock of clock.h with a settable offset; see fake_clock.h. Linked before libfcgiapp.a, so the archive's
 * clock.o is never pulled in. */
#include "clock.h"
#include "fake_clock.h"

#include <time.h>

static long long offset_ms;

void fake_clock_advance(long long ms)
{
    offset_ms += ms;
}

void fake_clock_reset(void)
{
    offset_ms = 0;
}

static long long now_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset_ms * 1000;
}

long long clock_ms(void)
{
    return now_us(CLOCK_MONOTONIC) / 1000;
}

long long clock_coarse_ms(void)
{
    return now_us(CLOCK_MONOTONIC_COARSE) / 1000;
}

long long clock_us(void)
{
    return now_us(CLOCK_MONOTONIC);
}
