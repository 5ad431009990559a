/* Pool metrics in shared memory and their exposition; see metrics.h. */
#include "metrics.h"

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "promtext.h"
#include "router.h"
#include "sockqueue.h"
#include "xalloc.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum {
    NCLASS = 5, /* 1xx .. 5xx */
    NBUCKET = 16,
    /* none, /metrics, /status, then the route table's rows */
    ROUTE_FIRST = 3,
    NROUTE = ROUTE_FIRST + METRICS_ROUTES_MAX,
    NAME_MAX_LEN = 48,
};

/* upper bounds of the duration histogram, in microseconds: 100 µs to 10 s */
static const long long bucket_us[NBUCKET] = {100,     250,     500,     1000,    2500,   5000,
                                             10000,   25000,   50000,   100000,  250000, 500000,
                                             1000000, 2500000, 5000000, 10000000};

struct route_stats {
    _Atomic uint64_t by_class[NCLASS];
    _Atomic uint64_t buckets[NBUCKET + 1]; /* the last: slower than the largest bound */
    _Atomic uint64_t sum_us;
};

/* One process's numbers. Only that process writes them, except pid, started_s and restarts, which only
 * the master writes. */
struct slot {
    _Atomic int32_t pid;
    _Atomic uint32_t busy;
    _Atomic int64_t started_s;     /* wall clock, when the worker started */
    _Atomic int64_t busy_since_ms; /* monotonic, while busy */
    _Atomic uint64_t requests, dropped, restarts, last_us;
    _Atomic int64_t app[METRICS_APP_MAX];
    struct route_stats routes[NROUTE];
} __attribute__((aligned(64)));

struct app_series {
    const char *family, *labels, *help;
    enum metrics_kind kind;
};

static struct slot *slots; /* nworkers + 1: the master's is the last */
static int nworkers;
static struct slot *mine;
static struct app_series app[METRICS_APP_MAX];
static int napp;
static char prefix[NAME_MAX_LEN];
static const char *build_version = "";
static const struct route *route_table;
static size_t nroutes;
static pid_t master_pid;
static long long pool_started_s;

/* One writer per counter: a load and a store, never a locked read-modify-write on the request path. */
static void bump(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- the application's series ---- */

int metrics_define(const char *family, const char *labels, enum metrics_kind kind, const char *help)
{
    if (napp == METRICS_APP_MAX) {
        log_error("too many metrics", "family=%s max=%d", family, METRICS_APP_MAX);
        return -1;
    }
    app[napp] = (struct app_series){family, labels, help, kind};
    return napp++;
}

void metrics_add(int id, unsigned long long n)
{
    if (!mine || id < 0 || id >= napp)
        return;
    _Atomic int64_t *c = &mine->app[id];
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (int64_t)n,
                          memory_order_relaxed);
}

void metrics_set(int id, long long v)
{
    if (!mine || id < 0 || id >= napp)
        return;
    atomic_store_explicit(&mine->app[id], v, memory_order_relaxed);
}

/* ---- the pool ---- */

int metrics_map(int n, const char *name, const char *version, const struct route *routes, size_t nr)
{
    size_t size = sizeof(struct slot) * (size_t)(n + 1);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_error("cannot map the metrics", "bytes=%zu", size);
        return -1;
    }
    slots = p;
    nworkers = n;
    mine = &slots[n];
    snprintf(prefix, sizeof(prefix), "%s", name);
    build_version = version ? version : "";
    route_table = routes;
    nroutes = nr > METRICS_ROUTES_MAX ? METRICS_ROUTES_MAX : nr;
    if (nr > nroutes)
        log_warn("routes past the metrics' limit are counted as none", "routes=%zu max=%d", nr,
                 METRICS_ROUTES_MAX);
    master_pid = getpid();
    pool_started_s = (long long)time(NULL);
    return 0;
}

void metrics_attach(int slot)
{
    mine = slots && slot >= 0 && slot < nworkers ? &slots[slot] : NULL;
}

void metrics_worker_up(int slot, pid_t pid)
{
    if (!slots || slot < 0 || slot >= nworkers)
        return;
    struct slot *s = &slots[slot];
    atomic_store_explicit(&s->started_s, (int64_t)time(NULL), memory_order_relaxed);
    atomic_store_explicit(&s->busy, 0, memory_order_relaxed);
    atomic_store_explicit(&s->pid, (int32_t)pid, memory_order_relaxed);
}

void metrics_worker_down(int slot, bool restart)
{
    if (!slots || slot < 0 || slot >= nworkers)
        return;
    struct slot *s = &slots[slot];
    atomic_store_explicit(&s->pid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->busy, 0, memory_order_relaxed);
    /* a dead worker's share of a gauge (its connection was up...) is no one's now; counters stay */
    for (int i = 0; i < napp; i++) {
        if (app[i].kind == METRICS_GAUGE)
            atomic_store_explicit(&s->app[i], 0, memory_order_relaxed);
    }
    if (restart)
        bump(&s->restarts, 1);
}

