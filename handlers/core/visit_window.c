/* The master's window of logged visit rows, in parts by link; see visit_window.h. */
#include "visit_window.h"

#include "visits.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A row holds its value as an offset into its part's arena, where each distinct value is kept once: the
 * referrers, countries, browsers... of a window are few, and most of its rows repeat them. 40 bytes a row
 * instead of 96 with the value inline: HOP_VISITS_WINDOW_KB holds about 1.6 times the rows, so under load
 * a part goes to the hours early less often (at make bench-scale's 8,000 redirects a second the default
 * now holds the whole minute, whose busy link-hours went to the hours twice). */
enum {
    MIN_PART_ROWS = 64,
    ARENA_PER_ROW = 8, /* bytes of distinct values a part keeps per row of room */
    VALUE_BYTES = 16,  /* a distinct value's room in the count of the values a part may hold */
};

struct wrow {
    long long link_id, humans, bots;
    int hour;
    uint16_t dim;
    uint32_t value; /* offset of the value in the part's arena */
};

struct part {
    struct wrow *rows;
    size_t n, cap;
    uint32_t *index; /* row number + 1, 0 for none; mask + 1 slots */
    size_t mask;
    char *arena; /* the distinct values, each with its NUL; "" at 0 */
    size_t arena_len;
    uint32_t *vindex; /* arena offset + 1 of each distinct value, 0 for none; vmask + 1 slots */
    size_t vmask, nvalues;
    long long *ids;
    size_t nids, cap_ids;
    long long visits; /* the total rows' humans and bots */
    long long first_ms, last_ms;
};

static struct part parts[VWIN_PARTS];
static size_t part_cap = MIN_PART_ROWS;

static size_t pow2_at_least(size_t n)
{
    size_t m = 1;
    while (m < n)
        m *= 2;
    return m;
}

/* The bytes of distinct values a part of cap rows may hold. */
static size_t arena_for(size_t cap)
{
    return cap * ARENA_PER_ROW;
}

/* The distinct values a part of cap rows may hold: its values' index stays at most half full. */
static size_t values_for(size_t cap)
{
    return arena_for(cap) / VALUE_BYTES;
}

/* What a part of cap rows takes once full: its rows, their index, the arena and the values' index. */
static size_t part_bytes(size_t cap)
{
    return cap * sizeof(struct wrow) + pow2_at_least(2 * cap) * sizeof(uint32_t) + arena_for(cap) +
           pow2_at_least(2 * values_for(cap)) * sizeof(uint32_t);
}

void vwin_init(size_t max_bytes)
{
    for (int p = 0; p < VWIN_PARTS; p++) {
        struct part *pt = &parts[p];
        free(pt->rows);
        free(pt->index);
        free(pt->arena);
        free(pt->vindex);
        free(pt->ids);
        *pt = (struct part){0};
    }
    /* the most rows whose part fits its share (the indexes grow by powers of two) */
    size_t share = max_bytes / VWIN_PARTS, lo = MIN_PART_ROWS, hi = share / sizeof(struct wrow) + 1;
    while (lo + 1 < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (part_bytes(mid) <= share)
            lo = mid;
        else
            hi = mid;
    }
    part_cap = lo;
}

int vwin_part_of(long long link_id)
{
    return (int)((unsigned long long)link_id % VWIN_PARTS);
}

static uint64_t str_hash(uint64_t h, const char *value)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

uint64_t vwin_row_hash(long long link_id, int hour, int dim, const char *value)
{
    return str_hash(
        ((uint64_t)link_id * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)(uint32_t)hour << 8) ^ (uint64_t)dim, value);
}

/* value's first VISITS_VALUE_MAX bytes, the longest a row keeps, into v with a NUL: their length. */
static size_t value_copy(char v[VISITS_VALUE_MAX + 1], const char *value)
{
    size_t len = strnlen(value, VISITS_VALUE_MAX);
    memcpy(v, value, len);
    v[len] = '\0';
    return len;
}

static void part_alloc(struct part *pt)
{
    if (pt->rows)
        return;
    pt->cap = part_cap;
    pt->rows = xmalloc(pt->cap * sizeof(*pt->rows));
    pt->mask = pow2_at_least(2 * pt->cap) - 1;
    pt->index = xcalloc(pt->mask + 1, sizeof(*pt->index));
    pt->arena = xmalloc(arena_for(pt->cap));
    pt->arena[0] = '\0';
    pt->arena_len = 1;
    pt->vmask = pow2_at_least(2 * values_for(part_cap)) - 1;
    pt->vindex = xcalloc(pt->vmask + 1, sizeof(*pt->vindex));
}

