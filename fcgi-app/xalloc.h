/* The runtime's one out-of-memory policy: allocate or die. A worker that cannot allocate logs one fatal line
 * and aborts; the master sees it die and starts a new one, which is simpler and safer than threading an
 * allocation failure through every caller. */
#ifndef HOP_XALLOC_H
#define HOP_XALLOC_H

#include <stddef.h>

/* Each logs level=fatal with the size asked for and calls abort() when the allocation fails; none returns
 * NULL (but xrealloc(p, 0), which may free p and return NULL, as realloc does). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
