/* The per-process connections, the primary's and, when HOP_DB_READ names one, a read replica's; see db.h. */
#include "db.h"

#include "clock.h"
#include "db_internal.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { RETRY_MS = 200, FAILURE_LOG_MS = 30 * 1000 };

/* One connection and its reconnects: the primary (HOP_DB) or the read replica (HOP_DB_READ), each with the
 * same retry interval and the same quiet outage logging. */
struct conn_state {
    const char *role; /* in log lines */
    const char *env;  /* the variable that holds its connection string */
    PGconn *conn;
    long long last_attempt_ms;
    /* an outage is logged when it starts and then every FAILURE_LOG_MS, not on every retry */
    long long failing_since_ms, failure_logged_ms;
    bool opened_here; /* this process has had a connection (a fork's inherited one does not count) */
    int sent;         /* the statement db_send sent, + 1, while its answer is awaited; 0 for none */
    int m_up,
        m_down; /* metric ids (metrics.h); -1 until db_metrics_define, and in commands that run no pool */
};

static struct conn_state primary = {.role = "primary", .env = "HOP_DB", .m_up = -1, .m_down = -1};
static struct conn_state replica = {.role = "replica", .env = "HOP_DB_READ", .m_up = -1, .m_down = -1};
static unsigned long generation;
static int m_reconnects = -1, m_errors = -1, m_unavailable = -1, m_locked = -1, m_retries = -1;
/* reads of replica-safe statements: answered by the replica, or by the primary because the replica had not
 * yet replayed the owner's last change (behind) or could not answer (unavailable) */
static int m_read_replica = -1, m_read_behind = -1, m_read_unavailable = -1;

/* HOP_DB_READ, or NULL when reads stay on the primary. */
static const char *replica_conninfo(void)
{
    const char *s = getenv(replica.env);
    return s && *s ? s : NULL;
}

static int replica_metrics_define(void)
{
    static const char conn_help[] = "Pool processes whose read replica connection (HOP_DB_READ) is up, or "
                                    "down (failed or broken; opened at the first read).";
    static const char read_help[] =
        "List, export and stats reads when HOP_DB_READ is set: answered by the replica, or by the primary "
        "because the replica had not yet replayed the owner's last change (behind) or could not answer "
        "(unavailable).";
    replica.m_up =
        metrics_define("hop_postgres_replica_connections", "state=\"up\"", METRICS_GAUGE, conn_help);
    replica.m_down =
        metrics_define("hop_postgres_replica_connections", "state=\"down\"", METRICS_GAUGE, conn_help);
    m_read_replica = metrics_define("hop_postgres_replica_reads_total", "answered_by=\"replica\"",
                                    METRICS_COUNTER, read_help);
    m_read_behind = metrics_define("hop_postgres_replica_reads_total",
                                   "answered_by=\"primary\",reason=\"behind\"", METRICS_COUNTER, read_help);
    m_read_unavailable =
        metrics_define("hop_postgres_replica_reads_total", "answered_by=\"primary\",reason=\"unavailable\"",
                       METRICS_COUNTER, read_help);
    return replica.m_up < 0 || m_read_unavailable < 0 ? -1 : 0;
}