/* The slot of value v (NUL-terminated) in the part's values' index: its own, or the empty one
 * where it would go. */
static size_t value_slot(const struct part *pt, const char *v)
{
    size_t i = str_hash(0xcbf29ce484222325ULL, v) & pt->vmask;
    while (pt->vindex[i] && strcmp(pt->arena + pt->vindex[i] - 1, v) != 0)
        i = (i + 1) & pt->vmask;
    return i;
}

/* Bytes of the part's arena taken: "" alone before its first row. */
static size_t arena_used(const struct part *pt)
{
    return pt->rows ? pt->arena_len : 1;
}

/* v's offset in the part's arena, kept there if it is new (the part has room: vwin_lacks_room). */
static uint32_t value_intern(struct part *pt, const char *v, size_t len)
{
    if (len == 0)
        return 0;
    size_t i = value_slot(pt, v);
    if (pt->vindex[i])
        return pt->vindex[i] - 1;
    uint32_t off = (uint32_t)pt->arena_len;
    memcpy(pt->arena + off, v, len + 1);
    pt->arena_len += len + 1;
    pt->vindex[i] = off + 1;
    pt->nvalues++;
    return off;
}

/* Adds one row to a part that has room for it. */
static void part_add(struct part *pt, long long link_id, int hour, int dim, const char *value,
                     long long humans, long long bots)
{
    char v[VISITS_VALUE_MAX + 1];
    size_t vl = value_copy(v, value);
    if (dim == VISIT_DIM_TOTAL)
        pt->visits += humans + bots;
    size_t i = vwin_row_hash(link_id, hour, dim, v) & pt->mask;
    for (; pt->index[i]; i = (i + 1) & pt->mask) {
        struct wrow *r = &pt->rows[pt->index[i] - 1];
        if (r->link_id == link_id && r->hour == hour && r->dim == dim &&
            strcmp(pt->arena + r->value, v) == 0) {
            r->humans += humans;
            r->bots += bots;
            return;
        }
    }
    struct wrow *r = &pt->rows[pt->n++];
    pt->index[i] = (uint32_t)pt->n;
    *r = (struct wrow){.link_id = link_id,
                       .hour = hour,
                       .dim = (uint16_t)dim,
                       .value = value_intern(pt, v, vl),
                       .humans = humans,
                       .bots = bots};
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

/* A part that lacks room for b's rows: rows, and the values not in its arena yet (a new value is counted
 * each time b repeats it, so the need is never underestimated). */
int vwin_lacks_room(const struct visit_rows *b)
{
    size_t rows[VWIN_PARTS] = {0}, bytes[VWIN_PARTS] = {0}, values[VWIN_PARTS] = {0};
    for (size_t i = 0; i < b->n; i++) {
        int p = vwin_part_of(b->link_id[i]);
        rows[p]++;
        char v[VISITS_VALUE_MAX + 1];
        size_t vl = value_copy(v, b->value[i]);
        if (vl == 0 || (parts[p].rows && parts[p].vindex[value_slot(&parts[p], v)]))
            continue;
        bytes[p] += vl + 1;
        values[p]++;
    }
    for (int p = 0; p < VWIN_PARTS; p++) {
        const struct part *pt = &parts[p];
        if (rows[p] && (pt->n + rows[p] > part_cap || arena_used(pt) + bytes[p] > arena_for(part_cap) ||
                        pt->nvalues + values[p] > values_for(part_cap)))
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
        out->value[i] = pt->arena + r->value;
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
    if (pt->vindex)
        memset(pt->vindex, 0, (pt->vmask + 1) * sizeof(*pt->vindex));
    pt->arena_len = 1;
    pt->nvalues = 0;
    pt->n = pt->nids = 0;
    pt->visits = pt->first_ms = pt->last_ms = 0;
}

size_t vwin_nrows(int part)
{
    return parts[part].n;
}

bool vwin_nearly_full(int part)
{
    const struct part *pt = &parts[part];
    return pt->n >= part_cap / 4 * 3 || arena_used(pt) >= arena_for(part_cap) / 4 * 3 ||
           pt->nvalues >= values_for(part_cap) / 4 * 3;
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
