/* Unit tests for fcgi-app/resp.c: the exact bytes of a serialised response, header injection refused,
 * RFC 9457 problem bodies and redirects that fail closed. */
#include "resp.h"

#include "arena.h"
#include "buf.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static struct arena *arena;

static void setup(void)
{
    arena = arena_new(4096);
}

static void teardown(void)
{
    arena_free(arena);
}

/* Serialises w and compares every byte with want (want_len bytes; may contain NULs). */
static void serialized_is(const struct resp *w, const char *rid, bool head_only, const char *want,
                          size_t want_len)
{
    struct buf out;
    buf_init(&out, arena, 16);
    resp_serialize(w, rid, head_only, &out);
    ck_assert_msg(out.len == want_len && memcmp(out.data, want, want_len) == 0,
                  "wanted (%zu bytes):\n%.*s\ngot (%zu bytes):\n%.*s", want_len, (int)want_len, want, out.len,
                  (int)out.len, out.data);
}

#define SERIALIZED_IS(w, rid, head, lit) serialized_is((w), (rid), (head), (lit), sizeof(lit) - 1)

static const char *serialize(const struct resp *w, const char *rid, bool head_only, size_t *len)
{
    struct buf *out = arena_alloc(arena, sizeof(*out));
    buf_init(out, arena, 16);
    resp_serialize(w, rid, head_only, out);
    *len = out->len;
    return buf_str(out);
}

/* Parses w's body as JSON (caller puts it). */
static struct json_object *body_json(const struct resp *w)
{
    ck_assert_ptr_nonnull(w->body);
    char *copy = arena_strndup(arena, w->body, w->body_len);
    ck_assert_uint_eq(strlen(copy), w->body_len);
    struct json_object *o = json_tokener_parse(copy);
    ck_assert_msg(o != NULL, "body is not JSON: %s", copy);
    return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no \"%s\"", key);
    ck_assert_msg(json_object_is_type(v, json_type_string), "\"%s\" is not a string", key);
    return json_object_get_string(v);
}

/* ---- serialisation ---- */

START_TEST(ser_initial_500)
{
    struct resp w;
    resp_init(&w, arena);
    ck_assert_int_eq(w.status, 500);
    SERIALIZED_IS(&w, "rid-1", false,
                  "Status: 500 Internal Server Error\r\n"
                  "Content-Length: 0\r\n"
                  "X-Request-Id: rid-1\r\n"
                  "\r\n");
}
END_TEST

START_TEST(ser_body)
{
    struct resp w;
    resp_init(&w, arena);
    resp_body(&w, 200, "text/plain; charset=utf-8", "hello", 5);
    SERIALIZED_IS(&w, "abc", false,
                  "Status: 200 OK\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: 5\r\n"
                  "X-Request-Id: abc\r\n"
                  "\r\n"
                  "hello");
}
END_TEST

START_TEST(ser_redirect_302)
{
    struct resp w;
    resp_init(&w, arena);
    resp_redirect(&w, 302, "https://example.com/a?b=c");
    ck_assert_int_eq(w.status, 302);
    SERIALIZED_IS(&w, "r1", false,
                  "Status: 302 Found\r\n"
                  "Content-Length: 0\r\n"
                  "X-Request-Id: r1\r\n"
                  "Location: https://example.com/a?b=c\r\n"
                  "\r\n");
}
END_TEST

