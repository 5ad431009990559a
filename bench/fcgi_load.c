/* A FastCGI load generator: drives a responder's socket directly, one new connection per request as Caddy
 * does, and prints throughput, a status histogram, latency percentiles and errors. */
#include "fcgirec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
    MAX_CONNS = 10000,
    MAX_THREADS = 64,
    MAX_HEADERS = 16,
    MAX_VARIANT = 8,     /* headers on one line of a variants file */
    MAX_PATH = 4096,     /* one path (with its query) */
    MAX_PATHS = 1000000, /* lines of a path file */
    MAX_BODY = 1 << 20,  /* request body */
    PARAMS_CAP = 16384,  /* encoded params of one request */
    HEAD_CAP = 8192,     /* response head we keep to find the status */
    HIST_US = 100000,    /* 1 us buckets below 100 ms */
    HIST_MS = 60000,     /* then 1 ms buckets up to 60 s, then one overflow bucket */
    HIST_LEN = HIST_US + HIST_MS + 1,
};

/* A request header as its param: "User-Agent: x" is HTTP_USER_AGENT=x. */
struct header {
    char *name;
    const char *value; /* within the line it was read from */
    size_t value_len;
};

/* The headers of -H, or of one line of -V, split once when the options are read. */
struct header_set {
    int n;
    struct header h[MAX_HEADERS];
};

struct config {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const char *target;
    int conns, threads;
    double seconds, timeout;
    long long max_requests;
    const char *method, *host, *content_type;
    char **paths;
    size_t npaths;
    unsigned char *body;
    size_t body_len;
    struct header_set *headers;  /* -H's */
    struct header_set *variants; /* the lines of -V */
    size_t nvariants;
    bool https, verbose;
    int expect;
};

enum conn_state { C_IDLE, C_CONNECTING, C_WRITING, C_READING };

struct conn {
    int fd;
    enum conn_state state;
    uint64_t start_ns;
    unsigned char *out;
    size_t out_len, out_off;
    /* the record being read */
    unsigned char hdr[8];
    size_t hdr_have, rec_left, pad_left;
    int rec_type;
    unsigned char end[8];
    size_t end_have;
    /* the response head (CGI headers) */
    char head[HEAD_CAP];
    size_t head_len;
    bool head_done;
    int status;
};

struct stats {
    long long done, err_connect, err_io, err_protocol, err_timeout, err_status, stdout_bytes;
    long long status[600];
    uint32_t *hist;
    uint64_t max_us;
};

struct worker {
    pthread_t tid;
    int index, nconns, epfd;
    struct conn *conns;
    struct stats st;
    uint64_t rng;
    unsigned char *params; /* scratch for one request's encoded params */
};

static struct config cfg;
static atomic_llong started;
static uint64_t end_ns; /* no request starts after this */
static size_t out_cap;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "fcgi_load: %s\n", msg);
    exit(2);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        die("out of memory");
    return p;
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: enough to spread requests over a list of paths */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* ---- the request ------------------------------------------------------------------------------------ */

static int param(unsigned char *buf, size_t *len, const char *name, const char *value)
{
    return fcgirec_param(buf, len, PARAMS_CAP, name, strlen(name), value, strlen(value));
}

/* A header as a param: "User-Agent: x" is HTTP_USER_AGENT=x, and the pseudo-header "Remote-Addr: a" is
 * REMOTE_ADDR=a (the address Caddy would send). name gets at least 256 bytes; -1 for a malformed header. */
static int header_split(const char *header, size_t len, char *name, const char **value, size_t *value_len)
{
    const char *colon = memchr(header, ':', len);
    if (!colon || colon == header || colon - header > 200)
        return -1;
    size_t n = 0;
    if (!(colon - header == 11 && strncasecmp(header, "Remote-Addr", 11) == 0)) {
        memcpy(name, "HTTP_", 5);
        n = 5;
    }
    for (const char *p = header; p < colon; p++)
        name[n++] = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
    name[n] = '\0';
    const char *v = colon + 1;
    while (v < header + len && (*v == ' ' || *v == '\t'))
        v++;
    *value = v;
    *value_len = (size_t)(header + len - v);
    return 0;
}

/* Adds the tab-separated headers of line[0..len) to set, at most max in all: 0, or -1 when one is malformed
 * or there are too many. With set NULL, only checks. */
