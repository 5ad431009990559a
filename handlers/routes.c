/* hop's route table and the per-request entry point. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "cors.h"
#include "domains.h"
#include "req.h"
#include "resp.h"
#include "router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct route routes[] = {
    {"GET", "/healthz", health_get},
    {"POST", "/api/links", links_create},
    {"POST", "/api/links/bulk", links_bulk},
    {"GET", "/api/links/export", links_export},
    {"GET", "/api/links", links_list},
    {"GET", "/api/links/:slug", links_get},
    {"PATCH", "/api/links/:slug", links_patch},
    {"DELETE", "/api/links/:slug", links_delete},
    {"GET", "/api/links/:slug/stats", links_stats},
    {"GET", "/api/stats", stats_get},
    {"GET", "/api/links/:slug/qr", links_qr},
    {"GET", "/api/session", session_get},
    {"POST", "/api/session", session_create},
    {"DELETE", "/api/session", session_delete},
    {"GET", "/api/domains", domains_get},
    {"GET", "/api/tags", tags_list},
    {"GET", "/robots.txt", robots_get},
    {"GET", "/_hop/tls", domains_tls_ask},
    {"GET", "/", root_get},
    /* last: they match every one-segment path */
    {"GET", "/:slug", redirect_get},
    {"POST", "/:slug", redirect_post},
};

const struct route *app_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

/* Everything under /api is authenticated before anything else is looked at, even whether the path exists. */
static bool under_api(const struct req *r)
{
    return strncmp(r->path, "/api", 4) == 0 && (r->path[4] == '\0' || r->path[4] == '/');
}

void app_handle(struct req *r, struct resp *w)
{
    if (under_api(r)) {
        /* a browser's preflight carries no key: it is answered before authentication */
        if (cors_preflight(r, w, routes, sizeof(routes) / sizeof(routes[0])))
            return;
        cors_headers(r, w);
        if (auth_request(r, w) < 0)
            return;
    }
    if (r->bad_status) {
        resp_problem(w, r->bad_status, r->bad_detail);
        return;
    }
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    int status = router_match(routes, sizeof(routes) / sizeof(routes[0]), r, &fn, allow);
    if (status == 0) {
        if (under_api(r) && auth_scope_check(r, w) < 0)
            return;
        fn(r, w);
        return;
    }
    if (status == 405) {
        resp_header(w, "Allow", allow);
        resp_problem(w, 405, "this path does not accept that method; see the Allow header");
        return;
    }
    resp_problem(w, 404, "there is nothing at this path");
}

/* A Host we would echo into short_url must look like a host name, an IP literal and a port. */
static int host_plain(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 255)
        return 0;
    return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n;
}

static const char *host_base(struct req *r)
{
    const char *host = req_env(r, "HTTP_HOST");
    if (!host || !host_plain(host))
        host = "localhost";
    return arena_printf(r->arena, "https://%s", host);
}

const char *app_base_url(struct req *r)
{
    return config_get()->base_url ? config_get()->base_url : host_base(r);
}

/* The host part of HOP_BASE_URL (after "://"), or NULL. */
static const char *base_host(void)
{
    const char *base = config_get()->base_url;
    const char *sep = base ? strstr(base, "://") : NULL;
    return sep ? sep + 3 : NULL;
}

/* True when host (up to its port or path, if any) is name, in any case. */
static bool host_is(const char *host, const char *name)
{
    size_t n = strlen(name);
    return host && strncasecmp(host, name, n) == 0 && (host[n] == '\0' || host[n] == ':' || host[n] == '/');
}

const char *app_domain_base_url(struct req *r, const char *domain)
{
    if (!domain)
        return app_base_url(r);
    if (host_is(base_host(), domain))
        return config_get()->base_url;
    /* asked on the link's own domain: its Host keeps the port the client used (a test or dev server) */
    const char *host = req_env(r, "HTTP_HOST");
    const char *port = host_is(host, domain) && host[strlen(domain)] == ':' ? host + strlen(domain) + 1 : "";
    size_t digits = strspn(port, "0123456789");
    if (digits >= 1 && digits <= 5 && port[digits] == '\0')
        return arena_printf(r->arena, "https://%s:%s", domain, port);
    return arena_printf(r->arena, "https://%s", domain);
}

/* HOP_BASE_URL, https://Host and https:// each domain: a link to any of them loops back to hop (a short link
 * to another short link of hop's would at best be two hops, at worst a loop). */
const char *const *app_self_bases(struct req *r)
{
    size_t nd;
    const struct served_domain *d = domains_all(&nd);
    const char **bases = arena_alloc(r->arena, (nd + 3) * sizeof(*bases));
    size_t n = 0;
    if (config_get()->base_url)
        bases[n++] = config_get()->base_url;
    bases[n++] = host_base(r);
    for (size_t i = 0; i < nd; i++)
        bases[n++] = arena_printf(r->arena, "https://%s", d[i].name);
    bases[n] = NULL;
    return bases;
}