START_TEST(ser_redirect_codes)
{
    static const struct {
        int code;
        const char *line;
    } t[] = {
        {301, "Status: 301 Moved Permanently\r\n"},
        {302, "Status: 302 Found\r\n"},
        {307, "Status: 307 Temporary Redirect\r\n"},
        {308, "Status: 308 Permanent Redirect\r\n"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct resp w;
        size_t len;
        resp_init(&w, arena);
        resp_redirect(&w, t[i].code, "https://e.com/");
        const char *s = serialize(&w, "r", false, &len);
        ck_assert_msg(strncmp(s, t[i].line, strlen(t[i].line)) == 0, "%d: %s", t[i].code, s);
        ck_assert_ptr_nonnull(strstr(s, "\r\nLocation: https://e.com/\r\n\r\n"));
    }
}
END_TEST

START_TEST(ser_extra_headers_in_order)
{
    struct resp w;
    resp_init(&w, arena);
    ck_assert_int_eq(resp_header(&w, "Cache-Control", "no-store"), 0);
    ck_assert_int_eq(resp_header(&w, "Location", "/api/links/abc"), 0);
    ck_assert_int_eq(resp_header(&w, "X-Empty", ""), 0);
    resp_body(&w, 201, "application/json", "{}", 2);
    SERIALIZED_IS(&w, "id-9", false,
                  "Status: 201 Created\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: 2\r\n"
                  "X-Request-Id: id-9\r\n"
                  "Cache-Control: no-store\r\n"
                  "Location: /api/links/abc\r\n"
                  "X-Empty: \r\n"
                  "\r\n"
                  "{}");
}
END_TEST

START_TEST(ser_head_without_body)
{
    struct resp w;
    resp_init(&w, arena);
    resp_header(&w, "Cache-Control", "no-cache");
    resp_body(&w, 200, "text/plain", "hello", 5);
    /* HEAD keeps the GET's Content-Length but sends no body */
    SERIALIZED_IS(&w, "h", true,
                  "Status: 200 OK\r\n"
                  "Content-Type: text/plain\r\n"
                  "Content-Length: 5\r\n"
                  "X-Request-Id: h\r\n"
                  "Cache-Control: no-cache\r\n"
                  "\r\n");
}
END_TEST

START_TEST(ser_no_content_length_for_204_304)
{
    struct resp w;
    resp_init(&w, arena);
    resp_body(&w, 204, NULL, NULL, 0);
    SERIALIZED_IS(&w, "a", false,
                  "Status: 204 No Content\r\n"
                  "X-Request-Id: a\r\n"
                  "\r\n");
    resp_init(&w, arena);
    resp_body(&w, 304, NULL, NULL, 0);
    SERIALIZED_IS(&w, "a", false,
                  "Status: 304 Not Modified\r\n"
                  "X-Request-Id: a\r\n"
                  "\r\n");
}
END_TEST

START_TEST(ser_binary_body)
{
    struct resp w;
    resp_init(&w, arena);
    resp_body(&w, 200, "application/octet-stream", "a\0b", 3);
    SERIALIZED_IS(&w, "b", false,
                  "Status: 200 OK\r\n"
                  "Content-Type: application/octet-stream\r\n"
                  "Content-Length: 3\r\n"
                  "X-Request-Id: b\r\n"
                  "\r\n"
                  "a\0b");
}
END_TEST

START_TEST(ser_large_body)
{
    size_t n = 200000;
    char *body = arena_alloc(arena, n);
    for (size_t i = 0; i < n; i++)
        body[i] = (char)('0' + i % 10);
    struct resp w;
    resp_init(&w, arena);
    resp_body(&w, 200, "text/plain", body, n);
    size_t len;
    const char *s = serialize(&w, "big", false, &len);
    const char *head = "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 200000\r\n"
                       "X-Request-Id: big\r\n\r\n";
    size_t hl = strlen(head);
    ck_assert_uint_eq(len, hl + n);
    ck_assert(memcmp(s, head, hl) == 0);
    ck_assert(memcmp(s + hl, body, n) == 0);
    /* HEAD: the same headers only */
    s = serialize(&w, "big", true, &len);
    ck_assert_uint_eq(len, hl);
}
END_TEST

START_TEST(ser_appends_to_buffer)
{
    struct resp w;
    struct buf out;
    resp_init(&w, arena);
    resp_body(&w, 200, NULL, "x", 1);
    buf_init(&out, arena, 64);
    buf_adds(&out, "PREFIX");
    resp_serialize(&w, "r", false, &out);
    ck_assert_str_eq(buf_str(&out), "PREFIXStatus: 200 OK\r\nContent-Length: 1\r\nX-Request-Id: r\r\n\r\nx");
}
END_TEST

START_TEST(reason_phrases)
{
    ck_assert_str_eq(resp_reason(200), "OK");
    ck_assert_str_eq(resp_reason(302), "Found");
    ck_assert_str_eq(resp_reason(404), "Not Found");
    ck_assert_str_eq(resp_reason(405), "Method Not Allowed");
    ck_assert_str_eq(resp_reason(408), "Request Timeout");
    ck_assert_str_eq(resp_reason(413), "Content Too Large");
    ck_assert_str_eq(resp_reason(415), "Unsupported Media Type");
    ck_assert_str_eq(resp_reason(422), "Unprocessable Content");
    ck_assert_str_eq(resp_reason(503), "Service Unavailable");
    ck_assert_str_eq(resp_reason(599), "Unknown");
    ck_assert_str_eq(resp_reason(0), "Unknown");
    ck_assert_str_eq(resp_reason(-1), "Unknown");
}
END_TEST

/* ---- headers ---- */

START_TEST(header_refuses_cr_lf)
{
    struct resp w;
    resp_init(&w, arena);
    ck_assert_int_eq(resp_header(&w, "X-A\r", "v"), -1);
    ck_assert_int_eq(resp_header(&w, "X\nB", "v"), -1);
    ck_assert_int_eq(resp_header(&w, "X-A", "a\rb"), -1);
    ck_assert_int_eq(resp_header(&w, "X-A", "a\nb"), -1);
    ck_assert_int_eq(resp_header(&w, "X-A", "v\r\nSet-Cookie: s=1"), -1);
    ck_assert_int_eq(resp_header(&w, "X-A", "\r\n"), -1);
    ck_assert_int_eq(resp_header(&w, "X-A", "v\n"), -1);
    ck_assert_int_eq(resp_header(&w, "\r\nSet-Cookie", "s=1"), -1);
    ck_assert_uint_eq(w.headers.len, 0);
    resp_body(&w, 200, NULL, NULL, 0);
    SERIALIZED_IS(&w, "r", false, "Status: 200 OK\r\nContent-Length: 0\r\nX-Request-Id: r\r\n\r\n");
}
END_TEST

START_TEST(header_refuses_colon_in_name)
{
    struct resp w;
    resp_init(&w, arena);
    ck_assert_int_eq(resp_header(&w, "X:Y", "v"), -1);
    ck_assert_int_eq(resp_header(&w, "Location:", "v"), -1);
    ck_assert_int_eq(resp_header(&w, ":", "v"), -1);
    ck_assert_uint_eq(w.headers.len, 0);
    /* a colon in the value is fine */
    ck_assert_int_eq(resp_header(&w, "Location", "https://e.com:8443/a:b"), 0);
    ck_assert_str_eq(buf_str(&w.headers), "Location: https://e.com:8443/a:b\r\n");
}
END_TEST

/* every byte as a one-byte name against RFC 9110's tchar set, and inside a longer name */
START_TEST(header_name_every_byte)
{
    const char *tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (int c = 1; c < 256; c++) {
        struct resp w;
        resp_init(&w, arena);
        char one[2] = {(char)c, '\0'}, inside[4] = {'X', (char)c, 'y', '\0'};
        int want = strchr(tchar, c) ? 0 : -1;
        ck_assert_msg(resp_header(&w, one, "v") == want, "byte 0x%02x", c);
        ck_assert_msg(resp_header(&w, inside, "v") == want, "byte 0x%02x inside", c);
    }
    struct resp w;
    resp_init(&w, arena);
    ck_assert_int_eq(resp_header(&w, "", "v"), -1);
}
END_TEST

START_TEST(header_refused_leaves_earlier_headers)
{
    struct resp w;
    resp_init(&w, arena);
    ck_assert_int_eq(resp_header(&w, "A", "1"), 0);
    ck_assert_int_eq(resp_header(&w, "B", "2\r\n"), -1);
    ck_assert_int_eq(resp_header(&w, "C", "3"), 0);
    ck_assert_str_eq(buf_str(&w.headers), "A: 1\r\nC: 3\r\n");
}
END_TEST

START_TEST(header_many)
{
    struct resp w;
    resp_init(&w, arena);
    char name[32], value[64];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "X-H%d", i);
        snprintf(value, sizeof(value), "value-%d-abcdefghijklmnopqrstuvwxyz", i);
        ck_assert_int_eq(resp_header(&w, name, value), 0);
    }
    const char *h = buf_str(&w.headers);
    ck_assert(strncmp(h, "X-H0: value-0-abcdefghijklmnopqrstuvwxyz\r\n", 42) == 0);
    ck_assert_ptr_nonnull(strstr(h, "\r\nX-H499: value-499-abcdefghijklmnopqrstuvwxyz\r\n"));
}
END_TEST

