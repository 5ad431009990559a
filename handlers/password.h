/* Link passwords, stored only as libsodium's crypto_pwhash_str (Argon2id: salted, slow, memory-hard). */
#ifndef HOP_PASSWORD_H
#define HOP_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

enum { PASSWORD_HASH_MAX = 128 }; /* crypto_pwhash_STRBYTES */

/* Prepares libsodium; call once before forking. 0, or -1 when it cannot start. */
int password_init(void);
/* Hashes password into out: 0, or -1 when memory for the hash cannot be had. */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* Whether password[0..len) matches hash (constant time, whatever the length). */
bool password_matches(const char *hash, const char *password, size_t len);

#endif
