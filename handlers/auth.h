/* The Bearer authentication every /api request passes first, and the `hop keys` commands. */
#ifndef HOP_AUTH_H
#define HOP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct resp;

/* Authenticates r: 0 with r->user_id set, or an answered 401/503 (returns -1). */
int auth_request(struct req *r, struct resp *w);

/* hop keys create|list|revoke: the process exit status. */
int keys_command(int argc, char **argv);

#endif
