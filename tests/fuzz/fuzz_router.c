/* Fuzzes router_match (fcgi-app/router.c) with hop's route table and two richer ones against a reference
 * matcher written here: the same handler and captures for 0, 405 with exactly the path's methods in Allow,
 * 404 otherwise. Input: one selector byte (table and method), an optional method line, then the path. */
#include "fuzz.h"

#include "arena.h"
#include "req.h"
#include "router.h"

/* Distinct bodies so that no linker folds two handlers into one address. */
static int hit;
#define HANDLER(name, k)                                                                                     \
    static void name(struct req *r, struct resp *w)                                                          \
    {                                                                                                        \
        (void)r;                                                                                             \
        (void)w;                                                                                             \
        hit = k;                                                                                             \
    }
HANDLER(h1, 1)
HANDLER(h2, 2)
HANDLER(h3, 3)
HANDLER(h4, 4)
HANDLER(h5, 5)
HANDLER(h6, 6)
HANDLER(h7, 7)
HANDLER(h8, 8)
HANDLER(h9, 9)
HANDLER(h10, 10)
HANDLER(h11, 11)
HANDLER(h12, 12)

/* hop's own table (handlers/routes.c); keep in step with it. */
static const struct route hop_routes[] = {
    {"GET", "/healthz", h1},
    {"POST", "/api/links", h2},
    {"GET", "/api/links", h3},
    {"GET", "/api/links/:slug", h4},
    {"PATCH", "/api/links/:slug", h5},
    {"DELETE", "/api/links/:slug", h6},
    {"GET", "/api/links/:slug/stats", h7},
    {"GET", "/:slug", h8},
};

/* Nested captures, a literal after a capture, the root, the most captures the router keeps, and every
 * method on one path. */
static const struct route rich_routes[] = {
    {"GET", "/", h1},
    {"GET", "/api/users/:uid/links/:slug", h2},
    {"PUT", "/api/users/:uid/links/:slug", h3},
    {"GET", "/:slug/edit", h4},
    {"POST", "/:slug/edit", h5},
    {"GET", "/a/:b/:c/:d/:e/:f/:g/:h/:i", h6},
    {"DELETE", "/x", h7},
    {"PATCH", "/x", h8},
    {"PUT", "/x", h9},
    {"POST", "/x", h10},
    {"GET", "/x", h11},
    {"OPTIONS", "/x", h12},
};

/* Overlapping routes: the first one that matches path and method wins. */
static const struct route overlap_routes[] = {
    {"GET", "/:a", h1}, {"GET", "/b", h2}, {"POST", "/b", h3}, {"GET", "/:a/:b", h4}, {"DELETE", "/:a", h5},
};

static const struct {
    const struct route *routes;
    size_t n;
} tables[] = {
    {hop_routes, sizeof(hop_routes) / sizeof(hop_routes[0])},
    {rich_routes, sizeof(rich_routes) / sizeof(rich_routes[0])},
    {overlap_routes, sizeof(overlap_routes) / sizeof(overlap_routes[0])},
    {hop_routes, 0},
};

