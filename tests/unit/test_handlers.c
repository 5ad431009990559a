/* In-memory tests of every route: the real handlers behind app_handle (authentication first, then the route
 * table), a request built from FastCGI params and an in-memory body, the database replaced by tests/unit/
 * fake_db.c at link time. Each answer is checked for status, headers and body as resp_serialize writes it;
 * every GET case is also sent as HEAD, which must answer the same head without a body. */
#include "app.h"

#include "arena.h"
#include "buf.h"
#include "cache.h"
#include "db.h"
#include "db_links.h"
#include "domains.h"
#include "fake_db.h"
#include "req.h"
#include "resp.h"
#include "unit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY1        "hop_0123456789abcdefghijABCDEFGHIJ01"
#define KEY2        "hop_ZYXWVUTSRQPONMLKJIHGFEDCBA987654"
#define KEY_UNKNOWN "hop_00000000000000000000000000000000"
#define AUTH1       "HTTP_AUTHORIZATION=Bearer " KEY1
#define JSON        "\nCONTENT_TYPE=application/json"
#define FORM        "CONTENT_TYPE=application/x-www-form-urlencoded"
#define HTML        "HTTP_ACCEPT=text/html"
#define PROBLEM     "Content-Type: application/problem+json"
#define RETRY       "Retry-After: 1"
#define PASSWORD    "open sesame"
#define SID0        "00000000000000000000000000000000000000000000000000000000000000ff"

/* a person's browser: without a User-Agent a visitor is a bot, which uses no visit up */
#define BROWSER "HTTP_USER_AGENT=Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

enum { UNAV = DB_UNAVAILABLE, DBERR = DB_ERROR, LOCKED = DB_LOCKED };

/* One request and what it must be answered. env: extra FastCGI params, one "KEY=VALUE" a line. fail and
 * after: after that many queries of this request have worked, the fake answers fail to every other (0: none
 * fail). heads: header lines the answer must carry, one a line. body: a part of the body, "" for none, NULL
 * for any. */
struct hcase {
    const char *method, *uri, *env, *body;
    int fail, after;
    int status;
    const char *heads, *has;
    void (*prep)(void);
};

static struct arena *arena;
static struct link *limited, *secret;

static void use_up_limited(void)
{
    limited->visits_used = limited->max_visits;
}

/* A hash of PASSWORD at libsodium's lowest cost: verifying reads the cost from the hash, so the password
 * paths stay quick under valgrind while the handler's own hashing is exercised by the create cases. */
static const char *cheap_hash(void)
{
    static char hash[crypto_pwhash_STRBYTES];
    if (!hash[0] && crypto_pwhash_str(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
                                      crypto_pwhash_MEMLIMIT_MIN) != 0)
        ck_abort_msg("cannot hash the test password");
    return hash;
}

static void setup(void)
{
    ck_assert_int_ge(sodium_init(), 0);
    arena = arena_new(4096);
    fake_db_reset();
    cache_clear();
    /* every case reads the domain list afresh: one query before the handler's own */
    domains_invalidate();
    ck_assert_int_eq(fake_db_add_key(KEY1), 1);
    ck_assert_int_eq(fake_db_add_key(KEY2), 2);
    fake_db_add_link(1, "abc", "https://example.com/a");
    fake_db_add_link(1, "perm", "https://example.com/p")->redirect = 301;
    secret = fake_db_add_link(1, "secret", "https://example.com/s");
    secret->password_hash = cheap_hash();
    limited = fake_db_add_link(1, "limited", "https://example.com/l");
    limited->max_visits = 1;
    fake_db_add_link(1, "off", "https://example.com/off")->disabled = true;
    struct link *old = fake_db_add_link(1, "old", "https://example.com/old");
    old->expires_at = "2020-01-01T00:00:00Z";
    old->expires_epoch = 1577836800;
    struct link *moved = fake_db_add_link(1, "moved", "https://example.com/m");
    moved->disabled = true;
    moved->expired_url = "https://example.com/elsewhere";
    struct link *fwd = fake_db_add_link(1, "fwd", "https://example.com/f?a=1#top");
    fwd->forward_query = true;
    struct link *apps = fake_db_add_link(1, "apps", "https://example.com/web");
    apps->ios_url = "https://apps.example/ios";
    apps->android_url = "https://apps.example/android";
    fake_db_add_link(2, "theirs", "https://example.com/t");
}

static void teardown(void)
{
    arena_free(arena);
}

struct mem_body {
    const char *p;
    size_t left;
};

static ssize_t mem_read(void *ctx, char *buf, size_t cap)
{
    struct mem_body *m = ctx;
    size_t n = m->left < cap ? m->left : cap;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return (ssize_t)n;
}

/* The FastCGI params of c as method: the request line, a Host, a client address, c->env, the body's length.
 */
static char **make_env(const struct hcase *c, const char *method)
{
    char **env = arena_alloc(arena, 16 * sizeof(*env));
    int n = 0;
    env[n++] = arena_printf(arena, "REQUEST_METHOD=%s", method);
    env[n++] = arena_printf(arena, "REQUEST_URI=%s", c->uri);
    env[n++] = "HTTP_HOST=sho.rt";
    env[n++] = "REMOTE_ADDR=192.0.2.7";
    if (c->body)
        env[n++] = arena_printf(arena, "CONTENT_LENGTH=%zu", strlen(c->body));
    char *extra = arena_strdup(arena, c->env ? c->env : ""), *save = NULL;
    for (char *line = strtok_r(extra, "\n", &save); line && n < 15; line = strtok_r(NULL, "\n", &save))
        env[n++] = line;
    env[n] = NULL;
    return env;
}

