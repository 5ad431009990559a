/* Applies embedded migrations; see migrate.h. Runs on its own connection, before any worker starts. */
#include "migrate.h"

#include "clock.h"
#include "db.h"
#include "db_internal.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

enum {
    /* one attempt's wait for each lock: what the other sessions' statements wait behind it */
    LOCK_TRY_MS = 2000,
    /* between attempts: the statements queued behind the last one go meanwhile */
    LOCK_PAUSE_MS = 1000
};

/* One attempt at m in its own transaction, its lock waits bounded by wait_ms (0: none): DB_OK, DB_LOCKED
 * (rolled back: a lock wait ran out), or DB_ERROR (logged). The file's text is many statements, which only
 * the simple protocol runs; it comes from the binary, never from a request. */
static int apply_once(PGconn *c, const struct db_migration *m, long long wait_ms)
{
    char version[16], wait[24];
    snprintf(version, sizeof(version), "%d", m->version);
    snprintf(wait, sizeof(wait), "%lld", wait_ms);
    const char *params[] = {version, m->name}, *wait_param[] = {wait};
    if (step(c, STMT_BEGIN, NULL) < 0 || (wait_ms > 0 && step(c, STMT_MIG_LOCK_WAIT, wait_param) < 0)) {
        step(c, STMT_ROLLBACK, NULL);
        return DB_ERROR;
    }
    PGresult *res = PQexec(c, m->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool locked = state && strcmp(state, "55P03") == 0;
        if (!locked) {
            char msg[512];
            const char *e = PQresultErrorMessage(res);
            log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
            log_error("migration failed", "name=%s error=%s", m->name, msg);
        }
        PQclear(res);
        step(c, STMT_ROLLBACK, NULL);
        return locked ? DB_LOCKED : DB_ERROR;
    }
    PQclear(res);
    if (step(c, STMT_MIG_RECORD, params) < 0 || step(c, STMT_COMMIT, NULL) < 0) {
        step(c, STMT_ROLLBACK, NULL);
        return DB_ERROR;
    }
    log_info("migration applied", "name=%s", m->name);
    return DB_OK;
}

/* m, tried again while another session's lock keeps it waiting, for up to lock_ms (0: one attempt that
 * waits as long as the locks take): 0 or -1 (logged). */
static int apply(PGconn *c, const struct db_migration *m, long long lock_ms)
{
    long long start = clock_ms();
    for (int attempt = 1;; attempt++) {
        long long left = lock_ms - (clock_ms() - start);
        int rc = apply_once(c, m, lock_ms <= 0 ? 0 : left < LOCK_TRY_MS ? left : LOCK_TRY_MS);
        if (rc != DB_LOCKED)
            return rc == DB_OK ? 0 : -1;
        long long waited = clock_ms() - start;
        if (waited + LOCK_PAUSE_MS >= lock_ms) {
            log_error(
                "migration could not have its locks",
                "name=%s attempts=%d waited_ms=%lld hint=\"another session holds a table it changes (a long "
                "transaction, pg_dump, an index being built: see pg_stat_activity); HOP_MIGRATE_LOCK_MS "
                "allows a longer wait\"",
                m->name, attempt, waited);
            return -1;
        }
        log_warn("migration waited too long for a lock", "name=%s attempt=%d waited_ms=%lld next_ms=%d",
                 m->name, attempt, waited, LOCK_PAUSE_MS);
        usleep(LOCK_PAUSE_MS * 1000);
    }
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int db_migrate(long long lock_ms)
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
        if (apply(c, &db_migrations[i], lock_ms) < 0)
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
