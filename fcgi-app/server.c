/* Master and workers; see server.h. The master serves no requests: it owns the socket, forks, reaps and
 * replaces workers, and runs the application's periodic work. A worker is one thread with one poll loop. */
#include "server.h"

#include "arena.h"
#include "buf.h"
#include "clock.h"
#include "hex.h"
#include "log.h"
#include "metrics.h"
#include "promtext.h"
#include "netaddr.h"
#include "req.h"
#include "resp.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

enum {
    LISTEN_BACKLOG = 4096,
    MAX_WORKERS = 256,
    DRAIN_MAX = 10000,
    DRAIN_MS = 2000,
    ACCEPT_BURST = 32,
    PROBE_EVERY = 8
};

/* ---- the listen socket ---- */

static int open_unix(const char *path, int mode, char **owned_path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        log_error("socket path too long", "path=\"%s\" max=%zu", path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* a stale socket file from a previous run would make bind fail; a live one means another pool */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        log_error("socket in use by another process", "path=\"%s\"", path);
        close(fd);
        return -1;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, (mode_t)mode) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        log_error("cannot listen", "path=\"%s\" error=\"%s\"", path, strerror(errno));
        close(fd);
        return -1;
    }
    *owned_path = xstrdup(path);
    return fd;
}

/* Peers allowed to connect over TCP (FCGI_WEB_SERVER_ADDRS); empty: any. libfcgi applies the same variable
 * only when it accepts by itself, and hop's workers accept on their own (see accept_one). */
static struct netaddr_allow g_allow;

/* Binds to one explicit address: a wildcard or public one only with cfg->listen_public (then with a warning),
 * because the FastCGI port has no authentication and whoever reaches it can forge any request's params. */