static int header_set_add(struct header_set *set, const char *line, size_t len, int max)
{
    struct header_set scratch = {0};
    struct header_set *s = set ? set : &scratch;
    char name[256];
    for (const char *p = line; p < line + len;) {
        size_t h = strcspn(p, "\t");
        if (h > (size_t)(line + len - p))
            h = (size_t)(line + len - p);
        struct header *hd = &s->h[s->n];
        if (s->n == max || header_split(p, h, name, &hd->value, &hd->value_len) < 0)
            return -1;
        if (set && !(hd->name = strdup(name)))
            return -1;
        s->n++;
        p += h + (p[h] == '\t');
    }
    return s->n > 0 ? 0 : -1;
}

static bool set_has(const struct header_set *set, const char *name)
{
    for (int i = 0; set && i < set->n; i++)
        if (strcmp(set->h[i].name, name) == 0)
            return true;
    return false;
}

static int set_params(unsigned char *buf, size_t *len, const struct header_set *set)
{
    int rc = 0;
    for (int i = 0; set && i < set->n; i++)
        rc |= fcgirec_param(buf, len, PARAMS_CAP, set->h[i].name, strlen(set->h[i].name), set->h[i].value,
                            set->h[i].value_len);
    return rc;
}

/* Build the records of one request into c->out, with the params Caddy 2.6 sends for the same request. */
static int build_request(struct worker *w, struct conn *c)
{
    const char *uri = cfg.paths[cfg.npaths > 1 ? rng_next(&w->rng) % cfg.npaths : 0];
    char path[MAX_PATH + 1], clen[32];
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    memcpy(path, uri, plen);
    path[plen] = '\0';
    snprintf(clen, sizeof(clen), "%zu", cfg.body_len);
    const char *scheme = cfg.https ? "https" : "http";

    unsigned char *pb = w->params;
    size_t pl = 0;
    int rc = 0;
    const char *const fixed[][2] = {
        {"REQUEST_METHOD", cfg.method},
        {"REQUEST_URI", uri},
        {"QUERY_STRING", q ? q + 1 : ""},
        {"PATH_INFO", path},
        {"SCRIPT_NAME", ""},
        {"SCRIPT_FILENAME", "/srv"},
        {"DOCUMENT_ROOT", "/srv"},
        {"DOCUMENT_URI", ""},
        {"GATEWAY_INTERFACE", "CGI/1.1"},
        {"SERVER_PROTOCOL", "HTTP/1.1"},
        {"SERVER_SOFTWARE", "fcgi_load"},
        {"SERVER_NAME", cfg.host},
        {"SERVER_PORT", cfg.https ? "443" : "80"},
        {"REQUEST_SCHEME", scheme},
        {"REMOTE_ADDR", "127.0.0.1"},
        {"REMOTE_HOST", "127.0.0.1"},
        {"REMOTE_PORT", "40000"},
        {"REMOTE_IDENT", ""},
        {"REMOTE_USER", ""},
        {"AUTH_TYPE", ""},
        {"CONTENT_TYPE", cfg.content_type},
        {"CONTENT_LENGTH", clen},
        {"HTTP_HOST", cfg.host},
        {"HTTP_USER_AGENT", "fcgi_load"},
        {"HTTP_ACCEPT", "*/*"},
        {"HTTP_X_FORWARDED_FOR", "127.0.0.1"},
        {"HTTP_X_FORWARDED_HOST", cfg.host},
        {"HTTP_X_FORWARDED_PROTO", scheme},
    };
    /* the -H headers, then one line of -V; a fixed param of the same name is left out, so that what a cell
     * asks for is what the responder sees (libfcgi and hop take the first of two params with one name) */
    const struct header_set *variant =
        cfg.nvariants ? &cfg.variants[rng_next(&w->rng) % cfg.nvariants] : NULL;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (!set_has(cfg.headers, fixed[i][0]) && !set_has(variant, fixed[i][0]))
            rc |= param(pb, &pl, fixed[i][0], fixed[i][1]);
    static const char *const tls[][2] = {
        {"HTTPS", "on"}, {"SSL_PROTOCOL", "TLSv1.3"}, {"SSL_CIPHER", "TLS_AES_128_GCM_SHA256"}};
    for (size_t i = 0; cfg.https && i < sizeof(tls) / sizeof(tls[0]); i++)
        rc |= param(pb, &pl, tls[i][0], tls[i][1]);
    if (cfg.body_len || *cfg.content_type)
        rc |= param(pb, &pl, "HTTP_CONTENT_TYPE", cfg.content_type);
    rc |= set_params(pb, &pl, cfg.headers);
    rc |= set_params(pb, &pl, variant);
    if (rc)
        return -1;

    size_t o = fcgirec_begin(c->out);
    o += fcgirec_stream(c->out + o, FCGIREC_PARAMS, pb, pl);
    o += fcgirec_stream(c->out + o, FCGIREC_STDIN, cfg.body, cfg.body_len);
    c->out_len = o;
    c->out_off = 0;
    return 0;
}

