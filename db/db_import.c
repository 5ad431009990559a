/* Bulk import and export of links; see db_import.h. An import runs on a connection of its own, so that its
 * staging table and long transactions never touch the connection the rest of the process uses. */
#include "db_import.h"

#include "db.h"
#include "db_internal.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IMPORT_ATTEMPTS = 3 };

/* One connection of an import and the batch it merges. */
struct slot {
    PGconn *conn;
    bool busy;
    char *copy; /* the batch's COPY text, kept until it is done: a deadlock's victim is sent again */
    size_t len, cap;
    long long lines;    /* the caller's count of the batch's lines */
    long long reported; /* lines of the batch the sink heard of */
    int attempts;
};

struct db_import {
    struct slot *slots;
    int nslots;
    char owner[24]; /* the owner's id as the merge's first parameter */
    const char *mode;
    bool dry_run;
    struct db_import_sink sink;
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

/* A statement whose rows do not matter, on c. */
static int run_on_params(PGconn *c, enum stmt_id id, const char *const *params)
{
    int rc;
    PQclear(db_run_on(c, id, params, &rc));
    return rc;
}

static int run_on(PGconn *c, enum stmt_id id)
{
    return run_on_params(c, id, NULL);
}

/* A connection ready for batches: its session settings, the staging table and the statements prepared. */
static PGconn *session_open(bool quiet)
{
    static const enum stmt_id boot[] = {STMT_BEGIN,        STMT_COMMIT,         STMT_ROLLBACK,
                                        STMT_OWNER_UPSERT, STMT_IMPORT_SESSION, STMT_IMPORT_STAGING};
    static const enum stmt_id after[] = {STMT_IMPORT_COPY, STMT_IMPORT_MERGE, STMT_IMPORT_KEEP};
    PGconn *c = db_open_conn(quiet);
    if (c && (prepare(c, boot, sizeof(boot) / sizeof(boot[0])) < 0 ||
              run_on(c, STMT_IMPORT_SESSION) != DB_OK || run_on(c, STMT_IMPORT_STAGING) != DB_OK ||
              prepare(c, after, sizeof(after) / sizeof(after[0])) < 0)) {
        PQfinish(c);
        c = NULL;
    }
    return c;
}

struct db_import *db_import_open(const char *owner_name, int jobs, const char *mode, bool dry_run,
                                 const struct db_import_sink *sink)
{
    PGconn *first = session_open(false);
    long long owner = first ? owner_upsert(first, owner_name) : 0;
    if (!owner) {
        PQfinish(first);
        return NULL;
    }
    struct db_import *im = xcalloc(1, sizeof(*im));
    *im = (struct db_import){.slots = xcalloc((size_t)jobs, sizeof(struct slot)),
                             .nslots = 1,
                             .mode = mode,
                             .dry_run = dry_run,
                             .sink = *sink};
    snprintf(im->owner, sizeof(im->owner), "%lld", owner);
    im->slots[0].conn = first;
    /* a connection that cannot be had (max_connections reached) only makes the import slower */
    while (im->nslots < jobs && (im->slots[im->nslots].conn = session_open(true)))
        im->nslots++;
    if (im->nslots < jobs)
        log_warn("import: fewer connections than asked for", "asked=%d open=%d", jobs, im->nslots);
    return im;
}

void db_import_close(struct db_import *im)
{
    if (!im)
        return;
    for (int i = 0; i < im->nslots; i++) {
        PQfinish(im->slots[i].conn);
        free(im->slots[i].copy);
    }
    free(im->slots);
    free(im);
}

/* A failure on c that has no result of its own to tell what it was: the connection says. */
static int conn_rc(PGconn *c)
{
    return PQstatus(c) == CONNECTION_OK ? DB_ERROR : DB_UNAVAILABLE;
}

/* COPY's data phase: the rows travel as data, never as SQL. */
static int copy_rows(PGconn *c, const char *copy, size_t len)
{
    const struct stmt *s = &stmt_table[STMT_IMPORT_COPY];
    PGresult *res = PQexecPrepared(c, s->name, 0, NULL, NULL, NULL, 0);
    bool started = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (!started || PQputCopyData(c, copy, (int)len) != 1 || PQputCopyEnd(c, NULL) != 1) {
        log_error("import: COPY failed", "error=\"%s\"", PQerrorMessage(c));
        while ((res = PQgetResult(c)))
            PQclear(res);
        return conn_rc(c);
    }
    int rc = DB_OK;
    while ((res = PQgetResult(c))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            log_error("import: COPY refused", "error=\"%s\"", PQresultErrorMessage(res));
            rc = conn_rc(c);
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

/* Tells the sink of a merge's lines, in order. With raced set, the lines that lost a race are held back
 * instead, as a bigint[] literal in *raced (NULL when there were none), for the merge to be run again; how
 * many were held back. */
static int report(struct db_import *im, struct slot *sl, const PGresult *res, char **raced)
{
    size_t len = 0, cap = 0;
    int held = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        long long line = atoll(PQgetvalue(res, i, 0));
        enum db_import_state st = state_of(PQgetvalue(res, i, 1), PQgetvalue(res, i, 3)[0] == 't');
        if (st == DB_IMPORT_RACED && raced) {
            if (len + 24 >= cap)
                *raced = xrealloc(*raced, cap = cap ? 2 * cap : 4096);
            len += (size_t)snprintf(*raced + len, cap - len, "%c%lld", len ? ',' : '{', line);
            held++;
            continue;
        }
        sl->reported++;
        im->sink.line(im->sink.ctx, line, st, PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2));
    }
    if (len)
        snprintf(*raced + len, cap - len, "}");
    return held;
}

/* Starts the slot's batch: BEGIN, COPY and the merge sent without waiting for its answer. */
static int batch_start(struct db_import *im, struct slot *sl)
{
    sl->attempts++;
    sl->reported = 0;
    int rc = run_on(sl->conn, STMT_BEGIN);
    if (rc == DB_OK)
        rc = copy_rows(sl->conn, sl->copy, sl->len);
    if (rc != DB_OK)
        return rc;
    const char *params[] = {im->owner, im->mode};
    const struct stmt *s = &stmt_table[STMT_IMPORT_MERGE];
    if (!PQsendQueryPrepared(sl->conn, s->name, s->nparams, params, NULL, NULL, 0)) {
        log_error("import: cannot send the merge", "error=\"%s\"", PQerrorMessage(sl->conn));
        return conn_rc(sl->conn);
    }
    return DB_OK;
}

/* The merge's answer, once it has come: the lines that lost a race merged again in the same transaction
 * (a new statement sees the batch they lost to, committed), then COMMIT (ROLLBACK in a dry run). */
static int batch_end(struct db_import *im, struct slot *sl, PGresult *res)
{
    char *raced = NULL;
    int rc = DB_OK;
    int held = report(im, sl, res, &raced);
    if (raced) {
        log_info("import: lines merged again: another batch took their slugs first", "lines=%d", held);
        const char *keep[] = {raced};
        rc = run_on_params(sl->conn, STMT_IMPORT_KEEP, keep);
        const char *params[] = {im->owner, im->mode};
        PGresult *again = rc == DB_OK ? db_run_on(sl->conn, STMT_IMPORT_MERGE, params, &rc) : NULL;
        if (again)
            report(im, sl, again, NULL);
        PQclear(again);
        free(raced);
    }
    if (rc == DB_OK && !im->dry_run)
        return run_on(sl->conn, STMT_COMMIT);
    int end = run_on(sl->conn, STMT_ROLLBACK);
    return rc != DB_OK ? rc : end;
}

/* Collects the answer of a slot whose merge has finished (PQisBusy false) and ends its batch; a batch that
 * PostgreSQL chose as a deadlock's victim (two batches of the file holding each other's slugs) is started
 * again, a bounded number of times. 1: the slot merges again; otherwise the batch is done, and its db_rc. */
static int slot_collect(struct db_import *im, struct slot *sl)
{
    PGresult *res = PQgetResult(sl->conn), *extra;
    while ((extra = PQgetResult(sl->conn)))
        PQclear(extra);
    int rc = DB_OK;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        rc = batch_end(im, sl, res);
    } else {
        /* a deadlock's victim is not a failure yet: logged and counted as one only when it is the last try */
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        bool again = state && strcmp(state, "40P01") == 0 && sl->attempts < IMPORT_ATTEMPTS;
        if (!again)
            rc = res ? db_failure(sl->conn, STMT_IMPORT_MERGE, res) : conn_rc(sl->conn);
        if (PQstatus(sl->conn) == CONNECTION_OK)
            run_on(sl->conn, STMT_ROLLBACK);
        if (again) {
            log_warn("import: batch started again", "sqlstate=%s attempt=%d", state, sl->attempts + 1);
            rc = batch_start(im, sl);
            if (rc == DB_OK) {
                PQclear(res);
                return 1;
            }
        }
    }
    PQclear(res);
    sl->busy = false;
    sl->attempts = 0;
    im->sink.batch(im->sink.ctx, sl->lines, rc == DB_OK ? sl->reported : 0, rc);
    return rc;
}

