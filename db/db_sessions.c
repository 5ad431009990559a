/* The web page's sessions; see db_sessions.h. */
#include "db_sessions.h"

#include "arena.h"
#include "db.h"
#include "db_internal.h"
#include "hex.h"

#include <stdio.h>
#include <stdlib.h>

/* bytea in PostgreSQL's text form: \x and hex */
static void hash_text(const unsigned char *hash, size_t n, char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    hex_encode(hash, n, out + 2);
}

/* One row of owner_id and expires_at into the caller's values. */
static int owner_row(struct arena *a, PGresult *res, long long *owner_id, const char **expires_at)
{
    int rc = DB_NOT_FOUND;
    if (PQntuples(res) == 1) {
        *owner_id = atoll(PQgetvalue(res, 0, 0));
        *expires_at = arena_strdup(a, PQgetvalue(res, 0, 1));
        rc = DB_OK;
    }
    PQclear(res);
    return rc;
}

int db_session_create(struct arena *a, const unsigned char key_hash[KEY_HASH_LEN],
                      const unsigned char sid_hash[SESSION_HASH_LEN], int ttl, long long *owner_id,
                      const char **expires_at)
{
    char k[2 * KEY_HASH_LEN + 3], s[2 * SESSION_HASH_LEN + 3], t[16];
    hash_text(key_hash, KEY_HASH_LEN, k);
    hash_text(sid_hash, SESSION_HASH_LEN, s);
    snprintf(t, sizeof(t), "%d", ttl);
    const char *params[] = {k, s, t};
    int rc;
    PGresult *res = db_run(STMT_SESSION_CREATE, params, &rc);
    return res ? owner_row(a, res, owner_id, expires_at) : rc;
}

int db_session_find(struct arena *a, const unsigned char sid_hash[SESSION_HASH_LEN], struct key_grant *grant,
                    const char **expires_at)
{
    char s[2 * SESSION_HASH_LEN + 3];
    hash_text(sid_hash, SESSION_HASH_LEN, s);
    const char *params[] = {s};
    int rc;
    PGresult *res = db_run(STMT_SESSION_AUTH, params, &rc);
    if (!res)
        return rc;
    rc = DB_NOT_FOUND;
    if (PQntuples(res) == 1) {
        grant->owner_id = atoll(PQgetvalue(res, 0, 0));
        *expires_at = arena_strdup(a, PQgetvalue(res, 0, 1));
        grant->key_id = atoll(PQgetvalue(res, 0, 2));
        /* the column's CHECK allows only the three names; anything else would be a bug: the least power */
        if (key_scope_parse(PQgetvalue(res, 0, 3), &grant->scope) < 0)
            grant->scope = KEY_SCOPE_READ;
        rc = DB_OK;
    }
    PQclear(res);
    return rc;
}

int db_session_delete(const unsigned char sid_hash[SESSION_HASH_LEN])
{
    char s[2 * SESSION_HASH_LEN + 3];
    hash_text(sid_hash, SESSION_HASH_LEN, s);
    const char *params[] = {s};
    return db_exec(STMT_SESSION_DELETE, params);
}
