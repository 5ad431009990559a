/* Link fields from JSON; see input.h. */
#include "input.h"

#include "arena.h"
#include "base62.h"
#include "db_links.h"
#include "handler.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int input_rfc3339(const char *s, time_t *t)
{
    int Y, M, D, h, m, sec;
    if (strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 ||
        m > 59 || sec > 59)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        const char *f = p;
        while (*p >= '0' && *p <= '9' && p - f < 9)
            p++;
        if (p == f || (*p >= '0' && *p <= '9'))
            return -1;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (oh * 60L + om) * 60L * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm = {
        .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
    *t = timegm(&tm) - offset;
    return 0;
}

void input_random_slug(char out[8])
{
    base62_random(out, 7);
}

enum {
    PASSWORD_MIN = 8,
    PASSWORD_MAX = 128,
    TAGS_MAX = 10,
    TAG_MAX = 32,
    TITLE_MAX = 200,
};
/* the largest integer every JSON client reads exactly (2^53 - 1) */
static const int64_t MAX_VISITS_MAX = 9007199254740991LL;

/* What a field check needs besides the value: the base URLs for the no-self-link rule. */
struct input_ctx {
    struct arena *arena;
    const char *const *bases;
    struct link_fields *out;
    struct json_object *errors;
};

static void field_url(struct json_object *v, const struct input_ctx *c)
{
    /* json-c represents a JSON null as NULL */
    const char *why = v ? NULL : "must be a string, not null";
    const char *s = v ? handler_string_field(v, &why) : NULL;
    /* every check against a base applies all the other rules too, so the URL is parsed once per base; a link
     * to any name this service answers to would redirect to itself */
    if (s && (!c->bases || !*c->bases))
        why = validate_url(s, strlen(s), NULL);
    for (const char *const *b = c->bases; s && !why && b && *b; b++)
        why = validate_url(s, strlen(s), *b);
    if (why)
        handler_field_error(c->errors, "url", why);
    else
        c->out->url = s;
}

static void field_slug(struct json_object *v, const struct input_ctx *c)
{
    if (json_object_is_type(v, json_type_null))
        return;
    const char *why = NULL;
    const char *s = handler_string_field(v, &why);
    if (s)
        why = validate_slug(s, strlen(s));
    if (why)
        handler_field_error(c->errors, "slug", why);
    else
        c->out->slug = s;
}

static void field_expires(struct json_object *v, const struct input_ctx *c)
{
    c->out->set_expires = true;
    if (json_object_is_type(v, json_type_null))
        return;
    const char *why = NULL;
    const char *s = handler_string_field(v, &why);
    time_t t;
    if (s && input_rfc3339(s, &t) < 0)
        why = "must be an RFC 3339 date-time such as 2026-11-25T06:00:00Z";
    else if (s && t <= time(NULL))
        why = "must be in the future";
    if (why)
        handler_field_error(c->errors, "expires_at", why);
    else
        c->out->expires_at = s;
}

static void field_redirect(struct json_object *v, const struct input_ctx *c)
{
    int64_t code = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
    if (code == 301 || code == 302 || code == 307 || code == 308)
        c->out->redirect = (int)code;
    else
        handler_field_error(c->errors, "redirect", "must be one of the integers 301, 302, 307, 308");
}

/* A true-or-false field: *set and *value, or an error naming field. */
static void bool_field(struct json_object *v, const struct input_ctx *c, const char *field, bool *set,
                       bool *value)
{
    if (!json_object_is_type(v, json_type_boolean)) {
        handler_field_error(c->errors, field, "must be true or false");
        return;
    }
    *set = true;
    *value = json_object_get_boolean(v);
}

static void field_disabled(struct json_object *v, const struct input_ctx *c)
{
    bool_field(v, c, "disabled", &c->out->set_disabled, &c->out->disabled);
}

/* Unicode characters in a UTF-8 string (the body was checked to be UTF-8 on intake). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

/* Whether s holds a C0 or C1 control character or DEL (C1 is U+0080..U+009F: 0xC2 0x80..0x9F). */
static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
            return true;
    }
    return false;
}

/* A string field that may be null; *is_null tells which. NULL with an error appended when neither. */
static const char *nullable_string(struct json_object *v, const char *field, const struct input_ctx *c,
                                   bool *is_null)
{
    *is_null = !v;
    if (!v)
        return NULL;
    const char *why = NULL;
    const char *s = handler_string_field(v, &why);
    if (!s)
        handler_field_error(c->errors, field, why);
    return s;
}

