/* Random base62 text from the kernel's CSPRNG: generated slugs and API keys. */
#ifndef HOP_BASE62_H
#define HOP_BASE62_H

#include <stdbool.h>
#include <stddef.h>

/* Writes n random characters of [A-Za-z0-9], each equally likely, and a NUL into out (n + 1 bytes). */
void base62_random(char *out, size_t n);
/* Whether s[0..n) holds only base62 characters. */
bool base62_only(const char *s, size_t n);

#endif
