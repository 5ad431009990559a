/* The Bearer authentication every /api request passes first. */
#ifndef HOP_AUTH_H
#define HOP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct resp;

/* Authenticates r: 0 with its owner remembered in r->app, or an answered 401/503 (returns -1). */
int auth_request(struct req *r, struct resp *w);
/* Whether r's key has the scope its method needs (GET and HEAD: read; POST: create; PATCH, DELETE and any
 * other: full): 0, or an answered 403 that names both scopes (returns -1). After auth_request. */
int auth_scope_check(struct req *r, struct resp *w);
/* The owner auth_request found for r; 0 when r was not authenticated. */
long long auth_owner(const struct req *r);

#endif
