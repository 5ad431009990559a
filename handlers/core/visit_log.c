/* The visit log's encoding of the master's sums; see visit_log.h. A row holds one batch's sums of one part,
 * each as its link id (8 bytes), hour (4), count (8), bot, device, browser and OS (1 each), country (2, zeros
 * for none), then the referrer host and each UTM value as its length (1) and bytes; integers little-endian.
 * It is read back field by field: another master, of another build, may have written it. */
#include "visit_log.h"

#include "ua.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { SUM_FIXED = 8 + 4 + 8 + 4 + 2 };

static unsigned char *put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static unsigned char *put_text(unsigned char *w, const char *t)
{
    size_t l = strnlen(t, VISITS_VALUE_MAX);
    *w++ = (unsigned char)l;
    memcpy(w, t, l);
    return w + l;
}

static int get_text(const unsigned char *d, size_t len, size_t *o, char out[VISITS_VALUE_MAX + 1])
{
    if (*o >= len)
        return -1;
    size_t l = d[*o];
    if (l > VISITS_VALUE_MAX || len - *o - 1 < l || memchr(d + *o + 1, '\0', l))
        return -1;
    memcpy(out, d + *o + 1, l);
    out[l] = '\0';
    *o += 1 + l;
    return 0;
}

static size_t sum_size(const struct sum *s)
{
    size_t n = SUM_FIXED + 1 + strnlen(s->key.v.host, VISITS_VALUE_MAX);
    for (int u = 0; u < VISITS_NUTM; u++)
        n += 1 + strnlen(s->key.v.utm[u], VISITS_VALUE_MAX);
    return n;
}

size_t vlog_encode(const struct sum *rows, size_t n, unsigned char **out, int off[VWIN_PARTS],
                   int len[VWIN_PARTS])
{
    size_t size[VWIN_PARTS] = {0}, at[VWIN_PARTS], total = 0;
    for (size_t k = 0; k < n; k++)
        size[vwin_part_of(rows[k].key.link_id)] += sum_size(&rows[k]);
    for (int p = 0; p < VWIN_PARTS; p++) {
        off[p] = (int)total;
        len[p] = (int)size[p];
        at[p] = total;
        total += size[p];
    }
    unsigned char *buf = xmalloc(total ? total : 1);
    for (size_t k = 0; k < n; k++) {
        const struct key *key = &rows[k].key;
        int p = vwin_part_of(key->link_id);
        unsigned char *w = buf + at[p];
        w = put_le(w, (uint64_t)key->link_id, 8);
        w = put_le(w, (uint32_t)key->hour, 4);
        w = put_le(w, (uint64_t)rows[k].count, 8);
        *w++ = key->v.bot;
        *w++ = key->v.device;
        *w++ = key->v.browser;
        *w++ = key->v.os;
        *w++ = (unsigned char)key->v.country[0];
        *w++ = key->v.country[0] ? (unsigned char)key->v.country[1] : 0;
        w = put_text(w, key->v.host);
        for (int u = 0; u < VISITS_NUTM; u++)
            w = put_text(w, key->v.utm[u]);
        at[p] = (size_t)(w - buf);
    }
    *out = buf;
    return total;
}

static bool country_ok(const char c[4])
{
    if (!c[0] && !c[1])
        return true;
    return c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

long long vlog_decode(int part, const unsigned char *d, size_t len, struct sum **out)
{
    if (len == 0)
        return -1; /* a batch writes no empty part */
    size_t cap = len / (SUM_FIXED + 1 + VISITS_NUTM) + 1, n = 0, o = 0;
    struct sum *rows = xmalloc(cap * sizeof(*rows));
    while (o < len) {
        if (len - o < SUM_FIXED || n == cap)
            goto bad;
        struct sum *s = &rows[n];
        memset(s, 0, sizeof(*s));
        s->key.link_id = (int64_t)get_le(d + o, 8);
        s->key.hour = (int32_t)get_le(d + o + 8, 4);
        s->count = (long long)get_le(d + o + 12, 8);
        const unsigned char *f = d + o + 20;
        s->key.v.bot = f[0];
        s->key.v.device = f[1];
        s->key.v.browser = f[2];
        s->key.v.os = f[3];
        s->key.v.country[0] = (char)f[4];
        s->key.v.country[1] = (char)f[5];
        o += SUM_FIXED;
        if (get_text(d, len, &o, s->key.v.host) < 0)
            goto bad;
        for (int u = 0; u < VISITS_NUTM; u++) {
            if (get_text(d, len, &o, s->key.v.utm[u]) < 0)
                goto bad;
        }
        if (s->key.link_id <= 0 || vwin_part_of(s->key.link_id) != part || s->count <= 0 ||
            s->key.v.bot > 1 || s->key.v.device >= UA_NDEVICES || !country_ok(s->key.v.country))
            goto bad;
        n++;
    }
    *out = rows;
    return (long long)n;
bad:
    free(rows);
    return -1;
}
