/* The per-process connection; see db.h. */
#include "db.h"

#include "clock.h"
#include "db_internal.h"
#include "log.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { RETRY_MS = 200, FAILURE_LOG_MS = 30 * 1000 };

static PGconn *conn;
static long long last_attempt_ms;
/* an outage is logged when it starts and then every FAILURE_LOG_MS, not on every retry */
static long long failing_since_ms, failure_logged_ms;
static unsigned long generation;
static bool opened_here; /* this process has had a connection (a fork's inherited one does not count) */
/* metric ids (metrics.h); -1 until db_metrics_define, and in commands that run no pool */
static int m_up = -1, m_down = -1, m_reconnects = -1, m_errors = -1, m_unavailable = -1;

int db_metrics_define(void)
{
    static const char conn_help[] =
        "Pool processes whose PostgreSQL connection is up, or down (failed or broken).";
    static const char err_help[] = "Statements that failed: kind=\"error\" is hop's or the schema's fault "
                                   "(500), kind=\"unavailable\" the "
                                   "database going away (503).";
    m_up = metrics_define("hop_postgres_connections", "state=\"up\"", METRICS_GAUGE, conn_help);
    m_down = metrics_define("hop_postgres_connections", "state=\"down\"", METRICS_GAUGE, conn_help);
    m_reconnects =
        metrics_define("hop_postgres_reconnects_total", NULL, METRICS_COUNTER,
                       "Connections to PostgreSQL opened again after one broke or could not be opened.");
    m_errors =
        metrics_define("hop_postgres_statement_errors_total", "kind=\"error\"", METRICS_COUNTER, err_help);
    m_unavailable = metrics_define("hop_postgres_statement_errors_total", "kind=\"unavailable\"",
                                   METRICS_COUNTER, err_help);
    return m_up < 0 || m_unavailable < 0 ? -1 : 0;
}

static void conn_state(bool up)
{
    metrics_set(m_up, up);
    metrics_set(m_down, !up);
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

PGconn *db_open_conn(bool quiet)
{
    /* connect_timeout comes first so that HOP_DB, expanded from dbname, may override it */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {"2", "hop", getenv("HOP_DB"), NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        if (quiet) {
            PQfinish(c);
            return NULL;
        }
        char msg[512];
        log_quote(msg, sizeof(msg), PQerrorMessage(c), strcspn(PQerrorMessage(c), "\n"));
        log_warn("database connection failed", "error=%s", msg);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, notice_to_log, NULL);
    return c;
}

int db_prepare_group(PGconn *c, enum stmt_group group, bool quiet)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        enum stmt_group g = stmt_table[i].group == STMT_APP_REPLAN ? STMT_APP : stmt_table[i].group;
        if (g != group)
            continue;
        PGresult *res = PQprepare(c, stmt_table[i].name, stmt_table[i].sql, stmt_table[i].nparams, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && quiet) {
            PQclear(res);
            return -1;
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            char msg[512];
            const char *e = PQresultErrorMessage(res);
            log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
            log_error("cannot prepare statement", "name=%s error=%s", stmt_table[i].name, msg);
            PQclear(res);
            return -1;
        }
        PQclear(res);
    }
    return 0;
}

