/* Monotonic time in milliseconds: deadlines, back-off and ages, never wall-clock time (which jumps when the
 * clock is set); and, for what judges ages and expiry, the same clocks shifted by a test-only offset. */
#ifndef HOP_CLOCK_H
#define HOP_CLOCK_H

/* CLOCK_MONOTONIC: exact to the millisecond; for deadlines and timers. */
long long clock_ms(void);
/* CLOCK_MONOTONIC_COARSE: the time of the last tick (a few ms stale), read from the vDSO without touching the
 * clock hardware, several times cheaper; for hot paths where a few ms do not matter (a cache entry's age). */
long long clock_coarse_ms(void);
/* CLOCK_MONOTONIC in microseconds: request durations for the access log. */
long long clock_us(void);

/* ---- the test seam: what judges ages and expiry reads these, never deadlines or durations ---- */

/* clock_coarse_ms() plus the test offset: a cache entry's age, how long ago a link was served. The same in
 * every process of the pool (the monotonic clock is the machine's), so it may be kept in shared memory. */
long long clock_age_ms(void);
/* Seconds since 1970 (CLOCK_REALTIME) plus the test offset: a link's expiry. */
long long clock_wall_s(void);
/* The file HOP_TEST_CLOCK_FILE names, or NULL when unset (production). It holds a whole number of seconds
 * (possibly negative) that clock_age_ms and clock_wall_s add; it is read again at most once a second, so a
 * test moves the whole pool's time by rewriting it. A missing or unreadable file counts as 0. */
const char *clock_test_file(void);

#endif
