/* The clock of clock.h, stopped, moved only by the test; see fake_clock.h. Linked before libfcgiapp.a, so the
 * archive's clock.o is never pulled in. A stopped clock makes ages exact to the millisecond however slowly
 * the test runs (valgrind). */
#include "clock.h"
#include "fake_clock.h"

#include <time.h>

/* any start: only differences matter to a monotonic clock */
enum { START_MS = 1000000 };

static long long now_ms = START_MS;

void fake_clock_advance(long long ms)
{
    now_ms += ms;
}

void fake_clock_reset(void)
{
    now_ms = START_MS;
}

long long clock_ms(void)
{
    return now_ms;
}

long long clock_coarse_ms(void)
{
    return now_ms;
}

long long clock_us(void)
{
    return now_ms * 1000;
}

long long clock_age_ms(void)
{
    return now_ms;
}

/* real time, moved as far as the test moved the stopped clock: expiry is judged against the link's own
 * dates, which the tests write relative to now */
long long clock_wall_s(void)
{
    return (long long)time(NULL) + (now_ms - START_MS) / 1000;
}

const char *clock_test_file(void)
{
    return NULL;
}
