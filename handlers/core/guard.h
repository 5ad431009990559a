/* The bound on password guessing: at most GUARD_MAX_FAILS wrong passwords per link per client address per
 * GUARD_WINDOW_S seconds, counted in memory shared by every worker of the pool (a host-wide limit). */
#ifndef HOP_GUARD_H
#define HOP_GUARD_H

#include <stdbool.h>

enum { GUARD_MAX_FAILS = 10, GUARD_WINDOW_S = 600 };

/* In the master before forking: maps the shared table. 0 or -1 (logged). */
int guard_init(void);
/* Whether client may try a password on link_id now; when not, *retry_after says in how many seconds. */
bool guard_allows(long long link_id, const char *client, int *retry_after);
/* Counts one wrong password of client on link_id. */
void guard_failed(long long link_id, const char *client);
/* Whether this worker may hash a password for client now: one check per client address at a time in the
 * pool, so that one client flooding posts holds one worker, not all of them. Pair a true with
 * guard_check_end. */
bool guard_check_begin(const char *client);
void guard_check_end(const char *client);

#endif