/* Sends c as method through app_handle, as the server would; returns the serialised answer. */
static const char *send(const struct hcase *c, const char *method)
{
    struct req r;
    struct resp w;
    const char *detail = NULL;
    int status = req_init(&r, arena, make_env(c, method), &detail);
    struct mem_body mb = {c->body ? c->body : "", c->body ? strlen(c->body) : 0};
    r.body_src = (struct req_body_source){&mb, mem_read};
    r.bad_status = status;
    r.bad_detail = detail;
    resp_init(&w, arena);
    fake_db_fail(c->fail ? c->fail : DB_OK, (unsigned long)c->after);
    app_handle(&r, &w);
    fake_db_fail(DB_OK, 0);
    struct buf out;
    buf_init(&out, arena, 1024);
    resp_serialize(&w, "t", strcmp(method, "HEAD") == 0, &out);
    return buf_str(&out);
}

/* Checks one answer against c: the status line, every wanted header line, the body. */
static void check_answer(const struct hcase *c, const char *method, const char *got, bool head)
{
    const char *label = arena_printf(arena, "%s %s (%s)", method, c->uri, c->env ? c->env : "");
    char status[32];
    snprintf(status, sizeof(status), "Status: %d ", c->status);
    ck_assert_msg(strncmp(got, status, strlen(status)) == 0, "%s: wanted %d, got:\n%s", label, c->status,
                  got);
    const char *end = strstr(got, "\r\n\r\n");
    ck_assert_msg(end != NULL, "%s: no end of headers in:\n%s", label, got);
    size_t head_len = (size_t)(end - got) + 2;
    char *heads = arena_strdup(arena, c->heads ? c->heads : ""), *save = NULL;
    for (char *h = strtok_r(heads, "\n", &save); h; h = strtok_r(NULL, "\n", &save)) {
        const char *line = arena_printf(arena, "\r\n%s\r\n", h);
        ck_assert_msg(memmem(got, head_len, line, strlen(line)) != NULL, "%s: no header \"%s\" in:\n%s",
                      label, h, got);
    }
    const char *body = end + 4;
    if (head || (c->has && !*c->has))
        ck_assert_msg(*body == '\0', "%s: wanted no body, got:\n%s", label, got);
    else if (c->has)
        ck_assert_msg(strstr(body, c->has) != NULL, "%s: body lacks \"%s\":\n%s", label, c->has, got);
}