/* ---- the response ----------------------------------------------------------------------------------- */

/* The status of a CGI response head: its Status header, else 302 with a Location, else 200. */
static int head_status(const char *head)
{
    bool location = false;
    for (const char *line = head; *line;) {
        const char *eol = strchr(line, '\n');
        size_t n = eol ? (size_t)(eol - line) : strlen(line);
        if (n >= 7 && strncasecmp(line, "Status:", 7) == 0) {
            const char *v = line + 7;
            while (*v == ' ')
                v++;
            int s = atoi(v);
            return s >= 100 && s <= 599 ? s : 0;
        }
        if (n >= 9 && strncasecmp(line, "Location:", 9) == 0)
            location = true;
        if (!eol)
            break;
        line = eol + 1;
    }
    return location ? 302 : 200;
}

static void head_add(struct conn *c, const unsigned char *p, size_t n)
{
    if (c->head_done)
        return;
    size_t room = HEAD_CAP - 1 - c->head_len;
    size_t k = n < room ? n : room;
    memcpy(c->head + c->head_len, p, k);
    c->head_len += k;
    c->head[c->head_len] = '\0';
    if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n")) {
        c->head_done = true;
        c->status = head_status(c->head);
    }
}

/* Feed bytes read from the responder: 1 when END_REQUEST arrived, 0 for more, -1 on a protocol error. */
static int feed(struct conn *c, struct stats *st, const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (c->hdr_have < 8) {
            size_t k = 8 - c->hdr_have < n ? 8 - c->hdr_have : n;
            memcpy(c->hdr + c->hdr_have, p, k);
            c->hdr_have += k;
            p += k;
            n -= k;
            if (c->hdr_have < 8)
                return 0;
            if (c->hdr[0] != 1)
                return -1;
            c->rec_type = c->hdr[1];
            c->rec_left = (size_t)c->hdr[4] << 8 | c->hdr[5];
            c->pad_left = c->hdr[6];
            if (c->rec_type == FCGIREC_END_REQUEST && c->rec_left != 8)
                return -1;
            if (c->rec_type != FCGIREC_STDOUT && c->rec_type != FCGIREC_STDERR &&
                c->rec_type != FCGIREC_END_REQUEST)
                return -1;
        }
        size_t k = c->rec_left < n ? c->rec_left : n;
        if (c->rec_type == FCGIREC_STDOUT) {
            head_add(c, p, k);
            st->stdout_bytes += (long long)k;
        } else if (c->rec_type == FCGIREC_END_REQUEST) {
            memcpy(c->end + c->end_have, p, k);
            c->end_have += k;
        }
        c->rec_left -= k;
        p += k;
        n -= k;
        k = c->pad_left < n ? c->pad_left : n;
        c->pad_left -= k;
        p += k;
        n -= k;
        if (c->rec_left == 0 && c->pad_left == 0) {
            c->hdr_have = 0;
            if (c->rec_type == FCGIREC_END_REQUEST)
                return c->end[4] == 0 ? 1 : -1; /* protocolStatus: REQUEST_COMPLETE */
        }
    }
    return 0;
}

/* ---- the loop --------------------------------------------------------------------------------------- */

static void record_latency(struct stats *st, uint64_t us)
{
    size_t i = us < HIST_US                    ? us
               : us < (uint64_t)HIST_MS * 1000 ? HIST_US + (us - HIST_US) / 1000
                                               : HIST_LEN - 1;
    if (i >= HIST_LEN)
        i = HIST_LEN - 1;
    st->hist[i]++;
    if (us > st->max_us)
        st->max_us = us;
}

static void conn_close(struct worker *w, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = C_IDLE;
}

static void conn_fail(struct worker *w, struct conn *c, long long *counter)
{
    (*counter)++;
    conn_close(w, c);
}