static int open_tcp(const struct server_config *cfg)
{
    const char *spec = cfg->listen, *why = NULL;
    char host[256], port[32];
    if (netaddr_split(spec, host, sizeof(host), port, sizeof(port), &why) < 0) {
        log_error("bad listen address", "listen=\"%s\" reason=\"%s\"", spec, why);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
                    *res;
    int rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        log_error("cannot resolve listen address", "listen=\"%s\" error=\"%s\"", spec, gai_strerror(rc));
        return -1;
    }
    enum netaddr_class cls = netaddr_classify(res->ai_addr);
    if (!netaddr_listen_allowed(res->ai_addr, cfg->listen_public, &why)) {
        log_error("refusing to listen", "listen=\"%s\" address=%s reason=\"%s\"", spec,
                  netaddr_class_name(cls), why);
        freeaddrinfo(res);
        return -1;
    }
    if (cls == NETADDR_WILDCARD || cls == NETADDR_PUBLIC)
        log_warn("listening on a public address", "listen=\"%s\" address=%s peers_allowed=%d%s", spec,
                 netaddr_class_name(cls), g_allow.n,
                 g_allow.n ? "" : " hint=\"set FCGI_WEB_SERVER_ADDRS to the web servers' addresses\"");
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        log_error("cannot listen", "listen=\"%s\" error=\"%s\"", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Set by a master that re-executes itself on SIGHUP (see reload_exec): the path of the socket file it had
 * created, which the new image inherits as fd 3 and must still remove at its final stop. */
#define REEXEC_PATH_ENV "HOP_REEXEC_SOCKET"

/* The socket file this image created or took over, for reload_exec to pass on. */
static const char *g_owned_path;

static void take_reexec_path(int fd, char **owned_path)
{
    const char *p = getenv(REEXEC_PATH_ENV);
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    /* only when the inherited socket really is bound to that path */
    if (p && *p && getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
        strncmp(sa.sun_path, p, sizeof(sa.sun_path)) == 0)
        *owned_path = xstrdup(p);
    unsetenv(REEXEC_PATH_ENV);
}

int server_listen(const struct server_config *cfg, char **owned_path)
{
    *owned_path = NULL;
    const char *why = NULL;
    if (netaddr_allow_parse(cfg->peer_addrs, &g_allow, &why) < 0) {
        log_error("bad FCGI_WEB_SERVER_ADDRS", "value=\"%s\" reason=\"%s\"", cfg->peer_addrs, why);
        return -1;
    }
    int n = sd_listen_fds(1);
    if (n >= 1 && sd_is_socket(SD_LISTEN_FDS_START, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
        take_reexec_path(SD_LISTEN_FDS_START, owned_path);
        g_owned_path = *owned_path;
        log_info("listening", "source=systemd fd=%d", SD_LISTEN_FDS_START);
        return SD_LISTEN_FDS_START;
    }
    if (sd_is_socket(STDIN_FILENO, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
        log_info("listening", "source=stdin fd=0");
        return STDIN_FILENO;
    }
    const char *spec = cfg->listen;
    int fd = (spec[0] == '/' || spec[0] == '.' || !strchr(spec, ':'))
                 ? open_unix(spec, cfg->socket_mode, owned_path)
                 : open_tcp(cfg);
    if (fd >= 0)
        log_info("listening", "source=self listen=\"%s\"", spec);
    g_owned_path = *owned_path;
    return fd;
}

/* ---- workers ---- */

static const struct server_config *g_cfg;
static const struct server_hooks *g_hooks;
static int g_listen_fd = -1;

struct body_ctx {
    FCGX_Request *fr;
    long long deadline_ms;
};

/* libfcgi's reads block; the worker's deadline timer (see deadline_from) interrupts them, so a stalled
 * client costs at most read_timeout_ms and gets a 408. */
static ssize_t fcgi_body_read(void *ctx, char *buf, size_t cap)
{
    struct body_ctx *bc = ctx;
    if (clock_ms() >= bc->deadline_ms)
        return -2;
    int want = cap > 65536 ? 65536 : (int)cap;
    int n = FCGX_GetStr(buf, want, bc->fr->in);
    if (n > 0)
        return n;
    int err = FCGX_GetError(bc->fr->in);
    if (err == 0)
        return 0;
    return (err == EINTR && clock_ms() >= bc->deadline_ms) ? -2 : -1;
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* The request deadline's timer: its SIGALRM (installed without SA_RESTART) makes a blocking read in libfcgi
 * fail with EINTR, whether it is reading params or the body. Arming and disarming it around every request
 * cost two system calls a redirect, so it is left running: a request keeps the timer already armed when it
 * fires within the slack before that request's own deadline (never after it), and arms it anew otherwise.
 * Under load that is once per slack; a request's deadline is read_timeout_ms less at most the slack (a
 * tenth of it, at most a second). Firing between requests only wakes the worker's epoll_wait. */
static long long alarm_at_ms; /* when the armed timer fires; in the past: not armed */

static long long deadline_from(long long now_ms)
{
    long long d = g_cfg->read_timeout_ms;
    long long slack = d / 10 < 1000 ? d / 10 : 1000;
    if (alarm_at_ms > now_ms + d - slack && alarm_at_ms <= now_ms + d)
        return alarm_at_ms;
    struct itimerval it = {.it_value = {.tv_sec = d / 1000, .tv_usec = (d % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    alarm_at_ms = now_ms + d;
    return alarm_at_ms;
}

/* What a worker waits on: an epoll set rather than poll, so that the listen socket can be watched with
 * EPOLLEXCLUSIVE. With poll every idle worker woke for each new connection and all but one found nothing to
 * accept. */
struct waitset {
    int ep;
    int app_fd;            /* the application's descriptor in the set, or -1 */
    unsigned long app_gen; /* its generation: a new descriptor may reuse a number */
};

static int waitset_open(struct waitset *w, int listen_fd, int sigfd)
{
    *w = (struct waitset){.ep = epoll_create1(EPOLL_CLOEXEC), .app_fd = -1};
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
    if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
        return -1;
    ev = (struct epoll_event){.events = EPOLLIN, .data.fd = sigfd};
    return epoll_ctl(w->ep, EPOLL_CTL_ADD, sigfd, &ev);
}

/* Keeps the application's descriptor in the set: a new one (a reconnection) replaces the old. Closing a
 * descriptor drops it from the set by itself, so the old one's removal may find nothing. */
static void waitset_follow(struct waitset *w, int fd, unsigned long gen)
{
    if (fd == w->app_fd && gen == w->app_gen)
        return;
    if (w->app_fd >= 0)
        epoll_ctl(w->ep, EPOLL_CTL_DEL, w->app_fd, NULL);
    w->app_fd = -1;
    w->app_gen = gen;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (fd >= 0 && (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) == 0 || errno == EEXIST))
        w->app_fd = fd;
}

struct worker_state {
    char id_prefix[12];
    unsigned long long counter;
};

/* "PREFIX-N", N the worker's count in hex without leading zeros; by hand, as it is made for every request */
static void make_request_id(struct worker_state *ws, char *out, size_t cap)
{
    unsigned char be[sizeof(ws->counter)];
    unsigned long long c = ++ws->counter;
    for (size_t i = sizeof(be); i-- > 0; c >>= 8)
        be[i] = (unsigned char)c;
    char digits[2 * sizeof(be) + 1];
    hex_encode(be, sizeof(be), digits);
    const char *n = digits;
    while (n[0] == '0' && n[1])
        n++;
    size_t plen = strlen(ws->id_prefix), nlen = strlen(n);
    if (plen + 1 + nlen >= cap) {
        out[0] = '\0';
        return;
    }
    memcpy(out, ws->id_prefix, plen);
    out[plen] = '-';
    memcpy(out + plen + 1, n, nlen + 1);
}

/* A response's bytes onto the FastCGI stream (libfcgi buffers them and sends full records). */
static void fcgi_write(void *ctx, const char *s, size_t n)
{
    while (n > 0) {
        int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
        if (FCGX_PutStr(s, chunk, ctx) < 0)
            return;
        s += chunk;
        n -= (size_t)chunk;
    }
}

/* Which of the operator's endpoints r asks for (METRICS_ROUTE_*), or 0. Only a request carrying the admin
 * param gets one: the operator's own site sets it, a client cannot (its headers arrive as HTTP_*), so on the
 * public site these paths stay the application's. The path is compared first: it costs other requests
 * nothing. */
static int admin_route(const struct req *r)
{
    if (!g_cfg->admin_param)
        return 0;
    bool metrics = strcmp(r->path, "/metrics") == 0;
    if (!metrics && strcmp(r->path, "/status") != 0)
        return 0;
    const char *v = req_env(r, g_cfg->admin_param);
    if (!v || !*v || strcmp(v, "0") == 0)
        return 0;
    return metrics ? METRICS_ROUTE_METRICS : METRICS_ROUTE_STATUS;
}

static void admin_answer(struct req *r, struct resp *w, int route)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        resp_header(w, "Allow", "GET, HEAD");
        resp_problem(w, 405, "this path does not accept that method; see the Allow header");
        return;
    }
    resp_header(w, "Cache-Control", "no-store");
    if (route == METRICS_ROUTE_METRICS) {
        struct buf text;
        buf_init(&text, r->arena, 32 * 1024);
        metrics_render(&text, g_listen_fd);
        resp_body(w, 200, PROMTEXT_CONTENT_TYPE, text.data, text.len);
        return;
    }
    struct json_object *status = metrics_status(g_listen_fd);
    resp_json(w, 200, status);
    json_object_put(status);
}

static void serve_one(FCGX_Request *fr, struct arena *a, struct worker_state *ws, long long t0,
                      long long deadline_ms)
{
    struct req r;
    struct resp w;
    const char *detail = NULL;
    int status = req_init(&r, a, fr->envp, &detail);
    r.max_body = g_cfg->max_body;
    struct body_ctx bc = {fr, deadline_ms};
    r.body_src.ctx = &bc;
    r.body_src.read = fcgi_body_read;
    if (!r.id[0])
        make_request_id(ws, r.id, sizeof(r.id));
    /* the params die at FCGX_Finish_r, the access-log line comes after it */
    const char *method = arena_strdup(a, r.method);
    resp_init(&w, a);
    r.bad_status = status;
    r.bad_detail = detail;
    int admin = admin_route(&r);
    if (admin)
        admin_answer(&r, &w, admin);
    else
        g_hooks->handle(&r, &w);
    struct buf out;
    buf_init(&out, a, 512 + w.body_len);
    struct resp_sink sink = {fcgi_write, fr->out};
    resp_send(&w, r.id, strcmp(method, "HEAD") == 0, &out, &sink);
    FCGX_Finish_r(fr);
    long long us = clock_us() - t0;
    metrics_request_end(admin ? admin : r.route_no, w.status, us);
    log_access(method, r.path, r.path_len, w.status, (long)us, r.id);
    arena_reset(a);
}

/* Takes one connection off the socket and answers it; false when there was none waiting. */
static bool accept_one(int listen_fd, FCGX_Request *fr, struct arena *a, struct worker_state *ws)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    int fd = accept4(listen_fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    if (fd < 0) {
        /* another worker won the race, or the client gave up */
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            log_warn("accept failed", "error=\"%s\"", strerror(errno));
        return errno == ECONNABORTED || errno == EINTR;
    }
    if (!netaddr_allow_match(&g_allow, (struct sockaddr *)&peer)) {
        char ip[INET6_ADDRSTRLEN] = "?";
        const void *pa = peer.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&peer)->sin_addr
                                                   : (const void *)&((struct sockaddr_in6 *)&peer)->sin6_addr;
        inet_ntop(peer.ss_family, pa, ip, sizeof(ip));
        log_warn("connection refused", "peer=\"%s\" reason=\"not in FCGI_WEB_SERVER_ADDRS\"", ip);
        close(fd);
        return true;
    }
    long long t0 = clock_us();
    metrics_request_begin();
    long long deadline_ms = deadline_from(t0 / 1000);
    /* hand the connection to libfcgi; keepConnection stops the Finish inside Accept from closing it */
    fr->ipcFd = fd;
    fr->keepConnection = 1;
    int rc = FCGX_Accept_r(fr);
    if (rc == 0 && FCGX_GetError(fr->in) != 0) {
        /* libfcgi ends the params at a read error as if they were complete: never act on part of them */
        FCGX_Finish_r(fr);
        rc = -1;
    }
    if (rc == 0) {
        /* one request per connection: a peer's FCGI_KEEP_CONN would otherwise leave the descriptor open */
        fr->keepConnection = 0;
        serve_one(fr, a, ws, t0, deadline_ms);
        return true;
    }
    /* libfcgi closed the connection: it broke the protocol, stalled or went away before its params */
    fr->ipcFd = -1;
    metrics_request_dropped();
    log_warn("request dropped", "reason=\"bad or incomplete FastCGI request\" us=%lld", clock_us() - t0);
    return true;
}

static int block_signals_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void worker_init_id(struct worker_state *ws)
{
    unsigned char rnd[4] = {0};
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        memset(rnd, (int)getpid(), sizeof(rnd));
    snprintf(ws->id_prefix, sizeof(ws->id_prefix), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    ws->counter = 0;
}

static void worker_main(int listen_fd, pid_t master, int ready_fd, int slot)
{
    /* a master killed outright must not leave workers behind */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    log_set_pid();
    if (getppid() != master)
        _exit(0);
    int sigfd = block_signals_fd();
    struct worker_state ws = {0};
    worker_init_id(&ws);
    metrics_attach(slot);
    if (g_hooks->worker_start)
        g_hooks->worker_start(slot);
    char one = 1;
    if (write(ready_fd, &one, 1) < 0)
        log_warn("cannot report readiness", "error=\"%s\"", strerror(errno));
    close(ready_fd);

    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    /* libfcgi never accepts by itself (its listen socket is -1): the worker accepts, so that the deadline
     * covers a request from its first byte */
    FCGX_Request fr;
    FCGX_InitRequest(&fr, -1, 0);
    struct arena *a = arena_new(32 * 1024);
    bool stopping = false;
    long long next_tick = clock_ms() + g_cfg->tick_ms;
    bool eager = true; /* the last look at the queue after an answer found a connection */
    unsigned wakes = 0;
    struct waitset wset;
    if (waitset_open(&wset, listen_fd, sigfd) < 0) {
        log_error("cannot make the worker's epoll set", "error=\"%s\"", strerror(errno));
        _exit(1);
    }
    while (!stopping) {
        unsigned long app_gen = 0;
        int app_fd = g_hooks->worker_fd ? g_hooks->worker_fd(&app_gen) : -1;
        waitset_follow(&wset, app_fd, app_gen);
        long long wait = next_tick - clock_ms();
        struct epoll_event evs[3];
        int n = epoll_wait(wset.ep, evs, 3, wait < 0 ? 0 : (int)wait);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait failed", "error=\"%s\"", strerror(errno));
            break;
        }
        bool connection = false, signalled = false, app_ready = false;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == listen_fd)
                connection = true;
            else if (evs[i].data.fd == sigfd)
                signalled = true;
            else
                app_ready = true; /* readable, or its error or hang-up, which a read reports */
        }
        if (signalled) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                    stopping = true;
            }
        }
        if (app_ready && g_hooks->worker_event)
            g_hooks->worker_event(true);
        if (clock_ms() >= next_tick) {
            if (g_hooks->worker_event)
                g_hooks->worker_event(false);
            next_tick = clock_ms() + g_cfg->tick_ms;
        }
        if (stopping || !connection)
            continue;
        /* Under load the next connection is usually queued already: it is taken at once, without waiting in
         * epoll_wait first (one system call less a request), up to ACCEPT_BURST in a row and never past the
         * tick, so that signals and the application's descriptor wait little. But behind a web server at a
         * few thousand requests a second each connection arrives alone, and looking again after an answer is
         * an accept that finds nothing (one system call more): so the worker looks again only while the last
         * look found one, and otherwise once every PROBE_EVERY wakes. The burst's access lines are written
         * together when it ends. */
        bool look_again = eager || ++wakes % PROBE_EVERY == 0;
        int taken = 0;
        log_hold();
        for (int i = 0; i < ACCEPT_BURST && clock_ms() < next_tick && (i == 0 || look_again); i++) {
            if (!accept_one(listen_fd, &fr, a, &ws))
                break;
            taken++;
        }
        log_release();
        if (look_again)
            eager = taken > 1;
    }
    /* Connections already queued were promised an answer: take them before leaving. The bound matters when
     * the socket outlives us (systemd's, or a reload) and new ones keep coming: those wait for our successor.
     */
    long long drain_until = clock_ms() + DRAIN_MS;
    for (int i = 0; i < DRAIN_MAX && clock_ms() < drain_until; i++) {
        if (!accept_one(listen_fd, &fr, a, &ws))
            break;
    }
    if (g_hooks->worker_stop)
        g_hooks->worker_stop();
    arena_free(a);
    _exit(0);
}

