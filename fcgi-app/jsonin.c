/* jsonin: strict intake of a request body that must be exactly one JSON object (RFC 8259, UTF-8).
 * Our own bounded, non-recursive pass decides what is acceptable; json-c then only builds the tree. */
#include "jsonin.h"

#include "hex.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* The detail strings are part of the API contract: handlers pass them to clients verbatim. */
static const char MSG_TOO_LARGE[] = "body is too large to parse";
static const char MSG_EMPTY[] = "body is empty";
static const char MSG_BOM[] = "body starts with a byte order mark";
static const char MSG_UTF8[] = "body is not valid UTF-8";
/* Keep the number in step with JSONIN_MAX_DEPTH. */
static const char MSG_DEPTH[] = "body nests deeper than 32 levels";
static const char MSG_INVALID[] = "body is not valid JSON";
static const char MSG_TRAILING[] = "body has data after the JSON value";
static const char MSG_NOT_OBJECT[] = "body must be a JSON object";
static const char MSG_KEY_NUL[] = "body has a key that contains a NUL character";
static const char MSG_DUP_KEY[] = "body names the same key twice";
static const char MSG_NOMEM[] = "server ran out of memory while reading the body";

/* Number of keys the text gives each object, indexed in order of the objects' opening braces
 * (that is, pre-order), so it can be compared with the tree json-c builds. */
struct keycounts {
    size_t *n;
    size_t len;
    size_t cap;
};

static int keycounts_push(struct keycounts *kc, size_t *slot)
{
    if (kc->len == kc->cap) {
        size_t cap = kc->cap ? kc->cap * 2 : 16;
        size_t *n = realloc(kc->n, cap * sizeof(*n));

        if (!n)
            return -1;
        kc->n = n;
        kc->cap = cap;
    }
    kc->n[kc->len] = 0;
    *slot = kc->len++;
    return 0;
}

/* RFC 8259 whitespace only: json-c and isspace() would also let other bytes through. */
static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const unsigned char *s, size_t len, size_t pos)
{
    while (pos < len && is_ws(s[pos]))
        pos++;
    return pos;
}

static int digit_at(const unsigned char *s, size_t len, size_t pos)
{
    return pos < len && s[pos] >= '0' && s[pos] <= '9';
}

/* Well-formed UTF-8 per Unicode table 3-7. json-c's own VALIDATE_UTF8 flag only checks lead and
 * continuation bit patterns, so it would let overlong forms, UTF-8-encoded surrogates and code
 * points above U+10FFFF through. */
static int utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the first continuation byte */
        size_t need, k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c == 0xE0) {
            need = 2;
            lo = 0xA0; /* below would be overlong */
        } else if (c == 0xED) {
            need = 2;
            hi = 0x9F; /* above would be a surrogate, U+D800..U+DFFF */
        } else if (c >= 0xE1 && c <= 0xEF) {
            need = 2;
        } else if (c == 0xF0) {
            need = 3;
            lo = 0x90; /* below would be overlong */
        } else if (c >= 0xF1 && c <= 0xF3) {
            need = 3;
        } else if (c == 0xF4) {
            need = 3;
            hi = 0x8F; /* above would pass U+10FFFF */
        } else {
            return 0; /* continuation byte, C0/C1 (always overlong) or F5..FF */
        }
        if (len - i - 1 < need || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (k = 2; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        }
        i += need + 1;
    }
    return 1;
}

/* Scans a string starting at the opening quote at *pos. Raw control characters are rejected here
 * because json-c 0.16 accepts them even in strict mode. *has_nul reports a \u0000 escape. */
static int scan_string(const unsigned char *s, size_t len, size_t *pos, int *has_nul)
{
    size_t i = *pos + 1;

    *has_nul = 0;
    while (i < len) {
        unsigned char c = s[i];

        if (c == '"') {
            *pos = i + 1;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            i++;
            continue;
        }
        if (++i == len)
            return -1;
        switch (s[i]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            i++;
            break;
        case 'u': {
            unsigned int v = 0;
            size_t k;

            if (len - i - 1 < 4)
                return -1;
            for (k = 1; k <= 4; k++) {
                int d = hex_value(s[i + k]);

                if (d < 0)
                    return -1;
                v = v * 16 + (unsigned int)d;
            }
            if (v == 0)
                *has_nul = 1;
            /* Lone surrogate escapes are grammatical JSON; json-c turns them into U+FFFD. */
            i += 5;
            break;
        }
        default:
            return -1;
        }
    }
    return -1;
}

