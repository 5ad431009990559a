/* Unit tests for handlers/input.c: RFC 3339 date-times, generated slugs, and the link fields of a create or
 * patch body with one error per bad field. Bodies are parsed with json_tokener_parse. */
#include "input.h"
#include "unit.h"

#include "arena.h"
#include "db_links.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

static const char *const BASE[] = {"https://sho.rt", NULL};
static const char E_REDIRECT[] = "redirect must be one of the integers 301, 302, 307, 308";

/* ---- RFC 3339 ---- */

static void time_is(const char *s, time_t want)
{
    time_t t = 0;
    int rc = input_rfc3339(s, &t);
    ck_assert_msg(rc == 0, "\"%s\" rejected", s);
    ck_assert_msg(t == want, "\"%s\": wanted %lld, got %lld", s, (long long)want, (long long)t);
}

static void time_bad(const char *s)
{
    time_t t = 0;
    ck_assert_msg(input_rfc3339(s, &t) == -1, "\"%s\" accepted (%lld)", s, (long long)t);
}

START_TEST(rfc3339_good)
{
    time_is("2026-11-25T06:00:00Z", 1795586400);
    time_is("1970-01-01T00:00:00Z", 0);
    time_is("1970-01-01T00:00:01Z", 1);
    time_is("2026-11-25t06:00:00z", 1795586400);
    time_is("9999-12-31T23:59:59Z", 253402300799LL);
}
END_TEST

START_TEST(rfc3339_offsets)
{
    time_is("2026-11-25T06:00:00+00:00", 1795586400);
    time_is("2026-11-25T06:00:00-00:00", 1795586400);
    time_is("2026-11-25T07:00:00+01:00", 1795586400);
    time_is("2026-11-25T06:00:00+01:30", 1795581000);
    time_is("2026-11-25T06:00:00-05:30", 1795606200);
    time_is("2026-11-25T06:00:00+23:59", 1795586400 - (23 * 3600 + 59 * 60));
    /* an offset can move the instant across a day */
    time_is("2026-11-24T22:00:00-08:00", 1795586400);
}
END_TEST

START_TEST(rfc3339_fractions)
{
    time_is("2026-11-25T06:00:00.5Z", 1795586400);
    time_is("2026-11-25T06:00:00.000Z", 1795586400);
    time_is("2026-11-25T06:00:00.999999999Z", 1795586400);
    time_is("2026-11-25T06:00:00.123456+01:00", 1795586400 - 3600);
    time_bad("2026-11-25T06:00:00.Z");
    time_bad("2026-11-25T06:00:00.1234567890Z");
    time_bad("2026-11-25T06:00:00.5");
    time_bad("2026-11-25T06:00:00.5.5Z");
    time_bad("2026-11-25T06:00:00,5Z");
    time_bad("2026-11-25T06:00:00.aZ");
}
END_TEST

START_TEST(rfc3339_leap_days)
{
    time_is("2024-02-29T12:00:00Z", 1709208000);
    time_is("2000-02-29T00:00:00Z", 951782400);
    time_bad("2026-02-29T00:00:00Z");
    time_bad("2100-02-29T00:00:00Z");
    time_bad("2024-02-30T00:00:00Z");
    time_is("2026-02-28T23:59:59Z", 1772323199);
}
END_TEST

START_TEST(rfc3339_ranges)
{
    time_bad("2026-04-31T00:00:00Z");
    time_bad("2026-13-01T00:00:00Z");
    time_bad("2026-00-10T00:00:00Z");
    time_bad("2026-01-00T00:00:00Z");
    time_bad("2026-01-32T00:00:00Z");
    time_bad("2026-01-01T24:00:00Z");
    time_bad("2026-01-01T00:60:00Z");
    time_bad("2026-01-01T00:00:61Z");
    time_bad("1969-12-31T23:59:59Z");
    time_bad("0000-01-01T00:00:00Z");
    time_bad("2026-01-01T00:00:00+24:00");
    time_bad("2026-01-01T00:00:00+01:60");
}
END_TEST

