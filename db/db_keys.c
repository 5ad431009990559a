/* Owners and API keys; see db_keys.h. */
#include "db_keys.h"

#include "db.h"
#include "db_internal.h"
#include "hex.h"

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

int db_key_owner(const unsigned char hash[KEY_HASH_LEN], long long *owner_id)
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
        *owner_id = atoll(PQgetvalue(res, 0, 0));
        rc = DB_OK;
    }
    PQclear(res);
    return rc;
}

int db_key_add(const char *owner, const unsigned char hash[KEY_HASH_LEN])
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
    const char *p2[] = {id, h};
    PQclear(db_run(STMT_KEY_INSERT, p2, &rc));
    return rc;
}

int db_keys_list(void (*fn)(const char *owner, long long id, const char *created, const char *revoked))
{
    int rc;
    PGresult *res = db_run(STMT_KEYS_LIST, NULL, &rc);
    if (!res)
        return rc;
    for (int i = 0; i < PQntuples(res); i++)
        fn(PQgetvalue(res, i, 0), atoll(PQgetvalue(res, i, 1)), PQgetvalue(res, i, 2),
           PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3));
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
