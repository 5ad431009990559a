/* Growable arena-backed buffer; see buf.h. */
#include "buf.h"

#include "arena.h"
#include "decimal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void buf_init(struct buf *b, struct arena *a, size_t cap)
{
    b->arena = a;
    b->cap = cap < 64 ? 64 : cap;
    b->data = arena_alloc(a, b->cap);
    b->len = 0;
}

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return;
    size_t cap = b->cap * 2;
    while (cap - b->len <= extra)
        cap *= 2;
    char *p = arena_alloc(b->arena, cap);
    memcpy(p, b->data, b->len);
    b->data = p;
    b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_addu(struct buf *b, unsigned long long v)
{
    char digits[DECIMAL_MAX];
    size_t n = decimal_u64(digits, v);
    buf_add(b, digits, n);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *buf_str(struct buf *b)
{
    buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return b->data;
}