static void conn_finish(struct worker *w, struct conn *c)
{
    uint64_t us = (now_ns() - c->start_ns) / 1000;
    conn_close(w, c);
    struct stats *st = &w->st;
    if (!c->head_done || c->status == 0) {
        st->err_protocol++;
        return;
    }
    st->done++;
    st->status[c->status]++;
    if (cfg.expect && c->status != cfg.expect)
        st->err_status++;
    record_latency(st, us);
    if (cfg.verbose && st->done == 1 && w->index == 0)
        fprintf(stderr, "fcgi_load: first response head:\n%s", c->head);
}

static bool may_start(void)
{
    if (now_ns() >= end_ns)
        return false;
    if (cfg.max_requests > 0 && atomic_fetch_add(&started, 1) >= cfg.max_requests)
        return false;
    return true;
}

/* Open a connection for a new request; false when no more requests may start. */
static bool conn_start(struct worker *w, struct conn *c)
{
    if (!may_start())
        return false;
    if (build_request(w, c) < 0)
        die("a request's params do not fit in 16 KiB");
    c->hdr_have = c->end_have = c->head_len = 0;
    c->rec_left = c->pad_left = 0;
    c->head_done = false;
    c->status = 0;
    c->start_ns = now_ns();
    c->fd = socket(cfg.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        w->st.err_connect++;
        c->state = C_IDLE;
        return true;
    }
    if (cfg.addr.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    int rc = connect(c->fd, (struct sockaddr *)&cfg.addr, cfg.addrlen);
    if (rc < 0 && errno != EINPROGRESS) {
        /* EAGAIN on a Unix socket is a full backlog: Caddy would answer 502 */
        conn_fail(w, c, &w->st.err_connect);
        return true;
    }
    c->state = rc == 0 ? C_WRITING : C_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        conn_fail(w, c, &w->st.err_io);
    return true;
}

static void conn_write(struct worker *w, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            conn_fail(w, c, &w->st.err_io);
            return;
        }
        c->out_off += (size_t)n;
    }
    c->state = C_READING;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        conn_fail(w, c, &w->st.err_io);
}

static void conn_read(struct worker *w, struct conn *c)
{
    unsigned char buf[65536];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            /* closed or reset before END_REQUEST */
            conn_fail(w, c, &w->st.err_io);
            return;
        }
        int rc = feed(c, &w->st, buf, (size_t)n);
        if (rc < 0) {
            conn_fail(w, c, &w->st.err_protocol);
            return;
        }
        if (rc == 1) {
            conn_finish(w, c);
            return;
        }
    }
}

static void conn_event(struct worker *w, struct conn *c, uint32_t events)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
            conn_fail(w, c, &w->st.err_connect);
            return;
        }
        c->state = C_WRITING;
    }
    if (c->state == C_WRITING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            conn_write(w, c);
        return;
    }
    if (c->state == C_READING)
        conn_read(w, c);
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[256];
    uint64_t timeout_ns = (uint64_t)(cfg.timeout * 1e9);
    uint64_t next_sweep = now_ns() + 100000000u;
    int active = 0;
    bool starting = true;

    for (int i = 0; i < w->nconns && starting; i++) {
        starting = conn_start(w, &w->conns[i]);
        active += w->conns[i].state != C_IDLE;
    }
    while (active > 0 || starting) {
        int n = epoll_wait(w->epfd, evs, 256, 50);
        if (n < 0 && errno != EINTR)
            die("epoll_wait failed");
        for (int i = 0; i < n; i++)
            conn_event(w, evs[i].data.ptr, evs[i].events);
        uint64_t now = now_ns();
        if (now >= next_sweep) {
            next_sweep = now + 100000000u;
            for (int i = 0; i < w->nconns; i++) {
                struct conn *c = &w->conns[i];
                if (c->state != C_IDLE && now - c->start_ns > timeout_ns)
                    conn_fail(w, c, &w->st.err_timeout);
            }
        }
        /* every idle connection starts the next request (a failed connect counts and is retried here) */
        active = 0;
        for (int i = 0; i < w->nconns; i++) {
            struct conn *c = &w->conns[i];
            if (c->state == C_IDLE && starting)
                starting = conn_start(w, c);
            active += c->state != C_IDLE;
        }
    }
    return NULL;
}

/* ---- set-up and report ------------------------------------------------------------------------------ */