int db_metrics_define(void)
{
    static const char conn_help[] =
        "Pool processes whose PostgreSQL connection is up, or down (failed or broken).";
    static const char err_help[] =
        "Statements that failed: kind=\"error\" is hop's or the schema's fault "
        "(500), kind=\"unavailable\" the database going away (503), kind=\"locked\" "
        "a wait for another session's lock longer than a lock_timeout (503).";
    primary.m_up = metrics_define("hop_postgres_connections", "state=\"up\"", METRICS_GAUGE, conn_help);
    primary.m_down = metrics_define("hop_postgres_connections", "state=\"down\"", METRICS_GAUGE, conn_help);
    m_reconnects =
        metrics_define("hop_postgres_reconnects_total", NULL, METRICS_COUNTER,
                       "Connections to PostgreSQL opened again after one broke or could not be opened.");
    m_errors =
        metrics_define("hop_postgres_statement_errors_total", "kind=\"error\"", METRICS_COUNTER, err_help);
    m_unavailable = metrics_define("hop_postgres_statement_errors_total", "kind=\"unavailable\"",
                                   METRICS_COUNTER, err_help);
    m_locked =
        metrics_define("hop_postgres_statement_errors_total", "kind=\"locked\"", METRICS_COUNTER, err_help);
    m_retries = metrics_define("hop_postgres_statement_retries_total", NULL, METRICS_COUNTER,
                               "Statements run again after PostgreSQL undid them as a deadlock's victim or a "
                               "serialization failure.");
    if (primary.m_up < 0 || m_unavailable < 0 || m_locked < 0 || m_retries < 0)
        return -1;
    /* an instance without a replica shows no replica series */
    return replica_conninfo() ? replica_metrics_define() : 0;
}

static void conn_state(struct conn_state *d, bool up)
{
    metrics_set(d->m_up, up);
    metrics_set(d->m_down, !up);
}

/* libpq prints notices, and errors that arrive between statements (a server shutting down), on stderr as
 * they come: they go to the log as logfmt lines instead. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    char msg[512];
    log_quote(msg, sizeof(msg), message, strcspn(message, "\n"));
    log_warn("database notice", "notice=%s", msg);
}

static PGconn *open_conn(const char *conninfo, const char *role, bool quiet)
{
    /* connect_timeout comes first so that the connection string, expanded from dbname, may override it */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {"2", "hop", conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        if (quiet) {
            PQfinish(c);
            return NULL;
        }
        char msg[512];
        log_quote(msg, sizeof(msg), PQerrorMessage(c), strcspn(PQerrorMessage(c), "\n"));
        log_warn("database connection failed", "role=%s error=%s", role, msg);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, notice_to_log, NULL);
    return c;
}

PGconn *db_open_conn(bool quiet)
{
    return open_conn(getenv(primary.env), primary.role, quiet);
}

/* A statement of a new connection's that failed, logged as an error with its name and PostgreSQL's message
 * (its first line), under the caller's function name. */
static void log_failed(const char *func, const char *what, const char *name, const PGresult *res)
{
    char msg[512];
    const char *e = PQresultErrorMessage(res);
    log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
    log_at(LOG_LEVEL_ERROR, func, what, "name=%s error=%s", name, msg);
}

/* Prepares statement i: 0, or -1 on a failure (logged unless quiet). With defer, a statement that could
 * not have a table's lock in time (55P03: STMT_LOCK_WAIT) is left for its first run instead: 1. */
static int prepare_on(PGconn *c, int i, bool quiet, bool defer)
{
    PGresult *res = PQprepare(c, stmt_table[i].name, stmt_table[i].sql, stmt_table[i].nparams, NULL);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (rc < 0 && defer && state && strcmp(state, "55P03") == 0) {
        log_warn("statement prepared on first use", "name=%s reason=\"a lock on its table\"",
                 stmt_table[i].name);
        rc = 1;
    } else if (rc < 0 && !quiet) {
        log_failed(__func__, "cannot prepare statement", stmt_table[i].name, res);
    }
    PQclear(res);
    return rc;
}

static int prepare_group(PGconn *c, enum stmt_group group, bool quiet, bool defer)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        enum stmt_group g = stmt_table[i].group == STMT_APP_REPLAN ? STMT_APP : stmt_table[i].group;
        if (g == group && prepare_on(c, i, quiet, defer) < 0)
            return -1;
    }
    return 0;
}

int db_prepare_group(PGconn *c, enum stmt_group group, bool quiet)
{
    return prepare_group(c, group, quiet, false);
}

