/* Unit tests for fcgi-app/req.c: request target decoding, query parameters, request ids, Content-Type
 * matching and reading the body from an in-memory source with limits, short bodies, errors and deadlines. */
#include "req.h"

#include "arena.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct arena *arena;

static void setup(void)
{
    arena = arena_new(4096);
}

static void teardown(void)
{
    arena_free(arena);
}

/* An env array from KEY=VALUE literals, NULL-terminated. */
#define ENV(...) ((char *[]){__VA_ARGS__, NULL})

static void init_ok(struct req *r, char **env)
{
    const char *detail = NULL;
    int rc = req_init(r, arena, env, &detail);
    ck_assert_msg(rc == 0, "req_init failed with %d: %s", rc, detail ? detail : "(null)");
}

/* req_init with only REQUEST_URI; checks the decoded path. */
static void uri_path(const char *uri, const char *want_path, size_t want_len)
{
    char var[512];
    struct req r;
    snprintf(var, sizeof(var), "REQUEST_URI=%s", uri);
    init_ok(&r, ENV(var));
    ck_assert_msg(r.path_len == want_len && memcmp(r.path, want_path, want_len) == 0,
                  "URI %s: wanted path \"%s\" (%zu), got \"%s\" (%zu)", uri, want_path, want_len, r.path,
                  r.path_len);
    ck_assert_int_eq(r.path[r.path_len], '\0');
}

static void uri_bad(const char *uri)
{
    char var[512];
    struct req r;
    const char *detail = NULL;
    snprintf(var, sizeof(var), "REQUEST_URI=%s", uri);
    int rc = req_init(&r, arena, ENV(var), &detail);
    ck_assert_msg(rc == 400, "URI %s: wanted 400, got %d", uri, rc);
    ck_assert_ptr_nonnull(detail);
    ck_assert_ptr_nonnull(r.path);
    ck_assert_uint_eq(strlen(r.path), r.path_len);
}

/* ---- request target ---- */

START_TEST(uri_decoded)
{
    uri_path("/%41bc", "/Abc", 4);
    uri_path("/%4a%4A", "/JJ", 3);
    uri_path("/abc", "/abc", 4);
    uri_path("/", "/", 1);
    uri_path("/a%20b", "/a b", 4);
    uri_path("/%25", "/%", 2);
    uri_path("/%c3%a9", "/\xc3\xa9", 3);
}
END_TEST

START_TEST(uri_plus_is_not_space_in_path)
{
    uri_path("/a+b", "/a+b", 4);
}
END_TEST

START_TEST(uri_encoded_question_mark_and_slash)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/a%3Fb?x=1"));
    ck_assert_str_eq(r.path, "/a?b");
    ck_assert_str_eq(r.query, "x=1");
    uri_path("/a%2Fb", "/a/b", 4);
}
END_TEST

START_TEST(uri_malformed)
{
    uri_bad("/%zz");
    uri_bad("/%4");
    uri_bad("/%");
    uri_bad("/a%");
    uri_bad("/%00");
    uri_bad("/a%00b");
    uri_bad("/%g1");
    uri_bad("/%1g");
    uri_bad("/%%41");
}
END_TEST

START_TEST(uri_malformed_keeps_raw_path)
{
    struct req r;
    const char *detail = NULL;
    ck_assert_int_eq(req_init(&r, arena, ENV("REQUEST_URI=/x%zz?a=1"), &detail), 400);
    ck_assert_str_eq(r.path, "/x%zz");
    ck_assert_uint_eq(r.path_len, 5);
    ck_assert_str_eq(detail, "the path has a malformed percent-encoding or a NUL byte");
}
END_TEST

START_TEST(uri_absolute_form)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=http://example.com/x%41?y=1"));
    ck_assert_str_eq(r.path, "/xA");
    ck_assert_str_eq(r.query, "y=1");
    uri_path("https://example.com", "/", 1);
    uri_path("https://example.com:8443/a/b", "/a/b", 4);
    uri_path("HTTPS://user@example.com/", "/", 1);
    uri_bad("example.com/x");
    uri_bad("*");
    uri_bad("http:/x");
}
END_TEST

