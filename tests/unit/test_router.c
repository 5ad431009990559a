/* Unit tests for fcgi-app/router.c: literal and ":name" segments, 404 versus 405 with an exact Allow list
 * (no duplicates), HEAD served by GET routes, trailing slashes and empty segments, several captures and
 * the captures as req_route sees them. */
#include "router.h"

#include "arena.h"
#include "req.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct handlers so that a test can tell which route was chosen. */
static void h_health(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

static void h_create(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

static void h_redirect(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

static void h_get(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

static void h_patch(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

static void h_delete(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

static void h_other(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

/* The application's table (handlers/routes.c), in the same order. */
static const struct route APP[] = {
    {"GET", "/healthz", h_health},
    {"POST", "/api/links", h_create},
    {"GET", "/:slug", h_redirect},
};

/* A CRUD resource next to its collection. */
static const struct route CRUD[] = {
    {"GET", "/api/links", h_get},
    {"POST", "/api/links", h_create},
    {"GET", "/api/links/:slug", h_get},
    {"PATCH", "/api/links/:slug", h_patch},
    {"DELETE", "/api/links/:slug", h_delete},
};

#define N(t) (sizeof(t) / sizeof((t)[0]))

static struct arena *arena;
static char *path_copy;

static void setup(void)
{
    arena = arena_new(4096);
    path_copy = NULL;
}

static void teardown(void)
{
    free(path_copy);
    arena_free(arena);
}

/* Runs the router on method and the first len bytes of path, copied into a heap buffer of exactly len bytes
 * (no terminator) so that ASan and valgrind catch a read past path_len. */
static int match_len(const struct route *routes, size_t n, const char *method, const char *path, size_t len,
                     struct req *r, route_fn *fn, char allow[ROUTER_ALLOW_MAX])
{
    memset(r, 0, sizeof(*r));
    r->arena = arena;
    r->method = method;
    free(path_copy);
    path_copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(path_copy);
    memcpy(path_copy, path, len);
    r->path = path_copy;
    r->path_len = len;
    memset(allow, 'X', ROUTER_ALLOW_MAX);
    *fn = h_other; /* poison: must be overwritten */
    return router_match(routes, n, r, fn, allow);
}

static int match(const struct route *routes, size_t n, const char *method, const char *path, struct req *r,
                 route_fn *fn, char allow[ROUTER_ALLOW_MAX])
{
    return match_len(routes, n, method, path, strlen(path), r, fn, allow);
}

static void expect_found(const struct route *routes, size_t n, const char *method, const char *path,
                         route_fn want)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    int rc = match(routes, n, method, path, &r, &fn, allow);

    ck_assert_msg(rc == 0, "%s %s: wanted a match, got %d", method, path, rc);
    ck_assert_msg(fn == want, "%s %s: wrong handler", method, path);
}

static void expect_404(const struct route *routes, size_t n, const char *method, const char *path)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    int rc = match(routes, n, method, path, &r, &fn, allow);

    ck_assert_msg(rc == 404, "%s \"%s\": wanted 404, got %d", method, path, rc);
    ck_assert_ptr_null(fn);
    ck_assert_str_eq(allow, "");
    ck_assert_uint_eq(r.nroute, 0);
}

static void expect_405(const struct route *routes, size_t n, const char *method, const char *path,
                       const char *want_allow)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    int rc = match(routes, n, method, path, &r, &fn, allow);

    ck_assert_msg(rc == 405, "%s %s: wanted 405, got %d", method, path, rc);
    ck_assert_ptr_null(fn);
    ck_assert_msg(strcmp(allow, want_allow) == 0, "%s %s: wanted Allow \"%s\", got \"%s\"", method, path,
                  want_allow, allow);
    ck_assert_uint_eq(r.nroute, 0);
}

/* ---- literal routes ---- */

START_TEST(literal_match)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    ck_assert_int_eq(match(APP, N(APP), "GET", "/healthz", &r, &fn, allow), 0);
    ck_assert(fn == h_health);
    ck_assert_uint_eq(r.nroute, 0);
    ck_assert_ptr_null(req_route(&r, "slug"));
    expect_found(APP, N(APP), "POST", "/api/links", h_create);
}
END_TEST

START_TEST(literal_wins_over_capture)
{
    /* /healthz also matches /:slug; the literal route wins in either order */
    expect_found(APP, N(APP), "GET", "/healthz", h_health);
    static const struct route rev[] = {{"GET", "/:slug", h_redirect}, {"GET", "/healthz", h_health}};
    expect_found(rev, N(rev), "GET", "/healthz", h_health);
    expect_found(rev, N(rev), "GET", "/healthy", h_redirect);
    /* and another method of the captured route does not take the literal path either */
    static const struct route post[] = {{"GET", "/healthz", h_health}, {"POST", "/:slug", h_create}};
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    ck_assert_int_eq(match(post, N(post), "POST", "/healthz", &r, &fn, allow), 405);
    ck_assert_str_eq(allow, "GET, HEAD");
    expect_found(post, N(post), "POST", "/abc", h_create);
}
END_TEST

START_TEST(literal_exact_segments)
{
    static const struct route t[] = {{"GET", "/healthz", h_health}, {"POST", "/api/links", h_create}};
    expect_404(t, N(t), "GET", "/health");
    expect_404(t, N(t), "GET", "/healthzz");
    expect_404(t, N(t), "GET", "/Healthz");
    expect_404(t, N(t), "GET", "/healthz/");
    expect_404(t, N(t), "GET", "/healthz/x");
    expect_404(t, N(t), "GET", "//healthz");
    expect_404(t, N(t), "GET", "/api");
    expect_404(t, N(t), "GET", "/api/");
    expect_404(t, N(t), "GET", "/api/linksx");
    expect_404(t, N(t), "GET", "/api//links");
    expect_404(t, N(t), "GET", "/apilinks");
    expect_404(t, N(t), "GET", "healthz");
    expect_404(t, N(t), "GET", "");
    expect_404(t, N(t), "GET", "/");
}
END_TEST

START_TEST(root_route)
{
    static const struct route t[] = {{"GET", "/", h_other}, {"GET", "/:slug", h_redirect}};
    expect_found(t, N(t), "GET", "/", h_other);
    expect_found(t, N(t), "GET", "/a", h_redirect);
    expect_404(t, N(t), "GET", "//");
    expect_404(t, N(t), "GET", "");
}
END_TEST

START_TEST(path_len_is_authoritative)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    /* only "/abc" of "/abc/def" is the path */
    ck_assert_int_eq(match_len(APP, N(APP), "GET", "/abc/def", 4, &r, &fn, allow), 0);
    ck_assert(fn == h_redirect);
    ck_assert_str_eq(req_route(&r, "slug"), "abc");
    ck_assert_int_eq(match_len(APP, N(APP), "GET", "/healthz", 7, &r, &fn, allow), 0);
    ck_assert(fn == h_redirect);
    ck_assert_str_eq(req_route(&r, "slug"), "health");
}
END_TEST

/* ---- captures ---- */

START_TEST(capture_slug)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    ck_assert_int_eq(match(APP, N(APP), "GET", "/abc", &r, &fn, allow), 0);
    ck_assert(fn == h_redirect);
    ck_assert_uint_eq(r.nroute, 1);
    ck_assert_str_eq(r.route[0].name, "slug");
    ck_assert_uint_eq(r.route[0].name_len, 4);
    ck_assert_str_eq(r.route[0].value, "abc");
    ck_assert_uint_eq(r.route[0].value_len, 3);
    ck_assert_str_eq(req_route(&r, "slug"), "abc");
    ck_assert_ptr_null(req_route(&r, "slu"));
    ck_assert_ptr_null(req_route(&r, "slugs"));
    ck_assert_ptr_null(req_route(&r, ""));
}
END_TEST

START_TEST(capture_any_bytes)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    /* the router sees the decoded path: anything but '/' fills a segment */
    ck_assert_int_eq(match(APP, N(APP), "GET", "/a b?c%d", &r, &fn, allow), 0);
    ck_assert_str_eq(req_route(&r, "slug"), "a b?c%d");
    ck_assert_int_eq(match(APP, N(APP), "GET", "/x", &r, &fn, allow), 0);
    ck_assert_str_eq(req_route(&r, "slug"), "x");
}
END_TEST

