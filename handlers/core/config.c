/* hop's settings from the environment; see config.h. */
#include "config.h"

#include "cache.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct app_config cfg = {.visits_pg_ms = CONFIG_VISITS_PG_MS,
                                .migrate_lock_ms = CONFIG_MIGRATE_LOCK_MS};
static char *base_url;
static char *cors_text;
static const char **cors_list;

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

enum { CACHE_MB_MIN = 1, CACHE_MB_MAX = 65536 };

/* HOP_CACHE_MB: the host's link table in MiB, 1 to 65536, default 64 (cache.h says why). */
static int load_cache_mb(void)
{
    const char *s = getenv("HOP_CACHE_MB");
    cfg.cache_mb = CACHE_MB_DEFAULT;
    if (!s || !*s)
        return 0;
    char *end;
    long n = strtol(s, &end, 10);
    if (*end || n < CACHE_MB_MIN || n > CACHE_MB_MAX) {
        fprintf(stderr, "hop: HOP_CACHE_MB=%s is not a number of MiB from %d to %d\n", s, CACHE_MB_MIN,
                CACHE_MB_MAX);
        return -1;
    }
    cfg.cache_mb = (int)n;
    return 0;
}

/* An origin as a browser sends it: scheme "://" host [":" port], nothing after; or "*". */
static bool origin_ok(const char *o)
{
    if (strcmp(o, "*") == 0)
        return true;
    const char *host = strncmp(o, "https://", 8) == 0 ? o + 8 : strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
    size_t n = host ? strlen(host) : 0;
    return n > 0 && n <= 255 && strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]") == n;
}

/* HOP_CORS_ORIGINS: a comma-separated list of exact origins (spaces around them ignored). */
static int load_cors(void)
{
    free(cors_text);
    free(cors_list);
    cors_text = NULL;
    cors_list = NULL;
    cfg.cors_origins = NULL;
    const char *env = getenv("HOP_CORS_ORIGINS");
    if (!env || !*env)
        return 0;
    cors_text = strdup(env);
    cors_list = calloc(strlen(env) / 2 + 2, sizeof(*cors_list));
    if (!cors_text || !cors_list)
        return -1;
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(cors_text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        size_t len = strlen(tok);
        while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
            tok[--len] = '\0';
        if (!origin_ok(tok)) {
            fprintf(stderr,
                    "hop: HOP_CORS_ORIGINS: \"%s\" is not an origin such as https://app.example or "
                    "http://localhost:3000 (lower case, no path), or *\n",
                    tok);
            return -1;
        }
        cors_list[n++] = tok;
    }
    cfg.cors_origins = n ? cors_list : NULL;
    return 0;
}

/* A whole number from lo to hi in the variable name, or def when it is unset: 0, or -1 (printed). */
static int load_number(const char *name, long long lo, long long hi, long long def, long long *out)
{
    const char *s = getenv(name);
    *out = def;
    if (!s || !*s)
        return 0;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (*end || n < lo || n > hi) {
        fprintf(stderr, "hop: %s=%s is not a whole number from %lld to %lld\n", name, s, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

/* HOP_SPOOL_DIR, or the default described in config.h. */
static int load_spool(void)
{
    static char *dir;
    free(dir);
    dir = NULL;
    cfg.spool_dir = NULL;
    long long mb, kb, lost, write_ms, window_ms, window_kb, pg_ms;
    if (load_number("HOP_SPOOL_MB", 1, 1024 * 1024, 256, &mb) < 0 ||
        load_number("HOP_VISITS_MEMORY_KB", 16, 16 * 1024 * 1024, 4096, &kb) < 0 ||
        load_number("HOP_VISITS_WRITE_MS", 0, 10000, 500, &write_ms) < 0 ||
        load_number("HOP_VISITS_WINDOW_MS", 0, 3600 * 1000, 60 * 1000, &window_ms) < 0 ||
        load_number("HOP_VISITS_WINDOW_KB", 1024, 16 * 1024 * 1024, 64 * 1024, &window_kb) < 0 ||
        load_number("HOP_VISITS_PG_MS", 1, 1000, CONFIG_VISITS_PG_MS, &pg_ms) < 0 ||
        load_number("HOP_TEST_VISITS_LOST_ANSWERS", 0, 1000000, 0, &lost) < 0)
        return -1;
    cfg.spool_max_bytes = mb * 1024 * 1024;
    cfg.visits_mem_bytes = kb * 1024;
    cfg.visits_write_ms = (int)write_ms;
    cfg.visits_window_ms = (int)window_ms;
    cfg.visits_window_bytes = window_kb * 1024;
    cfg.visits_pg_ms = (int)pg_ms;
    cfg.test_lost_answers = (int)lost;
    const char *env = getenv("HOP_SPOOL_DIR"), *state = getenv("STATE_DIRECTORY");
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (env && strcmp(env, "off") == 0)
        return 0;
    if (env && *env)
        n = asprintf(&dir, "%s", env);
    else if (state && *state) /* systemd may list several directories, colon-separated: the first */
        n = asprintf(&dir, "%.*s/spool", (int)strcspn(state, ":"), state);
    else if (xdg && *xdg)
        n = asprintf(&dir, "%s/hop/spool", xdg);
    else if (home && *home)
        n = asprintf(&dir, "%s/.local/state/hop/spool", home);
    else
        return 0;
    if (n < 0) {
        dir = NULL;
        return -1;
    }
    cfg.spool_dir = dir;
    return 0;
}

int config_load(void)
{
    if (load_spool() < 0)
        return -1;
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
    if (load_number("HOP_MIGRATE_LOCK_MS", 0, 24LL * 3600 * 1000, CONFIG_MIGRATE_LOCK_MS,
                    &cfg.migrate_lock_ms) < 0)
        return -1;
    return load_base_url() < 0 || load_cors() < 0 || load_cache_mb() < 0 ? -1 : 0;
}