START_TEST(uri_missing_uses_path_info)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_METHOD=GET", "PATH_INFO=/from-pi"));
    ck_assert_str_eq(r.path, "/from-pi");
    init_ok(&r, ENV("REQUEST_URI=", "PATH_INFO=/empty-uri"));
    ck_assert_str_eq(r.path, "/empty-uri");
    init_ok(&r, ENV("REQUEST_METHOD=GET"));
    ck_assert_str_eq(r.path, "/");
    ck_assert_uint_eq(r.path_len, 1);
    init_ok(&r, ENV("PATH_INFO="));
    ck_assert_str_eq(r.path, "/");
    /* REQUEST_URI wins when both are there */
    init_ok(&r, ENV("PATH_INFO=/pi", "REQUEST_URI=/uri"));
    ck_assert_str_eq(r.path, "/uri");
}
END_TEST

START_TEST(init_defaults)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/"));
    ck_assert_str_eq(r.method, "GET");
    ck_assert_int_eq(r.content_length, -1);
    ck_assert_uint_eq(r.max_body, 64 * 1024);
    ck_assert_str_eq(r.id, "");
    ck_assert_str_eq(r.query, "");
    ck_assert_uint_eq(r.nqs, 0);
    ck_assert_uint_eq(r.nroute, 0);
    ck_assert(!r.body_read);
    ck_assert_ptr_eq(r.arena, arena);

    init_ok(&r, NULL);
    ck_assert_str_eq(r.method, "GET");
    ck_assert_str_eq(r.path, "/");
}
END_TEST

START_TEST(init_method_and_length)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_METHOD=PATCH", "REQUEST_URI=/", "CONTENT_LENGTH=42"));
    ck_assert_str_eq(r.method, "PATCH");
    ck_assert_int_eq(r.content_length, 42);
    init_ok(&r, ENV("CONTENT_LENGTH=0"));
    ck_assert_int_eq(r.content_length, 0);
    init_ok(&r, ENV("CONTENT_LENGTH=-1"));
    ck_assert_int_eq(r.content_length, -1);
    init_ok(&r, ENV("CONTENT_LENGTH="));
    ck_assert_int_eq(r.content_length, -1);
    /* not a number: req_read_body answers 400 */
    init_ok(&r, ENV("CONTENT_LENGTH=12abc"));
    ck_assert_int_eq(r.content_length, -2);
}
END_TEST

START_TEST(env_lookup_exact_name)
{
    struct req r;
    /* keys of the same length as the one asked, a param without '=', a value holding '=' */
    init_ok(&r, ENV("HTTP_HOSTNAME=no", "CONTENT_TYPE_X=no", "HTTP_HOSX=no", "NOEQUALS", "HTTP_HOST=sho.rt",
                    "CONTENT_TYPE=a/b", "EMPTY=", "Q=a=b"));
    ck_assert_str_eq(req_env(&r, "HTTP_HOST"), "sho.rt");
    ck_assert_str_eq(req_env(&r, "CONTENT_TYPE"), "a/b");
    ck_assert_str_eq(req_env(&r, "EMPTY"), "");
    ck_assert_str_eq(req_env(&r, "Q"), "a=b");
    ck_assert_ptr_null(req_env(&r, "HTTP_HOS"));
    ck_assert_ptr_null(req_env(&r, "HTTP"));
    ck_assert_ptr_null(req_env(&r, "MISSING"));
    ck_assert_ptr_null(req_env(&r, "NOEQUALS"));
    ck_assert_ptr_null(req_env(&r, "Q=a"));
}
END_TEST

/* The params are chained by their key's length: a name given twice answers its first value, keys of 47
 * bytes and more share one chain (their lengths still compared), and a long key's prefix is not it. */
START_TEST(env_lookup_first_of_two_and_long_keys)
{
    char k47[48], k60[61], a[128], b[128], c[128];
    memset(k47, 'K', sizeof(k47) - 1);
    k47[47] = '\0';
    memset(k60, 'K', sizeof(k60) - 1);
    k60[60] = '\0';
    snprintf(a, sizeof(a), "%s=sixty", k60);
    snprintf(b, sizeof(b), "%s=forty-seven", k47);
    snprintf(c, sizeof(c), "%s=second", k47);
    struct req r;
    init_ok(&r, ENV("HTTP_X=first", a, "HTTP_Y=y", b, "HTTP_X=second", c, "", "="));
    ck_assert_str_eq(req_env(&r, "HTTP_X"), "first");
    ck_assert_str_eq(req_env(&r, "HTTP_Y"), "y");
    ck_assert_str_eq(req_env(&r, k47), "forty-seven");
    ck_assert_str_eq(req_env(&r, k60), "sixty");
    k60[50] = '\0';
    ck_assert_ptr_null(req_env(&r, k60));
    ck_assert_str_eq(req_env(&r, ""), "");
    ck_assert_ptr_null(req_env(&r, "HTTP_Z"));
}
END_TEST