/* Runs one of the STMT_CONNECT statements as it is: 0, or -1 (logged unless quiet). */
static int run_plain(PGconn *c, enum stmt_id id, const char *const *params, bool quiet)
{
    PGresult *res = PQexecParams(c, stmt_table[id].sql, stmt_table[id].nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ? 0 : -1;
    if (rc < 0 && !quiet)
        log_failed(__func__, "cannot set up the session", stmt_table[id].name, res);
    PQclear(res);
    return rc;
}

/* The session's settings (STMT_SESSION_SETUP), once per connection: 0 or -1. */
static int session_setup(PGconn *c, bool quiet)
{
    PGresult *res = PQexecPrepared(c, stmt_table[STMT_SESSION_SETUP].name, 0, NULL, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
    if (rc < 0 && !quiet)
        log_failed(__func__, "cannot set up the session", stmt_table[STMT_SESSION_SETUP].name, res);
    PQclear(res);
    return rc;
}

/* The replica runs only the replica-safe statements and the stamp lookups, in a session set up as the
 * primary's. */
static int prepare_reads(PGconn *c, bool quiet)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        bool wanted = stmt_table[i].read != STMT_PRIMARY || i == STMT_READ_LSN_OWNER ||
                      i == STMT_READ_LSN_LINK || i == STMT_SESSION_SETUP;
        if (wanted && prepare_on(c, i, quiet, false) < 0)
            return -1;
    }
    return session_setup(c, quiet);
}

static void conn_close(struct conn_state *d)
{
    d->sent = 0;
    if (d->conn) {
        PQfinish(d->conn);
        conn_state(d, false);
    }
    d->conn = NULL;
}

/* Opens d's connection if there is none or it broke: at most one attempt per RETRY_MS. */
static int conn_open(struct conn_state *d, const char *conninfo, int (*prep)(PGconn *, bool))
{
    if (d->conn && PQstatus(d->conn) == CONNECTION_OK)
        return DB_OK;
    conn_close(d);
    long long now = clock_ms();
    if (d->last_attempt_ms && now - d->last_attempt_ms < RETRY_MS)
        return DB_UNAVAILABLE;
    d->last_attempt_ms = now;
    bool quiet = d->failing_since_ms && now - d->failure_logged_ms < FAILURE_LOG_MS;
    if (!quiet)
        d->failure_logged_ms = now;
    PGconn *c = open_conn(conninfo, d->role, quiet);
    if (c && prep(c, quiet) < 0) {
        PQfinish(c);
        c = NULL;
    }
    if (!c) {
        if (!d->failing_since_ms)
            d->failing_since_ms = now;
        conn_state(d, false);
        return DB_UNAVAILABLE;
    }
    PQsetnonblocking(c, 0);
    d->conn = c;
    d->last_attempt_ms = 0;
    if (d == &primary && (d->opened_here || d->failing_since_ms))
        metrics_add(m_reconnects, 1);
    d->opened_here = true;
    conn_state(d, true);
    if (d->failing_since_ms)
        log_info("database reachable again", "role=%s down_ms=%lld", d->role, now - d->failing_since_ms);
    d->failing_since_ms = 0;
    return DB_OK;
}

/* Every lock wait of this process's statements on the primary: at most this many ms (db_bound_lock_waits),
 * or 0 for the database's own lock_timeout. */
static long long lock_bound_ms;

/* After the prepares, whose lock waits are 100 ms: the process's bound, or the database's setting back. */
static int lock_waits_set(PGconn *c, bool quiet)
{
    if (lock_bound_ms <= 0)
        return run_plain(c, STMT_LOCK_WAIT_DONE, NULL, quiet);
    char ms[24];
    snprintf(ms, sizeof(ms), "%lld", lock_bound_ms);
    const char *wait[] = {ms};
    return run_plain(c, STMT_LOCK_WAIT_BOUND, wait, quiet);
}

/* The application's statements on a new connection, each waiting at most 100 ms for a table's lock: one
 * that waits longer is prepared when first run (db_run_on). */
