/* Typed queries on owners and API keys. Keys arrive here only as SHA-256 hashes. */
#ifndef HOP_DB_KEYS_H
#define HOP_DB_KEYS_H

#include <stddef.h>
#include <string.h>

enum { KEY_HASH_LEN = 32 };

/* What a key may do; each scope includes the ones before it. */
enum key_scope { KEY_SCOPE_READ, KEY_SCOPE_CREATE, KEY_SCOPE_FULL };

/* An unrevoked key, as authentication needs it. */
struct key_grant {
    long long owner_id, key_id;
    enum key_scope scope;
};

/* The scope's name ("read", "create", "full"). Inline, with key_scope_parse, so that the handler tests, which
 * link an in-memory database instead of db/, name scopes the same way. */
static inline const char *key_scope_name(enum key_scope s)
{
    return s == KEY_SCOPE_READ ? "read" : s == KEY_SCOPE_CREATE ? "create" : "full";
}
/* The scope named name: 0 and *s, or -1 for an unknown name. */
static inline int key_scope_parse(const char *name, enum key_scope *s)
{
    for (int i = KEY_SCOPE_READ; i <= KEY_SCOPE_FULL; i++) {
        if (strcmp(name, key_scope_name((enum key_scope)i)) == 0) {
            *s = (enum key_scope)i;
            return 0;
        }
    }
    return -1;
}

/* The unrevoked key with this hash: DB_OK and *grant, or DB_NOT_FOUND. */
int db_key_find(const unsigned char hash[KEY_HASH_LEN], struct key_grant *grant);
/* Makes the owner if new and stores a key hash for it with its scope; *key_id is the key's number. */
int db_key_add(const char *owner, const unsigned char hash[KEY_HASH_LEN], enum key_scope scope,
               long long *key_id);

struct key_row {
    const char *owner, *scope, *created;
    long long id;
    const char *last_used; /* NULL when never used */
    const char *revoked;   /* NULL when active */
};
/* Calls fn for every key, by owner and number. */
int db_keys_list(void (*fn)(const struct key_row *row));
/* Revokes every active key of owner; *count says how many. */
int db_keys_revoke(const char *owner, int *count);
/* Revokes key number id: DB_OK with its owner's name in owner (cap bytes), or DB_NOT_FOUND when there is no
 * such active key. */
int db_key_revoke_id(long long id, char *owner, size_t cap);
/* Records when keys were last used: n key ids and seconds since the epoch; a time never goes back. */
int db_keys_touch(const long long *ids, const long long *epochs, size_t n);

#endif
