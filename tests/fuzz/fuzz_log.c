/* Fuzzes log_quote (fcgi-app/log.c), the escaping that keeps request bytes from forging access-log lines:
 * the output is one printable-ASCII quoted value, within cap, that unescapes to the input or a cut prefix. */
#include "fuzz.h"

#include "log.h"

static int hexdigit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* log_quote writes lowercase hex only */
}

/* Length of s escaped in full, without the quotes. */
static size_t escaped_len(const unsigned char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (s[i] == '"' || s[i] == '\\') ? 2 : (s[i] < 0x20 || s[i] >= 0x7f) ? 4 : 1;
    return n;
}

static void check_quote(const unsigned char *s, size_t len, size_t cap)
{
    /* exactly cap bytes (one spare for cap 0, filled with a canary) so ASan catches any write past cap */
    char *out = malloc(cap ? cap : 1);
    if (!out)
        abort();
    out[0] = '#';
    size_t n = log_quote(out, cap, (const char *)s, len);
    if (cap < 8) {
        FUZZ_CHECK(n == 0, "cap %zu: returned %zu", cap, n);
        FUZZ_CHECK(cap == 0 ? out[0] == '#' : out[0] == '\0', "cap %zu: wrote %#x", cap, out[0]);
        free(out);
        return;
    }
    FUZZ_CHECK(n < cap, "cap %zu: returned %zu", cap, n);
    FUZZ_CHECK(out[n] == '\0' && strlen(out) == n, "cap %zu: length %zu is not where the NUL is", cap, n);
    FUZZ_CHECK(n >= 2 && out[0] == '"' && out[n - 1] == '"', "cap %zu: not a quoted value", cap);

    /* Unescape what is between the quotes; anything but the escapes log_quote promises is a violation. */
    unsigned char *dec = malloc(n);
    size_t d = 0;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_CHECK(c >= 0x20 && c < 0x7f, "cap %zu: raw byte %#x at %zu", cap, c, i);
        FUZZ_CHECK(c != '"', "cap %zu: unescaped quote at %zu", cap, i);
        if (c != '\\') {
            dec[d++] = c;
            continue;
        }
        FUZZ_CHECK(i + 1 < n - 1, "cap %zu: backslash escapes the closing quote", cap);
        unsigned char e = (unsigned char)out[i + 1];
        if (e == '"' || e == '\\') {
            dec[d++] = e;
            i++;
        } else {
            FUZZ_CHECK(e == 'x' && i + 3 < n - 1, "cap %zu: bad escape \\%c at %zu", cap, e, i);
            int hi = hexdigit((unsigned char)out[i + 2]), lo = hexdigit((unsigned char)out[i + 3]);
            FUZZ_CHECK(hi >= 0 && lo >= 0, "cap %zu: bad \\x escape at %zu", cap, i);
            unsigned char v = (unsigned char)(hi << 4 | lo);
            FUZZ_CHECK(v < 0x20 || v >= 0x7f, "cap %zu: printable %#x escaped", cap, v);
            dec[d++] = v;
            i += 3;
        }
    }
    bool whole = d == len && (len == 0 || memcmp(dec, s, len) == 0);
    if (!whole) {
        FUZZ_CHECK(d >= 3 && memcmp(dec + d - 3, "...", 3) == 0 && d - 3 < len && memcmp(dec, s, d - 3) == 0,
                   "cap %zu: output is neither the input nor a prefix of it followed by ...", cap);
        /* log_quote keeps room for the longest escape, "..." and the quote, so it may cut early, but never
         * when the whole escaped value and that reserve fit. */
        FUZZ_CHECK(escaped_len(s, len) + 6 > cap, "cap %zu: cut although %zu escaped bytes fit", cap,
                   escaped_len(s, len));
    }
    free(dec);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The caps log_access uses (64, 600), every small one around the cut-off, and one from the input. */
    static const size_t caps[] = {0, 1, 2, 7, 8, 9, 10, 11, 12, 13, 16, 64, 600};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        check_quote(data, size, caps[i]);
    if (size >= 2) {
        size_t cap = ((size_t)data[0] | (size_t)data[1] << 8) % 2048;
        char *s = fuzz_copy(data + 2, size - 2);
        check_quote((const unsigned char *)s, size - 2, cap);
        free(s);
    }
    return 0;
}
