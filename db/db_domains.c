/* Short domains; see db_domains.h. */
#include "db_domains.h"

#include "arena.h"
#include "db.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *opt_str(struct arena *a, PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : arena_strdup(a, PQgetvalue(res, row, col));
}

int db_domains_list(struct arena *a, struct domain **out, size_t *n)
{
    int rc;
    PGresult *res = db_run(STMT_DOMAINS_LIST, NULL, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(a, (*n ? *n : 1) * sizeof(**out));
    for (int i = 0; i < (int)*n; i++) {
        (*out)[i] = (struct domain){
            .id = atoll(PQgetvalue(res, i, 0)),
            .name = arena_strdup(a, PQgetvalue(res, i, 1)),
            .is_default = PQgetvalue(res, i, 2)[0] == 't',
            .root_redirect = opt_str(a, res, i, 3),
            .not_found_redirect = opt_str(a, res, i, 4),
            .links = atoll(PQgetvalue(res, i, 5)),
        };
    }
    PQclear(res);
    return DB_OK;
}

int db_domain_add(const char *name, const char *root_redirect, const char *not_found_redirect,
                  bool *is_default, long long *adopted)
{
    const char *params[] = {name, root_redirect, not_found_redirect};
    int rc;
    PGresult *res = db_run(STMT_DOMAIN_ADD, params, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : DB_CONFLICT;
    if (rc == DB_OK) {
        *is_default = PQgetvalue(res, 0, 0)[0] == 't';
        *adopted = atoll(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

int db_domain_remove(struct arena *a, const char *name, bool with_links, long long *deleted,
                     const char **new_default)
{
    const char *params[] = {name, with_links ? "true" : "false"};
    int rc;
    *new_default = NULL;
    PGresult *res = db_run(STMT_DOMAIN_REMOVE, params, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
    bool was_default = rc == DB_OK && PQgetvalue(res, 0, 1)[0] == 't';
    if (rc == DB_OK)
        *deleted = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!was_default)
        return rc;
    res = db_run(STMT_DOMAIN_NEW_DEFAULT, NULL, &rc);
    if (!res)
        return rc;
    if (PQntuples(res) == 1)
        *new_default = arena_strdup(a, PQgetvalue(res, 0, 0));
    PQclear(res);
    return DB_OK;
}

int db_domains_listen(void)
{
    return db_exec(STMT_LISTEN_DOMAINS, NULL);
}
