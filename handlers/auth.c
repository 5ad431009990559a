/* API key format, hashing and request authentication; see auth.h. */
#include "auth.h"

#include "db.h"
#include "keys.h"
#include "req.h"
#include "resp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static const char base62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int auth_parse_bearer(const char *header, char *out, size_t cap)
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

bool auth_key_shape(const char *token)
{
    if (strlen(token) != AUTH_KEY_LEN || strncmp(token, "hop_", 4) != 0)
        return false;
    return strspn(token + 4, base62) == AUTH_KEY_LEN - 4;
}

void auth_hash(const char *key, unsigned char out[32])
{
    unsigned int len = 32;
    if (EVP_Digest(key, strlen(key), out, &len, EVP_sha256(), NULL) != 1) {
        /* no SHA-256 means no authentication at all: fail loudly rather than match anything */
        fprintf(stderr, "level=fatal msg=\"SHA-256 unavailable\"\n");
        abort();
    }
}

void auth_new_key(char out[AUTH_KEY_LEN + 1])
{
    memcpy(out, "hop_", 4);
    int n = 4;
    while (n < AUTH_KEY_LEN) {
        unsigned char rnd[64];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            continue;
        /* 248 = 4 * 62: larger bytes are dropped so every character is equally likely */
        for (size_t i = 0; i < sizeof(rnd) && n < AUTH_KEY_LEN; i++) {
            if (rnd[i] < 248)
                out[n++] = base62[rnd[i] % 62];
        }
        OPENSSL_cleanse(rnd, sizeof(rnd));
    }
    out[AUTH_KEY_LEN] = '\0';
}

static void unauthorized(struct resp *w, const char *detail)
{
    resp_header(w, "WWW-Authenticate", "Bearer");
    resp_header(w, "Cache-Control", "no-store");
    resp_problem(w, 401, detail);
}

int auth_request(struct req *r, struct resp *w)
{
    char token[128];
    const char *header = req_env(r, "HTTP_AUTHORIZATION");
    if (!header) {
        unauthorized(w, "this API needs an Authorization: Bearer <key> header");
        return -1;
    }
    if (auth_parse_bearer(header, token, sizeof(token)) < 0 || !auth_key_shape(token)) {
        unauthorized(w, "the Authorization header does not hold a hop API key");
        return -1;
    }
    unsigned char hash[32];
    auth_hash(token, hash);
    OPENSSL_cleanse(token, sizeof(token));
    int rc = db_key_owner(hash, &r->user_id);
    if (rc == DB_OK)
        return 0;
    if (rc == DB_NOT_FOUND) {
        unauthorized(w, "this API key is unknown or revoked");
        return -1;
    }
    resp_header(w, "Retry-After", "1");
    resp_problem(w, 503, "the database cannot be reached; try again shortly");
    return -1;
}