/* ---- query ---- */

static void query_is(const struct req *r, const char *name, const char *want)
{
    const char *v = "poison";
    int rc = req_query(r, name, &v);
    ck_assert_msg(rc == 1, "query %s: wanted found, got %d", name, rc);
    ck_assert_str_eq(v, want);
}

static void query_rc(const struct req *r, const char *name, int want)
{
    const char *v = NULL;
    int rc = req_query(r, name, &v);
    ck_assert_msg(rc == want, "query %s: wanted %d, got %d", name, want, rc);
}

START_TEST(query_basic)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/p?a=1&b=two+words&c=%41%42&d=x%2By&e=a=b"));
    ck_assert_str_eq(r.query, "a=1&b=two+words&c=%41%42&d=x%2By&e=a=b");
    ck_assert_uint_eq(r.nqs, 5);
    query_is(&r, "a", "1");
    query_is(&r, "b", "two words");
    query_is(&r, "c", "AB");
    query_is(&r, "d", "x+y");
    query_is(&r, "e", "a=b");
}
END_TEST

START_TEST(query_absent)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/p?a=1"));
    const char *v = "untouched";
    ck_assert_int_eq(req_query(&r, "b", &v), 0);
    ck_assert_str_eq(v, "untouched");
    ck_assert_int_eq(req_query(&r, "A", &v), 0);
    ck_assert_int_eq(req_query(&r, "a=1", &v), 0);
    init_ok(&r, ENV("REQUEST_URI=/p"));
    query_rc(&r, "a", 0);
    init_ok(&r, ENV("REQUEST_URI=/p?"));
    query_rc(&r, "a", 0);
    ck_assert_uint_eq(r.nqs, 0);
}
END_TEST

START_TEST(query_duplicates)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/p?a=1&b=2&a=1"));
    query_rc(&r, "a", -1);
    query_is(&r, "b", "2");
    /* the same name spelled two ways is still twice */
    init_ok(&r, ENV("REQUEST_URI=/p?a+b=1&a%20b=2"));
    query_rc(&r, "a b", -1);
    init_ok(&r, ENV("REQUEST_URI=/p?a&a="));
    query_rc(&r, "a", -1);
}
END_TEST

START_TEST(query_all_repeated)
{
    struct req r;
    const char *v[3] = {NULL, NULL, NULL};
    init_ok(&r, ENV("REQUEST_URI=/p?tag=a&x=1&tag=B%20c&tag=&y=2"));
    ck_assert_int_eq(req_query_all(&r, "tag", v, 3), 3);
    ck_assert_str_eq(v[0], "a");
    ck_assert_str_eq(v[1], "B c");
    ck_assert_str_eq(v[2], "");
    /* the one-value reader still refuses the repeated name, and other names are untouched */
    query_rc(&r, "tag", -1);
    query_is(&r, "x", "1");
    ck_assert_int_eq(req_query_all(&r, "x", v, 3), 1);
    ck_assert_str_eq(v[0], "1");
}
END_TEST

START_TEST(query_all_absent_and_bounds)
{
    struct req r;
    const char *v[2] = {"untouched", "untouched"};
    init_ok(&r, ENV("REQUEST_URI=/p?a=1"));
    ck_assert_int_eq(req_query_all(&r, "tag", v, 2), 0);
    ck_assert_str_eq(v[0], "untouched");
    init_ok(&r, ENV("REQUEST_URI=/p"));
    ck_assert_int_eq(req_query_all(&r, "tag", v, 2), 0);
    /* exactly max is fine, one more is refused */
    init_ok(&r, ENV("REQUEST_URI=/p?t=1&t=2"));
    ck_assert_int_eq(req_query_all(&r, "t", v, 2), 2);
    init_ok(&r, ENV("REQUEST_URI=/p?t=1&t=2&t=3"));
    ck_assert_int_eq(req_query_all(&r, "t", v, 2), -1);
    ck_assert_int_eq(req_query_all(&r, "t", v, 0), -1);
}
END_TEST