/* Waits until one of the busy slots has ended its batch: DB_OK or that batch's failure. Whichever merge
 * ends first is committed first: waiting for an older one could wait for ever, as a finished merge holds
 * its owner's read_lsn row until its COMMIT, which the older merge's trigger needs too. */
static int wait_one(struct db_import *im)
{
    struct pollfd fds[DB_IMPORT_JOBS_MAX];
    struct slot *of[DB_IMPORT_JOBS_MAX];
    for (;;) {
        int n = 0;
        for (int i = 0; i < im->nslots; i++) {
            struct slot *sl = &im->slots[i];
            if (!sl->busy)
                continue;
            if (!PQisBusy(sl->conn) || PQstatus(sl->conn) != CONNECTION_OK) {
                int rc = slot_collect(im, sl);
                if (rc != 1)
                    return rc;
            }
            of[n] = sl;
            fds[n++] = (struct pollfd){.fd = PQsocket(sl->conn), .events = POLLIN};
        }
        if (n == 0)
            return DB_OK;
        if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR)
            return DB_ERROR;
        for (int k = 0; k < n; k++)
            if (fds[k].revents && !PQconsumeInput(of[k]->conn))
                log_warn("import: connection broke", "error=\"%s\"", PQerrorMessage(of[k]->conn));
    }
}

