/* The helpers every handler shares; see handler.h. */
#include "handler.h"

#include "arena.h"
#include "db.h"
#include "jsonin.h"
#include "req.h"
#include "resp.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_json(void *p)
{
    json_object_put(p);
}

struct json_object *handler_own(struct req *r, struct json_object *obj)
{
    arena_defer(r->arena, put_json, obj);
    return obj;
}

void handler_json(struct resp *w, int status, struct json_object *obj)
{
    resp_header(w, "Cache-Control", "no-store");
    resp_json(w, status, obj);
}

struct json_object *handler_json_body(struct req *r, struct resp *w)
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
    return handler_own(r, obj);
}

void handler_unavailable(struct resp *w)
{
    resp_header(w, "Retry-After", "1");
    resp_problem(w, 503, "the database cannot be reached; try again shortly");
}

int handler_db_failed(struct resp *w, int rc)
{
    if (rc == DB_UNAVAILABLE) {
        handler_unavailable(w);
        return -1;
    }
    if (rc == DB_LOCKED) {
        resp_header(w, "Retry-After", "1");
        resp_problem(w, 503, "the database is busy with another session's change; try again shortly");
        return -1;
    }
    if (rc == DB_ERROR) {
        resp_problem(w, 500, "the database refused the request; this is a fault of the service");
        return -1;
    }
    return 0;
}

void handler_invalid(struct resp *w, struct json_object *errors)
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

void handler_param_error(struct resp *w, const char *name, const char *detail)
{
    struct json_object *errors = json_object_new_array();
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "field", json_object_new_string(name));
    json_object_object_add(e, "detail", json_object_new_string(detail));
    json_object_array_add(errors, e);
    resp_problem_errors(w, 400, detail, errors);
}

int handler_int_param(struct req *r, struct resp *w, const char *name, int lo, int hi, int def, int *out)
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
        handler_param_error(w, name, detail);
        return -1;
    }
    *out = (int)n;
    return 0;
}

const char *handler_route_slug(struct req *r, struct resp *w)
{
    const char *slug = req_route(r, "slug");
    if (validate_slug_chars(slug, strlen(slug)))
        return slug;
    resp_problem(w, 404, "you have no link with this slug");
    return NULL;
}

void handler_field_error(struct json_object *errors, const char *field, const char *detail)
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

const char *handler_string_field(struct json_object *v, const char **why)
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