START_TEST(rfc3339_bad_forms)
{
    time_bad("");
    time_bad("2026-02-29");
    time_bad("2026-11-25");
    time_bad("2026-11-25T06:00Z");
    time_bad("2026-11-25 06:00:00Z");
    time_bad("2026-11-25T06:00:00");
    time_bad("2026-11-25T06:00:00 Z");
    time_bad("2026-11-25T06:00:00ZZ");
    time_bad("2026-11-25T06:00:00Zjunk");
    time_bad("2026-11-25T06:00:00+0100");
    time_bad("2026-11-25T06:00:00+01");
    time_bad("2026-11-25T06:00:00+01:");
    time_bad("2026-11-25T06:00:00+01:0");
    time_bad("2026-11-25T06:00:00+01:00x");
    time_bad("2026-11-25T06:00:00+1:00");
    time_bad("2026-11-25T06:00:00UTC");
    time_bad("2026/11/25T06:00:00Z");
    time_bad("2026-1-25T06:00:00Z");
    time_bad("26-11-25T06:00:00Z");
    time_bad("+2026-11-25T06:00:00Z");
    time_bad(" 2026-11-25T06:00:00Z");
    time_bad("2026-11-25T06:00:00Z ");
    time_bad("2026-11-25T6:00:00Z");
    time_bad("2026-11-25T06:0a:00Z");
    time_bad("tomorrow");
    time_bad("1795586400");
}
END_TEST

/* ---- generated slugs ---- */