static void parse_target(const char *t)
{
    memset(&cfg.addr, 0, sizeof(cfg.addr));
    if (strchr(t, '/')) {
        struct sockaddr_un *un = (struct sockaddr_un *)&cfg.addr;
        if (strlen(t) >= sizeof(un->sun_path))
            die("socket path too long");
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, t);
        cfg.addrlen = sizeof(*un);
        return;
    }
    const char *colon = strrchr(t, ':');
    if (!colon)
        die("target is a socket path (with a /) or host:port");
    char host[256];
    size_t hl = (size_t)(colon - t);
    if (hl >= sizeof(host))
        die("host too long");
    memcpy(host, t, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(hl ? host : "127.0.0.1", colon + 1, &hints, &res) != 0)
        die("cannot resolve the target");
    memcpy(&cfg.addr, res->ai_addr, res->ai_addrlen);
    cfg.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
}

/* The non-empty lines of file (CR LF or LF), each checked by valid; dies naming what on any error. */
static char **load_lines(const char *file, const char *what, bool (*valid)(const char *, size_t),
                         size_t *count)
{
    char msg[200];
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(msg, sizeof(msg), "cannot open the %s file", what);
        die(msg);
    }
    size_t cap = 1024, n_lines = 0, lineno = 0;
    char **lines = xcalloc(cap, sizeof(char *));
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, f)) > 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (n > MAX_PATH || !valid(line, (size_t)n)) {
            snprintf(msg, sizeof(msg), "line %zu of the %s file is not valid (see --help)", lineno, what);
            die(msg);
        }
        if (n_lines == MAX_PATHS) {
            snprintf(msg, sizeof(msg), "more than 1,000,000 lines in the %s file", what);
            die(msg);
        }
        if (n_lines == cap) {
            cap *= 2;
            char **p = realloc(lines, cap * sizeof(char *));
            if (!p)
                die("out of memory");
            lines = p;
        }
        lines[n_lines] = strdup(line);
        if (!lines[n_lines++])
            die("out of memory");
    }
    free(line);
    fclose(f);
    if (n_lines == 0) {
        snprintf(msg, sizeof(msg), "the %s file holds no line", what);
        die(msg);
    }
    *count = n_lines;
    return lines;
}

static bool valid_path(const char *line, size_t len)
{
    (void)len;
    return line[0] == '/';
}

/* Up to MAX_VARIANT headers, each "Name: value", separated by tabs. */
static bool valid_variant(const char *line, size_t len)
{
    return header_set_add(NULL, line, len, MAX_VARIANT) == 0;
}

static void load_body(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        die("cannot open the body file");
    cfg.body = xcalloc(MAX_BODY + 1, 1);
    cfg.body_len = fread(cfg.body, 1, MAX_BODY + 1, f);
    fclose(f);
    if (cfg.body_len > MAX_BODY)
        die("the body is over 1 MiB");
}

static uint64_t percentile(const uint32_t *hist, long long total, double p)
{
    if (total == 0)
        return 0;
    long long want = (long long)(p / 100.0 * (double)total + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (size_t i = 0; i < HIST_LEN; i++) {
        seen += hist[i];
        if (seen >= want)
            return i < HIST_US ? i : HIST_US + (i - HIST_US) * 1000;
    }
    return 0;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: fcgi_load -a SOCKET|HOST:PORT [options]\n"
        "  -a ADDR     a Unix socket path (with a /) or host:port\n"
        "  -c N        concurrent connections (default 64)\n"
        "  -t N        threads (default 1)\n"
        "  -d SECONDS  start no request after this (default 5)\n"
        "  -n COUNT    start at most COUNT requests (default: no limit)\n"
        "  -p PATH     the request path, with its query (default /)\n"
        "  -u FILE     paths, one per line, each request picks one at random\n"
        "  -V FILE     header sets, one per line ('Name: value' separated by tabs, up to 8; the\n"
        "              pseudo-header 'Remote-Addr: ADDR' sets REMOTE_ADDR): each request sends one at "
        "random\n"
        "  -m METHOD   (default GET)\n"
        "  -b FILE     request body (at most 1 MiB)\n"
        "  -T TYPE     CONTENT_TYPE (default application/json with -b, else empty)\n"
        "  -H 'N: v'   a request header, sent as HTTP_N (up to 16), in place of a default one of that name\n"
        "  -h HOST     HTTP_HOST and SERVER_NAME (default localhost)\n"
        "  -s          HTTPS=on, as behind a TLS site\n"
        "  -e STATUS   exit 1 unless every request answered STATUS\n"
        "  -o SECONDS  per-request timeout (default 10)\n"
        "  -v          print the first response head\n"
        "Prints a summary and a RESULT line; exits 1 when nothing completed or, with -e, on any error.\n");
    exit(2);
}