/* A target URL under the same rules as url. */
static const char *check_url(const char *s, const char *field, const struct input_ctx *c)
{
    const char *why = NULL;
    if (!c->bases || !*c->bases)
        why = validate_url(s, strlen(s), NULL);
    for (const char *const *b = c->bases; !why && b && *b; b++)
        why = validate_url(s, strlen(s), *b);
    if (!why)
        return s;
    /* validate_url's details name "url"; say which field this is */
    char detail[300];
    snprintf(detail, sizeof(detail), "%s", strncmp(why, "url ", 4) == 0 ? why + 4 : why);
    handler_field_error(c->errors, field, detail);
    return NULL;
}

static void field_password(struct json_object *v, const struct input_ctx *c)
{
    bool is_null;
    const char *s = nullable_string(v, "password", c, &is_null);
    if (!s && !is_null)
        return;
    if (s && (utf8_chars(s) < PASSWORD_MIN || utf8_chars(s) > PASSWORD_MAX)) {
        handler_field_error(c->errors, "password", "must be 8 to 128 characters");
        return;
    }
    c->out->set_password = true;
    c->out->password = s;
}

static void field_max_visits(struct json_object *v, const struct input_ctx *c)
{
    c->out->set_max_visits = true;
    if (!v)
        return;
    /* json-c saturates integers past int64 and keeps larger positive ones as uint64 */
    int64_t n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
    if (n < 1 || n > MAX_VISITS_MAX) {
        handler_field_error(c->errors, "max_visits",
                            "must be null or a whole number from 1 to 9007199254740991");
        return;
    }
    c->out->max_visits = n;
}

static void field_forward_query(struct json_object *v, const struct input_ctx *c)
{
    bool_field(v, c, "forward_query", &c->out->set_forward_query, &c->out->forward_query);
}

static void field_targets(struct json_object *v, const struct input_ctx *c)
{
    if (v && !json_object_is_type(v, json_type_object)) {
        handler_field_error(c->errors, "targets",
                            "must be an object with optional ios and android URLs, or null");
        return;
    }
    c->out->set_targets = true;
    if (!v)
        return;
    json_object_object_foreach(v, key, val)
    {
        bool ios = strcmp(key, "ios") == 0, android = strcmp(key, "android") == 0;
        const char *field = ios ? "targets.ios" : "targets.android";
        if (!ios && !android) {
            handler_field_error(c->errors, "targets", "may only name ios and android");
            continue;
        }
        bool is_null;
        const char *s = nullable_string(val, field, c, &is_null);
        if (s)
            s = check_url(s, field, c);
        if (ios)
            c->out->ios_url = s;
        else
            c->out->android_url = s;
    }
}

static int tag_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One tag folded to lower case into out, or the reason it is not a tag. */
static const char *tag_fold(const char *s, char out[TAG_MAX + 1])
{
    size_t n = strlen(s);
    if (n < 1 || n > TAG_MAX)
        return "must be 1 to 32 characters from a-z 0-9 - _";
    for (size_t i = 0; i < n; i++) {
        char ch = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return "must be 1 to 32 characters from a-z 0-9 - _";
        out[i] = ch;
    }
    out[n] = '\0';
    return NULL;
}

_Static_assert((int)TAG_MAX == (int)INPUT_TAG_MAX && (int)TAGS_MAX == (int)INPUT_TAGS_MAX,
               "input.h's tag limits");

const char *input_tag_fold(const char *s, char out[INPUT_TAG_MAX + 1])
{
    return tag_fold(s, out);
}

static void tag_error(const struct input_ctx *c, const char *tag, const char *why)
{
    char detail[200];
    /* the tag is named as sent, cut short but never inside a UTF-8 character */
    size_t n = strnlen(tag, 40);
    while (n > 0 && ((unsigned char)tag[n] & 0xC0) == 0x80)
        n--;
    snprintf(detail, sizeof(detail), "tag \"%.*s\" %s", (int)n, tag, why);
    handler_field_error(c->errors, "tags", detail);
}

static void field_tags(struct json_object *v, const struct input_ctx *c)
{
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
    if (!json_object_is_type(v, json_type_array) || n > TAGS_MAX) {
        handler_field_error(c->errors, "tags", "must be an array of at most 10 tags");
        return;
    }
    const char **tags = arena_alloc(c->arena, (n ? n : 1) * sizeof(*tags));
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        const char *s = handler_string_field(json_object_array_get_idx(v, i), &why);
        char folded[TAG_MAX + 1];
        if (s)
            why = tag_fold(s, folded);
        if (why) {
            tag_error(c, s ? s : "", why);
            return;
        }
        tags[kept++] = arena_strdup(c->arena, folded);
    }
    qsort(tags, kept, sizeof(*tags), tag_cmp);
    for (size_t i = 1; i < kept; i++) {
        if (strcmp(tags[i - 1], tags[i]) == 0) {
            tag_error(c, tags[i], "is given twice");
            return;
        }
    }
    c->out->set_tags = true;
    c->out->tags = tags;
    c->out->ntags = kept;
}

