/* Slug and target-URL validation; liburiparser does the RFC 3986 parsing, this file only adds policy. */
#include "validate.h"

#include "hex.h"

#include <string.h>

#include <uriparser/Uri.h>

/* Every detail is a static string (this one is returned in two places), so callers can hand it straight to a
 * response without ownership rules; none echoes user input, which keeps them safe in any content type. */
static const char bad_base[] = "the service's public base URL is misconfigured";

static const struct {
    const char *word;
    size_t len;
    const char *detail;
} reserved_words[] = {
    {"api", 3, "slug \"api\" is reserved"},
    {"healthz", 7, "slug \"healthz\" is reserved"},
    {"metrics", 7, "slug \"metrics\" is reserved"},
    {"static", 6, "slug \"static\" is reserved"},
};

enum { PORT_ABSENT = 0, PORT_MAX = 65535, PORT_HTTP = 80, PORT_HTTPS = 443 };

static bool is_slug_char(unsigned char c)
{
    /* Spelled out rather than isalnum() so the alphabet cannot drift with the locale. */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool validate_slug_chars(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > VALIDATE_SLUG_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_slug_char((unsigned char)s[i]))
            return false;
    }
    return true;
}

static const char *reserved_detail(const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return NULL;
    if (s[0] == '_')
        return "slugs starting with _ are reserved";
    for (size_t i = 0; i < sizeof(reserved_words) / sizeof(reserved_words[0]); i++) {
        if (len == reserved_words[i].len && memcmp(s, reserved_words[i].word, len) == 0)
            return reserved_words[i].detail;
    }
    return NULL;
}

bool validate_slug_unreserved(const char *s, size_t len)
{
    return reserved_detail(s, len) == NULL;
}

const char *validate_slug(const char *s, size_t len)
{
    if (!validate_slug_chars(s, len))
        return "slug must be 1 to 64 characters from A-Z a-z 0-9 _ -";
    return reserved_detail(s, len);
}

static size_t range_len(const UriTextRangeA *r)
{
    return r->first == NULL ? 0 : (size_t)(r->afterLast - r->first);
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Case-insensitive compare against a lowercase literal, without locale-dependent strncasecmp. */
static bool range_equals_ci(const UriTextRangeA *r, const char *lower)
{
    size_t n = strlen(lower);

    if (range_len(r) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower((unsigned char)r->first[i]) != (unsigned char)lower[i])
            return false;
    }
    return true;
}

/* Returns the next byte of a percent-decoded range and advances *p. The parser has already rejected
 * malformed escapes, but a stray '%' is still taken literally so a bug elsewhere cannot overrun. */
static unsigned char decode_next(const char **p, const char *end)
{
    const char *q = *p;

    if (*q == '%' && end - q >= 3) {
        int hi = hex_value((unsigned char)q[1]);
        int lo = hex_value((unsigned char)q[2]);
        if (hi >= 0 && lo >= 0) {
            *p = q + 3;
            return (unsigned char)(hi << 4 | lo);
        }
    }
    *p = q + 1;
    return (unsigned char)*q;
}

enum scheme { SCHEME_OTHER, SCHEME_HTTP, SCHEME_HTTPS };

static enum scheme scheme_of(const UriUriA *u)
{
    if (range_equals_ci(&u->scheme, "http"))
        return SCHEME_HTTP;
    if (range_equals_ci(&u->scheme, "https"))
        return SCHEME_HTTPS;
    return SCHEME_OTHER;
}

/* RFC 3986 allows an empty port ("http://a:/") and means "default", so that maps to PORT_ABSENT. */
static bool parse_port(const UriTextRangeA *r, unsigned *port)
{
    size_t n = range_len(r);
    unsigned v = 0;

    *port = PORT_ABSENT;
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)r->first[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
        /* Stop early so a long digit run cannot wrap around into the valid range. */
        if (v > PORT_MAX)
            return false;
    }
    if (v == 0)
        return false;
    *port = v;
    return true;
}

/* A DNS name as browsers take it: dot-separated labels of 1 to 63 letters, digits, hyphens (and underscores,
 * which real names use), no label starting or ending with a hyphen, at most one trailing dot, and a last
 * label that is not all digits (that would be a malformed IPv4 address such as 256.0.0.1). No
 * percent-encoding. */
