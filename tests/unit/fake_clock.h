/* A stand-in for fcgi-app/clock.c that the handler tests link before libfcgiapp.a: a stopped monotonic clock
 * that only the test moves forward, so that cache entries age exactly and without waiting. */
#ifndef HOP_TESTS_FAKE_CLOCK_H
#define HOP_TESTS_FAKE_CLOCK_H

/* Moves every clock of clock.h forward by ms. */
void fake_clock_advance(long long ms);
/* Back to where it started. */
void fake_clock_reset(void);

#endif
