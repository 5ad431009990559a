/* The master's window (migration 0021): the sum of the visit batches it has written to the log and not yet
 * added to the hours, in parts by link, with the ids of the log rows each part sums. visits.c encodes the log
 * rows; visit_apply.c decides when a part is added. */
#ifndef HOP_VISIT_WINDOW_H
#define HOP_VISIT_WINDOW_H

#include "db_links.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { VWIN_PARTS = 16 };

/* Room for rows (link, hour, dimension, value) in about max_bytes of memory in all (HOP_VISITS_WINDOW_KB),
 * split evenly between the parts; any rows the window held are dropped. */
void vwin_init(size_t max_bytes);
int vwin_part_of(long long link_id);
/* The hash of a row's key, for the indexes of rows here and in visits.c. */
uint64_t vwin_row_hash(long long link_id, int hour, int dim, const char *value);

/* -1 when every part has room for its rows of b (rows, and bytes and count of the values it does not hold
 * yet), else a part that has not. */
int vwin_lacks_room(const struct visit_rows *b);
/* Adds the rows of b, logged as batch id, to their parts (vwin_lacks_room said there is room). */
void vwin_add(const struct visit_rows *b, long long id, long long now_ms);

/* Room for cap rows in b's arrays (n 0, the rest zeroed), for visits.c's batches and the parts' rows alike;
 * vwin_rows_free releases them. */
void vwin_rows_alloc(struct visit_rows *b, size_t cap);
void vwin_rows_free(struct visit_rows *b);
/* A part's rows, as the statement takes them (valid until the part changes; vwin_rows_free releases them),
 * and the ids they sum. */
void vwin_rows(int part, struct visit_rows *out);
const long long *vwin_ids(int part, size_t *n);
bool vwin_has_id(int part, long long id);
/* Empties a part: its rows were added to the counters, or are about to be rebuilt from the log. */
void vwin_clear(int part);

size_t vwin_nrows(int part);
/* Three quarters of the part's room taken: the quarter left holds what comes while the other parts that
 * filled as fast go first (one statement at a time). */
bool vwin_nearly_full(int part);
long long vwin_visits(void);                        /* visits the parts sum, all of them */
long long vwin_part_visits(int part);               /* visits one part sums */
long long vwin_first_ms(int part);                  /* when the part's oldest rows were added (0: empty) */
long long vwin_last_ms(int part);                   /* when rows were last added to it */
long long vwin_all_ids(long long *out, size_t max); /* every part's ids, each once; how many */

#endif
