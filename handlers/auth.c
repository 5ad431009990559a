/* Request authentication by Bearer API key; see auth.h. */
#include "auth.h"

#include "apikey.h"
#include "arena.h"
#include "db.h"
#include "db_keys.h"
#include "handler.h"
#include "keyuse.h"
#include "req.h"
#include "resp.h"

#include <openssl/crypto.h>
#include <string.h>

/* What hop keeps per request in r->app: the key that authenticated it. */
struct auth_state {
    struct key_grant grant;
};

long long auth_owner(const struct req *r)
{
    const struct auth_state *st = r->app;
    return st ? st->grant.owner_id : 0;
}

/* The scope a method needs: reading needs read, making a link create, changing or deleting one full. */
static enum key_scope scope_needed(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return KEY_SCOPE_READ;
    if (strcmp(method, "POST") == 0)
        return KEY_SCOPE_CREATE;
    return KEY_SCOPE_FULL;
}

int auth_scope_check(struct req *r, struct resp *w)
{
    const struct auth_state *st = r->app;
    enum key_scope need = scope_needed(r->method);
    if (st && st->grant.scope >= need)
        return 0;
    resp_header(w, "Cache-Control", "no-store");
    resp_problem(w, 403,
                 arena_printf(r->arena, "this API key has the %s scope; %s needs a key with the %s scope",
                              key_scope_name(st ? st->grant.scope : KEY_SCOPE_READ), r->method,
                              key_scope_name(need)));
    return -1;
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
    struct key_grant grant;
    int rc = db_key_find(hash, &grant);
    if (rc == DB_OK) {
        struct auth_state *st = arena_alloc(r->arena, sizeof(*st));
        st->grant = grant;
        r->app = st;
        keyuse_note(grant.key_id);
        return 0;
    }
    if (rc == DB_NOT_FOUND) {
        unauthorized(w, "this API key is unknown or revoked");
        return -1;
    }
    handler_unavailable(w);
    return -1;
}