int metrics_busy(void)
{
    int n = 0;
    for (int i = 0; slots && i < nworkers; i++)
        n += atomic_load_explicit(&slots[i].pid, memory_order_relaxed) != 0 &&
             atomic_load_explicit(&slots[i].busy, memory_order_relaxed) != 0;
    return n;
}

/* ---- the request path ---- */

void metrics_request_begin(void)
{
    if (!mine)
        return;
    atomic_store_explicit(&mine->busy_since_ms, clock_coarse_ms(), memory_order_relaxed);
    atomic_store_explicit(&mine->busy, 1, memory_order_relaxed);
}

static int route_index(int route)
{
    if (route == METRICS_ROUTE_METRICS)
        return 1;
    if (route == METRICS_ROUTE_STATUS)
        return 2;
    if (route <= 0 || (size_t)route > nroutes)
        return 0;
    return ROUTE_FIRST + route - 1;
}

void metrics_request_end(int route, int status, long long us)
{
    if (!mine)
        return;
    struct route_stats *rs = &mine->routes[route_index(route)];
    int cls = status / 100 - 1;
    bump(&rs->by_class[cls < 0 ? 0 : cls >= NCLASS ? NCLASS - 1 : cls], 1);
    int b = 0;
    while (b < NBUCKET && us > bucket_us[b])
        b++;
    bump(&rs->buckets[b], 1);
    bump(&rs->sum_us, us < 0 ? 0 : (uint64_t)us);
    bump(&mine->requests, 1);
    atomic_store_explicit(&mine->last_us, us < 0 ? 0 : (uint64_t)us, memory_order_relaxed);
    atomic_store_explicit(&mine->busy, 0, memory_order_relaxed);
}

void metrics_request_dropped(void)
{
    if (!mine)
        return;
    bump(&mine->dropped, 1);
    atomic_store_explicit(&mine->busy, 0, memory_order_relaxed);
}

/* ---- reading ---- */

struct pool_view {
    int alive, busy;
    unsigned long long restarts, requests, dropped;
    long long rss_master, rss_workers;
    bool queue_known;
    long queued, backlog;
};

/* A process's resident memory in bytes, from /proc; 0 when it cannot be read. */
static long long rss_bytes(pid_t pid)
{
    char path[48], text[128];
    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    long long size = 0, resident = 0;
    if (sscanf(text, "%lld %lld", &size, &resident) != 2)
        return 0;
    return resident * sysconf(_SC_PAGESIZE);
}

static void pool_read(struct pool_view *v, int listen_fd)
{
    memset(v, 0, sizeof(*v));
    for (int i = 0; i < nworkers; i++) {
        struct slot *s = &slots[i];
        pid_t pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
        if (pid) {
            v->alive++;
            v->busy += atomic_load_explicit(&s->busy, memory_order_relaxed) != 0;
            v->rss_workers += rss_bytes(pid);
        }
        v->restarts += get(&s->restarts);
        v->requests += get(&s->requests);
        v->dropped += get(&s->dropped);
    }
    v->rss_master = rss_bytes(master_pid);
    v->queue_known = sockqueue_read(listen_fd, &v->queued, &v->backlog) == 0;
}

static long long app_sum(int id)
{
    long long sum = 0;
    for (int i = 0; i <= nworkers; i++)
        sum += atomic_load_explicit(&slots[i].app[id], memory_order_relaxed);
    return sum;
}

/* A METRICS_SECONDS series' sum, counted in microseconds, in seconds. */
static double app_seconds(int id)
{
    return (double)app_sum(id) / 1e6;
}

/* One route's numbers added up over every worker. */
struct route_total {
    uint64_t by_class[NCLASS];
    uint64_t buckets[NBUCKET + 1];
    uint64_t sum_us;
};

static void route_sum(int r, struct route_total *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < nworkers; i++) {
        struct route_stats *rs = &slots[i].routes[r];
        for (int c = 0; c < NCLASS; c++)
            t->by_class[c] += get(&rs->by_class[c]);
        for (int b = 0; b <= NBUCKET; b++)
            t->buckets[b] += get(&rs->buckets[b]);
        t->sum_us += get(&rs->sum_us);
    }
}

/* The method and pattern a route index is labelled with. */
static void route_labels(int r, const char **method, const char **pattern)
{
    static const char *const own[ROUTE_FIRST] = {"none", "/metrics", "/status"};
    if (r < ROUTE_FIRST) {
        *method = r ? "GET" : "";
        *pattern = own[r];
        return;
    }
    *method = route_table[r - ROUTE_FIRST].method;
    *pattern = route_table[r - ROUTE_FIRST].pattern;
}

