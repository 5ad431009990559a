/* The master's sums of visits as the rows of a statement (visit_sum.h), and the random ids of its batches
 * and log writers. */
#include "visit_sum.h"

#include "clock.h"
#include "db_links.h"
#include "ua.h"
#include "visit_window.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

long long vsum_random_id(void)
{
    uint64_t r = 0;
    while (r == 0) {
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            r = (uint64_t)clock_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        r &= INT64_MAX;
    }
    return (long long)r;
}

/* Rows of a batch under construction, with an index by (link, hour, dimension, value), so that the sums
 * that share a row add up here: a popular link visited by many kinds of visitors has thousands of sums but a
 * few dozen rows, and PostgreSQL parses and groups only those. */
struct rows_index {
    uint32_t *slot; /* row number + 1, 0 for none */
    size_t mask;
};

/* Adds count visits of one dimension's value to the rows: to the row of that key if there is one. */
static void row_add(struct visit_rows *b, struct rows_index *ix, const struct key *key, int dim,
                    const char *value, bool bot, long long count)
{
    size_t i = vwin_row_hash(key->link_id, key->hour, dim, value) & ix->mask;
    for (; ix->slot[i]; i = (i + 1) & ix->mask) {
        size_t k = ix->slot[i] - 1;
        if (b->link_id[k] == key->link_id && b->hour[k] == key->hour && b->dim[k] == dim &&
            strcmp(b->value[k], value) == 0) {
            b->humans[k] += bot ? 0 : count;
            b->bots[k] += bot ? count : 0;
            return;
        }
    }
    size_t k = b->n++;
    ix->slot[i] = (uint32_t)(k + 1);
    b->link_id[k] = key->link_id;
    b->hour[k] = key->hour;
    b->dim[k] = dim;
    b->value[k] = value;
    b->humans[k] = bot ? 0 : count;
    b->bots[k] = bot ? count : 0;
}

/* The rows of one sum, one per dimension (db_links.h's enum visit_dim) but those whose value is the
 * dimension's none (visit_dim_none): the readers take that one as the total less the others. Text values are
 * NUL-terminated within their key. */
static void explode(const struct sum *s, struct visit_rows *b, struct rows_index *ix)
{
    const struct visit *v = &s->key.v;
    const char *values[VISIT_NDIMS] = {
        [VISIT_DIM_TOTAL] = "",
        [VISIT_DIM_REFERRER] = v->host,
        [VISIT_DIM_COUNTRY] = v->country[0] ? v->country : "unknown",
        [VISIT_DIM_DEVICE] = ua_device_name(v->device),
        [VISIT_DIM_BROWSER] = ua_browser_name(v->browser),
        [VISIT_DIM_OS] = ua_os_name(v->os),
        [VISIT_DIM_UTM_SOURCE] = v->utm[VISITS_UTM_SOURCE],
        [VISIT_DIM_UTM_MEDIUM] = v->utm[VISITS_UTM_MEDIUM],
        [VISIT_DIM_UTM_CAMPAIGN] = v->utm[VISITS_UTM_CAMPAIGN],
    };
    row_add(b, ix, &s->key, VISIT_DIM_TOTAL, values[VISIT_DIM_TOTAL], v->bot, s->count);
    for (int d = VISIT_DIM_TOTAL + 1; d < VISIT_NDIMS; d++) {
        if (strcmp(values[d], visit_dim_none(d)) != 0)
            row_add(b, ix, &s->key, d, values[d], v->bot, s->count);
    }
}

void vsum_rows(const struct sum *rows, size_t n, long long id, struct visit_rows *b)
{
    size_t nrows = n * VISIT_NDIMS;
    vwin_rows_alloc(b, nrows);
    b->batch_id = id;
    struct rows_index ix = {.mask = 1};
    while (ix.mask < 2 * nrows)
        ix.mask *= 2;
    ix.slot = xcalloc(ix.mask, sizeof(*ix.slot));
    ix.mask--;
    for (size_t k = 0; k < n; k++)
        explode(&rows[k], b, &ix);
    free(ix.slot);
}