static bool base62(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int cmp_slug(const void *a, const void *b)
{
    return memcmp(a, b, 8);
}

START_TEST(random_slug_shape)
{
    char s[8];
    memset(s, 'X', sizeof(s));
    input_random_slug(s);
    ck_assert_int_eq(s[7], '\0');
    ck_assert_uint_eq(strlen(s), 7);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(base62(s[i]), "byte %d of \"%s\" is not base62", i, s);
}
END_TEST

START_TEST(random_slug_varies)
{
    enum { N = 10000 };
    char(*s)[8] = malloc(N * sizeof(*s));
    ck_assert_ptr_nonnull(s);
    int seen[256] = {0};
    for (int i = 0; i < N; i++) {
        input_random_slug(s[i]);
        ck_assert_uint_eq(strlen(s[i]), 7);
        for (int k = 0; k < 7; k++) {
            ck_assert(base62(s[i][k]));
            seen[(unsigned char)s[i][k]]++;
        }
    }
    /* 62^7 slugs: 10000 draws repeat with a chance of about 1 in 70 million */
    qsort(s, N, sizeof(*s), cmp_slug);
    for (int i = 1; i < N; i++)
        ck_assert_msg(memcmp(s[i - 1], s[i], 8) != 0, "slug %s drawn twice", s[i]);
    /* 70000 characters: every one of the 62 shows up, roughly evenly (expected 1129 each) */
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (const char *c = alphabet; *c; c++)
        ck_assert_msg(seen[(unsigned char)*c] > 800 && seen[(unsigned char)*c] < 1500, "'%c' drawn %d times",
                      *c, seen[(unsigned char)*c]);
    free(s);
}
END_TEST

/* ---- link input ---- */

/* One parsed body and its result. */
/* One arena for every call: tags are folded into it. Reachable to the end, so never a leak. */
static struct arena *test_arena(void)
{
    static struct arena *a;
    if (!a)
        a = arena_new(4096);
    return a;
}

struct run {
    struct json_object *body, *errors;
    struct link_fields in;
    int n;
};

static struct run run_input(const char *json, enum input_kind kind)
{
    struct run r;
    r.body = json_tokener_parse(json);
    ck_assert_msg(r.body != NULL, "test body is not JSON: %s", json);
    r.errors = json_object_new_array();
    memset(&r.in, 0xa5, sizeof(r.in)); /* poison: input_link must set every field */
    int rc = input_link(test_arena(), r.body, kind, BASE, &r.in, r.errors);
    r.n = (int)json_object_array_length(r.errors);
    ck_assert_int_eq(rc, r.n ? -1 : 0);
    return r;
}

static void run_done(struct run *r)
{
    json_object_put(r->body);
    json_object_put(r->errors);
}

/* The detail of the error for field, or NULL. */
static const char *error_for(const struct run *r, const char *field)
{
    for (size_t i = 0; i < json_object_array_length(r->errors); i++) {
        struct json_object *e = json_object_array_get_idx(r->errors, i), *f = NULL, *d = NULL;
        ck_assert(json_object_object_get_ex(e, "field", &f));
        ck_assert(json_object_object_get_ex(e, "detail", &d));
        ck_assert_int_eq(json_object_object_length(e), 2);
        if (strcmp(json_object_get_string(f), field) == 0)
            return json_object_get_string(d);
    }
    return NULL;
}

/* Exactly one error, on field, with detail want (NULL: any detail). */
static void one_error(const char *json, enum input_kind kind, const char *field, const char *want)
{
    struct run r = run_input(json, kind);
    ck_assert_msg(r.n == 1, "%s: wanted 1 error, got %d: %s", json, r.n,
                  json_object_to_json_string(r.errors));
    const char *d = error_for(&r, field);
    ck_assert_msg(d != NULL, "%s: no error on %s: %s", json, field, json_object_to_json_string(r.errors));
    if (want)
        ck_assert_str_eq(d, want);
    run_done(&r);
}

static void no_error(const char *json, enum input_kind kind)
{
    struct run r = run_input(json, kind);
    ck_assert_msg(r.n == 0, "%s: wanted no error, got %s", json, json_object_to_json_string(r.errors));
    run_done(&r);
}

START_TEST(create_minimal)
{
    struct run r = run_input("{\"url\":\"https://example.com/a\"}", INPUT_CREATE);
    ck_assert_int_eq(r.n, 0);
    ck_assert_str_eq(r.in.url, "https://example.com/a");
    ck_assert_ptr_null(r.in.slug);
    ck_assert(!r.in.set_expires);
    ck_assert_ptr_null(r.in.expires_at);
    ck_assert_int_eq(r.in.redirect, 0);
    ck_assert(!r.in.set_disabled);
    run_done(&r);
}
END_TEST

START_TEST(create_all_fields)
{
    struct run r = run_input("{\"url\":\"https://example.com/a\",\"slug\":\"my-link_1\",\"redirect\":308,"
                             "\"expires_at\":\"2999-01-01T00:00:00Z\"}",
                             INPUT_CREATE);
    ck_assert_int_eq(r.n, 0);
    ck_assert_str_eq(r.in.url, "https://example.com/a");
    ck_assert_str_eq(r.in.slug, "my-link_1");
    ck_assert_int_eq(r.in.redirect, 308);
    ck_assert(r.in.set_expires);
    ck_assert_str_eq(r.in.expires_at, "2999-01-01T00:00:00Z");
    run_done(&r);
}
END_TEST

START_TEST(create_url_required)
{
    one_error("{}", INPUT_CREATE, "url", "url is required");
    one_error("{\"slug\":\"abc\"}", INPUT_CREATE, "url", "url is required");
}
END_TEST

START_TEST(create_url_checked)
{
    one_error("{\"url\":5}", INPUT_CREATE, "url", "url must be a string");
    one_error("{\"url\":[\"https://e.com\"]}", INPUT_CREATE, "url", "url must be a string");
    one_error("{\"url\":\"https://e.com/\\u0000x\"}", INPUT_CREATE, "url",
              "url must not contain the NUL character");
    one_error("{\"url\":\"ftp://example.com/\"}", INPUT_CREATE, "url",
              "url must be an absolute http or https URL");
    one_error("{\"url\":\"https://sho.rt/abc\"}", INPUT_CREATE, "url",
              "url must not point to one of this service's short links");
    one_error("{\"url\":\"\"}", INPUT_CREATE, "url", NULL);
    /* json-c hands a JSON null over as NULL: it must be an error, never a NULL url */
    one_error("{\"url\":null}", INPUT_CREATE, "url", "url must be a string, not null");
}
END_TEST

START_TEST(create_unknown_field)
{
    one_error("{\"url\":\"https://e.com\",\"bogus\":1}", INPUT_CREATE, "bogus", "bogus is not a known field");
    one_error("{\"url\":\"https://e.com\",\"disabled\":true}", INPUT_CREATE, "disabled",
              "disabled is not a known field");
    one_error("{\"url\":\"https://e.com\",\"URL\":\"https://e.com\"}", INPUT_CREATE, "URL",
              "URL is not a known field");
    one_error("{\"url\":\"https://e.com\",\"\":1}", INPUT_CREATE, "", NULL);
}
END_TEST

START_TEST(create_unknown_field_long_name)
{
    char name[300], json[400];
    memset(name, 'k', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(json, sizeof(json), "{\"url\":\"https://e.com\",\"%s\":1}", name);
    struct run r = run_input(json, INPUT_CREATE);
    ck_assert_int_eq(r.n, 1);
    struct json_object *e = json_object_array_get_idx(r.errors, 0), *f = NULL, *d = NULL;
    ck_assert(json_object_object_get_ex(e, "field", &f));
    ck_assert(json_object_object_get_ex(e, "detail", &d));
    /* the name is cut to a sane length, but still names the field */
    const char *field = json_object_get_string(f);
    ck_assert_uint_gt(strlen(field), 10);
    ck_assert_uint_lt(strlen(field), 300);
    ck_assert(strncmp(field, name, strlen(field)) == 0);
    ck_assert_ptr_nonnull(strstr(json_object_get_string(d), "is not a known field"));
    run_done(&r);
}
END_TEST

START_TEST(create_slug)
{
    struct run r = run_input("{\"url\":\"https://e.com\",\"slug\":null}", INPUT_CREATE);
    ck_assert_int_eq(r.n, 0);
    ck_assert_ptr_null(r.in.slug); /* null: generate one */
    run_done(&r);
    one_error("{\"url\":\"https://e.com\",\"slug\":5}", INPUT_CREATE, "slug", "slug must be a string");
    one_error("{\"url\":\"https://e.com\",\"slug\":\"api\"}", INPUT_CREATE, "slug", NULL);
    one_error("{\"url\":\"https://e.com\",\"slug\":\"a b\"}", INPUT_CREATE, "slug", NULL);
    one_error("{\"url\":\"https://e.com\",\"slug\":\"\"}", INPUT_CREATE, "slug", NULL);
    one_error("{\"url\":\"https://e.com\",\"slug\":\"a\\u0000b\"}", INPUT_CREATE, "slug",
              "slug must not contain the NUL character");
}
END_TEST

START_TEST(create_redirect_codes)
{
    static const int ok[] = {301, 302, 307, 308};
    for (size_t i = 0; i < 4; i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"url\":\"https://e.com\",\"redirect\":%d}", ok[i]);
        struct run r = run_input(json, INPUT_CREATE);
        ck_assert_int_eq(r.n, 0);
        ck_assert_int_eq(r.in.redirect, ok[i]);
        run_done(&r);
    }
}
END_TEST

START_TEST(create_redirect_must_be_int)
{
    static const char *const bad[] = {
        "302.0", "\"302\"", "true",       "false", "null",           "303",    "300",   "0",
        "-302",  "200",     "4294967598", "[302]", "{\"code\":302}", "3.02e2", "1e400",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"url\":\"https://e.com\",\"redirect\":%s}", bad[i]);
        struct json_object *probe = json_tokener_parse(json);
        if (!probe)
            continue; /* json-c refuses it before input_link sees it */
        json_object_put(probe);
        one_error(json, INPUT_CREATE, "redirect", E_REDIRECT);
    }
}
END_TEST