/* ---- the master ---- */

struct slot {
    pid_t pid;
    long long started_ms, respawn_at_ms;
    int quick_deaths;
};

struct master {
    int listen_fd, sigfd, ready_rd, ready_wr;
    int nready;
    int status_alive;      /* the worker count systemd's STATUS= last said, -1 before the first */
    long long watchdog_ms; /* how often systemd wants WATCHDOG=1 (half its WatchdogSec), 0: never */
    long long next_watchdog_ms;
    bool announced, stopping;
    bool reloading; /* SIGHUP: workers are finishing, then the binary re-executes (reload_exec) */
    struct slot slots[MAX_WORKERS];
    int nslots;
};

static void spawn(struct master *m, struct slot *s)
{
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork failed", "error=\"%s\"", strerror(errno));
        s->respawn_at_ms = clock_ms() + 1000;
        return;
    }
    if (pid == 0) {
        close(m->sigfd);
        close(m->ready_rd);
        worker_main(m->listen_fd, master, m->ready_wr, (int)(s - m->slots));
    }
    s->pid = pid;
    metrics_worker_up((int)(s - m->slots), pid);
    s->started_ms = clock_ms();
    s->respawn_at_ms = 0;
}

/* The signals a worker dies of, by name; sigabbrev_np would do it but needs glibc 2.32, and the binary is
 * meant to build on older releases too. */
