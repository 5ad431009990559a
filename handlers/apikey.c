/* API keys as text: their format in an Authorization header, their shape, making one and hashing one.
 * Kept apart from authentication so that the parsers can be tested and fuzzed without a database. */
#include "apikey.h"

#include "base62.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int apikey_parse_bearer(const char *header, char *out, size_t cap)
{
    if (!header || strncasecmp(header, "bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
        return -1;
    const char *p = header + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    /* RFC 6750 token68, and nothing after it but spaces */
    size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
    while (p[n] == '=')
        n++;
    const char *rest = p + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (n == 0 || *rest || n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

bool apikey_shape(const char *token)
{
    if (strlen(token) != APIKEY_LEN || strncmp(token, "hop_", 4) != 0)
        return false;
    return base62_only(token + 4, APIKEY_LEN - 4);
}

void apikey_hash(const char *key, unsigned char out[32])
{
    unsigned int len = 32;
    if (EVP_Digest(key, strlen(key), out, &len, EVP_sha256(), NULL) != 1) {
        /* no SHA-256 means no authentication at all: fail loudly rather than match anything */
        fprintf(stderr, "level=fatal msg=\"SHA-256 unavailable\"\n");
        abort();
    }
}

void apikey_new(char out[APIKEY_LEN + 1])
{
    memcpy(out, "hop_", 4);
    base62_random(out + 4, APIKEY_LEN - 4);
}