static const struct hcase cases[] = {
    /* the runtime's answers through app_handle */
    {"GET", "/healthz", NULL, NULL, 0, 0, 200, "Cache-Control: no-store\nContent-Type: application/json",
     "{\"status\":\"ok\"}", NULL},
    {"GET", "/healthz", NULL, NULL, UNAV, 0, 503, RETRY "\nCache-Control: no-store", "\"unavailable\"", NULL},
    {"GET", "/healthz", NULL, NULL, DBERR, 0, 503, RETRY, "\"unavailable\"", NULL},
    {"GET", "/robots.txt", NULL, NULL, 0, 0, 200,
     "Content-Type: text/plain; charset=utf-8\nCache-Control: public, max-age=86400", "Disallow: /\n", NULL},
    {"GET", "/a/b/c", NULL, NULL, 0, 0, 404, PROBLEM, "there is nothing at this path", NULL},
    {"DELETE", "/healthz", NULL, NULL, 0, 0, 405, "Allow: GET, HEAD", "see the Allow header", NULL},
    {"PUT", "/abc", NULL, NULL, 0, 0, 405, "Allow: GET, HEAD, POST", "\"status\":405", NULL},
    {"GET", "/%zz", NULL, NULL, 0, 0, 400, PROBLEM, "malformed percent-encoding", NULL},

    /* authentication comes first under /api, even before whether the path exists */
    {"GET", "/api/links", NULL, NULL, 0, 0, 401, "WWW-Authenticate: Bearer\nCache-Control: no-store",
     "Authorization: Bearer", NULL},
    {"GET", "/api/nothing", NULL, NULL, 0, 0, 401, "WWW-Authenticate: Bearer", NULL, NULL},
    {"GET", "/api/links", "HTTP_AUTHORIZATION=Bearer nope", NULL, 0, 0, 401, "WWW-Authenticate: Bearer",
     "does not hold a hop API key", NULL},
    {"GET", "/api/links", "HTTP_AUTHORIZATION=Basic " KEY1, NULL, 0, 0, 401, NULL, NULL, NULL},
    {"GET", "/api/links", "HTTP_AUTHORIZATION=Bearer " KEY_UNKNOWN, NULL, 0, 0, 401, NULL,
     "unknown or revoked", NULL},
    {"GET", "/api/links", AUTH1, NULL, UNAV, 0, 503, RETRY "\n" PROBLEM, "cannot be reached", NULL},
    {"GET", "/api/links", AUTH1, NULL, DBERR, 0, 503, RETRY, "cannot be reached", NULL},
    {"GET", "/api/nothing", AUTH1, NULL, 0, 0, 404, PROBLEM, "nothing at this path", NULL},
    {"POST", "/api/links/abc", AUTH1, NULL, 0, 0, 405, "Allow: GET, HEAD, PATCH, DELETE", NULL, NULL},
    {"GET", "/api/%zz", AUTH1, NULL, 0, 0, 400, PROBLEM, "malformed", NULL},

    /* POST /api/links */
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/x\",\"slug\":\"new1\"}", 0, 0, 201,
     "Location: /api/links/new1\nCache-Control: no-store\nContent-Type: application/json",
     "\"short_url\":\"https://sho.rt/new1\"", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/x\"}", 0, 0, 201,
     "Cache-Control: no-store", "\"url\":\"https://example.org/x\"", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/x\",\"slug\":\"abc\"}", 0, 0, 409,
     PROBLEM, "already taken", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/x\",\"slug\":\"theirs\"}", 0, 0, 409,
     PROBLEM, "already taken", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.com/a\",\"reuse\":true}", 0, 0, 200,
     "Cache-Control: no-store", "\"slug\":\"abc\"", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.com/t\",\"slug\":\"mine\",\"reuse\":true}",
     0, 0, 201, "Location: /api/links/mine", "\"slug\":\"mine\"", NULL},
    {"POST", "/api/links", AUTH1 JSON,
     "{\"url\":\"https://example.org/x\",\"slug\":\"pw1\",\"password\":\"hunter22\",\"max_visits\":3}", 0, 0,
     201, "Location: /api/links/pw1", "\"password_protected\":true,\"max_visits\":3,\"visits_left\":3", NULL},
    {"POST", "/api/links", AUTH1, "{\"url\":\"https://example.org/x\"}", 0, 0, 415, PROBLEM,
     "application/json", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":", 0, 0, 400, PROBLEM, NULL, NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"ftp://example.org/\"}", 0, 0, 422, PROBLEM,
     "\"field\":\"url\"", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://sho.rt/abc\"}", 0, 0, 422, PROBLEM,
     "\"field\":\"url\"", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/x\"}", UNAV, 2, 503, RETRY,
     "cannot be reached", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/x\"}", DBERR, 2, 500, PROBLEM,
     "fault of the service", NULL},
    /* a lock_timeout of the operator's ran out: the database is busy, not broken */
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/x\"}", LOCKED, 2, 503,
     RETRY "\n" PROBLEM, "busy with another session", NULL},
    {"POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.com/a\",\"reuse\":true}", UNAV, 2, 503,
     RETRY, NULL, NULL},

    /* GET /api/links */
    {"GET", "/api/links", AUTH1, NULL, 0, 0, 200, "Cache-Control: no-store\nContent-Type: application/json",
     "\"next_cursor\":null", NULL},
    {"GET", "/api/links?limit=1", AUTH1, NULL, 0, 0, 200, NULL, "{\"links\":[{\"slug\":\"apps\"", NULL},
    {"GET", "/api/links?limit=200", "HTTP_AUTHORIZATION=Bearer " KEY2, NULL, 0, 0, 200, NULL,
     "{\"links\":[{\"slug\":\"theirs\"", NULL},
    {"GET", "/api/links?limit=0", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"limit\"", NULL},
    {"GET", "/api/links?limit=1&limit=2", AUTH1, NULL, 0, 0, 400, PROBLEM, "given once", NULL},
    {"GET", "/api/links?cursor=%21", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"cursor\"", NULL},
    {"GET", "/api/links", AUTH1, NULL, UNAV, 1, 503, RETRY, "cannot be reached", NULL},
    {"GET", "/api/links", AUTH1, NULL, DBERR, 1, 500, PROBLEM, "fault of the service", NULL},

    /* GET /api/links/:slug: another owner's link is exactly like none */
    {"GET", "/api/links/abc", AUTH1, NULL, 0, 0, 200, "Cache-Control: no-store",
     "\"slug\":\"abc\",\"url\":\"https://example.com/a\",\"domain\":null,\"short_url\":\"https://sho.rt/"
     "abc\",\"redirect\":302",
     NULL},
    {"GET", "/api/links/limited", AUTH1, NULL, 0, 0, 200, NULL, "\"max_visits\":1,\"visits_left\":1", NULL},
    {"GET", "/api/links/limited", AUTH1, NULL, 0, 0, 200, NULL, "\"max_visits\":1,\"visits_left\":0",
     use_up_limited},
    {"GET", "/api/links/apps", AUTH1, NULL, 0, 0, 200, NULL,
     "\"targets\":{\"ios\":\"https://apps.example/ios\",\"android\":\"https://apps.example/android\"}", NULL},
    {"GET", "/api/links/theirs", AUTH1, NULL, 0, 0, 404, PROBLEM, "you have no link with this slug", NULL},
    {"GET", "/api/links/none", AUTH1, NULL, 0, 0, 404, PROBLEM, "you have no link with this slug", NULL},
    {"GET", "/api/links/a%20b", AUTH1, NULL, 0, 0, 404, PROBLEM, "you have no link with this slug", NULL},
    {"GET", "/api/links/abc", AUTH1, NULL, UNAV, 2, 503, RETRY, NULL, NULL},
    {"GET", "/api/links/abc", AUTH1, NULL, DBERR, 2, 500, PROBLEM, NULL, NULL},
    {"GET", "/api/links/abc", AUTH1, NULL, LOCKED, 2, 503, RETRY, "busy with another session", NULL},

    /* PATCH /api/links/:slug */
    {"PATCH", "/api/links/abc", AUTH1 JSON, "{\"url\":\"https://example.org/new\"}", 0, 0, 200,
     "Cache-Control: no-store", "\"url\":\"https://example.org/new\"", NULL},
    {"PATCH", "/api/links/abc", AUTH1 JSON, "{\"disabled\":true,\"tags\":[\"b\",\"a\"]}", 0, 0, 200, NULL,
     "\"disabled\":true", NULL},
    {"PATCH", "/api/links/theirs", AUTH1 JSON, "{\"url\":\"https://example.org/new\"}", 0, 0, 404, PROBLEM,
     NULL, NULL},
    {"PATCH", "/api/links/abc", AUTH1 JSON, "{\"slug\":\"other\"}", 0, 0, 422, PROBLEM, "cannot be changed",
     NULL},
    {"PATCH", "/api/links/abc", AUTH1 JSON, "[]", 0, 0, 400, PROBLEM, "must be a JSON object", NULL},
    {"PATCH", "/api/links/abc", AUTH1 JSON, "{\"url\":\"https://example.org/new\"}", UNAV, 2, 503, RETRY,
     NULL, NULL},
    {"PATCH", "/api/links/abc", AUTH1 JSON, "{\"url\":\"https://example.org/new\"}", UNAV, 3, 503, RETRY,
     NULL, NULL},
    {"PATCH", "/api/links/abc", AUTH1 JSON, "{\"url\":\"https://example.org/new\"}", DBERR, 3, 500, PROBLEM,
     NULL, NULL},

    /* DELETE /api/links/:slug */
    {"DELETE", "/api/links/abc", AUTH1, NULL, 0, 0, 204, NULL, "", NULL},
    {"DELETE", "/api/links/theirs", AUTH1, NULL, 0, 0, 404, PROBLEM, "you have no link", NULL},
    {"DELETE", "/api/links/none", AUTH1, NULL, 0, 0, 404, PROBLEM, "you have no link", NULL},
    {"DELETE", "/api/links/abc", AUTH1, NULL, UNAV, 2, 503, RETRY, NULL, NULL},
    {"DELETE", "/api/links/abc", AUTH1, NULL, DBERR, 2, 500, PROBLEM, NULL, NULL},

    /* GET /api/links/:slug/stats */
    {"GET", "/api/links/abc/stats?days=2", AUTH1, NULL, 0, 0, 200, "Cache-Control: no-store",
     "\"total\":0,\"bot_total\":0,\"series\":[{\"start\":", NULL},
    {"GET", "/api/links/abc/stats?days=2", AUTH1, NULL, 0, 0, 200, NULL, "\"days\":[{\"date\":", NULL},
    {"GET", "/api/links/abc/stats?days=1&granularity=hour&tz=Europe/Paris", AUTH1, NULL, 0, 0, 200, NULL,
     "\"granularity\":\"hour\",\"tz\":\"Europe/Paris\"", NULL},
    {"GET", "/api/links/abc/stats?tz=../../etc/passwd", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"tz\"",
     NULL},
    {"GET", "/api/links/abc/stats?granularity=minute", AUTH1, NULL, 0, 0, 400, PROBLEM,
     "\"field\":\"granularity\"", NULL},
    {"GET", "/api/links/abc/stats?from=2026-02-01&to=2026-01-01", AUTH1, NULL, 0, 0, 400, PROBLEM,
     "from must be before to", NULL},
    {"GET", "/api/links/abc/stats?days=2", AUTH1 "\nHTTP_ACCEPT=text/csv", NULL, 0, 0, 200,
     "Content-Type: text/csv; charset=utf-8", "start,humans,bots\r\n", NULL},
    {"GET", "/api/links/abc/stats", AUTH1, NULL, 0, 0, 200, NULL, "\"referrers\":[]", NULL},
    {"GET", "/api/links/abc/stats?days=0", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"days\"", NULL},
    {"GET", "/api/links/abc/stats?days=367", AUTH1, NULL, 0, 0, 400, PROBLEM, "from 1 to 366", NULL},
    {"GET", "/api/links/theirs/stats", AUTH1, NULL, 0, 0, 404, PROBLEM, NULL, NULL},
    {"GET", "/api/links/abc/stats", AUTH1, NULL, UNAV, 3, 503, RETRY, NULL, NULL},
    {"GET", "/api/links/abc/stats", AUTH1, NULL, DBERR, 3, 500, PROBLEM, NULL, NULL},

    /* GET /api/stats */
    {"GET", "/api/stats?days=2", AUTH1, NULL, 0, 0, 200, "Cache-Control: no-store", "\"links\":[]", NULL},
    {"GET", "/api/stats?bots=maybe", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"bots\"", NULL},
    {"GET", "/api/stats", NULL, NULL, 0, 0, 401, PROBLEM, NULL, NULL},
    {"GET", "/api/stats", AUTH1, NULL, UNAV, 2, 503, RETRY, NULL, NULL},
    /* GET /api/links/:slug/qr */
    {"GET", "/api/links/abc/qr", AUTH1, NULL, 0, 0, 200,
     "Content-Type: image/svg+xml\nContent-Disposition: attachment; filename=\"abc.svg\"\n"
     "Cache-Control: private, max-age=3600",
     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"264\"", NULL},
    {"GET", "/api/links/abc/qr?format=svg&size=1&margin=0", AUTH1, NULL, 0, 0, 200, NULL,
     "viewBox=\"0 0 25 25\"", NULL},
    {"GET", "/api/links/abc/qr?format=png&size=2&margin=0", AUTH1, NULL, 0, 0, 200,
     "Content-Type: image/png\nContent-Disposition: attachment; filename=\"abc.png\"", "\x89PNG", NULL},
    {"GET", "/api/links/abc/qr?format=gif", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"format\"", NULL},
    {"GET", "/api/links/abc/qr?format=png&format=svg", AUTH1, NULL, 0, 0, 400, PROBLEM, "svg or png", NULL},
    {"GET", "/api/links/abc/qr?size=0", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"size\"", NULL},
    {"GET", "/api/links/abc/qr?size=21", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"size\"", NULL},
    {"GET", "/api/links/abc/qr?margin=11", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"margin\"", NULL},
    {"GET", "/api/links/abc/qr?margin=-1", AUTH1, NULL, 0, 0, 400, PROBLEM, "\"field\":\"margin\"", NULL},
    {"GET", "/api/links/theirs/qr", AUTH1, NULL, 0, 0, 404, PROBLEM, "you have no link", NULL},
    {"GET", "/api/links/abc/qr", NULL, NULL, 0, 0, 401, "WWW-Authenticate: Bearer", NULL, NULL},
    {"GET", "/api/links/abc/qr", AUTH1, NULL, UNAV, 2, 503, RETRY, NULL, NULL},
    {"POST", "/api/links/abc/qr", AUTH1, NULL, 0, 0, 405, "Allow: GET, HEAD", NULL, NULL},

    /* /api/session */
    {"POST", "/api/session", NULL, NULL, 0, 0, 401, "WWW-Authenticate: Bearer", "Authorization: Bearer",
     NULL},
    {"POST", "/api/session", "HTTP_AUTHORIZATION=Bearer " KEY_UNKNOWN, NULL, 0, 0, 401, NULL,
     "unknown or revoked", NULL},
    {"POST", "/api/session", AUTH1, NULL, 0, 0, 201, "Cache-Control: no-store", "\"via\":\"session\"", NULL},
    {"POST", "/api/session", AUTH1, NULL, UNAV, 1, 503, RETRY, NULL, NULL},
    {"GET", "/api/session", AUTH1, NULL, 0, 0, 200, "Cache-Control: no-store",
     "{\"via\":\"key\",\"expires_at\":null}", NULL},
    {"DELETE", "/api/session", AUTH1, NULL, 0, 0, 204,
     "Set-Cookie: hop_session=; Max-Age=0; Path=/api; HttpOnly; Secure; SameSite=Strict\n"
     "Set-Cookie: hop_signed_in=; Max-Age=0; Path=/_hop/app/; Secure; SameSite=Strict",
     "", NULL},
    {"PUT", "/api/session", AUTH1, NULL, 0, 0, 405, "Allow: GET, HEAD, POST, DELETE", NULL, NULL},
    {"GET", "/api/links", "HTTP_COOKIE=hop_session=zz", NULL, 0, 0, 401, "WWW-Authenticate: Bearer",
     "not one hop gave", NULL},
    {"GET", "/api/links", "HTTP_COOKIE=a=b; hop_session=" SID0, NULL, 0, 0, 401, "WWW-Authenticate: Bearer",
     "has ended", NULL},
    {"GET", "/api/links", "HTTP_COOKIE=other=1", NULL, 0, 0, 401, NULL, "session cookie", NULL},
    {"GET", "/api/links", "HTTP_COOKIE=hop_session=" SID0, NULL, UNAV, 0, 503, RETRY, NULL, NULL},

    /* GET /:slug, the redirect */
    {"GET", "/abc", NULL, NULL, 0, 0, 302,
     "Location: https://example.com/a\nX-Robots-Tag: noindex\nCache-Control: private, max-age=0", "", NULL},
    {"GET", "/perm", NULL, NULL, 0, 0, 301, "Location: https://example.com/p", "", NULL},
    {"GET", "/theirs", NULL, NULL, 0, 0, 302, "Location: https://example.com/t", "", NULL},
    {"GET", "/none", NULL, NULL, 0, 0, 404, PROBLEM, "no link has this slug", NULL},
    {"GET", "/none", HTML, NULL, 0, 0, 404, "Content-Type: text/html; charset=utf-8\nCache-Control: no-store",
     "<h1>Not Found</h1>", NULL},
    {"GET", "/a%20b", NULL, NULL, 0, 0, 404, PROBLEM, "no link has this slug", NULL},
    {"GET", "/api", NULL, NULL, 0, 0, 401, "WWW-Authenticate: Bearer", NULL, NULL},
    {"GET", "/off", NULL, NULL, 0, 0, 410, PROBLEM, "disabled by its owner", NULL},
    {"GET", "/off", HTML, NULL, 0, 0, 410, "X-Robots-Tag: noindex", "<h1>Gone</h1>", NULL},
    {"GET", "/old", NULL, NULL, 0, 0, 410, PROBLEM, "has expired", NULL},
    {"GET", "/moved", NULL, NULL, 0, 0, 302, "Location: https://example.com/elsewhere", "", NULL},
    {"GET", "/fwd?x=1&y", NULL, NULL, 0, 0, 302, "Location: https://example.com/f?a=1&x=1&y#top", "", NULL},
    {"GET", "/fwd", NULL, NULL, 0, 0, 302, "Location: https://example.com/f?a=1#top", "", NULL},
    {"GET", "/abc?x=1", NULL, NULL, 0, 0, 302, "Location: https://example.com/a", "", NULL},
    {"GET", "/apps", "HTTP_USER_AGENT=Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", NULL, 0, 0, 302,
     "Location: https://apps.example/ios", "", NULL},
    {"GET", "/apps", "HTTP_USER_AGENT=Mozilla/5.0 (Linux; Android 14)", NULL, 0, 0, 302,
     "Location: https://apps.example/android", "", NULL},
    {"GET", "/apps", "HTTP_USER_AGENT=curl/8.0", NULL, 0, 0, 302, "Location: https://example.com/web", "",
     NULL},
    {"GET", "/abc", NULL, NULL, UNAV, 0, 503, RETRY "\n" PROBLEM, "cannot be reached", NULL},
    {"GET", "/abc", NULL, NULL, DBERR, 0, 503, RETRY, NULL, NULL},
    {"GET", "/abc", NULL, NULL, LOCKED, 0, 503, RETRY, NULL, NULL},
    /* the visit limit: claimed in PostgreSQL on every visit */
    {"GET", "/limited", NULL, NULL, 0, 0, 302, "Location: https://example.com/l", "", NULL},
    {"GET", "/limited", NULL, NULL, 0, 0, 410, PROBLEM, "as many times as its owner allowed", use_up_limited},
    {"GET", "/limited", NULL, NULL, UNAV, 2, 503, RETRY, NULL, NULL},
    {"GET", "/limited", NULL, NULL, DBERR, 2, 503, RETRY, NULL, NULL},
    /* the password form */
    {"GET", "/secret", NULL, NULL, 0, 0, 200,
     "Content-Type: text/html; charset=utf-8\nCache-Control: no-store\nX-Robots-Tag: noindex\n"
     "Referrer-Policy: no-referrer\nX-Content-Type-Options: nosniff",
     "<form method=\"post\">", NULL},

    /* POST /:slug, the password form's answer */
    {"POST", "/secret", FORM, "password=open+sesame", 0, 0, 303,
     "Location: https://example.com/s\nX-Robots-Tag: noindex", "", NULL},
    {"POST", "/secret", FORM, "a=b&password=open%20sesame&c=d", 0, 0, 303, "Location: https://example.com/s",
     "", NULL},
    {"POST", "/secret", FORM, "password=wrong", 0, 0, 401, PROBLEM, "the password is not right", NULL},
    {"POST", "/secret", FORM "\n" HTML, "password=wrong", 0, 0, 401, "Content-Type: text/html; charset=utf-8",
     "That password is not right", NULL},
    {"POST", "/secret", FORM, "nothing=here", 0, 0, 401, PROBLEM, NULL, NULL},
    {"POST", "/secret", FORM, "password=%zz", 0, 0, 401, PROBLEM, NULL, NULL},
    {"POST", "/secret", "CONTENT_TYPE=text/plain", "password=open+sesame", 0, 0, 415, PROBLEM,
     "x-www-form-urlencoded", NULL},
    {"POST", "/abc", FORM, "password=x", 0, 0, 405, "Allow: GET, HEAD", "has no password", NULL},
    {"POST", "/off", FORM, "password=open+sesame", 0, 0, 410, PROBLEM, "disabled", NULL},
    {"POST", "/none", FORM, "password=open+sesame", 0, 0, 404, PROBLEM, NULL, NULL},
    {"POST", "/secret", FORM, "password=open+sesame", UNAV, 0, 503, RETRY, NULL, NULL},

    /* POST /api/links/bulk: one result per item, in order */
    {"POST", "/api/links/bulk", AUTH1 JSON,
     "{\"links\":[{\"url\":\"https://example.org/b1\",\"slug\":\"b1\"},{\"url\":\"nope\"},"
     "{\"url\":\"https://example.org/x\",\"slug\":\"abc\"}]}",
     0, 0, 200, "Content-Type: application/json", "\"results\":[{\"status\":201,\"link\":{\"slug\":\"b1\"",
     NULL},
    {"POST", "/api/links/bulk", AUTH1 JSON, "{\"links\":[]}", 0, 0, 422, PROBLEM,
     "links must be an array of 1 to 1000 links", NULL},
    {"POST", "/api/links/bulk", AUTH1 JSON, "{\"links\":[{\"url\":\"https://example.org/b1\"}]}", UNAV, 2,
     503, RETRY, NULL, NULL},
};