static const char *signame(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGHUP, "HUP"},   {SIGINT, "INT"},   {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
                 {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},   {SIGFPE, "FPE"},
                 {SIGKILL, "KILL"}, {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
                 {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"}, {SIGXCPU, "XCPU"},
                 {SIGXFSZ, "XFSZ"}, {SIGSYS, "SYS"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].sig == sig)
            return names[i].name;
    }
    return "?";
}

static void reap(struct master *m)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        struct slot *s = NULL;
        for (int i = 0; i < m->nslots; i++) {
            if (m->slots[i].pid == pid)
                s = &m->slots[i];
        }
        if (!s)
            continue;
        s->pid = 0;
        metrics_worker_down((int)(s - m->slots), !m->stopping && !m->reloading);
        if ((m->stopping || m->reloading) && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            continue;
        if (WIFSIGNALED(st))
            log_error("worker died", "worker=%d signal=SIG%s", (int)pid, signame(WTERMSIG(st)));
        else
            log_error("worker died", "worker=%d status=%d", (int)pid, WEXITSTATUS(st));
        if (m->stopping || m->reloading)
            continue;
        /* back off only when a worker keeps dying young: one crash is replaced at once */
        long long lived = clock_ms() - s->started_ms;
        s->quick_deaths = lived < 1000 ? s->quick_deaths + 1 : 0;
        long long delay = s->quick_deaths <= 1 ? 0 : 100LL << (s->quick_deaths > 6 ? 6 : s->quick_deaths - 1);
        if (delay > 5000)
            delay = 5000;
        s->respawn_at_ms = clock_ms() + delay;
        if (delay)
            log_warn("worker respawn delayed", "delay_ms=%lld quick_deaths=%d", delay, s->quick_deaths);
    }
}

