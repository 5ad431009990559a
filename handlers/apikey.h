/* API keys as text: "hop_" and 32 base62 characters from the kernel's CSPRNG, stored only as SHA-256. */
#ifndef HOP_APIKEY_H
#define HOP_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

enum { APIKEY_LEN = 36 }; /* "hop_" and 32 base62 characters */

/* Copies the token of an "Authorization: Bearer <token>" header (scheme in any case) into out.
 * Returns 0, or -1 when the header is missing or malformed or the token does not fit. */
int apikey_parse_bearer(const char *header, char *out, size_t cap);
/* Whether token has the shape of a hop key; others are refused without asking the database. */
bool apikey_shape(const char *token);
/* SHA-256 of the key: what the database stores. */
void apikey_hash(const char *key, unsigned char out[32]);
/* A new key from the kernel's CSPRNG. */
void apikey_new(char out[APIKEY_LEN + 1]);

#endif
