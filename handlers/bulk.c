/* POST /api/links/bulk: up to 1,000 links made in one transaction, answered with one result per item in
 * order: {"status":201,"link":{...}} or a problem ({"status":422|409,"title","detail","errors"?}). Each item
 * passes the same checks as POST /api/links (input.c); the single create stays as it is. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "db.h"
#include "db_import.h"
#include "db_links.h"
#include "domains.h"
#include "handler.h"
#include "input.h"
#include "password.h"
#include "req.h"
#include "resp.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* Each password is hashed with Argon2id (tens of milliseconds of one worker, by design), so one request may
 * carry only a few: a thousand would hold a worker for most of a minute. */
enum { BULK_MAX = 1000, BULK_PASSWORDS_MAX = 10, BULK_SLUG_TRIES = 8 };

/* How many items set a password (a string; null or absent sets none). */
static size_t bulk_passwords(struct json_object *items, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = NULL;
        struct json_object *item = json_object_array_get_idx(items, i);
        if (json_object_is_type(item, json_type_object) && json_object_object_get_ex(item, "password", &p) &&
            json_object_is_type(p, json_type_string))
            k++;
    }
    return k;
}

static struct json_object *bulk_problem(int status, const char *title, const char *detail,
                                        struct json_object *errors)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_int(status));
    json_object_object_add(o, "title", json_object_new_string(title));
    json_object_object_add(o, "detail", json_object_new_string(detail));
    if (errors)
        json_object_object_add(o, "errors", json_object_get(errors));
    return o;
}

static struct json_object *bulk_invalid(struct json_object *errors)
{
    struct json_object *d = NULL;
    json_object_object_get_ex(json_object_array_get_idx(errors, 0), "detail", &d);
    return bulk_problem(422, "Unprocessable Content", d ? json_object_get_string(d) : "a field is invalid",
                        errors);
}

/* The item's fields checked, its domain resolved and its password hashed: NULL, or the problem. */
static struct json_object *bulk_fields(struct req *r, struct json_object *item, struct link_fields *in)
{
    struct json_object *errors = handler_own(r, json_object_new_array());
    if (!json_object_is_type(item, json_type_object)) {
        handler_field_error(errors, "item", "each item must be a JSON object");
        return bulk_invalid(errors);
    }
    if (input_link(r->arena, item, INPUT_CREATE, app_self_bases(r), in, errors) < 0)
        return bulk_invalid(errors);
    const struct served_domain *d;
    enum domains_result found = domains_lookup(in->domain, &d);
    if (found == DOMAINS_UNKNOWN) {
        handler_field_error(errors, "domain", "is not one of this service's domains");
        return bulk_invalid(errors);
    }
    if (found == DOMAINS_UNAVAILABLE)
        return bulk_problem(503, "Service Unavailable", "the database cannot be reached now", NULL);
    in->domain_id = d ? d->id : 0;
    if (in->password) {
        char *hash = arena_alloc(r->arena, PASSWORD_HASH_MAX);
        if (password_hash(in->password, hash) < 0)
            return bulk_problem(503, "Service Unavailable", "the password could not be hashed now", NULL);
        in->password_hash = hash;
    }
    return NULL;
}

/* One item: its result, and *rc a database failure that ends the whole request. */
static struct json_object *bulk_one(struct req *r, struct json_object *item, int *rc)
{
    struct link_fields in;
    struct json_object *problem = bulk_fields(r, item, &in);
    if (problem)
        return problem;
    bool generated = !in.slug;
    char slug[8];
    struct link l;
    *rc = DB_CONFLICT;
    for (int i = 0; i < (generated ? BULK_SLUG_TRIES : 1) && *rc == DB_CONFLICT; i++) {
        if (generated) {
            input_random_slug(slug);
            in.slug = slug;
        }
        *rc = db_link_create(r->arena, auth_owner(r), &in, &l);
    }
    if (*rc == DB_CONFLICT) {
        *rc = DB_OK;
        return bulk_problem(409, "Conflict", "this slug is already taken", NULL);
    }
    if (*rc != DB_OK)
        return NULL;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_int(201));
    json_object_object_add(o, "link", json_object_get(links_json(r, &l)));
    return o;
}

void links_bulk(struct req *r, struct resp *w)
{
    struct json_object *body = handler_json_body(r, w);
    if (!body)
        return;
    struct json_object *items = NULL;
    json_object_object_get_ex(body, "links", &items);
    size_t n = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    if (n < 1 || n > BULK_MAX || json_object_object_length(body) != 1) {
        struct json_object *errors = handler_own(r, json_object_new_array());
        handler_field_error(errors, "links",
                            "links must be an array of 1 to 1000 links, the body's only field");
        handler_invalid(w, errors);
        return;
    }
    if (bulk_passwords(items, n) > BULK_PASSWORDS_MAX) {
        struct json_object *errors = handler_own(r, json_object_new_array());
        handler_field_error(errors, "links",
                            "at most 10 links of one request may set a password (each is hashed slowly, on "
                            "purpose); send the others in more requests");
        handler_invalid(w, errors);
        return;
    }
    int rc = db_tx_begin();
    if (handler_db_failed(w, rc) < 0)
        return;
    struct json_object *results = handler_own(r, json_object_new_array());
    for (size_t i = 0; i < n && rc == DB_OK; i++)
        json_object_array_add(results, bulk_one(r, json_object_array_get_idx(items, i), &rc));
    int end = db_tx_end(rc == DB_OK);
    if (handler_db_failed(w, rc != DB_OK ? rc : end) < 0)
        return;
    struct json_object *o = handler_own(r, json_object_new_object());
    json_object_object_add(o, "results", json_object_get(results));
    handler_json(w, 200, o);
}