/* RFC 8259 number grammar. json-c 0.16 in strict mode still takes "1.", "-.5", "00", "01.5",
 * NaN and Infinity, so the grammar is enforced here instead. */
static int scan_number(const unsigned char *s, size_t len, size_t *pos)
{
    size_t i = *pos;

    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0') {
        i++;
    } else if (digit_at(s, len, i)) {
        while (digit_at(s, len, i))
            i++;
    } else {
        return -1;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (!digit_at(s, len, i))
            return -1;
        while (digit_at(s, len, i))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!digit_at(s, len, i))
            return -1;
        while (digit_at(s, len, i))
            i++;
    }
    *pos = i;
    return 0;
}

static int scan_literal(const unsigned char *s, size_t len, size_t *pos, const char *word)
{
    size_t n = strlen(word);

    if (len - *pos < n || memcmp(s + *pos, word, n) != 0)
        return -1;
    *pos += n;
    return 0;
}

/* What the grammar allows at the next non-whitespace byte. */
enum expect {
    EXPECT_VALUE,
    EXPECT_VALUE_OR_CLOSE, /* just after '[' */
    EXPECT_KEY,
    EXPECT_KEY_OR_CLOSE, /* just after '{' */
    EXPECT_SEP_OR_CLOSE, /* just after a complete value */
};

/* Checks the whole (already UTF-8-valid, non-empty) text against the JSON grammar with an explicit
 * stack of at most JSONIN_MAX_DEPTH entries, so no input can make it recurse or allocate per level,
 * and records each object's key count. Returns NULL if the text is one JSON object, else a detail. */
static const char *check_text(const unsigned char *s, size_t len, struct keycounts *kc)
{
    unsigned char open[JSONIN_MAX_DEPTH]; /* '{' or '[' for each open container */
    size_t slot[JSONIN_MAX_DEPTH];        /* keycounts index for each open object */
    size_t depth = 0, pos = 0;
    enum expect want = EXPECT_VALUE;
    unsigned char top = 0;

    for (;;) {
        unsigned char c;
        int has_nul, rc;

        pos = skip_ws(s, len, pos);
        if (pos == len) {
            if (want == EXPECT_SEP_OR_CLOSE && depth == 0)
                break;
            return MSG_INVALID; /* truncated */
        }
        c = s[pos];
        /* an empty container closes at once */
        if ((want == EXPECT_KEY_OR_CLOSE && c == '}') || (want == EXPECT_VALUE_OR_CLOSE && c == ']')) {
            depth--;
            pos++;
            want = EXPECT_SEP_OR_CLOSE;
            continue;
        }
        switch (want) {
        case EXPECT_SEP_OR_CLOSE:
            if (depth == 0)
                return MSG_TRAILING;
            if (c == ',') {
                want = open[depth - 1] == '{' ? EXPECT_KEY : EXPECT_VALUE;
            } else if (c == (open[depth - 1] == '{' ? '}' : ']')) {
                depth--;
            } else {
                return MSG_INVALID;
            }
            pos++;
            continue;
        case EXPECT_KEY_OR_CLOSE:
        case EXPECT_KEY:
            if (c != '"' || scan_string(s, len, &pos, &has_nul) != 0)
                return MSG_INVALID;
            /* json-c stores keys as C strings, so "a\u0000b" would silently become "a". */
            if (has_nul)
                return MSG_KEY_NUL;
            pos = skip_ws(s, len, pos);
            if (pos == len || s[pos] != ':')
                return MSG_INVALID;
            pos++;
            kc->n[slot[depth - 1]]++;
            want = EXPECT_VALUE;
            continue;
        case EXPECT_VALUE_OR_CLOSE:
        case EXPECT_VALUE:
            break;
        }

        /* A value starts at pos. */
        if (depth == 0)
            top = c;
        if (c == '{' || c == '[') {
            if (depth == JSONIN_MAX_DEPTH)
                return MSG_DEPTH;
            open[depth] = c;
            if (c == '{') {
                if (keycounts_push(kc, &slot[depth]) != 0)
                    return MSG_NOMEM;
                want = EXPECT_KEY_OR_CLOSE;
            } else {
                want = EXPECT_VALUE_OR_CLOSE;
            }
            depth++;
            pos++;
            continue;
        }
        if (c == '"')
            rc = scan_string(s, len, &pos, &has_nul); /* NUL in a value is the caller's call */
        else if (c == '-' || (c >= '0' && c <= '9'))
            rc = scan_number(s, len, &pos);
        else if (c == 't')
            rc = scan_literal(s, len, &pos, "true");
        else if (c == 'f')
            rc = scan_literal(s, len, &pos, "false");
        else if (c == 'n')
            rc = scan_literal(s, len, &pos, "null");
        else
            rc = -1;
        if (rc != 0)
            return MSG_INVALID;
        want = EXPECT_SEP_OR_CLOSE;
    }
    return top == '{' ? NULL : MSG_NOT_OBJECT;
}