enum { NCASES = sizeof(cases) / sizeof(cases[0]) };

START_TEST(route_case)
{
    const struct hcase *c = &cases[_i];
    if (c->prep)
        c->prep();
    if (strcmp(c->method, "GET") != 0) {
        check_answer(c, c->method, send(c, c->method), false);
        return;
    }
    /* HEAD first (it never uses up a visit), then GET from the same state: the same head, and a body */
    char *head = strdup(send(c, "HEAD"));
    check_answer(c, "HEAD", head, true);
    teardown();
    setup();
    if (c->prep)
        c->prep();
    const char *get = send(c, "GET");
    check_answer(c, "GET", get, false);
    size_t head_len = strlen(head);
    bool same = strncmp(get, head, head_len) == 0;
    free(head);
    ck_assert_msg(same, "%s: HEAD and GET differ:\n%s", c->uri, get);
}
END_TEST

/* ---- sequences: state that one request leaves for the next ---- */

static const char *status_of(const char *method, const char *uri, const char *env, const char *body)
{
    struct hcase c = {method, uri, env, body, 0, 0, 0, NULL, NULL, NULL};
    return send(&c, method);
}

static void expect_status(const char *answer, int status)
{
    char want[32];
    snprintf(want, sizeof(want), "Status: %d ", status);
    ck_assert_msg(strncmp(answer, want, strlen(want)) == 0, "wanted %d, got:\n%s", status, answer);
}

