/* Applies embedded migrations; see migrate.h. Runs on its own connection, before any worker starts. */
#include "migrate.h"

#include "db.h"
#include "db_internal.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int step(PGconn *c, enum stmt_id id, const char *const *params)
{
    int rc;
    PGresult *res = db_run_on(c, id, params, &rc);
    PQclear(res);
    return rc == DB_OK ? 0 : -1;
}

static int applied(PGconn *c, int version)
{
    int rc;
    PGresult *res = db_run_on(c, STMT_MIG_APPLIED, NULL, &rc);
    if (!res)
        return -1;
    int found = 0;
    for (int i = 0; i < PQntuples(res); i++)
        found |= atoi(PQgetvalue(res, i, 0)) == version;
    PQclear(res);
    return found;
}

/* The file's text is many statements, which only the simple protocol runs; it comes from the binary,
 * never from a request. */
static int apply(PGconn *c, const struct db_migration *m)
{
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *params[] = {version, m->name};
    if (step(c, STMT_BEGIN, NULL) < 0)
        return -1;
    PGresult *res = PQexec(c, m->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[512];
        const char *e = PQresultErrorMessage(res);
        log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
        log_error("migration failed", "name=%s error=%s", m->name, msg);
        PQclear(res);
        step(c, STMT_ROLLBACK, NULL);
        return -1;
    }
    PQclear(res);
    if (step(c, STMT_MIG_RECORD, params) < 0 || step(c, STMT_COMMIT, NULL) < 0) {
        step(c, STMT_ROLLBACK, NULL);
        return -1;
    }
    log_info("migration applied", "name=%s", m->name);
    return 0;
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int db_migrate(void)
{
    PGconn *c = db_open_conn(false);
    if (!c)
        return -1;
    int done = -1, count = 0;
    /* quiet NOTICEs such as "relation already exists, skipping" */
    PQsetNoticeProcessor(c, quiet, NULL);
    if (db_prepare_group(c, STMT_MIGRATE_BOOT, false) < 0 || step(c, STMT_MIG_LOCK, NULL) < 0)
        goto out;
    if (step(c, STMT_MIG_TABLE, NULL) < 0 || db_prepare_group(c, STMT_MIGRATE, false) < 0)
        goto unlock;
    for (int i = 0; i < db_nmigrations; i++) {
        int a = applied(c, db_migrations[i].version);
        if (a < 0)
            goto unlock;
        if (a)
            continue;
        if (apply(c, &db_migrations[i]) < 0)
            goto unlock;
        count++;
    }
    done = count;
unlock:
    step(c, STMT_MIG_UNLOCK, NULL);
out:
    PQfinish(c);
    return done;
}