START_TEST(query_all_malformed)
{
    struct req r;
    const char *v[4];
    init_ok(&r, ENV("REQUEST_URI=/p?t=1&t=%zz"));
    ck_assert_int_eq(req_query_all(&r, "t", v, 4), -1);
    init_ok(&r, ENV("REQUEST_URI=/p?t=%00&t=1"));
    ck_assert_int_eq(req_query_all(&r, "t", v, 4), -1);
    /* a malformed name is kept raw, so it never matches the decoded one */
    init_ok(&r, ENV("REQUEST_URI=/p?t%zz=1&t=2"));
    ck_assert_int_eq(req_query_all(&r, "t", v, 4), 1);
    ck_assert_str_eq(v[0], "2");
}
END_TEST

START_TEST(query_malformed)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/p?a=%zz&b=ok&c=%4&d=%00&e=1%"));
    query_rc(&r, "a", -1);
    query_is(&r, "b", "ok");
    query_rc(&r, "c", -1);
    query_rc(&r, "d", -1);
    query_rc(&r, "e", -1);
    /* a malformed name keeps its raw spelling so an error can name it */
    init_ok(&r, ENV("REQUEST_URI=/p?%zz=1&x%4=2"));
    query_rc(&r, "%zz", -1);
    query_rc(&r, "x%4", -1);
    /* malformed then well-formed, in either order */
    init_ok(&r, ENV("REQUEST_URI=/p?a=1&a=%zz"));
    query_rc(&r, "a", -1);
}
END_TEST

START_TEST(query_empty_values)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/p?a=&b&c=+"));
    query_is(&r, "a", "");
    query_is(&r, "b", "");
    query_is(&r, "c", " ");
    init_ok(&r, ENV("REQUEST_URI=/p?&&x=1&&&"));
    ck_assert_uint_eq(r.nqs, 1);
    query_is(&r, "x", "1");
    init_ok(&r, ENV("REQUEST_URI=/p?=v"));
    query_is(&r, "", "v");
}
END_TEST

START_TEST(query_value_keeps_question_mark)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/p?next=/a?b&c=%26"));
    query_is(&r, "next", "/a?b");
    query_is(&r, "c", "&");
}
END_TEST

START_TEST(query_parse_direct_len_bounded)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/"));
    /* only the first 3 bytes are the query */
    char *q = malloc(3);
    ck_assert_ptr_nonnull(q);
    memcpy(q, "a=1", 3);
    req_parse_query(&r, q, 3);
    free(q);
    query_is(&r, "a", "1");
    req_parse_query(&r, "b=2&c=3", 3);
    query_is(&r, "b", "2");
    query_rc(&r, "c", 0);
    query_rc(&r, "a", 0);
}
END_TEST

START_TEST(query_thousands)
{
    enum { N = 5000 };
    size_t cap = N * 24 + 32;
    char *uri = malloc(cap);
    ck_assert_ptr_nonnull(uri);
    size_t o = (size_t)snprintf(uri, cap, "REQUEST_URI=/p?");
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(uri + o, cap - o, "%sp%d=v%d", i ? "&" : "", i, i);
    char *env[] = {uri, NULL};
    struct req r;
    init_ok(&r, env);
    ck_assert_uint_eq(r.nqs, N);
    char name[16], want[16];
    for (int i = 0; i < N; i += 7) {
        snprintf(name, sizeof(name), "p%d", i);
        snprintf(want, sizeof(want), "v%d", i);
        query_is(&r, name, want);
    }
    query_is(&r, "p4999", "v4999");
    query_rc(&r, "p5000", 0);

    /* thousands of the same name: a duplicate */
    o = (size_t)snprintf(uri, cap, "REQUEST_URI=/p?");
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(uri + o, cap - o, "%sx=%d", i ? "&" : "", i);
    init_ok(&r, env);
    ck_assert_uint_eq(r.nqs, N);
    query_rc(&r, "x", -1);
    free(uri);
}
END_TEST

/* ---- request ids ---- */

