/* Shared by hop's libFuzzer targets: the entry point's prototype, a property check that aborts (so libFuzzer
 * keeps the input as a crash) and exact-size copies of the input (so ASan sees any read past its end). */
#ifndef HOP_FUZZ_H
#define HOP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold for every input: on failure, say which and why, then abort. */
#define FUZZ_CHECK(cond, ...)                                                                                \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "\nproperty violated at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fputc('\n', stderr);                                                                             \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

/* A heap copy of exactly n bytes, without a terminator: reading s[n] is an ASan error. */
static inline char *fuzz_copy(const void *p, size_t n)
{
    char *s = malloc(n ? n : 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    return s;
}

/* A heap copy of n bytes plus a NUL, for APIs that take C strings. */
static inline char *fuzz_cstr(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Splits data at the first byte sep: *head and *head_len before it, the rest after it (or nothing). Returns
 * whether sep was found. */
static inline bool fuzz_split(const uint8_t **data, size_t *size, uint8_t sep, const uint8_t **head,
                              size_t *head_len)
{
    const uint8_t *p = memchr(*data, sep, *size);
    *head = *data;
    if (!p) {
        *head_len = *size;
        *data += *size;
        *size = 0;
        return false;
    }
    *head_len = (size_t)(p - *data);
    *size -= *head_len + 1;
    *data = p + 1;
    return true;
}

static inline bool fuzz_is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Well-formed UTF-8 (Unicode table 3-7), written apart from jsonin's so the two can disagree. */
static inline bool fuzz_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f, k = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f, k = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07, k = 3;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

#endif