enum option_kind { OPT_STR, OPT_INT, OPT_LLONG, OPT_DOUBLE, OPT_FLAG };

/* Where an option's argument goes, and as what. */
struct option_dest {
    int opt;
    enum option_kind kind;
    void *dest;
};

/* Stores arg for opt as its entry in dests says: 0, or -1 when opt has none. */
static int option_store(const struct option_dest *dests, size_t n, int opt, const char *arg)
{
    for (size_t i = 0; i < n; i++) {
        if (dests[i].opt != opt)
            continue;
        switch (dests[i].kind) {
        case OPT_STR:
            *(const char **)dests[i].dest = arg;
            break;
        case OPT_INT:
            *(int *)dests[i].dest = atoi(arg);
            break;
        case OPT_LLONG:
            *(long long *)dests[i].dest = atoll(arg);
            break;
        case OPT_DOUBLE:
            *(double *)dests[i].dest = atof(arg);
            break;
        case OPT_FLAG:
            *(bool *)dests[i].dest = true;
            break;
        }
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    cfg.conns = 64;
    cfg.threads = 1;
    cfg.seconds = 5;
    cfg.timeout = 10;
    cfg.method = "GET";
    cfg.host = "localhost";
    cfg.content_type = NULL;
    const char *path = "/", *path_file = NULL, *body_file = NULL, *variant_file = NULL;
    /* every option but -H stores its argument in one place */
    const struct option_dest dests[] = {
        {'a', OPT_STR, &cfg.target},     {'c', OPT_INT, &cfg.conns},          {'t', OPT_INT, &cfg.threads},
        {'d', OPT_DOUBLE, &cfg.seconds}, {'n', OPT_LLONG, &cfg.max_requests}, {'p', OPT_STR, &path},
        {'u', OPT_STR, &path_file},      {'m', OPT_STR, &cfg.method},         {'b', OPT_STR, &body_file},
        {'V', OPT_STR, &variant_file},   {'T', OPT_STR, &cfg.content_type},   {'h', OPT_STR, &cfg.host},
        {'s', OPT_FLAG, &cfg.https},     {'e', OPT_INT, &cfg.expect},         {'o', OPT_DOUBLE, &cfg.timeout},
        {'v', OPT_FLAG, &cfg.verbose},
    };
    int opt;
    while ((opt = getopt(argc, argv, "a:c:t:d:n:p:u:V:m:b:T:H:h:se:o:v")) != -1) {
        if (opt == 'H') {
            if (!cfg.headers)
                cfg.headers = xcalloc(1, sizeof(*cfg.headers));
            if (strchr(optarg, '\t') || header_set_add(cfg.headers, optarg, strlen(optarg), MAX_HEADERS) < 0)
                die("-H takes one 'Name: value' header, at most 16 times");
        } else if (option_store(dests, sizeof(dests) / sizeof(dests[0]), opt, optarg) < 0) {
            usage();
        }
    }
    if (!cfg.target || optind != argc)
        usage();
    if (cfg.conns < 1 || cfg.conns > MAX_CONNS || cfg.threads < 1 || cfg.threads > MAX_THREADS ||
        cfg.threads > cfg.conns)
        die("-c must be 1..10000 and -t 1..64, at most -c");
    if (cfg.seconds <= 0 || cfg.seconds > 3600 || cfg.timeout <= 0 || cfg.timeout > 600 ||
        cfg.max_requests < 0)
        die("-d must be in (0, 3600], -o in (0, 600], -n >= 0");
    if (cfg.expect && (cfg.expect < 100 || cfg.expect > 599))
        die("-e must be an HTTP status");
    parse_target(cfg.target);
    if (path_file) {
        cfg.paths = load_lines(path_file, "path", valid_path, &cfg.npaths);
    } else {
        if (path[0] != '/' || strlen(path) > MAX_PATH)
            die("-p must be a path starting with / of at most 4096 bytes");
        static char *one[1];
        one[0] = (char *)path;
        cfg.paths = one;
        cfg.npaths = 1;
    }
    if (variant_file) {
        char **lines = load_lines(variant_file, "header set", valid_variant, &cfg.nvariants);
        cfg.variants = xcalloc(cfg.nvariants, sizeof(*cfg.variants));
        for (size_t i = 0; i < cfg.nvariants; i++)
            if (header_set_add(&cfg.variants[i], lines[i], strlen(lines[i]), MAX_VARIANT) < 0)
                die("out of memory");
    }
    if (body_file)
        load_body(body_file);
    if (!cfg.content_type)
        cfg.content_type = body_file ? "application/json" : "";
    /* BEGIN_REQUEST, params and body in whole records, each stream's empty record */
    out_cap = FCGIREC_BEGIN_SIZE + PARAMS_CAP + 8 * (PARAMS_CAP / FCGIREC_MAX + 2) + cfg.body_len +
              8 * (cfg.body_len / FCGIREC_MAX + 2);

    struct worker *ws = xcalloc((size_t)cfg.threads, sizeof(*ws));
    uint64_t t0 = now_ns();
    end_ns = t0 + (uint64_t)(cfg.seconds * 1e9);
    for (int i = 0; i < cfg.threads; i++) {
        struct worker *w = &ws[i];
        w->index = i;
        w->nconns = cfg.conns / cfg.threads + (i < cfg.conns % cfg.threads);
        w->conns = xcalloc((size_t)w->nconns, sizeof(struct conn));
        for (int j = 0; j < w->nconns; j++) {
            w->conns[j].fd = -1;
            w->conns[j].out = xcalloc(out_cap, 1);
        }
        w->params = xcalloc(PARAMS_CAP, 1);
        w->st.hist = xcalloc(HIST_LEN, sizeof(uint32_t));
        w->rng = (t0 ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1))) | 1;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epfd < 0)
            die("epoll_create1 failed");
        if (pthread_create(&w->tid, NULL, worker_run, w) != 0)
            die("pthread_create failed");
    }

    struct stats all = {.hist = xcalloc(HIST_LEN, sizeof(uint32_t))};
    for (int i = 0; i < cfg.threads; i++) {
        struct worker *w = &ws[i];
        pthread_join(w->tid, NULL);
        all.done += w->st.done;
        all.err_connect += w->st.err_connect;
        all.err_io += w->st.err_io;
        all.err_protocol += w->st.err_protocol;
        all.err_timeout += w->st.err_timeout;
        all.err_status += w->st.err_status;
        all.stdout_bytes += w->st.stdout_bytes;
        for (int s = 0; s < 600; s++)
            all.status[s] += w->st.status[s];
        for (size_t b = 0; b < HIST_LEN; b++)
            all.hist[b] += w->st.hist[b];
        if (w->st.max_us > all.max_us)
            all.max_us = w->st.max_us;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    long long errors = all.err_connect + all.err_io + all.err_protocol + all.err_timeout;
    double rps = secs > 0 ? (double)all.done / secs : 0;
    uint64_t p50 = percentile(all.hist, all.done, 50), p90 = percentile(all.hist, all.done, 90),
             p99 = percentile(all.hist, all.done, 99);

    printf("fcgi_load: %s, %d connections, %d threads, %.2f s\n", cfg.target, cfg.conns, cfg.threads, secs);
    printf("  requests  %lld completed, %.1f req/s, %.1f KiB of STDOUT per response\n", all.done, rps,
           all.done ? (double)all.stdout_bytes / (double)all.done / 1024 : 0);
    printf("  status   ");
    for (int s = 0; s < 600; s++) {
        if (all.status[s])
            printf(" %d: %lld", s, all.status[s]);
    }
    printf("\n  latency   p50 %llu us, p90 %llu us, p99 %llu us, max %llu us\n", (unsigned long long)p50,
           (unsigned long long)p90, (unsigned long long)p99, (unsigned long long)all.max_us);
    printf("  errors    connect %lld, io %lld, protocol %lld, timeout %lld\n", all.err_connect, all.err_io,
           all.err_protocol, all.err_timeout);
    printf("RESULT requests=%lld seconds=%.3f rps=%.1f p50_us=%llu p90_us=%llu p99_us=%llu max_us=%llu "
           "errors=%lld "
           "unexpected=%lld\n",
           all.done, secs, rps, (unsigned long long)p50, (unsigned long long)p90, (unsigned long long)p99,
           (unsigned long long)all.max_us, errors, all.err_status);
    if (all.done == 0)
        return 1;
    if (cfg.expect && (errors || all.err_status))
        return 1;
    return 0;
}
