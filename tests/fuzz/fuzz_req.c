/* Fuzzes request intake (fcgi-app/req.c): req_init from fuzzed FastCGI params, req_content_type_is, and
 * req_read_body from an in-memory body source that delivers in fuzzed chunks and may fail or time out.
 * Input: one control byte, then REQUEST_URI, REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH,
 * HTTP_X_REQUEST_ID and PATH_INFO separated by NUL bytes (a param is absent when the input ends before it),
 * then the body. */
#include "fuzz.h"

#include "arena.h"
#include "req.h"

#include <limits.h>
#include <strings.h>

enum { NFIELDS = 6 };
static const char *const field_names[NFIELDS] = {"REQUEST_URI",    "REQUEST_METHOD",    "CONTENT_TYPE",
                                                 "CONTENT_LENGTH", "HTTP_X_REQUEST_ID", "PATH_INFO"};

struct source {
    const unsigned char *data;
    size_t len, pos, chunk;
    unsigned fail_call; /* 1-based call that fails, 0 for none */
    ssize_t fail_rc;    /* -1 (broken stream) or -2 (deadline) */
    unsigned calls;
    ssize_t last_rc;
};

static ssize_t source_read(void *ctx, char *buf, size_t cap)
{
    struct source *s = ctx;
    FUZZ_CHECK(cap > 0, "read asked for 0 bytes");
    /* The whole claimed room must be writable: ASan reports a buffer smaller than cap. */
    memset(buf, 0xa5, cap);
    s->calls++;
    if (s->fail_call && s->calls == s->fail_call)
        return s->last_rc = s->fail_rc;
    size_t n = s->len - s->pos;
    if (n > cap)
        n = cap;
    if (n > s->chunk)
        n = s->chunk;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return s->last_rc = (ssize_t)n;
}

static bool id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("._~:/+=-", c));
}

/* What req_init must make of CONTENT_LENGTH: -1 when absent, empty or "-1" (Caddy's mark for a chunked
 * body), -2 when it is anything but decimal digits, LLONG_MAX when the digits are too many to matter. */
static long long want_length(const char *s)
{
    if (!s || !*s || strcmp(s, "-1") == 0)
        return -1;
    size_t n = strlen(s);
    if (strspn(s, "0123456789") != n)
        return -2;
    if (n > 18) /* all of 18 digits fit in a long long; more would be past any body limit anyway */
        return LLONG_MAX;
    return atoll(s);
}