static const char *metric(char *out, size_t cap, const char *suffix)
{
    snprintf(out, cap, "%s_%s", prefix, suffix);
    return out;
}

static void render_requests(struct buf *b)
{
    static const char *const classes[NCLASS] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    char name[96];
    int n = ROUTE_FIRST + (int)nroutes;
    struct route_total *sums = xmalloc(sizeof(*sums) * (size_t)n);
    for (int r = 0; r < n; r++)
        route_sum(r, &sums[r]);
    metric(name, sizeof(name), "requests_total");
    promtext_family(b, name, "counter",
                    "Requests answered, by the route table's method and pattern and by status class.");
    for (int r = 0; r < n; r++) {
        const char *labels[6] = {"method", NULL, "route", NULL, "status", NULL};
        route_labels(r, &labels[1], &labels[3]);
        for (int c = 0; c < NCLASS; c++) {
            labels[5] = classes[c];
            promtext_int(b, name, labels, 3, (long long)sums[r].by_class[c]);
        }
    }
    metric(name, sizeof(name), "request_duration_seconds");
    promtext_family(b, name, "histogram",
                    "Time hop spent on a request, from accept to the answer sent, by route.");
    char bucket[112], sum[112], count[112];
    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    snprintf(sum, sizeof(sum), "%s_sum", name);
    snprintf(count, sizeof(count), "%s_count", name);
    for (int r = 0; r < n; r++) {
        const char *labels[6] = {"method", NULL, "route", NULL, "le", NULL};
        route_labels(r, &labels[1], &labels[3]);
        unsigned long long cum = 0;
        char le[32];
        for (int k = 0; k <= NBUCKET; k++) {
            cum += sums[r].buckets[k];
            if (k < NBUCKET)
                snprintf(le, sizeof(le), "%g", (double)bucket_us[k] / 1e6);
            labels[5] = k < NBUCKET ? le : "+Inf";
            promtext_int(b, bucket, labels, 3, (long long)cum);
        }
        promtext_double(b, sum, labels, 2, (double)sums[r].sum_us / 1e6);
        promtext_int(b, count, labels, 2, (long long)cum);
    }
    free(sums);
}

static void render_gauge(struct buf *b, const char *suffix, const char *help, long long v)
{
    char name[96];
    metric(name, sizeof(name), suffix);
    promtext_family(b, name, "gauge", help);
    promtext_int(b, name, NULL, 0, v);
}

static void render_counter(struct buf *b, const char *suffix, const char *help, unsigned long long v)
{
    char name[96];
    metric(name, sizeof(name), suffix);
    promtext_family(b, name, "counter", help);
    promtext_int(b, name, NULL, 0, (long long)v);
}

static void render_pool(struct buf *b, const struct pool_view *v)
{
    char name[96];
    metric(name, sizeof(name), "build_info");
    promtext_family(b, name, "gauge", "Always 1; the version label is the build's.");
    const char *version[2] = {"version", build_version};
    promtext_int(b, name, version, 1, 1);
    render_gauge(b, "start_time_seconds",
                 "When the pool started (or last reloaded), in seconds since the epoch.", pool_started_s);
    render_counter(b, "requests_dropped_total",
                   "Connections dropped unanswered: a broken or stalled FastCGI request.", v->dropped);
    render_gauge(b, "workers_configured", "Worker processes the pool runs.", nworkers);
    render_gauge(b, "workers_alive", "Worker processes running now.", v->alive);
    render_gauge(b, "workers_busy", "Workers answering a request now.", v->busy);
    render_counter(b, "worker_restarts_total", "Workers that died unexpectedly and were replaced.",
                   v->restarts);
    metric(name, sizeof(name), "worker_requests_total");
    promtext_family(b, name, "counter", "Requests each worker slot has answered.");
    for (int i = 0; i < nworkers; i++) {
        char slot[16];
        snprintf(slot, sizeof(slot), "%d", i);
        const char *labels[2] = {"worker", slot};
        promtext_int(b, name, labels, 1, (long long)get(&slots[i].requests));
    }
    if (v->queue_known) {
        render_gauge(b, "listen_queue_length", "Connections waiting in the listen socket's accept queue.",
                     v->queued);
        render_gauge(b, "listen_queue_limit", "The listen socket's backlog: connections that may wait.",
                     v->backlog);
    }
    metric(name, sizeof(name), "resident_memory_bytes");
    promtext_family(b, name, "gauge",
                    "Resident memory of the pool's processes (shared pages counted in each).");
    const char *master[2] = {"process", "master"}, *workers[2] = {"process", "workers"};
    promtext_int(b, name, master, 1, v->rss_master);
    promtext_int(b, name, workers, 1, v->rss_workers);
}

