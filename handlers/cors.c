/* CORS for the API; see cors.h. */
#include "cors.h"

#include "config.h"
#include "req.h"
#include "resp.h"
#include "router.h"

#include <string.h>

/* What a page may send besides the simple headers, and read besides the simple ones. */
static const char allow_headers[] = "Authorization, Content-Type, X-Request-Id";
static const char expose_headers[] = "Location, Retry-After, X-Request-Id";

/* The value Access-Control-Allow-Origin gets for origin, or NULL when it is not allowed. */
static const char *allowed(const char *origin)
{
    const struct app_config *c = config_get();
    if (!origin || !c->cors_origins)
        return NULL;
    for (const char *const *o = c->cors_origins; *o; o++) {
        if (strcmp(*o, "*") == 0)
            return "*";
        if (strcmp(*o, origin) == 0)
            return origin;
    }
    return NULL;
}

void cors_headers(struct req *r, struct resp *w)
{
    if (!config_get()->cors_origins)
        return;
    resp_header(w, "Vary", "Origin");
    const char *value = allowed(req_env(r, "HTTP_ORIGIN"));
    if (!value)
        return;
    resp_header(w, "Access-Control-Allow-Origin", value);
    resp_header(w, "Access-Control-Expose-Headers", expose_headers);
}

bool cors_preflight(struct req *r, struct resp *w, const struct route *routes, size_t n)
{
    const char *origin = req_env(r, "HTTP_ORIGIN");
    if (strcmp(r->method, "OPTIONS") != 0 || !origin || !req_env(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") ||
        r->bad_status)
        return false;
    resp_header(w, "Cache-Control", "no-store");
    resp_header(w, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    const char *value = allowed(origin);
    if (!value) {
        resp_problem(w, 403,
                     "this origin may not call the API from a browser (the operator lists origins in "
                     "HOP_CORS_ORIGINS)");
        return true;
    }
    /* no route takes OPTIONS: the router answers 405 with the methods the path has, or 404 */
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    if (router_match(routes, n, r, &fn, allow) != 405) {
        resp_problem(w, 404, "there is nothing at this path");
        return true;
    }
    resp_header(w, "Access-Control-Allow-Origin", value);
    resp_header(w, "Access-Control-Allow-Methods", allow);
    resp_header(w, "Access-Control-Allow-Headers", allow_headers);
    resp_header(w, "Access-Control-Max-Age", "600");
    resp_body(w, 204, NULL, NULL, 0);
    return true;
}