static int live_workers(const struct master *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        n += m->slots[i].pid > 0;
    return n;
}

static void signal_workers(const struct master *m, int sig)
{
    for (int i = 0; i < m->nslots; i++) {
        if (m->slots[i].pid > 0)
            kill(m->slots[i].pid, sig);
    }
}

/* Tells systemd (when it listens) how many workers are alive, whenever that changes. */
static void notify_status(struct master *m)
{
    int alive = live_workers(m);
    if (alive == m->status_alive)
        return;
    m->status_alive = alive;
    sd_notifyf(0, "STATUS=%d of %d workers alive", alive, m->nslots);
}

/* The pool is alive while this loop runs and a worker is there to answer (or the binary is re-executing):
 * a master that hangs, or a pool whose workers keep dying, stops the pings and systemd acts on it. */
static void notify_watchdog(struct master *m)
{
    if (!m->watchdog_ms || clock_ms() < m->next_watchdog_ms)
        return;
    m->next_watchdog_ms = clock_ms() + m->watchdog_ms;
    if (live_workers(m) > 0 || m->reloading)
        sd_notify(0, "WATCHDOG=1");
}

static void watchdog_init(struct master *m)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        m->watchdog_ms = (long long)(usec / 2000);
        if (m->watchdog_ms < 1)
            m->watchdog_ms = 1;
        log_info("watchdog", "interval_ms=%lld", m->watchdog_ms);
    }
}

