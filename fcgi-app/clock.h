/* Monotonic time in milliseconds: deadlines, back-off and ages, never wall-clock time (which jumps when the
 * clock is set). */
#ifndef HOP_CLOCK_H
#define HOP_CLOCK_H

/* CLOCK_MONOTONIC: exact to the millisecond; for deadlines and timers. */
long long clock_ms(void);
/* CLOCK_MONOTONIC_COARSE: the time of the last tick (a few ms stale), read from the vDSO without touching the
 * clock hardware, several times cheaper; for hot paths where a few ms do not matter (a cache entry's age). */
long long clock_coarse_ms(void);
/* CLOCK_MONOTONIC in microseconds: request durations for the access log. */
long long clock_us(void);

#endif
