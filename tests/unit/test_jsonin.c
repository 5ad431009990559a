/* Check suite for jsonin: every acceptance rule of the strict JSON body intake, good and bad inputs,
 * including embedded NULs (len is authoritative) and bodies sized to stress time and memory. */
#include "jsonin.h"
#include "unit.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* String literals may contain NUL bytes, so pass their full size rather than strlen. */
#define BODY(lit) (lit), (sizeof(lit) - 1)

static const char E_EMPTY[] = "body is empty";
static const char E_BOM[] = "body starts with a byte order mark";
static const char E_UTF8[] = "body is not valid UTF-8";
static const char E_DEPTH[] = "body nests deeper than 32 levels";
static const char E_INVALID[] = "body is not valid JSON";
static const char E_TRAILING[] = "body has data after the JSON value";
static const char E_NOT_OBJECT[] = "body must be a JSON object";
static const char E_KEY_NUL[] = "body has a key that contains a NUL character";
static const char E_DUP[] = "body names the same key twice";
static const char E_TOO_LARGE[] = "body is too large to parse";

/* Parses and asserts success; returns the object, which the test must put. */
static struct json_object *parse_ok(const char *body, size_t len)
{
    struct json_object *obj = (struct json_object *)&obj; /* poison: must be overwritten */
    const char *detail = "poison";
    int rc = jsonin_parse(body, len, &obj, &detail);

    ck_assert_msg(rc == 0, "expected success for %.*s, got %d: %s", (int)(len > 60 ? 60 : len), body, rc,
                  detail ? detail : "(null)");
    ck_assert_ptr_null(detail);
    ck_assert_ptr_nonnull(obj);
    ck_assert(json_object_is_type(obj, json_type_object));
    return obj;
}

static void accepts(const char *body, size_t len)
{
    json_object_put(parse_ok(body, len));
}

static void rejects(const char *body, size_t len, const char *want)
{
    struct json_object *obj = (struct json_object *)&obj;
    const char *detail = NULL;
    int rc = jsonin_parse(body, len, &obj, &detail);

    ck_assert_msg(rc == -1, "expected failure (%s) for %.*s", want, (int)(len > 60 ? 60 : len), body);
    ck_assert_ptr_null(obj);
    ck_assert_ptr_nonnull(detail);
    ck_assert_msg(strcmp(detail, want) == 0, "for %.*s: wanted \"%s\", got \"%s\"",
                  (int)(len > 60 ? 60 : len), body, want, detail);
}

/* Builds `n` opening brackets of `open`, an optional innermost text, then the matching closers. */
static char *nest(size_t n, const char *open, const char *close, const char *inner, size_t *len)
{
    size_t ol = strlen(open), cl = strlen(close), il = strlen(inner);
    char *buf = malloc(n * (ol + cl) + il + 1);
    char *p = buf;
    size_t i;

    ck_assert_ptr_nonnull(buf);
    for (i = 0; i < n; i++, p += ol)
        memcpy(p, open, ol);
    memcpy(p, inner, il);
    p += il;
    for (i = 0; i < n; i++, p += cl)
        memcpy(p, close, cl);
    *p = '\0';
    *len = (size_t)(p - buf);
    return buf;
}

/* ---- good inputs ---- */

START_TEST(ok_empty_object)
{
    struct json_object *o = parse_ok(BODY("{}"));

    ck_assert_int_eq(json_object_object_length(o), 0);
    json_object_put(o);
}
END_TEST

START_TEST(ok_url)
{
    struct json_object *o = parse_ok(BODY("{\"url\":\"x\"}"));
    struct json_object *v = NULL;

    ck_assert(json_object_object_get_ex(o, "url", &v));
    ck_assert_str_eq(json_object_get_string(v), "x");
    json_object_put(o);
}
END_TEST

START_TEST(ok_surrounding_whitespace)
{
    accepts(BODY(" \t\r\n{ \"a\" : 1 , \"b\" :[ 1 , 2 ] }\r\n\t "));
}
END_TEST

