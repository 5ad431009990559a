/* Monotonic time; see clock.h. */
#include "clock.h"

#include <time.h>

static long long ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_ms(void)
{
    return ms(CLOCK_MONOTONIC);
}

long long clock_coarse_ms(void)
{
    return ms(CLOCK_MONOTONIC_COARSE);
}