static int prepare_app(PGconn *c, bool quiet)
{
    static const char *const wait[] = {"100ms"};
    if (run_plain(c, STMT_LOCK_WAIT, wait, quiet) < 0)
        return -1;
    int rc = prepare_group(c, STMT_APP, quiet, true);
    if (lock_waits_set(c, quiet) < 0 || rc < 0)
        return -1;
    return session_setup(c, quiet);
}

void db_bound_lock_waits(long long ms)
{
    lock_bound_ms = ms;
    /* an open connection is closed: the next statement opens one set up with the bound */
    if (primary.conn && !primary.sent)
        conn_close(&primary);
}

int db_connect(void)
{
    if (primary.conn && PQstatus(primary.conn) == CONNECTION_OK)
        return DB_OK;
    int rc = conn_open(&primary, getenv(primary.env), prepare_app);
    if (rc == DB_OK) {
        generation++;
        log_debug("database connected", "generation=%lu", generation);
    }
    return rc;
}

void db_disconnect(void)
{
    conn_close(&primary);
    conn_close(&replica);
}

int db_socket(void)
{
    return primary.conn ? PQsocket(primary.conn) : -1;
}

unsigned long db_generation(void)
{
    return generation;
}

static void conn_forget(struct conn_state *d)
{
    /* the parent's history of connections is not this process's */
    d->opened_here = false;
    d->failing_since_ms = 0;
    d->sent = 0;
    if (!d->conn)
        return;
    /* closing the descriptor first makes PQfinish's goodbye fail here instead of reaching the server */
    close(PQsocket(d->conn));
    PQfinish(d->conn);
    d->conn = NULL;
}

void db_forget(void)
{
    conn_forget(&primary);
    conn_forget(&replica);
    lock_bound_ms = 0; /* the parent's, for its own role */
}

void db_consume(void (*fn)(const char *channel, const char *payload), bool read_socket)
{
    if (!primary.conn)
        return;
    if ((read_socket && !PQconsumeInput(primary.conn)) || PQstatus(primary.conn) != CONNECTION_OK) {
        log_warn("database connection lost", "%s", "");
        conn_close(&primary);
        return;
    }
    PGnotify *n;
    while ((n = PQnotifies(primary.conn)) != NULL) {
        fn(n->relname, n->extra);
        PQfreemem(n);
    }
}

static PGresult *exec_stmt(PGconn *c, const struct stmt *s, const char *const *params)
{
    /* an unnamed statement is planned with its parameters' values every time; the named one that
     * db_prepare_group made for it still proved the SQL at connect time */
    return s->group == STMT_APP_REPLAN ? PQexecParams(c, s->sql, s->nparams, NULL, params, NULL, NULL, 0)
                                       : PQexecPrepared(c, s->name, s->nparams, params, NULL, NULL, 0);
}

static bool result_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* Whether a failed statement may simply run again: PostgreSQL chose it as a deadlock's victim (40P01; a
 * link's delete and the master's batch write lock the same summary rows from opposite ends) or a
 * serialization failure (40001), and it ran on its own, so its whole transaction is undone. Inside a
 * transaction block (an import's batch) the caller's transaction is lost and only the caller can redo it. */
static bool retryable(PGconn *c, const char *state)
{
    return state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0) &&
           PQtransactionStatus(c) == PQTRANS_IDLE;
}

enum { RUN_ATTEMPTS = 3, RETRY_PAUSE_MS = 10 };

/* A statement undone as a whole, about to run again as its attempt-th: logged and counted, after a pause
 * (10 ms, then 20). Run again at once, it could lock the row it held before the transaction that waited for
 * that row woke up, and the two deadlock again: test_visits' deadlock case saw a delete lose three times in
 * a row and answer 500. */
static void note_retry(const struct stmt *s, const char *state, int attempt)
{
    log_warn("statement retried", "name=%s sqlstate=%s attempt=%d", s->name, state, attempt);
    metrics_add(m_retries, 1);
    long ms = (long)RETRY_PAUSE_MS * (attempt - 1);
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};
    while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
        ;
}