static void drain_ready(struct master *m)
{
    char buf[64];
    ssize_t n;
    while ((n = read(m->ready_rd, buf, sizeof(buf))) > 0)
        m->nready += (int)n;
    if (!m->announced && m->nready >= m->nslots) {
        m->announced = true;
        sd_notify(0, "READY=1");
        log_info("ready", "workers=%d", m->nslots);
    }
}

/* ---- reload on SIGHUP: the same pid re-executes the binary and keeps the listen socket ---- */

static void reload_begin(struct master *m, long long *deadline)
{
    m->reloading = true;
    sd_notify(0, "RELOADING=1");
    log_info("reloading", "workers=%d", live_workers(m));
    /* workers finish the request in hand; new connections wait in the listen backlog meanwhile */
    signal_workers(m, SIGTERM);
    *deadline = clock_ms() + g_cfg->shutdown_grace_ms;
}

/* Our own command line, from /proc/self/cmdline (server_run is not given argv). NULL-terminated; NULL when
 * it cannot be read. */
static char **own_argv(void)
{
    static char buf[8192];
    static char *argv[64];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0 || buf[n - 1] != '\0')
        return NULL;
    int argc = 0;
    for (char *p = buf; p < buf + n && argc < 63; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    return argv;
}

/* The master's own descriptors must not sit where the inherited socket goes (fd 3); anything else there
 * belonged to the application, which master_stop has already shut down. */