START_TEST(visit_limit_claims_each_human_get)
{
    /* max_visits counts humans: a HEAD (even from a browser) and a GET without a User-Agent are bots' */
    limited->max_visits = 2;
    for (int i = 0; i < 3; i++) {
        expect_status(status_of("HEAD", "/limited", BROWSER, NULL), 302);
        expect_status(status_of("GET", "/limited", NULL, NULL), 302);
    }
    ck_assert_int_eq(limited->visits_used, 0);
    expect_status(status_of("GET", "/limited", BROWSER, NULL), 302);
    expect_status(status_of("GET", "/limited", BROWSER, NULL), 302);
    ck_assert_int_eq(limited->visits_used, 2);
    expect_status(status_of("GET", "/limited", BROWSER, NULL), 410);
    expect_status(status_of("GET", "/limited", NULL, NULL), 410);
    expect_status(status_of("HEAD", "/limited", NULL, NULL), 410);
    ck_assert_int_eq(limited->visits_used, 2);
}
END_TEST

START_TEST(password_link_claims_after_right_password)
{
    secret->max_visits = 1;
    expect_status(status_of("POST", "/secret", FORM "\n" BROWSER, "password=wrong"), 401);
    ck_assert_int_eq(secret->visits_used, 0);
    expect_status(status_of("POST", "/secret", FORM "\n" BROWSER, "password=open+sesame"), 303);
    ck_assert_int_eq(secret->visits_used, 1);
    expect_status(status_of("POST", "/secret", FORM "\n" BROWSER, "password=open+sesame"), 410);
}
END_TEST

