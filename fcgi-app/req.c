/* Request parsing; see req.h. Every parser here is bounded by the length it was given. */
#include "req.h"

#include "arena.h"
#include "hex.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

ssize_t req_decode(const char *in, size_t len, char *out, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = hex_value((unsigned char)in[i + 1]), lo = hex_value((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (ssize_t)o;
}

bool req_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= REQ_ID_MAX)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._~:/+=-", c)))
            return false;
    }
    return n > 0;
}

/* Each param's key length, and the params chained by it, so that a lookup reads only the keys as long as
 * its name: behind Caddy a request has 30-odd params and a redirect looks up a dozen, which a strncmp of
 * every param for each took about 2 % of a worker's CPU, and a comparison of every param's length still
 * 300 instructions a lookup. */
static void env_index(struct req *r)
{
    size_t n = 0;
    while (r->env && r->env[n])
        n++;
    if (n >= UINT32_MAX)
        n = UINT32_MAX - 1; /* the chains count from 1 in 32 bits; no web server sends this many */
    uint32_t *klen = arena_alloc(r->arena, (n ? n : 1) * sizeof(*klen));
    uint32_t *next = arena_alloc(r->arena, (n ? n : 1) * sizeof(*next));
    for (size_t i = n; i-- > 0;) {
        const char *eq = strchr(r->env[i], '=');
        size_t k = eq ? (size_t)(eq - r->env[i]) : SIZE_MAX;
        klen[i] = k < UINT32_MAX ? (uint32_t)k : UINT32_MAX;
        if (!eq)
            continue;
        size_t slot = k < REQ_ENV_LENS ? k : REQ_ENV_LENS - 1;
        next[i] = r->env_first[slot];
        r->env_first[slot] = (uint32_t)(i + 1);
    }
    r->env_klen = klen;
    r->env_next = next;
    r->nenv = n;
}

const char *req_env(const struct req *r, const char *name)
{
    size_t n = strlen(name);
    for (uint32_t i = r->env_first[n < REQ_ENV_LENS ? n : REQ_ENV_LENS - 1]; i; i = r->env_next[i - 1]) {
        if (r->env_klen[i - 1] == n && memcmp(r->env[i - 1], name, n) == 0)
            return r->env[i - 1] + n + 1;
    }
    return NULL;
}

void req_parse_query(struct req *r, const char *q, size_t len)
{
    size_t count = 1;
    for (size_t i = 0; i < len; i++)
        count += q[i] == '&';
    r->qs = arena_alloc(r->arena, count * sizeof(*r->qs));
    r->nqs = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && q[i] != '&')
            continue;
        const char *part = q + start;
        size_t plen = i - start;
        start = i + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(part, '=', plen);
        size_t nlen = eq ? (size_t)(eq - part) : plen;
        const char *val = eq ? eq + 1 : part + plen;
        size_t vlen = eq ? plen - nlen - 1 : 0;
        struct req_kv *kv = &r->qs[r->nqs++];
        char *name = arena_alloc(r->arena, nlen + 1), *value = arena_alloc(r->arena, vlen + 1);
        ssize_t dn = req_decode(part, nlen, name, true), dv = req_decode(val, vlen, value, true);
        kv->bad = dn < 0 || dv < 0;
        if (dn < 0) {
            /* keep the raw name so that the error can still name the parameter */
            memcpy(name, part, nlen);
            name[nlen] = '\0';
            dn = (ssize_t)nlen;
        }
        kv->name = name;
        kv->name_len = (size_t)dn;
        kv->value = dv < 0 ? "" : value;
        kv->value_len = dv < 0 ? 0 : (size_t)dv;
    }
}

int req_query(const struct req *r, const char *name, const char **value)
{
    int found = 0;
    for (size_t i = 0; i < r->nqs; i++) {
        if (strcmp(r->qs[i].name, name) != 0)
            continue;
        if (found || r->qs[i].bad)
            return -1;
        found = 1;
        *value = r->qs[i].value;
    }
    return found;
}

int req_query_all(const struct req *r, const char *name, const char **values, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nqs; i++) {
        if (strcmp(r->qs[i].name, name) != 0)
            continue;
        if (r->qs[i].bad || n == max)
            return -1;
        values[n++] = r->qs[i].value;
    }
    return (int)n;
}

const char *req_route(const struct req *r, const char *name)
{
    for (size_t i = 0; i < r->nroute; i++) {
        if (strcmp(r->route[i].name, name) == 0)
            return r->route[i].value;
    }
    return NULL;
}

/* REQUEST_URI keeps the client's own encoding, so decoding happens here exactly once. */
static const char *raw_target(const struct req *r)
{
    const char *uri = req_env(r, "REQUEST_URI");
    if (!uri || !*uri) {
        const char *pi = req_env(r, "PATH_INFO");
        return pi && *pi ? pi : "/";
    }
    if (uri[0] != '/') {
        /* absolute-form: skip "scheme://authority" */
        const char *p = strstr(uri, "://");
        if (!p)
            return NULL;
        p = strchr(p + 3, '/');
        return p ? p : "/";
    }
    return uri;
}

