/* Owners and API keys; see db_keys.h. */
#include "db_keys.h"

#include "db.h"
#include "db_internal.h"
#include "hex.h"
#include "xalloc.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bytea in PostgreSQL's text form: \x and hex */
static void hash_text(const unsigned char hash[KEY_HASH_LEN], char out[2 * KEY_HASH_LEN + 3])
{
    out[0] = '\\';
    out[1] = 'x';
    hex_encode(hash, KEY_HASH_LEN, out + 2);
}

int db_key_find(const unsigned char hash[KEY_HASH_LEN], struct key_grant *grant)
{
    char h[2 * KEY_HASH_LEN + 3];
    hash_text(hash, h);
    const char *params[] = {h};
    int rc;
    PGresult *res = db_run(STMT_KEY_AUTH, params, &rc);
    if (!res)
        return rc;
    rc = DB_NOT_FOUND;
    /* the index found the row; the comparison that decides is the constant-time one */
    if (PQntuples(res) == 1 && strlen(PQgetvalue(res, 0, 1)) == strlen(h) &&
        CRYPTO_memcmp(PQgetvalue(res, 0, 1), h, strlen(h)) == 0) {
        grant->owner_id = atoll(PQgetvalue(res, 0, 0));
        grant->key_id = atoll(PQgetvalue(res, 0, 2));
        /* the column's CHECK allows only the three names; anything else would be a bug: the least power */
        if (key_scope_parse(PQgetvalue(res, 0, 3), &grant->scope) < 0)
            grant->scope = KEY_SCOPE_READ;
        rc = DB_OK;
    }
    PQclear(res);
    return rc;
}

int db_key_add(const char *owner, const unsigned char hash[KEY_HASH_LEN], enum key_scope scope,
               long long *key_id)
{
    const char *p1[] = {owner};
    int rc;
    PGresult *res = db_run(STMT_OWNER_UPSERT, p1, &rc);
    if (!res)
        return rc;
    char id[24];
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    char h[2 * KEY_HASH_LEN + 3];
    hash_text(hash, h);
    const char *p2[] = {id, h, key_scope_name(scope)};
    res = db_run(STMT_KEY_INSERT, p2, &rc);
    if (!res)
        return rc;
    *key_id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return DB_OK;
}

static const char *maybe(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int db_keys_list(void (*fn)(const struct key_row *row))
{
    int rc;
    PGresult *res = db_run(STMT_KEYS_LIST, NULL, &rc);
    if (!res)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        struct key_row row = {.owner = PQgetvalue(res, i, 0),
                              .id = atoll(PQgetvalue(res, i, 1)),
                              .scope = PQgetvalue(res, i, 2),
                              .created = PQgetvalue(res, i, 3),
                              .last_used = maybe(res, i, 4),
                              .revoked = maybe(res, i, 5)};
        fn(&row);
    }
    PQclear(res);
    return DB_OK;
}

int db_keys_revoke(const char *owner, int *count)
{
    const char *params[] = {owner};
    int rc;
    PGresult *res = db_run(STMT_KEYS_REVOKE, params, &rc);
    if (!res)
        return rc;
    *count = PQntuples(res);
    PQclear(res);
    return DB_OK;
}

int db_key_revoke_id(long long id, char *owner, size_t cap)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", id);
    const char *params[] = {text};
    int rc;
    PGresult *res = db_run(STMT_KEY_REVOKE_ID, params, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
    if (rc == DB_OK)
        snprintf(owner, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* A PostgreSQL array literal of n integers: "{1,2,3}" (malloc'd). */
static char *int_array(const long long *v, size_t n)
{
    char *out = xmalloc(n * 21 + 3);
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(out + o, "%s%lld", i ? "," : "", v[i]);
    out[o++] = '}';
    out[o] = '\0';
    return out;
}

int db_keys_touch(const long long *ids, const long long *epochs, size_t n)
{
    if (n == 0)
        return DB_OK;
    char *a = int_array(ids, n), *b = int_array(epochs, n);
    const char *params[] = {a, b};
    int rc;
    PQclear(db_run(STMT_KEYS_TOUCH, params, &rc));
    free(a);
    free(b);
    return rc;
}