int db_import_send(struct db_import *im, char **copy, size_t *cap, size_t len, long long lines)
{
    int rc = DB_OK;
    struct slot *sl = NULL;
    while (!sl) {
        for (int i = 0; i < im->nslots && !sl; i++)
            if (!im->slots[i].busy)
                sl = &im->slots[i];
        if (!sl && (rc = wait_one(im)) != DB_OK)
            return rc;
    }
    /* the batch's buffer goes to the slot, the slot's old one back to the caller */
    char *mine = sl->copy;
    size_t mine_cap = sl->cap;
    sl->copy = *copy;
    sl->cap = *cap;
    sl->len = len;
    sl->lines = lines;
    *copy = mine;
    *cap = mine_cap;
    sl->busy = true;
    sl->attempts = 0;
    rc = batch_start(im, sl);
    if (rc == DB_OK)
        return DB_OK;
    if (PQstatus(sl->conn) == CONNECTION_OK) {
        /* a failed COPY or send: whatever answer is left, then the transaction, goes */
        PGresult *res;
        while ((res = PQgetResult(sl->conn)))
            PQclear(res);
        run_on(sl->conn, STMT_ROLLBACK);
    }
    sl->busy = false;
    im->sink.batch(im->sink.ctx, lines, 0, rc);
    return rc;
}

int db_import_finish(struct db_import *im)
{
    int first = DB_OK;
    for (;;) {
        bool busy = false;
        for (int i = 0; i < im->nslots; i++)
            busy = busy || im->slots[i].busy;
        if (!busy)
            return first;
        int rc = wait_one(im);
        if (first == DB_OK)
            first = rc;
    }
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
