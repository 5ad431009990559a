/* The `hop status` command. It asks the pool over its own socket (HOP_LISTEN, or --socket) for /status with
 * the operator's param set, the way the loopback Caddy site does: so it needs nothing but the socket, shows
 * what a worker sees in the pool's shared memory at that moment, and by answering at all proves the pool
 * serves. Under load the question waits in the accept queue like any request. */
#include "status_cli.h"

#include "fcgiclient.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STATUS_TIMEOUT_MS = 10 * 1000 };

static const char status_usage[] = "usage: hop status [--json|--metrics] [--socket PATH|HOST:PORT]\n";

static long long num(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *str(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : "-";
}

static void print_uptime(long long s)
{
    if (s >= 86400)
        printf("%lldd ", s / 86400);
    printf("%02lldh %02lldm %02llds", s % 86400 / 3600, s % 3600 / 60, s % 60);
}

static void print_pool(struct json_object *st)
{
    printf("pool:              %s (version %s)\n", str(st, "pool"), str(st, "version"));
    printf("master pid:        %lld\n", num(st, "master_pid"));
    printf("started:           %s (up ", str(st, "started_at"));
    print_uptime(num(st, "uptime_seconds"));
    printf(")\n");
    struct json_object *q;
    if (json_object_object_get_ex(st, "listen_queue", &q) && q)
        printf("listen queue:      %lld waiting (limit %lld)\n", num(q, "waiting"), num(q, "limit"));
    else
        printf("listen queue:      unknown (the kernel does not say here)\n");
    printf("workers:           %lld configured, %lld alive, %lld busy, %lld idle\n",
           num(st, "workers_configured"), num(st, "workers_alive"), num(st, "workers_busy"),
           num(st, "workers_idle"));
    printf("worker restarts:   %lld\n", num(st, "worker_restarts"));
    printf("requests:          %lld answered, %lld dropped\n", num(st, "requests"),
           num(st, "requests_dropped"));
    printf("master memory:     %.1f MiB\n", (double)num(st, "master_rss_bytes") / (1 << 20));
}

static void print_workers(struct json_object *st)
{
    struct json_object *ws;
    if (!json_object_object_get_ex(st, "workers", &ws) || !json_object_is_type(ws, json_type_array))
        return;
    printf("\n%-7s %-8s %-6s %10s %10s %10s %9s  %s\n", "WORKER", "PID", "STATE", "REQUESTS", "LAST MS",
           "BUSY MS", "RSS MIB", "STARTED");
    for (size_t i = 0; i < json_object_array_length(ws); i++) {
        struct json_object *w = json_object_array_get_idx(ws, i);
        struct json_object *busy;
        char busy_ms[24] = "-";
        if (json_object_object_get_ex(w, "busy_ms", &busy) && busy)
            snprintf(busy_ms, sizeof(busy_ms), "%lld", (long long)json_object_get_int64(busy));
        printf("%-7lld %-8lld %-6s %10lld %10.2f %10s %9.1f  %s\n", num(w, "worker"), num(w, "pid"),
               str(w, "state"), num(w, "requests"), (double)num(w, "last_request_us") / 1000, busy_ms,
               (double)num(w, "rss_bytes") / (1 << 20), str(w, "started_at"));
    }
}

static void print_app(struct json_object *st)
{
    struct json_object *app;
    if (!json_object_object_get_ex(st, "app", &app) || !json_object_is_type(app, json_type_object))
        return;
    printf("\n");
    json_object_object_foreach(app, key, val)
    {
        if (json_object_is_type(val, json_type_double)) /* seconds, to the microsecond */
            printf("%-56s %.6f\n", key, json_object_get_double(val));
        else
            printf("%-56s %lld\n", key, (long long)json_object_get_int64(val));
    }
}

/* Asks the pool at addr for path with the operator's param: 0 and *reply, or -1 with the reason printed. */
static int ask(const char *addr, const char *path, struct fcgiclient_reply *reply)
{
    static const char *const params[] = {"HOP_METRICS", "1", NULL};
    const char *err = NULL;
    if (fcgiclient_get(addr, path, params, STATUS_TIMEOUT_MS, reply, &err) < 0) {
        fprintf(stderr, "hop: cannot reach the pool at %s: %s (is hop serve running? see HOP_LISTEN)\n", addr,
                err);
        return -1;
    }
    return 0;
}

/* The pool's Prometheus text, as a scrape gets it (for a node_exporter textfile, or a look). */
static int print_metrics(const char *addr)
{
    struct fcgiclient_reply reply;
    if (ask(addr, "/metrics", &reply) < 0)
        return 1;
    int rc = reply.status == 200 ? 0 : 1;
    if (rc == 0)
        fwrite(reply.body, 1, reply.body_len, stdout);
    else
        fprintf(stderr, "hop: the pool at %s answered %d to /metrics\n", addr, reply.status);
    fcgiclient_free(&reply);
    return rc;
}

/* Asks the pool at addr for its status: the parsed object, or NULL with the reason printed. */
static struct json_object *fetch(const char *addr)
{
    struct fcgiclient_reply reply;
    if (ask(addr, "/status", &reply) < 0)
        return NULL;
    struct json_object *st = reply.status == 200 ? json_tokener_parse(reply.body) : NULL;
    if (!st || !json_object_is_type(st, json_type_object)) {
        fprintf(stderr, "hop: the pool at %s answered %d without a status (an older hop?)\n", addr,
                reply.status);
        json_object_put(st);
        st = NULL;
    }
    fcgiclient_free(&reply);
    return st;
}

int status_command(int argc, char **argv)
{
    const char *listen = getenv("HOP_LISTEN");
    const char *addr = listen && *listen ? listen : "/run/hop/hop.sock";
    int json = 0, metrics = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--metrics") == 0) {
            metrics = 1;
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else {
            fputs(status_usage, stderr);
            return 2;
        }
    }
    if (json && metrics) {
        fputs(status_usage, stderr);
        return 2;
    }
    if (metrics)
        return print_metrics(addr);
    struct json_object *st = fetch(addr);
    if (!st)
        return 1;
    if (json) {
        puts(json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        print_pool(st);
        print_workers(st);
        print_app(st);
    }
    json_object_put(st);
    return 0;
}
