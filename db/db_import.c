/* Bulk import and export of links; see db_import.h. An import runs on a connection of its own, so that its
 * staging table and long transactions never touch the connection the rest of the process uses. */
#include "db_import.h"

#include "db.h"
#include "db_internal.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_import {
    PGconn *conn;
    long long owner_id;
};

const char *const db_export_names[DB_EXPORT_NCOLS] = {
    "slug",       "url",           "domain",  "redirect",        "created_at",
    "expires_at", "disabled",      "visits",  "imported_visits", "password_hash",
    "max_visits", "forward_query", "ios_url", "android_url",     "tags",
    "title",      "expired_url",
};

static long long owner_upsert(PGconn *c, const char *name)
{
    const char *params[] = {name};
    int rc;
    PGresult *res = db_run_on(c, STMT_OWNER_UPSERT, params, &rc);
    long long id = res && PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return id;
}

/* Only what an import runs is prepared on its connection: preparing a statement locks the tables it names. */
static int prepare(PGconn *c, const enum stmt_id *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct stmt *s = &stmt_table[ids[i]];
        PGresult *res = PQprepare(c, s->name, s->sql, s->nparams, NULL);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            log_error("import: cannot prepare a statement", "name=%s error=\"%s\"", s->name,
                      PQresultErrorMessage(res));
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

/* A statement without parameters whose rows do not matter, on c. */
static int run_on(PGconn *c, enum stmt_id id)
{
    int rc;
    PQclear(db_run_on(c, id, NULL, &rc));
    return rc;
}

struct db_import *db_import_open(const char *owner_name)
{
    static const enum stmt_id boot[] = {STMT_BEGIN,        STMT_COMMIT,         STMT_ROLLBACK,
                                        STMT_OWNER_UPSERT, STMT_IMPORT_SESSION, STMT_IMPORT_STAGING};
    static const enum stmt_id after[] = {STMT_IMPORT_COPY, STMT_IMPORT_MERGE};
    PGconn *c = db_open_conn(false);
    if (!c)
        return NULL;
    long long owner = 0;
    if (prepare(c, boot, sizeof(boot) / sizeof(boot[0])) < 0 || run_on(c, STMT_IMPORT_SESSION) != DB_OK ||
        run_on(c, STMT_IMPORT_STAGING) != DB_OK || prepare(c, after, sizeof(after) / sizeof(after[0])) < 0 ||
        !(owner = owner_upsert(c, owner_name))) {
        PQfinish(c);
        return NULL;
    }
    struct db_import *im = xcalloc(1, sizeof(*im));
    *im = (struct db_import){.conn = c, .owner_id = owner};
    return im;
}

void db_import_close(struct db_import *im)
{
    if (!im)
        return;
    PQfinish(im->conn);
    free(im);
}

/* COPY's data phase: the rows travel as data, never as SQL. */
static int copy_rows(struct db_import *im, const char *copy, size_t len)
{
    const struct stmt *s = &stmt_table[STMT_IMPORT_COPY];
    PGresult *res = PQexecPrepared(im->conn, s->name, 0, NULL, NULL, NULL, 0);
    bool started = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (!started || PQputCopyData(im->conn, copy, (int)len) != 1 || PQputCopyEnd(im->conn, NULL) != 1) {
        log_error("import: COPY failed", "error=\"%s\"", PQerrorMessage(im->conn));
        while ((res = PQgetResult(im->conn)))
            PQclear(res);
        return PQstatus(im->conn) == CONNECTION_OK ? DB_ERROR : DB_UNAVAILABLE;
    }
    int rc = DB_OK;
    while ((res = PQgetResult(im->conn))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            log_error("import: COPY refused", "error=\"%s\"", PQresultErrorMessage(res));
            rc = PQstatus(im->conn) == CONNECTION_OK ? DB_ERROR : DB_UNAVAILABLE;
        }
        PQclear(res);
    }
    return rc;
}

static enum db_import_state state_of(const char *s, bool written)
{
    if (strcmp(s, "duplicate") == 0)
        return DB_IMPORT_DUPLICATE;
    if (strcmp(s, "present") == 0)
        return DB_IMPORT_PRESENT;
    if (strcmp(s, "taken") == 0)
        return written ? DB_IMPORT_RENAMED : DB_IMPORT_TAKEN;
    return written ? DB_IMPORT_NEW : DB_IMPORT_RACED;
}

static int merge(struct db_import *im, const char *mode,
                 void (*fn)(void *ctx, long long line, enum db_import_state st, const char *slug), void *ctx)
{
    char owner[24];
    snprintf(owner, sizeof(owner), "%lld", im->owner_id);
    const char *params[] = {owner, mode};
    int rc;
    PGresult *res = db_run_on(im->conn, STMT_IMPORT_MERGE, params, &rc);
    if (!res)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        bool written = PQgetvalue(res, i, 3)[0] == 't';
        fn(ctx, atoll(PQgetvalue(res, i, 0)), state_of(PQgetvalue(res, i, 1), written),
           PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return DB_OK;
}

int db_import_batch(struct db_import *im, const char *copy, size_t len, const char *mode, bool dry_run,
                    void (*fn)(void *ctx, long long line, enum db_import_state st, const char *slug),
                    void *ctx)
{
    int rc = run_on(im->conn, STMT_BEGIN);
    if (rc == DB_OK)
        rc = copy_rows(im, copy, len);
    if (rc == DB_OK)
        rc = merge(im, mode, fn, ctx);
    if (rc == DB_OK && !dry_run)
        return run_on(im->conn, STMT_COMMIT);
    int end = run_on(im->conn, STMT_ROLLBACK);
    return rc != DB_OK ? rc : end;
}

int db_export_page(long long owner_id, long long *after, int limit,
                   void (*fn)(void *ctx, const char *const *cols), void *ctx, int *n)
{
    char owner[24], from[24], lim[16];
    snprintf(owner, sizeof(owner), "%lld", owner_id);
    snprintf(from, sizeof(from), "%lld", *after);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {owner, from, lim};
    int rc;
    PGresult *res = db_run(STMT_EXPORT_PAGE, params, &rc);
    if (!res)
        return rc;
    *n = PQntuples(res);
    for (int i = 0; i < *n; i++) {
        const char *cols[DB_EXPORT_NCOLS];
        for (int c = 0; c < DB_EXPORT_NCOLS; c++)
            cols[c] = PQgetisnull(res, i, c + 1) ? NULL : PQgetvalue(res, i, c + 1);
        fn(ctx, cols);
        *after = atoll(PQgetvalue(res, i, 0));
    }
    PQclear(res);
    return DB_OK;
}

int db_owner_id(const char *owner_name, long long *id)
{
    const char *params[] = {owner_name};
    int rc;
    PGresult *res = db_run(STMT_OWNER_ID, params, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
    if (rc == DB_OK)
        *id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int db_tx_begin(void)
{
    int rc;
    PQclear(db_run(STMT_TX_BEGIN, NULL, &rc));
    return rc;
}

int db_tx_end(bool commit)
{
    int rc;
    PQclear(db_run(commit ? STMT_TX_COMMIT : STMT_TX_ROLLBACK, NULL, &rc));
    return rc;
}
