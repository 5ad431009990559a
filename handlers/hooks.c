/* The pool's lifecycle for hop: workers connect, listen for link changes and count visits; the master
 * writes the visit counts. */
#include "hooks.h"

#include "app.h"
#include "cache.h"
#include "db.h"
#include "links.h"
#include "log.h"
#include "server.h"
#include "visits.h"

#include <stdbool.h>
#include <string.h>

static unsigned long listening_generation;

static void on_notify(const char *channel, const char *payload)
{
    if (strcmp(channel, "hop_links") == 0)
        cache_forget(payload);
}

static void sync_cache(bool read_socket)
{
    if (db_generation() != listening_generation) {
        cache_clear();
        if (db_links_listen() == DB_OK)
            listening_generation = db_generation();
    }
    db_consume(on_notify, read_socket);
}

void hooks_sync(void)
{
    sync_cache(false);
}

static int master_start(int nslots)
{
    return visits_init(nslots);
}

static void worker_start(int slot)
{
    /* the master's connection came with fork: close our copy without telling the server */
    db_forget();
    visits_attach(slot);
    if (db_connect() == DB_OK)
        sync_cache(false);
}

static int worker_fd(void)
{
    return db_socket();
}

static void worker_event(bool readable)
{
    if (!readable)
        db_connect();
    sync_cache(readable);
}

static void worker_stop(void)
{
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

const struct server_hooks hop_hooks = {
    .handle = app_handle,
    .master_start = master_start,
    .worker_start = worker_start,
    .worker_fd = worker_fd,
    .worker_event = worker_event,
    .worker_stop = worker_stop,
    .master_tick = master_tick,
    .master_stop = master_stop,
};