/* The session's settings (STMT_SESSION_SETUP), once per connection: 0 or -1. */
static int session_setup(PGconn *c, bool quiet)
{
    PGresult *res = PQexecPrepared(c, stmt_table[STMT_SESSION_SETUP].name, 0, NULL, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
    if (rc < 0 && !quiet) {
        char msg[512];
        const char *e = PQresultErrorMessage(res);
        log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
        log_error("cannot set up the session", "error=%s", msg);
    }
    PQclear(res);
    return rc;
}

int db_connect(void)
{
    if (conn && PQstatus(conn) == CONNECTION_OK)
        return DB_OK;
    db_disconnect();
    long long now = clock_ms();
    if (last_attempt_ms && now - last_attempt_ms < RETRY_MS)
        return DB_UNAVAILABLE;
    last_attempt_ms = now;
    bool quiet = failing_since_ms && now - failure_logged_ms < FAILURE_LOG_MS;
    if (!quiet)
        failure_logged_ms = now;
    PGconn *c = db_open_conn(quiet);
    if (c && (db_prepare_group(c, STMT_APP, quiet) < 0 || session_setup(c, quiet) < 0)) {
        PQfinish(c);
        c = NULL;
    }
    if (!c) {
        if (!failing_since_ms)
            failing_since_ms = now;
        conn_state(false);
        return DB_UNAVAILABLE;
    }
    PQsetnonblocking(c, 0);
    conn = c;
    last_attempt_ms = 0;
    if (opened_here || failing_since_ms)
        metrics_add(m_reconnects, 1);
    opened_here = true;
    generation++;
    conn_state(true);
    if (failing_since_ms)
        log_info("database reachable again", "down_ms=%lld", now - failing_since_ms);
    failing_since_ms = 0;
    log_debug("database connected", "generation=%lu", generation);
    return DB_OK;
}

void db_disconnect(void)
{
    if (conn) {
        PQfinish(conn);
        conn_state(false);
    }
    conn = NULL;
}

int db_socket(void)
{
    return conn ? PQsocket(conn) : -1;
}

unsigned long db_generation(void)
{
    return generation;
}

void db_forget(void)
{
    /* the parent's history of connections is not this process's */
    opened_here = false;
    failing_since_ms = 0;
    if (!conn)
        return;
    /* closing the descriptor first makes PQfinish's goodbye fail here instead of reaching the server */
    close(PQsocket(conn));
    PQfinish(conn);
    conn = NULL;
}

void db_consume(void (*fn)(const char *channel, const char *payload), bool read_socket)
{
    if (!conn)
        return;
    if ((read_socket && !PQconsumeInput(conn)) || PQstatus(conn) != CONNECTION_OK) {
        log_warn("database connection lost", "%s", "");
        db_disconnect();
        return;
    }
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        fn(n->relname, n->extra);
        PQfreemem(n);
    }
}

PGresult *db_run_on(PGconn *c, enum stmt_id id, const char *const *params, int *rc)
{
    const struct stmt *s = &stmt_table[id];
    /* an unnamed statement is planned with its parameters' values every time; the named one that
     * db_prepare_group made for it still proved the SQL at connect time */
    PGresult *res = s->group == STMT_APP_REPLAN
                        ? PQexecParams(c, s->sql, s->nparams, NULL, params, NULL, NULL, 0)
                        : PQexecPrepared(c, s->name, s->nparams, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *rc = DB_OK;
        return res;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (PQstatus(c) != CONNECTION_OK) {
        *rc = DB_UNAVAILABLE;
        metrics_add(m_unavailable, 1);
    } else if (state && strcmp(state, "23505") == 0) {
        *rc = DB_CONFLICT;
    } else {
        /* no SQLSTATE (libpq's own error: the server went away mid-statement), 08 (connection), 53 (out of
         * resources), 57 (operator intervention, e.g. a shutdown) and 58 (system error) mean "try later" */
        bool later = !state || strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
                     strncmp(state, "57", 2) == 0 || strncmp(state, "58", 2) == 0;
        *rc = later ? DB_UNAVAILABLE : DB_ERROR;
        metrics_add(later ? m_unavailable : m_errors, 1);
        char msg[512];
        const char *e = PQresultErrorMessage(res);
        log_quote(msg, sizeof(msg), e, strcspn(e, "\n"));
        log_error("statement failed", "name=%s sqlstate=%s error=%s", s->name, state ? state : "none", msg);
    }
    PQclear(res);
    return NULL;
}

PGresult *db_run(enum stmt_id id, const char *const *params, int *rc)
{
    if ((*rc = db_connect()) != DB_OK)
        return NULL;
    PGresult *res = db_run_on(conn, id, params, rc);
    if (*rc == DB_UNAVAILABLE) {
        /* the request that hit the break gets a 503; the next one reconnects at once */
        log_warn("database connection broke", "statement=%s", stmt_table[id].name);
        db_disconnect();
        last_attempt_ms = 0;
    }
    return res;
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