/* ---- problems ---- */

START_TEST(problem_body)
{
    struct resp w;
    resp_init(&w, arena);
    resp_problem(&w, 404, "there is nothing at this path");
    ck_assert_int_eq(w.status, 404);
    ck_assert_str_eq(w.content_type, "application/problem+json");
    struct json_object *o = body_json(&w);
    ck_assert_int_eq(json_object_object_length(o), 4);
    ck_assert_str_eq(get_str(o, "type"), "about:blank");
    ck_assert_str_eq(get_str(o, "title"), "Not Found");
    ck_assert_str_eq(get_str(o, "detail"), "there is nothing at this path");
    struct json_object *st = NULL;
    ck_assert(json_object_object_get_ex(o, "status", &st));
    ck_assert(json_object_is_type(st, json_type_int));
    ck_assert_int_eq(json_object_get_int(st), 404);
    ck_assert(!json_object_object_get_ex(o, "errors", NULL));
    json_object_put(o);

    size_t len;
    const char *s = serialize(&w, "p", false, &len);
    const char *start = "Status: 404 Not Found\r\nContent-Type: application/problem+json\r\nContent-Length: ";
    ck_assert(strncmp(s, start, strlen(start)) == 0);
    char cl[64];
    snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", w.body_len);
    ck_assert_ptr_nonnull(strstr(s, cl));
}
END_TEST

