/* The /api/links resource: create, list, get, patch, delete and stats, each for the key's owner only:
 * another owner's link answers exactly like one that does not exist. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "cursor.h"
#include "db.h"
#include "input.h"
#include "jsonin.h"
#include "links.h"
#include "req.h"
#include "resp.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLUG_TRIES = 8 };

static void put_json(void *p)
{
    json_object_put(p);
}

static struct json_object *link_json(struct req *r, const struct link *l)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "slug", json_object_new_string(l->slug));
    json_object_object_add(o, "url", json_object_new_string(l->url));
    json_object_object_add(o, "short_url",
                           json_object_new_string(arena_printf(r->arena, "%s/%s", app_base_url(r), l->slug)));
    json_object_object_add(o, "redirect", json_object_new_int(l->redirect));
    json_object_object_add(o, "created_at", json_object_new_string(l->created_at));
    json_object_object_add(o, "expires_at", l->expires_at ? json_object_new_string(l->expires_at) : NULL);
    json_object_object_add(o, "disabled", json_object_new_boolean(l->disabled));
    json_object_object_add(o, "visits", json_object_new_int64(l->visits));
    arena_defer(r->arena, put_json, o);
    return o;
}

/* Answers a database failure; returns whether there was one. */
static bool db_failed(struct resp *w, int rc)
{
    if (rc == DB_UNAVAILABLE) {
        resp_header(w, "Retry-After", "1");
        resp_problem(w, 503, "the database cannot be reached; try again shortly");
        return true;
    }
    if (rc == DB_ERROR) {
        resp_problem(w, 500, "the database refused the request; this is a fault of the service");
        return true;
    }
    return false;
}

/* Reads and checks a JSON object body in the contract's order: 413, 415, 400. NULL means answered. */
static struct json_object *json_body(struct req *r, struct resp *w)
{
    const char *detail = NULL;
    int status = req_read_body(r, &detail);
    if (status) {
        resp_problem(w, status, detail);
        return NULL;
    }
    if (!req_content_type_is(r, "application/json")) {
        resp_problem(w, 415, "the body must be application/json (charset utf-8, if one is named)");
        return NULL;
    }
    struct json_object *obj;
    if (jsonin_parse(r->body, r->body_len, &obj, &detail) < 0) {
        resp_problem(w, 400, detail);
        return NULL;
    }
    arena_defer(r->arena, put_json, obj);
    return obj;
}

/* A 422 naming each bad field; the top-level detail repeats the first. */
static void invalid(struct resp *w, struct json_object *errors)
{
    struct json_object *first = json_object_array_get_idx(errors, 0);
    struct json_object *d = NULL;
    json_object_object_get_ex(first, "detail", &d);
    const char *detail = d ? json_object_get_string(d) : "a field is invalid";
    char text[300];
    size_t n = json_object_array_length(errors);
    if (n > 1)
        snprintf(text, sizeof(text), "%s (and %zu more)", detail, n - 1);
    else
        snprintf(text, sizeof(text), "%s", detail);
    resp_problem_errors(w, 422, text, json_object_get(errors));
}

/* The body as typed link fields: 0, or -1 with the 413/415/400/422 answered. */
static int link_body(struct req *r, struct resp *w, enum input_kind kind, struct link_input *in)
{
    struct json_object *body = json_body(r, w);
    if (!body)
        return -1;
    struct json_object *errors = json_object_new_array();
    arena_defer(r->arena, put_json, errors);
    if (input_link(body, kind, app_self_bases(r), in, errors) > 0) {
        invalid(w, errors);
        return -1;
    }
    return 0;
}

void links_create(struct req *r, struct resp *w)
{
    struct link_input in;
    if (link_body(r, w, INPUT_CREATE, &in) < 0)
        return;
    struct link l;
    int rc = DB_CONFLICT;
    if (in.slug) {
        rc = db_link_create(r->arena, auth_owner(r), in.slug, in.url, in.redirect ? in.redirect : 302,
                            in.expires_at, &l);
    } else {
        /* a generated slug that is taken is simply drawn again */
        for (int i = 0; i < SLUG_TRIES && rc == DB_CONFLICT; i++) {
            char slug[8];
            input_random_slug(slug);
            rc = db_link_create(r->arena, auth_owner(r), slug, in.url, in.redirect ? in.redirect : 302,
                                in.expires_at, &l);
        }
    }
    if (db_failed(w, rc))
        return;
    if (rc == DB_CONFLICT && !in.slug) {
        resp_header(w, "Retry-After", "1");
        resp_problem(w, 503, "no free slug was found; try again");
        return;
    }
    if (rc == DB_CONFLICT) {
        resp_problem(w, 409, "this slug is already taken");
        return;
    }
    resp_header(w, "Location", arena_printf(r->arena, "/api/links/%s", l.slug));
    resp_header(w, "Cache-Control", "no-store");
    resp_json(w, 201, link_json(r, &l));
}

/* A 400 whose errors list names the query parameter. */
static void param_error(struct resp *w, const char *name, const char *detail)
{
    struct json_object *errors = json_object_new_array();
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "field", json_object_new_string(name));
    json_object_object_add(e, "detail", json_object_new_string(detail));
    json_object_array_add(errors, e);
    resp_problem_errors(w, 400, detail, errors);
}

