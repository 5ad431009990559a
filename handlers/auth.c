/* Request authentication by Bearer API key; see auth.h. */
#include "auth.h"

#include "apikey.h"
#include "arena.h"
#include "db.h"
#include "db_keys.h"
#include "handler.h"
#include "req.h"
#include "resp.h"

#include <openssl/crypto.h>
#include <string.h>

/* What hop keeps per request in r->app. */
struct auth_state {
    long long owner_id;
};

long long auth_owner(const struct req *r)
{
    const struct auth_state *st = r->app;
    return st ? st->owner_id : 0;
}

static void unauthorized(struct resp *w, const char *detail)
{
    resp_header(w, "WWW-Authenticate", "Bearer");
    resp_header(w, "Cache-Control", "no-store");
    resp_problem(w, 401, detail);
}

int auth_request(struct req *r, struct resp *w)
{
    char token[128];
    const char *header = req_env(r, "HTTP_AUTHORIZATION");
    if (!header) {
        unauthorized(w, "this API needs an Authorization: Bearer <key> header");
        return -1;
    }
    if (apikey_parse_bearer(header, token, sizeof(token)) < 0 || !apikey_shape(token)) {
        unauthorized(w, "the Authorization header does not hold a hop API key");
        return -1;
    }
    unsigned char hash[32];
    apikey_hash(token, hash);
    OPENSSL_cleanse(token, sizeof(token));
    long long owner = 0;
    int rc = db_key_owner(hash, &owner);
    if (rc == DB_OK) {
        struct auth_state *st = arena_alloc(r->arena, sizeof(*st));
        st->owner_id = owner;
        r->app = st;
        return 0;
    }
    if (rc == DB_NOT_FOUND) {
        unauthorized(w, "this API key is unknown or revoked");
        return -1;
    }
    handler_unavailable(w);
    return -1;
}