START_TEST(created_link_is_served)
{
    expect_status(
        status_of("POST", "/api/links", AUTH1 JSON, "{\"url\":\"https://example.org/n\",\"slug\":\"n1\"}"),
        201);
    const char *a = status_of("GET", "/n1", NULL, NULL);
    expect_status(a, 302);
    ck_assert_ptr_nonnull(strstr(a, "\r\nLocation: https://example.org/n\r\n"));
    expect_status(status_of("GET", "/api/links/n1", "HTTP_AUTHORIZATION=Bearer " KEY2, NULL), 404);
    expect_status(status_of("DELETE", "/api/links/n1", "HTTP_AUTHORIZATION=Bearer " KEY2, NULL), 404);
    expect_status(status_of("DELETE", "/api/links/n1", AUTH1, NULL), 204);
    expect_status(status_of("GET", "/api/links/n1", AUTH1, NULL), 404);
}
END_TEST

START_TEST(list_pages_follow_cursor)
{
    /* owner 1 has 9 links: pages of 4, 4 and 1, each newest first, none repeated */
    const char *cursor = NULL;
    int seen = 0;
    for (int page = 0; page < 3; page++) {
        const char *uri =
            cursor ? arena_printf(arena, "/api/links?limit=4&cursor=%s", cursor) : "/api/links?limit=4";
        const char *a = status_of("GET", uri, AUTH1, NULL);
        expect_status(a, 200);
        for (const char *p = a; (p = strstr(p, "\"short_url\"")); p++)
            seen++;
        const char *next = strstr(a, "\"next_cursor\":\"");
        if (page < 2) {
            ck_assert_ptr_nonnull(next);
            next += strlen("\"next_cursor\":\"");
            cursor = arena_strndup(arena, next, strcspn(next, "\""));
        } else {
            ck_assert_ptr_nonnull(strstr(a, "\"next_cursor\":null"));
        }
    }
    ck_assert_int_eq(seen, 9);
}
END_TEST

