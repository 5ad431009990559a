/* Finding links: reads the search parameters of GET /api/links; see search.h. */
#include "search.h"

#include "arena.h"
#include "buf.h"
#include "db_links.h"
#include "handler.h"
#include "input.h"
#include "req.h"

#include <stdbool.h>
#include <stddef.h>

static const char Q_DETAIL[] =
    "q must be given once, as 2 to 2048 characters of text without control characters";

/* The length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    /* the second byte's range narrows after E0, ED, F0 and F4 (no overlongs, surrogates, or past U+10FFFF) */
    unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (n == 0 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

/* C0 controls, DEL and C1 controls (U+0080..U+009F): no slug, url or title holds one */
static bool is_control(const unsigned char *s, size_t len)
{
    return (len == 1 && (s[0] < 0x20 || s[0] == 0x7F)) || (len == 2 && s[0] == 0xC2 && s[1] <= 0x9F);
}

const char *search_pattern(struct arena *a, const char *q, const char **pattern, size_t *chars)
{
    struct buf b;
    buf_init(&b, a, 64);
    buf_addc(&b, '%');
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)q; *p; n++) {
        size_t len = utf8_seq(p);
        if (len == 0 || is_control(p, len) || n == SEARCH_Q_MAX)
            return Q_DETAIL;
        /* backslash is LIKE's escape character */
        if (*p == '%' || *p == '_' || *p == '\\')
            buf_addc(&b, '\\');
        /* folded as lower() folds under the "C" collation of the searched text: A-Z only */
        if (*p >= 'A' && *p <= 'Z')
            buf_addc(&b, (char)(*p - 'A' + 'a'));
        else
            buf_add(&b, (const char *)p, len);
        p += len;
    }
    if (n < SEARCH_Q_MIN)
        return Q_DETAIL;
    buf_addc(&b, '%');
    *pattern = buf_str(&b);
    *chars = n;
    return NULL;
}

static int filter_tags(struct req *r, struct resp *w, struct link_filter *f)
{
    const char *given[INPUT_TAGS_MAX];
    int n = req_query_all(r, "tag", given, INPUT_TAGS_MAX);
    if (n < 0) {
        handler_param_error(w, "tag", "tag may be given at most 10 times, each a well-formed tag");
        return -1;
    }
    char **tags = arena_alloc(r->arena, (size_t)(n ? n : 1) * sizeof(*tags));
    for (int i = 0; i < n; i++) {
        tags[i] = arena_alloc(r->arena, INPUT_TAG_MAX + 1);
        if (input_tag_fold(given[i], tags[i])) {
            handler_param_error(w, "tag", "each tag must be 1 to 32 characters from a-z 0-9 - _");
            return -1;
        }
    }
    f->tags = (const char *const *)tags;
    f->ntags = (size_t)n;
    return 0;
}

int search_filter(struct req *r, struct resp *w, struct link_filter *f)
{
    *f = (struct link_filter){0};
    if (filter_tags(r, w, f) < 0)
        return -1;
    const char *q;
    int found = req_query(r, "q", &q);
    if (found == 0)
        return 0;
    size_t chars = 0;
    const char *why = found < 0 ? Q_DETAIL : search_pattern(r->arena, q, &f->pattern, &chars);
    if (why) {
        handler_param_error(w, "q", why);
        return -1;
    }
    f->short_q = chars < SEARCH_Q_TRIGRAM;
    return 0;
}