START_TEST(capture_value_is_copied)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    ck_assert_int_eq(match(CRUD, N(CRUD), "GET", "/api/links/abc", &r, &fn, allow), 0);
    const char *v = req_route(&r, "slug");
    ck_assert_str_eq(v, "abc");
    /* the capture does not point into the path buffer */
    ck_assert(v < path_copy || v >= path_copy + r.path_len);
    memset(path_copy, 'Z', r.path_len);
    ck_assert_str_eq(req_route(&r, "slug"), "abc");
}
END_TEST

START_TEST(slug_trailing_slash_and_empty_segments)
{
    expect_404(APP, N(APP), "GET", "/abc/");
    expect_404(APP, N(APP), "GET", "//abc");
    expect_404(APP, N(APP), "GET", "//");
    expect_404(APP, N(APP), "GET", "/");
    expect_404(APP, N(APP), "GET", "/abc//");
    expect_404(APP, N(APP), "GET", "/a/b");
    expect_404(APP, N(APP), "GET", "");
    expect_404(APP, N(APP), "GET", "abc");
    expect_404(CRUD, N(CRUD), "GET", "/api/links//");
    expect_404(CRUD, N(CRUD), "GET", "/api/links/abc/");
    expect_404(CRUD, N(CRUD), "PATCH", "/api/links/");
    expect_404(CRUD, N(CRUD), "DELETE", "/api/links/a/b");
}
END_TEST