START_TEST(create_expires)
{
    struct run r = run_input("{\"url\":\"https://e.com\",\"expires_at\":null}", INPUT_CREATE);
    ck_assert_int_eq(r.n, 0);
    ck_assert(r.in.set_expires);
    ck_assert_ptr_null(r.in.expires_at);
    run_done(&r);

    r = run_input("{\"url\":\"https://e.com\",\"expires_at\":\"2999-12-31T23:59:59.5+01:00\"}", INPUT_CREATE);
    ck_assert_int_eq(r.n, 0);
    ck_assert(r.in.set_expires);
    ck_assert_str_eq(r.in.expires_at, "2999-12-31T23:59:59.5+01:00");
    run_done(&r);

    one_error("{\"url\":\"https://e.com\",\"expires_at\":\"2000-01-01T00:00:00Z\"}", INPUT_CREATE,
              "expires_at", "expires_at must be in the future");
    one_error("{\"url\":\"https://e.com\",\"expires_at\":\"1970-01-01T00:00:00Z\"}", INPUT_CREATE,
              "expires_at", "expires_at must be in the future");
    one_error("{\"url\":\"https://e.com\",\"expires_at\":\"tomorrow\"}", INPUT_CREATE, "expires_at",
              "expires_at must be an RFC 3339 date-time such as 2026-11-25T06:00:00Z");
    one_error("{\"url\":\"https://e.com\",\"expires_at\":\"2999-02-29T00:00:00Z\"}", INPUT_CREATE,
              "expires_at", "expires_at must be an RFC 3339 date-time such as 2026-11-25T06:00:00Z");
    one_error("{\"url\":\"https://e.com\",\"expires_at\":1795586400}", INPUT_CREATE, "expires_at",
              "expires_at must be a string");
}
END_TEST

