/* Allocation that cannot fail; see xalloc.h. */
#include "xalloc.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

/* abort(), not exit(): no atexit handler runs in a process whose heap may be in any state, and the core dump
 * (where enabled) shows who asked. */
_Noreturn static void out_of_memory(const char *func, size_t n)
{
    log_at(LOG_LEVEL_FATAL, func, "out of memory", "bytes=%zu", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        out_of_memory(__func__, n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count, size);
    if (!p) /* calloc also fails when the product overflows: report the saturated size then */
        out_of_memory(__func__, size && count > (size_t)-1 / size ? (size_t)-1 : count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q && n > 0) /* realloc(p, 0) may free p and return NULL: that is not a failure */
        out_of_memory(__func__, n);
    return q;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        out_of_memory(__func__, strlen(s) + 1);
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p)
        out_of_memory(__func__, strnlen(s, n) + 1);
    return p;
}
