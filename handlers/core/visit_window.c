/* The master's window of logged visit rows, in parts by link; see visit_window.h. */
#include "visit_window.h"

#include "visits.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MIN_PART_ROWS = 64 };

struct wrow {
    long long link_id, humans, bots;
    int hour;
    int dim;
    char value[VISITS_VALUE_MAX + 1];
};

struct part {
    struct wrow *rows;
    size_t n, cap;
    uint32_t *index; /* row number + 1, 0 for none; mask + 1 slots */
    size_t mask;
    long long *ids;
    size_t nids, cap_ids;
    long long visits; /* the total rows' humans and bots */
    long long first_ms, last_ms;
};

static struct part parts[VWIN_PARTS];
static size_t part_cap = MIN_PART_ROWS;

void vwin_init(size_t max_rows)
{
    part_cap = max_rows / VWIN_PARTS;
    if (part_cap < MIN_PART_ROWS)
        part_cap = MIN_PART_ROWS;
}

int vwin_part_of(long long link_id)
{
    return (int)((unsigned long long)link_id % VWIN_PARTS);
}

uint64_t vwin_row_hash(long long link_id, int hour, int dim, const char *value)
{
    uint64_t h =
        ((uint64_t)link_id * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)(uint32_t)hour << 8) ^ (uint64_t)dim;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static size_t value_len(const char *v)
{
    return strnlen(v, VISITS_VALUE_MAX);
}

static void part_alloc(struct part *pt)
{
    if (pt->rows)
        return;
    pt->cap = part_cap;
    pt->rows = xmalloc(pt->cap * sizeof(*pt->rows));
    for (pt->mask = 1; pt->mask < 2 * pt->cap;)
        pt->mask *= 2;
    pt->index = xcalloc(pt->mask, sizeof(*pt->index));
    pt->mask--;
}

/* Adds one row to a part that has room for it. */
static void part_add(struct part *pt, long long link_id, int hour, int dim, const char *value,
                     long long humans, long long bots)
{
    size_t vl = value_len(value);
    char v[VISITS_VALUE_MAX + 1];
    memcpy(v, value, vl);
    v[vl] = '\0';
    if (dim == VISIT_DIM_TOTAL)
        pt->visits += humans + bots;
    size_t i = vwin_row_hash(link_id, hour, dim, v) & pt->mask;
    for (; pt->index[i]; i = (i + 1) & pt->mask) {
        struct wrow *r = &pt->rows[pt->index[i] - 1];
        if (r->link_id == link_id && r->hour == hour && r->dim == dim && strcmp(r->value, v) == 0) {
            r->humans += humans;
            r->bots += bots;
            return;
        }
    }
    struct wrow *r = &pt->rows[pt->n++];
    pt->index[i] = (uint32_t)pt->n;
    r->link_id = link_id;
    r->hour = hour;
    r->dim = dim;
    r->humans = humans;
    r->bots = bots;
    memcpy(r->value, v, vl + 1);
}

static void part_note(struct part *pt, long long id, long long now_ms)
{
    if (pt->first_ms == 0)
        pt->first_ms = now_ms;
    pt->last_ms = now_ms;
    for (size_t i = 0; i < pt->nids; i++) {
        if (pt->ids[i] == id)
            return;
    }
    if (pt->nids == pt->cap_ids) {
        pt->cap_ids = pt->cap_ids ? 2 * pt->cap_ids : 64;
        pt->ids = xrealloc(pt->ids, pt->cap_ids * sizeof(*pt->ids));
    }
    pt->ids[pt->nids++] = id;
}

int vwin_lacks_room(const struct visit_rows *b)
{
    size_t need[VWIN_PARTS] = {0};
    for (size_t i = 0; i < b->n; i++)
        need[vwin_part_of(b->link_id[i])]++;
    for (int p = 0; p < VWIN_PARTS; p++) {
        if (need[p] && parts[p].n + need[p] > part_cap)
            return p;
    }
    return -1;
}

void vwin_add(const struct visit_rows *b, long long id, long long now_ms)
{
    for (size_t i = 0; i < b->n; i++) {
        struct part *pt = &parts[vwin_part_of(b->link_id[i])];
        part_alloc(pt);
        part_add(pt, b->link_id[i], b->hour[i], b->dim[i], b->value[i], b->humans[i], b->bots[i]);
        part_note(pt, id, now_ms);
    }
}

void vwin_rows_alloc(struct visit_rows *b, size_t cap)
{
    if (cap == 0)
        cap = 1;
    *b = (struct visit_rows){
        .link_id = xmalloc(cap * sizeof(long long)),
        .hour = xmalloc(cap * sizeof(int)),
        .dim = xmalloc(cap * sizeof(int)),
        .value = xmalloc(cap * sizeof(char *)),
        .humans = xmalloc(cap * sizeof(long long)),
        .bots = xmalloc(cap * sizeof(long long)),
    };
}

void vwin_rows_free(struct visit_rows *b)
{
    free(b->link_id);
    free(b->hour);
    free(b->dim);
    free(b->value);
    free(b->humans);
    free(b->bots);
}

void vwin_rows(int part, struct visit_rows *out)
{
    const struct part *pt = &parts[part];
    vwin_rows_alloc(out, pt->n);
    out->n = pt->n;
    for (size_t i = 0; i < pt->n; i++) {
        const struct wrow *r = &pt->rows[i];
        out->link_id[i] = r->link_id;
        out->hour[i] = r->hour;
        out->dim[i] = r->dim;
        out->value[i] = r->value;
        out->humans[i] = r->humans;
        out->bots[i] = r->bots;
    }
}

const long long *vwin_ids(int part, size_t *n)
{
    *n = parts[part].nids;
    return parts[part].ids;
}

bool vwin_has_id(int part, long long id)
{
    const struct part *pt = &parts[part];
    for (size_t i = 0; i < pt->nids; i++) {
        if (pt->ids[i] == id)
            return true;
    }
    return false;
}

void vwin_clear(int part)
{
    struct part *pt = &parts[part];
    if (pt->index)
        memset(pt->index, 0, (pt->mask + 1) * sizeof(*pt->index));
    pt->n = pt->nids = 0;
    pt->visits = pt->first_ms = pt->last_ms = 0;
}

size_t vwin_nrows(int part)
{
    return parts[part].n;
}

bool vwin_nearly_full(int part)
{
    return parts[part].n >= part_cap / 4 * 3;
}

long long vwin_visits(void)
{
    long long n = 0;
    for (int p = 0; p < VWIN_PARTS; p++)
        n += parts[p].visits;
    return n;
}

long long vwin_part_visits(int part)
{
    return parts[part].visits;
}

long long vwin_first_ms(int part)
{
    return parts[part].first_ms;
}

long long vwin_last_ms(int part)
{
    return parts[part].last_ms;
}

long long vwin_all_ids(long long *out, size_t max)
{
    size_t n = 0;
    for (int p = 0; p < VWIN_PARTS; p++) {
        for (size_t i = 0; i < parts[p].nids; i++) {
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++)
                seen = out[k] == parts[p].ids[i];
            if (!seen && n < max)
                out[n++] = parts[p].ids[i];
        }
    }
    return (long long)n;
}