START_TEST(multiple_params)
{
    static const struct route t[] = {
        {"GET", "/u/:user/links/:slug/:n", h_get},
        {"GET", "/u/:user", h_other},
    };
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    ck_assert_int_eq(match(t, N(t), "GET", "/u/bob/links/x1/7", &r, &fn, allow), 0);
    ck_assert(fn == h_get);
    ck_assert_uint_eq(r.nroute, 3);
    ck_assert_str_eq(req_route(&r, "user"), "bob");
    ck_assert_str_eq(req_route(&r, "slug"), "x1");
    ck_assert_str_eq(req_route(&r, "n"), "7");
    ck_assert_ptr_null(req_route(&r, "links"));
    ck_assert_ptr_null(req_route(&r, "u"));

    ck_assert_int_eq(match(t, N(t), "GET", "/u/alice", &r, &fn, allow), 0);
    ck_assert(fn == h_other);
    ck_assert_uint_eq(r.nroute, 1);
    ck_assert_str_eq(req_route(&r, "user"), "alice");
    ck_assert_ptr_null(req_route(&r, "slug"));

    expect_404(t, N(t), "GET", "/u//links/x1/7");
    expect_404(t, N(t), "GET", "/u/bob/links//7");
    expect_404(t, N(t), "GET", "/u/bob/links/x1/");
    expect_404(t, N(t), "GET", "/u/bob/link/x1/7");
    expect_404(t, N(t), "GET", "/u/bob/links/x1");
    expect_404(t, N(t), "GET", "/u/bob/links/x1/7/8");
}
END_TEST

START_TEST(max_params)
{
    static const struct route eight[] = {{"GET", "/:a/:b/:c/:d/:e/:f/:g/:h", h_get}};
    static const struct route nine[] = {{"GET", "/:a/:b/:c/:d/:e/:f/:g/:h/:i", h_get}};
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    ck_assert_int_eq(match(eight, 1, "GET", "/1/2/3/4/5/6/7/8", &r, &fn, allow), 0);
    ck_assert_uint_eq(r.nroute, ROUTER_MAX_PARAMS);
    ck_assert_str_eq(req_route(&r, "a"), "1");
    ck_assert_str_eq(req_route(&r, "h"), "8");
    /* a pattern with more captures than the router keeps never matches (and never overflows) */
    expect_404(nine, 1, "GET", "/1/2/3/4/5/6/7/8/9");
}
END_TEST

/* ---- methods: HEAD, 404 versus 405 and Allow ---- */

START_TEST(head_served_by_get)
{
    expect_found(APP, N(APP), "HEAD", "/healthz", h_health);
    expect_found(APP, N(APP), "HEAD", "/abc", h_redirect);
    expect_found(CRUD, N(CRUD), "HEAD", "/api/links/abc", h_get);
    expect_found(CRUD, N(CRUD), "HEAD", "/api/links", h_get);
}
END_TEST

