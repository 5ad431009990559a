/* The master's window at work (migration 0021). visits.c writes each batch of visits to the log and hands
 * its rows here; visit_window.c holds them, in parts by link; this module decides when a part goes to the
 * hours (one statement that also takes the part's log rows out), rebuilds a part whose statement failed from
 * its log rows still there, adopts the log rows of masters that died, and holds the writer id that marks
 * this master's log rows as a live master's. Everything here runs in the master, between its batches, on
 * its one connection. */
#ifndef HOP_VISIT_APPLY_H
#define HOP_VISIT_APPLY_H

#include "db_links.h"

#include <stdbool.h>

/* The metrics' ids for the visits added from the window and adopted, and PostgreSQL's microseconds in the
 * statements that added them (metrics_define). Without a window (HOP_VISITS_WINDOW_MS=0) only orphan log
 * rows pass through here. */
void vapply_init(int applied_metric, int adopted_metric, int apply_us_metric);
/* One step a tick, between batches (the connection free): a failed part rebuilt, else log rows of masters
 * that died adopted (now and then) and the part that is due sent to the hours. seen_ms: when visits last
 * came (a second without any sends every part). True when a part's statement is in flight: nothing else may
 * use the connection until vapply_landed has its answer. */
bool vapply_tick(long long now, long long seen_ms);
bool vapply_in_flight(void);
/* The answer (db_visits_apply_result's rc and pg_ms) to the part in flight: its sum is in the hours, or the
 * part is rebuilt from what is left of its log rows at a next tick. */
void vapply_landed(int rc, double pg_ms);
/* Every part to the hours, waiting for each (a graceful stop): 0 when the window is empty, or when a lock on
 * the hours holds the parts up (logged: their rows stay in the log, and the next master adopts them), -1
 * to try again. */
int vapply_all(void);
/* A batch's rows, logged as id, join the window; a part without room for them goes to the hours first. Rows
 * that still find no room are in the log only: adopted later, as a dead master's would be. */
void vapply_take(const struct visit_rows *b, long long id);
/* This master's writer id, held on the connection (taken again after a reconnect; call it with nothing in
 * flight): without it, other masters would take its log rows for a dead master's (safe, but wasteful). */
long long vapply_writer(void);

#endif