START_TEST(ok_nested_object)
{
    struct json_object *o = parse_ok(BODY("{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}},\"e\":{}}"));
    struct json_object *a = NULL, *b = NULL;

    ck_assert(json_object_object_get_ex(o, "a", &a));
    ck_assert(json_object_object_get_ex(a, "b", &b));
    ck_assert(json_object_is_type(b, json_type_object));
    json_object_put(o);
}
END_TEST

START_TEST(ok_all_value_types)
{
    struct json_object *o = parse_ok(
        BODY("{\"s\":\"x\",\"i\":-12,\"d\":1.5e3,\"t\":true,\"f\":false,\"n\":null,\"a\":[],\"o\":{}}"));
    struct json_object *v = NULL;

    ck_assert(json_object_object_get_ex(o, "i", &v));
    ck_assert_int_eq(json_object_get_int64(v), -12);
    ck_assert(json_object_object_get_ex(o, "d", &v));
    ck_assert(json_object_get_double(v) == 1500.0);
    ck_assert(json_object_object_get_ex(o, "t", &v));
    ck_assert(json_object_get_boolean(v));
    ck_assert(json_object_object_get_ex(o, "n", &v));
    ck_assert_ptr_null(v);
    ck_assert_int_eq(json_object_object_length(o), 8);
    json_object_put(o);
}
END_TEST

START_TEST(ok_valid_numbers)
{
    accepts(BODY("{\"a\":[0,-0,1,-1,10,0.5,-0.5,1e5,1E5,1e+5,1e-5,1.25e-3,0e0,-0.0e-0]}"));
}
END_TEST

