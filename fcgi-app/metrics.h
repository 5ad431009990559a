/* The pool's metrics. Each process counts into its own slot of memory shared by the whole pool (plain relaxed
 * atomics with one writer per slot, so counting never waits and never bounces a cache line between workers),
 * and a scrape, answered by any worker, adds up every slot. The runtime counts requests by route and status
 * class, their durations, and the workers; the application registers series of its own (metrics_define)
 * before the pool forks and counts into them (metrics_add, metrics_set). */
#ifndef HOP_METRICS_H
#define HOP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;
struct json_object;
struct route;

/* METRICS_SECONDS: a counter added to in microseconds and shown in seconds, Prometheus' unit of time */
enum metrics_kind { METRICS_COUNTER, METRICS_GAUGE, METRICS_SECONDS };

enum {
    METRICS_APP_MAX = 64,    /* series the application may register */
    METRICS_ROUTES_MAX = 60, /* rows of the route table that get their own label */
    /* what a request is counted under besides the route table's rows (router's route_no, 1-based) */
    METRICS_ROUTE_NONE = 0,
    METRICS_ROUTE_METRICS = -1, /* the runtime's own /metrics */
    METRICS_ROUTE_STATUS = -2,  /* the runtime's own /status */
};

/* ---- for the application ---- */

/* Registers one series, in any process before the pool forks: its family name, its labels as written in
 * the exposition (`source="cache"`, or NULL), its kind and help text. The series of one family are
 * registered one after the other. A counter is the sum over every process of the pool; so is a gauge (a
 * process sets its own share: 1 when its connection is up...). Returns the id, or -1 (logged) when full. */
int metrics_define(const char *family, const char *labels, enum metrics_kind kind, const char *help);
/* Adds n to counter id in this process's slot; nothing outside a pool (hop keys...), or for id -1. */
void metrics_add(int id, unsigned long long n);
/* Sets this process's share of gauge id. */
void metrics_set(int id, long long v);

/* ---- for the server ---- */

/* In the master before the first fork: maps a slot for each of nworkers workers and one for the master,
 * which counts into its own from now on. name prefixes every metric and names the pool; the routes label
 * requests by their pattern. 0, or -1 (logged). */
int metrics_map(int nworkers, const char *name, const char *version, const struct route *routes,
                size_t nroutes);
/* In a worker after fork: counts into slot from now on. */
void metrics_attach(int slot);
/* The master's view of its workers: one started in slot; one that exited (restart: it died unexpectedly). */
void metrics_worker_up(int slot, pid_t pid);
void metrics_worker_down(int slot, bool restart);
/* Workers now busy with a request, as the master reads them (for systemd's STATUS=). */
int metrics_busy(void);

/* The request path: a connection accepted, a request answered (route: the router's route_no or one of
 * METRICS_ROUTE_*, status, hop's own time in microseconds), a request dropped unanswered. */
void metrics_request_begin(void);
void metrics_request_end(int route, int status, long long us);
void metrics_request_dropped(void);

/* The exposition a scrape gets; listen_fd is asked for its accept queue. */
void metrics_render(struct buf *out, int listen_fd);
/* The pool's status for a person (hop status): a new JSON object the caller releases. */
struct json_object *metrics_status(int listen_fd);

#endif
