/* Fuzzes the Authorization header parser and the key shape check (handlers/apikey.c): a token handed over is
 * non-empty token68 text that fits, and the parser never reads past the header's NUL. */
#include "fuzz.h"

#include "apikey.h"

static bool token68(const char *t)
{
    size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
    while (t[n] == '=')
        n++;
    return n > 0 && t[n] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = fuzz_cstr(data, size);
    static const size_t caps[] = {1, 8, 37, 128};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        char *out = fuzz_copy("", caps[i]);
        if (apikey_parse_bearer(header, out, caps[i]) == 0) {
            FUZZ_CHECK(strlen(out) < caps[i], "token of %zu bytes in a buffer of %zu", strlen(out), caps[i]);
            FUZZ_CHECK(token68(out), "token \"%s\" is not token68", out);
            FUZZ_CHECK(strncasecmp(header, "bearer", 6) == 0, "accepted a header without the Bearer scheme");
            FUZZ_CHECK(strstr(header, out) != NULL, "token is not part of the header");
            if (apikey_shape(out))
                FUZZ_CHECK(strlen(out) == APIKEY_LEN && strncmp(out, "hop_", 4) == 0, "shape accepted \"%s\"",
                           out);
        }
        free(out);
    }
    free(header);
    return 0;
}
