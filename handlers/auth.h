/* The authentication every /api request passes first: a Bearer API key, or the web page's session cookie
 * (with which a state-changing request must also carry SESSION_CSRF_HEADER, which no cross-site form can
 * send). */
#ifndef HOP_AUTH_H
#define HOP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct resp;

enum { AUTH_HASH_LEN = 32 };

#define SESSION_COOKIE      "hop_session"
#define SESSION_CSRF_HEADER "X-Hop-CSRF"

/* Authenticates r: 0 with its owner remembered in r->app, or an answered 401/403/503 (returns -1). */
int auth_request(struct req *r, struct resp *w);
/* Whether r's key has the scope its method needs (GET and HEAD: read; POST: create; PATCH, DELETE and any
 * other: full): 0, or an answered 403 that names both scopes (returns -1). After auth_request. */
int auth_scope_check(struct req *r, struct resp *w);
/* The owner auth_request found for r; 0 when r was not authenticated. */
long long auth_owner(const struct req *r);
/* Whether r was authenticated by an API key; its SHA-256 goes to key_hash. */
bool auth_key(const struct req *r, unsigned char key_hash[AUTH_HASH_LEN]);
/* Whether r was authenticated by a session cookie; the id's SHA-256 goes to sid_hash and its expiry (RFC
 * 3339) to *expires_at. */
bool auth_session(const struct req *r, unsigned char sid_hash[AUTH_HASH_LEN], const char **expires_at);
/* The SHA-256 of a session id, as the database stores it. */
void auth_sid_hash(const char *sid, size_t len, unsigned char out[AUTH_HASH_LEN]);

#endif