START_TEST(head_not_served_by_post)
{
    expect_405(APP, N(APP), "HEAD", "/api/links", "POST");
}
END_TEST

START_TEST(explicit_head_route)
{
    static const struct route t[] = {{"HEAD", "/x", h_other}, {"GET", "/x", h_get}};
    expect_found(t, N(t), "HEAD", "/x", h_other);
    expect_found(t, N(t), "GET", "/x", h_get);
    expect_405(t, N(t), "POST", "/x", "HEAD, GET");
}
END_TEST

START_TEST(allow_get_head)
{
    /* /healthz matches both GET routes: "GET, HEAD" once, not twice */
    expect_405(APP, N(APP), "POST", "/healthz", "GET, HEAD");
    expect_405(APP, N(APP), "DELETE", "/abc", "GET, HEAD");
    expect_405(APP, N(APP), "PUT", "/healthz", "GET, HEAD");
    expect_405(APP, N(APP), "OPTIONS", "/abc", "GET, HEAD");
}
END_TEST

START_TEST(allow_post)
{
    expect_405(APP, N(APP), "GET", "/api/links", "POST");
    expect_405(APP, N(APP), "DELETE", "/api/links", "POST");
    expect_405(APP, N(APP), "PATCH", "/api/links", "POST");
}
END_TEST

START_TEST(allow_crud)
{
    expect_405(CRUD, N(CRUD), "POST", "/api/links/abc", "GET, HEAD, PATCH, DELETE");
    expect_405(CRUD, N(CRUD), "PUT", "/api/links/abc", "GET, HEAD, PATCH, DELETE");
    expect_405(CRUD, N(CRUD), "DELETE", "/api/links", "GET, HEAD, POST");
    expect_found(CRUD, N(CRUD), "PATCH", "/api/links/abc", h_patch);
    expect_found(CRUD, N(CRUD), "DELETE", "/api/links/abc", h_delete);
    expect_found(CRUD, N(CRUD), "POST", "/api/links", h_create);
}
END_TEST

START_TEST(allow_no_duplicates)
{
    static const struct route t[] = {
        {"GET", "/a", h_get},      {"GET", "/:x", h_get},      {"POST", "/a", h_create},
        {"POST", "/:y", h_create}, {"DELETE", "/a", h_delete}, {"GET", "/a", h_other},
    };
    expect_405(t, N(t), "PUT", "/a", "GET, HEAD, POST, DELETE");
}
END_TEST

START_TEST(allow_similar_names_are_distinct)
{
    static const struct route t[] = {
        {"GETX", "/a", h_other},
        {"XGET", "/a", h_other},
        {"GET", "/a", h_get},
        {"GETX", "/a", h_other},
    };
    expect_405(t, N(t), "PUT", "/a", "GETX, XGET, GET, HEAD");
}
END_TEST

START_TEST(allow_bounded)
{
    /* far more methods than fit: the list stays inside ROUTER_ALLOW_MAX, ends with a method and leaves the
     * bytes after the buffer alone */
    struct route t[60];
    char names[60][24];
    struct req r;
    route_fn fn;
    struct {
        char allow[ROUTER_ALLOW_MAX];
        char canary[32];
    } box;

    for (unsigned i = 0; i < 60; i++) {
        snprintf(names[i], sizeof(names[i]), "METHOD%02u", i);
        t[i].method = names[i];
        t[i].pattern = "/x";
        t[i].fn = h_other;
    }
    memset(box.canary, 0x5a, sizeof(box.canary));
    memset(&r, 0, sizeof(r));
    r.arena = arena;
    r.method = "GET";
    r.path = (char *)"/x";
    r.path_len = 2;
    ck_assert_int_eq(router_match(t, 60, &r, &fn, box.allow), 405);
    size_t len = strnlen(box.allow, ROUTER_ALLOW_MAX);
    ck_assert_uint_lt(len, ROUTER_ALLOW_MAX);
    ck_assert(strncmp(box.allow, "METHOD00, METHOD01, ", 20) == 0);
    ck_assert(box.allow[len - 1] != ' ' && box.allow[len - 1] != ',');
    for (size_t i = 0; i < sizeof(box.canary); i++)
        ck_assert_int_eq(box.canary[i], 0x5a);
}
END_TEST