/* CONTENT_LENGTH: -1 when absent or -1 (Caddy's mark for a chunked body), -2 when it is not a number */
static long long parse_length(const char *s)
{
    if (!s || !*s || strcmp(s, "-1") == 0)
        return -1;
    size_t n = strlen(s);
    if (strspn(s, "0123456789") != n)
        return -2;
    /* a length past any limit is simply too large */
    return n > 18 ? LLONG_MAX : strtoll(s, NULL, 10);
}

int req_init(struct req *r, struct arena *a, char **env, const char **detail)
{
    memset(r, 0, sizeof(*r));
    r->arena = a;
    r->env = env;
    env_index(r);
    r->method = req_env(r, "REQUEST_METHOD");
    if (!r->method)
        r->method = "GET";
    r->content_length = parse_length(req_env(r, "CONTENT_LENGTH"));
    r->max_body = 64 * 1024;

    const char *rid = req_env(r, "HTTP_X_REQUEST_ID");
    if (rid && req_id_valid(rid))
        snprintf(r->id, sizeof(r->id), "%s", rid);

    const char *target = raw_target(r);
    if (!target) {
        *detail = "the request target is not a path";
        r->path = arena_strdup(a, "/");
        r->path_len = 1;
        return 400;
    }
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    r->query = q ? q + 1 : "";
    req_parse_query(r, r->query, strlen(r->query));
    r->path = arena_alloc(a, plen + 1);
    ssize_t n = req_decode(target, plen, r->path, false);
    if (n < 0) {
        *detail = "the path has a malformed percent-encoding or a NUL byte";
        /* keep the raw path for the access log */
        memcpy(r->path, target, plen);
        r->path[plen] = '\0';
        r->path_len = plen;
        return 400;
    }
    r->path_len = (size_t)n;
    return 0;
}

static int read_body(struct req *r, const char **detail);

int req_read_body(struct req *r, const char **detail)
{
    if (!r->body_read) {
        r->body_read = true;
        r->body_status = read_body(r, &r->body_detail);
    }
    *detail = r->body_detail;
    return r->body_status;
}

static int read_body(struct req *r, const char **detail)
{
    r->body = arena_alloc(r->arena, 1);
    r->body[0] = '\0';
    if (r->content_length == -2) {
        *detail = "the Content-Length header is not a number";
        return 400;
    }
    if (r->content_length >= 0 && (unsigned long long)r->content_length > r->max_body) {
        *detail = "the request body is larger than the limit";
        return 413;
    }
    if (r->content_length == 0 || !r->body_src.read)
        return 0;
    /* Read one byte past the limit so that an unannounced (chunked) excess is seen. */
    size_t want = r->content_length > 0 ? (size_t)r->content_length : r->max_body + 1;
    char *p = arena_alloc(r->arena, want + 1);
    size_t got = 0;
    while (got < want) {
        ssize_t n = r->body_src.read(r->body_src.ctx, p + got, want - got);
        if (n == -2) {
            *detail = "the request body did not arrive in time";
            return 408;
        }
        if (n < 0) {
            *detail = "the request body could not be read";
            return 400;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > r->max_body) {
        *detail = "the request body is larger than the limit";
        return 413;
    }
    if (r->content_length > 0 && got < (size_t)r->content_length) {
        /* a proxy that truncated the body, or a client that gave up: never act on part of a request */
        *detail = "the request body is shorter than its Content-Length";
        return 400;
    }
    p[got] = '\0';
    r->body = p;
    r->body_len = got;
    return 0;
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

bool req_content_type_is(const struct req *r, const char *want)
{
    const char *ct = req_env(r, "CONTENT_TYPE");
    if (!ct)
        return false;
    ct = skip_ows(ct);
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n) != 0)
        return false;
    const char *p = skip_ows(ct + n);
    while (*p == ';') {
        const char *name = skip_ows(p + 1);
        size_t name_len = strcspn(name, "=; \t");
        const char *v = name + name_len;
        if (*v != '=')
            return false;
        v++;
        size_t vlen;
        if (*v == '"') {
            const char *end = strchr(++v, '"');
            if (!end)
                return false;
            vlen = (size_t)(end - v);
            p = skip_ows(end + 1);
        } else {
            vlen = strcspn(v, "; \t");
            p = skip_ows(v + vlen);
        }
        bool is_charset = name_len == 7 && strncasecmp(name, "charset", 7) == 0;
        if (is_charset && !(vlen == 5 && strncasecmp(v, "utf-8", 5) == 0))
            return false;
    }
    return *p == '\0';
}
