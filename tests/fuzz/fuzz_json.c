/* Fuzzes JSON intake: jsonin_parse (fcgi-app/jsonin.c), then input_link (handlers/input.c) on what it accepts
 * for both a create and a patch, and input_rfc3339 against a reference built on the C library's calendar.
 * Properties: only a JSON object of valid UTF-8 within the depth limit is accepted, trailing data is refused,
 * and every field input_link hands over passed its validator, with errors a client can read as UTF-8. */
#include "fuzz.h"

#include "arena.h"
#include "db_links.h"
#include "input.h"
#include "jsonin.h"
#include "validate.h"

#include <json-c/json.h>
#include <time.h>

static const char *const BASES[] = {"https://sho.rt", NULL};
static const char BASE[] = "https://sho.rt";

static const char *const details[] = {
    "body is too large to parse",
    "body is empty",
    "body starts with a byte order mark",
    "body is not valid UTF-8",
    "body nests deeper than 32 levels",
    "body is not valid JSON",
    "body has data after the JSON value",
    "body must be a JSON object",
    "body has a key that contains a NUL character",
    "body names the same key twice",
};

static int parse(const char *body, size_t len, struct json_object **out)
{
    char *copy = fuzz_copy(body, len); /* not NUL-terminated: len is authoritative */
    const char *detail = (const char *)1;
    int rc = jsonin_parse(copy, len, out, &detail);
    free(copy);
    FUZZ_CHECK(rc == 0 || rc == -1, "jsonin_parse returned %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(*out != NULL && detail == NULL, "success without an object or with a detail");
        return 0;
    }
    FUZZ_CHECK(*out == NULL && detail != NULL, "failure with an object or without a detail");
    bool known = false;
    for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++)
        known = known || strcmp(detail, details[i]) == 0;
    FUZZ_CHECK(known, "unknown detail \"%s\"", detail);
    return -1;
}

static size_t depth_of(struct json_object *o)
{
    size_t d = 0;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            (void)k;
            size_t c = depth_of(v);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            size_t c = depth_of(json_object_array_get_idx(o, i));
            d = c > d ? c : d;
        }
        return d + 1;
    }
    return 0;
}

static void check_accepted(const uint8_t *data, size_t size, struct json_object *obj)
{
    FUZZ_CHECK(json_object_is_type(obj, json_type_object), "accepted a %s",
               json_type_to_name(json_object_get_type(obj)));
    FUZZ_CHECK(depth_of(obj) <= JSONIN_MAX_DEPTH, "accepted depth %zu", depth_of(obj));
    FUZZ_CHECK(fuzz_utf8_ok(data, size), "accepted ill-formed UTF-8");
    FUZZ_CHECK(size < 3 || memcmp(data, "\xef\xbb\xbf", 3) != 0, "accepted a BOM");
    /* Outside strings only JSON whitespace is allowed and inside them control characters must be escaped,
     * so no raw control byte but these four can be in an accepted body. */
    for (size_t i = 0; i < size; i++)
        FUZZ_CHECK(data[i] >= 0x20 || data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r',
                   "accepted control byte %#x at %zu", data[i], i);

    /* Whitespace after the object changes nothing; anything else after it is trailing data; and the
     * object without its last byte is not JSON. */
    char *more = malloc(size + 4);
    memcpy(more, data, size);
    struct json_object *o2;
    memcpy(more + size, " \r\n\t", 4);
    FUZZ_CHECK(parse(more, size + 4, &o2) == 0, "refused after adding whitespace");
    FUZZ_CHECK(json_object_equal(obj, o2), "whitespace changed the object");
    json_object_put(o2);
    memcpy(more + size, "x", 1);
    const char *detail = NULL;
    FUZZ_CHECK(jsonin_parse(more, size + 1, &o2, &detail) == -1 &&
                   strcmp(detail, "body has data after the JSON value") == 0,
               "trailing x: %s", detail ? detail : "accepted");
    size_t last = size;
    while (last > 0 && strchr(" \t\r\n", data[last - 1]))
        last--;
    FUZZ_CHECK(last > 0 && data[last - 1] == '}', "an accepted object does not end in }");
    FUZZ_CHECK(parse(more, last - 1, &o2) == -1, "accepted without its closing brace");
    free(more);
}

static bool known_field(const char *key, enum input_kind kind)
{
    static const char *const both[] = {"url",           "expires_at", "redirect", "password", "max_visits",
                                       "forward_query", "targets",    "tags",     "title",    "expired_url"};
    for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++) {
        if (strcmp(key, both[i]) == 0)
            return true;
    }
    return (kind == INPUT_CREATE && (strcmp(key, "slug") == 0 || strcmp(key, "reuse") == 0)) ||
           (kind == INPUT_PATCH && strcmp(key, "disabled") == 0);
}

