/* Per-request memory: one arena per request, released in one place when the request ends.
 * Allocation failure aborts the worker (the master replaces it) instead of spreading NULL checks. */
#ifndef HOP_ARENA_H
#define HOP_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(size_t first_block);
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs fn(ptr) when the arena is reset or freed: for json-c objects, PGresults and the like. */
void arena_defer(struct arena *a, void (*fn)(void *), void *ptr);
/* Releases everything but the first block, so a worker reuses one arena for all its requests. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);
/* Total bytes handed out since the last reset (for tests and limits). */
size_t arena_used(const struct arena *a);

#endif
