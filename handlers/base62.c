/* Random base62 text; see base62.h. */
#include "base62.h"

#include <openssl/crypto.h>
#include <string.h>
#include <sys/random.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

void base62_random(char *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        unsigned char rnd[64];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            continue;
        /* 248 = 4 * 62: larger bytes are dropped so that every character is equally likely */
        for (size_t i = 0; i < sizeof(rnd) && done < n; i++) {
            if (rnd[i] < 248)
                out[done++] = alphabet[rnd[i] % 62];
        }
        /* the bytes may become a key: leave none of them behind */
        OPENSSL_cleanse(rnd, sizeof(rnd));
    }
    out[n] = '\0';
}

bool base62_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!s[i] || !strchr(alphabet, s[i]))
            return false;
    }
    return true;
}