START_TEST(create_expires_just_past_and_soon)
{
    char json[160], ts[32];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&(time_t){now - 5}, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(json, sizeof(json), "{\"url\":\"https://e.com\",\"expires_at\":\"%s\"}", ts);
    one_error(json, INPUT_CREATE, "expires_at", "expires_at must be in the future");

    gmtime_r(&(time_t){now + 3600}, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(json, sizeof(json), "{\"url\":\"https://e.com\",\"expires_at\":\"%s\"}", ts);
    no_error(json, INPUT_CREATE);
}
END_TEST

START_TEST(create_counts_every_error)
{
    struct run r = run_input(
        "{\"url\":5,\"redirect\":\"x\",\"bogus\":1,\"slug\":\"api\",\"expires_at\":\"no\"}", INPUT_CREATE);
    ck_assert_int_eq(r.n, 5);
    ck_assert_ptr_nonnull(error_for(&r, "url"));
    ck_assert_ptr_nonnull(error_for(&r, "redirect"));
    ck_assert_ptr_nonnull(error_for(&r, "bogus"));
    ck_assert_ptr_nonnull(error_for(&r, "slug"));
    ck_assert_ptr_nonnull(error_for(&r, "expires_at"));
    run_done(&r);
}
END_TEST

START_TEST(errors_appended_and_judged_per_call)
{
    struct json_object *body = json_tokener_parse("{\"bogus\":1}");
    struct json_object *good = json_tokener_parse("{\"url\":\"https://example.com/\"}");
    struct json_object *errors = json_object_new_array();
    struct link_fields in;
    json_object_array_add(errors, json_object_new_string("already here"));
    ck_assert_int_eq(input_link(test_arena(), body, INPUT_CREATE, BASE, &in, errors), -1);
    ck_assert_uint_eq(json_object_array_length(errors), 3); /* bogus, and url is required */
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(errors, 0)), "already here");
    /* errors from before the call do not make this body bad */
    ck_assert_int_eq(input_link(test_arena(), good, INPUT_CREATE, BASE, &in, errors), 0);
    ck_assert_uint_eq(json_object_array_length(errors), 3);
    json_object_put(body);
    json_object_put(good);
    json_object_put(errors);
}
END_TEST

START_TEST(strings_point_into_body)
{
    struct run r = run_input("{\"url\":\"https://e.com/x\",\"slug\":\"abc\"}", INPUT_CREATE);
    struct json_object *v = NULL;
    ck_assert(json_object_object_get_ex(r.body, "url", &v));
    ck_assert_ptr_eq(r.in.url, json_object_get_string(v));
    run_done(&r);
}
END_TEST

START_TEST(no_self_link_without_base)
{
    struct json_object *body = json_tokener_parse("{\"url\":\"https://sho.rt/abc\"}");
    struct json_object *errors = json_object_new_array();
    struct link_fields in;
    ck_assert_int_eq(input_link(test_arena(), body, INPUT_CREATE, NULL, &in, errors), 0);
    ck_assert_str_eq(in.url, "https://sho.rt/abc");
    json_object_put(body);
    json_object_put(errors);
}
END_TEST

/* ---- patch ---- */

START_TEST(patch_empty)
{
    struct run r = run_input("{}", INPUT_PATCH);
    ck_assert_int_eq(r.n, 0);
    ck_assert_ptr_null(r.in.url);
    ck_assert_ptr_null(r.in.slug);
    ck_assert(!r.in.set_expires);
    ck_assert_int_eq(r.in.redirect, 0);
    ck_assert(!r.in.set_disabled);
    run_done(&r);
}
END_TEST

START_TEST(patch_slug_cannot_change)
{
    one_error("{\"slug\":\"new\"}", INPUT_PATCH, "slug", NULL);
    one_error("{\"slug\":null}", INPUT_PATCH, "slug", NULL);
    struct run r = run_input("{\"slug\":\"new\"}", INPUT_PATCH);
    const char *d = error_for(&r, "slug");
    ck_assert_str_eq(d, "slug cannot be changed");
    ck_assert_ptr_null(r.in.slug);
    run_done(&r);
}
END_TEST

