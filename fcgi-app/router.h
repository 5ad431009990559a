/* Routes are one static table of {method, pattern, handler}; patterns are literal segments and ":name"
 * segments. Lookup tells "no such path" (404) from "not this method" (405 with Allow). */
#ifndef HOP_ROUTER_H
#define HOP_ROUTER_H

#include <stddef.h>

struct req;
struct resp;

typedef void (*route_fn)(struct req *r, struct resp *w);

struct route {
    const char *method;
    const char *pattern;
    route_fn fn;
};

enum { ROUTER_ALLOW_MAX = 96, ROUTER_MAX_PARAMS = 8 };

/* Matches r->method and r->path. Returns 0 and sets *fn (filling r->route and r->route_no), or 404, or 405
 * with allow set to the methods the path accepts ("GET, HEAD"). HEAD is served by GET routes. Of the patterns
 * a path matches, only those with the fewest ":name" segments count, so a literal route is never shadowed by
 * a capture. */
int router_match(const struct route *routes, size_t n, struct req *r, route_fn *fn,
                 char allow[ROUTER_ALLOW_MAX]);

#endif