/* json-c keeps only the last of duplicate keys (replacing the value in place, so member order is
 * otherwise that of the text). An object therefore holds fewer members than the text named keys
 * exactly when a key repeated under json-c's own decoding of escapes, which uses its hash table
 * instead of comparing keys pairwise. Objects are visited in pre-order, the order of kc; a parent
 * is checked before its members, so the walk stays aligned with kc up to the first mismatch.
 * Recursion is bounded: check_text has already limited nesting to JSONIN_MAX_DEPTH. */
static int counts_match(struct json_object *o, const struct keycounts *kc, size_t *next)
{
    switch (json_object_get_type(o)) {
    case json_type_object: {
        struct json_object_iterator it, end;

        if (*next >= kc->len || (size_t)json_object_object_length(o) != kc->n[*next])
            return 0;
        (*next)++;
        it = json_object_iter_begin(o);
        end = json_object_iter_end(o);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            if (!counts_match(json_object_iter_peek_value(&it), kc, next))
                return 0;
        }
        return 1;
    }
    case json_type_array: {
        size_t i, n = json_object_array_length(o);

        for (i = 0; i < n; i++) {
            if (!counts_match(json_object_array_get_idx(o, i), kc, next))
                return 0;
        }
        return 1;
    }
    default:
        return 1;
    }
}

int jsonin_parse(const char *body, size_t len, struct json_object **out, const char **detail)
{
    const unsigned char *s = (const unsigned char *)body;
    struct keycounts kc = {NULL, 0, 0};
    struct json_tokener *tok;
    struct json_object *obj;
    enum json_tokener_error jerr;
    const char *err;
    size_t next = 0;

    *out = NULL;
    *detail = NULL;

    /* json_tokener_parse_ex() takes an int length. */
    if (len > INT_MAX) {
        *detail = MSG_TOO_LARGE;
        return -1;
    }
    if (skip_ws(s, len, 0) == len) {
        *detail = MSG_EMPTY;
        return -1;
    }
    /* RFC 8259 forbids a BOM in JSON text; say so rather than leave people puzzled over an
     * invisible character. */
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        *detail = MSG_BOM;
        return -1;
    }
    /* Checked over the whole body first so the answer does not depend on where a syntax error
     * happens to come before or after the bad byte. UTF-16 fails here or on its NUL bytes. */
    if (!utf8_valid(s, len)) {
        *detail = MSG_UTF8;
        return -1;
    }
    err = check_text(s, len, &kc);
    if (err) {
        free(kc.n);
        *detail = err;
        return -1;
    }

    /* One more level than JSONIN_MAX_DEPTH because json-c counts a scalar as a level too. */
    tok = json_tokener_new_ex(JSONIN_MAX_DEPTH + 1);
    if (!tok) {
        free(kc.n);
        *detail = MSG_NOMEM;
        return -1;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, body, (int)len);
    jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!obj) {
        /* Not expected after check_text(); success without an object means allocation failed. */
        free(kc.n);
        *detail = jerr == json_tokener_success       ? MSG_NOMEM
                  : jerr == json_tokener_error_depth ? MSG_DEPTH
                                                     : MSG_INVALID;
        return -1;
    }
    if (!counts_match(obj, &kc, &next)) {
        free(kc.n);
        json_object_put(obj);
        *detail = MSG_DUP_KEY;
        return -1;
    }
    free(kc.n);
    *out = obj;
    return 0;
}
