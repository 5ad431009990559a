/* Cross-origin calls to the API from the browser origins the operator lists (HOP_CORS_ORIGINS; none by
 * default): preflights answered before authentication, and the allowed origin echoed on every /api answer.
 * Credentials (cookies) are never allowed: the API takes a Bearer key, which a page sends itself. */
#ifndef HOP_CORS_H
#define HOP_CORS_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct resp;
struct route;

/* Whether r is a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method); when it is, answers
 * it: 204 with the path's methods and the headers the API reads for a listed origin, 403 for another
 * origin, 404 for a path that does not exist. */
bool cors_preflight(struct req *r, struct resp *w, const struct route *routes, size_t n);
/* Adds Access-Control-Allow-Origin (with Vary: Origin and the headers a page may read) to an /api answer when
 * r's Origin is listed; Vary: Origin alone whenever origins are configured, so caches keep answers apart. */
void cors_headers(struct req *r, struct resp *w);

#endif
