/* An in-memory stand-in for db/ that the handler tests link instead of it (see the Makefile's HANDLER_TESTS):
 * links, keys and visit counts in process memory, answering what PostgreSQL would answer handlers. */
#ifndef HOP_TESTS_FAKE_DB_H
#define HOP_TESTS_FAKE_DB_H

#include "db_keys.h"

#include <stdbool.h>
#include <stddef.h>

struct link;
struct link_fields;

/* Forgets every link, key, count, queued notification and failure; the generation moves on. */
void fake_db_reset(void);
/* The next `after` queries work, then every one answers rc (DB_UNAVAILABLE, DB_ERROR); DB_OK: all work. */
void fake_db_fail(int rc, unsigned long after);
/* The next n batches of visits fail with DB_UNAVAILABLE, the ones after succeed. */
void fake_db_fail_visits(int n);
/* The window's log (HOP_VISITS_WINDOW_MS): the next n statements that add a part to the counters fail, before
 * anything is done or (committed) after it committed, the answer lost; every log row written so far ages past
 * any master's window (a master that died left it); the log rows there are. */
void fake_db_fail_applies(int n, bool committed);
/* The next n reads of a part's log rows (a part rebuilt after its statement failed) fail. */
void fake_db_fail_reads(int n);
void fake_db_log_age(void);
int fake_db_log_rows(void);
/* Every statement that adds a part to the counters took ms in PostgreSQL, its answer says (0: reset). */
void fake_db_apply_ms(double ms);
/* A log row as another master would have written it; every log row there is again, as batch id (the rows a
 * master that died left, while this one holds the originals). */
void fake_db_log_put(long long id, int part, const void *data, size_t len);
void fake_db_log_copy(long long id);
/* Queries asked so far (every function that returns a db rc counts, failed or not). */
unsigned long fake_db_queries(void);

/* A key with the full scope for a new owner: returns the owner's id (also the key's number). token must have
 * the shape of a hop key. */
long long fake_db_add_key(const char *token);
/* The same with a scope. */
long long fake_db_add_key_scoped(const char *token, enum key_scope scope);
/* The last use db_keys_touch wrote for key key_id (seconds since the epoch), 0 for none. */
long long fake_db_key_touched(long long key_id);
/* Revokes the key of owner (the id fake_db_add_key returned): it and its sessions are refused from now on. */
void fake_db_revoke_key(long long owner);
/* Sessions stored and not deleted. */
int fake_db_sessions(void);
/* Stores a link of owner as db_link_create would and returns the stored copy, which a test may change. */
struct link *fake_db_add_link(long long owner, const char *slug, const char *url);

/* A notification that the next db_consume delivers. */
void fake_db_notify(const char *channel, const char *payload);
/* As if the connection had broken and been opened again: db_generation moves on. */
void fake_db_reconnect(void);
/* Calls to db_links_listen so far. */
unsigned long fake_db_listens(void);

/* Visits (humans and bots) written by db_visits_add for link_id (every hour), for one referrer host ("" for
 * none: the total less every host's, as the stats read it) or, with NULL, every host. */
long long fake_db_visits(long long link_id, const char *host);
/* Humans, or bots, of link_id in the rows of one dimension (db_links.h's enum visit_dim) for one value or,
 * with NULL, every value. */
long long fake_db_humans(long long link_id, int dim, const char *value);
long long fake_db_bots(long long link_id, int dim, const char *value);
/* Every visit written (the total rows), every visit in the rows of one dimension, and the number of batches
 * that carried them. */
long long fake_db_visits_total(void);
long long fake_db_dim_total(int dim);
unsigned long fake_db_visit_batches(void);
/* The rows the batches written held, all told. */
unsigned long fake_db_visit_rows(void);

#endif
