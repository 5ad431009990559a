/* The Bearer authentication every /api request passes first. */
#ifndef HOP_AUTH_H
#define HOP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct resp;

/* Authenticates r: 0 with its owner remembered in r->app, or an answered 401/503 (returns -1). */
int auth_request(struct req *r, struct resp *w);
/* The owner auth_request found for r; 0 when r was not authenticated. */
long long auth_owner(const struct req *r);

#endif
