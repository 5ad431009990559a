/* Typed queries on the web page's sessions. Session ids, like keys, arrive here only as SHA-256 hashes. */
#ifndef HOP_DB_SESSIONS_H
#define HOP_DB_SESSIONS_H

#include "db_keys.h"

struct arena;

enum { SESSION_HASH_LEN = 32 };

/* Stores a session (sid_hash) of the unrevoked key key_hash for ttl seconds: DB_OK with its owner and its
 * expiry (RFC 3339, from a), or DB_NOT_FOUND when the key is unknown or revoked. */
int db_session_create(struct arena *a, const unsigned char key_hash[KEY_HASH_LEN],
                      const unsigned char sid_hash[SESSION_HASH_LEN], int ttl, long long *owner_id,
                      const char **expires_at);
/* A live session (unexpired, its key unrevoked): DB_OK with its key's grant (owner, key number, scope) and
 * *expires_at (from a), or DB_NOT_FOUND. */
int db_session_find(struct arena *a, const unsigned char sid_hash[SESSION_HASH_LEN], struct key_grant *grant,
                    const char **expires_at);
/* Forgets a session; DB_OK whether or not it existed. */
int db_session_delete(const unsigned char sid_hash[SESSION_HASH_LEN]);

#endif