START_TEST(id_charset)
{
    ck_assert(req_id_valid("abc"));
    ck_assert(req_id_valid("a"));
    ck_assert(req_id_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~:/+=-"));
    ck_assert(req_id_valid("3f2a9c1e-7b4d-4e8a-9f00-1234567890ab"));
    ck_assert(req_id_valid("dGVzdA=="));
    ck_assert(!req_id_valid(""));
    ck_assert(!req_id_valid("a b"));
    ck_assert(!req_id_valid("a\tb"));
    ck_assert(!req_id_valid("a\"b"));
    ck_assert(!req_id_valid("a,b"));
    ck_assert(!req_id_valid("a;b"));
    ck_assert(!req_id_valid("a%41"));
    ck_assert(!req_id_valid("a\\b"));
    ck_assert(!req_id_valid("\xc3\xa9"));
    ck_assert(!req_id_valid("a\x7f"));
    ck_assert(!req_id_valid("a\x01"));
}
END_TEST

START_TEST(id_cr_lf)
{
    ck_assert(!req_id_valid("a\r"));
    ck_assert(!req_id_valid("a\n"));
    ck_assert(!req_id_valid("\r\n"));
    ck_assert(!req_id_valid("abc\r\nSet-Cookie: x=1"));
}
END_TEST

START_TEST(id_length)
{
    char s[REQ_ID_MAX + 2];
    memset(s, 'a', sizeof(s));
    s[REQ_ID_MAX] = '\0';
    ck_assert(req_id_valid(s));
    s[REQ_ID_MAX] = 'a';
    s[REQ_ID_MAX + 1] = '\0';
    ck_assert(!req_id_valid(s));
    s[REQ_ID_MAX - 1] = '\0';
    ck_assert(req_id_valid(s));
}
END_TEST

START_TEST(id_echoed_when_valid)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/", "HTTP_X_REQUEST_ID=abc-123"));
    ck_assert_str_eq(r.id, "abc-123");

    char var[32 + REQ_ID_MAX + 2];
    int o = snprintf(var, sizeof(var), "HTTP_X_REQUEST_ID=");
    memset(var + o, 'z', REQ_ID_MAX);
    var[o + REQ_ID_MAX] = '\0';
    init_ok(&r, ENV(var));
    ck_assert_uint_eq(strlen(r.id), REQ_ID_MAX);
    ck_assert_str_eq(r.id, var + o);

    var[o + REQ_ID_MAX] = 'z';
    var[o + REQ_ID_MAX + 1] = '\0';
    init_ok(&r, ENV(var));
    ck_assert_str_eq(r.id, "");
}
END_TEST

START_TEST(id_not_echoed_when_invalid)
{
    struct req r;
    init_ok(&r, ENV("HTTP_X_REQUEST_ID=bad id"));
    ck_assert_str_eq(r.id, "");
    init_ok(&r, ENV("HTTP_X_REQUEST_ID=a\r\nSet-Cookie: x=1"));
    ck_assert_str_eq(r.id, "");
    init_ok(&r, ENV("HTTP_X_REQUEST_ID="));
    ck_assert_str_eq(r.id, "");
    /* only that exact header name */
    init_ok(&r, ENV("X_REQUEST_ID=abc", "HTTP_X_REQUEST_IDS=abc"));
    ck_assert_str_eq(r.id, "");
}
END_TEST

/* ---- Content-Type ---- */

static bool ct_is(const char *ct, const char *want)
{
    char var[256];
    struct req r;
    snprintf(var, sizeof(var), "CONTENT_TYPE=%s", ct);
    init_ok(&r, ENV(var));
    return req_content_type_is(&r, want);
}

#define CT_YES(ct) ck_assert_msg(ct_is(ct, "application/json"), "\"%s\" should be application/json", ct)
#define CT_NO(ct)  ck_assert_msg(!ct_is(ct, "application/json"), "\"%s\" should not be application/json", ct)

START_TEST(ct_plain_and_case)
{
    CT_YES("application/json");
    CT_YES("Application/JSON");
    CT_YES("APPLICATION/JSON");
}
END_TEST

START_TEST(ct_charset_utf8)
{
    CT_YES("Application/JSON; charset=UTF-8");
    CT_YES("application/json;charset=utf-8");
    CT_YES("application/json; charset=\"utf-8\"");
    CT_YES("application/json; CHARSET=\"UTF-8\"");
    CT_YES("application/json ; charset=utf-8");
    CT_YES("application/json;\tcharset=utf-8 ");
}
END_TEST

START_TEST(ct_other_charset)
{
    CT_NO("application/json; charset=latin1");
    CT_NO("application/json; charset=\"latin1\"");
    CT_NO("application/json; charset=utf-16");
    CT_NO("application/json; charset=utf8");
    CT_NO("application/json; charset=utf-8x");
    CT_NO("application/json; charset=\"utf-8");
    CT_NO("application/json; charset=");
    CT_NO("application/json; charset=utf-8; charset=latin1");
}
END_TEST

