/* API keys: their format, their hash, and the Bearer authentication every /api request passes first. */
#ifndef HOP_AUTH_H
#define HOP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct req;
struct resp;

enum { AUTH_KEY_LEN = 36 }; /* "hop_" and 32 base62 characters */

/* Copies the token of an "Authorization: Bearer <token>" header (scheme in any case) into out.
 * Returns 0, or -1 when the header is missing or malformed or the token does not fit. */
int auth_parse_bearer(const char *header, char *out, size_t cap);
/* Whether token has the shape of a hop key; others are refused without asking the database. */
bool auth_key_shape(const char *token);
/* SHA-256 of the key: what the database stores. */
void auth_hash(const char *key, unsigned char out[32]);
/* A new key from the kernel's CSPRNG. */
void auth_new_key(char out[AUTH_KEY_LEN + 1]);
/* Authenticates r: 0 with r->user_id set, or an answered 401/503 (returns -1). */
int auth_request(struct req *r, struct resp *w);

/* hop keys create|list|revoke: the process exit status. */
int keys_command(int argc, char **argv);

#endif
