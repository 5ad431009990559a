/* A bump allocator with destructors: everything a request owns dies with its arena. */
#include "arena.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
    struct block *next;
    size_t size, used;
    max_align_t data[];
};

struct deferred {
    struct deferred *next;
    void (*fn)(void *);
    void *ptr;
};

struct arena {
    struct block *head;  /* current block, newest first */
    struct block *first; /* kept across resets */
    struct deferred *defers;
    size_t total;
};

static struct block *block_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(struct block)) {
        fprintf(stderr, "level=fatal msg=\"arena request overflows\"\n");
        abort();
    }
    struct block *b = xmalloc(sizeof(*b) + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct arena *arena_new(size_t first_block)
{
    struct arena *a = xmalloc(sizeof(*a));
    if (first_block < 64)
        first_block = 64;
    a->first = a->head = block_new(first_block);
    a->defers = NULL;
    a->total = 0;
    return a;
}

void *arena_alloc(struct arena *a, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size_t need = (size + align - 1) & ~(align - 1);
    if (need < size) {
        fprintf(stderr, "level=fatal msg=\"arena request overflows\"\n");
        abort();
    }
    if (a->head->size - a->head->used < need) {
        size_t sz = a->head->size * 2;
        if (sz < need)
            sz = need;
        struct block *b = block_new(sz);
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += need;
    a->total += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
    return memset(arena_alloc(a, size), 0, size);
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_defer(struct arena *a, void (*fn)(void *), void *ptr)
{
    struct deferred *d = arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->ptr = ptr;
    d->next = a->defers;
    a->defers = d;
}

void arena_reset(struct arena *a)
{
    /* Destructors first: their records live in the blocks freed below. */
    for (struct deferred *d = a->defers; d; d = d->next)
        d->fn(d->ptr);
    a->defers = NULL;
    while (a->head != a->first) {
        struct block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    a->first->used = 0;
    a->total = 0;
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    arena_reset(a);
    free(a->first);
    free(a);
}

size_t arena_used(const struct arena *a)
{
    return a->total;
}
