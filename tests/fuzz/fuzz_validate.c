/* Fuzzes slug and target-URL validation (handlers/validate.c). An accepted URL is an absolute http(s) URL of
 * printable ASCII without userinfo and with a sane port, so nothing accepted can inject a header into
 * Location; a self base only ever adds the self-link refusal; and short links of the base are refused. */
#include "fuzz.h"

#include "validate.h"

#include <strings.h>

static const char *const bases[] = {"https://sho.rt", "https://localhost:8443", "http://[::1]:8080",
                                    "https://127.0.0.1", "HTTPS://Sho.RT.:443"};
/* Bases a misconfigured service might have: the check must fail closed. */
static const char *const bad_bases[] = {"ftp://sho.rt", "sho.rt", "https://", "https://sho.rt:99999"};

static const char *msg_self;

static bool is_slug_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void check_slug(const char *s, size_t len)
{
    bool chars = len >= 1 && len <= VALIDATE_SLUG_MAX;
    for (size_t i = 0; chars && i < len; i++)
        chars = is_slug_char((unsigned char)s[i]);
    static const char *const words[] = {"api", "healthz", "metrics", "static"};
    bool reserved = len > 0 && s[0] == '_';
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        reserved = reserved || (len == strlen(words[i]) && memcmp(s, words[i], len) == 0);
    FUZZ_CHECK(validate_slug_chars(s, len) == chars, "validate_slug_chars says %d", !chars);
    FUZZ_CHECK(validate_slug_unreserved(s, len) == !reserved, "validate_slug_unreserved says %d", reserved);
    const char *why = validate_slug(s, len);
    FUZZ_CHECK((why == NULL) == (chars && !reserved), "validate_slug: %s", why ? why : "accepted");
}

/* Necessary conditions for an accepted URL, checked on the bytes without a URI parser. */
static void check_accepted_shape(const char *u, size_t len)
{
    FUZZ_CHECK(len >= 1 && len <= VALIDATE_URL_MAX, "accepted a URL of %zu bytes", len);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(u[i] > 0x20 && u[i] < 0x7f, "accepted byte %#x at %zu", (unsigned char)u[i], i);
    const char *colon = memchr(u, ':', len);
    FUZZ_CHECK(colon != NULL, "accepted a URL without a scheme");
    size_t sl = (size_t)(colon - u);
    FUZZ_CHECK((sl == 4 && strncasecmp(u, "http", 4) == 0) || (sl == 5 && strncasecmp(u, "https", 5) == 0),
               "accepted the scheme %.*s", (int)sl, u);
    FUZZ_CHECK(len - sl >= 3 && colon[1] == '/' && colon[2] == '/', "accepted a URL without an authority");
    const char *auth = colon + 3, *end = u + len;
    size_t alen = 0;
    while (auth + alen < end && !strchr("/?#", auth[alen]))
        alen++;
    FUZZ_CHECK(alen > 0, "accepted an empty authority");
    FUZZ_CHECK(!memchr(auth, '@', alen), "accepted userinfo in %.*s", (int)alen, auth);
    const char *port;
    size_t hlen;
    if (auth[0] == '[') {
        const char *rb = memchr(auth, ']', alen);
        FUZZ_CHECK(rb != NULL, "accepted an unclosed IP literal");
        hlen = (size_t)(rb - auth) + 1;
    } else {
        const char *c = memchr(auth, ':', alen);
        hlen = c ? (size_t)(c - auth) : alen;
    }
    FUZZ_CHECK(hlen > 0, "accepted an empty host");
    /* a host is a DNS name or an IP literal, never percent-encoded */
    FUZZ_CHECK(auth[0] == '[' || !memchr(auth, '%', hlen), "accepted a percent-encoded host %.*s", (int)hlen,
               auth);
    port = auth + hlen;
    size_t plen = alen - hlen;
    if (plen > 0) {
        FUZZ_CHECK(port[0] == ':', "accepted junk after the host");
        unsigned long v = 0;
        for (size_t i = 1; i < plen; i++) {
            FUZZ_CHECK(port[i] >= '0' && port[i] <= '9', "accepted a port %.*s", (int)plen, port);
            v = v * 10 + (unsigned long)(port[i] - '0');
            FUZZ_CHECK(v <= 65535, "accepted a port %.*s", (int)plen, port);
        }
        FUZZ_CHECK(plen == 1 || v >= 1, "accepted port 0");
    }
}