static void check_input(struct json_object *obj, enum input_kind kind)
{
    struct json_object *errors = json_object_new_array();
    struct link_fields in;
    memset(&in, 0x5a, sizeof(in)); /* input_link must set every member itself */
    struct arena *a = arena_new(4096);
    int rc = input_link(a, obj, kind, BASES, &in, errors);
    int n = (int)json_object_array_length(errors);
    FUZZ_CHECK(rc == (n ? -1 : 0), "input_link returned %d with %d errors", rc, n);
    for (size_t i = 0; i < (size_t)n; i++) {
        struct json_object *e = json_object_array_get_idx(errors, i), *f, *d;
        FUZZ_CHECK(json_object_object_get_ex(e, "field", &f) && json_object_is_type(f, json_type_string) &&
                       json_object_object_get_ex(e, "detail", &d) && json_object_is_type(d, json_type_string),
                   "error %zu lacks field or detail", i);
        const char *fs = json_object_get_string(f), *ds = json_object_get_string(d);
        size_t fl = (size_t)json_object_get_string_len(f), dl = (size_t)json_object_get_string_len(d);
        /* These go back to the client in an application/problem+json body, which must be UTF-8. */
        FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)fs, fl), "error %zu: field is not UTF-8 (%zu bytes)",
                   i, fl);
        FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)ds, dl), "error %zu: detail is not UTF-8 (%zu bytes)",
                   i, dl);
        FUZZ_CHECK(dl > fl && memcmp(ds, fs, fl) == 0 && ds[fl] == ' ',
                   "error %zu: detail does not name its field", i);
    }
    if (in.url) {
        FUZZ_CHECK(validate_url(in.url, strlen(in.url), BASE) == NULL, "url \"%s\" passed", in.url);
    }
    if (in.slug) {
        FUZZ_CHECK(kind == INPUT_CREATE, "a patch carries a slug");
        FUZZ_CHECK(validate_slug(in.slug, strlen(in.slug)) == NULL, "slug \"%s\" passed", in.slug);
    }
    FUZZ_CHECK(in.redirect == 0 || in.redirect == 301 || in.redirect == 302 || in.redirect == 307 ||
                   in.redirect == 308,
               "redirect %d passed", in.redirect);
    FUZZ_CHECK(!in.set_disabled || kind == INPUT_PATCH, "a create carries disabled");
    if (in.expires_at) {
        time_t t;
        FUZZ_CHECK(in.set_expires && input_rfc3339(in.expires_at, &t) == 0 && t > time(NULL) - 60,
                   "expires_at \"%s\" passed", in.expires_at);
    }
    if (n == 0) {
        FUZZ_CHECK(kind == INPUT_PATCH || in.url != NULL, "a create without a url passed");
        json_object_object_foreach(obj, key, val)
        {
            FUZZ_CHECK(known_field(key, kind), "unknown field \"%s\" passed", key);
            if (strcmp(key, "url") == 0)
                FUZZ_CHECK(in.url != NULL, "url given but not set");
            else if (strcmp(key, "slug") == 0)
                FUZZ_CHECK((in.slug != NULL) == !json_object_is_type(val, json_type_null),
                           "slug given, not set");
            else if (strcmp(key, "expires_at") == 0)
                FUZZ_CHECK(in.set_expires, "expires_at given but not set");
            else if (strcmp(key, "redirect") == 0)
                FUZZ_CHECK(in.redirect != 0, "redirect given but not set");
            else if (strcmp(key, "disabled") == 0)
                FUZZ_CHECK(in.set_disabled, "disabled given but not set");
        }
    }
    json_object_put(errors);
    arena_free(a);
}

static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* Reference RFC 3339 date-time (seconds 00-59, years from 1970): the grammar here, the calendar from
 * timegm/gmtime_r, which move an impossible date such as February 30 to another day. */
static void check_rfc3339(const char *s)
{
    time_t t = 0;
    int rc = input_rfc3339(s, &t);
    int Y, M, D, h, m, sec, oh = 0, om = 0;
    size_t len = strlen(s);
    bool ok = len >= 20 && digits(s, 4, &Y) && s[4] == '-' && digits(s + 5, 2, &M) && s[7] == '-' &&
              digits(s + 8, 2, &D) && (s[10] == 'T' || s[10] == 't') && digits(s + 11, 2, &h) &&
              s[13] == ':' && digits(s + 14, 2, &m) && s[16] == ':' && digits(s + 17, 2, &sec);
    const char *p = s + 19;
    if (ok && *p == '.') {
        size_t f = strspn(p + 1, "0123456789");
        ok = f >= 1 && f <= 9;
        p += 1 + f;
    }
    int sign = 0;
    if (ok && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (ok && (*p == '+' || *p == '-')) {
        sign = *p == '+' ? 1 : -1;
        ok = digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om) && oh <= 23 && om <= 59;
        p += 6;
    } else {
        ok = false;
    }
    ok = ok && *p == '\0' && Y >= 1970 && h <= 23 && m <= 59 && sec <= 59 && M >= 1 && M <= 12 && D >= 1;
    struct tm tm = {.tm_year = ok ? Y - 1900 : 70, .tm_mon = ok ? M - 1 : 0, .tm_mday = ok ? D : 1};
    time_t day = timegm(&tm);
    struct tm back;
    ok = ok && gmtime_r(&day, &back) && back.tm_mday == D && back.tm_mon == M - 1;
    FUZZ_CHECK((rc == 0) == ok, "input_rfc3339(\"%s\") = %d, the reference says %s", s, rc,
               ok ? "valid" : "invalid");
    if (ok) {
        time_t want = day + h * 3600 + m * 60 + sec - sign * (oh * 3600 + om * 60);
        FUZZ_CHECK(t == want, "input_rfc3339(\"%s\") = %lld, want %lld", s, (long long)t, (long long)want);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object *obj;
    if (parse((const char *)data, size, &obj) == 0) {
        check_accepted(data, size, obj);
        check_input(obj, INPUT_CREATE);
        check_input(obj, INPUT_PATCH);
        json_object_put(obj);
    }
    if (size <= 64) {
        char *s = fuzz_cstr(data, size);
        check_rfc3339(s);
        free(s);
    }
    return 0;
}