static bool host_name_ok(const UriTextRangeA *r)
{
    const char *p = r->first, *end = r->afterLast;
    if (end > p && end[-1] == '.')
        end--;
    if (end - p > 253)
        return false;
    const char *label = p;
    bool all_digits = true;
    for (; p <= end; p++) {
        if (p == end || *p == '.') {
            size_t n = (size_t)(p - label);
            if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
                return false;
            if (p == end)
                return !all_digits;
            label = p + 1;
            all_digits = true;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return false;
        all_digits &= c >= '0' && c <= '9';
    }
    return false;
}

/* Ignores one trailing dot: "sho.rt." is the same host as "sho.rt" to a resolver. */
static const char *host_end(const UriTextRangeA *r)
{
    const char *end = r->afterLast;
    size_t n = range_len(r);

    if (n >= 1 && end[-1] == '.')
        return end - 1;
    if (n >= 3 && end[-3] == '%' && end[-2] == '2' && ascii_lower((unsigned char)end[-1]) == 'e')
        return end - 3;
    return end;
}

/* Browsers percent-decode and lowercase reg-names, so compare the way they would resolve; IP literals are
 * compared as addresses so that "[::1]" and "[0:0::1]" match. */
static bool same_host(const UriUriA *a, const UriUriA *b)
{
    if (a->hostData.ip6 != NULL || b->hostData.ip6 != NULL) {
        return a->hostData.ip6 != NULL && b->hostData.ip6 != NULL &&
               memcmp(a->hostData.ip6->data, b->hostData.ip6->data, sizeof(a->hostData.ip6->data)) == 0;
    }
    if (a->hostData.ip4 != NULL && b->hostData.ip4 != NULL)
        return memcmp(a->hostData.ip4->data, b->hostData.ip4->data, sizeof(a->hostData.ip4->data)) == 0;

    const char *pa = a->hostText.first, *ea = host_end(&a->hostText);
    const char *pb = b->hostText.first, *eb = host_end(&b->hostText);
    while (pa < ea && pb < eb) {
        if (ascii_lower(decode_next(&pa, ea)) != ascii_lower(decode_next(&pb, eb)))
            return false;
    }
    return pa == ea && pb == eb;
}

enum seg_kind { SEG_EMPTY, SEG_DOT, SEG_DOTDOT, SEG_SLUG, SEG_OTHER };

static enum seg_kind classify_segment(const UriTextRangeA *r)
{
    const char *p = r->first, *end = r->afterLast;
    size_t n = 0, dots = 0;
    bool slug = true;

    if (p == NULL || p == end)
        return SEG_EMPTY;
    while (p < end) {
        unsigned char c = decode_next(&p, end);
        n++;
        dots += c == '.';
        slug = slug && is_slug_char(c);
    }
    /* "%2e" counts as a dot segment too: browsers resolve it before sending the request. */
    if (dots == n && n <= 2)
        return n == 1 ? SEG_DOT : SEG_DOTDOT;
    return slug ? SEG_SLUG : SEG_OTHER;
}

/* True when the path, after the dot-segment removal a browser would do (RFC 3986 5.2.4), is "/slug" or
 * "/slug/". Only the bottom two entries of the segment stack matter, and the entry at a given depth is
 * always the latest one pushed there, so no real stack is needed however deep the path goes. */
static bool path_is_single_slug(const UriUriA *u)
{
    enum seg_kind kept[2] = {SEG_EMPTY, SEG_EMPTY};
    size_t depth = 0;
    bool ends_in_dots = false;

    for (const UriPathSegmentA *seg = u->pathHead; seg != NULL; seg = seg->next) {
        enum seg_kind k = classify_segment(&seg->text);
        ends_in_dots = k == SEG_DOT || k == SEG_DOTDOT;
        if (k == SEG_DOT)
            continue;
        if (k == SEG_DOTDOT) {
            if (depth > 0)
                depth--;
            continue;
        }
        if (depth < 2)
            kept[depth] = k;
        depth++;
    }
    /* A trailing "." or ".." leaves a trailing slash behind ("/a/." is "/a/"). */
    if (ends_in_dots) {
        if (depth < 2)
            kept[depth] = SEG_EMPTY;
        depth++;
    }
    return kept[0] == SEG_SLUG && (depth == 1 || (depth == 2 && kept[1] == SEG_EMPTY));
}

static bool port_matches_self(unsigned url_port, unsigned self_port)
{
    if (self_port != PORT_ABSENT)
        return url_port == self_port;
    /* The front proxy answers plain http on the same name only to redirect to https, so both default ports
     * lead to the short link. */
    return url_port == PORT_HTTP || url_port == PORT_HTTPS;
}

static unsigned effective_port(enum scheme s, unsigned explicit_port)
{
    if (explicit_port != PORT_ABSENT)
        return explicit_port;
    return s == SCHEME_HTTPS ? PORT_HTTPS : PORT_HTTP;
}

/* Returns NULL when url is not a short link of self_base, a detail when it is, bad_base when
 * self_base itself cannot be used (failing closed: a broken base would otherwise let redirect loops in). */
static const char *check_self_link(const UriUriA *url, unsigned url_port, const char *self_base)
{
    UriUriA base;
    const char *err = NULL;
    const char *result = NULL;
    unsigned base_port;

    if (uriParseSingleUriExA(&base, self_base, self_base + strlen(self_base), &err) != URI_SUCCESS)
        return bad_base;

    enum scheme base_scheme = scheme_of(&base);
    if (base_scheme == SCHEME_OTHER || range_len(&base.hostText) == 0 ||
        base.hostData.ipFuture.first != NULL || !parse_port(&base.portText, &base_port)) {
        result = bad_base;
        goto out;
    }
    /* "https://sho.rt:443" is the same site as "https://sho.rt", so an explicit default port is no port. */
    if (base_port == effective_port(base_scheme, PORT_ABSENT))
        base_port = PORT_ABSENT;

    if (same_host(url, &base) && port_matches_self(url_port, base_port) && path_is_single_slug(url))
        result = "url must not point to one of this service's short links";
out:
    uriFreeUriMembersA(&base);
    return result;
}

/* Byte-level screening first: liburiparser works on any bytes, but these are the cases a person most
 * likely pasted by accident and deserves a specific answer for. */
static const char *check_bytes(const char *url, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c == '\0')
            return "url must not contain NUL bytes";
        if (c == ' ')
            return "url must not contain spaces; encode them as %20";
        if (c < 0x20 || c == 0x7f)
            return "url must not contain control characters such as tab, CR or LF";
        if (c >= 0x80)
            return "url must contain only ASCII; use punycode for international domain names and %XX escapes "
                   "elsewhere";
    }
    return NULL;
}

