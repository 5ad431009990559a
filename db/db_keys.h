/* Typed queries on owners and API keys. Keys arrive here only as SHA-256 hashes. */
#ifndef HOP_DB_KEYS_H
#define HOP_DB_KEYS_H

enum { KEY_HASH_LEN = 32 };

/* The owner of an unrevoked key with this hash: DB_OK and *owner_id, or DB_NOT_FOUND. */
int db_key_owner(const unsigned char hash[KEY_HASH_LEN], long long *owner_id);
/* Makes the owner if new and stores a key hash for it. */
int db_key_add(const char *owner, const unsigned char hash[KEY_HASH_LEN]);
/* Calls fn for every key: owner name, key id, created_at, revoked_at (NULL when active). */
int db_keys_list(void (*fn)(const char *owner, long long id, const char *created, const char *revoked));
/* Revokes every active key of owner; *count says how many. */
int db_keys_revoke(const char *owner, int *count);

#endif
