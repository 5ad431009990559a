/* The per-process PostgreSQL connection: opened with every statement prepared, reopened after a break.
 * The connection string is HOP_DB (any libpq conninfo or URI), else libpq's own PG* variables. */
#ifndef HOP_DB_H
#define HOP_DB_H

#include <stdbool.h>

enum db_rc {
    DB_OK = 0,
    DB_NOT_FOUND = 1,
    DB_CONFLICT = 2,
    DB_BUSY = 3,         /* db_result: the statement's answer has not arrived yet */
    DB_ERROR = -1,       /* our fault: a bug or a schema mismatch (500) */
    DB_UNAVAILABLE = -2, /* the database cannot be reached now (503) */
    DB_LOCKED = -3, /* a lock_timeout ran out: another session holds what it needs; may run later (503) */
};

/* Opens the connection if there is none or it broke, preparing the statements of group STMT_APP; at most
 * one attempt per retry interval, so a database that is down costs requests nothing. */
int db_connect(void);
void db_disconnect(void);
/* The connection's socket for poll(), or -1. */
int db_socket(void);
/* Calls fn for every notification received; with read_socket, first reads what arrived on the socket (a
 * broken connection is then closed). Without it, no system call is made: for the request path. */
void db_consume(void (*fn)(const char *channel, const char *payload), bool read_socket);
/* In a child after fork: drops the inherited connection without ending the parent's session, and the
 * parent's bound on lock waits. */
void db_forget(void);
/* From now on every statement on the primary waits at most ms for another session's lock (or the database's
 * own lock_timeout, when shorter), and fails as DB_LOCKED after; 0: the database's own setting. For the pool,
 * which must go on serving whatever an operator or a migration holds. */
void db_bound_lock_waits(long long ms);
/* Counts connections opened, so that a listener knows when it may have missed notifications. */
unsigned long db_generation(void);
/* A round trip: DB_OK when the database answers. */
int db_ping(void);
/* Registers the connection's metrics (state, reconnects, statement errors) before the pool forks: 0 or -1. */
int db_metrics_define(void);

#endif
