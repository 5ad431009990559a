/* The pool's lifecycle for hop: workers connect, listen for link changes and count visits; the master
 * writes the visit counts. */
#include "lifecycle.h"

#include "app.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "geo.h"
#include "guard.h"
#include "keyuse.h"
#include "log.h"
#include "server.h"
#include "ua.h"
#include "visits.h"

#include <stdbool.h>

/* How long a statement of the pool waits for another session's lock before it fails (DB_LOCKED), unless the
 * database's own lock_timeout is shorter. An operator's CREATE INDEX or LOCK TABLE, or a migration's ALTER
 * TABLE, may hold a table for minutes. A worker stuck behind one serves nothing else: every worker taken by
 * a write that waits, and no redirect was answered. A request that gives up answers 503 with Retry-After,
 * and a redirect that could not look its link up is served from the link table if it was served in the
 * last day. The master's loop drains the workers' counters, reaps and respawns workers, answers systemd's
 * watchdog and ticks every 100 ms: what it could not write is tried again later, and a graceful stop leaves
 * the window's rows in the log for the next master. */
enum { WORKER_LOCK_WAIT_MS = 2000, MASTER_LOCK_WAIT_MS = 500 };

static int master_start(int nslots)
{
    db_bound_lock_waits(MASTER_LOCK_WAIT_MS);
    /* the bot pattern compiles, the country database opens and the metrics are defined once, before the
     * fork; any of them failing stops the start */
    if (ua_init() < 0 || geo_init(config_get()->geoip_db) < 0 || db_metrics_define() < 0 ||
        cache_metrics_define() < 0)
        return -1;
    return cache_init() < 0 || visits_init(nslots) < 0 || guard_init() < 0 ? -1 : 0;
}

static void worker_start(int slot)
{
    /* the master's connection came with fork: close our copy without telling the server */
    db_forget();
    db_bound_lock_waits(WORKER_LOCK_WAIT_MS);
    visits_attach(slot);
    if (db_connect() == DB_OK)
        cache_sync(false);
}

static int worker_fd(unsigned long *generation)
{
    *generation = db_generation();
    return db_socket();
}

static void worker_event(bool readable)
{
    if (!readable) {
        db_connect();
        keyuse_flush(false);
    }
    cache_sync(readable);
}

static void worker_stop(void)
{
    keyuse_flush(true);
    db_disconnect();
}

static void master_tick(void)
{
    visits_flush(false);
}

static void master_stop(void)
{
    visits_flush(true);
    db_disconnect();
}

const struct server_hooks lifecycle_hooks = {
    .handle = app_handle,
    .master_start = master_start,
    .worker_start = worker_start,
    .worker_fd = worker_fd,
    .worker_event = worker_event,
    .worker_stop = worker_stop,
    .master_tick = master_tick,
    .master_stop = master_stop,
};
