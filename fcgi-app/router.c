/* Method + pattern routing; see router.h. */
#include "router.h"

#include "arena.h"
#include "req.h"

#include <stdbool.h>
#include <string.h>

/* Matches path against pattern segment by segment, recording ":name" captures in kv (at most
 * ROUTER_MAX_PARAMS). Returns the number of captures, or -1 when the path does not match. */
static int match_pattern(const char *pattern, const char *path, size_t path_len, struct req_kv *kv)
{
    const char *p = pattern, *s = path, *end = path + path_len;
    int n = 0;
    while (*p && s < end) {
        if (*p != '/' || *s != '/')
            return -1;
        p++;
        s++;
        /* a literal segment must start as the path's does: most patterns fail here, without a search */
        if (*p != ':' && *p != '/' && *p != '\0' && (s == end || *s != *p))
            return -1;
        const char *pseg_end = strchr(p, '/');
        size_t plen = pseg_end ? (size_t)(pseg_end - p) : strlen(p);
        const char *sseg_end = memchr(s, '/', (size_t)(end - s));
        size_t slen = sseg_end ? (size_t)(sseg_end - s) : (size_t)(end - s);
        if (plen > 0 && *p == ':') {
            if (slen == 0 || n == ROUTER_MAX_PARAMS)
                return -1;
            kv[n].name = p + 1;
            kv[n].name_len = plen - 1;
            kv[n].value = s;
            kv[n].value_len = slen;
            n++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return -1;
        }
        p += plen;
        s += slen;
    }
    return (*p == '\0' && s == end) ? n : -1;
}

static bool method_is(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static void allow_add(char *allow, const char *method)
{
    /* skip a method already listed */
    size_t mlen = strlen(method);
    for (const char *a = allow; (a = strstr(a, method)) != NULL; a += mlen) {
        if ((a == allow || a[-1] == ' ') && (a[mlen] == ',' || a[mlen] == '\0'))
            return;
    }
    size_t len = strlen(allow);
    if (len + mlen + 3 >= ROUTER_ALLOW_MAX)
        return;
    if (len)
        strcat(allow, ", ");
    strcat(allow, method);
}

/* The fewest captures of any route whose pattern matches the path, or -1: a literal segment beats a
 * ":name" one, so "/healthz" is never taken for a slug whatever the method. caps[i] gets route i's count
 * (-1: no match), so that each pattern is matched once a request. */
static int best_captures(const struct route *routes, size_t n, const struct req *r, int *caps)
{
    int best = -1;
    struct req_kv kv[ROUTER_MAX_PARAMS];
    for (size_t i = 0; i < n; i++) {
        caps[i] = match_pattern(routes[i].pattern, r->path, r->path_len, kv);
        if (caps[i] >= 0 && (best < 0 || caps[i] < best))
            best = caps[i];
    }
    return best;
}

int router_match(const struct route *routes, size_t n, struct req *r, route_fn *fn,
                 char allow[ROUTER_ALLOW_MAX])
{
    struct req_kv kv[ROUTER_MAX_PARAMS];
    allow[0] = '\0';
    *fn = NULL;
    int *caps = arena_alloc(r->arena, (n ? n : 1) * sizeof(*caps));
    int best = best_captures(routes, n, r, caps);
    if (best < 0)
        return 404;
    for (size_t i = 0; i < n; i++) {
        if (caps[i] != best)
            continue;
        if (!method_is(routes[i].method, r->method)) {
            allow_add(allow, routes[i].method);
            if (strcmp(routes[i].method, "GET") == 0)
                allow_add(allow, "HEAD");
            continue;
        }
        int captures = match_pattern(routes[i].pattern, r->path, r->path_len, kv);
        *fn = routes[i].fn;
        r->nroute = (size_t)captures;
        r->route_no = (int)i + 1;
        r->route = arena_alloc(r->arena, sizeof(*r->route) * (size_t)(captures ? captures : 1));
        for (int k = 0; k < captures; k++) {
            r->route[k] = kv[k];
            r->route[k].name = arena_strndup(r->arena, kv[k].name, kv[k].name_len);
            r->route[k].value = arena_strndup(r->arena, kv[k].value, kv[k].value_len);
        }
        return 0;
    }
    return 405;
}