/* A query parameter as an integer in [lo, hi]: 0 and *out (def when absent), or an answered 400. */
static int int_param(struct req *r, struct resp *w, const char *name, int lo, int hi, int def, int *out)
{
    const char *v;
    int found = req_query(r, name, &v);
    *out = def;
    if (found == 0)
        return 0;
    char *end = NULL;
    long n = found > 0 && v[0] >= '0' && v[0] <= '9' && strlen(v) <= 6 ? strtol(v, &end, 10) : -1;
    if (found < 0 || !end || *end || n < lo || n > hi) {
        char detail[120];
        snprintf(detail, sizeof(detail), "%s must be given once, as a whole number from %d to %d", name, lo,
                 hi);
        param_error(w, name, detail);
        return -1;
    }
    *out = (int)n;
    return 0;
}

void links_list(struct req *r, struct resp *w)
{
    int limit;
    if (int_param(r, w, "limit", 1, 200, 50, &limit) < 0)
        return;
    const char *c;
    long long before = 0;
    int found = req_query(r, "cursor", &c);
    if (found < 0 || (found > 0 && cursor_decode(c, &before) < 0)) {
        param_error(w, "cursor", "cursor must be given once, exactly as a previous next_cursor");
        return;
    }
    struct link *links;
    size_t n;
    /* one more than asked tells whether there is a next page */
    int rc = db_link_list(r->arena, auth_owner(r), before, limit + 1, &links, &n);
    if (db_failed(w, rc))
        return;
    struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
    arena_defer(r->arena, put_json, o);
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    for (size_t i = 0; i < shown; i++)
        json_object_array_add(arr, json_object_get(link_json(r, &links[i])));
    json_object_object_add(o, "links", arr);
    char next[CURSOR_MAX];
    if (n > (size_t)limit)
        cursor_encode(links[shown - 1].id, next);
    json_object_object_add(o, "next_cursor", n > (size_t)limit ? json_object_new_string(next) : NULL);
    resp_header(w, "Cache-Control", "no-store");
    resp_json(w, 200, o);
}

/* The route's slug, or NULL with a 404 answered: a string that cannot be a slug (bad UTF-8 included) never
 * reaches the database. */
static const char *route_slug(struct req *r, struct resp *w)
{
    const char *slug = req_route(r, "slug");
    if (validate_slug_chars(slug, strlen(slug)))
        return slug;
    resp_problem(w, 404, "you have no link with this slug");
    return NULL;
}

/* The owner's link named by the route, or an answered 404/5xx (returns -1). */
static int owned_link(struct req *r, struct resp *w, struct link *l)
{
    const char *slug = route_slug(r, w);
    if (!slug)
        return -1;
    int rc = db_link_get(r->arena, slug, auth_owner(r), l);
    if (rc == DB_NOT_FOUND) {
        resp_problem(w, 404, "you have no link with this slug");
        return -1;
    }
    return db_failed(w, rc) ? -1 : 0;
}

void links_get(struct req *r, struct resp *w)
{
    struct link l;
    if (owned_link(r, w, &l) < 0)
        return;
    resp_header(w, "Cache-Control", "no-store");
    resp_json(w, 200, link_json(r, &l));
}

void links_patch(struct req *r, struct resp *w)
{
    struct link l;
    struct link_input in;
    if (owned_link(r, w, &l) < 0 || link_body(r, w, INPUT_PATCH, &in) < 0)
        return;
    struct link_change c = {
        .url = in.url,
        .redirect = in.redirect,
        .set_expires = in.has_expires,
        .expires_at = in.expires_at,
        .set_disabled = in.has_disabled,
        .disabled = in.disabled,
    };
    int rc = db_link_update(r->arena, l.slug, auth_owner(r), &c, &l);
    if (rc == DB_NOT_FOUND) {
        resp_problem(w, 404, "you have no link with this slug");
        return;
    }
    if (db_failed(w, rc))
        return;
    resp_header(w, "Cache-Control", "no-store");
    resp_json(w, 200, link_json(r, &l));
}

void links_delete(struct req *r, struct resp *w)
{
    const char *slug = route_slug(r, w);
    if (!slug)
        return;
    int rc = db_link_delete(slug, auth_owner(r));
    if (rc == DB_NOT_FOUND) {
        resp_problem(w, 404, "you have no link with this slug");
        return;
    }
    if (db_failed(w, rc))
        return;
    resp_body(w, 204, NULL, NULL, 0);
}

void links_stats(struct req *r, struct resp *w)
{
    struct link l;
    if (owned_link(r, w, &l) < 0)
        return;
    int days;
    if (int_param(r, w, "days", 1, 366, 30, &days) < 0)
        return;
    struct link_stats st;
    int rc = db_link_stats(r->arena, l.id, days, &st);
    if (db_failed(w, rc))
        return;
    struct json_object *o = json_object_new_object(), *d = json_object_new_array(),
                       *ref = json_object_new_array();
    arena_defer(r->arena, put_json, o);
    json_object_object_add(o, "slug", json_object_new_string(l.slug));
    json_object_object_add(o, "total", json_object_new_int64(st.total));
    for (size_t i = 0; i < st.ndays; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "date", json_object_new_string(st.days[i].date));
        json_object_object_add(e, "visits", json_object_new_int64(st.days[i].visits));
        json_object_array_add(d, e);
    }
    for (size_t i = 0; i < st.nreferrers; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "host", json_object_new_string(st.referrers[i].host));
        json_object_object_add(e, "visits", json_object_new_int64(st.referrers[i].visits));
        json_object_array_add(ref, e);
    }
    json_object_object_add(o, "days", d);
    json_object_object_add(o, "referrers", ref);
    resp_header(w, "Cache-Control", "no-store");
    resp_json(w, 200, o);
}