static int move_off_listen_fd(int *fd)
{
    if (*fd != SD_LISTEN_FDS_START)
        return 0;
    int moved = fcntl(*fd, F_DUPFD_CLOEXEC, SD_LISTEN_FDS_START + 1);
    if (moved < 0)
        return -1;
    close(*fd);
    *fd = moved;
    return 0;
}

/* All workers are gone: flush the application's state, then exec the binary again with the same arguments,
 * handing it the listen socket the way systemd would (fd 3, LISTEN_FDS=1, LISTEN_PID=our pid: exec keeps
 * the pid). Returns only when that failed; the master then goes on serving with new workers. The socket
 * file is never unlinked on this path: server_run does not return. */
static void reload_exec(struct master *m)
{
    if (g_hooks->master_stop)
        g_hooks->master_stop();
    char **argv = own_argv();
    /* a binary replaced on disk (deploy: write, then rename over) shows as "PATH (deleted)": run the new
     * file at PATH; /proc/self/exe is the image we run now, the fallback */
    char path[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
    path[len > 0 ? len : 0] = '\0';
    const char *deleted = " (deleted)";
    size_t dl = strlen(deleted);
    if (len > (ssize_t)dl && strcmp(path + len - dl, deleted) == 0)
        path[len - dl] = '\0';
    int fd = m->listen_fd, passed = -1;
    const char *why = NULL;
    if (!argv) {
        why = "cannot read /proc/self/cmdline";
    } else if (fd == STDIN_FILENO) {
        /* spawn-fcgi's socket stays on fd 0, where the next image finds it again */
        passed = fd;
    } else if (move_off_listen_fd(&m->sigfd) < 0 || move_off_listen_fd(&m->ready_rd) < 0 ||
               move_off_listen_fd(&m->ready_wr) < 0) {
        why = "cannot free fd 3";
    } else {
        passed = fd == SD_LISTEN_FDS_START ? fd : dup2(fd, SD_LISTEN_FDS_START);
        if (passed < 0)
            why = "cannot move the socket to fd 3";
    }
    if (passed >= 0) {
        fcntl(passed, F_SETFD, 0);
        if (passed == SD_LISTEN_FDS_START) {
            char pid[24];
            snprintf(pid, sizeof(pid), "%d", (int)getpid());
            setenv("LISTEN_FDS", "1", 1);
            setenv("LISTEN_PID", pid, 1);
            unsetenv("LISTEN_FDNAMES");
            if (g_owned_path)
                setenv(REEXEC_PATH_ENV, g_owned_path, 1);
        }
        log_info("re-executing", "path=\"%s\" fd=%d", path[0] ? path : "/proc/self/exe", passed);
        if (path[0])
            execv(path, argv);
        execv("/proc/self/exe", argv);
        why = strerror(errno);
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_PID");
        unsetenv(REEXEC_PATH_ENV);
        if (passed != fd)
            close(passed);
        else if (fd != STDIN_FILENO)
            fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    log_error("reload failed, serving on with new workers", "error=\"%s\"", why);
    m->reloading = false;
    m->nready = 0;
    m->announced = false;
    for (int i = 0; i < m->nslots; i++) {
        m->slots[i].respawn_at_ms = 0;
        m->slots[i].quick_deaths = 0;
    }
}

int server_run(const struct server_config *cfg, const struct server_hooks *hooks, int listen_fd)
{
    g_cfg = cfg;
    g_hooks = hooks;
    g_listen_fd = listen_fd;
    struct master m = {.listen_fd = listen_fd, .status_alive = -1};
    m.nslots = cfg->workers < 1 ? 1 : cfg->workers > MAX_WORKERS ? MAX_WORKERS : cfg->workers;
    /* workers poll the socket and call accept only when it is readable; a lost race returns EAGAIN */
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    m.sigfd = block_signals_fd();
    int pfd[2];
    if (m.sigfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
        log_error("cannot set up the master", "error=\"%s\"", strerror(errno));
        return 1;
    }
    m.ready_rd = pfd[0];
    m.ready_wr = pfd[1];
    fcntl(m.ready_rd, F_SETFL, O_NONBLOCK);
    /* libfcgi drains a closing connection for up to 2 s by default: a peer that never closes would hold a
     * worker that long after its answer */
    setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "200", 0);
    FCGX_Init();
    if (metrics_map(m.nslots, cfg->name ? cfg->name : "pool", cfg->version, cfg->routes, cfg->nroutes) < 0)
        return 1;
    if (hooks->master_start && hooks->master_start(m.nslots) < 0)
        return 1;
    watchdog_init(&m);
    for (int i = 0; i < m.nslots; i++)
        spawn(&m, &m.slots[i]);

    long long stop_deadline = 0, next_tick = clock_ms() + cfg->tick_ms;
    for (;;) {
        struct pollfd pf[2] = {{.fd = m.sigfd, .events = POLLIN}, {.fd = m.ready_rd, .events = POLLIN}};
        long long wait = next_tick - clock_ms();
        if (poll(pf, 2, wait < 0 ? 0 : (int)wait) < 0 && errno != EINTR)
            break;
        if (pf[1].revents & POLLIN)
            drain_ready(&m);
        struct signalfd_siginfo si;
        while (read(m.sigfd, &si, sizeof(si)) == sizeof(si)) {
            if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !m.stopping) {
                m.stopping = true;
                sd_notify(0, "STOPPING=1");
                /* a socket file we made goes first, so that no new connection queues up behind the stop */
                if (g_owned_path)
                    unlink(g_owned_path);
                log_info("stopping", "signal=SIG%s workers=%d", signame((int)si.ssi_signo), live_workers(&m));
                signal_workers(&m, SIGTERM);
                stop_deadline = clock_ms() + cfg->shutdown_grace_ms;
            } else if (si.ssi_signo == SIGHUP && !m.stopping && !m.reloading) {
                reload_begin(&m, &stop_deadline);
            }
        }
        reap(&m);
        /* before the respawn below, so that systemd hears of a death even when the replacement is instant */
        if (m.announced && !m.stopping)
            notify_status(&m);
        if (m.stopping || m.reloading) {
            if (live_workers(&m) == 0 && m.stopping)
                break;
            if (live_workers(&m) == 0) {
                reload_exec(&m);
                continue;
            }
            if (clock_ms() > stop_deadline) {
                log_error("workers did not stop in time", "workers=%d", live_workers(&m));
                signal_workers(&m, SIGKILL);
                stop_deadline = clock_ms() + 60 * 1000;
            }
        } else {
            for (int i = 0; i < m.nslots; i++) {
                if (m.slots[i].pid == 0 && clock_ms() >= m.slots[i].respawn_at_ms)
                    spawn(&m, &m.slots[i]);
            }
        }
        if (m.announced && !m.stopping)
            notify_status(&m);
        notify_watchdog(&m);
        if (clock_ms() >= next_tick) {
            if (hooks->master_tick)
                hooks->master_tick();
            next_tick = clock_ms() + cfg->tick_ms;
        }
    }
    if (hooks->master_stop)
        hooks->master_stop();
    log_info("stopped", "%s", "");
    return 0;
}
