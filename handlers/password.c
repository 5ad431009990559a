/* Link passwords; see password.h.
 *
 * Cost: Argon2id with 2 passes over 19 MiB, OWASP's recommended minimum for Argon2id. One check takes a few
 * tens of milliseconds of one core, so guessing from one address is bounded by the per-link attempt limit
 * (guard.c) long before the hash's cost matters, while a worker answering a right password stays quick and
 * 2 x CPUs workers checking at once need under 200 MiB. Stronger settings would let a few concurrent form
 * posts hold every worker busy. */
#include "password.h"

#include <sodium.h>
#include <string.h>

enum { OPS = 2, MEM = 19 * 1024 * 1024 };

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "hash buffer size");

int password_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

int password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
    return crypto_pwhash_str(out, password, strlen(password), OPS, MEM) == 0 ? 0 : -1;
}

bool password_matches(const char *hash, const char *password, size_t len)
{
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}