static void field_title(struct json_object *v, const struct input_ctx *c)
{
    bool is_null;
    const char *s = nullable_string(v, "title", c, &is_null);
    const char *why = !s                          ? NULL
                      : utf8_chars(s) > TITLE_MAX ? "must be at most 200 characters"
                      : has_control(s)            ? "must not contain control characters"
                                                  : NULL;
    if (why)
        handler_field_error(c->errors, "title", why);
    if (why || (!s && !is_null))
        return;
    c->out->set_title = true;
    c->out->title = s;
}

static void field_expired_url(struct json_object *v, const struct input_ctx *c)
{
    bool is_null;
    const char *s = nullable_string(v, "expired_url", c, &is_null);
    if (s)
        s = check_url(s, "expired_url", c);
    if (!s && !is_null)
        return;
    c->out->set_expired_url = true;
    c->out->expired_url = s;
}

/* A domain name as given; whether it is one of the service's is the handler's to say. */
static void field_domain(struct json_object *v, const struct input_ctx *c)
{
    bool is_null;
    const char *s = nullable_string(v, "domain", c, &is_null);
    /* longer than any host name: no lookup will find it */
    if (s && strlen(s) > 253)
        handler_field_error(c->errors, "domain", "is not one of this service's domains");
    else
        c->out->domain = s;
}

static void field_reuse(struct json_object *v, const struct input_ctx *c)
{
    if (!json_object_is_type(v, json_type_boolean)) {
        handler_field_error(c->errors, "reuse", "must be true or false");
        return;
    }
    c->out->reuse = json_object_get_boolean(v);
}

enum { ON_CREATE = 1, ON_PATCH = 2 };

/* The input table: every field a link body may carry, where it may, and its check. A check reads one value
 * (NULL for JSON null) and either sets its part of the link or appends one error. */
static const struct input_field {
    const char *name;
    unsigned where;
    void (*check)(struct json_object *v, const struct input_ctx *c);
    const char *elsewhere; /* the error for the other kind of request */
} fields[] = {
    {"url", ON_CREATE | ON_PATCH, field_url, NULL},
    {"slug", ON_CREATE, field_slug, "cannot be changed"},
    {"expires_at", ON_CREATE | ON_PATCH, field_expires, NULL},
    {"redirect", ON_CREATE | ON_PATCH, field_redirect, NULL},
    {"disabled", ON_PATCH, field_disabled, NULL},
    {"password", ON_CREATE | ON_PATCH, field_password, NULL},
    {"max_visits", ON_CREATE | ON_PATCH, field_max_visits, NULL},
    {"forward_query", ON_CREATE | ON_PATCH, field_forward_query, NULL},
    {"targets", ON_CREATE | ON_PATCH, field_targets, NULL},
    {"tags", ON_CREATE | ON_PATCH, field_tags, NULL},
    {"title", ON_CREATE | ON_PATCH, field_title, NULL},
    {"expired_url", ON_CREATE | ON_PATCH, field_expired_url, NULL},
    {"reuse", ON_CREATE, field_reuse, NULL},
    {"domain", ON_CREATE, field_domain, "cannot be changed"},
};

static const struct input_field *field_named(const char *key)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(fields[i].name, key) == 0)
            return &fields[i];
    }
    return NULL;
}

/* The error names the field as sent, cut to a sane length but never inside a UTF-8 character. */
static void unknown_field(struct json_object *errors, const char *key, const char *detail)
{
    char field[80];
    size_t n = strnlen(key, sizeof(field) - 1);
    while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
        n--;
    snprintf(field, sizeof(field), "%.*s", (int)n, key);
    handler_field_error(errors, field, detail);
}

int input_link(struct arena *a, struct json_object *body, enum input_kind kind, const char *const *bases,
               struct link_fields *out, struct json_object *errors)
{
    memset(out, 0, sizeof(*out));
    const struct input_ctx c = {.arena = a, .bases = bases, .out = out, .errors = errors};
    unsigned here = kind == INPUT_CREATE ? ON_CREATE : ON_PATCH;
    size_t before = json_object_array_length(errors);
    bool seen_url = false;
    json_object_object_foreach(body, key, val)
    {
        const struct input_field *f = field_named(key);
        if (!f || !(f->where & here)) {
            unknown_field(errors, key, f && f->elsewhere ? f->elsewhere : "is not a known field");
            continue;
        }
        if (f->check == field_url) {
            seen_url = true;
            if (kind == INPUT_PATCH && !val) {
                handler_field_error(errors, "url", "cannot be null");
                continue;
            }
        }
        f->check(val, &c);
    }
    if (kind == INPUT_CREATE && !seen_url)
        handler_field_error(errors, "url", "is required");
    return json_object_array_length(errors) > before ? -1 : 0;
}