START_TEST(ct_other_types)
{
    CT_NO("application/jsonx");
    CT_NO("application/json5");
    CT_NO("application/json-seq");
    CT_NO("application/problem+json");
    CT_NO("text/plain");
    CT_NO("text/json");
    CT_NO("application/jso");
    CT_NO("");
    CT_NO("application/json, text/plain");
    CT_NO("application/json x");
    ck_assert(ct_is("text/plain", "text/plain"));
}
END_TEST

START_TEST(ct_missing)
{
    struct req r;
    init_ok(&r, ENV("REQUEST_URI=/"));
    ck_assert(!req_content_type_is(&r, "application/json"));
    init_ok(&r, ENV("HTTP_CONTENT_TYPE=application/json"));
    ck_assert(!req_content_type_is(&r, "application/json"));
}
END_TEST

START_TEST(ct_extra_params)
{
    CT_YES("application/json; foo=bar");
    CT_YES("application/json; foo=bar; charset=utf-8");
    CT_YES("application/json; charset=utf-8; foo=\"a;b\"");
    CT_YES("application/json; foo=\"\"");
    CT_NO("application/json; foo");
    CT_NO("application/json; foo=\"bar");
}
END_TEST

/* ---- body ---- */

/* An in-memory body: hands out data at most chunk bytes at a time (0: as much as asked), then returns
 * tail (0 for the end, -1 or -2) for ever. Counts calls and notes a zero-byte request. */
struct mem_src {
    const char *data;
    size_t len, pos, chunk;
    ssize_t tail;
    int calls;
    bool asked_zero;
};

static ssize_t mem_read(void *ctx, char *buf, size_t cap)
{
    struct mem_src *m = ctx;
    m->calls++;
    if (cap == 0)
        m->asked_zero = true;
    if (m->pos == m->len)
        return m->tail;
    size_t n = m->len - m->pos;
    if (n > cap)
        n = cap;
    if (m->chunk && n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* A request with CONTENT_LENGTH cl (NULL: absent) reading from m. */
static void body_req(struct req *r, const char *cl, struct mem_src *m)
{
    /* static: r->env must outlive this call */
    static char var[64];
    static char *with_length[] = {"REQUEST_METHOD=POST", var, NULL};
    static char *without_length[] = {"REQUEST_METHOD=POST", NULL};
    snprintf(var, sizeof(var), "CONTENT_LENGTH=%s", cl ? cl : "");
    init_ok(r, cl ? with_length : without_length);
    r->body_src.ctx = m;
    r->body_src.read = mem_read;
}

static char *filled(size_t n)
{
    char *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + i % 26);
    return p;
}

START_TEST(body_exact_length)
{
    struct mem_src m = {.data = "hello world", .len = 11};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "11", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 11);
    ck_assert_str_eq(r.body, "hello world");
    ck_assert(r.body_read);
    ck_assert(!m.asked_zero);
}
END_TEST

START_TEST(body_read_once)
{
    struct mem_src m = {.data = "abc", .len = 3};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "3", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    int calls = m.calls;
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_int_eq(m.calls, calls);
    ck_assert_str_eq(r.body, "abc");
}
END_TEST

START_TEST(body_zero_length)
{
    struct mem_src m = {.data = "junk", .len = 4};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "0", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_str_eq(r.body, "");
    ck_assert_int_eq(m.calls, 0);
}
END_TEST

START_TEST(body_binary_with_nul)
{
    struct mem_src m = {.data = "a\0b\0", .len = 4};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "4", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 4);
    ck_assert(memcmp(r.body, "a\0b\0", 5) == 0);
}
END_TEST

START_TEST(body_longer_than_length_reads_only_length)
{
    struct mem_src m = {.data = "abcdef", .len = 6};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "3", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 3);
    ck_assert_str_eq(r.body, "abc");
}
END_TEST

START_TEST(body_length_over_limit_not_read)
{
    struct mem_src m = {.data = "x", .len = 1};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "65537", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    ck_assert_int_eq(m.calls, 0);
    ck_assert_str_eq(detail, "the request body is larger than the limit");
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_ptr_nonnull(r.body);

    body_req(&r, "11", &m);
    r.max_body = 10;
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    ck_assert_int_eq(m.calls, 0);
    /* asking again gives the same verdict, never an empty body that looks fine */
    detail = NULL;
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    ck_assert_str_eq(detail, "the request body is larger than the limit");

    body_req(&r, "12abc", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 400);
    ck_assert_int_eq(m.calls, 0);

    body_req(&r, "9223372036854775807", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    ck_assert_int_eq(m.calls, 0);
}
END_TEST

START_TEST(body_length_at_limit)
{
    char *data = filled(10);
    struct mem_src m = {.data = data, .len = 10};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "10", &m);
    r.max_body = 10;
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 10);
    ck_assert(memcmp(r.body, data, 10) == 0);
    free(data);
}
END_TEST

