/* A visit's dimensions from the request, with no allocation (the redirect's budget); see visitor.h. */
#include "visitor.h"

#include "geo.h"
#include "req.h"
#include "ua.h"

#include <string.h>

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_host_char(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* The scheme's length up to "://", or 0 when ref does not start with one. */
static size_t scheme_len(const char *ref)
{
    if (!is_alpha(ref[0]))
        return 0;
    size_t n = 1;
    while (is_alpha(ref[n]) || (ref[n] >= '0' && ref[n] <= '9') || ref[n] == '+' || ref[n] == '-' ||
           ref[n] == '.')
        n++;
    return strncmp(ref + n, "://", 3) == 0 ? n : 0;
}

/* Parsed by hand rather than with uriparser, which allocates for a Referer with a path. */
size_t visitor_referrer_host(const char *ref, char *out, size_t cap)
{
    out[0] = '\0';
    if (!ref)
        return 0;
    size_t s = scheme_len(ref);
    if (!s)
        return 0;
    const char *auth = ref + s + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memrchr(auth, '@', alen);
    const char *host = at ? at + 1 : auth;
    size_t hlen = alen - (size_t)(host - auth);
    if (host[0] == '[') {
        const char *close = memchr(host, ']', hlen);
        if (!close)
            return 0;
        hlen = (size_t)(close - host) + 1;
    } else {
        const char *colon = memchr(host, ':', hlen);
        if (colon)
            hlen = (size_t)(colon - host);
    }
    if (hlen == 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < hlen; i++) {
        char c = host[i];
        bool ip6 = host[0] == '[' && (c == '[' || c == ']' || c == ':');
        if (!is_host_char(c) && !ip6)
            return (out[0] = '\0', 0);
        if (n + 1 < cap)
            out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return n;
}

/* The length of the UTF-8 sequence at p (at most n bytes), or 0 when it is not one (overlongs, surrogates
 * and code points past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90) ||
        (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return len;
}

/* Keeps the whole characters of s[0..n) that fit cap - 1 bytes; 0 when s is not clean UTF-8 text. */
static size_t clean_cut(char *s, size_t n, size_t cap)
{
    size_t keep = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = utf8_seq((const unsigned char *)s + i, n - i);
        if (len == 0 || c < 0x20 || c == 0x7f)
            return (s[0] = '\0', 0);
        i += len;
        if (i < cap)
            keep = i;
    }
    s[keep] = '\0';
    return keep;
}

/* n less a character cut off at the end of s[0..n) (a value cut before it was decoded). */
static size_t whole_chars(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
        return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    return n - (i - 1) < want ? i - 1 : n;
}

enum { RAW_MAX = 3 * VISITS_VALUE_MAX + 3 };

size_t visitor_query_value(const char *query, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t nlen = strlen(name);
    for (const char *p = query; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            /* enough of the raw value for cap - 1 decoded bytes, not ending inside an escape: a longer
             * value is cut anyway, and only what is kept needs to be clean */
            size_t raw = n - nlen - 1;
            const char *v = p + nlen + 1;
            bool cut = raw > RAW_MAX;
            if (cut)
                raw = RAW_MAX - (v[RAW_MAX - 1] == '%' ? 1 : v[RAW_MAX - 2] == '%' ? 2 : 0);
            char buf[RAW_MAX + 1];
            ssize_t len = req_decode(v, raw, buf, true);
            if (len <= 0)
                return 0;
            size_t kept = clean_cut(buf, cut ? whole_chars(buf, (size_t)len) : (size_t)len, cap);
            memcpy(out, buf, kept + 1);
            return kept;
        }
        p += n + (p[n] == '&');
    }
    return 0;
}

static const char *const utm_names[VISITS_NUTM] = {"utm_source", "utm_medium", "utm_campaign"};

void visitor_describe(const struct req *r, bool head, struct visit *v)
{
    memset(v, 0, sizeof(*v));
    struct ua_class c;
    ua_classify(req_env(r, "HTTP_USER_AGENT"), head, &c);
    v->bot = c.bot;
    v->device = c.device;
    v->browser = c.browser;
    v->os = c.os;
    visitor_referrer_host(req_env(r, "HTTP_REFERER"), v->host, sizeof(v->host));
    geo_country(req_env(r, "REMOTE_ADDR"), v->country, sizeof(v->country));
    for (int i = 0; i < VISITS_NUTM; i++)
        visitor_query_value(r->query, utm_names[i], v->utm[i], sizeof(v->utm[i]));
}
