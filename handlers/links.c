/* The /api/links resource: create (and, with the API issue, list, get, patch, delete, stats). */
#include "app.h"

#include "arena.h"
#include "db.h"
#include "input.h"
#include "jsonin.h"
#include "links.h"
#include "req.h"
#include "resp.h"

#include <json-c/json.h>
#include <stdio.h>
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

void links_create(struct req *r, struct resp *w)
{
    struct json_object *body = json_body(r, w);
    if (!body)
        return;
    struct json_object *errors = json_object_new_array();
    arena_defer(r->arena, put_json, errors);
    struct link_input in;
    if (input_link(body, INPUT_CREATE, app_base_url(r), &in, errors) > 0) {
        invalid(w, errors);
        return;
    }
    struct link l;
    int rc = DB_CONFLICT;
    if (in.slug) {
        rc = db_link_create(r->arena, 0, in.slug, in.url, in.redirect ? in.redirect : 302, in.expires_at, &l);
    } else {
        /* a generated slug that is taken is simply drawn again */
        for (int i = 0; i < SLUG_TRIES && rc == DB_CONFLICT; i++) {
            char slug[8];
            input_random_slug(slug);
            rc =
                db_link_create(r->arena, 0, slug, in.url, in.redirect ? in.redirect : 302, in.expires_at, &l);
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