static void render_app(struct buf *b)
{
    for (int i = 0; i < napp; i++) {
        if (i == 0 || strcmp(app[i].family, app[i - 1].family) != 0)
            promtext_family(b, app[i].family, app[i].kind == METRICS_GAUGE ? "gauge" : "counter",
                            app[i].help);
        char v[32];
        if (app[i].kind == METRICS_SECONDS)
            snprintf(v, sizeof(v), "%.6f", app_seconds(i));
        else
            snprintf(v, sizeof(v), "%lld", app_sum(i));
        if (app[i].labels)
            buf_addf(b, "%s{%s} %s\n", app[i].family, app[i].labels, v);
        else
            buf_addf(b, "%s %s\n", app[i].family, v);
    }
}

void metrics_render(struct buf *out, int listen_fd)
{
    if (!slots)
        return;
    struct pool_view v;
    pool_read(&v, listen_fd);
    render_pool(out, &v);
    render_requests(out);
    render_app(out);
}

/* ---- the status ---- */

static struct json_object *utc_time(long long epoch)
{
    char text[32];
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_object_new_string(text);
}

static struct json_object *status_worker(int i)
{
    struct slot *s = &slots[i];
    pid_t pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
    bool busy = pid && atomic_load_explicit(&s->busy, memory_order_relaxed);
    struct json_object *w = json_object_new_object();
    json_object_object_add(w, "worker", json_object_new_int(i));
    json_object_object_add(w, "pid", json_object_new_int(pid));
    json_object_object_add(w, "state", json_object_new_string(!pid ? "down" : busy ? "busy" : "idle"));
    json_object_object_add(w, "started_at",
                           pid ? utc_time(atomic_load_explicit(&s->started_s, memory_order_relaxed)) : NULL);
    json_object_object_add(w, "requests", json_object_new_int64((int64_t)get(&s->requests)));
    json_object_object_add(w, "restarts", json_object_new_int64((int64_t)get(&s->restarts)));
    json_object_object_add(w, "last_request_us", json_object_new_int64((int64_t)get(&s->last_us)));
    long long since = atomic_load_explicit(&s->busy_since_ms, memory_order_relaxed);
    json_object_object_add(w, "busy_ms", busy ? json_object_new_int64(clock_coarse_ms() - since) : NULL);
    json_object_object_add(w, "rss_bytes", json_object_new_int64(pid ? rss_bytes(pid) : 0));
    return w;
}

static struct json_object *status_app(void)
{
    struct json_object *o = json_object_new_object();
    for (int i = 0; i < napp; i++) {
        char key[256];
        if (app[i].labels)
            snprintf(key, sizeof(key), "%s{%s}", app[i].family, app[i].labels);
        else
            snprintf(key, sizeof(key), "%s", app[i].family);
        if (app[i].kind == METRICS_SECONDS)
            json_object_object_add(o, key, json_object_new_double(app_seconds(i)));
        else
            json_object_object_add(o, key, json_object_new_int64(app_sum(i)));
    }
    return o;
}

struct json_object *metrics_status(int listen_fd)
{
    struct json_object *o = json_object_new_object();
    if (!slots)
        return o;
    struct pool_view v;
    pool_read(&v, listen_fd);
    long long now = (long long)time(NULL);
    json_object_object_add(o, "pool", json_object_new_string(prefix));
    json_object_object_add(o, "version", json_object_new_string(build_version));
    json_object_object_add(o, "master_pid", json_object_new_int(master_pid));
    json_object_object_add(o, "started_at", utc_time(pool_started_s));
    json_object_object_add(o, "uptime_seconds", json_object_new_int64(now - pool_started_s));
    struct json_object *q = NULL;
    if (v.queue_known) {
        q = json_object_new_object();
        json_object_object_add(q, "waiting", json_object_new_int64(v.queued));
        json_object_object_add(q, "limit", json_object_new_int64(v.backlog));
    }
    json_object_object_add(o, "listen_queue", q);
    json_object_object_add(o, "workers_configured", json_object_new_int(nworkers));
    json_object_object_add(o, "workers_alive", json_object_new_int(v.alive));
    json_object_object_add(o, "workers_busy", json_object_new_int(v.busy));
    json_object_object_add(o, "workers_idle", json_object_new_int(v.alive - v.busy));
    json_object_object_add(o, "worker_restarts", json_object_new_int64((int64_t)v.restarts));
    json_object_object_add(o, "requests", json_object_new_int64((int64_t)v.requests));
    json_object_object_add(o, "requests_dropped", json_object_new_int64((int64_t)v.dropped));
    json_object_object_add(o, "master_rss_bytes", json_object_new_int64(v.rss_master));
    struct json_object *ws = json_object_new_array();
    for (int i = 0; i < nworkers; i++)
        json_object_array_add(ws, status_worker(i));
    json_object_object_add(o, "workers", ws);
    json_object_object_add(o, "app", status_app());
    return o;
}
