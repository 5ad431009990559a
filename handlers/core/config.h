/* hop's own settings (the runtime's are in server.h): read once from the environment by main, read-only
 * afterwards. */
#ifndef HOP_CONFIG_H
#define HOP_CONFIG_H

#include <stdbool.h>

struct app_config {
    const char *base_url; /* HOP_BASE_URL without a trailing slash, or NULL: the request's Host over https */
    bool no_visits;       /* HOP_VISITS=off: redirects count nothing (to measure what counting costs) */
    int hourly_days;      /* HOP_ANALYTICS_HOURLY_DAYS: days hourly counts are kept before they roll up */
    int cache_mb;         /* HOP_CACHE_MB: the host's link table in MiB (0 before config_load) */
    const char *geoip_db; /* HOP_GEOIP_DB: a MaxMind-format .mmdb of countries, or NULL: country unknown */
    /* HOP_CORS_ORIGINS: the browser origins that may call the API ("https://app.example", or "*" for any),
     * NULL-terminated; NULL when none may (the default) */
    const char *const *cors_origins;
};

/* Reads HOP_BASE_URL, HOP_VISITS, HOP_ANALYTICS_HOURLY_DAYS, HOP_GEOIP_DB and HOP_CORS_ORIGINS: 0, or -1 with
 * the reason printed on stderr. Called again (by tests), it reads the environment again. */
int config_load(void);
/* The settings config_load read (all defaults before it). */
const struct app_config *config_get(void);

#endif