START_TEST(problem_detail_escaped)
{
    struct resp w;
    resp_init(&w, arena);
    const char *detail = "a \"quoted\" \\ word\nwith a line / and \x01 control";
    resp_problem(&w, 400, detail);
    ck_assert_ptr_null(memchr(w.body, '\n', w.body_len));
    struct json_object *o = body_json(&w);
    ck_assert_str_eq(get_str(o, "detail"), detail);
    ck_assert_str_eq(get_str(o, "title"), "Bad Request");
    json_object_put(o);
}
END_TEST

START_TEST(problem_unknown_status)
{
    struct resp w;
    resp_init(&w, arena);
    resp_problem(&w, 418, "short and stout");
    struct json_object *o = body_json(&w);
    ck_assert_str_eq(get_str(o, "title"), "Unknown");
    json_object_put(o);
    size_t len;
    ck_assert(strncmp(serialize(&w, "r", false, &len), "Status: 418 Unknown\r\n", 21) == 0);
}
END_TEST

START_TEST(problem_errors)
{
    struct resp w;
    resp_init(&w, arena);
    struct json_object *errors = json_object_new_array();
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "field", json_object_new_string("url"));
    json_object_object_add(e, "detail", json_object_new_string("url is required"));
    json_object_array_add(errors, e);
    e = json_object_new_object();
    json_object_object_add(e, "field", json_object_new_string("redirect"));
    json_object_object_add(e, "detail", json_object_new_string("redirect must be one of ..."));
    json_object_array_add(errors, e);
    /* takes ownership of errors */
    resp_problem_errors(&w, 422, "url is required (and 1 more)", errors);

    ck_assert_int_eq(w.status, 422);
    ck_assert_str_eq(w.content_type, "application/problem+json");
    struct json_object *o = body_json(&w);
    ck_assert_int_eq(json_object_object_length(o), 5);
    ck_assert_str_eq(get_str(o, "title"), "Unprocessable Content");
    ck_assert_str_eq(get_str(o, "detail"), "url is required (and 1 more)");
    struct json_object *arr = NULL;
    ck_assert(json_object_object_get_ex(o, "errors", &arr));
    ck_assert(json_object_is_type(arr, json_type_array));
    ck_assert_uint_eq(json_object_array_length(arr), 2);
    ck_assert_str_eq(get_str(json_object_array_get_idx(arr, 0), "field"), "url");
    ck_assert_str_eq(get_str(json_object_array_get_idx(arr, 0), "detail"), "url is required");
    ck_assert_str_eq(get_str(json_object_array_get_idx(arr, 1), "field"), "redirect");
    json_object_put(o);
}
END_TEST

