/* The /api/session resource: the web page trades an API key for a session cookie once (so the key never
 * stays in the browser), asks whether it is signed in, and signs out. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "db.h"
#include "db_sessions.h"
#include "handler.h"
#include "hex.h"
#include "req.h"
#include "resp.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>

/* A week: long enough that a person is not asked for the key every day, short enough that a forgotten
 * browser does not stay signed in for good. */
enum { SESSION_TTL = 7 * 24 * 3600, SID_BYTES = 32 };

/* Secure and HttpOnly: never sent over plain HTTP, never readable by a script. SameSite=Strict: not sent on
 * requests other sites start. Path=/api: redirects never carry it. */
#define COOKIE_ATTRS "; Path=/api; HttpOnly; Secure; SameSite=Strict"
/* A second cookie that holds no secret, readable by the web page only (its path): it tells the page that a
 * session may exist, so a person who is not signed in gets the form without a request that fails. */
#define HINT_COOKIE "hop_signed_in"
#define HINT_ATTRS  "; Path=/_hop/app/; Secure; SameSite=Strict"

static struct json_object *session_json(struct req *r, const char *via, const char *expires_at)
{
    struct json_object *o = handler_own(r, json_object_new_object());
    json_object_object_add(o, "via", json_object_new_string(via));
    json_object_object_add(o, "expires_at", expires_at ? json_object_new_string(expires_at) : NULL);
    return o;
}

void session_create(struct req *r, struct resp *w)
{
    unsigned char key_hash[AUTH_HASH_LEN];
    if (!auth_key(r, key_hash)) {
        resp_header(w, "Cache-Control", "no-store");
        resp_problem(w, 400, "a session is made from an API key: send it as Authorization: Bearer <key>");
        return;
    }
    unsigned char raw[SID_BYTES], sid_hash[AUTH_HASH_LEN];
    char sid[2 * SID_BYTES + 1];
    randombytes_buf(raw, sizeof(raw));
    hex_encode(raw, sizeof(raw), sid);
    sodium_memzero(raw, sizeof(raw));
    auth_sid_hash(sid, 2 * SID_BYTES, sid_hash);
    long long owner;
    const char *expires_at = NULL;
    int rc = db_session_create(r->arena, key_hash, sid_hash, SESSION_TTL, &owner, &expires_at);
    if (rc == DB_NOT_FOUND) {
        /* the key was revoked between authentication and now */
        resp_header(w, "WWW-Authenticate", "Bearer");
        resp_header(w, "Cache-Control", "no-store");
        resp_problem(w, 401, "this API key is unknown or revoked");
        return;
    }
    if (handler_db_failed(w, rc) < 0)
        return;
    resp_header(w, "Set-Cookie",
                arena_printf(r->arena, SESSION_COOKIE "=%s; Max-Age=%d" COOKIE_ATTRS, sid, SESSION_TTL));
    sodium_memzero(sid, sizeof(sid));
    resp_header(w, "Set-Cookie",
                arena_printf(r->arena, HINT_COOKIE "=1; Max-Age=%d" HINT_ATTRS, SESSION_TTL));
    handler_json(w, 201, session_json(r, "session", expires_at));
}

void session_get(struct req *r, struct resp *w)
{
    unsigned char sid_hash[AUTH_HASH_LEN];
    const char *expires_at = NULL;
    bool by_session = auth_session(r, sid_hash, &expires_at);
    handler_json(w, 200, session_json(r, by_session ? "session" : "key", by_session ? expires_at : NULL));
}

void session_delete(struct req *r, struct resp *w)
{
    unsigned char sid_hash[AUTH_HASH_LEN];
    const char *expires_at;
    if (auth_session(r, sid_hash, &expires_at) && handler_db_failed(w, db_session_delete(sid_hash)) < 0)
        return;
    /* whichever way the request came, the browser forgets its cookie */
    resp_header(w, "Set-Cookie", SESSION_COOKIE "=; Max-Age=0" COOKIE_ATTRS);
    resp_header(w, "Set-Cookie", HINT_COOKIE "=; Max-Age=0" HINT_ATTRS);
    resp_header(w, "Cache-Control", "no-store");
    resp_body(w, 204, NULL, NULL, 0);
}