const char *validate_url(const char *url, size_t len, const char *self_base)
{
    UriUriA uri;
    const char *err = NULL;
    const char *result = NULL;
    unsigned port;

    if (url == NULL || len == 0)
        return "url must not be empty";
    if (len > VALIDATE_URL_MAX)
        return "url must be at most 2048 bytes";
    result = check_bytes(url, len);
    if (result != NULL)
        return result;

    if (uriParseSingleUriExA(&uri, url, url + len, &err) != URI_SUCCESS)
        return "url is not a well-formed URI (RFC 3986)";

    enum scheme scheme = scheme_of(&uri);
    if (scheme == SCHEME_OTHER)
        result = "url must be an absolute http or https URL";
    else if (uri.userInfo.first != NULL)
        /* Even an empty "http://@host/" is refused: '@' in the authority is what the phishing trick needs. */
        result = "url must not contain user information";
    else if (range_len(&uri.hostText) == 0)
        result = "url must include a host name or IP address";
    else if (uri.hostData.ipFuture.first != NULL)
        result = "url host must be a domain name, an IPv4 address or an IPv6 address";
    else if (uri.hostData.ip4 == NULL && uri.hostData.ip6 == NULL && !host_name_ok(&uri.hostText))
        result = "url host must be a domain name of letters, digits and hyphens (punycode for international "
                 "names)";
    else if (!parse_port(&uri.portText, &port))
        result = "url port must be a number from 1 to 65535";
    else if (self_base != NULL)
        result = check_self_link(&uri, effective_port(scheme, port), self_base);

    uriFreeUriMembersA(&uri);
    return result;
}