START_TEST(problem_errors_null)
{
    struct resp w;
    resp_init(&w, arena);
    resp_problem_errors(&w, 400, "bad", NULL);
    struct json_object *o = body_json(&w);
    ck_assert(!json_object_object_get_ex(o, "errors", NULL));
    ck_assert_int_eq(json_object_object_length(o), 4);
    json_object_put(o);
}
END_TEST

START_TEST(problem_keeps_headers)
{
    struct resp w;
    resp_init(&w, arena);
    resp_header(&w, "Retry-After", "1");
    resp_problem(&w, 503, "try again");
    size_t len;
    const char *s = serialize(&w, "r", false, &len);
    ck_assert_ptr_nonnull(strstr(s, "\r\nX-Request-Id: r\r\nRetry-After: 1\r\n\r\n{"));
}
END_TEST

/* ---- JSON bodies ---- */

START_TEST(json_body_copied)
{
    struct resp w;
    resp_init(&w, arena);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "url", json_object_new_string("https://e.com/a/b"));
    json_object_object_add(o, "n", json_object_new_int(7));
    resp_json(&w, 201, o);
    json_object_put(o); /* the body must survive the object */
    ck_assert_int_eq(w.status, 201);
    ck_assert_str_eq(w.content_type, "application/json");
    ck_assert_uint_eq(w.body_len, strlen("{\"url\":\"https://e.com/a/b\",\"n\":7}"));
    ck_assert(memcmp(w.body, "{\"url\":\"https://e.com/a/b\",\"n\":7}", w.body_len) == 0);
}
END_TEST

/* ---- redirects that cannot be sent ---- */

static void redirect_refused(const char *url)
{
    struct resp w;
    resp_init(&w, arena);
    resp_redirect(&w, 302, url);
    ck_assert_int_eq(w.status, 500);
    ck_assert_str_eq(w.content_type, "application/problem+json");
    ck_assert_uint_eq(w.headers.len, 0);
    size_t len;
    const char *s = serialize(&w, "r", false, &len);
    ck_assert_ptr_null(strstr(s, "Location"));
    ck_assert_ptr_null(strstr(s, "Set-Cookie"));
    ck_assert_ptr_null(strstr(s, "evil"));
    ck_assert(strncmp(s, "Status: 500 Internal Server Error\r\n", 35) == 0);
    struct json_object *o = body_json(&w);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "status")), 500);
    json_object_put(o);
}

START_TEST(redirect_with_cr)
{
    redirect_refused("https://e.com/\rSet-Cookie: evil=1");
    redirect_refused("https://e.com/\r\nSet-Cookie: evil=1");
    redirect_refused("https://e.com/\nSet-Cookie: evil=1");
    redirect_refused("\r");
}
END_TEST

/* streaming: the head has no Content-Length, the body is what the stream writes, in order, after the head */
static void collect(void *ctx, const char *s, size_t n)
{
    buf_add(ctx, s, n);
}