static const char *const methods[] = {"GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "get", ""};

struct capture {
    const char *name, *value;
    size_t name_len, value_len;
};

/* The next '/'-separated segment of s[0..len) from *pos; returns false at the end. */
static bool next_segment(const char *s, size_t len, size_t *pos, const char **seg, size_t *seg_len)
{
    if (*pos > len)
        return false;
    size_t end = *pos;
    while (end < len && s[end] != '/')
        end++;
    *seg = s + *pos;
    *seg_len = end - *pos;
    *pos = end + 1;
    return true;
}

/* Reference match: both start with '/', the same number of segments, literals equal, ":name" takes any
 * non-empty segment. Returns the number of captures or -1. */
static int ref_match(const char *pattern, const char *path, size_t len, struct capture *caps)
{
    if (len == 0 || path[0] != '/' || pattern[0] != '/')
        return -1;
    size_t plen = strlen(pattern), pp = 1, sp = 1;
    const char *pseg, *sseg;
    size_t pl, sl;
    int n = 0;
    for (;;) {
        bool more_p = next_segment(pattern, plen, &pp, &pseg, &pl);
        bool more_s = next_segment(path, len, &sp, &sseg, &sl);
        if (more_p != more_s)
            return -1;
        if (!more_p)
            return n;
        if (pl > 0 && pseg[0] == ':') {
            if (sl == 0)
                return -1;
            caps[n++] = (struct capture){pseg + 1, sseg, pl - 1, sl};
        } else if (pl != sl || memcmp(pseg, sseg, pl) != 0) {
            return -1;
        }
    }
}

/* Appends m to the list "A, B, C" unless it is there already. */
static void allow_push(char *allow, const char *m)
{
    size_t ml = strlen(m);
    for (const char *p = allow; *p;) {
        size_t l = strcspn(p, ",");
        if (l == ml && memcmp(p, m, ml) == 0)
            return;
        p += l;
        if (*p == ',')
            p += 2;
    }
    if (*allow)
        strcat(allow, ", ");
    strcat(allow, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    data++;
    size--;
    size_t t = sel % (sizeof(tables) / sizeof(tables[0]));
    size_t mi = (sel / 4) % 16;
    char *method;
    if (mi < sizeof(methods) / sizeof(methods[0])) {
        method = fuzz_cstr(methods[mi], strlen(methods[mi]));
    } else {
        /* a method of the input's own: the first line, which a C string cannot hold NULs in */
        const uint8_t *m;
        size_t mlen;
        fuzz_split(&data, &size, '\n', &m, &mlen);
        if (memchr(m, '\0', mlen))
            return 0;
        method = fuzz_cstr(m, mlen);
    }
    /* req_init hands the router a decoded, NUL-free path */
    if (memchr(data, '\0', size)) {
        free(method);
        return 0;
    }
    char *path = fuzz_cstr(data, size);

    const struct route *routes = tables[t].routes;
    size_t n = tables[t].n;
    struct arena *a = arena_new(1024);
    struct req r;
    memset(&r, 0, sizeof(r));
    r.arena = a;
    r.method = method;
    r.path = path;
    r.path_len = size;
    route_fn fn = (route_fn)h12;
    char allow[ROUTER_ALLOW_MAX];
    memset(allow, 'x', sizeof(allow));
    int rc = router_match(routes, n, &r, &fn, allow);

    /* The reference verdict. */
    struct capture caps[ROUTER_MAX_PARAMS + 4];
    char want_allow[ROUTER_ALLOW_MAX] = "";
    int want = 404, ncaps = 0;
    size_t winner = 0;
    /* the routes that match with the fewest captures are the candidates: literal segments win */
    int fewest = -1;
    for (size_t i = 0; i < n; i++) {
        int c = ref_match(routes[i].pattern, path, size, caps);
        if (c >= 0 && (fewest < 0 || c < fewest))
            fewest = c;
    }
    for (size_t i = 0; i < n; i++) {
        int c = ref_match(routes[i].pattern, path, size, caps);
        if (c < 0 || c != fewest)
            continue;
        bool method_ok = strcmp(routes[i].method, method) == 0 ||
                         (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0);
        if (method_ok) {
            want = 0;
            winner = i;
            ncaps = c;
            break;
        }
        want = 405;
        allow_push(want_allow, routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0)
            allow_push(want_allow, "HEAD");
    }
    FUZZ_CHECK(rc == want, "table %zu, %s \"%s\": router %d, reference %d", t, method, path, rc, want);
    if (rc == 0) {
        FUZZ_CHECK(fn == routes[winner].fn, "%s \"%s\": the wrong handler", method, path);
        FUZZ_CHECK(r.nroute == (size_t)ncaps, "%s \"%s\": %zu captures, want %d", method, path, r.nroute,
                   ncaps);
        for (int k = 0; k < ncaps; k++) {
            const struct req_kv *kv = &r.route[k];
            FUZZ_CHECK(kv->name_len == caps[k].name_len &&
                           memcmp(kv->name, caps[k].name, kv->name_len) == 0 &&
                           kv->name[kv->name_len] == '\0',
                       "capture %d: name", k);
            FUZZ_CHECK(kv->value_len == caps[k].value_len &&
                           memcmp(kv->value, caps[k].value, kv->value_len) == 0 &&
                           kv->value[kv->value_len] == '\0',
                       "capture %d: value", k);
            FUZZ_CHECK(kv->value_len > 0 && !memchr(kv->value, '/', kv->value_len),
                       "capture %d: empty or has /", k);
            char name[32];
            snprintf(name, sizeof(name), "%.*s", (int)kv->name_len, kv->name);
            FUZZ_CHECK(req_route(&r, name) != NULL, "req_route(\"%s\") finds nothing", name);
        }
    } else {
        FUZZ_CHECK(fn == NULL, "%d with a handler", rc);
        FUZZ_CHECK(memchr(allow, '\0', sizeof(allow)) != NULL, "Allow not terminated");
        FUZZ_CHECK(strcmp(allow, rc == 405 ? want_allow : "") == 0, "%s \"%s\": Allow \"%s\", want \"%s\"",
                   method, path, allow, want_allow);
    }

    arena_free(a);
    free(path);
    free(method);
    return 0;
}