START_TEST(method_case_sensitive)
{
    expect_405(APP, N(APP), "get", "/healthz", "GET, HEAD");
    expect_405(APP, N(APP), "head", "/abc", "GET, HEAD");
    expect_405(APP, N(APP), "post", "/api/links", "POST");
}
END_TEST

START_TEST(unknown_path_is_404_for_any_method)
{
    expect_404(APP, N(APP), "GET", "/api/links/abc");
    expect_404(APP, N(APP), "POST", "/api/links/abc");
    expect_404(APP, N(APP), "DELETE", "/a/b/c");
    expect_404(APP, 0, "GET", "/abc");
}
END_TEST

START_TEST(route_cleared_between_matches)
{
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];

    ck_assert_int_eq(match(APP, N(APP), "GET", "/abc", &r, &fn, allow), 0);
    ck_assert_uint_eq(r.nroute, 1);
    /* a literal match fills no captures */
    ck_assert_int_eq(match(APP, N(APP), "GET", "/healthz", &r, &fn, allow), 0);
    ck_assert_uint_eq(r.nroute, 0);
    ck_assert_ptr_null(req_route(&r, "slug"));
    /* allow is emptied on success */
    ck_assert_str_eq(allow, "");
}
END_TEST

/* ---- together with req_init ---- */

START_TEST(via_req_init)
{
    char *env[] = {"REQUEST_METHOD=HEAD", "REQUEST_URI=/ab%63?x=1", NULL};
    struct req r;
    route_fn fn;
    char allow[ROUTER_ALLOW_MAX];
    const char *detail = NULL;

    ck_assert_int_eq(req_init(&r, arena, env, &detail), 0);
    ck_assert_int_eq(router_match(APP, N(APP), &r, &fn, allow), 0);
    ck_assert(fn == h_redirect);
    ck_assert_str_eq(req_route(&r, "slug"), "abc");

    /* an encoded slash is a slash once decoded: two segments, not a slug */
    char *env2[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/a%2Fb", NULL};
    ck_assert_int_eq(req_init(&r, arena, env2, &detail), 0);
    ck_assert_int_eq(router_match(APP, N(APP), &r, &fn, allow), 404);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("router");
    TCase *lit = tcase_create("literal");
    TCase *cap = tcase_create("captures");
    TCase *meth = tcase_create("methods");

    tcase_add_checked_fixture(lit, setup, teardown);
    tcase_add_checked_fixture(cap, setup, teardown);
    tcase_add_checked_fixture(meth, setup, teardown);

    tcase_add_test(lit, literal_match);
    tcase_add_test(lit, literal_wins_over_capture);
    tcase_add_test(lit, literal_exact_segments);
    tcase_add_test(lit, root_route);
    tcase_add_test(lit, path_len_is_authoritative);
    suite_add_tcase(s, lit);

    tcase_add_test(cap, capture_slug);
    tcase_add_test(cap, capture_any_bytes);
    tcase_add_test(cap, capture_value_is_copied);
    tcase_add_test(cap, slug_trailing_slash_and_empty_segments);
    tcase_add_test(cap, multiple_params);
    tcase_add_test(cap, max_params);
    tcase_add_test(cap, route_cleared_between_matches);
    tcase_add_test(cap, via_req_init);
    suite_add_tcase(s, cap);

    tcase_add_test(meth, head_served_by_get);
    tcase_add_test(meth, head_not_served_by_post);
    tcase_add_test(meth, explicit_head_route);
    tcase_add_test(meth, allow_get_head);
    tcase_add_test(meth, allow_post);
    tcase_add_test(meth, allow_crud);
    tcase_add_test(meth, allow_no_duplicates);
    tcase_add_test(meth, allow_similar_names_are_distinct);
    tcase_add_test(meth, allow_bounded);
    tcase_add_test(meth, method_case_sensitive);
    tcase_add_test(meth, unknown_path_is_404_for_any_method);
    suite_add_tcase(s, meth);

    return s;
}
