/* List cursors: base64url (no padding) of "v1:<id>". The version leaves room to change the keyset later
 * without breaking cursors clients still hold. */
#include "cursor.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void cursor_encode(long long id, char out[CURSOR_MAX])
{
    char raw[32];
    int n = snprintf(raw, sizeof(raw), "v1:%lld", id);
    size_t o = 0;
    for (int i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)raw[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)raw[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)raw[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
}

int cursor_decode(const char *s, long long *id)
{
    size_t len = strlen(s);
    if (len < 6 || len >= CURSOR_MAX || len % 4 == 1)
        return -1;
    char raw[CURSOR_MAX];
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(b64, s[i]);
        if (!p || !s[i])
            return -1;
        acc = (acc << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    /* leftover bits must be zero, so that one cursor has one spelling */
    if (acc & ((1u << bits) - 1))
        return -1;
    raw[o] = '\0';
    if (o < 4 || strncmp(raw, "v1:", 3) != 0 || raw[3] == '0')
        return -1;
    long long v = 0;
    for (size_t i = 3; i < o; i++) {
        if (raw[i] < '0' || raw[i] > '9' || v > (LLONG_MAX - (raw[i] - '0')) / 10)
            return -1;
        v = v * 10 + (raw[i] - '0');
    }
    *id = v;
    return 0;
}