static const char *url(const char *s, size_t len, const char *base)
{
    char *copy = fuzz_copy(s, len); /* not NUL-terminated: len is authoritative */
    const char *why = validate_url(copy, len, base);
    free(copy);
    return why;
}

/* The first byte a person most likely pasted by accident decides the answer: NUL, space, control, or
 * non-ASCII, each with its own detail (matched on a key word, so wording can change). */
static void check_byte_detail(const char *s, size_t len, const char *why)
{
    if (len == 0 || len > VALIDATE_URL_MAX)
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *word = c == 0                  ? "NUL"
                           : c == ' '              ? "space"
                           : c < 0x20 || c == 0x7f ? "control"
                           : c >= 0x80             ? "ASCII"
                                                   : NULL;
        if (word) {
            FUZZ_CHECK(why != NULL && strstr(why, word) != NULL, "byte %#x at %zu answered with: %s", c, i,
                       why ? why : "accepted");
            return;
        }
    }
}

static void check_url(const char *s, size_t len)
{
    const char *plain = url(s, len, NULL);
    check_byte_detail(s, len, plain);
    if (plain == NULL)
        check_accepted_shape(s, len);
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        const char *why = url(s, len, bases[i]);
        if (plain != NULL)
            FUZZ_CHECK(why == plain, "base %s changed the refusal %s to %s", bases[i], plain,
                       why ? why : "acceptance");
        else
            FUZZ_CHECK(why == NULL || why == msg_self, "base %s: %s", bases[i], why);
    }
    if (plain == NULL) {
        for (size_t i = 0; i < sizeof(bad_bases) / sizeof(bad_bases[0]); i++)
            FUZZ_CHECK(url(s, len, bad_bases[i]) != NULL, "accepted with the broken base %s", bad_bases[i]);
    }
}

/* A slug under the base's host is a short link, whatever the spelling; one level deeper is not. */
static void check_self_links(const char *slug, size_t len)
{
    static const struct {
        const char *before, *after, *base;
        bool self;
    } forms[] = {
        {"https://sho.rt/", "", "https://sho.rt", true},
        {"HTTP://SHO.RT/", "/", "https://sho.rt", true},
        {"https://sho.rt:443/x/../", "", "https://sho.rt", true},
        {"https://sho.rt./", "?a=1#f", "https://sho.rt", true},
        {"https://ShO.rt/./", "", "https://sho.rt", true},
        {"https://localhost:8443/", "", "https://localhost:8443", true},
        {"http://[0:0::1]:8080/", "", "http://[::1]:8080", true},
        {"https://other.rt/", "", "https://sho.rt", false},
        {"https://sho.rt/", "/x", "https://sho.rt", false},
        {"https://localhost/", "", "https://localhost:8443", false},
    };
    char buf[256];
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        int n = snprintf(buf, sizeof(buf), "%s%.*s%s", forms[i].before, (int)len, slug, forms[i].after);
        const char *why = url(buf, (size_t)n, forms[i].base);
        FUZZ_CHECK(why == (forms[i].self ? msg_self : NULL), "%s with base %s: %s", buf, forms[i].base,
                   why ? why : "accepted");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!msg_self) {
        msg_self = validate_url("https://sho.rt/abc", 18, "https://sho.rt");
        FUZZ_CHECK(msg_self != NULL, "a short link of the base was accepted");
    }
    char *s = fuzz_copy(data, size);
    check_slug(s, size);
    check_url(s, size);
    if (validate_slug_chars(s, size))
        check_self_links(s, size);
    free(s);
    return 0;
}