static void check_content_type(const struct req *r, const char *ct)
{
    static const char *const wants[] = {"application/json", "APPLICATION/JSON", "text/plain"};
    bool json = req_content_type_is(r, wants[0]);
    FUZZ_CHECK(json == req_content_type_is(r, wants[1]), "media type compared with case");
    for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
        if (!req_content_type_is(r, wants[i]))
            continue;
        FUZZ_CHECK(ct != NULL, "a missing Content-Type matched %s", wants[i]);
        const char *p = ct + strspn(ct, " \t");
        size_t n = strlen(wants[i]);
        FUZZ_CHECK(strncasecmp(p, wants[i], n) == 0 && strchr(" \t;", p[n]) != NULL, "\"%s\" matched %s", ct,
                   wants[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned ctrl = data[0];
    data++;
    size--;

    char *env[NFIELDS + 1] = {NULL};
    const char *value[NFIELDS] = {NULL};
    size_t nenv = 0;
    for (size_t i = 0; i < NFIELDS && size > 0; i++) {
        const uint8_t *f;
        size_t flen;
        bool more = fuzz_split(&data, &size, 0, &f, &flen);
        size_t nlen = strlen(field_names[i]);
        char *kv = malloc(nlen + 1 + flen + 1);
        memcpy(kv, field_names[i], nlen);
        kv[nlen] = '=';
        memcpy(kv + nlen + 1, f, flen);
        kv[nlen + 1 + flen] = '\0';
        env[nenv++] = kv;
        value[i] = kv + nlen + 1;
        if (!more)
            break;
    }
    const char *uri = value[0], *method = value[1], *ct = value[2], *cl = value[3], *rid = value[4];

    struct arena *a = arena_new(1024);
    struct req r;
    const char *detail = NULL;
    int rc = req_init(&r, a, env, &detail);
    FUZZ_CHECK(rc == 0 || rc == 400, "req_init returned %d", rc);
    FUZZ_CHECK((rc == 400) == (detail != NULL), "req_init %d with detail %s", rc, detail ? detail : "NULL");
    FUZZ_CHECK(r.path && strlen(r.path) == r.path_len, "path length %zu is not where the NUL is", r.path_len);
    if (rc == 0 && uri && *uri)
        FUZZ_CHECK(r.path[0] == '/', "a request target gave the path \"%s\"", r.path);
    FUZZ_CHECK(strcmp(r.method, method ? method : "GET") == 0, "method \"%s\"", r.method);
    FUZZ_CHECK(r.content_length == want_length(cl), "Content-Length \"%s\" read as %lld, want %lld",
               cl ? cl : "(none)", r.content_length, want_length(cl));
    /* The request id is echoed in a response header and the log: only its safe alphabet may pass. */
    size_t idlen = strlen(r.id);
    FUZZ_CHECK(idlen <= REQ_ID_MAX, "request id of %zu bytes", idlen);
    for (size_t i = 0; i < idlen; i++)
        FUZZ_CHECK(id_char((unsigned char)r.id[i]), "request id byte %#x", (unsigned char)r.id[i]);
    bool rid_ok = rid && *rid && strlen(rid) <= REQ_ID_MAX;
    for (size_t i = 0; rid_ok && rid[i]; i++)
        rid_ok = id_char((unsigned char)rid[i]);
    FUZZ_CHECK(rid_ok ? strcmp(r.id, rid) == 0 : idlen == 0, "request id \"%s\" from \"%s\"", r.id,
               rid ? rid : "(none)");
    for (size_t i = 0; i < r.nqs; i++)
        FUZZ_CHECK(strlen(r.qs[i].value) == r.qs[i].value_len, "query value %zu length", i);

    check_content_type(&r, ct);

    /* The body, with one of a few limits so that 413 is reachable with small inputs. */
    static const size_t limits[] = {0, 16, 300, 64 * 1024};
    static const size_t chunks[] = {1, 2, 3, 7, 64, 4096, SIZE_MAX, 5};
    r.max_body = limits[ctrl & 3];
    struct source src = {.data = data, .len = size, .chunk = chunks[(ctrl >> 2) & 7]};
    unsigned fail = (ctrl >> 5) & 3;
    src.fail_call = fail ? (ctrl & 0x80 ? 1 : 2) + fail - 1 : 0;
    src.fail_rc = (fail & 1) ? -1 : -2;
    bool has_source = (ctrl & 0x60) != 0x60 || !(ctrl & 0x80); /* one combination runs without a source */
    if (has_source) {
        r.body_src.ctx = &src;
        r.body_src.read = source_read;
    }
    detail = NULL;
    int brc = req_read_body(&r, &detail);
    long long len = r.content_length;
    int want;
    if (len == -2)
        want = 400; /* a Content-Length that is not a number */
    else if (len >= 0 && (unsigned long long)len > r.max_body)
        want = 413;
    else if (len == 0 || !has_source)
        want = 0;
    else if (src.last_rc == -2)
        want = 408;
    else if (src.last_rc == -1)
        want = 400;
    else if (src.pos > r.max_body)
        want = 413;
    else if (len > 0 && src.pos < (size_t)len)
        want = 400; /* never act on a body shorter than its Content-Length */
    else
        want = 0;
    FUZZ_CHECK(brc == want, "req_read_body = %d (%s), want %d; length %lld, limit %zu, %zu of %zu bytes read",
               brc, detail ? detail : "", want, len, r.max_body, src.pos, src.len);
    FUZZ_CHECK((brc != 0) == (detail != NULL), "status %d with detail %s", brc, detail ? detail : "NULL");
    if (len > 0)
        FUZZ_CHECK(src.pos <= (size_t)len, "read %zu bytes past Content-Length %lld", src.pos, len);
    else
        FUZZ_CHECK(src.pos <= r.max_body + 1, "read %zu bytes with a limit of %zu", src.pos, r.max_body);
    FUZZ_CHECK(r.body && r.body[r.body_len] == '\0', "body not NUL-terminated");
    if (brc == 0) {
        /* without a source (a request built in memory) there is no body, whatever the length says */
        size_t want_len = !has_source ? 0 : len > 0 ? (size_t)len : len < 0 ? src.len : 0;
        FUZZ_CHECK(r.body_len == want_len, "body of %zu bytes, length %lld, source %zu", r.body_len, len,
                   src.len);
        FUZZ_CHECK(r.body_len == 0 || memcmp(r.body, data, r.body_len) == 0, "body bytes differ");
    } else {
        FUZZ_CHECK(r.body_len == 0, "a refused body kept %zu bytes", r.body_len);
    }
    /* Asking again gives the same verdict without reading again. */
    unsigned calls = src.calls;
    const char *detail2 = NULL;
    FUZZ_CHECK(req_read_body(&r, &detail2) == brc && detail2 == detail && src.calls == calls,
               "the second req_read_body differs or read again");

    arena_free(a);
    for (size_t i = 0; i < nenv; i++)
        free(env[i]);
    return 0;
}
