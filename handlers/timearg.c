/* Strict dates and RFC 3339 times for the stats API; see timearg.h. */
#include "timearg.h"

#include <string.h>
#include <time.h>

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* YYYY-MM-DD at s: the day's UTC start, or -1 (no date starts before 1970). */
static long long date_at(const char *s)
{
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (s[4] != '-' || s[7] != '-' || y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    return (long long)timegm(&tm);
}

/* The seconds of "hh:mm:ss[.ffffff]" and the zone after it; -1 when malformed. */
static long long time_of_day(const char *s)
{
    int h = digits(s, 2), mi = digits(s + 3, 2), se = digits(s + 6, 2);
    if (s[2] != ':' || s[5] != ':' || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
        return -1;
    const char *z = s + 8;
    if (*z == '.') {
        size_t n = strspn(z + 1, "0123456789");
        if (n < 1 || n > 6)
            return -1;
        z += 1 + n;
    }
    long long off = 0;
    if (*z == 'Z') {
        if (z[1])
            return -1;
    } else if (*z == '+' || *z == '-') {
        int oh = digits(z + 1, 2), om = digits(z + 4, 2);
        if (z[3] != ':' || oh < 0 || oh > 23 || om < 0 || om > 59 || z[6])
            return -1;
        off = (oh * 3600LL + om * 60LL) * (*z == '+' ? 1 : -1);
    } else {
        return -1;
    }
    return h * 3600LL + mi * 60LL + se - off + 86400; /* kept positive: the caller takes the day back */
}

int timearg_parse(const char *s, struct timearg *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 10)
        return -1;
    long long day = date_at(s);
    if (day < 0)
        return -1;
    if (n == 10) {
        *out = (struct timearg){.is_date = true, .epoch = day};
        return 0;
    }
    if (s[10] != 'T')
        return -1;
    long long tod = time_of_day(s + 11);
    if (tod < 0)
        return -1;
    *out = (struct timearg){.is_date = false, .epoch = day + tod - 86400};
    return 0;
}
