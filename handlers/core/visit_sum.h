/* The master's sums of visits: a key (link, hour and the visit's dimension values) and its count, as
 * visits.c adds them up from the workers' tables and visit_log.c writes them to the log and reads them back;
 * visit_sum.c turns them into a statement's rows. */
#ifndef HOP_VISIT_SUM_H
#define HOP_VISIT_SUM_H

#include "db_links.h"
#include "visits.h"

#include <stddef.h>
#include <stdint.h>

/* Compared and hashed bytewise: every key is zeroed before it is filled. */
struct key {
    int64_t link_id;
    int32_t hour; /* hours since 1970-01-01T00:00Z */
    int32_t unused;
    struct visit v;
};

struct sum {
    struct key key;
    long long count;
};

/* A random id, for a batch or a master's log writer: from every master and every spool file, ids never meet
 * (63 bits: a positive bigint). */
long long vsum_random_id(void);
/* The rows of n sums as a statement takes them, as batch id (b->forget left empty): one per link, hour,
 * dimension and value, the sums that share one added up, and none for a dimension's none value. b's arrays
 * come from vwin_rows_alloc; vwin_rows_free releases them. */
void vsum_rows(const struct sum *rows, size_t n, long long id, struct visit_rows *b);

#endif