/* The value of header name in answer a, from the arena; fails the test when absent. */
static const char *header_value(const char *a, const char *name)
{
    const char *line = arena_printf(arena, "\r\n%s: ", name);
    const char *p = strstr(a, line);
    ck_assert_msg(p != NULL, "no %s in:\n%s", name, a);
    p += strlen(line);
    return arena_strndup(arena, p, strcspn(p, "\r;"));
}

START_TEST(session_cookie_stands_for_the_key)
{
    const char *a = status_of("POST", "/api/session", AUTH1, NULL);
    expect_status(a, 201);
    ck_assert_ptr_nonnull(strstr(a, "; Max-Age=604800; Path=/api; HttpOnly; Secure; SameSite=Strict\r\n"));
    ck_assert_ptr_nonnull(strstr(
        a, "\r\nSet-Cookie: hop_signed_in=1; Max-Age=604800; Path=/_hop/app/; Secure; SameSite=Strict\r\n"));
    const char *cookie = header_value(a, "Set-Cookie");
    ck_assert_int_eq(strlen(cookie), strlen("hop_session=") + 64);
    const char *env = arena_printf(arena, "HTTP_COOKIE=theme=dark; %s", cookie);
    const char *csrf = arena_printf(arena, "%s\nHTTP_X_HOP_CSRF=1", env);
    expect_status(status_of("GET", "/api/links", env, NULL), 200);
    ck_assert_ptr_nonnull(strstr(status_of("GET", "/api/session", env, NULL), "\"via\":\"session\""));
    /* a change needs the header a cross-site form cannot send */
    const char *body = "{\"url\":\"https://example.org/c\",\"slug\":\"c1\"}";
    expect_status(status_of("POST", "/api/links", arena_printf(arena, "%s" JSON, env), body), 403);
    expect_status(status_of("PATCH", "/api/links/abc", arena_printf(arena, "%s" JSON, env), "{}"), 403);
    expect_status(
        status_of("POST", "/api/links", arena_printf(arena, "%s\nHTTP_X_HOP_CSRF=0" JSON, env), body), 403);
    expect_status(status_of("POST", "/api/links", arena_printf(arena, "%s" JSON, csrf), body), 201);
    /* a session does not make sessions: only the key does */
    expect_status(status_of("POST", "/api/session", csrf, NULL), 400);
    /* signing out forgets the session */
    expect_status(status_of("DELETE", "/api/session", env, NULL), 403);
    ck_assert_int_eq(fake_db_sessions(), 1);
    expect_status(status_of("DELETE", "/api/session", csrf, NULL), 204);
    ck_assert_int_eq(fake_db_sessions(), 0);
    expect_status(status_of("GET", "/api/links", env, NULL), 401);
}
END_TEST