START_TEST(ok_escaped_strings)
{
    struct json_object *o = parse_ok(BODY("{\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"}"));
    struct json_object *v = NULL;

    ck_assert(json_object_object_get_ex(o, "s", &v));
    ck_assert_str_eq(json_object_get_string(v), "q\" b\\ s/ \b\f\n\r\t");
    json_object_put(o);
}
END_TEST

START_TEST(ok_escaped_nul_in_value)
{
    struct json_object *o = parse_ok(BODY("{\"s\":\"a\\u0000b\"}"));
    struct json_object *v = NULL;

    ck_assert(json_object_object_get_ex(o, "s", &v));
    /* The length survives, so a caller can see and reject the embedded NUL. */
    ck_assert_int_eq(json_object_get_string_len(v), 3);
    ck_assert_int_eq(memcmp(json_object_get_string(v), "a\0b", 3), 0);
    json_object_put(o);
}
END_TEST

START_TEST(ok_unicode_escapes)
{
    struct json_object *o = parse_ok(BODY("{\"s\":\"\\u0041\\u00e9\\u20AC\"}"));
    struct json_object *v = NULL;

    ck_assert(json_object_object_get_ex(o, "s", &v));
    ck_assert_str_eq(json_object_get_string(v), "A\xC3\xA9\xE2\x82\xAC");
    json_object_put(o);
}
END_TEST

START_TEST(ok_surrogate_pair_escape)
{
    struct json_object *o = parse_ok(BODY("{\"s\":\"\\ud83d\\ude00\"}"));
    struct json_object *v = NULL;

    ck_assert(json_object_object_get_ex(o, "s", &v));
    ck_assert_str_eq(json_object_get_string(v), "\xF0\x9F\x98\x80");
    json_object_put(o);
}
END_TEST

START_TEST(ok_raw_utf8)
{
    /* 2-, 3- and 4-byte sequences at the edges of their ranges: U+0080, U+07FF, U+0800, U+D7FF,
     * U+E000, U+FFFF, U+10000, U+10FFFF. */
    accepts(BODY("{\"k\xC3\xA9\":\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"
                 "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"}"));
}
END_TEST

START_TEST(ok_empty_key)
{
    accepts(BODY("{\"\":1}"));
}
END_TEST

START_TEST(ok_similar_keys_distinct)
{
    accepts(BODY("{\"a\":1,\"A\":2,\"a \":3,\"\\u0062\":4,\"ab\":5}"));
}
END_TEST

START_TEST(ok_same_key_in_sibling_objects)
{
    accepts(BODY("{\"a\":{\"x\":1},\"b\":{\"x\":2},\"c\":[{\"x\":1},{\"x\":2}],\"x\":0}"));
}
END_TEST

START_TEST(ok_depth_32_arrays)
{
    size_t len;
    char *inner = nest(31, "[", "]", "1", &len);
    char *body = nest(1, "{\"a\":", "}", inner, &len); /* 1 object + 31 arrays = 32 levels */

    accepts(body, len);
    free(inner);
    free(body);
}
END_TEST

START_TEST(ok_depth_32_objects)
{
    size_t len;
    char *body = nest(31, "{\"a\":", "}", "{\"b\":\"x\"}", &len);

    accepts(body, len);
    free(body);
}
END_TEST

START_TEST(ok_huge_numbers)
{
    /* They must not crash; json-c saturates or goes to infinity and the caller checks ranges. */
    accepts(BODY("{\"a\":1e999999,\"b\":-1e999999,\"c\":1e-999999,\"d\":123456789012345678901234567890,"
                 "\"e\":-123456789012345678901234567890}"));
}
END_TEST

START_TEST(ok_len_ignores_bytes_after)
{
    /* Only len bytes count; what follows in memory is not looked at. */
    static const char buf[] = "{\"a\":1}garbage";

    accepts(buf, 7);
}
END_TEST

START_TEST(ok_not_nul_terminated)
{
    char *buf = malloc(2); /* exact size: ASan catches any read past len */

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, "{}", 2);
    accepts(buf, 2);
    free(buf);
}
END_TEST

START_TEST(ok_big_array)
{
    /* 100,000 elements: "[0,0,...,0]" inside an object. */
    const size_t n = 100000;
    size_t len = 0, i;
    char *body = malloc(n * 2 + 16);
    struct json_object *o, *a = NULL;

    ck_assert_ptr_nonnull(body);
    memcpy(body, "{\"a\":[", 6);
    len = 6;
    for (i = 0; i < n; i++) {
        body[len++] = '0';
        body[len++] = ',';
    }
    body[len - 1] = ']';
    body[len++] = '}';
    o = parse_ok(body, len);
    ck_assert(json_object_object_get_ex(o, "a", &a));
    ck_assert_uint_eq(json_object_array_length(a), n);
    json_object_put(o);
    free(body);
}
END_TEST

/* Writes {"k0":0,"k1":0,...} with n keys, the last one named `last`. */
static char *many_keys(size_t n, const char *last, size_t *len)
{
    char *body = malloc(n * 24 + 64);
    size_t i, p = 0;

    ck_assert_ptr_nonnull(body);
    body[p++] = '{';
    for (i = 0; i + 1 < n; i++)
        p += (size_t)sprintf(body + p, "\"k%zu\":0,", i);
    p += (size_t)sprintf(body + p, "\"%s\":0}", last);
    *len = p;
    return body;
}

START_TEST(ok_many_keys)
{
    size_t len;
    char *body = many_keys(20000, "last", &len);
    struct json_object *o = parse_ok(body, len);

    ck_assert_int_eq(json_object_object_length(o), 20000);
    json_object_put(o);
    free(body);
}
END_TEST

/* ---- empty, size ---- */

START_TEST(bad_empty)
{
    rejects("", 0, E_EMPTY);
    rejects(NULL, 0, E_EMPTY);
}
END_TEST

START_TEST(bad_only_whitespace)
{
    rejects(BODY(" \t\r\n  "), E_EMPTY);
}
END_TEST

START_TEST(bad_too_large)
{
#if SIZE_MAX > INT_MAX
    /* Refused on len alone, before any byte is read. */
    rejects("{}", (size_t)INT_MAX + 1, E_TOO_LARGE);
#endif
}
END_TEST

/* ---- encoding ---- */

START_TEST(bad_utf8_bom)
{
    rejects(BODY("\xEF\xBB\xBF{}"), E_BOM);
}
END_TEST

START_TEST(bad_utf16le_bom)
{
    rejects(BODY("\xFF\xFE{\0}\0"), E_UTF8);
}
END_TEST

START_TEST(bad_utf16be_bom)
{
    rejects(BODY("\xFE\xFF\0{\0}"), E_UTF8);
}
END_TEST

START_TEST(bad_utf16_without_bom)
{
    rejects(BODY("{\0}\0"), E_INVALID);
    rejects(BODY("\0{\0}"), E_INVALID);
}
END_TEST

START_TEST(bad_utf8_lone_continuation)
{
    rejects(BODY("{\"a\":\"\x80\"}"), E_UTF8);
}
END_TEST

START_TEST(bad_utf8_truncated)
{
    rejects(BODY("{\"a\":\"\xC3\"}"), E_UTF8);
    rejects(BODY("{\"a\":\"\xE2\x82\"}"), E_UTF8);
    rejects(BODY("{\"a\":\"\xF0\x9F\x98\"}"), E_UTF8);
    rejects(BODY("{}\xC3"), E_UTF8); /* cut off by the end of the body */
}
END_TEST

START_TEST(bad_utf8_overlong)
{
    rejects(BODY("{\"a\":\"\xC0\xAF\"}"), E_UTF8);         /* '/' in 2 bytes */
    rejects(BODY("{\"a\":\"\xC1\xBF\"}"), E_UTF8);         /* U+007F in 2 bytes */
    rejects(BODY("{\"a\":\"\xE0\x80\xAF\"}"), E_UTF8);     /* '/' in 3 bytes */
    rejects(BODY("{\"a\":\"\xE0\x9F\xBF\"}"), E_UTF8);     /* U+07FF in 3 bytes */
    rejects(BODY("{\"a\":\"\xF0\x80\x80\xAF\"}"), E_UTF8); /* '/' in 4 bytes */
    rejects(BODY("{\"a\":\"\xF0\x8F\xBF\xBF\"}"), E_UTF8); /* U+FFFF in 4 bytes */
    rejects(BODY("{\"a\":\"\xC0\x80\"}"), E_UTF8);         /* "modified UTF-8" NUL */
}
END_TEST

START_TEST(bad_utf8_surrogates)
{
    rejects(BODY("{\"a\":\"\xED\xA0\x80\"}"), E_UTF8);             /* U+D800 */
    rejects(BODY("{\"a\":\"\xED\xBF\xBF\"}"), E_UTF8);             /* U+DFFF */
    rejects(BODY("{\"a\":\"\xED\xA0\xBD\xED\xB8\x80\"}"), E_UTF8); /* CESU-8 pair */
}
END_TEST

START_TEST(bad_utf8_above_max)
{
    rejects(BODY("{\"a\":\"\xF4\x90\x80\x80\"}"), E_UTF8); /* U+110000 */
    rejects(BODY("{\"a\":\"\xF5\x80\x80\x80\"}"), E_UTF8);
    rejects(BODY("{\"a\":\"\xF8\x88\x80\x80\x80\"}"), E_UTF8);
    rejects(BODY("{\"a\":\"\xFF\"}"), E_UTF8);
    rejects(BODY("{\"a\":\"\xFE\"}"), E_UTF8);
}
END_TEST

START_TEST(bad_utf8_bad_continuation)
{
    rejects(BODY("{\"a\":\"\xC3\x28\"}"), E_UTF8);
    rejects(BODY("{\"a\":\"\xE2\x28\xA1\"}"), E_UTF8);
    rejects(BODY("{\"a\":\"\xF0\x9F\x28\x80\"}"), E_UTF8);
}
END_TEST

START_TEST(bad_utf8_in_key_and_outside_strings)
{
    rejects(BODY("{\"\xC0\xAF\":1}"), E_UTF8);
    rejects(BODY("{\"a\":1}\xFF"), E_UTF8);
    rejects(BODY("{\xFF}"), E_UTF8);
}
END_TEST

/* ---- raw NUL bytes ---- */

START_TEST(bad_nul_bytes)
{
    rejects(BODY("\0"), E_INVALID);
    rejects(BODY("{\0}"), E_INVALID);
    rejects(BODY("{\"a\":\"x\0y\"}"), E_INVALID);
    rejects(BODY("{\"a\0\":1}"), E_INVALID);
    rejects(BODY("{\"a\":1}\0"), E_TRAILING);
    rejects(BODY("\0{}"), E_INVALID);
}
END_TEST

START_TEST(bad_escaped_nul_in_key)
{
    /* json-c would keep only "a" as the key. */
    rejects(BODY("{\"a\\u0000b\":1}"), E_KEY_NUL);
    rejects(BODY("{\"x\":{\"\\u0000\":1}}"), E_KEY_NUL);
}
END_TEST

/* ---- depth ---- */

START_TEST(bad_depth_33_arrays)
{
    size_t len;
    char *inner = nest(32, "[", "]", "", &len);
    char *body = nest(1, "{\"a\":", "}", inner, &len);

    rejects(body, len, E_DEPTH);
    free(inner);
    free(body);
}
END_TEST

START_TEST(bad_depth_33_objects)
{
    size_t len;
    char *body = nest(32, "{\"a\":", "}", "{}", &len);

    rejects(body, len, E_DEPTH);
    free(body);
}
END_TEST

START_TEST(bad_depth_33_top_level_arrays)
{
    size_t len;
    char *body = nest(33, "[", "]", "", &len);

    rejects(body, len, E_DEPTH);
    free(body);
}
END_TEST

START_TEST(bad_64k_open_brackets)
{
    const size_t n = 64 * 1024;
    char *body = malloc(n);

    ck_assert_ptr_nonnull(body);
    memset(body, '[', n);
    rejects(body, n, E_DEPTH);
    memset(body, '{', n);
    rejects(body, n, E_INVALID); /* '{' must be followed by a key, so no depth is reached */
    body[0] = '{';
    for (size_t i = 1; i + 5 <= n; i += 5)
        memcpy(body + i, "\"a\":{", 5);
    rejects(body, n, E_DEPTH);
    free(body);
}
END_TEST

/* ---- syntax json-c 0.16 is lax about, or that is simply wrong ---- */

START_TEST(bad_single_quotes)
{
    rejects(BODY("{'a':1}"), E_INVALID);
    rejects(BODY("{\"a\":'x'}"), E_INVALID);
}
END_TEST

START_TEST(bad_comments)
{
    rejects(BODY("{/* c */\"a\":1}"), E_INVALID);
    rejects(BODY("{\"a\":1 // c\n}"), E_INVALID);
    rejects(BODY("{\"a\":1}/**/"), E_TRAILING);
    rejects(BODY("# c\n{}"), E_INVALID);
}
END_TEST

START_TEST(bad_trailing_commas)
{
    rejects(BODY("{\"a\":1,}"), E_INVALID);
    rejects(BODY("{\"a\":[1,]}"), E_INVALID);
    rejects(BODY("{,}"), E_INVALID);
    rejects(BODY("{\"a\":[,1]}"), E_INVALID);
    rejects(BODY("{\"a\":1,,\"b\":2}"), E_INVALID);
}
END_TEST

START_TEST(bad_nan_infinity)
{
    rejects(BODY("{\"a\":NaN}"), E_INVALID);
    rejects(BODY("{\"a\":nan}"), E_INVALID);
    rejects(BODY("{\"a\":Infinity}"), E_INVALID);
    rejects(BODY("{\"a\":-Infinity}"), E_INVALID);
    rejects(BODY("{\"a\":infinity}"), E_INVALID);
}
END_TEST

START_TEST(bad_numbers)
{
    rejects(BODY("{\"a\":01}"), E_INVALID);
    rejects(BODY("{\"a\":00}"), E_INVALID);
    rejects(BODY("{\"a\":-01}"), E_INVALID);
    rejects(BODY("{\"a\":01.5}"), E_INVALID);
    rejects(BODY("{\"a\":1.}"), E_INVALID);
    rejects(BODY("{\"a\":.5}"), E_INVALID);
    rejects(BODY("{\"a\":-.5}"), E_INVALID);
    rejects(BODY("{\"a\":-}"), E_INVALID);
    rejects(BODY("{\"a\":+1}"), E_INVALID);
    rejects(BODY("{\"a\":1e}"), E_INVALID);
    rejects(BODY("{\"a\":1e+}"), E_INVALID);
    rejects(BODY("{\"a\":1.e5}"), E_INVALID);
    rejects(BODY("{\"a\":0x10}"), E_INVALID);
    rejects(BODY("{\"a\":1_000}"), E_INVALID);
    rejects(BODY("{\"a\":- 1}"), E_INVALID);
}
END_TEST

START_TEST(bad_literals)
{
    rejects(BODY("{\"a\":TRUE}"), E_INVALID);
    rejects(BODY("{\"a\":True}"), E_INVALID);
    rejects(BODY("{\"a\":tru}"), E_INVALID);
    rejects(BODY("{\"a\":nul"), E_INVALID);
    rejects(BODY("{\"a\":nulll}"), E_INVALID);
    rejects(BODY("{\"a\":undefined}"), E_INVALID);
    rejects(BODY("{\"a\":falsey}"), E_INVALID);
}
END_TEST

START_TEST(bad_control_chars_in_string)
{
    rejects(BODY("{\"a\":\"x\ty\"}"), E_INVALID);
    rejects(BODY("{\"a\":\"x\ny\"}"), E_INVALID);
    rejects(BODY("{\"a\x1f\":1}"), E_INVALID);
}
END_TEST

START_TEST(bad_escapes)
{
    rejects(BODY("{\"a\":\"\\x41\"}"), E_INVALID);
    rejects(BODY("{\"a\":\"\\'\"}"), E_INVALID);
    rejects(BODY("{\"a\":\"\\u12\"}"), E_INVALID);
    rejects(BODY("{\"a\":\"\\u12G4\"}"), E_INVALID);
    rejects(BODY("{\"a\":\"\\U0041\"}"), E_INVALID);
    rejects(BODY("{\"a\":\"\\"), E_INVALID);
    rejects(BODY("{\"a\":\"\\u00"), E_INVALID);
}
END_TEST

START_TEST(bad_structure)
{
    rejects(BODY("{"), E_INVALID);
    rejects(BODY("}"), E_INVALID);
    rejects(BODY("{\"a\""), E_INVALID);
    rejects(BODY("{\"a\":"), E_INVALID);
    rejects(BODY("{\"a\":1"), E_INVALID);
    rejects(BODY("{\"a\":\"x}"), E_INVALID);
    rejects(BODY("{a:1}"), E_INVALID);
    rejects(BODY("{\"a\" 1}"), E_INVALID);
    rejects(BODY("{\"a\":}"), E_INVALID);
    rejects(BODY("{\"a\":1 \"b\":2}"), E_INVALID);
    rejects(BODY("{\"a\"=1}"), E_INVALID);
    rejects(BODY("{1:2}"), E_INVALID);
    rejects(BODY("{\"a\":[1}"), E_INVALID);
    rejects(BODY("{\"a\":{]}"), E_INVALID);
    rejects(BODY("{\"a\":[1]]}"), E_INVALID);
    rejects(BODY("{\"a\":1]"), E_INVALID);
}
END_TEST

START_TEST(bad_non_json_whitespace)
{
    rejects(BODY("{\f}"), E_INVALID);
    rejects(BODY("{\v}"), E_INVALID);
    rejects(BODY("\xC2\xA0{}"), E_INVALID); /* U+00A0 no-break space */
    rejects(BODY("{}\f"), E_TRAILING);
}
END_TEST

/* ---- top level ---- */

START_TEST(bad_not_object)
{
    rejects(BODY("[]"), E_NOT_OBJECT);
    rejects(BODY("[{}]"), E_NOT_OBJECT);
    rejects(BODY("\"{}\""), E_NOT_OBJECT);
    rejects(BODY("1"), E_NOT_OBJECT);
    rejects(BODY("-1.5e3"), E_NOT_OBJECT);
    rejects(BODY("true"), E_NOT_OBJECT);
    rejects(BODY("null"), E_NOT_OBJECT);
    rejects(BODY("  [1, 2]  "), E_NOT_OBJECT);
}
END_TEST

START_TEST(bad_trailing_data)
{
    rejects(BODY("{}{}"), E_TRAILING);
    rejects(BODY("{} {}"), E_TRAILING);
    rejects(BODY("{}x"), E_TRAILING);
    rejects(BODY("{}}"), E_TRAILING);
    rejects(BODY("{},"), E_TRAILING);
    rejects(BODY("{\"a\":1}\n\"b\""), E_TRAILING);
    rejects(BODY("[] {}"), E_TRAILING);
    accepts(BODY("{}\n"));
}
END_TEST

/* ---- duplicate keys ---- */

START_TEST(bad_dup_top_level)
{
    rejects(BODY("{\"a\":1,\"a\":2}"), E_DUP);
    rejects(BODY("{\"a\":1,\"b\":2,\"a\":1}"), E_DUP);
    rejects(BODY("{\"\":1,\"\":2}"), E_DUP);
}
END_TEST

START_TEST(bad_dup_nested)
{
    rejects(BODY("{\"x\":{\"a\":1,\"a\":1}}"), E_DUP);
    rejects(BODY("{\"x\":[1,{\"k\":1,\"k\":2}]}"), E_DUP);
    rejects(BODY("{\"a\":{\"x\":1},\"b\":{\"y\":1,\"y\":2}}"), E_DUP);
}
END_TEST

START_TEST(bad_dup_values_are_objects)
{
    /* Dropped values contain objects of their own; the check must not lose its place. */
    rejects(BODY("{\"a\":{\"p\":{\"q\":1},\"p\":{\"r\":{}}},\"b\":{}}"), E_DUP);
    rejects(BODY("{\"a\":{\"q\":1},\"a\":{\"q\":1}}"), E_DUP);
}
END_TEST

START_TEST(bad_dup_after_escape_decoding)
{
    rejects(BODY("{\"a\":1,\"\\u0061\":2}"), E_DUP);
    rejects(BODY("{\"\\u00e9\":1,\"\xC3\xA9\":2}"), E_DUP);
    rejects(BODY("{\"\\ud83d\\ude00\":1,\"\xF0\x9F\x98\x80\":2}"), E_DUP);
    rejects(BODY("{\"a/b\":1,\"a\\/b\":2}"), E_DUP);
    rejects(BODY("{\"\\n\":1,\"\\u000A\":2}"), E_DUP);
}
END_TEST

START_TEST(bad_dup_at_max_depth)
{
    size_t len;
    char *body = nest(31, "{\"a\":", "}", "{\"b\":1,\"b\":2}", &len);

    rejects(body, len, E_DUP);
    free(body);
}
END_TEST

START_TEST(bad_dup_among_many_keys)
{
    size_t len;
    char *body = many_keys(20000, "k0", &len);

    rejects(body, len, E_DUP);
    free(body);
}
END_TEST

START_TEST(ok_dup_check_stays_aligned)
{
    /* Many objects of varying sizes before and after nested ones, none with duplicates. */
    accepts(BODY("{\"a\":{\"a\":{},\"b\":{\"a\":1}},\"b\":[{},{\"a\":{\"a\":[{}]}},[{\"x\":1,\"y\":2}]],"
                 "\"c\":{\"a\":1,\"b\":2,\"c\":3}}"));
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("jsonin");
    TCase *good = tcase_create("good");
    TCase *limits = tcase_create("limits");
    TCase *encoding = tcase_create("encoding");
    TCase *syntax = tcase_create("syntax");
    TCase *dup = tcase_create("duplicates");

    tcase_add_test(good, ok_empty_object);
    tcase_add_test(good, ok_url);
    tcase_add_test(good, ok_surrounding_whitespace);
    tcase_add_test(good, ok_nested_object);
    tcase_add_test(good, ok_all_value_types);
    tcase_add_test(good, ok_valid_numbers);
    tcase_add_test(good, ok_escaped_strings);
    tcase_add_test(good, ok_escaped_nul_in_value);
    tcase_add_test(good, ok_unicode_escapes);
    tcase_add_test(good, ok_surrogate_pair_escape);
    tcase_add_test(good, ok_raw_utf8);
    tcase_add_test(good, ok_empty_key);
    tcase_add_test(good, ok_similar_keys_distinct);
    tcase_add_test(good, ok_same_key_in_sibling_objects);
    tcase_add_test(good, ok_huge_numbers);
    tcase_add_test(good, ok_len_ignores_bytes_after);
    tcase_add_test(good, ok_not_nul_terminated);
    suite_add_tcase(s, good);

    /* Large bodies are slower under sanitizers and valgrind. */
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, ok_depth_32_arrays);
    tcase_add_test(limits, ok_depth_32_objects);
    tcase_add_test(limits, ok_big_array);
    tcase_add_test(limits, ok_many_keys);
    tcase_add_test(limits, bad_empty);
    tcase_add_test(limits, bad_only_whitespace);
    tcase_add_test(limits, bad_too_large);
    tcase_add_test(limits, bad_depth_33_arrays);
    tcase_add_test(limits, bad_depth_33_objects);
    tcase_add_test(limits, bad_depth_33_top_level_arrays);
    tcase_add_test(limits, bad_64k_open_brackets);
    suite_add_tcase(s, limits);

    tcase_add_test(encoding, bad_utf8_bom);
    tcase_add_test(encoding, bad_utf16le_bom);
    tcase_add_test(encoding, bad_utf16be_bom);
    tcase_add_test(encoding, bad_utf16_without_bom);
    tcase_add_test(encoding, bad_utf8_lone_continuation);
    tcase_add_test(encoding, bad_utf8_truncated);
    tcase_add_test(encoding, bad_utf8_overlong);
    tcase_add_test(encoding, bad_utf8_surrogates);
    tcase_add_test(encoding, bad_utf8_above_max);
    tcase_add_test(encoding, bad_utf8_bad_continuation);
    tcase_add_test(encoding, bad_utf8_in_key_and_outside_strings);
    tcase_add_test(encoding, bad_nul_bytes);
    tcase_add_test(encoding, bad_escaped_nul_in_key);
    suite_add_tcase(s, encoding);

    tcase_add_test(syntax, bad_single_quotes);
    tcase_add_test(syntax, bad_comments);
    tcase_add_test(syntax, bad_trailing_commas);
    tcase_add_test(syntax, bad_nan_infinity);
    tcase_add_test(syntax, bad_numbers);
    tcase_add_test(syntax, bad_literals);
    tcase_add_test(syntax, bad_control_chars_in_string);
    tcase_add_test(syntax, bad_escapes);
    tcase_add_test(syntax, bad_structure);
    tcase_add_test(syntax, bad_non_json_whitespace);
    tcase_add_test(syntax, bad_not_object);
    tcase_add_test(syntax, bad_trailing_data);
    suite_add_tcase(s, syntax);

    tcase_set_timeout(dup, 60);
    tcase_add_test(dup, bad_dup_top_level);
    tcase_add_test(dup, bad_dup_nested);
    tcase_add_test(dup, bad_dup_values_are_objects);
    tcase_add_test(dup, bad_dup_after_escape_decoding);
    tcase_add_test(dup, bad_dup_at_max_depth);
    tcase_add_test(dup, bad_dup_among_many_keys);
    tcase_add_test(dup, ok_dup_check_stays_aligned);
    suite_add_tcase(s, dup);
    return s;
}
