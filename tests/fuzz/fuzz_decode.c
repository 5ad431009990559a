/* Fuzzes percent-decoding and query strings (fcgi-app/req.c: req_decode, req_parse_query, req_query) against
 * a reference decoder written here: same verdict, same bytes, never longer than the input, never a NUL. */
#include "fuzz.h"

#include "arena.h"
#include "req.h"

static int hexval(unsigned char c)
{
    char two[2] = {(char)c, '\0'};
    return fuzz_is_hex(c) ? (int)strtol(two, NULL, 16) : -1;
}

/* The reference: "%XX" with two hex digits is one byte, '+' is a space in query strings, and a malformed
 * escape or a NUL (raw or escaped) makes the whole input bad. */
static ssize_t ref_decode(const unsigned char *in, size_t len, unsigned char *out, bool plus_space)
{
    size_t o = 0, i = 0;
    while (i < len) {
        unsigned char c = in[i];
        if (c == '%') {
            if (i + 2 >= len || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
                return -1;
            c = (unsigned char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 3;
        } else {
            if (c == '+' && plus_space)
                c = ' ';
            i++;
        }
        if (c == 0)
            return -1;
        out[o++] = c;
    }
    return (ssize_t)o;
}

static void check_decode(const char *in, size_t len, bool plus_space)
{
    char *out = malloc(len + 1); /* exactly the room req.h promises is enough */
    unsigned char *want = malloc(len + 1);
    ssize_t n = req_decode(in, len, out, plus_space);
    ssize_t w = ref_decode((const unsigned char *)in, len, want, plus_space);
    FUZZ_CHECK(n == w, "plus_space %d: decoded length %zd, reference %zd", plus_space, n, w);
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= len, "output %zd longer than input %zu", n, len);
        FUZZ_CHECK(memcmp(out, want, (size_t)n) == 0, "plus_space %d: bytes differ from the reference",
                   plus_space);
        FUZZ_CHECK(out[n] == '\0' && memchr(out, '\0', (size_t)n) == NULL, "NUL inside or none after");

        /* Encoding every byte again and decoding gives the same bytes back. */
        char *enc = malloc(3 * (size_t)n + 1), *back = malloc(3 * (size_t)n + 1);
        for (ssize_t i = 0; i < n; i++)
            snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)out[i]);
        FUZZ_CHECK(req_decode(enc, 3 * (size_t)n, back, plus_space) == n && memcmp(back, out, (size_t)n) == 0,
                   "re-encoded output does not decode to itself");
        free(enc);
        free(back);
    }
    free(out);
    free(want);
}

/* Checks r->qs against a split done here, and req_query's verdict for name. */
static void check_query(const struct req *r, const char *q, size_t len)
{
    size_t k = 0, start = 0, amps = 0;
    for (size_t i = 0; i < len; i++)
        amps += q[i] == '&';
    FUZZ_CHECK(r->nqs <= amps + 1, "%zu parameters from %zu '&'", r->nqs, amps);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && q[i] != '&')
            continue;
        size_t plen = i - start;
        const char *part = q + start;
        start = i + 1;
        if (plen == 0)
            continue; /* "a&&b" has two parameters */
        FUZZ_CHECK(k < r->nqs, "parameter %zu missing", k);
        const struct req_kv *kv = &r->qs[k++];
        const char *eq = memchr(part, '=', plen);
        size_t nlen = eq ? (size_t)(eq - part) : plen, vlen = eq ? plen - nlen - 1 : 0;
        unsigned char *name = malloc(nlen + 1), *value = malloc(vlen + 1);
        ssize_t dn = ref_decode((const unsigned char *)part, nlen, name, true);
        ssize_t dv = ref_decode((const unsigned char *)(eq ? eq + 1 : part + plen), vlen, value, true);
        FUZZ_CHECK(kv->bad == (dn < 0 || dv < 0), "parameter %zu: bad is %d", k, kv->bad);
        FUZZ_CHECK(kv->name[kv->name_len] == '\0' && kv->value[kv->value_len] == '\0',
                   "parameter %zu not NUL-terminated", k);
        if (dn >= 0)
            FUZZ_CHECK(kv->name_len == (size_t)dn && memcmp(kv->name, name, (size_t)dn) == 0,
                       "parameter %zu: name differs", k);
        else /* a malformed name is kept raw, so that an error can still name it */
            FUZZ_CHECK(kv->name_len == nlen && memcmp(kv->name, part, nlen) == 0, "parameter %zu: raw name",
                       k);
        if (dv >= 0)
            FUZZ_CHECK(kv->value_len == (size_t)dv && memcmp(kv->value, value, (size_t)dv) == 0,
                       "parameter %zu: value differs", k);
        else
            FUZZ_CHECK(kv->value_len == 0, "parameter %zu: a malformed value must read as empty", k);
        free(name);
        free(value);
    }
    FUZZ_CHECK(k == r->nqs, "%zu parameters, the reference split %zu", r->nqs, k);
}

/* req_query: 0 absent, 1 exactly once and well-formed, -1 repeated or malformed. */
static void check_lookup(const struct req *r, const char *name)
{
    size_t seen = 0;
    bool bad = false;
    for (size_t i = 0; i < r->nqs; i++) {
        if (strcmp(r->qs[i].name, name) == 0) {
            seen++;
            bad = bad || r->qs[i].bad;
        }
    }
    const char *value = NULL;
    int rc = req_query(r, name, &value);
    int want = seen == 0 ? 0 : (seen > 1 || bad) ? -1 : 1;
    FUZZ_CHECK(rc == want, "req_query(\"%s\") = %d, want %d", name, rc, want);
    if (rc == 1)
        FUZZ_CHECK(value != NULL, "req_query(\"%s\") found no value", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_copy(data, size);
    check_decode(in, size, false);
    check_decode(in, size, true);

    struct arena *a = arena_new(1024);
    struct req r;
    memset(&r, 0, sizeof(r));
    r.arena = a;
    req_parse_query(&r, in, size);
    check_query(&r, in, size);
    static const char *const names[] = {"cursor", "limit", "q", "", "a"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        check_lookup(&r, names[i]);
    for (size_t i = 0; i < r.nqs && i < 16; i++)
        check_lookup(&r, r.qs[i].name);
    arena_free(a);
    free(in);
    return 0;
}
