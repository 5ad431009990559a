/* Link fields from JSON; see input.h. */
#include "input.h"

#include "base62.h"
#include "db_links.h"
#include "handler.h"
#include "validate.h"

#include <json-c/json.h>
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

/* What a field check needs besides the value: the base URLs for the no-self-link rule. */
struct input_ctx {
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

static void field_disabled(struct json_object *v, const struct input_ctx *c)
{
    if (!json_object_is_type(v, json_type_boolean)) {
        handler_field_error(c->errors, "disabled", "must be true or false");
        return;
    }
    c->out->set_disabled = true;
    c->out->disabled = json_object_get_boolean(v);
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

int input_link(struct json_object *body, enum input_kind kind, const char *const *bases,
               struct link_fields *out, struct json_object *errors)
{
    memset(out, 0, sizeof(*out));
    const struct input_ctx c = {.bases = bases, .out = out, .errors = errors};
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