/* Whether statement id failed for not being prepared on this connection (26000: its prepare was deferred
 * behind a lock) and is prepared now, outside any transaction block: then it may be run again. When the
 * prepare itself fails (the lock is still there), *res becomes its answer, which is what to report. */
static bool prepared_now(PGconn *c, enum stmt_id id, PGresult **res)
{
    const char *state = PQresultErrorField(*res, PG_DIAG_SQLSTATE);
    if (!state || strcmp(state, "26000") != 0 || stmt_table[id].group != STMT_APP ||
        PQtransactionStatus(c) != PQTRANS_IDLE)
        return false;
    const struct stmt *s = &stmt_table[id];
    PGresult *p = PQprepare(c, s->name, s->sql, s->nparams, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) {
        PQclear(*res);
        *res = p;
        return false;
    }
    PQclear(p);
    log_info("statement prepared", "name=%s", s->name);
    return true;
}

PGresult *db_run_on(PGconn *c, enum stmt_id id, const char *const *params, int *rc)
{
    const struct stmt *s = &stmt_table[id];
    PGresult *res = exec_stmt(c, s, params);
    if (!result_ok(res) && prepared_now(c, id, &res)) {
        PQclear(res);
        res = exec_stmt(c, s, params);
    }
    for (int attempt = 1;
         !result_ok(res) && attempt < RUN_ATTEMPTS && retryable(c, PQresultErrorField(res, PG_DIAG_SQLSTATE));
         attempt++) {
        note_retry(s, PQresultErrorField(res, PG_DIAG_SQLSTATE), attempt + 1);
        PQclear(res);
        res = exec_stmt(c, s, params);
    }
    if (result_ok(res)) {
        *rc = DB_OK;
        return res;
    }
    *rc = db_failure(c, id, res);
    PQclear(res);
    return NULL;
}

int db_failure(PGconn *c, enum stmt_id id, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (PQstatus(c) != CONNECTION_OK) {
        metrics_add(m_unavailable, 1);
        return DB_UNAVAILABLE;
    }
    if (state && strcmp(state, "23505") == 0)
        return DB_CONFLICT;
    if (state && strcmp(state, "55P03") == 0) {
        /* a lock_timeout ran out (the pool's own bound, db_bound_lock_waits, or an operator's):
         * another session holds the table, which is no fault of the statement, and it may run later */
        metrics_add(m_locked, 1);
        log_warn("statement waited too long for a lock", "name=%s", stmt_table[id].name);
        return DB_LOCKED;
    }
    /* no SQLSTATE (libpq's own error: the server went away mid-statement), 08 (connection), 53 (out of
     * resources), 57 (operator intervention, e.g. a shutdown) and 58 (system error) mean "try later" */
    bool later = !state || strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
                 strncmp(state, "57", 2) == 0 || strncmp(state, "58", 2) == 0;
    metrics_add(later ? m_unavailable : m_errors, 1);
    char msg[512];
    const char *e = PQresultErrorMessage(res);
    log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
    log_error("statement failed", "name=%s sqlstate=%s error=%s", stmt_table[id].name, state ? state : "none",
              msg);
    return later ? DB_UNAVAILABLE : DB_ERROR;
}

/* The primary connection broke under statement id (error: libpq's words, or NULL): closed, and reopened by
 * the next call at once. */
static void primary_broke(enum stmt_id id, const char *error)
{
    if (error)
        log_warn("database connection broke", "statement=%s error=%s", stmt_table[id].name, error);
    else
        log_warn("database connection broke", "statement=%s", stmt_table[id].name);
    conn_close(&primary);
    primary.last_attempt_ms = 0;
}

static PGresult *run_primary(enum stmt_id id, const char *const *params, int *rc)
{
    if (primary.sent) {
        /* a caller's bug: libpq would refuse it, and the answer awaited would be lost */
        log_error("statement while another one's answer is awaited", "statement=%s awaited=%s",
                  stmt_table[id].name, stmt_table[primary.sent - 1].name);
        *rc = DB_ERROR;
        return NULL;
    }
    if ((*rc = db_connect()) != DB_OK)
        return NULL;
    PGresult *res = db_run_on(primary.conn, id, params, rc);
    /* the request that hit the break gets a 503; the next one reconnects at once */
    if (*rc == DB_UNAVAILABLE)
        primary_broke(id, NULL);
    return res;
}

