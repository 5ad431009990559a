/* What the modules of db/ share: running a registered statement. Nothing outside db/ sees libpq. */
#ifndef HOP_DB_INTERNAL_H
#define HOP_DB_INTERNAL_H

#include "statements.h"

#include <libpq-fe.h>
#include <stdbool.h>

/* Runs a prepared statement. Returns the result (caller PQclears it) with *rc = DB_OK, or NULL with *rc set:
 * DB_CONFLICT for a unique violation, DB_UNAVAILABLE when the connection is down or broke (it is closed and
 * reopened on the next call), DB_ERROR otherwise (logged once with its SQLSTATE). */
PGresult *db_run(enum stmt_id id, const char *const *params, int *rc);
/* Sends a statement on the primary connection without waiting for its answer, so that the caller goes on
 * with other work (the master drains the workers' counters while PostgreSQL writes a batch). One at a time,
 * and no other statement on the connection until db_result has given the answer: DB_OK when sent, else
 * DB_UNAVAILABLE (nothing was executed; the connection is closed) or DB_ERROR (one is awaited already). */
int db_send(enum stmt_id id, const char *const *params);
/* The answer to what db_send sent, as db_run gives it; without wait, NULL with DB_BUSY while it has not
 * arrived. With a failure the statement may or may not have committed (the connection broke after it). A
 * deadlock's victim or a serialization failure, undone as a whole, is logged as retried and given as
 * DB_ERROR: the caller sends it again. */
PGresult *db_result(bool wait, int *rc);
/* Runs a statement whose result does not matter beyond success (LISTEN...): its db_rc. */
int db_exec(enum stmt_id id, const char *const *params);
/* Same for binary-free text parameters on a given connection (the migrator has its own). */
PGresult *db_run_on(PGconn *c, enum stmt_id id, const char *const *params, int *rc);
/* The db_rc of a statement's failed result on c (logged and counted as db_run_on does). */
int db_failure(PGconn *c, enum stmt_id id, const PGresult *res);
/* Opens a connection with HOP_DB, or NULL (logged when quiet is false). */
PGconn *db_open_conn(bool quiet);
/* Prepares every statement of a group on c: 0 or -1 (logged unless quiet). */
int db_prepare_group(PGconn *c, enum stmt_group group, bool quiet);

#endif
