/* hop's own settings (the runtime's are in server.h): read once from the environment by main, read-only
 * afterwards. */
#ifndef HOP_CONFIG_H
#define HOP_CONFIG_H

#include <stdbool.h>

enum { CONFIG_VISITS_PG_MS = 10, CONFIG_MIGRATE_LOCK_MS = 60 * 1000 };

struct app_config {
    const char *base_url; /* HOP_BASE_URL without a trailing slash, or NULL: the request's Host over https */
    bool no_visits;       /* HOP_VISITS=off: redirects count nothing (to measure what counting costs) */
    int hourly_days;      /* HOP_ANALYTICS_HOURLY_DAYS: days hourly counts are kept before they roll up */
    int cache_mb;         /* HOP_CACHE_MB: the host's link table in MiB (0 before config_load) */
    const char *geoip_db; /* HOP_GEOIP_DB: a MaxMind-format .mmdb of countries, or NULL: country unknown */
    /* HOP_CORS_ORIGINS: the browser origins that may call the API ("https://app.example", or "*" for any),
     * NULL-terminated; NULL when none may (the default) */
    const char *const *cors_origins;
    /* HOP_SPOOL_DIR: where the master spills visit counts it cannot write (PostgreSQL away and its memory
     * bound reached, or a graceful stop); default $STATE_DIRECTORY/spool (systemd's StateDirectory=), else
     * $XDG_STATE_HOME/hop/spool, else ~/.local/state/hop/spool; NULL (HOP_SPOOL_DIR=off): no spool */
    const char *spool_dir;
    long long spool_max_bytes;  /* HOP_SPOOL_MB: the spool's bound on disk, default 256 MB */
    long long visits_mem_bytes; /* HOP_VISITS_MEMORY_KB: the master's bound on pending visit counts */
    /* HOP_VISITS_WRITE_MS: between the master's batches of visit counts (default 500; 0 before config_load,
     * as in unit tests: every flush writes) */
    int visits_write_ms;
    /* HOP_VISITS_WINDOW_MS: the longest a logged visit waits before the master adds it to the counters
     * (migration 0021; default 60000, less while PostgreSQL is idle); 0 (also before config_load): batches go
     * straight to the counters */
    int visits_window_ms;
    long long visits_window_bytes; /* HOP_VISITS_WINDOW_KB: the window's bound, default 65536 */
    /* HOP_VISITS_PG_MS: PostgreSQL's milliseconds a second the master aims to spend adding the window's parts
     * to the counters under load (default CONFIG_VISITS_PG_MS, also before config_load) */
    int visits_pg_ms;
    int test_lost_answers; /* HOP_TEST_VISITS_LOST_ANSWERS: tests only, see visits.c */
    /* HOP_MIGRATE_LOCK_MS: how long a migration may wait, in all, for other sessions' locks (db_migrate;
     * default CONFIG_MIGRATE_LOCK_MS); 0: as long as they take */
    long long migrate_lock_ms;
};

/* Reads HOP_BASE_URL, HOP_VISITS, HOP_ANALYTICS_HOURLY_DAYS, HOP_GEOIP_DB, HOP_CORS_ORIGINS,
 * HOP_MIGRATE_LOCK_MS and the spool's knobs (HOP_SPOOL_DIR, HOP_SPOOL_MB, HOP_VISITS_MEMORY_KB,
 * HOP_VISITS_WRITE_MS, HOP_VISITS_WINDOW_MS, HOP_VISITS_WINDOW_KB, HOP_VISITS_PG_MS): 0, or -1 with the
 * reason printed on stderr. Called again (by tests), it reads the environment again. */
int config_load(void);
/* The settings config_load read (all defaults before it). */
const struct app_config *config_get(void);

#endif
