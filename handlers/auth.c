/* Request authentication by Bearer API key or session cookie; see auth.h. */
#include "auth.h"

#include "apikey.h"
#include "arena.h"
#include "db.h"
#include "db_keys.h"
#include "db_sessions.h"
#include "handler.h"
#include "hex.h"
#include "keyuse.h"
#include "req.h"
#include "resp.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

enum { SID_HEX = 64 };

/* What hop keeps per request in r->app: the key that authenticated it (a session acts with the key it was
 * made from) and how. */
struct auth_state {
    struct key_grant grant;
    enum { BY_KEY, BY_SESSION } by;
    unsigned char hash[AUTH_HASH_LEN]; /* of the key or of the session id */
    const char *expires_at;            /* the session's */
};

long long auth_owner(const struct req *r)
{
    const struct auth_state *st = r->app;
    return st ? st->grant.owner_id : 0;
}

/* The scope a method needs: reading needs read, making a link create, changing or deleting one full. Signing
 * in and out (/api/session) needs only a live key, of any scope. */
static enum key_scope scope_needed(const struct req *r)
{
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0 ||
        strcmp(r->path, "/api/session") == 0)
        return KEY_SCOPE_READ;
    if (strcmp(r->method, "POST") == 0)
        return KEY_SCOPE_CREATE;
    return KEY_SCOPE_FULL;
}

int auth_scope_check(struct req *r, struct resp *w)
{
    const struct auth_state *st = r->app;
    enum key_scope need = scope_needed(r);
    if (st && st->grant.scope >= need)
        return 0;
    resp_header(w, "Cache-Control", "no-store");
    resp_problem(w, 403,
                 arena_printf(r->arena, "this API key has the %s scope; %s needs a key with the %s scope",
                              key_scope_name(st ? st->grant.scope : KEY_SCOPE_READ), r->method,
                              key_scope_name(need)));
    return -1;
}

bool auth_key(const struct req *r, unsigned char key_hash[AUTH_HASH_LEN])
{
    const struct auth_state *st = r->app;
    if (!st || st->by != BY_KEY)
        return false;
    memcpy(key_hash, st->hash, AUTH_HASH_LEN);
    return true;
}

bool auth_session(const struct req *r, unsigned char sid_hash[AUTH_HASH_LEN], const char **expires_at)
{
    const struct auth_state *st = r->app;
    if (!st || st->by != BY_SESSION)
        return false;
    memcpy(sid_hash, st->hash, AUTH_HASH_LEN);
    *expires_at = st->expires_at;
    return true;
}

static void unauthorized(struct resp *w, const char *detail)
{
    resp_header(w, "WWW-Authenticate", "Bearer");
    resp_header(w, "Cache-Control", "no-store");
    resp_problem(w, 401, detail);
}

static void remember(struct req *r, const struct key_grant *grant, int by,
                     const unsigned char hash[AUTH_HASH_LEN], const char *expires_at)
{
    struct auth_state *st = arena_alloc(r->arena, sizeof(*st));
    st->grant = *grant;
    keyuse_note(grant->key_id);
    st->by = by;
    memcpy(st->hash, hash, AUTH_HASH_LEN);
    st->expires_at = expires_at;
    r->app = st;
}

static int by_key(struct req *r, struct resp *w, const char *header)
{
    char token[128];
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
        remember(r, &grant, BY_KEY, hash, NULL);
        return 0;
    }
    if (rc == DB_NOT_FOUND) {
        unauthorized(w, "this API key is unknown or revoked");
        return -1;
    }
    handler_unavailable(w);
    return -1;
}

/* The value of the session cookie in a Cookie header ("a=b; hop_session=...; c=d"), or NULL. Only a value of
 * the shape hop gives (64 hex digits) counts: anything else never reaches the database. */
static const char *session_cookie(const char *header, size_t *len)
{
    static const char name[] = SESSION_COOKIE "=";
    for (const char *p = header; p && *p;) {
        p += strspn(p, " \t");
        if (strncmp(p, name, sizeof(name) - 1) == 0) {
            const char *v = p + sizeof(name) - 1;
            *len = strcspn(v, ";");
            return v;
        }
        p = strchr(p, ';');
        if (p)
            p++;
    }
    return NULL;
}

static bool sid_shape(const char *v, size_t len)
{
    if (len != SID_HEX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (hex_value((unsigned char)v[i]) < 0)
            return false;
    return true;
}

void auth_sid_hash(const char *sid, size_t len, unsigned char out[AUTH_HASH_LEN])
{
    SHA256((const unsigned char *)sid, len, out);
}

/* A cookie only proves the browser holds it, not that the page sent the request: a form on another site
 * can make the browser send it too. Such a form cannot add a header, so every request that changes
 * something must carry SESSION_CSRF_HEADER. */
static bool safe_method(const struct req *r)
{
    return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static int by_session(struct req *r, struct resp *w, const char *sid, size_t len)
{
    if (!sid_shape(sid, len)) {
        unauthorized(w, "the session cookie is not one hop gave; sign in again");
        return -1;
    }
    unsigned char hash[AUTH_HASH_LEN];
    auth_sid_hash(sid, len, hash);
    struct key_grant grant;
    const char *expires_at = NULL;
    int rc = db_session_find(r->arena, hash, &grant, &expires_at);
    if (rc == DB_NOT_FOUND) {
        unauthorized(w, "this session has ended or was revoked; sign in again");
        return -1;
    }
    if (rc != DB_OK) {
        handler_unavailable(w);
        return -1;
    }
    const char *csrf = req_env(r, "HTTP_X_HOP_CSRF");
    if (!safe_method(r) && (!csrf || strcmp(csrf, "1") != 0)) {
        resp_header(w, "Cache-Control", "no-store");
        resp_problem(w, 403,
                     "a request that changes something with the session cookie needs the header "
                     "X-Hop-CSRF: 1");
        return -1;
    }
    remember(r, &grant, BY_SESSION, hash, expires_at);
    return 0;
}

int auth_request(struct req *r, struct resp *w)
{
    const char *header = req_env(r, "HTTP_AUTHORIZATION");
    if (header)
        return by_key(r, w, header);
    const char *cookies = req_env(r, "HTTP_COOKIE");
    size_t len = 0;
    const char *sid = cookies ? session_cookie(cookies, &len) : NULL;
    if (sid)
        return by_session(r, w, sid, len);
    unauthorized(w, "this API needs an Authorization: Bearer <key> header or a session cookie");
    return -1;
}
