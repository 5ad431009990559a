/* hop's route table and the per-request entry point. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "req.h"
#include "resp.h"
#include "router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct route routes[] = {
    {"GET", "/healthz", health_get},
    {"POST", "/api/links", links_create},
    {"GET", "/api/links", links_list},
    {"GET", "/api/links/:slug", links_get},
    {"PATCH", "/api/links/:slug", links_patch},
    {"DELETE", "/api/links/:slug", links_delete},
    {"GET", "/api/links/:slug/stats", links_stats},
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

/* Everything under /api is authenticated before anything else is looked at, even whether the path exists. */
static bool under_api(const struct req *r)
{
    return strncmp(r->path, "/api", 4) == 0 && (r->path[4] == '\0' || r->path[4] == '/');
}

void app_handle(struct req *r, struct resp *w)
{
    if (under_api(r) && auth_request(r, w) < 0)
        return;
    if (r->bad_status) {
        resp_problem(w, r->bad_status, r->bad_detail);
        return;
    }
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    int status = router_match(routes, sizeof(routes) / sizeof(routes[0]), r, &fn, allow);
    if (status == 0) {
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

const char *app_domain_base_url(struct req *r, const char *domain)
{
    if (!domain)
        return app_base_url(r);
    const char *base = config_get()->base_url;
    const char *host = base ? strstr(base, "://") + 3 : NULL;
    if (host && strncmp(host, domain, strlen(domain)) == 0 && strchr(":/", host[strlen(domain)]))
        return base;
    return arena_printf(r->arena, "https://%s", domain);
}

const char *const *app_self_bases(struct req *r)
{
    const char **bases = arena_alloc(r->arena, 3 * sizeof(*bases));
    int n = 0;
    if (config_get()->base_url)
        bases[n++] = config_get()->base_url;
    bases[n++] = host_base(r);
    bases[n] = NULL;
    return bases;
}
