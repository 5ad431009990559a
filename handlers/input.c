/* Link fields from JSON; see input.h. */
#include "input.h"

#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* Details read as sentences that name their field: "url must be a string". */
static void add_error(struct json_object *errors, const char *field, const char *detail)
{
    struct json_object *e = json_object_new_object();
    size_t flen = strlen(field);
    char text[256];
    if (strncmp(detail, field, flen) == 0 && detail[flen] == ' ')
        snprintf(text, sizeof(text), "%s", detail);
    else
        snprintf(text, sizeof(text), "%s %s", field, detail);
    json_object_object_add(e, "field", json_object_new_string(field));
    json_object_object_add(e, "detail", json_object_new_string(text));
    json_object_array_add(errors, e);
}

/* A JSON string without NUL bytes, or NULL (with *why set). */
static const char *string_field(struct json_object *v, const char **why)
{
    if (!json_object_is_type(v, json_type_string)) {
        *why = "must be a string";
        return NULL;
    }
    const char *s = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(s)) {
        *why = "must not contain the NUL character";
        return NULL;
    }
    return s;
}

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
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int n = 0;
    while (n < 7) {
        unsigned char rnd[16];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            continue;
        /* 248 = 4 * 62: dropping larger bytes keeps every character equally likely */
        for (size_t i = 0; i < sizeof(rnd) && n < 7; i++) {
            if (rnd[i] < 248)
                out[n++] = alphabet[rnd[i] % 62];
        }
    }
    out[7] = '\0';
}

static void field_url(struct json_object *v, const char *const *bases, struct link_input *in,
                      struct json_object *errors)
{
    /* json-c represents a JSON null as NULL */
    const char *why = v ? NULL : "must be a string, not null";
    const char *s = v ? string_field(v, &why) : NULL;
    /* every check against a base applies all the other rules too, so the URL is parsed once per base; a link
     * to any name this service answers to would redirect to itself */
    if (s && (!bases || !*bases))
        why = validate_url(s, strlen(s), NULL);
    for (const char *const *b = bases; s && !why && b && *b; b++)
        why = validate_url(s, strlen(s), *b);
    if (why)
        add_error(errors, "url", why);
    else
        in->url = s;
}

static void field_slug(struct json_object *v, struct link_input *in, struct json_object *errors)
{
    if (json_object_is_type(v, json_type_null))
        return;
    const char *why = NULL;
    const char *s = string_field(v, &why);
    if (s)
        why = validate_slug(s, strlen(s));
    if (why)
        add_error(errors, "slug", why);
    else
        in->slug = s;
}

static void field_expires(struct json_object *v, struct link_input *in, struct json_object *errors)
{
    in->has_expires = true;
    if (json_object_is_type(v, json_type_null))
        return;
    const char *why = NULL;
    const char *s = string_field(v, &why);
    time_t t;
    if (s && input_rfc3339(s, &t) < 0)
        why = "must be an RFC 3339 date-time such as 2026-11-25T06:00:00Z";
    else if (s && t <= time(NULL))
        why = "must be in the future";
    if (why)
        add_error(errors, "expires_at", why);
    else
        in->expires_at = s;
}

static void field_redirect(struct json_object *v, struct link_input *in, struct json_object *errors)
{
    int64_t code = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
    if (code == 301 || code == 302 || code == 307 || code == 308)
        in->redirect = (int)code;
    else
        add_error(errors, "redirect", "must be one of the integers 301, 302, 307, 308");
}

static void field_disabled(struct json_object *v, struct link_input *in, struct json_object *errors)
{
    if (!json_object_is_type(v, json_type_boolean)) {
        add_error(errors, "disabled", "must be true or false");
        return;
    }
    in->has_disabled = true;
    in->disabled = json_object_get_boolean(v);
}

int input_link(struct json_object *body, enum input_kind kind, const char *const *bases,
               struct link_input *in, struct json_object *errors)
{
    memset(in, 0, sizeof(*in));
    size_t before = json_object_array_length(errors);
    bool seen_url = false;
    json_object_object_foreach(body, key, val)
    {
        if (strcmp(key, "url") == 0) {
            seen_url = true;
            if (kind == INPUT_PATCH && json_object_is_type(val, json_type_null))
                add_error(errors, "url", "cannot be null");
            else
                field_url(val, bases, in, errors);
        } else if (strcmp(key, "slug") == 0 && kind == INPUT_CREATE) {
            field_slug(val, in, errors);
        } else if (strcmp(key, "expires_at") == 0) {
            field_expires(val, in, errors);
        } else if (strcmp(key, "redirect") == 0) {
            field_redirect(val, in, errors);
        } else if (strcmp(key, "disabled") == 0 && kind == INPUT_PATCH) {
            field_disabled(val, in, errors);
        } else {
            char field[80];
            /* the error names the field as sent, cut to a sane length but never inside a UTF-8 character */
            size_t n = strnlen(key, sizeof(field) - 1);
            while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
                n--;
            snprintf(field, sizeof(field), "%.*s", (int)n, key);
            add_error(errors, field,
                      kind == INPUT_PATCH && strcmp(key, "slug") == 0 ? "cannot be changed"
                                                                      : "is not a known field");
        }
    }
    if (kind == INPUT_CREATE && !seen_url)
        add_error(errors, "url", "is required");
    return (int)(json_object_array_length(errors) - before);
}