START_TEST(patch_url)
{
    struct run r = run_input("{\"url\":\"https://example.com/b\"}", INPUT_PATCH);
    ck_assert_int_eq(r.n, 0);
    ck_assert_str_eq(r.in.url, "https://example.com/b");
    run_done(&r);
    one_error("{\"url\":null}", INPUT_PATCH, "url", "url cannot be null");
    one_error("{\"url\":7}", INPUT_PATCH, "url", "url must be a string");
    one_error("{\"url\":\"javascript:alert(1)\"}", INPUT_PATCH, "url", NULL);
}
END_TEST

START_TEST(patch_disabled)
{
    struct run r = run_input("{\"disabled\":true}", INPUT_PATCH);
    ck_assert_int_eq(r.n, 0);
    ck_assert(r.in.set_disabled);
    ck_assert(r.in.disabled);
    run_done(&r);
    r = run_input("{\"disabled\":false}", INPUT_PATCH);
    ck_assert_int_eq(r.n, 0);
    ck_assert(r.in.set_disabled);
    ck_assert(!r.in.disabled);
    run_done(&r);
    static const char *const bad[] = {"\"true\"", "1", "0", "null", "[]", "{}", "\"false\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\"disabled\":%s}", bad[i]);
        one_error(json, INPUT_PATCH, "disabled", "disabled must be true or false");
        struct run b = run_input(json, INPUT_PATCH);
        ck_assert(!b.in.set_disabled);
        run_done(&b);
    }
}
END_TEST

START_TEST(patch_expires_and_redirect)
{
    struct run r = run_input("{\"expires_at\":null,\"redirect\":307}", INPUT_PATCH);
    ck_assert_int_eq(r.n, 0);
    ck_assert(r.in.set_expires);
    ck_assert_ptr_null(r.in.expires_at); /* clear it */
    ck_assert_int_eq(r.in.redirect, 307);
    run_done(&r);
    one_error("{\"redirect\":302.0}", INPUT_PATCH, "redirect", E_REDIRECT);
    one_error("{\"expires_at\":\"2001-01-01T00:00:00Z\"}", INPUT_PATCH, "expires_at", NULL);
    one_error("{\"bogus\":true}", INPUT_PATCH, "bogus", "bogus is not a known field");
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("input");
    TCase *t3339 = tcase_create("rfc3339");
    TCase *slug = tcase_create("random_slug");
    TCase *create = tcase_create("create");
    TCase *patch = tcase_create("patch");

    tcase_add_test(t3339, rfc3339_good);
    tcase_add_test(t3339, rfc3339_offsets);
    tcase_add_test(t3339, rfc3339_fractions);
    tcase_add_test(t3339, rfc3339_leap_days);
    tcase_add_test(t3339, rfc3339_ranges);
    tcase_add_test(t3339, rfc3339_bad_forms);
    suite_add_tcase(s, t3339);

    tcase_add_test(slug, random_slug_shape);
    tcase_add_test(slug, random_slug_varies);
    tcase_set_timeout(slug, 60);
    suite_add_tcase(s, slug);

    tcase_add_test(create, create_minimal);
    tcase_add_test(create, create_all_fields);
    tcase_add_test(create, create_url_required);
    tcase_add_test(create, create_url_checked);
    tcase_add_test(create, create_unknown_field);
    tcase_add_test(create, create_unknown_field_long_name);
    tcase_add_test(create, create_slug);
    tcase_add_test(create, create_redirect_codes);
    tcase_add_test(create, create_redirect_must_be_int);
    tcase_add_test(create, create_expires);
    tcase_add_test(create, create_expires_just_past_and_soon);
    tcase_add_test(create, create_counts_every_error);
    tcase_add_test(create, errors_appended_and_judged_per_call);
    tcase_add_test(create, strings_point_into_body);
    tcase_add_test(create, no_self_link_without_base);
    suite_add_tcase(s, create);

    tcase_add_test(patch, patch_empty);
    tcase_add_test(patch, patch_slug_cannot_change);
    tcase_add_test(patch, patch_url);
    tcase_add_test(patch, patch_disabled);
    tcase_add_test(patch, patch_expires_and_redirect);
    suite_add_tcase(s, patch);

    return s;
}