static void three_pieces(void *ctx, const struct resp_sink *out)
{
    const char *word = ctx;
    for (int i = 0; i < 3; i++)
        out->write(out->ctx, word, strlen(word));
}

START_TEST(stream_body_after_head)
{
    struct resp w;
    resp_init(&w, arena);
    resp_stream(&w, 200, "text/csv", three_pieces, "ab,");
    struct buf scratch, got;
    buf_init(&scratch, arena, 64);
    buf_init(&got, arena, 64);
    struct resp_sink sink = {collect, &got};
    resp_send(&w, "id", false, &scratch, &sink);
    ck_assert_str_eq(buf_str(&got),
                     "Status: 200 OK\r\nContent-Type: text/csv\r\nX-Request-Id: id\r\n\r\nab,ab,ab,");
}
END_TEST

START_TEST(stream_head_only)
{
    struct resp w;
    resp_init(&w, arena);
    resp_stream(&w, 200, "text/csv", three_pieces, "ab,");
    struct buf scratch, got;
    buf_init(&scratch, arena, 64);
    buf_init(&got, arena, 64);
    struct resp_sink sink = {collect, &got};
    resp_send(&w, "id", true, &scratch, &sink);
    ck_assert_str_eq(buf_str(&got), "Status: 200 OK\r\nContent-Type: text/csv\r\nX-Request-Id: id\r\n\r\n");
}
END_TEST

START_TEST(send_whole_body)
{
    struct resp w;
    resp_init(&w, arena);
    resp_body(&w, 200, "text/plain", "hi", 2);
    struct buf scratch, got;
    buf_init(&scratch, arena, 64);
    buf_init(&got, arena, 64);
    struct resp_sink sink = {collect, &got};
    resp_send(&w, "id", false, &scratch, &sink);
    ck_assert_str_eq(
        buf_str(&got),
        "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nX-Request-Id: id\r\n\r\nhi");
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("resp");
    TCase *ser = tcase_create("serialize");
    TCase *hdr = tcase_create("headers");
    TCase *prob = tcase_create("problems");

    tcase_add_checked_fixture(ser, setup, teardown);
    tcase_add_checked_fixture(hdr, setup, teardown);
    tcase_add_checked_fixture(prob, setup, teardown);

    tcase_add_test(ser, ser_initial_500);
    tcase_add_test(ser, ser_body);
    tcase_add_test(ser, ser_redirect_302);
    tcase_add_test(ser, ser_redirect_codes);
    tcase_add_test(ser, ser_extra_headers_in_order);
    tcase_add_test(ser, ser_head_without_body);
    tcase_add_test(ser, ser_no_content_length_for_204_304);
    tcase_add_test(ser, ser_binary_body);
    tcase_add_test(ser, ser_large_body);
    tcase_add_test(ser, ser_appends_to_buffer);
    tcase_add_test(ser, reason_phrases);
    tcase_add_test(ser, stream_body_after_head);
    tcase_add_test(ser, stream_head_only);
    tcase_add_test(ser, send_whole_body);
    suite_add_tcase(s, ser);

    tcase_add_test(hdr, header_refuses_cr_lf);
    tcase_add_test(hdr, header_refuses_colon_in_name);
    tcase_add_test(hdr, header_name_every_byte);
    tcase_add_test(hdr, header_refused_leaves_earlier_headers);
    tcase_add_test(hdr, header_many);
    tcase_add_test(hdr, redirect_with_cr);
    suite_add_tcase(s, hdr);

    tcase_add_test(prob, problem_body);
    tcase_add_test(prob, problem_detail_escaped);
    tcase_add_test(prob, problem_unknown_status);
    tcase_add_test(prob, problem_errors);
    tcase_add_test(prob, problem_errors_null);
    tcase_add_test(prob, problem_keeps_headers);
    tcase_add_test(prob, json_body_copied);
    suite_add_tcase(s, prob);

    return s;
}