/* A statement of the pipeline below, queued: 1, or 0 when it could not be. */
static int send_stmt(PGconn *c, enum stmt_id id, const char *const *params)
{
    const struct stmt *s = &stmt_table[id];
    return s->group == STMT_APP_REPLAN ? PQsendQueryParams(c, s->sql, s->nparams, NULL, params, NULL, NULL, 0)
                                       : PQsendQueryPrepared(c, s->name, s->nparams, params, NULL, NULL, 0);
}

/* The replica's stamp and the read in one round trip (libpq's pipeline mode), in res[0] and res[1]: 0, each
 * result to be checked, or -1 when the exchange itself broke (the connection is then closed, to be reopened
 * by the next read). The read is wasted when the stamp says the replica is behind, which is rare. */
static int replica_pair(enum stmt_id check, const char *const *key, enum stmt_id id,
                        const char *const *params, PGresult *res[2])
{
    PGconn *c = replica.conn;
    res[0] = res[1] = NULL;
    bool ok =
        PQenterPipelineMode(c) && send_stmt(c, check, key) && send_stmt(c, id, params) && PQpipelineSync(c);
    /* each statement's result is followed by a NULL, and the sync's result ends the exchange: anything else
     * is a broken connection (a bounded number of calls, whatever the server does) */
    for (int i = 0; ok && i < 2; i++) {
        res[i] = PQgetResult(c);
        PGresult *end = res[i] ? PQgetResult(c) : NULL;
        ok = res[i] && !end;
        PQclear(end);
    }
    PGresult *sync = ok ? PQgetResult(c) : NULL;
    ok = ok && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (ok && PQexitPipelineMode(c))
        return 0;
    char msg[512];
    log_quote(msg, sizeof(msg), PQerrorMessage(c), strcspn(PQerrorMessage(c), "\n"));
    log_warn("replica connection broke, the primary answers", "statement=%s error=%s", stmt_table[id].name,
             msg);
    PQclear(res[0]);
    PQclear(res[1]);
    res[0] = res[1] = NULL;
    conn_close(&replica);
    replica.last_attempt_ms = 0;
    return -1;
}

/* Whether a statement of the pair succeeded; a failure is never the request's (the primary answers instead),
 * so it is logged as a warning. A statement after a failed one reports the first failure only. */
static bool replica_ok(enum stmt_id id, const PGresult *res)
{
    if (result_ok(res))
        return true;
    if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED)
        return false;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    char msg[512];
    const char *e = PQresultErrorMessage(res);
    log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
    log_warn("replica statement failed, the primary answers", "name=%s sqlstate=%s error=%s",
             stmt_table[id].name, state ? state : "none", msg);
    return false;
}

/* The stamp in a result of read_lsn_owner or read_lsn_link as one number (0: no row, never stamped). */
static unsigned long long stamp_of(const PGresult *res)
{
    unsigned int hi = 0, lo = 0;
    if (PQntuples(res) != 1 || sscanf(PQgetvalue(res, 0, 0), "%X/%X", &hi, &lo) != 2)
        return 0;
    return (unsigned long long)hi << 32 | lo;
}

/* A replica-safe read on the replica, when it shows the last change of the owner that $1 names: the primary
 * tells the stamp of that change (one index lookup), and a replica whose read_lsn row has reached it has
 * replayed the change's commit. The replica's stamp and the read go together: the read's snapshot is taken
 * after the stamp's, so it sees at least what the stamp showed. NULL with *rc DB_OK: the primary must answer
 * (the replica is behind, down or failed); NULL with *rc set otherwise: the primary could not tell the stamp.
 */
