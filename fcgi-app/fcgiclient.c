/* One FastCGI request as a client; see fcgiclient.h. */
#include "fcgiclient.h"

#include "fcgirec.h"
#include "xalloc.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

enum {
    PARAMS_CAP = 8192,
    REPLY_MAX = 16 * 1024 * 1024, /* more than any status or scrape; a bound for a peer that never stops */
};

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int connect_tcp(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char host[256];
    size_t hlen = (size_t)(colon - spec);
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    char *h = host;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        h = host + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(*h ? h : "127.0.0.1", colon + 1, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* the same reading of an address as the pool's own (server_listen) */
static int dial(const char *addr, int timeout_ms)
{
    bool unix_path = addr[0] == '/' || addr[0] == '.' || !strchr(addr, ':');
    int fd = unix_path ? connect_unix(addr) : connect_tcp(addr);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int put_param(unsigned char *buf, size_t *len, const char *name, const char *value)
{
    return fcgirec_param(buf, len, PARAMS_CAP, name, strlen(name), value, strlen(value));
}

static int send_request(int fd, const char *path, const char *const *params)
{
    unsigned char pbuf[PARAMS_CAP];
    size_t plen = 0;
    const char *const base[] = {
        "REQUEST_METHOD",  "GET",      "REQUEST_URI",       path,      "SCRIPT_NAME", "",
        "SERVER_PROTOCOL", "HTTP/1.1", "GATEWAY_INTERFACE", "CGI/1.1", NULL};
    for (size_t i = 0; base[i]; i += 2) {
        if (put_param(pbuf, &plen, base[i], base[i + 1]) < 0)
            return -1;
    }
    for (size_t i = 0; params && params[i] && params[i + 1]; i += 2) {
        if (put_param(pbuf, &plen, params[i], params[i + 1]) < 0)
            return -1;
    }
    static unsigned char out[PARAMS_CAP + 64];
    size_t o = fcgirec_begin(out);
    o += fcgirec_stream(out + o, FCGIREC_PARAMS, pbuf, plen);
    o += fcgirec_stream(out + o, FCGIREC_STDIN, NULL, 0);
    return write_all(fd, out, o);
}

static int read_full(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads records until END_REQUEST; the STDOUT stream goes to *data (malloc'd, NUL-terminated), any other
 * record (STDERR, END_REQUEST's body) is read and dropped. */
static int read_stdout(int fd, char **data, size_t *len, const char **err)
{
    static unsigned char scratch[65535 + 255];
    size_t cap = 4096;
    *data = xmalloc(cap);
    *len = 0;
    for (;;) {
        unsigned char h[8];
        if (read_full(fd, h, 8) < 0 || h[0] != 1) {
            *err = errno == EAGAIN ? "the pool did not answer in time"
                                   : "the connection broke before the answer";
            return -1;
        }
        size_t n = (size_t)h[4] << 8 | h[5];
        bool out = h[1] == FCGIREC_STDOUT;
        if (out && *len + n + 1 > cap) {
            while (*len + n + 1 > cap)
                cap *= 2;
            if (cap > REPLY_MAX) {
                *err = "the answer is too large";
                return -1;
            }
            *data = xrealloc(*data, cap);
        }
        if (read_full(fd, out ? (unsigned char *)*data + *len : scratch, n) < 0 ||
            read_full(fd, scratch, h[6]) < 0) {
            *err = "the connection broke before the answer ended";
            return -1;
        }
        if (out)
            *len += n;
        else if (h[1] == FCGIREC_END_REQUEST)
            break;
    }
    (*data)[*len] = '\0';
    return 0;
}

static void split_reply(char *data, size_t len, struct fcgiclient_reply *out)
{
    out->status = 200;
    out->header = data;
    char *end = strstr(data, "\r\n\r\n");
    size_t sep = 4;
    if (!end) {
        end = strstr(data, "\n\n");
        sep = 2;
    }
    if (!end) {
        out->body = data + len;
        out->body_len = 0;
        return;
    }
    *end = '\0';
    out->body = end + sep;
    out->body_len = len - (size_t)(out->body - data);
    for (char *line = data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncasecmp(line, "Status:", 7) == 0)
            out->status = atoi(line + 7);
    }
}

int fcgiclient_get(const char *addr, const char *path, const char *const *params, int timeout_ms,
                   struct fcgiclient_reply *out, const char **err)
{
    memset(out, 0, sizeof(*out));
    int fd = dial(addr, timeout_ms);
    if (fd < 0) {
        *err = strerror(errno);
        return -1;
    }
    if (send_request(fd, path, params) < 0) {
        *err = "cannot send the request";
        close(fd);
        return -1;
    }
    char *data;
    size_t len;
    int rc = read_stdout(fd, &data, &len, err);
    close(fd);
    if (rc < 0) {
        free(data);
        return -1;
    }
    split_reply(data, len, out);
    return 0;
}

void fcgiclient_free(struct fcgiclient_reply *r)
{
    free(r->header);
    memset(r, 0, sizeof(*r));
}
