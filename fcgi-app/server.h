/* The pool: a master that finds or opens the listen socket, forks single-threaded epoll-loop workers and
 * supervises them; each worker accepts FastCGI requests and hands them to the application's handler.
 * The runtime knows nothing about the application beyond the hooks below. */
#ifndef HOP_SERVER_H
#define HOP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct resp;
struct route;

struct server_hooks {
    /* Answers one request; r and w live in the request arena. When r->bad_status is set the request could
     * not be parsed and must get that status. */
    void (*handle)(struct req *r, struct resp *w);
    /* In the master before the first fork (map shared memory...), with the number of worker slots. */
    int (*master_start)(int nslots);
    /* In each worker after fork, before the first request (connect the database...). slot is stable:
     * a worker that replaces a dead one gets the dead one's slot. */
    void (*worker_start)(int slot);
    /* A file descriptor the worker should wait on besides the listen socket, or -1 (re-asked every loop);
     * *generation must change whenever it is a new descriptor, even one under a number used before. */
    int (*worker_fd)(unsigned long *generation);
    /* worker_fd became readable, or the worker's tick (about every tick_ms) passed. */
    void (*worker_event)(bool readable);
    /* In each worker after its last request, and in the master after the last worker has exited. */
    void (*worker_stop)(void);
    void (*master_tick)(void);
    void (*master_stop)(void);
};

struct server_config {
    const char *listen;         /* "path" or "host:port"; used when no socket is inherited */
    bool listen_public;         /* a "host:port" may be a wildcard or public address (else refused) */
    const char *peer_addrs;     /* FCGI_WEB_SERVER_ADDRS: TCP peers allowed to connect (NULL or "": any) */
    int socket_mode;            /* for a Unix socket path, e.g. 0660 */
    int workers;                /* number of worker processes */
    size_t max_body;            /* request body limit in bytes */
    int read_timeout_ms;        /* deadline for a request's body, from accept */
    int tick_ms;                /* master_tick and worker_event(false) period */
    int shutdown_grace_ms;      /* how long SIGTERM waits for workers before SIGKILL */
    const char *name;           /* the pool's name: prefixes its metrics ("hop_requests_total") */
    const char *version;        /* the build's, for the metrics and the status */
    const struct route *routes; /* the application's route table: requests are counted by its rows */
    size_t nroutes;
    /* A FastCGI param only the operator's own site sets (e.g. "HOP_METRICS", set by Caddy's transport env):
     * a request carrying it gets the pool's /metrics and /status from the runtime. NULL: never. */
    const char *admin_param;
};

/* Finds the listen socket: systemd's (LISTEN_FDS, fd 3), spawn-fcgi's (fd 0), else opens cfg->listen.
 * Returns the fd, or -1 with the reason logged. *owned_path is set when we created a Unix socket file. */
int server_listen(const struct server_config *cfg, char **owned_path);
/* Runs the master until SIGTERM/SIGINT; returns the process exit status (0 after a clean stop). */
int server_run(const struct server_config *cfg, const struct server_hooks *hooks, int listen_fd);

#endif