START_TEST(revoking_the_key_ends_its_sessions)
{
    const char *a = status_of("POST", "/api/session", AUTH1, NULL);
    expect_status(a, 201);
    const char *env = arena_printf(arena, "HTTP_COOKIE=%s", header_value(a, "Set-Cookie"));
    expect_status(status_of("GET", "/api/links", env, NULL), 200);
    fake_db_revoke_key(1);
    a = status_of("GET", "/api/links", env, NULL);
    expect_status(a, 401);
    ck_assert_ptr_nonnull(strstr(a, "has ended or was revoked"));
}
END_TEST

START_TEST(qr_etag_answers_not_modified)
{
    const char *a = status_of("GET", "/api/links/abc/qr?format=png", AUTH1, NULL);
    expect_status(a, 200);
    const char *etag = header_value(a, "ETag");
    ck_assert_int_eq(etag[0], '"');
    const char *env = arena_printf(arena, AUTH1 "\nHTTP_IF_NONE_MATCH=%s", etag);
    a = status_of("GET", "/api/links/abc/qr?format=png", env, NULL);
    expect_status(a, 304);
    ck_assert_str_eq(header_value(a, "ETag"), etag);
    /* another drawing is another picture */
    expect_status(status_of("GET", "/api/links/abc/qr?format=png&size=3", env, NULL), 200);
    expect_status(status_of("GET", "/api/links/abc/qr", env, NULL), 200);
}
END_TEST

/* A database failure in the middle of a bulk create rolls back the items before it. */
START_TEST(bulk_failure_makes_nothing)
{
    /* the key, the domain list, BEGIN and the first create work; the second create fails */
    struct hcase c = {"POST",
                      "/api/links/bulk",
                      AUTH1 JSON,
                      "{\"links\":[{\"url\":\"https://example.org/1\",\"slug\":\"bulk1\"},"
                      "{\"url\":\"https://example.org/2\",\"slug\":\"bulk2\"}]}",
                      UNAV,
                      4,
                      0,
                      NULL,
                      NULL,
                      NULL};
    expect_status(send(&c, "POST"), 503);
    expect_status(status_of("GET", "/api/links/bulk1", AUTH1, NULL), 404);
    c.fail = 0;
    expect_status(send(&c, "POST"), 200);
    expect_status(status_of("GET", "/api/links/bulk2", AUTH1, NULL), 200);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("handlers");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, route_case, 0, NCASES);
    tcase_add_test(tc, visit_limit_claims_each_human_get);
    tcase_add_test(tc, password_link_claims_after_right_password);
    tcase_add_test(tc, created_link_is_served);
    tcase_add_test(tc, list_pages_follow_cursor);
    tcase_add_test(tc, session_cookie_stands_for_the_key);
    tcase_add_test(tc, revoking_the_key_ends_its_sessions);
    tcase_add_test(tc, qr_etag_answers_not_modified);
    tcase_add_test(tc, bulk_failure_makes_nothing);
    /* one case hashes a password at full cost (Argon2id, 19 MiB) */
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