START_TEST(body_default_limit_exact)
{
    size_t n = 64 * 1024;
    char *data = filled(n);
    struct mem_src m = {.data = data, .len = n};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "65536", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, n);
    ck_assert(memcmp(r.body, data, n) == 0);
    ck_assert_int_eq(r.body[n], '\0');
    free(data);
}
END_TEST

START_TEST(body_chunked_under_limit)
{
    struct mem_src m = {.data = "{\"a\":1}", .len = 7};
    struct req r;
    const char *detail = NULL;
    body_req(&r, NULL, &m);
    ck_assert_int_eq(r.content_length, -1);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_str_eq(r.body, "{\"a\":1}");
    ck_assert_uint_eq(r.body_len, 7);

    struct mem_src m2 = {.data = "xyz", .len = 3};
    body_req(&r, "-1", &m2);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_str_eq(r.body, "xyz");

    struct mem_src empty = {.data = "", .len = 0};
    body_req(&r, NULL, &empty);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_str_eq(r.body, "");
}
END_TEST

START_TEST(body_chunked_at_and_over_limit)
{
    char *data = filled(101);
    struct req r;
    const char *detail = NULL;

    struct mem_src at = {.data = data, .len = 100};
    body_req(&r, NULL, &at);
    r.max_body = 100;
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 100);

    struct mem_src over = {.data = data, .len = 101};
    body_req(&r, NULL, &over);
    r.max_body = 100;
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    ck_assert_str_eq(detail, "the request body is larger than the limit");
    ck_assert_uint_eq(r.body_len, 0);

    struct mem_src over2 = {.data = data, .len = 101};
    body_req(&r, "-1", &over2);
    r.max_body = 100;
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    free(data);
}
END_TEST

START_TEST(body_chunked_huge_stops_after_limit)
{
    /* a source far bigger than the limit is not read to its end */
    size_t n = 1024 * 1024;
    char *data = filled(n);
    struct mem_src m = {.data = data, .len = n};
    struct req r;
    const char *detail = NULL;
    body_req(&r, NULL, &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    ck_assert_uint_le(m.pos, r.max_body + 1);
    free(data);
}
END_TEST

START_TEST(body_shorter_than_length)
{
    struct mem_src m = {.data = "abc", .len = 3};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "10", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 400);
    ck_assert_str_eq(detail, "the request body is shorter than its Content-Length");
    ck_assert_uint_eq(r.body_len, 0);

    struct mem_src none = {.data = "", .len = 0};
    body_req(&r, "1", &none);
    ck_assert_int_eq(req_read_body(&r, &detail), 400);
}
END_TEST

START_TEST(body_deadline)
{
    struct mem_src m = {.data = "ab", .len = 2, .tail = -2};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "5", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 408);
    ck_assert_str_eq(detail, "the request body did not arrive in time");
    ck_assert_uint_eq(r.body_len, 0);

    struct mem_src at_once = {.data = "", .len = 0, .tail = -2};
    body_req(&r, NULL, &at_once);
    ck_assert_int_eq(req_read_body(&r, &detail), 408);
}
END_TEST

START_TEST(body_stream_error)
{
    struct mem_src m = {.data = "ab", .len = 2, .tail = -1};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "5", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 400);
    ck_assert_str_eq(detail, "the request body could not be read");
    ck_assert_uint_eq(r.body_len, 0);

    struct mem_src chunked = {.data = "ab", .len = 2, .tail = -1};
    body_req(&r, NULL, &chunked);
    ck_assert_int_eq(req_read_body(&r, &detail), 400);
}
END_TEST

