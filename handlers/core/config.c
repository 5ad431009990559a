/* hop's settings from the environment; see config.h. */
#include "config.h"

#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct app_config cfg;
static char *base_url;

const struct app_config *config_get(void)
{
    return &cfg;
}

/* HOP_BASE_URL without trailing slashes: any URL valid as a link target with no path is a valid base. */
static int load_base_url(void)
{
    free(base_url);
    base_url = NULL;
    cfg.base_url = NULL;
    const char *base = getenv("HOP_BASE_URL");
    if (!base || !*base)
        return 0;
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    char *b = strndup(base, n);
    if (!b || validate_url(b, n, NULL) || strchr(strstr(b, "://") + 3, '/')) {
        fprintf(stderr, "hop: HOP_BASE_URL=%s must be an http(s) URL with a host and no path\n", base);
        free(b);
        return -1;
    }
    base_url = b;
    cfg.base_url = b;
    return 0;
}

enum { HOURLY_DAYS_DEFAULT = 30, HOURLY_DAYS_MAX = 3660 };

/* HOP_ANALYTICS_HOURLY_DAYS: a whole number of days from 1 to HOURLY_DAYS_MAX, default 30. */
static int load_hourly_days(void)
{
    const char *s = getenv("HOP_ANALYTICS_HOURLY_DAYS");
    cfg.hourly_days = HOURLY_DAYS_DEFAULT;
    if (!s || !*s)
        return 0;
    char *end;
    long n = strtol(s, &end, 10);
    if (*end || n < 1 || n > HOURLY_DAYS_MAX) {
        fprintf(stderr, "hop: HOP_ANALYTICS_HOURLY_DAYS=%s is not a number of days from 1 to %d\n", s,
                HOURLY_DAYS_MAX);
        return -1;
    }
    cfg.hourly_days = (int)n;
    return 0;
}

int config_load(void)
{
    const char *geoip = getenv("HOP_GEOIP_DB");
    cfg.geoip_db = geoip && *geoip ? geoip : NULL;
    if (load_hourly_days() < 0)
        return -1;
    const char *visits = getenv("HOP_VISITS");
    if (visits && *visits && strcmp(visits, "on") != 0 && strcmp(visits, "off") != 0) {
        fprintf(stderr, "hop: HOP_VISITS=%s is not on or off\n", visits);
        return -1;
    }
    cfg.no_visits = visits && strcmp(visits, "off") == 0;
    return load_base_url();
}