static PGresult *read_replica(enum stmt_id id, const char *const *params, int *rc)
{
    enum stmt_id check = stmt_table[id].read == STMT_READ_LINK ? STMT_READ_LSN_LINK : STMT_READ_LSN_OWNER;
    const char *key[] = {params[0]};
    PGresult *res = run_primary(check, key, rc);
    if (!res)
        return NULL;
    unsigned long long want = stamp_of(res);
    PQclear(res);
    PGresult *pair[2];
    if (conn_open(&replica, replica_conninfo(), prepare_reads) != DB_OK ||
        replica_pair(check, key, id, params, pair) < 0) {
        metrics_add(m_read_unavailable, 1);
        return NULL;
    }
    bool ok = replica_ok(check, pair[0]) && replica_ok(id, pair[1]);
    bool behind = ok && stamp_of(pair[0]) < want;
    PQclear(pair[0]);
    if (ok && !behind) {
        metrics_add(m_read_replica, 1);
        return pair[1];
    }
    PQclear(pair[1]);
    metrics_add(behind ? m_read_behind : m_read_unavailable, 1);
    return NULL;
}

PGresult *db_run(enum stmt_id id, const char *const *params, int *rc)
{
    /* a replica-safe statement always has its $1 (tests/unit/test_statements.c) */
    if (stmt_table[id].read != STMT_PRIMARY && params && replica_conninfo()) {
        PGresult *res = read_replica(id, params, rc);
        if (res || *rc != DB_OK)
            return res;
    }
    return run_primary(id, params, rc);
}

int db_send(enum stmt_id id, const char *const *params)
{
    if (primary.sent)
        return DB_ERROR;
    int rc = db_connect();
    if (rc != DB_OK)
        return rc;
    if (!send_stmt(primary.conn, id, params)) {
        char msg[512];
        log_quote(msg, sizeof(msg), PQerrorMessage(primary.conn),
                  strcspn(PQerrorMessage(primary.conn), "\n"));
        metrics_add(m_unavailable, 1);
        primary_broke(id, msg);
        return DB_UNAVAILABLE;
    }
    primary.sent = (int)id + 1;
    return DB_OK;
}

PGresult *db_result(bool wait, int *rc)
{
    PGconn *c = primary.conn;
    if (!primary.sent || !c) {
        *rc = primary.sent ? DB_UNAVAILABLE : DB_ERROR;
        primary.sent = 0;
        return NULL;
    }
    /* without wait, only what has arrived is read; a broken connection makes PQgetResult answer at once */
    if (!wait && PQconsumeInput(c) && PQisBusy(c)) {
        *rc = DB_BUSY;
        return NULL;
    }
    enum stmt_id id = (enum stmt_id)(primary.sent - 1);
    primary.sent = 0;
    PGresult *res = PQgetResult(c);
    /* the statement's answers end with a NULL; a bounded number of calls, whatever the server sends */
    for (int i = 0; i < 4; i++) {
        PGresult *more = PQgetResult(c);
        if (!more)
            break;
        PQclear(more);
    }
    if (result_ok(res)) {
        *rc = DB_OK;
        return res;
    }
    if (prepared_now(c, id, &res)) {
        /* its prepare had been left for its first run: the caller sends it again */
        PQclear(res);
        *rc = DB_ERROR;
        return NULL;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE); /* after: res may be the prepare's */
    if (retryable(c, state)) {
        /* undone as a whole: the caller sends it again, as db_run_on would have */
        note_retry(&stmt_table[id], state, 2);
        PQclear(res);
        *rc = DB_ERROR;
        return NULL;
    }
    *rc = db_failure(c, id, res);
    PQclear(res);
    if (*rc == DB_UNAVAILABLE)
        primary_broke(id, NULL);
    return NULL;
}

int db_ping(void)
{
    int rc;
    PGresult *res = db_run(STMT_PING, NULL, &rc);
    PQclear(res);
    return rc;
}

int db_exec(enum stmt_id id, const char *const *params)
{
    int rc;
    PQclear(db_run(id, params, &rc));
    return rc;
}
