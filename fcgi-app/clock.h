/* Monotonic time in milliseconds. */
#ifndef HOP_CLOCK_H
#define HOP_CLOCK_H

long long clock_ms(void);
long long clock_coarse_ms(void);

#endif
