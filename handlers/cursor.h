/* The list cursor: opaque to clients, a keyset position (the last link id of a page) to hop. */
#ifndef HOP_CURSOR_H
#define HOP_CURSOR_H

#include <stddef.h>

enum { CURSOR_MAX = 48 };

/* Writes the cursor for a page that ended at id (> 0) into out. */
void cursor_encode(long long id, char out[CURSOR_MAX]);
/* Reads a cursor: 0 and *id, or -1 when s is not one hop made. */
int cursor_decode(const char *s, long long *id);

#endif
