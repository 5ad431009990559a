/* When each API key was last used, kept coarse on purpose: a worker notes a use in memory (no write on the
 * request's path) and writes a key's last use at its first use, then at most once a minute while it is used,
 * in one statement for all the keys due. */
#ifndef HOP_KEYUSE_H
#define HOP_KEYUSE_H

#include <stdbool.h>

enum { KEYUSE_EVERY_S = 60 };

/* Notes that key_id was used now. */
void keyuse_note(long long key_id);
/* Writes the last uses that are due (all that are not written yet with all, at a worker's stop). */
void keyuse_flush(bool all);

#endif
