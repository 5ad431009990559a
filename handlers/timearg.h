/* The stats API's from/to: a date (YYYY-MM-DD, a day of the viewer's zone) or an RFC 3339 time. Checked
 * whole in C, so that what reaches PostgreSQL always converts. */
#ifndef HOP_TIMEARG_H
#define HOP_TIMEARG_H

#include <stdbool.h>

struct timearg {
    bool is_date;    /* a date: the day's start (from) or its end (to) in the viewer's zone */
    long long epoch; /* the instant; for a date, its start in UTC (the zone is PostgreSQL's to apply) */
};

/* 0 and *out when s is a date from 1970-01-01 to 9999-12-31 or an RFC 3339 time in that range (seconds
 * below 60, a fraction of at most 6 digits, Z or an offset up to ±23:59); -1 otherwise. */
int timearg_parse(const char *s, struct timearg *out);

#endif