START_TEST(body_one_byte_per_call)
{
    char *data = filled(300);
    struct mem_src m = {.data = data, .len = 300, .chunk = 1};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "300", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 300);
    ck_assert(memcmp(r.body, data, 300) == 0);
    ck_assert_int_ge(m.calls, 300);
    ck_assert(!m.asked_zero);

    struct mem_src c = {.data = data, .len = 300, .chunk = 1};
    body_req(&r, NULL, &c);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, 300);
    ck_assert(memcmp(r.body, data, 300) == 0);
    ck_assert(!c.asked_zero);

    struct mem_src over = {.data = data, .len = 300, .chunk = 1};
    body_req(&r, NULL, &over);
    r.max_body = 299;
    ck_assert_int_eq(req_read_body(&r, &detail), 413);
    ck_assert(!over.asked_zero);
    free(data);
}
END_TEST

START_TEST(body_odd_chunks)
{
    size_t n = 5000;
    char *data = filled(n);
    struct mem_src m = {.data = data, .len = n, .chunk = 7};
    struct req r;
    const char *detail = NULL;
    body_req(&r, "5000", &m);
    ck_assert_int_eq(req_read_body(&r, &detail), 0);
    ck_assert_uint_eq(r.body_len, n);
    ck_assert(memcmp(r.body, data, n) == 0);
    free(data);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("req");
    TCase *target = tcase_create("target");
    TCase *query = tcase_create("query");
    TCase *id = tcase_create("id");
    TCase *ct = tcase_create("content_type");
    TCase *body = tcase_create("body");

    tcase_add_checked_fixture(target, setup, teardown);
    tcase_add_checked_fixture(query, setup, teardown);
    tcase_add_checked_fixture(id, setup, teardown);
    tcase_add_checked_fixture(ct, setup, teardown);
    tcase_add_checked_fixture(body, setup, teardown);

    tcase_add_test(target, uri_decoded);
    tcase_add_test(target, uri_plus_is_not_space_in_path);
    tcase_add_test(target, uri_encoded_question_mark_and_slash);
    tcase_add_test(target, uri_malformed);
    tcase_add_test(target, uri_malformed_keeps_raw_path);
    tcase_add_test(target, uri_absolute_form);
    tcase_add_test(target, uri_missing_uses_path_info);
    tcase_add_test(target, init_defaults);
    tcase_add_test(target, init_method_and_length);
    tcase_add_test(target, env_lookup_exact_name);
    tcase_add_test(target, env_lookup_first_of_two_and_long_keys);
    suite_add_tcase(s, target);

    tcase_add_test(query, query_basic);
    tcase_add_test(query, query_absent);
    tcase_add_test(query, query_duplicates);
    tcase_add_test(query, query_all_repeated);
    tcase_add_test(query, query_all_absent_and_bounds);
    tcase_add_test(query, query_all_malformed);
    tcase_add_test(query, query_malformed);
    tcase_add_test(query, query_empty_values);
    tcase_add_test(query, query_value_keeps_question_mark);
    tcase_add_test(query, query_parse_direct_len_bounded);
    tcase_add_test(query, query_thousands);
    tcase_set_timeout(query, 60);
    suite_add_tcase(s, query);

    tcase_add_test(id, id_charset);
    tcase_add_test(id, id_cr_lf);
    tcase_add_test(id, id_length);
    tcase_add_test(id, id_echoed_when_valid);
    tcase_add_test(id, id_not_echoed_when_invalid);
    suite_add_tcase(s, id);

    tcase_add_test(ct, ct_plain_and_case);
    tcase_add_test(ct, ct_charset_utf8);
    tcase_add_test(ct, ct_other_charset);
    tcase_add_test(ct, ct_other_types);
    tcase_add_test(ct, ct_missing);
    tcase_add_test(ct, ct_extra_params);
    suite_add_tcase(s, ct);

    tcase_add_test(body, body_exact_length);
    tcase_add_test(body, body_read_once);
    tcase_add_test(body, body_zero_length);
    tcase_add_test(body, body_binary_with_nul);
    tcase_add_test(body, body_longer_than_length_reads_only_length);
    tcase_add_test(body, body_length_over_limit_not_read);
    tcase_add_test(body, body_length_at_limit);
    tcase_add_test(body, body_default_limit_exact);
    tcase_add_test(body, body_chunked_under_limit);
    tcase_add_test(body, body_chunked_at_and_over_limit);
    tcase_add_test(body, body_chunked_huge_stops_after_limit);
    tcase_add_test(body, body_shorter_than_length);
    tcase_add_test(body, body_deadline);
    tcase_add_test(body, body_stream_error);
    tcase_add_test(body, body_one_byte_per_call);
    tcase_add_test(body, body_odd_chunks);
    tcase_set_timeout(body, 60);
    suite_add_tcase(s, body);

    return s;
}
