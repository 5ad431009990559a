/* The master's sums of visits: a key (link, hour and the visit's dimension values) and its count, as
 * visits.c adds them up from the workers' tables and visit_log.c writes them to the log and reads them back.
 */
#ifndef HOP_VISIT_SUM_H
#define HOP_VISIT_SUM_H

#include "visits.h"

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

#endif
